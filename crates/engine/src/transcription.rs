//! Voice recordings to text with the configured provider: Whisper in
//! process (`local`), an OpenAI-compatible service (`openai`), or none
//! (`off`, and recordings say "transcription unavailable").
//!
//! The local model is loaded on the first recording (about a second), not
//! at start-up; [`TranscriptionService::check`] makes a missing model a
//! start-up error all the same. Recordings are transcribed one at a time:
//! each uses every core it is given.

use std::sync::Arc;
use std::time::Duration;

use fairgig_asr::{
    decode, AsrError, AudioLimits, LocalWhisper, OpenAiTranscriber, OpenAiTranscriptionConfig,
    Transcript, WhisperConfig,
};
use fairgig_core::config::{TranscriptionProvider, TranscriptionSettings};
use fairgig_remote::RetryPolicy;
use tokio::sync::{OnceCell, Semaphore};

/// The longest recording transcribed, in minutes: at the local model's
/// speed on 2 cores (a real-time factor of 0.13) an hour takes about 8
/// minutes, well inside the `extract` step's 15.
pub const MAX_MINUTES: u32 = 60;

/// The model id recorded with every local transcript.
pub const LOCAL_MODEL_ID: &str = "whisper-base (CTranslate2, int8)";

#[derive(Debug, thiserror::Error)]
pub enum TranscriptionError {
    /// `transcription.provider = "off"`.
    #[error("speech to text is switched off on this server (transcription.provider = \"off\")")]
    Off,
    /// The recording itself is at fault: another try fails the same way.
    #[error(transparent)]
    Recording(AsrError),
    /// The model or the service failed; a later try may work.
    #[error(transparent)]
    Provider(AsrError),
}

impl From<AsrError> for TranscriptionError {
    fn from(err: AsrError) -> Self {
        match err {
            AsrError::Unreadable(_) | AsrError::NoAudio => Self::Recording(err),
            AsrError::Model(_) | AsrError::Inference(_) | AsrError::Unavailable(_) => {
                Self::Provider(err)
            }
        }
    }
}

enum Transcriber {
    Local(Arc<LocalWhisper>),
    OpenAi(Arc<OpenAiTranscriber>),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct TranscriptionService {
    settings: Arc<TranscriptionSettings>,
    transcriber: Arc<OnceCell<Transcriber>>,
    /// One recording at a time through the local model.
    turn: Arc<Semaphore>,
}

impl std::fmt::Debug for TranscriptionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptionService").field("provider", &self.settings.provider).finish()
    }
}

impl TranscriptionService {
    pub fn new(settings: &TranscriptionSettings) -> Self {
        Self {
            settings: Arc::new(settings.clone()),
            transcriber: Arc::new(OnceCell::new()),
            turn: Arc::new(Semaphore::new(1)),
        }
    }

    /// Which model transcribes, for each transcript's provenance; `None`
    /// when transcription is off.
    pub fn model_id(&self) -> Option<String> {
        match self.settings.provider {
            TranscriptionProvider::Local => Some(LOCAL_MODEL_ID.to_owned()),
            TranscriptionProvider::Openai => Some(format!("openai:{}", self.settings.openai.model)),
            TranscriptionProvider::Off => None,
        }
    }

