//! Email over SMTP (lettre): `smtp://user:pass@host:port` (plain;
//! `?tls=required` for STARTTLS, `?tls=opportunistic` to use it when
//! offered), `smtps://…` (TLS from the first byte). A relay with a
//! certificate from a private CA is trusted by giving that CA's PEM file
//! (`notifications.smtp_ca_file`). Each message has a text and an HTML part, a `Message-ID` derived
//! from the delivery id (so a resend after a crash is recognisably the same
//! message), and `List-Unsubscribe` pointing at the preferences page.

use std::time::Duration;

use fairgig_core::ids::NotificationId;
use lettre::{
    message::{
        header::{Header, HeaderName, HeaderValue},
        Mailbox, MultiPart,
    },
    transport::smtp::{
        client::{Certificate, Tls, TlsParameters},
        Error as SmtpError,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::{template::Rendered, SendError};

/// A misconfigured SMTP URL or sender address (found at start, not per send).
#[derive(Debug, thiserror::Error)]
pub enum EmailConfigError {
    #[error("FAIRGIG_SMTP_URL: {0}")]
    Url(#[source] SmtpError),
    #[error("FAIRGIG_SMTP_FROM is not a valid address: {0}")]
    From(String),
    #[error("notifications.smtp_ca_file: {0}")]
    Ca(String),
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
        Self::build(url, from, None)
    }

    /// Like [`new`](Self::new), trusting also the CA certificates in
    /// `ca_pem` (a relay whose certificate a private CA signed). The URL must
    /// ask for TLS: a CA for a plain connection is a mistake, refused.
    pub fn trusting(url: &str, from: &str, ca_pem: &[u8]) -> Result<Self, EmailConfigError> {
        Self::build(url, from, Some(ca_pem))
    }

    fn build(url: &str, from: &str, ca_pem: Option<&[u8]>) -> Result<Self, EmailConfigError> {
        let from: Mailbox = from.parse().map_err(|_| EmailConfigError::From(from.to_owned()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(EmailConfigError::Url)?
            .timeout(Some(Duration::from_secs(30)));
        if let Some(pem) = ca_pem {
            builder = builder.tls(tls_trusting(url, pem)?);
        }
        let domain = from.email.domain().to_owned();
        Ok(EmailChannel { transport: builder.build(), from, domain })
    }

    /// Sends `message` to `to`; returns the `Message-ID` it was sent with.
    pub async fn send(
        &self,
        delivery: NotificationId,
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

/// The TLS mode `url` asks for (as lettre reads it), with `pem`'s
/// certificates trusted besides the system's.
fn tls_trusting(url: &str, pem: &[u8]) -> Result<Tls, EmailConfigError> {
    let ca = |reason: &str| EmailConfigError::Ca(reason.to_owned());
    let parsed = reqwest::Url::parse(url).map_err(|_| ca("the SMTP URL is not a URL"))?;
    let host = parsed.host_str().ok_or_else(|| ca("the SMTP URL names no host"))?;
    if !String::from_utf8_lossy(pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(ca("holds no PEM certificate"));
    }
    let certificate = Certificate::from_pem(pem).map_err(|err| ca(&err.to_string()))?;
    let parameters = TlsParameters::builder(host.to_owned())
        .add_root_certificate(certificate)
        .build()
        .map_err(|err| ca(&err.to_string()))?;
    let mode = parsed.query_pairs().find(|(key, _)| key == "tls").map(|(_, value)| value);
    match (parsed.scheme(), mode.as_deref()) {
        ("smtps", _) => Ok(Tls::Wrapper(parameters)),
        ("smtp", Some("required")) => Ok(Tls::Required(parameters)),
        ("smtp", Some("opportunistic")) => Ok(Tls::Opportunistic(parameters)),
        _ => Err(ca("given, but the SMTP URL asks for no TLS (use smtps:// or ?tls=required)")),
    }
}

/// SMTP 5xx (unknown mailbox, refused sender) cannot succeed later, nor can
/// a client error (the relay offers no login mechanism the URL's credentials
/// can use, as a STARTTLS-only relay does before the upgrade); 4xx,
/// timeouts, TLS and connection failures may.
fn classify(err: SmtpError) -> SendError {
    let reason = format!("SMTP: {err}");
    if err.is_permanent() || err.is_client() {
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
        let pem = b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
        for (url, ca) in [
            ("smtp://127.0.0.1:2525", &pem[..]),
            ("smtps://127.0.0.1:465", b"no certificate here"),
            ("smtps://127.0.0.1:465", &pem[..]),
        ] {
            let built = EmailChannel::trusting(url, "fairgig@example.org", ca);
            assert!(matches!(built, Err(EmailConfigError::Ca(_))), "{url}");
        }
    }

    #[tokio::test]
    async fn an_invalid_recipient_fails_permanently_without_connecting() {
        // Nothing listens on port 9: a connection attempt would be transient.
        let channel = EmailChannel::new("smtp://127.0.0.1:9", "fairgig@example.org").expect("ok");
        let message = Rendered { subject: "s".into(), text: "t".into(), html: "<p>h</p>".into() };
        for bad in ["no-at-sign", "a@b@c", "x@example.org\r\nBcc: y@example.org", ""] {
            let err = channel.send(NotificationId::new(), bad, &message, None).await;
            assert!(matches!(err, Err(SendError::Permanent(_))), "{bad:?}: {err:?}");
        }
        let unreachable =
            channel.send(NotificationId::new(), "ok@example.org", &message, None).await;
        assert!(matches!(unreachable, Err(SendError::Transient { .. })), "{unreachable:?}");
    }
}
