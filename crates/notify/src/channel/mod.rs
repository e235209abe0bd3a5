//! The senders (email, signed webhooks, Telegram, SMS, Slack, the log). Each turns a rendered message and an address into either a
//! provider message id or a classified [`SendError`](crate::SendError).

pub mod email;
pub mod http;
pub mod log;
pub mod slack;
pub mod sms;
pub mod telegram;
pub mod webhook;
