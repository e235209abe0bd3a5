//! At most a few expensive requests (seconds of CPU: a bias check of a
//! large text, a batch of embeddings) per caller at once, across this
//! process; beyond that 429. A slot is held by the work itself, not by the
//! request: it is freed when the CPU work really ends, so a client that
//! times out and retries cannot pile up work on the blocking pool.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use fairgig_core::ids::UserId;

/// Slots per caller.
#[derive(Debug)]
pub struct ExpensiveWork {
    per_caller: usize,
    in_flight: Mutex<HashMap<UserId, usize>>,
}

/// One caller's slot; freed when dropped.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<ExpensiveWork>,
    caller: UserId,
}

impl ExpensiveWork {
    /// `per_caller` is at least 1.
    pub fn new(per_caller: usize) -> Arc<Self> {
        Arc::new(Self { per_caller: per_caller.max(1), in_flight: Mutex::default() })
    }

    /// A slot for `caller`, or `None` when they already hold all of theirs.
    pub fn try_start(self: &Arc<Self>, caller: UserId) -> Option<Slot> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let held = in_flight.entry(caller).or_insert(0);
        if *held >= self.per_caller {
            return None;
        }
        *held += 1;
        Some(Slot { owner: Arc::clone(self), caller })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut in_flight =
            self.owner.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(held) = in_flight.get_mut(&self.caller) {
            *held -= 1;
            if *held == 0 {
                in_flight.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_their_slots_and_no_more_until_one_is_freed() {
        let work = ExpensiveWork::new(2);
        let (ada, bob) = (UserId::new(), UserId::new());
        let first = work.try_start(ada).expect("first");
        let _second = work.try_start(ada).expect("second");
        assert!(work.try_start(ada).is_none(), "a third is refused");
        assert!(work.try_start(bob).is_some(), "others are not affected");
        drop(first);
        let _third = work.try_start(ada).expect("the freed slot");
        assert!(work.try_start(ada).is_none(), "one slot was freed, not two");
    }
}
