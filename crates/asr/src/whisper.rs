//! Whisper through CTranslate2, one 30-second window at a time.
//!
//! Windows are transcribed in order, each on its own (memory stays at one
//! window however long the recording); the language is detected on the
//! first window with sound and then held; a window with no sound above
//! −40 dBFS is skipped without running the model, and one the model itself
//! calls silence (no-speech probability above 0.6) yields nothing, which
//! is what keeps Whisper from inventing a "Thank you." for a quiet room.

use std::path::{Path, PathBuf};

use ct2rs::sys::{ComputeType, Config, Device, StorageView, Whisper as Ct2Whisper, WhisperOptions};
use tokenizers::Tokenizer;

use crate::audio::Audio;
use crate::features::{self, MelExtractor, SECONDS_PER_FRAME, WINDOW_SAMPLES};
use crate::{AsrError, Segment, Transcript};

/// Above this the model's own no-speech probability makes a window silent.
const NO_SPEECH_THRESHOLD: f32 = 0.6;

/// Where the model is and how it runs.
#[derive(Clone, Debug)]
pub struct WhisperConfig {
    /// A CTranslate2 Whisper folder (`model.bin`, `config.json`,
    /// `tokenizer.json`, `vocabulary.txt`).
    pub model_dir: PathBuf,
    /// Cores one transcription uses; 0 means all.
    pub threads: usize,
    /// 1 is greedy decoding (fastest); 5 is Whisper's own default.
    pub beam_size: usize,
    /// ISO 639-1 codes detection chooses from (the languages the platform
    /// serves); empty means all of Whisper's. Narrowing it keeps a clipped
    /// or synthetic voice from being heard as a language no client speaks.
    pub languages: Vec<String>,
}

/// A loaded Whisper model; share it (`Arc`) — transcriptions run one at a
/// time inside CTranslate2.
pub struct LocalWhisper {
    model: Ct2Whisper,
    tokenizer: Tokenizer,
    mel: MelExtractor,
    beam_size: usize,
    languages: Vec<String>,
    /// First timestamp token (`<|0.00|>`); ids from here on are times.
    timestamp_begin: u32,
    end_of_text: u32,
    model_dir: PathBuf,
}

impl std::fmt::Debug for LocalWhisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWhisper").field("model_dir", &self.model_dir).finish_non_exhaustive()
    }
}

