//! The real Whisper model on speech no one here recorded: sentences spoken
//! by `espeak-ng` and converted by `ffmpeg` into every container a client
//! may upload. Needs `make models` and both tools (`.ci/run` installs them);
//! without the tools this prints SKIP, except in CI, where it fails.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use fairgig_asr::eval::{sentences, word_errors, words};
use fairgig_asr::testing::{convert, model_dir, speak, speech_tools};
use fairgig_asr::{decode, AsrError, AudioLimits, LocalWhisper, WhisperConfig};

/// The languages detection chooses from: fairgig's default served set.
const SERVED: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

/// The model, loaded once for every test of this file.
fn whisper() -> Arc<LocalWhisper> {
    static MODEL: OnceLock<Arc<LocalWhisper>> = OnceLock::new();
    Arc::clone(MODEL.get_or_init(|| {
        let config = WhisperConfig {
            model_dir: model_dir(),
            threads: 0,
            beam_size: 1,
            languages: SERVED.iter().map(|l| (*l).to_owned()).collect(),
        };
        Arc::new(LocalWhisper::load(&config).expect("the Whisper model loads (run `make models`)"))
    }))
}

fn transcribe_file(path: &Path) -> Result<fairgig_asr::Transcript, AsrError> {
    let bytes = std::fs::read(path).expect("the file reads");
    let extension = path.extension().and_then(|e| e.to_str());
    let audio = decode(bytes, extension, AudioLimits::default())?;
    whisper().transcribe(&audio, None)
}

#[test]
fn word_error_rate_on_twenty_spoken_sentences_is_at_most_0_30() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut errors, mut total) = (0, 0);
    for (i, sentence) in sentences().iter().enumerate() {
        let wav = speak(sentence, "en-us", dir.path(), &format!("s{i}"));
        let transcript = transcribe_file(&wav).expect("transcribes");
        let reference = words(sentence);
        let sentence_errors = word_errors(&reference, &words(&transcript.text));
        eprintln!("{sentence_errors:>2} errors: {sentence:?} -> {:?}", transcript.text);
        assert_eq!(transcript.language.as_deref(), Some("en"), "{sentence}");
        errors += sentence_errors;
        total += reference.len();
    }
    let wer = errors as f64 / total as f64;
    eprintln!("word error rate {wer:.3} ({errors} of {total} words), goal <= 0.30");
    assert!(wer <= 0.30, "word error rate {wer:.3}");
}

#[test]
fn every_container_a_client_uploads_is_transcribed() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = "We are looking for a designer who can create a new logo for our brand.";
    let wav = speak(text, "en-us", dir.path(), "logo");
    let files = [
        wav.clone(),
        convert(&wav, "mp3", &["-codec:a", "libmp3lame", "-b:a", "64k"]),
        convert(&wav, "ogg", &["-codec:a", "libopus", "-b:a", "32k"]),
        convert(&wav, "oga", &["-codec:a", "libvorbis", "-f", "ogg"]),
        convert(&wav, "webm", &["-codec:a", "libopus", "-b:a", "32k"]),
        convert(&wav, "m4a", &["-codec:a", "aac", "-b:a", "64k"]),
        convert(&wav, "flac", &[]),
    ];
    for file in files {
        let transcript =
            transcribe_file(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let reference = words(text);
        let wer = word_errors(&reference, &words(&transcript.text)) as f64 / reference.len() as f64;
        eprintln!("{}: {:?} (WER {wer:.2})", file.display(), transcript.text);
        assert!(wer <= 0.30, "{}: {:?}", file.display(), transcript.text);
        assert!(!transcript.segments.is_empty());
        let last = transcript.segments.last().map_or(0.0, |s| s.end_secs);
        assert!(
            last <= transcript.duration_secs + 0.01,
            "segment ends at {last} of {}",
            transcript.duration_secs
        );
    }
}

