//! Message templates: one subject, plain-text and HTML template per
//! notification kind and locale, compiled into the binary, rendered with
//! minijinja. HTML templates escape every value; subjects are flattened to
//! one line so no value can inject a header; bodies are capped.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Value};

use crate::kind::{ChannelKind, NotificationKind};

/// The locale every template exists in; others fall back to it part by part.
pub const DEFAULT_LOCALE: &str = "en";
/// Longest subject kept (characters); longer ones are cut with an ellipsis.
const MAX_SUBJECT_CHARS: usize = 200;
/// Largest rendered body; a bigger one is refused, not sent truncated.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every template file, by name `kind.part.locale`.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

const SOURCES: &[(&str, &str)] = templates![
    "submission_received.subject.en",
    "submission_received.text.en",
    "submission_received.html.en",
    "submission_received.subject.de",
    "submission_received.text.de",
    "run_completed.subject.en",
    "run_completed.text.en",
    "run_completed.html.en",
    "run_completed.subject.de",
    "run_completed.text.de",
    "run_failed.subject.en",
    "run_failed.text.en",
    "run_failed.html.en",
    "job_match_invitation.subject.en",
    "job_match_invitation.text.en",
    "job_match_invitation.html.en",
    "application_received.subject.en",
    "application_received.text.en",
    "application_received.html.en",
    "hired.subject.en",
    "hired.text.en",
    "hired.html.en",
    "review_received.subject.en",
    "review_received.text.en",
    "review_received.html.en",
    "security_notice.subject.en",
    "security_notice.text.en",
    "security_notice.html.en",
    "password_reset.subject.en",
    "password_reset.text.en",
    "password_reset.html.en",
    "password_reset.subject.de",
    "password_reset.text.de",
    "email_verification.subject.en",
    "email_verification.text.en",
    "email_verification.html.en",
    "email_verification.subject.de",
    "email_verification.text.de",
    "run_completed.chat.en",
    "run_failed.chat.en",
    "job_match_invitation.chat.en",
    "security_notice.chat.en",
    "run_failed.sms.en",
    "digest.subject.en",
    "digest.text.en",
    "digest.html.en",
];

/// The template set of the daily digest (not a kind: it bundles kinds).
const DIGEST: &str = "digest";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no `{0}` template")]
    Missing(String),
    #[error("template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("the rendered {part} is {bytes} bytes, over the {MAX_BODY_BYTES}-byte limit")]
    TooLarge { part: &'static str, bytes: usize },
}

/// A message ready for a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// One line, at most 200 characters.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|name| {
            if name.contains(".html.") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, source) in SOURCES {
            env.add_template(name, source)
                .map_err(|source| RenderError::Template { name: (*name).to_owned(), source })?;
        }
        Ok(Templates { env })
    }

    /// Renders `kind` in `locale`, falling back to English per part.
    pub fn render(
        &self,
        kind: NotificationKind,
        locale: &str,
        context: &Value,
    ) -> Result<Rendered, RenderError> {
        self.render_set(kind.as_str(), locale, context)
    }

    /// Renders `kind` for `channel`: chat-like channels (Telegram, SMS,
    /// Slack) get, as their text, the kind's template for that channel
    /// (`run_failed.sms.en`) where one exists, else its short `chat`
    /// template, else the subject and the text together.
    pub fn render_for(
        &self,
        kind: NotificationKind,
        channel: ChannelKind,
        locale: &str,
        context: &Value,
    ) -> Result<Rendered, RenderError> {
        let mut rendered = self.render(kind, locale, context)?;
        if matches!(channel, ChannelKind::Telegram | ChannelKind::Sms | ChannelKind::Slack) {
            let short = [channel.as_str(), "chat"]
                .into_iter()
                .map(|part| self.render_part(kind.as_str(), part, locale, context))
                .find(|result| !matches!(result, Err(RenderError::Missing(_))));
            rendered.text = match short {
                Some(text) => text?.trim().to_owned(),
                None => format!("{}\n\n{}", rendered.subject, rendered.text),
            };
        }
        Ok(rendered)
    }

    /// The daily digest; `context.items` is `[{subject, text}]`.
    pub fn render_digest(&self, locale: &str, context: &Value) -> Result<Rendered, RenderError> {
        self.render_set(DIGEST, locale, context)
    }

    fn render_set(
        &self,
        set: &str,
        locale: &str,
        context: &Value,
    ) -> Result<Rendered, RenderError> {
        let subject = self.render_part(set, "subject", locale, context)?;
        let text = self.render_part(set, "text", locale, context)?;
        let html = self.render_part(set, "html", locale, context)?;
        for (part, body) in [("text", &text), ("html", &html)] {
            if body.len() > MAX_BODY_BYTES {
                return Err(RenderError::TooLarge { part, bytes: body.len() });
            }
        }
        Ok(Rendered { subject: one_line(&subject), text, html })
    }

    /// The locales a kind has its own templates in (English always).
    pub fn locales(&self, kind: NotificationKind) -> Vec<&'static str> {
        let prefix = format!("{}.subject.", kind.as_str());
        SOURCES.iter().filter_map(|(name, _)| name.strip_prefix(prefix.as_str())).collect()
    }

    fn render_part(
        &self,
        set: &str,
        part: &str,
        locale: &str,
        context: &Value,
    ) -> Result<String, RenderError> {
        let wanted = format!("{set}.{part}.{}", locale.to_ascii_lowercase());
        let fallback = format!("{set}.{part}.{DEFAULT_LOCALE}");
        let template = self
            .env
            .get_template(&wanted)
            .or_else(|_| self.env.get_template(&fallback))
            .map_err(|_| RenderError::Missing(fallback.clone()))?;
        template
            .render(minijinja::value::Serde(context))
            .map_err(|source| RenderError::Template { name: template.name().to_owned(), source })
    }
}

