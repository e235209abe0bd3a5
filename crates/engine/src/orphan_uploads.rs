//! Removes uploaded files no submission refers to.
//!
//! A submission's files go to object storage before its transaction; when
//! the database then refuses it, the request deletes them again. A process
//! that dies in between (or a write killed half-way) leaves objects behind
//! that nothing will ever read. The sweep lists `submissions/` objects older
//! than `storage.orphan_grace_secs` (a request still in flight is far
//! younger), asks the store which of them a submission file refers to, and
//! deletes the rest. Every `serve` and `worker` runs it; one process sweeps
//! per occurrence ([`crate::leased`]).

use std::time::Duration;

use fairgig_store::{objects::ObjectStorage, Store};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::{
    error::{Error, Result},
    leased::{run_if_due, spawn_looking, Schedule},
};

/// The schedule's name in the database.
const SCHEDULE: &str = "sweep_orphan_uploads";
/// Where submissions' files live (`submissions/<submission>/<file>`).
const PREFIX: &str = "submissions";
/// How long a claim holds before another process may take over.
const LEASE: time::Duration = time::Duration::minutes(30);

/// What one sweep found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Objects old enough to judge.
    pub checked: usize,
    /// Of those, the ones no submission refers to, now deleted.
    pub removed: usize,
}

/// Deletes the objects under `submissions/` written before `before` that
/// no submission file refers to.
pub async fn sweep(
    store: &Store,
    storage: &ObjectStorage,
    before: OffsetDateTime,
) -> Result<Sweep> {
    let keys = storage.keys_older_than(PREFIX, before).await.map_err(internal)?;
    let referenced = store.referenced_object_keys(&keys).await?;
    let mut removed = 0;
    for key in keys.iter().filter(|key| !referenced.contains(*key)) {
        storage.delete(key).await.map_err(internal)?;
        removed += 1;
    }
    Ok(Sweep { checked: keys.len(), removed })
}

fn internal(err: fairgig_store::objects::ObjectError) -> Error {
    Error::Internal(anyhow::Error::new(err).context("sweeping orphaned uploads"))
}

/// How often the sweep runs for a grace period: a quarter of it, at least a
/// second, so an orphan lives at most 1.25 × grace.
fn interval(grace: Duration) -> Duration {
    (grace / 4).max(Duration::from_secs(1))
}

/// One occurrence if due and not held by another process; `None` when not.
pub async fn round(
    store: &Store,
    storage: &ObjectStorage,
    grace: Duration,
    holder: &str,
) -> Result<Option<Sweep>> {
    let every = time::Duration::try_from(interval(grace)).unwrap_or(time::Duration::DAY);
    let grace = time::Duration::try_from(grace).unwrap_or(time::Duration::DAY);
    let schedule = Schedule { name: SCHEDULE, every, lease: LEASE };
    let swept = async {
        let swept = sweep(store, storage, OffsetDateTime::now_utc() - grace).await?;
        metrics::counter!("fairgig_orphan_uploads_removed_total").increment(swept.removed as u64);
        tracing::info!(checked = swept.checked, removed = swept.removed, "orphan-upload sweep");
        Ok(swept)
    };
    run_if_due(store, schedule, holder, swept).await
}

/// Sweeps every quarter of `grace` until `stop`; failures are logged and
/// retried at the next occurrence.
pub fn spawn(
    store: Store,
    storage: ObjectStorage,
    grace: Duration,
    holder: String,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: CancellationToken,
) {
    spawn_looking(tasks, stop, interval(grace), "orphan-upload sweep", move || {
        let (store, storage, holder) = (store.clone(), storage.clone(), holder.clone());
        async move { round(&store, &storage, grace, &holder).await.map(drop) }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_runs_four_times_per_grace_and_at_most_once_a_second() {
        assert_eq!(interval(Duration::from_secs(3600)), Duration::from_secs(900));
        assert_eq!(interval(Duration::ZERO), Duration::from_secs(1));
    }
}
