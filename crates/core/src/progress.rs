//! How far long work has come. Backups, restores, the demo, training and
//! index builds report stages and counts here; the command line draws
//! them as bars (on a terminal only), everything else passes [`Silent`].
//! A trait rather than a bar so the engine stays free of terminal code.

/// Where long work reports its stages and counts.
pub trait Progress: Send + Sync {
    /// A new stage (the last one is over): `what`, with `total` units when
    /// they are known beforehand.
    fn stage(&self, what: &str, total: Option<u64>);
    /// `units` more of the current stage are done.
    fn advance(&self, units: u64);
    /// The current stage has `done` units done (for work counted by looking).
    fn set(&self, done: u64);
}

/// Reports nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn set(&self, _: u64) {}
}
