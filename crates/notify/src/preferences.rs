//! A user's notification preferences: an ordered list of channels (the
//! first that applies is used, the next ones are fallbacks), a mode per
//! notification kind (`instant`, `digest`, `off`), quiet hours and the
//! digest time in the user's time zone, and a locale.

use std::collections::BTreeMap;

use lettre::Address;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    kind::{ChannelKind, NotificationKind},
    schedule,
};

/// Most channels a user may list.
pub const MAX_CHANNELS: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Tried in order: the first applicable one gets the message, the rest
    /// are fallbacks when it fails for good.
    pub channels: Vec<ChannelAddress>,
    /// Per kind; a kind not listed is `instant`.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Mode>)]
    pub kinds: BTreeMap<NotificationKind, Mode>,
    #[serde(default = "default_locale")]
    pub locale: String,
    /// IANA time zone for quiet hours and the digest.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Instant messages recorded inside this local window wait for its end
    /// (security notices do not wait).
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Local time (`HH:MM`) the daily digest goes out.
    #[serde(default = "default_digest_at")]
    pub digest_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, local.
    pub start: String,
    /// `HH:MM`, local; before `start` means the window spans midnight.
    pub end: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelAddress {
    pub channel: ChannelKind,
    /// An email address, a webhook endpoint id, a Telegram chat id
    /// (`123456`, `-100…`, `@channel`), an E.164 phone number, a Slack
    /// incoming-webhook URL, or any label for `log`.
    pub address: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Instant,
    /// Collected into one message a day, at `digest_at`.
    Digest,
    Off,
}

fn default_locale() -> String {
    crate::template::DEFAULT_LOCALE.to_owned()
}

fn default_timezone() -> String {
    "UTC".to_owned()
}

fn default_digest_at() -> String {
    "08:00".to_owned()
}

/// When a message may go out, and whether it waits for the digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub at: OffsetDateTime,
    pub digest: bool,
}

/// A preferences document that cannot be used, naming the field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct PreferenceError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PreferenceError {
    PreferenceError { field: field.into(), message: message.into() }
}

impl Preferences {
    /// What a new account starts with: every kind, instantly, to the
    /// account's email address (or, with no SMTP configured, to the log).
    pub fn default_for(email: &str, email_configured: bool) -> Self {
        let channel = if email_configured { ChannelKind::Email } else { ChannelKind::Log };
        Preferences {
            channels: vec![ChannelAddress { channel, address: email.to_owned() }],
            kinds: BTreeMap::new(),
            locale: default_locale(),
            timezone: default_timezone(),
            quiet_hours: None,
            digest_at: default_digest_at(),
        }
    }

    /// When a `kind` message recorded at `now` may be sent. A document that
    /// no longer validates (e.g. a time zone since removed) sends at once.
    pub fn release(&self, kind: NotificationKind, now: OffsetDateTime) -> Release {
        let instant = Release { at: now, digest: false };
        let Ok(zone) = schedule::parse_zone(&self.timezone) else { return instant };
        match self.mode(kind) {
            Mode::Digest => match schedule::parse_clock(&self.digest_at) {
                Ok(at) => Release { at: schedule::next_digest(now, &zone, at), digest: true },
                Err(_) => instant,
            },
            _ if kind.mandatory() => instant,
            _ => match &self.quiet_hours {
                Some(quiet) => {
                    match (schedule::parse_clock(&quiet.start), schedule::parse_clock(&quiet.end)) {
                        (Ok(start), Ok(end)) => Release {
                            at: schedule::after_quiet_hours(now, &zone, start, end),
                            digest: false,
                        },
                        _ => instant,
                    }
                }
                None => instant,
            },
        }
    }

    /// How `kind` is delivered; mandatory kinds are always instant.
    pub fn mode(&self, kind: NotificationKind) -> Mode {
        if kind.mandatory() {
            return Mode::Instant;
        }
        self.kinds.get(&kind).copied().unwrap_or(Mode::Instant)
    }