/// Control characters and line breaks become spaces, runs of whitespace one
/// space: a subject is a single header line whatever the values held.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat: String = flat.chars().filter(|c| !c.is_control()).collect();
    if flat.chars().count() <= MAX_SUBJECT_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_SUBJECT_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Made-up but typical values for a kind, for template previews.
pub fn sample_context(kind: NotificationKind) -> Value {
    let base = json!({
        "recipient": {"name": "Ada Lovelace", "id": "0190f1c2-0000-7000-8000-000000000003"},
        "public_url": "https://fairgig.example",
        "submission": {"id": "0190f1c2-0000-7000-8000-000000000001", "kind": "job", "title": "Landing page for a bakery"},
        "job": {"id": "0190f1c2-0000-7000-8000-000000000002", "title": "Landing page for a bakery", "status": "open"},
    });
    let extra = match kind {
        NotificationKind::RunCompleted => json!({
            "matches": 7,
            "prototype": "/prototypes/4f1c0000000000000000000000000000000000000000000000000000000000aa",
            "brief": {"deliverables": 2, "questions": ["By when do you need it?"]},
            "offer": {"currency": "EUR", "tiers": [
                {"name": "essential", "low": "1152.00", "high": "1800.00"},
                {"name": "standard", "low": "1920.00", "high": "3000.00"},
                {"name": "complete", "low": "3072.00", "high": "4800.00"},
            ]},
        }),
        NotificationKind::RunFailed => {
            json!({"failed_step": "extract", "error": "the PDF is password-protected"})
        }
        NotificationKind::JobMatchInvitation => json!({
            "rank": 2,
            "strengths": ["covers 4 of 5 required skills", "rate within budget"],
        }),
        NotificationKind::ApplicationReceived => json!({"applicant": "Grace Hopper"}),
        NotificationKind::ReviewReceived => json!({"rating": 5}),
        NotificationKind::SecurityNotice => json!({
            "event": "new sign-in",
            "description": "Somebody signed in to your account from a new device.",
        }),
        NotificationKind::PasswordReset | NotificationKind::EmailVerification => json!({
            "link": "https://fairgig.example/password/reset?token=fgl_sample",
            "valid_hours": 1,
        }),
        _ => json!({}),
    };
    let mut context = base;
    if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::new().expect("the shipped templates compile")
    }

    #[test]
    fn every_kind_renders_in_english_with_its_sample() {
        let templates = templates();
        for kind in NotificationKind::ALL {
            let rendered = templates.render(kind, "en", &sample_context(kind)).expect("renders");
            assert!(!rendered.subject.is_empty(), "{kind:?}");
            assert!(rendered.text.contains("Ada Lovelace"), "{kind:?}: {}", rendered.text);
            assert!(rendered.html.contains("<p>"), "{kind:?}");
        }
    }

    #[test]
    fn a_locale_falls_back_to_english_part_by_part() {
        let templates = templates();
        let context = sample_context(NotificationKind::RunCompleted);
        let english = templates.render(NotificationKind::RunCompleted, "en", &context).expect("en");
        assert!(english.text.contains("standard 1920.00–3000.00 EUR"), "{}", english.text);
        assert!(english.text.contains("By when do you need it?"), "{}", english.text);
        assert!(
            english.text.contains("https://fairgig.example/prototypes/4f1c"),
            "{}",
            english.text
        );
        assert!(english.html.contains("complete 3072.00–4800.00 EUR"), "{}", english.html);
        let german = templates.render(NotificationKind::RunCompleted, "de", &context).expect("de");
        assert!(german.text.contains("Angebot"), "{}", german.text);
        assert!(german.subject.ends_with("ist fertig"), "{}", german.subject);
        // No German HTML template: the English one stands in.
        assert!(german.html.contains("has been processed"));
        let unknown = templates.render(NotificationKind::RunFailed, "xx", &context).expect("xx");
        assert!(unknown.subject.starts_with("We could not finish"));
        assert_eq!(templates.locales(NotificationKind::RunCompleted), vec!["en", "de"]);
    }

    #[test]
    fn html_escapes_values_and_subjects_stay_one_line() {
        let templates = templates();
        let mut context = sample_context(NotificationKind::SubmissionReceived);
        context["submission"]["title"] =
            json!("<script>alert(1)</script>\r\nBcc: victim@example.org");
        let rendered = templates
            .render(NotificationKind::SubmissionReceived, "en", &context)
            .expect("renders");
        let html = rendered.html;
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!rendered.subject.contains('\n') && !rendered.subject.contains('\r'));
        assert!(rendered.subject.contains("Bcc: victim@example.org"), "kept, but on one line");
    }

    #[test]
    fn oversize_output_is_refused_and_long_subjects_are_cut() {
        let templates = templates();
        let mut context = sample_context(NotificationKind::RunFailed);
        context["error"] = json!("x".repeat(MAX_BODY_BYTES + 1));
        let err = templates.render(NotificationKind::RunFailed, "en", &context);
        assert!(matches!(err, Err(RenderError::TooLarge { part: "text", .. })), "{err:?}");
        context["error"] = json!("short");
        context["submission"]["title"] = json!("t".repeat(1000));
        let rendered = templates.render(NotificationKind::RunFailed, "en", &context).expect("ok");
        assert_eq!(rendered.subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(rendered.subject.ends_with('…'));
    }

    #[test]
    fn chat_channels_get_the_short_template_or_subject_and_text() {
        let templates = templates();
        let context = sample_context(NotificationKind::RunCompleted);
        let sms = templates
            .render_for(NotificationKind::RunCompleted, ChannelKind::Sms, "de", &context)
            .expect("renders");
        assert_eq!(
            sms.text,
            "\"Landing page for a bakery\" is ready: https://fairgig.example/api/v1/submissions/0190f1c2-0000-7000-8000-000000000001"
        );
        let email = templates
            .render_for(NotificationKind::RunCompleted, ChannelKind::Email, "en", &context)
            .expect("renders");
        assert!(email.text.starts_with("Hello Ada Lovelace"));
        // SMS has its own, shorter template for failures; Telegram the chat one.
        let mut failed = sample_context(NotificationKind::RunFailed);
        failed["submission"]["title"] = json!("t".repeat(100));
        let sms = templates
            .render_for(NotificationKind::RunFailed, ChannelKind::Sms, "en", &failed)
            .expect("renders");
        assert!(sms.text.starts_with(&format!("fairgig: \"{}\" stopped at", "t".repeat(40))));
        let telegram = templates
            .render_for(NotificationKind::RunFailed, ChannelKind::Telegram, "en", &failed)
            .expect("renders");
        assert!(telegram.text.starts_with(&format!("\"{}\" stopped at", "t".repeat(100))));
        let hired = sample_context(NotificationKind::Hired);
        let slack = templates
            .render_for(NotificationKind::Hired, ChannelKind::Slack, "en", &hired)
            .expect("renders");
        assert!(
            slack.text.starts_with("You were hired for Landing page for a bakery\n\nHello"),
            "{}",
            slack.text
        );
    }

    #[test]
    fn a_digest_lists_its_items() {
        let context = json!({
            "recipient": {"name": "Ada"},
            "public_url": "https://fairgig.example",
            "items": [
                {"subject": "A job that fits you: Logo", "text": "line one\nline two"},
                {"subject": "<b>New review</b>", "text": "5 stars"},
            ],
        });
        let digest = templates().render_digest("de", &context).expect("renders");
        assert_eq!(digest.subject, "Your fairgig digest: 2 updates");
        assert!(
            digest.text.contains("* A job that fits you: Logo\n  line one\n  line two"),
            "{}",
            digest.text
        );
        assert!(digest.html.contains("&lt;b&gt;New review"), "{}", digest.html);
        assert!(!digest.html.contains("<b>New"), "{}", digest.html);
    }

    #[test]
    fn missing_values_render_empty_rather_than_failing_a_delivery() {
        let rendered = templates()
            .render(NotificationKind::JobMatchInvitation, "en", &json!({}))
            .expect("renders without values");
        assert!(rendered.subject.starts_with("A job that fits you"));
    }
}
