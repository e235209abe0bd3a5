//! What HTTP providers' answers and failures mean for a delivery, shared by
//! every channel that speaks HTTP (webhooks, Telegram, SMS, Slack).

use std::time::Duration;

use reqwest::{header::HeaderMap, StatusCode};

use crate::{guard::ForbiddenTarget, SendError};

/// A refused target is permanent; timeouts and connection failures are not.
/// The URL is left out of the reason: a bot token can live in it.
pub fn classify_error(err: reqwest::Error) -> SendError {
    let err = err.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(forbidden) = cause.downcast_ref::<ForbiddenTarget>() {
            return SendError::Permanent(forbidden.to_string());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        SendError::transient("the endpoint did not answer in time")
    } else if err.is_connect() {
        SendError::transient(format!("cannot connect: {err}"))
    } else {
        SendError::transient(format!("request failed: {err}"))
    }
}

/// 2xx is delivered; 429 and 5xx (and 408) may pass later, honouring
/// `Retry-After` in seconds; redirects and other 4xx will not.
pub fn classify_status(status: StatusCode, headers: &HeaderMap) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        let location =
            headers.get("location").and_then(|value| value.to_str().ok()).unwrap_or("nowhere");
        return Err(SendError::Permanent(format!(
            "answered {status} to {location}; redirects are not followed"
        )));
    }
    Err(failure(status, format!("answered {status}"), retry_after(headers)))
}

/// A provider's refusal: worth trying again for 429, 408 and 5xx (after
/// `retry_after`, if it said), final for anything else.
pub fn failure(status: StatusCode, reason: String, retry_after: Option<Duration>) -> SendError {
    let retryable = status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error();
    if retryable {
        SendError::Transient { reason, retry_after }
    } else {
        SendError::Permanent(reason)
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The first `limit` characters of a provider's error body, for the log.
pub fn excerpt(body: &str, limit: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(limit).collect()
}

/// At most `limit` bytes of an answer's body, as text: a hostile endpoint
/// cannot make us buffer a gigabyte.
pub async fn read_limited(mut response: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())])
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Adds the provider's own words to a failure's reason.
pub fn with_body(err: SendError, body: &str) -> SendError {
    let said = excerpt(body, 200);
    if said.is_empty() {
        return err;
    }
    match err {
        SendError::Permanent(reason) => SendError::Permanent(format!("{reason}: {said}")),
        SendError::Transient { reason, retry_after } => {
            SendError::Transient { reason: format!("{reason}: {said}"), retry_after }
        }
    }
}