    /// Checks addresses, limits and modes. Webhook ids are checked against
    /// the user's endpoints by the caller (this needs no database).
    pub fn validate(&self) -> Result<(), PreferenceError> {
        if self.channels.len() > MAX_CHANNELS {
            return Err(invalid("channels", format!("at most {MAX_CHANNELS} channels")));
        }
        for (index, entry) in self.channels.iter().enumerate() {
            let field = format!("channels[{index}].address");
            match entry.channel {
                ChannelKind::Email => {
                    entry
                        .address
                        .parse::<Address>()
                        .map_err(|_| invalid(&field, "not a valid email address"))?;
                }
                ChannelKind::Webhook => {
                    entry
                        .address
                        .parse::<Uuid>()
                        .map_err(|_| invalid(&field, "the id of one of your webhook endpoints"))?;
                }
                ChannelKind::Telegram => {
                    if !is_telegram_chat(&entry.address) {
                        return Err(invalid(
                            &field,
                            "a Telegram chat id (`123456789`, `-100…`) or `@channelname`",
                        ));
                    }
                }
                ChannelKind::Sms => {
                    if !crate::channel::sms::is_e164(&entry.address) {
                        return Err(invalid(
                            &field,
                            "a phone number in E.164 form, e.g. `+4915112345678`",
                        ));
                    }
                }
                ChannelKind::Slack => {
                    let https =
                        entry.address.starts_with("https://") && entry.address.len() <= 2048;
                    if !https || url::Url::parse(&entry.address).is_err() {
                        return Err(invalid(
                            &field,
                            "a Slack incoming-webhook URL (`https://hooks.slack.com/…`)",
                        ));
                    }
                }
                ChannelKind::Log => {
                    if entry.address.chars().count() > 200
                        || entry.address.chars().any(char::is_control)
                    {
                        return Err(invalid(&field, "at most 200 printable characters"));
                    }
                }
            }
            if self.channels[..index].contains(entry) {
                return Err(invalid(format!("channels[{index}]"), "listed twice"));
            }
        }
        for (kind, mode) in &self.kinds {
            if kind.mandatory() && *mode != Mode::Instant {
                return Err(invalid(
                    format!("kinds.{}", kind.as_str()),
                    "security notices are always sent at once",
                ));
            }
        }
        schedule::parse_zone(&self.timezone).map_err(|message| invalid("timezone", message))?;
        schedule::parse_clock(&self.digest_at).map_err(|message| invalid("digest_at", message))?;
        if let Some(quiet) = &self.quiet_hours {
            schedule::parse_clock(&quiet.start)
                .map_err(|message| invalid("quiet_hours.start", message))?;
            schedule::parse_clock(&quiet.end)
                .map_err(|message| invalid("quiet_hours.end", message))?;
        }
        let locale_ok = (2..=10).contains(&self.locale.len())
            && self.locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !locale_ok {
            return Err(invalid("locale", "a language tag such as `en` or `de-CH`"));
        }
        Ok(())
    }
}

