//! Slack incoming webhooks: the user's webhook URL gets `{"text": …}`.
//! The URL is the user's, so it goes through the same address guard as
//! signed webhooks (the [`WebhookChannel`]'s client).

use serde_json::json;

use super::webhook::WebhookChannel;
use crate::SendError;

/// Slack's documented limit for a message's `text`.
pub const MAX_TEXT_CHARS: usize = 40_000;

/// Posts `text` to the incoming-webhook `url`.
pub async fn send(client: &WebhookChannel, url: &str, text: &str) -> Result<String, SendError> {
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let body = json!({"text": text}).to_string().into_bytes();
    let answer = client.post_unsigned(url, body).await.map_err(|err| match err {
        // Slack names its errors in the body (`channel_not_found`, `no_service`…).
        SendError::Permanent(reason) => SendError::Permanent(format!("Slack: {reason}")),
        SendError::Transient { reason, retry_after } => {
            SendError::Transient { reason: format!("Slack: {reason}"), retry_after }
        }
    })?;
    Ok(format!("slack:{answer}"))
}
