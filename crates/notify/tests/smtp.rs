//! Email against a real SMTP server (aiosmtpd from PyPI, started by
//! `.ci/run`): `FAIRGIG_TEST_SMTP_URL` is the server, and
//! `FAIRGIG_TEST_SMTP_MAILDIR` the maildir its Mailbox handler writes to.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use fairgig_notify::{channel::email::EmailChannel, template::Rendered};
use uuid::Uuid;

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
    let delivery = Uuid::now_v7();
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
    let delivery = Uuid::now_v7();
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
