//! Webhooks signed per the Standard Webhooks spec: `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` (`v1,` + base64 of
//! HMAC-SHA256 over `id.timestamp.body`, keyed by the bytes behind
//! `whsec_…`). During a secret rotation every active secret signs, space
//! separated, so receivers on either secret keep verifying.
//!
//! Requests go through the [`guard`](crate::guard) resolver, never follow
//! redirects (a redirect could point inside), and time out.

use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use reqwest::{redirect, Url};
use sha2::Sha256;

use super::http::{classify_error, classify_status, excerpt, read_limited, with_body};
use crate::{
    guard::{special_name, AddressPolicy, GuardedResolver},
    SendError,
};

const SECRET_PREFIX: &str = "whsec_";
/// Receivers should refuse messages older than this (the spec's tolerance).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("a webhook secret is `whsec_` followed by base64")]
    BadSecret,
    #[error("no signature matches")]
    Mismatch,
    #[error("the timestamp is too far from now")]
    Stale,
}

/// A fresh secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn key_bytes(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or(SignatureError::BadSecret)?;
    STANDARD.decode(encoded).map_err(|_| SignatureError::BadSecret)
}

fn mac(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Hmac<Sha256>, SignatureError> {
    let key = key_bytes(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SignatureError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value: `v1,<sig>` per secret, space separated.
pub fn sign(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    let signatures = secrets
        .iter()
        .map(|secret| {
            let digest = mac(secret, id, timestamp, body)?.finalize().into_bytes();
            Ok(format!("v1,{}", STANDARD.encode(digest)))
        })
        .collect::<Result<Vec<_>, SignatureError>>()?;
    Ok(signatures.join(" "))
}

/// What a receiver does: accept if any `v1` signature matches `secret`
/// (compared in constant time) and the timestamp is within the tolerance of `now`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    if (now - timestamp).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    for candidate in signature_header.split(' ') {
        let Some(encoded) = candidate.strip_prefix("v1,") else { continue };
        let Ok(signature) = STANDARD.decode(encoded) else { continue };
        if mac(secret, id, timestamp, body)?.verify_slice(&signature).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// Posts signed JSON to user endpoints through the address guard.
#[derive(Clone, Debug)]
pub struct WebhookChannel {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl WebhookChannel {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            // A proxy would resolve and connect for us, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&policy))))
            .redirect(redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            .user_agent(concat!("fairgig-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookChannel { client, policy })
    }

    /// Whether `url` is a target this channel could ever send to (checked
    /// again at connect time); used when a user registers an endpoint.
    pub fn check_url(&self, url: &str) -> Result<Url, SendError> {
        let parsed = Url::parse(url)
            .map_err(|err| SendError::Permanent(format!("not a valid URL: {err}")))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(SendError::Permanent("a webhook URL is http:// or https://".into()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(SendError::Permanent("a webhook URL carries no credentials".into()));
        }
        // The resolver never sees literal addresses, and the names of this
        // machine and of metadata services are judged as their addresses.
        let (shown, ip) = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(std::net::IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(std::net::IpAddr::V6(ip))),
            Some(url::Host::Domain(name)) => (name.to_owned(), special_name(name)),
            None => return Err(SendError::Permanent("a webhook URL needs a host".into())),
        };
        if ip.is_some_and(|ip| !self.policy.permits(ip)) {
            return Err(SendError::Permanent(format!("{shown} is an internal address; refused")));
        }
        Ok(parsed)
    }

    /// Posts `body` signed with `secrets`; returns the `webhook-id`.
    pub async fn send(
        &self,
        id: &str,
        url: &str,
        secrets: &[&str],
        body: Vec<u8>,
        timestamp: i64,
    ) -> Result<String, SendError> {
        let url = self.check_url(url)?;
        let signature = sign(secrets, id, timestamp, &body)
            .map_err(|err| SendError::Permanent(err.to_string()))?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(classify_error)?;
        answered(response).await?;
        Ok(id.to_owned())
    }

    /// Posts `body` as JSON without a signature (Slack incoming webhooks);
    /// returns the start of the answer.
    pub async fn post_unsigned(&self, url: &str, body: Vec<u8>) -> Result<String, SendError> {
        let url = self.check_url(url)?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(classify_error)?;
        answered(response).await
    }
}

/// The answer's first words if it is a success, else the classified failure
/// with what the endpoint said.
async fn answered(response: reqwest::Response) -> Result<String, SendError> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_limited(response, 4096).await;
    classify_status(status, &headers).map_err(|err| with_body(err, &body))?;
    Ok(excerpt(&body, 100))
}

#[cfg(test)]
mod tests {
    use reqwest::{header::HeaderMap, StatusCode};

    use super::*;

    // The example from the Standard Webhooks reference implementations.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_like_the_spec_example() {
        let signed = sign(&[SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).expect("signs");
        assert_eq!(signed, SPEC_SIGNATURE);
    }

    #[test]
    fn verification_accepts_any_listed_secret_and_rejects_tampering() {
        let old = new_secret();
        let new = new_secret();
        let header = sign(&[&new, &old], "msg_1", 1000, b"{}").expect("signs");
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(verify(&old, "msg_1", 1000, &header, b"{}", 1010), Ok(()));
        assert_eq!(verify(&new, "msg_1", 1000, &header, b"{}", 1010), Ok(()));
        assert_eq!(
            verify(&new, "msg_1", 1000, &header, b"{ }", 1010),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&new_secret(), "msg_1", 1000, &header, b"{}", 1010),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&new, "msg_1", 1000, &header, b"{}", 2000), Err(SignatureError::Stale));
        assert_eq!(
            verify(&new, "msg_1", 1000, "garbage v1,%%%", b"{}", 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(sign(&["nope"], "m", 1, b""), Err(SignatureError::BadSecret));
    }

    #[test]
    fn statuses_are_classified() {
        let none = HeaderMap::new();
        assert!(classify_status(StatusCode::NO_CONTENT, &none).is_ok());
        assert!(matches!(classify_status(StatusCode::GONE, &none), Err(SendError::Permanent(_))));
        assert!(matches!(
            classify_status(StatusCode::BAD_GATEWAY, &none),
            Err(SendError::Transient { retry_after: None, .. })
        ));
        let mut wait = HeaderMap::new();
        wait.insert("retry-after", "120".parse().expect("value"));
        assert_eq!(
            classify_status(StatusCode::TOO_MANY_REQUESTS, &wait),
            Err(SendError::Transient {
                reason: "answered 429 Too Many Requests".into(),
                retry_after: Some(Duration::from_secs(120))
            })
        );
        let mut moved = HeaderMap::new();
        moved.insert("location", "http://169.254.169.254/".parse().expect("value"));
        let err = classify_status(StatusCode::FOUND, &moved);
        assert!(
            matches!(&err, Err(SendError::Permanent(reason)) if reason.contains("169.254.169.254"))
        );
    }

    #[test]
    fn literal_internal_addresses_and_odd_urls_are_refused_before_sending() {
        let channel =
            WebhookChannel::new(AddressPolicy::default(), Duration::from_secs(1)).expect("client");
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "ftp://example.org/",
            "https://user:pw@example.org/",
            "not a url",
        ] {
            assert!(matches!(channel.check_url(bad), Err(SendError::Permanent(_))), "{bad}");
        }
        assert!(channel.check_url("https://hooks.example.org/fairgig").is_ok());
    }
}
