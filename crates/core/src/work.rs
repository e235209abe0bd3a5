//! Statuses of background work: tasks in the durable queue and notification
//! deliveries. The store writes them as the strings below; reading a row
//! parses them back, so an unknown value is an error rather than a silent
//! fallback.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{submission::string_enum, ValidationError};

/// Where a task in the durable queue stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for its `run_after` and a free worker.
    Queued,
    /// Claimed by a worker under a lease.
    Running,
    Done,
    /// Out of attempts: kept for an operator to look at or re-run.
    Dead,
    /// Its submission was deleted before it ran.
    Cancelled,
}

string_enum!(TaskStatus, "status", [
    Queued => "queued", Running => "running", Done => "done", Dead => "dead",
    Cancelled => "cancelled",
]);

/// Where one delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Due at `next_attempt_at`.
    Pending,
    /// Claimed by a sender under a lease.
    Sending,
    Sent,
    /// A transient failure: tried again at `next_attempt_at`.
    Retrying,
    /// This channel gave up and the next one in the user's list took over.
    Failed,
    /// Every attempt spent, or refused for good.
    Dead,
}

string_enum!(NotificationStatus, "status", [
    Pending => "pending", Sending => "sending", Sent => "sent", Retrying => "retrying",
    Failed => "failed", Dead => "dead",
]);

impl NotificationStatus {
    /// Given up on (for good, or on this channel): what an operator may send again.
    pub fn can_be_resent(self) -> bool {
        matches!(self, Self::Dead | Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_column_spelling() {
        for status in [TaskStatus::Queued, TaskStatus::Running, TaskStatus::Done, TaskStatus::Dead]
        {
            assert_eq!(status.as_str().parse::<TaskStatus>().ok(), Some(status));
        }
        for status in [
            NotificationStatus::Pending,
            NotificationStatus::Sending,
            NotificationStatus::Sent,
            NotificationStatus::Retrying,
            NotificationStatus::Failed,
            NotificationStatus::Dead,
        ] {
            assert_eq!(NotificationStatus::try_from(status.as_str().to_owned()).ok(), Some(status));
        }
        assert!("delivered".parse::<NotificationStatus>().is_err());
    }
}
