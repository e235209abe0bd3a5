//! Cancelling CPU work whose requester is gone.
//!
//! A request that times out or whose client hangs up is dropped by the HTTP
//! server, but work it handed to a blocking thread runs on unless it is
//! told. The handler keeps a [`CancelOnDrop`]; the work holds the
//! [`Cancel`] and asks it between chunks, so it ends soon after the request.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

/// Set once whoever asked for the work stops waiting for it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// The work was cancelled before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the work was cancelled")]
pub struct Cancelled;

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled: `cancel.check()?` between chunks.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// A guard that cancels when dropped (with the request's future).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its [`Cancel`] when dropped.
#[derive(Debug)]
pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_guard_cancels_every_clone() {
        let cancel = Cancel::new();
        let work = cancel.clone();
        assert_eq!(work.check(), Ok(()));
        drop(cancel.on_drop());
        assert!(work.is_cancelled());
        assert_eq!(work.check(), Err(Cancelled));
    }
}
