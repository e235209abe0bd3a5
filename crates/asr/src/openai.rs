//! Transcription by any OpenAI-compatible `POST {base}/audio/transcriptions`
//! service (OpenAI, a faster-whisper or whisper.cpp server, LocalAI),
//! asked for `verbose_json` so the answer has segments and the language.
//! Retries, backoff and the breaker are [`fairgig_remote`]'s.

use std::time::Duration;

use fairgig_remote::{send_json, Attempt, Caller, RemoteError, RetryPolicy};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{languages, AsrError, Segment, Transcript};

#[derive(Clone, Debug)]
pub struct OpenAiTranscriptionConfig {
    /// e.g. `https://api.openai.com/v1`; `/audio/transcriptions` is appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// e.g. `whisper-1`.
    pub model: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

#[derive(Debug)]
pub struct OpenAiTranscriber {
    config: OpenAiTranscriptionConfig,
    http: reqwest::Client,
    caller: Caller,
}

#[derive(Deserialize)]
struct Answer {
    text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    duration: Option<f32>,
    #[serde(default)]
    segments: Vec<AnswerSegment>,
}

#[derive(Deserialize)]
struct AnswerSegment {
    start: f32,
    end: f32,
    text: String,
}

impl OpenAiTranscriber {
    pub fn new(config: OpenAiTranscriptionConfig) -> Result<Self, AsrError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|err| AsrError::Model(format!("HTTP client: {err}")))?;
        let caller = Caller::new(config.retry);
        Ok(Self { config, http, caller })
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Sends the recording as uploaded (the service decodes it);
    /// `language` (ISO 639-1) skips the service's detection.
    pub async fn transcribe(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        content_type: &str,
        language: Option<&str>,
    ) -> Result<Transcript, AsrError> {
        let url = format!("{}/audio/transcriptions", self.config.base_url.trim_end_matches('/'));
        let answer = self
            .caller
            .call("transcription", || self.attempt(&url, &bytes, filename, content_type, language))
            .await
            .map_err(|err| match err {
                RemoteError::Fatal(message) => AsrError::Inference(message),
                other => AsrError::Unavailable(other.to_string()),
            })?;
        let language_code = answer.language.as_deref().and_then(languages::code).map(str::to_owned);
        let mut segments: Vec<Segment> = answer
            .segments
            .into_iter()
            .map(|s| Segment {
                start_secs: s.start,
                end_secs: s.end,
                text: s.text.trim().to_owned(),
            })
            .filter(|s| !s.text.is_empty())
            .collect();
        let duration =
            answer.duration.unwrap_or_else(|| segments.last().map_or(0.0, |s| s.end_secs));
        if segments.is_empty() && !answer.text.trim().is_empty() {
            segments.push(Segment {
                start_secs: 0.0,
                end_secs: duration,
                text: answer.text.trim().to_owned(),
            });
        }
        Ok(Transcript::from_segments(segments, language_code, None, duration, false))
    }

    async fn attempt(
        &self,
        url: &str,
        bytes: &[u8],
        filename: &str,
        content_type: &str,
        language: Option<&str>,
    ) -> Result<Answer, Attempt> {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(filename.to_owned())
            .mime_str(content_type)
            .map_err(|err| Attempt::Fatal(format!("content type {content_type:?}: {err}")))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("model", self.config.model.clone())
            .text("response_format", "verbose_json");
        if let Some(language) = language {
            form = form.text("language", language.to_owned());
        }
        send_json(self.http.post(url).multipart(form), self.config.api_key.as_ref(), url).await
    }
}
