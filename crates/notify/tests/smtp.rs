//! Email against a real SMTP server (aiosmtpd from PyPI, started by
//! `.ci/run`): `FAIRGIG_TEST_SMTP_URL` is the server, and
//! `FAIRGIG_TEST_SMTP_MAILDIR` the maildir its Mailbox handler writes to.
//!
//! TLS and login against `tools/smtp_tls_server.py` (also aiosmtpd, started
//! by `.ci/run` with a certificate from a throwaway CA):
//! `FAIRGIG_TEST_SMTP_STARTTLS_URL` (STARTTLS then AUTH required),
//! `FAIRGIG_TEST_SMTPS_URL` (TLS from the first byte, AUTH required), both
//! with the right credentials in the URL, `FAIRGIG_TEST_SMTP_CA` (the CA's
//! PEM file) and `FAIRGIG_TEST_SMTP_TLS_MAILDIR`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use fairgig_core::ids::NotificationId;
use fairgig_notify::{channel::email::EmailChannel, template::Rendered, SendError};

fn server() -> Option<(String, PathBuf)> {
    match (std::env::var("FAIRGIG_TEST_SMTP_URL"), std::env::var("FAIRGIG_TEST_SMTP_MAILDIR")) {
        (Ok(url), Ok(dir)) => Some((url, PathBuf::from(dir))),
        _ => {
            println!("SKIP: FAIRGIG_TEST_SMTP_URL / FAIRGIG_TEST_SMTP_MAILDIR not set");
            None
        }
    }
}

