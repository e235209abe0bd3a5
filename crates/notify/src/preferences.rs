//! A user's notification preferences: an ordered list of channels (the
//! first that applies is used, the next ones are fallbacks), a mode per
//! notification kind, and a locale.
//!
//! Not built yet (refused with a clear message rather than ignored): the
//! `digest` mode and quiet hours.

use std::collections::BTreeMap;

use lettre::Address;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kind::{ChannelKind, NotificationKind};

/// Most channels a user may list.
pub const MAX_CHANNELS: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Tried in order: the first applicable one gets the message, the rest
    /// are fallbacks when it fails for good.
    pub channels: Vec<ChannelAddress>,
    /// Per kind; a kind not listed is `instant`.
    #[serde(default)]
    pub kinds: BTreeMap<NotificationKind, Mode>,
    #[serde(default = "default_locale")]
    pub locale: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelAddress {
    pub channel: ChannelKind,
    /// An email address, a webhook endpoint id, or any label for `log`.
    pub address: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Instant,
    /// Collected into a daily digest: not built yet, refused by `validate`.
    Digest,
    Off,
}

fn default_locale() -> String {
    crate::template::DEFAULT_LOCALE.to_owned()
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
            if *mode == Mode::Digest {
                return Err(invalid(
                    format!("kinds.{}", kind.as_str()),
                    "digest delivery is not available yet; use instant or off",
                ));
            }
            if kind.mandatory() && *mode == Mode::Off {
                return Err(invalid(
                    format!("kinds.{}", kind.as_str()),
                    "security notices cannot be switched off",
                ));
            }
        }
        let locale_ok = (2..=10).contains(&self.locale.len())
            && self.locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !locale_ok {
            return Err(invalid("locale", "a language tag such as `en` or `de-CH`"));
        }
        Ok(())
    }
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
            (json!({"channels": [], "kinds": {"run_failed": "digest"}}), "kinds.run_failed"),
            (json!({"channels": [], "locale": "en_US!"}), "locale"),
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
