//! The development channel: the rendered message goes to the log, so a
//! fresh install shows what would be sent without any provider configured.

use fairgig_core::ids::NotificationId;

use crate::template::Rendered;

/// Writes the message to the log at `info` and reports it as sent.
pub fn send(delivery: NotificationId, address: &str, kind: &str, message: &Rendered) -> String {
    tracing::info!(
        target: "fairgig::notification",
        delivery = %delivery,
        to = address,
        kind,
        subject = %message.subject,
        text = %message.text,
        "notification (log channel)"
    );
    format!("log:{delivery}")
}
