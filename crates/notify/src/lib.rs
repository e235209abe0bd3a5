//! Notifications: results reach people.
//!
//! - [`kind`]: what a notification is about and the channels it travels by.
//! - [`template`]: subject, text and HTML per kind and locale (minijinja, escaped).
//! - [`channel`]: the senders: SMTP email, Standard Webhooks, the development log.
//! - [`guard`]: which network addresses a webhook may reach (checked at connect time).
//! - [`preferences`]: a user's ordered channels and per-kind choices.
//! - [`schedule`]: quiet hours and the daily digest in the user's time zone.
//! - [`dispatch`]: the durable delivery loop: claim, send, retry, fall back, dead-letter.
//! - [`error`]: why a send failed, and whether trying again may help.

pub mod channel;
pub mod dispatch;
pub mod error;
pub mod guard;
pub mod kind;
pub mod preferences;
pub mod schedule;
pub mod template;

pub use error::SendError;
pub use kind::{ChannelKind, NotificationKind};
