//! A user's webhook endpoints: registering one (the URL passes the
//! outbound guard, the events name notification kinds), removing it, and
//! rotating its signing secret with an overlap during which the old secret
//! signs too, so the receiver can switch without losing a delivery.

use fairgig_core::{api_key::Scope, ValidationError};
use fairgig_notify::{channel::webhook::new_secret, NotificationKind};
use fairgig_store::notifications::WebhookEndpoint;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Caller, Engine, Result};

/// Most webhook endpoints per user.
pub const MAX_ENDPOINTS: usize = 10;
/// Longest URL accepted.
const MAX_URL_BYTES: usize = 2048;
/// How long the old secret keeps signing after a rotation, by default and at most.
pub const DEFAULT_OVERLAP_HOURS: u32 = 24;
pub const MAX_OVERLAP_HOURS: u32 = 168;

/// The caller's endpoints (their secrets are not shown again).
pub async fn list(engine: &Engine, caller: &Caller) -> Result<Vec<WebhookEndpoint>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.webhook_endpoints(caller.user.id).await?)
}

/// Registers an endpoint receiving `events` (all kinds when empty); the
/// answer holds its new signing secret, shown this once.
pub async fn create(
    engine: &Engine,
    caller: &Caller,
    url: &str,
    events: &[String],
) -> Result<WebhookEndpoint> {
    caller.require(Scope::Write)?;
    let url = url.trim();
    if url.len() > MAX_URL_BYTES {
        return Err(ValidationError::new("url", "at most 2048 characters").into());
    }
    engine
        .notifier
        .check_webhook_url(url)
        .map_err(|err| ValidationError::new("url", err.to_string()))?;
    for (index, event) in events.iter().enumerate() {
        if NotificationKind::parse(event).is_none() {
            return Err(ValidationError::new(
                "events",
                format!("events[{index}]: `{event}` is not a notification kind"),
            )
            .into());
        }
    }
    if engine.store.webhook_endpoints(caller.user.id).await?.len() >= MAX_ENDPOINTS {
        return Err(
            ValidationError::new("url", format!("at most {MAX_ENDPOINTS} endpoints")).into()
        );
    }
    Ok(engine.store.create_webhook_endpoint(caller.user.id, url, &new_secret(), events).await?)
}

pub async fn delete(engine: &Engine, caller: &Caller, id: Uuid) -> Result<()> {
    caller.require(Scope::Write)?;
    Ok(engine.store.delete_webhook_endpoint(caller.user.id, id).await?)
}

/// A new secret for the endpoint; the old one also signs for
/// `overlap_hours` (default [`DEFAULT_OVERLAP_HOURS`]).
pub async fn rotate_secret(
    engine: &Engine,
    caller: &Caller,
    id: Uuid,
    overlap_hours: Option<u32>,
) -> Result<WebhookEndpoint> {
    caller.require(Scope::Write)?;
    let hours = overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if hours > MAX_OVERLAP_HOURS {
        return Err(ValidationError::new("overlap_hours", "between 0 and 168").into());
    }
    let until = OffsetDateTime::now_utc() + Duration::hours(i64::from(hours));
    Ok(engine.store.rotate_webhook_secret(caller.user.id, id, &new_secret(), until).await?)
}