/// The stored message containing `needle`, waiting up to 5 s for it.
async fn received(maildir: &Path, needle: &str) -> String {
    for _ in 0..50 {
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(maildir.join(folder)) else { continue };
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if text.contains(needle) {
                    return text;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no message containing {needle} arrived");
}

#[tokio::test]
async fn a_message_arrives_with_both_parts_and_its_headers() {
    let Some((url, maildir)) = server() else { return };
    let channel = EmailChannel::new(&url, "fairgig <notify@fairgig.example>").expect("channel");
    let delivery = NotificationId::new();
    let message = Rendered {
        subject: "Ihr Auftrag ist fertig: Übersetzung".into(),
        text: format!("Plain part {delivery}"),
        html: "<p>HTML <strong>part</strong></p>".into(),
    };
    let unsubscribe = "https://fairgig.example/me/notification-preferences";
    let message_id = channel
        .send(delivery, "Ada <ada@example.org>", &message, Some(unsubscribe))
        .await
        .expect("sent");
    assert_eq!(message_id, format!("<{delivery}@fairgig.example>"));

    let stored = received(&maildir, &delivery.to_string()).await;
    let headers = stored.split("\n\n").next().unwrap_or(&stored).replace("\r\n", "\n");
    assert!(headers.contains("From: fairgig <notify@fairgig.example>"), "{headers}");
    assert!(headers.contains("To: Ada <ada@example.org>"), "{headers}");
    assert!(headers.contains(&format!("Message-ID: {message_id}")), "{headers}");
    assert!(headers.contains(&format!("List-Unsubscribe: <{unsubscribe}>")), "{headers}");
    // Non-ASCII subjects are encoded words (RFC 2047), not raw bytes.
    assert!(headers.contains("Subject: Ihr Auftrag ist fertig: =?utf-8?"), "{headers}");
    assert!(stored.contains("multipart/alternative"), "{stored}");
    assert!(stored.contains("text/plain") && stored.contains("text/html"), "{stored}");
}

#[tokio::test]
async fn header_injection_in_a_subject_adds_no_header() {
    let Some((url, maildir)) = server() else { return };
    let channel = EmailChannel::new(&url, "notify@fairgig.example").expect("channel");
    let delivery = NotificationId::new();
    let message = Rendered {
        subject: "Hello\r\nBcc: victim@example.org".into(),
        text: format!("body {delivery}"),
        html: "<p>x</p>".into(),
    };
    channel.send(delivery, "ada@example.org", &message, None).await.expect("sent");
    let stored = received(&maildir, &delivery.to_string()).await;
    let headers = stored.split("\n\n").next().unwrap_or(&stored);
    assert!(
        !headers.lines().any(|line| line.to_ascii_lowercase().starts_with("bcc:")),
        "{headers}"
    );
}

/// The TLS servers: (STARTTLS URL, SMTPS URL, CA PEM, maildir).
fn tls_servers() -> Option<(String, String, Vec<u8>, PathBuf)> {
    let var = |name| std::env::var(name).ok();
    match (
        var("FAIRGIG_TEST_SMTP_STARTTLS_URL"),
        var("FAIRGIG_TEST_SMTPS_URL"),
        var("FAIRGIG_TEST_SMTP_CA"),
        var("FAIRGIG_TEST_SMTP_TLS_MAILDIR"),
    ) {
        (Some(starttls), Some(smtps), Some(ca), Some(dir)) => {
            let pem = std::fs::read(&ca).expect("the CA file FAIRGIG_TEST_SMTP_CA names");
            Some((starttls, smtps, pem, PathBuf::from(dir)))
        }
        _ => {
            println!(
                "SKIP: FAIRGIG_TEST_SMTP_STARTTLS_URL / FAIRGIG_TEST_SMTPS_URL / \
                 FAIRGIG_TEST_SMTP_CA / FAIRGIG_TEST_SMTP_TLS_MAILDIR not set"
            );
            None
        }
    }
}

fn note(delivery: NotificationId) -> Rendered {
    Rendered {
        subject: "Your result".into(),
        text: format!("Sent over TLS {delivery}"),
        html: "<p>TLS</p>".into(),
    }
}

#[tokio::test]
async fn starttls_and_smtps_deliver_after_logging_in_with_a_private_ca() {
    let Some((starttls, smtps, ca, maildir)) = tls_servers() else { return };
    for url in [&starttls, &smtps] {
        let channel = EmailChannel::trusting(url, "notify@fairgig.example", &ca).expect("channel");
        let delivery = NotificationId::new();
        channel.send(delivery, "ada@example.org", &note(delivery), None).await.expect(url);
        let stored = received(&maildir, &delivery.to_string()).await;
        assert!(stored.contains("Subject: Your result"), "{stored}");
    }
}

#[tokio::test]
async fn tls_failures_are_reported_not_sent_in_the_clear() {
    let Some((starttls, smtps, ca, _)) = tls_servers() else { return };
    let delivery = NotificationId::new();
    let send = |channel: EmailChannel| async move {
        channel.send(delivery, "ada@example.org", &note(delivery), None).await
    };

    // A certificate no trusted CA signed: the handshake fails, nothing is sent.
    let untrusted = EmailChannel::new(&smtps, "notify@fairgig.example").expect("channel");
    let err = send(untrusted).await.expect_err("untrusted certificate");
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");

    // Without STARTTLS the server offers no login and refuses mail (530):
    // both permanent failures, so the next channel takes over at once.
    let plain = starttls.replace("?tls=required", "");
    let anonymous = plain.replacen("mailer:s3cret@", "", 1);
    for url in [plain, anonymous] {
        let channel = EmailChannel::new(&url, "notify@fairgig.example").expect("channel");
        let err = send(channel).await.expect_err("plain connection");
        assert!(matches!(err, SendError::Permanent(_)), "{url}: {err:?}");
    }

    // A wrong password is permanent too: retrying cannot fix it.
    let wrong = starttls.replacen(":s3cret@", ":wrong@", 1);
    assert_ne!(wrong, starttls, "the test URL carries the password s3cret");
    let channel = EmailChannel::trusting(&wrong, "notify@fairgig.example", &ca).expect("channel");
    let err = send(channel).await.expect_err("bad login");
    assert!(matches!(err, SendError::Permanent(_)), "{err:?}");
}