impl LocalWhisper {
    /// Loads the model (about a second for Whisper base): once, at start-up.
    pub fn load(config: &WhisperConfig) -> Result<Self, AsrError> {
        let dir = &config.model_dir;
        for file in ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"] {
            if !dir.join(file).is_file() {
                return Err(AsrError::Model(format!(
                    "{} is missing; `make models` fetches it",
                    dir.join(file).display()
                )));
            }
        }
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let ct2_config = Config {
            device: Device::CPU,
            // int8 weights: about twice as fast as float32 on CPU, with
            // Whisper's accuracy (CTranslate2's published comparison).
            compute_type: ComputeType::INT8,
            num_threads_per_replica: threads,
            ..Config::default()
        };
        let model = Ct2Whisper::new(dir, ct2_config)
            .map_err(|err| AsrError::Model(format!("{}: {err}", dir.display())))?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|err| AsrError::Model(format!("tokenizer.json: {err}")))?;
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| AsrError::Model(format!("the tokenizer has no {token}")))
        };
        let timestamp_begin = id("<|notimestamps|>")? + 1;
        let end_of_text = id("<|endoftext|>")?;
        let mel = MelExtractor::new(model.n_mels());
        Ok(Self {
            model,
            tokenizer,
            mel,
            beam_size: config.beam_size.max(1),
            languages: config.languages.clone(),
            timestamp_begin,
            end_of_text,
            model_dir: dir.clone(),
        })
    }

    pub fn is_multilingual(&self) -> bool {
        self.model.is_multilingual()
    }

    /// Transcribes `audio`; `language` (ISO 639-1) skips detection.
    /// Blocking and CPU-heavy: run it on a blocking thread.
    pub fn transcribe(
        &self,
        audio: &Audio,
        language: Option<&str>,
    ) -> Result<Transcript, AsrError> {
        let mut language = language.map(str::to_owned);
        let mut language_probability = None;
        let mut segments = Vec::new();
        for (index, window) in audio.samples.chunks(WINDOW_SAMPLES).enumerate() {
            if !features::has_sound(window) {
                continue;
            }
            let offset = (index * WINDOW_SAMPLES) as f32 / crate::SAMPLE_RATE as f32;
            let mut mel = self.mel.window(window);
            let shape = [1, self.mel.n_mels(), features::WINDOW_FRAMES];
            let view = StorageView::new(&shape, &mut mel, Device::CPU)
                .map_err(|err| AsrError::Inference(err.to_string()))?;
            if language.is_none() {
                let (code, probability) = self.detect_language(&view)?;
                language = Some(code);
                language_probability = probability;
            }
            let code = language.as_deref().unwrap_or("en");
            let window_secs = window.len() as f32 / crate::SAMPLE_RATE as f32;
            segments.extend(self.window_segments(&view, code, offset, window_secs)?);
        }
        Ok(Transcript::from_segments(
            segments,
            language,
            language_probability,
            audio.duration_secs(),
            audio.truncated,
        ))
    }

    /// The most likely language of one window: `("en", Some(0.97))`; an
    /// English-only model answers `("en", None)`.
    fn detect_language(&self, view: &StorageView) -> Result<(String, Option<f32>), AsrError> {
        if !self.model.is_multilingual() {
            return Ok(("en".to_owned(), None));
        }
        let detected =
            self.model.detect_language(view).map_err(|err| AsrError::Inference(err.to_string()))?;
        // Ranked most likely first; the first the platform serves wins, its
        // probability renormalised over the languages served.
        let ranked: Vec<(String, f32)> = detected
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .map(|result| {
                (
                    result.language.trim_start_matches("<|").trim_end_matches("|>").to_owned(),
                    result.probability,
                )
            })
            .filter(|(code, _)| {
                self.languages.is_empty() || self.languages.iter().any(|l| l == code)
            })
            .collect();
        let total: f32 = ranked.iter().map(|(_, p)| p).sum();
        let (code, probability) = ranked
            .into_iter()
            .next()
            .ok_or_else(|| AsrError::Inference("no language detected".into()))?;
        let probability = if total > 0.0 { probability / total } else { probability };
        Ok((code, Some(probability)))
    }

    /// One window's phrases, timed from the decoder's timestamp tokens.
    fn window_segments(
        &self,
        view: &StorageView,
        language: &str,
        offset: f32,
        window_secs: f32,
    ) -> Result<Vec<Segment>, AsrError> {
        let language_token = format!("<|{language}|>");
        let prompt = if self.model.is_multilingual() {
            vec!["<|startoftranscript|>", language_token.as_str(), "<|transcribe|>"]
        } else {
            vec!["<|startoftranscript|>"]
        };
        let options = WhisperOptions {
            beam_size: self.beam_size,
            // Half Whisper's context: a 30-second window never needs more.
            max_length: 224,
            return_no_speech_prob: true,
            ..WhisperOptions::default()
        };
        let results = self
            .model
            .generate(view, &[prompt], &options)
            .map_err(|err| AsrError::Inference(err.to_string()))?;
        let Some(result) = results.into_iter().next() else {
            return Ok(Vec::new());
        };
        if result.no_speech_prob > NO_SPEECH_THRESHOLD {
            return Ok(Vec::new());
        }
        let Some(ids) = result.sequences_ids.into_iter().next() else {
            return Ok(Vec::new());
        };
        let ids: Vec<u32> = ids.into_iter().filter_map(|id| u32::try_from(id).ok()).collect();
        Ok(self.split_at_timestamps(&ids, offset, window_secs))
    }

    /// Text between timestamp tokens becomes one segment each; text with no
    /// closing timestamp runs to the end of the window.
    fn split_at_timestamps(&self, ids: &[u32], offset: f32, window_secs: f32) -> Vec<Segment> {
        let seconds = |id: u32| (id - self.timestamp_begin) as f32 * 2.0 * SECONDS_PER_FRAME;
        let mut segments = Vec::new();
        let mut start = 0.0f32;
        let mut text_ids: Vec<u32> = Vec::new();
        for &id in ids {
            if id == self.end_of_text {
                break;
            }
            if id >= self.timestamp_begin {
                let time = seconds(id).min(window_secs);
                if text_ids.is_empty() {
                    start = time;
                } else {
                    self.push_segment(&mut segments, &text_ids, offset + start, offset + time);
                    text_ids.clear();
                    start = time;
                }
            } else if id < self.end_of_text {
                text_ids.push(id);
            }
        }
        if !text_ids.is_empty() {
            self.push_segment(&mut segments, &text_ids, offset + start, offset + window_secs);
        }
        segments
    }

    fn push_segment(
        &self,
        segments: &mut Vec<Segment>,
        ids: &[u32],
        start_secs: f32,
        end_secs: f32,
    ) {
        let Ok(text) = self.tokenizer.decode(ids, true) else {
            return;
        };
        let text = text.trim();
        if !text.is_empty() {
            segments.push(Segment {
                start_secs,
                end_secs: end_secs.max(start_secs),
                text: text.to_owned(),
            });
        }
    }

    pub fn model_dir(&self) -> &Path {
        &self.model_dir
    }
}