/// A numeric chat id (groups and channels are negative) or a public
/// channel's `@username` (5–32 letters, digits, underscores).
fn is_telegram_chat(address: &str) -> bool {
    if let Some(name) = address.strip_prefix('@') {
        return (5..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    }
    let digits = address.strip_prefix('-').unwrap_or(address);
    (1..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> Preferences {
        serde_json::from_value(value).expect("parses")
    }

    #[test]
    fn the_default_sends_everything_to_the_account_address() {
        let prefs = Preferences::default_for("ada@example.org", true);
        assert_eq!(prefs.channels[0].channel, ChannelKind::Email);
        assert_eq!(prefs.mode(NotificationKind::RunCompleted), Mode::Instant);
        assert_eq!(prefs.validate(), Ok(()));
        let dev = Preferences::default_for("ada@example.org", false);
        assert_eq!(dev.channels[0].channel, ChannelKind::Log);
    }

    #[test]
    fn quiet_hours_hold_instant_messages_but_not_security_and_digests_wait_for_their_time() {
        use time::macros::datetime;
        let prefs = parse(json!({
            "channels": [{"channel": "log", "address": "x"}],
            "kinds": {"job_match_invitation": "digest"},
            "timezone": "Europe/Berlin",
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "digest_at": "18:00",
        }));
        assert_eq!(prefs.validate(), Ok(()));
        let night = datetime!(2026-12-01 23:00 UTC); // midnight in Berlin
        let held = prefs.release(NotificationKind::RunCompleted, night);
        assert_eq!(held, Release { at: datetime!(2026-12-02 06:00 UTC), digest: false });
        let urgent = prefs.release(NotificationKind::SecurityNotice, night);
        assert_eq!(urgent, Release { at: night, digest: false });
        let digest = prefs.release(NotificationKind::JobMatchInvitation, night);
        assert_eq!(digest, Release { at: datetime!(2026-12-02 17:00 UTC), digest: true });
    }

    #[test]
    fn every_channel_accepts_its_own_kind_of_address() {
        let prefs = parse(json!({"channels": [
            {"channel": "telegram", "address": "-1001234567890"},
            {"channel": "telegram", "address": "@fairgig_news"},
            {"channel": "sms", "address": "+4915112345678"},
            {"channel": "slack", "address": "https://hooks.slack.com/services/T0/B0/XYZ"},
            {"channel": "log", "address": "dev"},
        ]}));
        assert_eq!(prefs.validate(), Ok(()));
    }

    #[test]
    fn modes_apply_per_kind_but_security_cannot_be_silenced() {
        let prefs = parse(json!({
            "channels": [{"channel": "email", "address": "a@example.org"}],
            "kinds": {"job_match_invitation": "off"},
        }));
        assert_eq!(prefs.mode(NotificationKind::JobMatchInvitation), Mode::Off);
        assert_eq!(prefs.mode(NotificationKind::RunFailed), Mode::Instant);
        let silenced = parse(json!({"channels": [], "kinds": {"security_notice": "off"}}));
        assert_eq!(silenced.validate().map_err(|e| e.field), Err("kinds.security_notice".into()));
    }

    #[test]
    fn bad_documents_name_their_field() {
        let cases = [
            (json!({"channels": [{"channel": "email", "address": "nope"}]}), "channels[0].address"),
            (
                json!({"channels": [{"channel": "webhook", "address": "https://x"}]}),
                "channels[0].address",
            ),
            (
                json!({"channels": [
                    {"channel": "log", "address": "a"}, {"channel": "log", "address": "a"}
                ]}),
                "channels[1]",
            ),
            (
                json!({"channels": [], "kinds": {"security_notice": "digest"}}),
                "kinds.security_notice",
            ),
            (json!({"channels": [], "timezone": "Mars/Base"}), "timezone"),
            (json!({"channels": [], "digest_at": "8am"}), "digest_at"),
            (
                json!({"channels": [], "quiet_hours": {"start": "22:00", "end": "25:00"}}),
                "quiet_hours.end",
            ),
            (json!({"channels": [], "locale": "en_US!"}), "locale"),
            (
                json!({"channels": [{"channel": "telegram", "address": "12ab"}]}),
                "channels[0].address",
            ),
            (
                json!({"channels": [{"channel": "sms", "address": "0151 123"}]}),
                "channels[0].address",
            ),
            (
                json!({"channels": [{"channel": "slack", "address": "http://x"}]}),
                "channels[0].address",
            ),
        ];
        for (document, field) in cases {
            assert_eq!(
                parse(document.clone()).validate().map_err(|e| e.field),
                Err(field.into()),
                "{document}"
            );
        }
        for garbage in [
            json!({"channels": [{"channel": "pigeon", "address": "x"}]}),
            json!({"channels": [], "kinds": {"nonsense": "off"}}),
            json!({"channels": "email"}),
            json!({"channels": [], "extra": 1}),
        ] {
            assert!(serde_json::from_value::<Preferences>(garbage.clone()).is_err(), "{garbage}");
        }
    }
}
