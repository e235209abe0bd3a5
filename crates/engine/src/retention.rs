//! Retention: finished records pruned once past their period
//! (`retention.*`), by one process per occurrence (a lease in the database,
//! `Store::claim_schedule`, as for scheduled training). The audit log is
//! kept; what is still in use is never pruned (see
//! `fairgig_store::retention`).

use std::time::Duration;

use fairgig_core::config::RetentionSettings;
use fairgig_store::{
    retention::{Cutoffs, Pruned},
    Store, StoreError,
};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// The schedule's name in the database.
const SCHEDULE: &str = "prune_retention";
/// How often a process looks whether pruning is due.
const LOOK_EVERY: Duration = Duration::from_secs(300);
/// How long a claim holds before another process may take over.
const LEASE: time::Duration = time::Duration::hours(1);
/// The longest period honoured (a hundred years); larger means this.
const MAX_DAYS: u64 = 36_525;

/// Each kind's cut-off at `now` (`None` where its period is 0: kept).
pub fn cutoffs(settings: &RetentionSettings, now: OffsetDateTime) -> Cutoffs {
    let before = |days: u64| {
        let days = i64::try_from(days.min(MAX_DAYS)).unwrap_or(0);
        (days > 0).then(|| now - time::Duration::days(days))
    };
    Cutoffs {
        notifications: before(settings.notifications_days),
        sessions: before(settings.sessions_days),
        embedding_cache: before(settings.embedding_cache_days),
        feedback: before(settings.feedback_days),
    }
}

/// Prunes now, whatever the schedule (`fairgig prune`); counts and logs.
pub async fn prune_now(store: &Store, settings: &RetentionSettings) -> Result<Pruned, StoreError> {
    let pruned = store.prune(&cutoffs(settings, OffsetDateTime::now_utc())).await?;
    for (kind, count) in [
        ("notifications", pruned.notifications),
        ("sessions", pruned.sessions),
        ("embedding_cache", pruned.embedding_cache),
        ("feedback", pruned.feedback),
    ] {
        metrics::counter!("fairgig_retention_pruned_total", "kind" => kind).increment(count);
    }
    tracing::info!(
        notifications = pruned.notifications,
        sessions = pruned.sessions,
        embedding_cache = pruned.embedding_cache,
        feedback = pruned.feedback,
        "retention pruning"
    );
    Ok(pruned)
}

/// One look: prunes when due and not held by another process.
pub async fn round(
    store: &Store,
    settings: &RetentionSettings,
    holder: &str,
) -> Result<Option<Pruned>, StoreError> {
    if settings.every_hours == 0 {
        return Ok(None);
    }
    let now = OffsetDateTime::now_utc();
    let hours = i64::try_from(settings.every_hours.min(MAX_DAYS * 24)).unwrap_or(24);
    if !store
        .claim_schedule(SCHEDULE, holder, now, now + LEASE, now - time::Duration::hours(hours))
        .await?
    {
        return Ok(None);
    }
    let pruned = prune_now(store, settings).await;
    store.finish_schedule(SCHEDULE, holder, now).await?;
    pruned.map(Some)
}

/// Looks every five minutes until `stop`; failures are logged and retried
/// at the next occurrence.
pub fn spawn(
    store: Store,
    settings: RetentionSettings,
    holder: String,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: CancellationToken,
) {
    if settings.every_hours == 0 {
        return;
    }
    tasks.spawn(async move {
        loop {
            if let Err(err) = round(&store, &settings, &holder).await {
                tracing::warn!(error = %err, "retention pruning failed");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_zero_keeps_and_any_other_is_a_cutoff() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1000);
        let settings = RetentionSettings {
            notifications_days: 10,
            sessions_days: 0,
            embedding_cache_days: u64::MAX,
            ..RetentionSettings::default()
        };
        let cut = cutoffs(&settings, now);
        assert_eq!(cut.notifications, Some(now - time::Duration::days(10)));
        assert_eq!(cut.sessions, None);
        assert!(cut.embedding_cache.is_some(), "a huge period is capped, not an overflow");
        assert_eq!(cut.feedback, None, "feedback is kept by default");
    }
}
