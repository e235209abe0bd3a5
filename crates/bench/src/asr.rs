//! `fairgig bench asr`: the local speech-to-text model on this machine —
//! load time, real-time factor (seconds of work per second of speech; goal
//! ≤ 0.3), peak memory, and the word error rate on the fixed sentences.
//!
//! The speech is made by espeak-ng (Debian `espeak-ng`), the same voice the
//! tests use, so the figure compares across versions and machines.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use fairgig_asr::{decode, eval, AudioLimits, LocalWhisper, WhisperConfig};

/// Real-time factor the tiny and base models should reach on 2 cores.
const RTF_GOAL: f64 = 0.3;

pub fn run(settings: &fairgig_core::config::Settings, rounds: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let wav = dir.path().join("sentences.wav");
    let text = eval::sentences().join(" ");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&wav)
        .arg(&text)
        .status()
        .context("running espeak-ng (Debian package `espeak-ng`) to make the speech")?;
    anyhow::ensure!(status.success(), "espeak-ng failed");

    let transcription = &settings.transcription;
    let config = WhisperConfig {
        model_dir: transcription.model_dir.clone(),
        threads: transcription.threads,
        beam_size: transcription.beam_size,
        languages: transcription.languages.clone(),
    };
    let started = Instant::now();
    let model = LocalWhisper::load(&config)?;
    let load = started.elapsed();

    let bytes = std::fs::read(&wav)?;
    let started = Instant::now();
    let audio = decode(bytes, Some("wav"), AudioLimits { max_seconds: 3_600 })?;
    let decoding = started.elapsed();
    let seconds = f64::from(audio.duration_secs());

    let mut times: Vec<Duration> = Vec::new();
    let mut transcript = None;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        transcript = Some(model.transcribe(&audio, None)?);
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64();
    let heard = transcript.map(|t| t.text).unwrap_or_default();
    let rtf = median / seconds;
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    println!(
        "asr {}: {seconds:.1} s of speech in {median:.2} s (median of {}), real-time factor {rtf:.3} \
         (goal <= {RTF_GOAL}) {}; {threads} thread(s), beam {}",
        config.model_dir.display(),
        times.len(),
        if rtf <= RTF_GOAL { "met" } else { "MISSED" },
        config.beam_size.max(1),
    );
    println!(
        "asr load {:.2} s, decode + resample {:.0} ms, peak resident memory {} MiB",
        load.as_secs_f64(),
        decoding.as_secs_f64() * 1000.0,
        peak_resident_bytes() / (1024 * 1024)
    );
    println!(
        "asr word error rate on the {} espeak-ng sentences read as one recording: {:.3} (test floor 0.30)",
        eval::sentences().len(),
        eval::word_error_rate(&text, &heard)
    );
    Ok(())
}

/// The process's peak resident memory (`VmHWM`), 0 where unknown.
pub(crate) fn peak_resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|line| {
                line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok())
            })
        })
        .map_or(0, |kib| kib * 1024)
}
