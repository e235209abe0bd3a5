//! Periodic work shared between processes: every `serve` and `worker` looks
//! at the same schedules, and a lease in the database
//! (`Store::claim_schedule`) lets one of them run each occurrence; a
//! crashed holder's lease simply runs out. Scheduled training, retention
//! and the orphan-upload sweep all run this way.

use std::{future::Future, time::Duration};

use fairgig_store::{Store, StoreError};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// A schedule's name in the database, how often it runs and how long a
/// claim holds before another process may take over.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub name: &'static str,
    pub every: time::Duration,
    pub lease: time::Duration,
}

/// Runs `work` (a future: nothing happens until it is awaited) if
/// `schedule` is due and no other process holds it; `None` when not.
/// Whatever `work` returns counts as the occurrence: a failure is retried
/// at the next one, not at every look.
pub async fn run_if_due<T, E: From<StoreError>>(
    store: &Store,
    schedule: Schedule,
    holder: &str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<Option<T>, E> {
    let now = OffsetDateTime::now_utc();
    let claimed = store
        .claim_schedule(schedule.name, holder, now, now + schedule.lease, now - schedule.every)
        .await?;
    if !claimed {
        return Ok(None);
    }
    let outcome = work.await;
    store.finish_schedule(schedule.name, holder, now).await?;
    outcome.map(Some)
}

/// Calls `look` every `every` until `stop`, logging a failure as `what`.
pub fn spawn_looking<F, Fut, E>(
    tasks: &mut tokio::task::JoinSet<()>,
    stop: CancellationToken,
    every: Duration,
    what: &'static str,
    mut look: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    tasks.spawn(async move {
        loop {
            if let Err(err) = look().await {
                tracing::warn!(error = %err, what, "periodic work failed; retried at the next occurrence");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}
