//! Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, random).
//!
//! An access token names the user and the session it belongs to; every
//! request checks that the session is still active, so logout and refresh
//! reuse take effect at once rather than when the token expires.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use fairgig_core::ids::{SessionId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const ISSUER: &str = "fairgig";
const ACCESS_TYPE: &str = "access";
/// A portal sign-in kept in an `HttpOnly` cookie: lives as long as a
/// refresh token, is refused as a bearer token, and is revoked with its
/// session.
const BROWSER_TYPE: &str = "browser";

#[derive(Debug, thiserror::Error)]
#[error("invalid access token")]
pub struct InvalidToken;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    iss: String,
    typ: String,
    iat: i64,
    exp: i64,
}

/// Who an access token speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    pub user: UserId,
    pub session: SessionId,
}

#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn issue_access(
        &self,
        user: UserId,
        session: SessionId,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.issue(ACCESS_TYPE, user, session, self.access_ttl)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        self.verify(ACCESS_TYPE, token)
    }

    /// A portal sign-in for the session, valid as long as a refresh token.
    pub fn issue_browser(
        &self,
        user: UserId,
        session: SessionId,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.issue(BROWSER_TYPE, user, session, self.refresh_ttl)
    }

    pub fn verify_browser(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        self.verify(BROWSER_TYPE, token)
    }

    fn issue(
        &self,
        typ: &str,
        user: UserId,
        session: SessionId,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = OffsetDateTime::now_utc();
        let claims = Claims {
            sub: user.as_uuid(),
            sid: session.as_uuid(),
            iss: ISSUER.to_owned(),
            typ: typ.to_owned(),
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    fn verify(&self, typ: &str, token: &str) -> Result<AccessClaims, InvalidToken> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| InvalidToken)?;
        if data.claims.typ != typ {
            return Err(InvalidToken);
        }
        Ok(AccessClaims {
            user: UserId::from_uuid(data.claims.sub),
            session: SessionId::from_uuid(data.claims.sid),
        })
    }

    pub fn refresh_expiry(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.refresh_ttl
    }
}

/// A new opaque token (256 random bits, URL-safe) and the hash to store:
/// refresh tokens and one-time account links. A fast hash is enough for
/// random 256-bit values, and a database leak reveals no usable token.
pub fn new_opaque_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_opaque_token(&token);
    (token, hash)
}

pub fn hash_opaque_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(secret: &[u8]) -> TokenIssuer {
        TokenIssuer::new(secret, Duration::minutes(15), Duration::days(30))
    }

    #[test]
    fn browser_and_access_tokens_are_not_interchangeable() {
        let issuer = issuer(b"0123456789abcdef0123456789abcdef");
        let (user, session) = (UserId::new(), SessionId::new());
        let browser = issuer.issue_browser(user, session).expect("issue");
        let access = issuer.issue_access(user, session).expect("issue");
        assert!(issuer.verify_access(&browser).is_err());
        assert!(issuer.verify_browser(&access).is_err());
        assert_eq!(issuer.verify_browser(&browser).expect("valid").session, session);
    }

    #[test]
    fn issued_tokens_verify_with_the_same_secret_only() {
        let (user, session) = (UserId::new(), SessionId::new());
        let token = issuer(b"one secret").issue_access(user, session).expect("encode");
        assert_eq!(
            issuer(b"one secret").verify_access(&token).expect("valid"),
            AccessClaims { user, session }
        );
        assert!(issuer(b"another secret").verify_access(&token).is_err());
        assert!(issuer(b"one secret").verify_access("garbage").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let expired = TokenIssuer::new(b"s", Duration::minutes(-10), Duration::days(1));
        let token = expired.issue_access(UserId::new(), SessionId::new()).expect("encode");
        assert!(expired.verify_access(&token).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_opaque_token();
        let (b, _) = new_opaque_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, hash_opaque_token(&a));
        assert_eq!(a.len(), 43);
    }
}
