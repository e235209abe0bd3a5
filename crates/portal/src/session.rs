//! Who is looking at a portal page, and the cookies that say so.
//!
//! - `fg_session`: the browser sign-in token (`HttpOnly`, `SameSite=Lax`,
//!   `Secure` behind https), issued at sign-in for a new session and
//!   refused once that session is revoked (sign-out, password change,
//!   refresh-token reuse).
//! - `fg_csrf`: a random token every state-changing form must echo
//!   (double submit; `SameSite=Strict`, so other sites cannot send it).
//! - `fg_lang`: the language the visitor chose.
//!
//! [`middleware`] reads them once per request into a [`Visitor`].

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use fairgig_engine::{pages::footer::FooterLink, Caller};
use rand::RngCore;

use super::i18n::{Locale, Messages};
use crate::PortalState;

pub const SESSION_COOKIE: &str = "fg_session";
pub const CSRF_COOKIE: &str = "fg_csrf";
pub const LANG_COOKIE: &str = "fg_lang";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The person behind a portal request.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// Signed in, or not.
    pub caller: Option<Caller>,
    /// The token this visitor's forms carry.
    pub csrf: String,
    pub locale: Locale,
    /// Served over https (directly or behind a trusted proxy): cookies get `Secure`.
    pub secure: bool,
    /// The request id, shown on error pages.
    pub request_id: String,
    /// The page asked for, to come back to after switching the language.
    pub path: String,
    /// The footer's links to the site's own pages, in this locale.
    pub footer: Arc<Vec<FooterLink>>,
}

impl Visitor {
    pub fn messages(&self) -> Messages {
        Messages::new(self.locale)
    }

    /// Whether a submitted form's token is this visitor's (constant time).
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), submitted.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The session cookie for a new sign-in.
    pub fn session_cookie(&self, token: String, max_age_secs: i64) -> Cookie<'static> {
        Cookie::build((SESSION_COOKIE, token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_secs))
            .build()
    }

    /// A cookie that removes the session cookie.
    pub fn session_removal(&self) -> Cookie<'static> {
        Cookie::build((SESSION_COOKIE, ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::ZERO)
            .build()
    }

    pub fn language_cookie(&self, locale: Locale) -> Cookie<'static> {
        Cookie::build((LANG_COOKIE, locale.tag()))
            .path("/")
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::days(365))
            .build()
    }
}

/// A fresh CSRF token: 256 random bits, in hex.
fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether the request came over https: directly, or as a trusted proxy says.
fn over_https(headers: &HeaderMap, trust_forwarded: bool) -> bool {
    trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// Reads the portal cookies into a [`Visitor`] for the handlers, and sets
/// a CSRF cookie for a visitor who has none yet.
pub async fn middleware(
    State(state): State<PortalState>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let headers = request.headers();
    let secure = over_https(headers, state.engine.settings.server.trust_forwarded_for);
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let locale = Locale::negotiate(jar.get(LANG_COOKIE).map(Cookie::value), accept_language);
    let request_id = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let existing_csrf = jar
        .get(CSRF_COOKIE)
        .map(Cookie::value)
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let fresh_csrf = existing_csrf.is_none();
    let csrf = existing_csrf.unwrap_or_else(new_csrf_token);
    let mut clear_session = false;
    let caller = match jar.get(SESSION_COOKIE).map(Cookie::value).filter(|v| !v.is_empty()) {
        Some(token) => {
            match fairgig_engine::accounts::authenticate_browser(&state.engine, token).await {
                Ok(caller) => Some(caller),
                // Expired, revoked or forged: the cookie is of no more use.
                Err(fairgig_engine::Error::Refused { .. }) => {
                    clear_session = true;
                    None
                }
                // A database hiccup is not a sign-out: keep the cookie.
                Err(err) => {
                    tracing::warn!(error = %err, "could not check a portal session");
                    None
                }
            }
        }
        None => None,
    };
    let path = request.uri().path().chars().take(512).collect();
    // Links are a courtesy: a database hiccup leaves the footer without them.
    let footer = fairgig_engine::pages::footer::links(&state.engine, locale.tag())
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(error = %err, "could not read the footer's pages");
            Arc::default()
        });
    let visitor = Visitor { caller, csrf: csrf.clone(), locale, secure, request_id, path, footer };
    let removal = clear_session.then(|| visitor.session_removal());
    request.extensions_mut().insert(visitor);
    let mut response = next.run(request).await;
    if fresh_csrf {
        let cookie = Cookie::build((CSRF_COOKIE, csrf))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .build();
        append_cookie(&mut response, &cookie);
    }
    if let Some(removal) = removal {
        append_cookie(&mut response, &removal);
    }
    response
}

/// Adds a `Set-Cookie` header.
pub fn append_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_compare_whole() {
        let visitor = Visitor {
            caller: None,
            csrf: new_csrf_token(),
            locale: Locale::En,
            secure: false,
            request_id: String::new(),
            path: "/".into(),
            footer: Arc::default(),
        };
        assert_eq!(visitor.csrf.len(), 64);
        assert!(visitor.csrf_matches(&visitor.csrf.clone()));
        assert!(!visitor.csrf_matches(&visitor.csrf[..63]));
        assert!(!visitor.csrf_matches(""));
        assert!(!visitor.csrf_matches(&new_csrf_token()));
    }
}
