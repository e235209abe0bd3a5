//! Any recording to 16 kHz mono samples in [-1, 1].
//!
//! Decoding stops at the length limit, so an hour-long file costs no more
//! than the limit in time and memory; a file cut off mid-stream keeps what
//! was decoded; a damaged packet is skipped, not fatal.

use std::io::Cursor;
use std::sync::OnceLock;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::{
    audio::SampleBuffer,
    codecs::{CodecRegistry, DecoderOptions, CODEC_TYPE_NULL},
    errors::Error as SymphoniaError,
    formats::FormatOptions,
    io::{MediaSourceStream, MediaSourceStreamOptions},
    meta::MetadataOptions,
    probe::Hint,
};

use crate::{AsrError, SAMPLE_RATE};

/// How much of a recording is decoded.
#[derive(Clone, Copy, Debug)]
pub struct AudioLimits {
    /// Seconds kept from the start; the rest is not decoded.
    pub max_seconds: u32,
}

impl Default for AudioLimits {
    fn default() -> Self {
        Self { max_seconds: 600 }
    }
}

/// A decoded recording.
#[derive(Clone, Debug)]
pub struct Audio {
    /// Mono, [`SAMPLE_RATE`] Hz.
    pub samples: Vec<f32>,
    /// The rate the file was recorded at.
    pub source_rate: u32,
    /// True when the recording went on past [`AudioLimits::max_seconds`].
    pub truncated: bool,
    /// Damaged packets skipped while decoding.
    pub skipped_packets: usize,
}

impl Audio {
    pub fn duration_secs(&self) -> f32 {
        self.samples.len() as f32 / SAMPLE_RATE as f32
    }
}

/// Symphonia's codecs plus libopus for Opus (in OGG and WebM), which
/// Symphonia does not decode itself.
fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_all::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// Decodes `bytes` (any supported container; `extension` is a hint only)
/// into 16 kHz mono, at most `limits.max_seconds` of it.
pub fn decode(
    bytes: Vec<u8>,
    extension: Option<&str>,
    limits: AudioLimits,
) -> Result<Audio, AsrError> {
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let source =
        MediaSourceStream::new(Box::new(Cursor::new(bytes)), MediaSourceStreamOptions::default());
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|err| AsrError::Unreadable(err.to_string()))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|track| track.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(AsrError::NoAudio)?;
    let track_id = track.id;
    let mut decoder = codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|err| AsrError::Unreadable(format!("no decoder for this audio: {err}")))?;

    let mut mono = MonoResampler::default();
    let mut skipped_packets = 0usize;
    let mut truncated = false;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            // The end, or a file cut off: keep what was decoded.
            Err(SymphoniaError::IoError(_) | SymphoniaError::ResetRequired) => break,
            Err(SymphoniaError::DecodeError(_)) => {
                skipped_packets += 1;
                continue;
            }
            Err(err) => return Err(AsrError::Unreadable(err.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                skipped_packets += 1;
                if skipped_packets > 1_000 && mono.is_empty() {
                    return Err(AsrError::Unreadable("no packet decodes".into()));
                }
                continue;
            }
            Err(err) => return Err(AsrError::Unreadable(err.to_string())),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        mono.push(buffer.samples(), channels, spec.rate)?;
        if mono.seconds() >= f64::from(limits.max_seconds) {
            truncated = true;
            break;
        }
    }
    let source_rate = mono.source_rate;
    let mut samples = mono.finish()?;
    let cap = limits.max_seconds as usize * SAMPLE_RATE as usize;
    if samples.len() > cap {
        samples.truncate(cap);
        truncated = true;
    }
    if samples.is_empty() {
        return Err(if skipped_packets > 0 {
            AsrError::Unreadable("no packet decodes".into())
        } else {
            AsrError::NoAudio
        });
    }
    Ok(Audio { samples, source_rate, truncated, skipped_packets })
}

/// Interleaved frames in, mono at [`SAMPLE_RATE`] out, a block at a time,
/// so memory stays proportional to the output.
#[derive(Default)]
struct MonoResampler {
    source_rate: u32,
    resampler: Option<FftFixedIn<f32>>,
    /// Mono input waiting for a full resampler block.
    pending: Vec<f32>,
    /// Input frames seen.
    frames_in: u64,
    out: Vec<f32>,
}

impl MonoResampler {
    fn is_empty(&self) -> bool {
        self.frames_in == 0
    }

    fn seconds(&self) -> f64 {
        if self.source_rate == 0 {
            0.0
        } else {
            self.frames_in as f64 / f64::from(self.source_rate)
        }
    }

