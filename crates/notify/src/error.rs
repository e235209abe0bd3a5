//! How a send can fail, as the dispatcher needs to know it.

use std::time::Duration;

/// A failed send, classified by what to do next.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Cannot succeed by trying again (bad address, refused recipient,
    /// forbidden target): fall back to the next channel at once.
    #[error("{0}")]
    Permanent(String),
    /// May succeed later (timeout, 5xx, rate limit); `retry_after` is the
    /// provider's own wish (HTTP `Retry-After`) when it gave one.
    #[error("{reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
}

impl SendError {
    pub fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient { reason: reason.into(), retry_after: None }
    }
}
