//! Email over SMTP (lettre): `smtp://user:pass@host:port` (plain;
//! `?tls=required` for STARTTLS, `?tls=opportunistic` to use it when
//! offered), `smtps://…` (TLS from the first byte). Each message has a text and an HTML part, a `Message-ID` derived
//! from the delivery id (so a resend after a crash is recognisably the same
//! message), and `List-Unsubscribe` pointing at the preferences page.

use std::time::Duration;

use lettre::{
    message::{
        header::{Header, HeaderName, HeaderValue},
        Mailbox, MultiPart,
    },
    transport::smtp::Error as SmtpError,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use uuid::Uuid;

use crate::{template::Rendered, SendError};

/// A misconfigured SMTP URL or sender address (found at start, not per send).
#[derive(Debug, thiserror::Error)]
pub enum EmailConfigError {
    #[error("FAIRGIG_SMTP_URL: {0}")]
    Url(#[source] SmtpError),
    #[error("FAIRGIG_SMTP_FROM is not a valid address: {0}")]
    From(String),
}

/// Sends email through one SMTP relay (pooled connections).
#[derive(Clone)]
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain `Message-ID`s are made in (the sender's).
    domain: String,
}

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: never print it.
        f.debug_struct("EmailChannel").field("from", &self.from.to_string()).finish()
    }
}

impl EmailChannel {
    pub fn new(url: &str, from: &str) -> Result<Self, EmailConfigError> {
        let from: Mailbox = from.parse().map_err(|_| EmailConfigError::From(from.to_owned()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(EmailConfigError::Url)?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let domain = from.email.domain().to_owned();
        Ok(EmailChannel { transport, from, domain })
    }

    /// Sends `message` to `to`; returns the `Message-ID` it was sent with.
    pub async fn send(
        &self,
        delivery: Uuid,
        to: &str,
        message: &Rendered,
        unsubscribe_url: Option<&str>,
    ) -> Result<String, SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|err| SendError::Permanent(format!("invalid email address: {err}")))?;
        let message_id = format!("<{delivery}@{}>", self.domain);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .message_id(Some(message_id.clone()));
        if let Some(url) = unsubscribe_url {
            builder = builder.header(ListUnsubscribe(format!("<{url}>")));
        }
        let email = builder
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|err| SendError::Permanent(format!("cannot build the message: {err}")))?;
        self.transport.send(email).await.map_err(classify)?;
        Ok(message_id)
    }
}

/// SMTP 5xx (unknown mailbox, refused sender) cannot succeed later; 4xx,
/// timeouts and connection failures may.
fn classify(err: SmtpError) -> SendError {
    let reason = format!("SMTP: {err}");
    if err.is_permanent() {
        SendError::Permanent(reason)
    } else {
        SendError::transient(reason)
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369), so mail clients offer a one-click way out.
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(text.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_or_sender_is_a_startup_error() {
        assert!(matches!(
            EmailChannel::new("ftp://example.org", "fairgig@example.org"),
            Err(EmailConfigError::Url(_))
        ));
        assert!(matches!(
            EmailChannel::new("smtp://127.0.0.1:2525", "not an address"),
            Err(EmailConfigError::From(_))
        ));
    }

    #[tokio::test]
    async fn an_invalid_recipient_fails_permanently_without_connecting() {
        // Nothing listens on port 9: a connection attempt would be transient.
        let channel = EmailChannel::new("smtp://127.0.0.1:9", "fairgig@example.org").expect("ok");
        let message = Rendered { subject: "s".into(), text: "t".into(), html: "<p>h</p>".into() };
        for bad in ["no-at-sign", "a@b@c", "x@example.org\r\nBcc: y@example.org", ""] {
            let err = channel.send(Uuid::now_v7(), bad, &message, None).await;
            assert!(matches!(err, Err(SendError::Permanent(_))), "{bad:?}: {err:?}");
        }
        let unreachable = channel.send(Uuid::now_v7(), "ok@example.org", &message, None).await;
        assert!(matches!(unreachable, Err(SendError::Transient { .. })), "{unreachable:?}");
    }
}
