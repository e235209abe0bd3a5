//! What a notification is about, and the channels it can travel by.

use serde::{Deserialize, Serialize};

/// A notification kind: one set of templates each, one preference each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    SubmissionReceived,
    RunCompleted,
    RunFailed,
    JobMatchInvitation,
    ApplicationReceived,
    Hired,
    ReviewReceived,
    SecurityNotice,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 8] = [
        Self::SubmissionReceived,
        Self::RunCompleted,
        Self::RunFailed,
        Self::JobMatchInvitation,
        Self::ApplicationReceived,
        Self::Hired,
        Self::ReviewReceived,
        Self::SecurityNotice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmissionReceived => "submission_received",
            Self::RunCompleted => "run_completed",
            Self::RunFailed => "run_failed",
            Self::JobMatchInvitation => "job_match_invitation",
            Self::ApplicationReceived => "application_received",
            Self::Hired => "hired",
            Self::ReviewReceived => "review_received",
            Self::SecurityNotice => "security_notice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Security notices cannot be switched off: an account owner must hear
    /// about a new login or a password change.
    pub fn mandatory(self) -> bool {
        self == Self::SecurityNotice
    }
}

/// A delivery channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Email,
    Webhook,
    Telegram,
    Sms,
    Slack,
    /// Development: the rendered message goes to the log.
    Log,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 6] =
        [Self::Email, Self::Webhook, Self::Telegram, Self::Sms, Self::Slack, Self::Log];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
            Self::Telegram => "telegram",
            Self::Sms => "sms",
            Self::Slack => "slack",
            Self::Log => "log",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|channel| channel.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
        }
        for channel in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(NotificationKind::parse("Run_Completed"), None);
    }
}
