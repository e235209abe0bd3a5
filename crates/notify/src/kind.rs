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
    /// A one-time link to choose a new password (sent to the account's address only).
    PasswordReset,
    /// A one-time link proving the account's address is its owner's.
    EmailVerification,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 10] = [
        Self::SubmissionReceived,
        Self::RunCompleted,
        Self::RunFailed,
        Self::JobMatchInvitation,
        Self::ApplicationReceived,
        Self::Hired,
        Self::ReviewReceived,
        Self::SecurityNotice,
        Self::PasswordReset,
        Self::EmailVerification,
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
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Security notices cannot be switched off: an account owner must hear
    /// about a new login or a password change. Nor can the links an owner
    /// asked for (password reset, email verification).
    pub fn mandatory(self) -> bool {
        matches!(self, Self::SecurityNotice | Self::PasswordReset | Self::EmailVerification)
    }

    /// Kinds that carry a one-time account link: they go to the account's
    /// own address (or the log without SMTP), never to another channel,
    /// since opening the link proves control of that address.
    pub fn to_account_address(self) -> bool {
        matches!(self, Self::PasswordReset | Self::EmailVerification)
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
