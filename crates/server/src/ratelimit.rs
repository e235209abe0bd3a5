//! The rate-limit middleware: applies the engine's quotas
//! ([`fairgig_engine::limits`]) per IP and, when a credential is presented,
//! per user or API key; answers 429 with `Retry-After` and sets
//! `RateLimit-*` headers.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use fairgig_engine::{accounts::api_keys, limits::Decision};

use crate::{error::ApiError, extractors::ClientInfo, state::AppState};

/// The middleware: limits by client IP and, when a credential is presented,
/// by user (access token) or API key. The most restrictive answer wins.
pub async fn limit_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let quotas = state.engine.quotas;
    if !quotas.enabled {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let client = ClientInfo::from_parts(&parts, state.engine.settings.server.trust_forwarded_for);
    let mut checks = Vec::with_capacity(2);
    if let Some(ip) = client.ip {
        checks.push((format!("ip:{ip}"), quotas.per_ip));
    }
    let mut verified = None;
    if let Some(presented) = crate::auth::presented_credential(&parts) {
        if let Some(prefix) = api_keys::parse_prefix(presented) {
            checks.push((format!("key:{prefix}"), quotas.per_api_key));
        } else if let Ok(claims) = state.engine.tokens.verify_access(presented) {
            checks.push((format!("user:{}", claims.user), quotas.per_user));
            verified = Some(claims);
        }
    }
    let mut tightest: Option<Decision> = None;
    for (key, quota) in &checks {
        let decision = state.engine.limiter.decide(key, quota, 1).await;
        if !decision.allowed {
            metrics::counter!("fairgig_rate_limited_total").increment(1);
            let mut response = ApiError::RateLimited {
                retry_after_secs: decision
                    .retry_after
                    .map_or(1, |wait| wait.as_secs_f64().ceil() as u64)
                    .max(1),
            }
            .into_response();
            set_headers(response.headers_mut(), &decision);
            return response;
        }
        if tightest.is_none_or(|current| decision.remaining < current.remaining) {
            tightest = Some(decision);
        }
    }
    // The signature is checked once per request: `Caller` reuses the claims.
    if let Some(claims) = verified {
        parts.extensions.insert(crate::auth::VerifiedAccess(claims));
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(decision) = tightest {
        set_headers(response.headers_mut(), &decision);
    }
    response
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (IETF draft
/// `ratelimit-headers`), seconds rounded up.
pub fn set_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert(
        "ratelimit-reset",
        HeaderValue::from(decision.reset_after.as_secs_f64().ceil() as u64),
    );
}
