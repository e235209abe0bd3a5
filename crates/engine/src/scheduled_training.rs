//! The learning loop without an operator: every `training.every_hours`,
//! when enough feedback arrived since the newest ranker was trained, a
//! ranker is trained and registered as challenger and (with
//! `training.auto_promote`) put through the promotion gate, which decides on
//! quality and fairness whether it serves. The gate's verdict is audited as
//! for `fairgig model promote`, by the system.
//!
//! Every `serve` and `worker` runs the loop; a lease in the database lets
//! one process train per occurrence ([`crate::leased`]).

use std::time::Duration;

use fairgig_core::{audit::Actor, config::TrainingSettings};
use fairgig_store::Store;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::{
    leased::{run_if_due, spawn_looking, Schedule},
    training::{promote_challenger, train_ranker, RegistryError, RANKER},
};

/// The longest interval honoured (ten years); larger settings mean this.
const MAX_EVERY_HOURS: u64 = 24 * 366 * 10;
/// The schedule's name in the database.
const SCHEDULE: &str = "train_ranker";
/// How often a process looks whether training is due.
const LOOK_EVERY: Duration = Duration::from_secs(60);
/// How long a claim holds before another process may take over (a
/// training run takes seconds; this covers a very slow one).
const LEASE: time::Duration = time::Duration::hours(1);

/// What one look at the schedule did.
#[derive(Debug, PartialEq)]
pub enum Round {
    /// `every_hours` is 0.
    Off,
    /// Not due yet, or another process holds it.
    NotDue,
    /// Due, but too little new feedback: looked again after the interval.
    TooLittleFeedback { new: u64 },
    /// Trained `version`; `promoted` says what the gate decided (`None`
    /// without auto-promotion, or when there was too little to train on).
    Trained { version: Option<String>, promoted: Option<bool> },
}

/// One look: trains (and promotes) when due. `holder` names this process.
pub async fn round(
    store: &Store,
    settings: &TrainingSettings,
    holder: &str,
) -> Result<Round, RegistryError> {
    if settings.every_hours == 0 {
        return Ok(Round::Off);
    }
    // Capped so any configured number is a valid duration (no overflow).
    let hours = settings.every_hours.min(MAX_EVERY_HOURS);
    let every = time::Duration::hours(i64::try_from(hours).unwrap_or(i64::from(u16::MAX)));
    let schedule = Schedule { name: SCHEDULE, every, lease: LEASE };
    Ok(run_if_due(store, schedule, holder, train_if_enough(store, settings))
        .await?
        .unwrap_or(Round::NotDue))
}

async fn train_if_enough(
    store: &Store,
    settings: &TrainingSettings,
) -> Result<Round, RegistryError> {
    let newest = store.models(RANKER).await?.into_iter().map(|m| m.created_at).max();
    let new = store.feedback_since(newest.unwrap_or(OffsetDateTime::UNIX_EPOCH)).await?;
    if new < settings.min_new_feedback {
        return Ok(Round::TooLittleFeedback { new });
    }
    let report = train_ranker(store, settings.held_out, "scheduled training").await?;
    let Some(trained) = report.trained else {
        return Ok(Round::Trained { version: None, promoted: None });
    };
    let promoted = if settings.auto_promote {
        Some(promote_challenger(store, Actor::System).await?.promoted)
    } else {
        None
    };
    tracing::info!(version = %trained.version, ?promoted, "scheduled training registered a ranker");
    Ok(Round::Trained { version: Some(trained.version), promoted })
}

/// Looks every minute until `stop`; failures are logged and retried at the
/// next occurrence.
pub fn spawn(
    store: Store,
    settings: TrainingSettings,
    holder: String,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: CancellationToken,
) {
    if settings.every_hours == 0 {
        return;
    }
    spawn_looking(tasks, stop, LOOK_EVERY, "scheduled training", move || {
        let (store, settings, holder) = (store.clone(), settings.clone(), holder.clone());
        async move { round(&store, &settings, &holder).await.map(drop) }
    });
}
