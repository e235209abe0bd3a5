//! Speech to text for voice requests.
//!
//! A recording in any of the containers a browser or phone produces (WAV,
//! MP3, OGG with Vorbis or Opus, WebM, M4A, FLAC) is decoded and resampled
//! to 16 kHz mono ([`audio`]), cut into Whisper's 30-second windows and
//! turned into log-mel features ([`features`]), and transcribed offline by
//! Whisper through CTranslate2 ([`whisper`]): language detected once, one
//! timed segment per phrase, silent windows skipped without running the
//! model.
//!
//! This crate stands alone so that CTranslate2's C++ build (several minutes)
//! is paid once and never by another crate's incremental build.

pub mod audio;
pub mod eval;
pub mod features;
mod languages;
pub mod openai;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod whisper;

use serde::{Deserialize, Serialize};

pub use audio::{decode, Audio, AudioLimits};
pub use openai::{OpenAiTranscriber, OpenAiTranscriptionConfig};
pub use whisper::{LocalWhisper, WhisperConfig};

/// Whisper's input rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// Why a recording could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// The bytes are not a recording any decoder here reads.
    #[error("not a readable recording: {0}")]
    Unreadable(String),
    /// A readable container with no audio in it.
    #[error("the recording contains no audio")]
    NoAudio,
    /// The model files are missing or do not load.
    #[error("speech-to-text model: {0}")]
    Model(String),
    /// The model failed on this input, or the service refused it.
    #[error("transcription failed: {0}")]
    Inference(String),
    /// The transcription service is down or failing; a later try may work.
    #[error("transcription service unavailable: {0}")]
    Unavailable(String),
}

/// What was said in one recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The whole text, segments joined by spaces.
    pub text: String,
    /// ISO 639-1 code (`en`, `de`, …) detected or given.
    pub language: Option<String>,
    /// How sure the detection was (0–1); `None` when the language was given.
    pub language_probability: Option<f32>,
    pub segments: Vec<Segment>,
    /// Seconds of audio transcribed.
    pub duration_secs: f32,
    /// True when the recording was longer than the limit and only its
    /// beginning was transcribed.
    pub truncated: bool,
}

/// One phrase with its place in the recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_secs: f32,
    pub end_secs: f32,
    pub text: String,
}

impl Transcript {
    /// The transcript of segments, text joined in order.
    pub fn from_segments(
        segments: Vec<Segment>,
        language: Option<String>,
        language_probability: Option<f32>,
        duration_secs: f32,
        truncated: bool,
    ) -> Self {
        let text = segments
            .iter()
            .map(|segment| segment.text.trim())
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Self { text, language, language_probability, segments, duration_secs, truncated }
    }
}