#[test]
fn the_language_is_detected_for_english_and_german() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cases = [
        ("en-us", "Please build a mobile app that lets customers book appointments.", "en"),
        ("en-us", "The data must be stored securely and kept private.", "en"),
        ("de", "Wir suchen eine Designerin für das neue Logo unserer Bäckerei.", "de"),
        ("de", "Unser Team braucht eine Schulung für die neue Software.", "de"),
        ("de", "Bitte schreiben Sie fünf Artikel über gesunde Ernährung.", "de"),
        ("de", "Die Daten müssen sicher gespeichert werden.", "de"),
        ("de", "Ich bin Inhaber eines kleinen Betriebs und habe keine technische Erfahrung.", "de"),
        ("de", "Schicken Sie mir bitte ein Angebot mit Preis und Zeitplan.", "de"),
        ("de", "Das Projekt soll innerhalb von sechs Wochen fertig sein.", "de"),
    ];
    for (i, (voice, text, language)) in cases.iter().enumerate() {
        let wav = speak(text, voice, dir.path(), &format!("lang{i}"));
        let transcript = transcribe_file(&wav).expect("transcribes");
        eprintln!(
            "{voice}: {:?} {:?} {:?}",
            transcript.language, transcript.language_probability, transcript.text
        );
        assert_eq!(transcript.language.as_deref(), Some(*language), "{text}");
        assert!(transcript.language_probability.is_some_and(|p| p > 0.5));
    }
}

#[test]
fn silence_is_an_empty_transcript_not_an_invention() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let silence = dir.path().join("silence.wav");
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "12"])
        .arg(&silence)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let transcript = transcribe_file(&silence).expect("silence is not an error");
    assert_eq!(transcript.text, "");
    assert!(transcript.segments.is_empty());
    assert!((transcript.duration_secs - 12.0).abs() < 0.1);
}

#[test]
fn broken_files_are_clear_errors_and_a_cut_file_keeps_its_start() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let wav = speak(sentences()[0], "en-us", dir.path(), "bakery");
    let mp3 = convert(&wav, "mp3", &["-codec:a", "libmp3lame", "-b:a", "64k"]);
    let bytes = std::fs::read(&mp3).expect("reads");

    // Garbage with an audio name, and a container with its payload scrambled.
    let garbage: Vec<u8> =
        (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(matches!(
        decode(garbage, Some("webm"), AudioLimits::default()),
        Err(AsrError::Unreadable(_))
    ));
    assert!(matches!(
        decode(Vec::new(), Some("wav"), AudioLimits::default()),
        Err(AsrError::Unreadable(_))
    ));

    // The first 60 % of the file: what is there is transcribed.
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).expect("writes");
    let transcript = transcribe_file(&cut).expect("a cut file still transcribes");
    let heard = words(&transcript.text);
    assert!(
        heard.len() >= 3 && heard.len() < words(sentences()[0]).len() + 2,
        "{:?}",
        transcript.text
    );
    assert!(heard.iter().any(|w| w == "website" || w == "need"), "{:?}", transcript.text);
}

#[test]
fn an_hour_long_recording_takes_bounded_time() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    // An hour: a spoken sentence, then quiet room noise (about −60 dBFS).
    let wav = speak(sentences()[19], "en-us", dir.path(), "offer");
    let hour = dir.path().join("hour.ogg");
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(&wav)
        .args([
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=r=16000:a=0.001:d=3600",
            "-filter_complex",
            "[0:a]aresample=16000[s];[s][1:a]concat=n=2:v=0:a=1",
            "-codec:a",
            "libopus",
            "-b:a",
            "12k",
        ])
        .arg(&hour)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let started = Instant::now();
    let bytes = std::fs::read(&hour).expect("reads");
    let audio = decode(bytes, Some("ogg"), AudioLimits { max_seconds: 600 }).expect("decodes");
    assert!(audio.truncated);
    assert!((audio.duration_secs() - 600.0).abs() < 0.1);
    let transcript = whisper().transcribe(&audio, None).expect("transcribes");
    let took = started.elapsed();
    eprintln!("an hour: first {} s in {took:?}: {:?}", transcript.duration_secs, transcript.text);
    assert!(transcript.truncated);
    assert!(words(&transcript.text).iter().any(|w| w == "offer"), "{:?}", transcript.text);
    assert!(took < Duration::from_secs(120), "took {took:?}");
}