    fn push(&mut self, interleaved: &[f32], channels: usize, rate: u32) -> Result<(), AsrError> {
        if rate == 0 {
            return Err(AsrError::Unreadable("sample rate 0".into()));
        }
        if self.source_rate == 0 {
            self.source_rate = rate;
            if rate != SAMPLE_RATE {
                let resampler = FftFixedIn::new(rate as usize, SAMPLE_RATE as usize, 1024, 2, 1)
                    .map_err(|err| {
                        AsrError::Unreadable(format!("resampling from {rate} Hz: {err}"))
                    })?;
                self.resampler = Some(resampler);
            }
        } else if rate != self.source_rate {
            return Err(AsrError::Unreadable(format!(
                "the sample rate changes mid-stream ({} Hz, then {rate} Hz)",
                self.source_rate
            )));
        }
        let frames = interleaved.chunks_exact(channels).map(|frame| {
            let sum: f32 = frame.iter().sum();
            (sum / channels as f32).clamp(-1.0, 1.0)
        });
        let before = self.pending.len();
        self.pending.extend(frames);
        self.frames_in += (self.pending.len() - before) as u64;
        self.drain(false)
    }

    /// Runs every full block through the resampler (all of it at the end).
    fn drain(&mut self, last: bool) -> Result<(), AsrError> {
        let Some(resampler) = self.resampler.as_mut() else {
            self.out.append(&mut self.pending);
            return Ok(());
        };
        let fail = |err: rubato::ResampleError| AsrError::Unreadable(format!("resampling: {err}"));
        let mut offset = 0;
        while self.pending.len() - offset >= resampler.input_frames_next() {
            let need = resampler.input_frames_next();
            let block =
                resampler.process(&[&self.pending[offset..offset + need]], None).map_err(fail)?;
            self.out.extend_from_slice(&block[0]);
            offset += need;
        }
        self.pending.drain(..offset);
        if last && !self.pending.is_empty() {
            let block =
                resampler.process_partial(Some(&[&self.pending[..]]), None).map_err(fail)?;
            self.out.extend_from_slice(&block[0]);
            self.pending.clear();
        }
        Ok(())
    }

    /// The resampled recording, the resampler's delay cut from its start and
    /// its length matched to the input's.
    fn finish(mut self) -> Result<Vec<f32>, AsrError> {
        self.drain(true)?;
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(self.out);
        };
        // Flush what the filter still holds, then align.
        let tail = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|err| AsrError::Unreadable(format!("resampling: {err}")))?;
        self.out.extend_from_slice(&tail[0]);
        let delay = resampler.output_delay().min(self.out.len());
        self.out.drain(..delay);
        let expected =
            (self.frames_in * u64::from(SAMPLE_RATE) / u64::from(self.source_rate)) as usize;
        self.out.truncate(expected);
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit PCM WAV of `samples` at `rate`, `channels` interleaved.
    pub(crate) fn wav(samples: &[f32], rate: u32, channels: u16) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for sample in samples {
            out.extend_from_slice(&((sample * 32767.0) as i16).to_le_bytes());
        }
        out
    }

    fn tone(rate: u32, seconds: f32, hz: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn resamples_to_16_khz_mono_keeping_length_and_pitch() {
        let left = tone(44_100, 2.0, 440.0);
        let stereo: Vec<f32> = left.iter().flat_map(|s| [*s, *s]).collect();
        let audio =
            decode(wav(&stereo, 44_100, 2), Some("wav"), AudioLimits::default()).expect("decodes");
        assert_eq!(audio.source_rate, 44_100);
        assert!(!audio.truncated);
        assert_eq!(audio.samples.len(), 32_000);
        // 440 Hz for 2 s: 880 cycles, two zero crossings each.
        let crossings = audio.samples.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        assert!((1750..=1770).contains(&crossings), "{crossings} zero crossings");
        let peak = audio.samples[1000..31_000].iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((0.45..0.55).contains(&peak), "peak {peak}");
    }

    #[test]
    fn stops_at_the_length_limit() {
        let long = tone(16_000, 5.0, 300.0);
        let audio =
            decode(wav(&long, 16_000, 1), None, AudioLimits { max_seconds: 2 }).expect("decodes");
        assert!(audio.truncated);
        assert_eq!(audio.samples.len(), 32_000);
    }

    #[test]
    fn keeps_what_a_cut_off_file_holds() {
        let bytes = wav(&tone(16_000, 2.0, 300.0), 16_000, 1);
        let cut = bytes[..bytes.len() / 2].to_vec();
        let audio =
            decode(cut, Some("wav"), AudioLimits::default()).expect("decodes the first half");
        assert!((15_000..=16_100).contains(&audio.samples.len()), "{}", audio.samples.len());
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        for bytes in [
            Vec::new(),
            b"RIFF\0\0\0\0WAVE".to_vec(),
            vec![0xFF; 4096],
            (0..=255u8).cycle().take(50_000).collect(),
        ] {
            let result = decode(bytes, Some("mp3"), AudioLimits::default());
            assert!(
                matches!(result, Err(AsrError::Unreadable(_) | AsrError::NoAudio)),
                "{result:?}"
            );
        }
    }
}
