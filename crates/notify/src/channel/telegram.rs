//! Telegram Bot API `sendMessage` (base URL configurable, so tests and
//! self-hosted Bot API servers work). Messages longer than Telegram's 4,096
//! characters are split, preferably at a line break or a space.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::http::{classify_error, excerpt, failure};
use crate::SendError;

/// Telegram's limit per message, in UTF-16 code units.
pub const MAX_MESSAGE_UNITS: usize = 4096;

#[derive(Clone)]
pub struct TelegramChannel {
    client: reqwest::Client,
    base_url: String,
    token: SecretString,
}

impl std::fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramChannel").field("base_url", &self.base_url).finish()
    }
}

impl TelegramChannel {
    pub fn new(
        base_url: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(TelegramChannel { client, base_url: base_url.trim_end_matches('/').to_owned(), token })
    }

    /// Sends `text` to `chat_id` in as many messages as it takes; returns
    /// `telegram:<message ids>`.
    pub async fn send(&self, chat_id: &str, text: &str) -> Result<String, SendError> {
        self.send_resuming(chat_id, text, None, |_| async {}).await
    }

    /// Sends the parts of `text` that an earlier attempt did not deliver.
    /// `delivered` is what an earlier attempt checkpointed (`telegram:<ids>`,
    /// one id per part already sent, in order); `checkpoint` is awaited with
    /// the new value after every part but the last. A message split in three
    /// that hits flood control on its second part therefore resumes at the
    /// second part, on the retry or in another sender after a crash, instead
    /// of repeating the first to the chat.
    pub async fn send_resuming<F, Fut>(
        &self,
        chat_id: &str,
        text: &str,
        delivered: Option<&str>,
        mut checkpoint: F,
    ) -> Result<String, SendError>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let url = format!("{}/bot{}/sendMessage", self.base_url, self.token.expose_secret());
        let parts = split_message(text, MAX_MESSAGE_UNITS);
        let mut ids = delivered_ids(delivered);
        ids.truncate(parts.len());
        for (index, part) in parts.iter().enumerate().skip(ids.len()) {
            ids.push(self.send_part(&url, chat_id, part).await?);
            if index + 1 < parts.len() {
                checkpoint(provider_id(&ids)).await;
            }
        }
        Ok(provider_id(&ids))
    }

    async fn send_part(&self, url: &str, chat_id: &str, part: &str) -> Result<String, SendError> {
        let response = self
            .client
            .post(url)
            .json(&json!({"chat_id": chat_id, "text": part, "disable_web_page_preview": true}))
            .send()
            .await
            .map_err(classify_error)?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if body["ok"] == true {
            return Ok(body["result"]["message_id"].to_string());
        }
        let description = body["description"]
            .as_str()
            .map_or_else(|| format!("answered {status}"), |text| excerpt(text, 200));
        let reason = format!("Telegram: {description}");
        let retry_after = body["parameters"]["retry_after"].as_u64().map(Duration::from_secs);
        Err(failure(status, reason, retry_after))
    }
}

fn provider_id(ids: &[String]) -> String {
    format!("telegram:{}", ids.join(","))
}

/// The message ids in a checkpoint; anything else (no checkpoint, another
/// channel's id) means nothing was delivered yet.
fn delivered_ids(checkpoint: Option<&str>) -> Vec<String> {
    checkpoint
        .and_then(|value| value.strip_prefix("telegram:"))
        .map(|ids| ids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Splits `text` into parts of at most `limit` UTF-16 units, cutting at the
/// last line break (or else space) in the second half of a part, else anywhere
/// between characters.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut units = 0;
        let mut end = rest.len();
        for (index, c) in rest.char_indices() {
            if units + c.len_utf16() > limit {
                end = index;
                break;
            }
            units += c.len_utf16();
        }
        if end < rest.len() {
            let window = &rest[..end];
            let half = window.len() / 2;
            let cut = window
                .rfind('\n')
                .filter(|at| *at >= half)
                .or_else(|| window.rfind(' ').filter(|at| *at >= half));
            if let Some(at) = cut {
                end = at + 1;
            }
        }
        let (part, tail) = rest.split_at(end);
        parts.push(part.trim_end().to_owned());
        rest = tail;
    }
    parts.retain(|part| !part.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_read_back_as_the_ids_sent() {
        assert_eq!(delivered_ids(Some("telegram:4,5")), ["4", "5"]);
        assert_eq!(provider_id(&delivered_ids(Some("telegram:4,5"))), "telegram:4,5");
        assert!(delivered_ids(Some("telegram:")).is_empty());
        assert!(delivered_ids(Some("<msg@host>")).is_empty());
        assert!(delivered_ids(None).is_empty());
    }

    #[test]
    fn short_messages_stay_whole_and_long_ones_split_at_lines() {
        assert_eq!(split_message("hello", 4096), ["hello"]);
        assert!(split_message("", 4096).is_empty());
        let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        let parts = split_message(&text, 4096);
        assert_eq!(parts, ["a".repeat(3000), "b".repeat(3000)]);
    }

    #[test]
    fn limits_count_utf16_units_and_never_split_a_character() {
        let emoji = "😀".repeat(3000); // two UTF-16 units each
        let parts = split_message(&emoji, 4096);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.encode_utf16().count() <= 4096));
        assert_eq!(parts.concat(), emoji);
        let words = "word ".repeat(2000);
        let parts = split_message(&words, 4096);
        assert!(parts.iter().all(|p| p.encode_utf16().count() <= 4096 && !p.ends_with("wor")));
    }
}
