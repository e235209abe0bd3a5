//! SMS through a Twilio-compatible API: `POST
//! {base}/2010-04-01/Accounts/{sid}/Messages.json` with basic auth and a
//! form body (`To`, `From`, `Body`). Numbers are E.164; bodies are cut at
//! Twilio's 1,600 characters.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::http::{classify_error, excerpt, failure, retry_after};
use crate::SendError;

/// Twilio's limit for one message body (it splits into segments itself).
pub const MAX_BODY_CHARS: usize = 1600;

#[derive(Clone)]
pub struct SmsChannel {
    client: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

impl std::fmt::Debug for SmsChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsChannel")
            .field("base_url", &self.base_url)
            .field("from", &self.from)
            .finish()
    }
}

/// `+` and 7 to 15 digits, not starting with 0.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else { return false };
    (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

impl SmsChannel {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: SecretString,
        from: &str,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(SmsChannel {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
            from: from.to_owned(),
        })
    }

    /// Sends `text` to `to`; returns the provider's message SID.
    pub async fn send(&self, to: &str, text: &str) -> Result<String, SendError> {
        if !is_e164(to) {
            return Err(SendError::Permanent(format!("`{to}` is not an E.164 phone number")));
        }
        let body: String = text.chars().take(MAX_BODY_CHARS).collect();
        let url =
            format!("{}/2010-04-01/Accounts/{}/Messages.json", self.base_url, self.account_sid);
        let response = self
            .client
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&[("To", to), ("From", self.from.as_str()), ("Body", body.as_str())])
            .send()
            .await
            .map_err(classify_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return answer["sid"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| SendError::transient("the SMS provider answered without a sid"));
        }
        let message = answer["message"]
            .as_str()
            .map_or_else(|| format!("answered {status}"), |m| excerpt(m, 200));
        let reason = match answer["code"].as_i64() {
            Some(code) => format!("SMS provider error {code}: {message}"),
            None => format!("SMS provider: {message}"),
        };
        Err(failure(status, reason, retry_after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_recognised() {
        for good in ["+4915112345678", "+15005550006", "+4930123"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in
            ["015112345678", "+0151123456", "+49 151 1234", "+1234", "+1234567890123456", "+", ""]
        {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
