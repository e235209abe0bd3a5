//! Whisper's input: an 80-band log-mel spectrogram of each 30-second window,
//! computed exactly as OpenAI's `log_mel_spectrogram` does (periodic Hann
//! window of 400 samples, hop 160, reflect padding, Slaney mel filters,
//! log10 clamped to 8 below the window's maximum, scaled by (x + 4) / 4).
//!
//! Written here rather than taken from a crate: the one Whisper-specific
//! crate (`mel_spec`) brings an image library with it, and the whole
//! computation is an FFT (from `rustfft`) and a matrix product.

use std::sync::Arc;

use rustfft::{num_complex::Complex, Fft, FftPlanner};

use crate::SAMPLE_RATE;

pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Samples in one window (30 s).
pub const WINDOW_SAMPLES: usize = 30 * SAMPLE_RATE as usize;
/// Frames in one window.
pub const WINDOW_FRAMES: usize = WINDOW_SAMPLES / HOP;
/// Seconds per frame, and per timestamp step of the decoder (two frames).
pub const SECONDS_PER_FRAME: f32 = HOP as f32 / SAMPLE_RATE as f32;

/// Frame level (RMS, 30 ms frames) above which a window holds sound worth
/// transcribing: −40 dBFS, below speech and above a quiet room.
const SOUND_RMS: f32 = 0.01;

/// Reusable FFT plan, window and mel filters for one model's band count.
pub struct MelExtractor {
    n_mels: usize,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    /// `n_mels` rows of `N_FFT / 2 + 1` weights.
    filters: Vec<f32>,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor").field("n_mels", &self.n_mels).finish_non_exhaustive()
    }
}

