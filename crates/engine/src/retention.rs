//! Retention: finished records pruned once past their period
//! (`retention.*`), by one process per occurrence ([`crate::leased`]). The audit log is
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

use crate::leased::{run_if_due, spawn_looking, Schedule};

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
        step_outputs: before(settings.step_outputs_days).map(|at| (at, crate::steps::EXTRACT)),
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
        ("step_outputs", pruned.step_outputs),
    ] {
        metrics::counter!("fairgig_retention_pruned_total", "kind" => kind).increment(count);
    }
    tracing::info!(
        notifications = pruned.notifications,
        sessions = pruned.sessions,
        embedding_cache = pruned.embedding_cache,
        feedback = pruned.feedback,
        step_outputs = pruned.step_outputs,
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
    let hours = i64::try_from(settings.every_hours.min(MAX_DAYS * 24)).unwrap_or(24);
    let schedule = Schedule { name: SCHEDULE, every: time::Duration::hours(hours), lease: LEASE };
    run_if_due(store, schedule, holder, prune_now(store, settings)).await
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
    spawn_looking(tasks, stop, LOOK_EVERY, "retention pruning", move || {
        let (store, settings, holder) = (store.clone(), settings.clone(), holder.clone());
        async move { round(&store, &settings, &holder).await.map(drop) }
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
