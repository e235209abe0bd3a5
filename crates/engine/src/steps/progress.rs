//! A running step's text so far (a language model's answer as it is
//! written), kept in the store so the API and the portal — which may run
//! in other processes than the worker — show it while the step runs.
//! Writes are throttled: the newest text at most every [`EVERY`]. Nothing
//! runs until there is text, so a step whose rules answer alone (no model
//! configured, or its budget spent) costs no task.

use std::sync::OnceLock;
use std::time::Duration;

use fairgig_store::runs::StepRef;
use fairgig_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the text so far is written at most.
const EVERY: Duration = Duration::from_millis(500);

/// Publishes one running step's text; [`StepProgress::finish`] stops it
/// (the step's finish clears what was written).
#[derive(Debug)]
pub struct StepProgress {
    store: Store,
    step: StepRef,
    /// The newest text and the task writing it, from the first [`tell`](Self::tell).
    writer: OnceLock<(watch::Sender<String>, JoinHandle<()>)>,
}

impl StepProgress {
    pub fn new(store: Store, step: StepRef) -> Self {
        Self { store, step, writer: OnceLock::new() }
    }

    /// The text so far (replaces what was told before).
    pub fn tell(&self, text: &str) {
        let (latest, _) = self.writer.get_or_init(|| {
            let (latest, mut newest) = watch::channel(String::new());
            let (store, step) = (self.store.clone(), self.step.clone());
            let writer = tokio::spawn(async move {
                while newest.changed().await.is_ok() {
                    let text = newest.borrow_and_update().clone();
                    if let Err(err) = store.record_step_progress(&step, &text).await {
                        tracing::debug!(error = %err, step = %step.step, "step progress not recorded");
                    }
                    tokio::time::sleep(EVERY).await;
                }
            });
            (latest, writer)
        });
        latest.send_replace(text.to_owned());
    }

    /// Stops publishing; a write under way completes first.
    pub async fn finish(self) {
        if let Some((latest, writer)) = self.writer.into_inner() {
            drop(latest);
            let _ = writer.await;
        }
    }
}