impl MelExtractor {
    pub fn new(n_mels: usize) -> Self {
        let fft = FftPlanner::new().plan_fft_forward(N_FFT);
        let window = (0..N_FFT)
            .map(|n| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * n as f32 / N_FFT as f32).cos())
            .collect();
        Self { n_mels, fft, window, filters: slaney_mel_filters(SAMPLE_RATE as f32, N_FFT, n_mels) }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The features of one window (`samples` at most [`WINDOW_SAMPLES`],
    /// zero-padded to it): `n_mels × WINDOW_FRAMES`, row-major.
    pub fn window(&self, samples: &[f32]) -> Vec<f32> {
        let samples = &samples[..samples.len().min(WINDOW_SAMPLES)];
        let mut padded = vec![0f32; WINDOW_SAMPLES];
        padded[..samples.len()].copy_from_slice(samples);
        let half = N_FFT / 2;
        // Reflect padding (torch.stft, center=True).
        let mut signal = Vec::with_capacity(WINDOW_SAMPLES + N_FFT);
        signal.extend((1..=half).rev().map(|i| padded[i]));
        signal.extend_from_slice(&padded);
        signal.extend((1..=half).map(|i| padded[WINDOW_SAMPLES - 1 - i]));

        let bins = N_FFT / 2 + 1;
        let mut power = vec![0f32; bins];
        let mut buffer = vec![Complex::new(0f32, 0f32); N_FFT];
        let mut scratch = vec![Complex::new(0f32, 0f32); self.fft.get_inplace_scratch_len()];
        let mut mel = vec![0f32; self.n_mels * WINDOW_FRAMES];
        for frame in 0..WINDOW_FRAMES {
            let start = frame * HOP;
            for (slot, (sample, weight)) in
                buffer.iter_mut().zip(signal[start..start + N_FFT].iter().zip(&self.window))
            {
                *slot = Complex::new(sample * weight, 0.0);
            }
            self.fft.process_with_scratch(&mut buffer, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buffer[..bins]) {
                *p = c.norm_sqr();
            }
            for band in 0..self.n_mels {
                let row = &self.filters[band * bins..(band + 1) * bins];
                let energy: f32 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
                mel[band * WINDOW_FRAMES + frame] = energy.max(1e-10).log10();
            }
        }
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for value in &mut mel {
            *value = (value.max(max - 8.0) + 4.0) / 4.0;
        }
        mel
    }
}

/// True when some 30 ms frame of `samples` rises above −40 dBFS.
pub fn has_sound(samples: &[f32]) -> bool {
    samples.chunks(480).any(|frame| {
        let energy: f32 = frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32;
        energy.sqrt() > SOUND_RMS
    })
}

/// Slaney-scale mel filters with Slaney area normalisation (librosa's
/// `filters.mel(sr, n_fft, n_mels)` defaults, which Whisper's filters are):
/// `n_mels` rows of `n_fft / 2 + 1` weights.
pub fn slaney_mel_filters(rate: f32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> =
        (0..bins).map(|k| k as f64 * f64::from(rate) / n_fft as f64).collect();
    let top = hz_to_mel(f64::from(rate) / 2.0);
    let mel_points: Vec<f64> =
        (0..n_mels + 2).map(|i| mel_to_hz(top * i as f64 / (n_mels + 1) as f64)).collect();
    let mut filters = vec![0f32; n_mels * bins];
    for band in 0..n_mels {
        let (low, centre, high) = (mel_points[band], mel_points[band + 1], mel_points[band + 2]);
        let norm = 2.0 / (high - low);
        for (k, freq) in fft_freqs.iter().enumerate() {
            let rising = (freq - low) / (centre - low);
            let falling = (high - freq) / (high - centre);
            filters[band * bins + k] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    filters
}

/// Slaney's mel scale: linear (200/3 Hz a mel) below 1 kHz, logarithmic
/// (a factor of 6.4 every 27 mels) above.
const LINEAR_STEP: f64 = 200.0 / 3.0;
const LOG_START_HZ: f64 = 1000.0;
const LOG_START_MEL: f64 = LOG_START_HZ / LINEAR_STEP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= LOG_START_HZ {
        LOG_START_MEL + (hz / LOG_START_HZ).ln() / log_step()
    } else {
        hz / LINEAR_STEP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= LOG_START_MEL {
        LOG_START_HZ * (log_step() * (mel - LOG_START_MEL)).exp()
    } else {
        mel * LINEAR_STEP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weights read with numpy from `whisper/assets/mel_filters.npz` (key
    /// `mel_80`) of PyPI `openai-whisper==20250625`: its filters are what
    /// the model was trained on.
    #[test]
    fn filters_are_whispers() {
        let filters = slaney_mel_filters(16_000.0, 400, 80);
        assert_eq!(filters.len(), 80 * 201);
        let reference = [
            ((0, 1), 0.024_862_594_902_515_41),
            ((0, 2), 0.0),
            ((39, 40), 0.001_418_047_584_593_296),
            ((39, 41), 0.011_486_922_390_758_991),
            ((79, 190), 0.002_232_054_946_944_117_5),
            ((79, 200), 0.0),
        ];
        for ((band, bin), want) in reference {
            let got = f64::from(filters[band * 201 + bin]);
            assert!(
                (got - want).abs() <= 1e-6 * want.max(1e-3),
                "band {band} bin {bin}: {got} vs {want}"
            );
        }
        let sum: f64 = filters.iter().map(|w| f64::from(*w)).sum();
        assert!((sum - 1.999_024_152_755_737_3).abs() < 1e-4, "sum {sum}");
    }

    #[test]
    fn a_window_has_whispers_shape_and_range() {
        let mel = MelExtractor::new(80);
        let tone: Vec<f32> = (0..16_000)
            .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let features = mel.window(&tone);
        assert_eq!(features.len(), 80 * WINDOW_FRAMES);
        let max = features.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = features.iter().copied().fold(f32::INFINITY, f32::min);
        // log10 clamped to 8 below the maximum, then (x + 4) / 4: a range of 2.
        assert!((max - min - 2.0).abs() < 1e-4, "{min}..{max}");
        // The tone's band is the loudest in a frame of the tone.
        let frame = 50;
        let loudest = (0..80).max_by(|a, b| {
            features[a * WINDOW_FRAMES + frame].total_cmp(&features[b * WINDOW_FRAMES + frame])
        });
        let band_of_1khz = (hz_to_mel(1000.0) / hz_to_mel(8000.0) * 81.0) as usize;
        assert!(
            loudest.is_some_and(|band| band.abs_diff(band_of_1khz) <= 1),
            "{loudest:?} vs {band_of_1khz}"
        );
    }

    #[test]
    fn silence_and_sound_are_told_apart() {
        assert!(!has_sound(&vec![0.0; 16_000]));
        assert!(!has_sound(&vec![0.001; 16_000]));
        let mut speechlike = vec![0.0; 16_000];
        speechlike[8_000..8_800]
            .iter_mut()
            .enumerate()
            .for_each(|(i, s)| *s = 0.2 * (i as f32 / 3.0).sin());
        assert!(has_sound(&speechlike));
    }
}