    /// A local provider whose model files are missing is a start-up error
    /// that says how to fix it; nothing is loaded here.
    pub fn check(&self) -> anyhow::Result<()> {
        check_limits(&self.settings)?;
        if self.settings.provider != TranscriptionProvider::Local {
            return Ok(());
        }
        let dir = &self.settings.model_dir;
        for file in ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"] {
            anyhow::ensure!(
                dir.join(file).is_file(),
                "the speech-to-text model is missing ({} not found): run `make models`, point \
                 transcription.model_dir at it, or set transcription.provider = \"off\"",
                dir.join(file).display()
            );
        }
        Ok(())
    }

    /// The words of one recording (`bytes` as uploaded).
    pub async fn transcribe(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        content_type: &str,
    ) -> Result<Transcript, TranscriptionError> {
        let transcriber = self.transcriber().await?;
        match transcriber {
            Transcriber::Local(model) => {
                let _turn = self.turn.acquire().await.map_err(|_| {
                    TranscriptionError::Provider(AsrError::Unavailable("shutting down".into()))
                })?;
                let model = Arc::clone(model);
                let extension = extension(filename, content_type);
                let limits = AudioLimits { max_seconds: self.settings.max_minutes.max(1) * 60 };
                tokio::task::spawn_blocking(move || {
                    let audio = decode(bytes, extension.as_deref(), limits)?;
                    model.transcribe(&audio, None)
                })
                .await
                .map_err(|err| {
                    TranscriptionError::Provider(AsrError::Inference(format!(
                        "transcription task failed: {err}"
                    )))
                })?
                .map_err(TranscriptionError::from)
            }
            Transcriber::OpenAi(client) => client
                .transcribe(bytes, filename, content_type, None)
                .await
                .map_err(TranscriptionError::from),
        }
    }

    async fn transcriber(&self) -> Result<&Transcriber, TranscriptionError> {
        let settings = Arc::clone(&self.settings);
        self.transcriber
            .get_or_try_init(|| async move {
                match settings.provider {
                    TranscriptionProvider::Off => Err(TranscriptionError::Off),
                    TranscriptionProvider::Local => {
                        let config = WhisperConfig {
                            model_dir: settings.model_dir.clone(),
                            threads: settings.threads,
                            beam_size: settings.beam_size,
                            languages: settings.languages.clone(),
                        };
                        let model =
                            tokio::task::spawn_blocking(move || LocalWhisper::load(&config))
                                .await
                                .map_err(|err| {
                                    TranscriptionError::Provider(AsrError::Model(err.to_string()))
                                })?
                                .map_err(TranscriptionError::Provider)?;
                        Ok(Transcriber::Local(Arc::new(model)))
                    }
                    TranscriptionProvider::Openai => {
                        let openai = &settings.openai;
                        let client = OpenAiTranscriber::new(OpenAiTranscriptionConfig {
                            base_url: openai.base_url.clone(),
                            api_key: openai.api_key.clone(),
                            model: openai.model.clone(),
                            timeout: Duration::from_secs(openai.timeout_secs.max(1)),
                            retry: RetryPolicy {
                                max_attempts: openai.max_attempts.max(1),
                                backoff_base: Duration::from_millis(200),
                                breaker_threshold: openai.breaker_threshold.max(1),
                                breaker_cooldown: Duration::from_secs(openai.breaker_cooldown_secs),
                            },
                        })
                        .map_err(TranscriptionError::Provider)?;
                        Ok(Transcriber::OpenAi(Arc::new(client)))
                    }
                }
            })
            .await
    }
}

/// The length limit must leave the `extract` step time to finish.
pub fn check_limits(settings: &TranscriptionSettings) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_MINUTES).contains(&settings.max_minutes),
        "transcription.max_minutes must be 1 to {MAX_MINUTES}"
    );
    Ok(())
}

/// The decoder's hint: the file's extension, else one for its type.
fn extension(filename: &str, content_type: &str) -> Option<String> {
    let from_name = std::path::Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    from_name.or_else(|| {
        let subtype = content_type.split(';').next()?.trim().strip_prefix("audio/")?;
        Some(
            match subtype {
                "mpeg" => "mp3",
                "mp4" | "x-m4a" | "aac" => "m4a",
                "x-wav" | "wave" => "wav",
                other => other,
            }
            .to_owned(),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_length_limit_is_checked() {
        let mut settings = fairgig_core::config::TranscriptionSettings::default();
        assert!(super::check_limits(&settings).is_ok());
        for minutes in [0, super::MAX_MINUTES + 1] {
            settings.max_minutes = minutes;
            assert!(super::check_limits(&settings).is_err(), "{minutes}");
        }
    }

    #[test]
    fn the_decoder_hint_comes_from_the_name_then_the_type() {
        assert_eq!(super::extension("note.WEBM", "audio/webm").as_deref(), Some("webm"));
        assert_eq!(super::extension("note", "audio/mpeg").as_deref(), Some("mp3"));
        assert_eq!(super::extension("note", "audio/ogg; codecs=opus").as_deref(), Some("ogg"));
        assert_eq!(super::extension("note", "application/octet-stream"), None);
    }
}
