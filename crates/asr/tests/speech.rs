//! The real Whisper model on speech no one here recorded: sentences spoken
//! by `espeak-ng` and converted by `ffmpeg` into every container a client
//! may upload. Needs `make models` and both tools (`.ci/run` installs them);
//! without the tools this prints SKIP, except in CI, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use fairgig_asr::{decode, AsrError, AudioLimits, LocalWhisper, WhisperConfig};

/// Twenty sentences of the kind clients dictate, fixed so the figure can be
/// compared between versions.
const SENTENCES: [&str; 20] = [
    "I need a website for my bakery with an online order form.",
    "The budget is around three thousand euros and the deadline is the end of March.",
    "We are looking for a designer who can create a new logo for our brand.",
    "Please build a mobile app that lets customers book appointments.",
    "Our shop sells handmade furniture and we want to reach more people online.",
    "The project should be finished within six weeks.",
    "We need someone to translate our product descriptions into German.",
    "The new system must connect to our existing customer database.",
    "I would like a simple landing page that explains what we do.",
    "Can you help us improve the search results on our website?",
    "We want a dashboard that shows our monthly sales and expenses.",
    "The application should work on phones and tablets.",
    "Our team needs training on how to use the new software.",
    "Please write five blog posts about healthy cooking.",
    "We need a video editor to cut a short film for social media.",
    "The data must be stored securely and kept private.",
    "I am a small business owner with no technical background.",
    "We would like regular updates every Friday afternoon.",
    "The photographer should take pictures of our new restaurant.",
    "Send me an offer with a price and a timeline.",
];

/// The languages detection chooses from: fairgig's default served set.
const SERVED: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

fn models_dir() -> PathBuf {
    std::env::var_os("FAIRGIG_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The model, loaded once for every test of this file.
fn whisper() -> Arc<LocalWhisper> {
    static MODEL: OnceLock<Arc<LocalWhisper>> = OnceLock::new();
    Arc::clone(MODEL.get_or_init(|| {
        let config = WhisperConfig {
            model_dir: models_dir().join("whisper-base"),
            threads: 0,
            beam_size: 1,
            languages: SERVED.iter().map(|l| (*l).to_owned()).collect(),
        };
        Arc::new(LocalWhisper::load(&config).expect("the Whisper model loads (run `make models`)"))
    }))
}

/// True when `espeak-ng` and `ffmpeg` are installed; else SKIP (not in CI).
fn speech_tools() -> bool {
    let present = |tool: &str, flag: &str| {
        Command::new(tool).arg(flag).output().is_ok_and(|out| out.status.success())
    };
    if present("espeak-ng", "--version") && present("ffmpeg", "-version") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "espeak-ng and ffmpeg are missing; .ci/run must install them"
    );
    eprintln!("SKIP speech: espeak-ng or ffmpeg is not installed");
    false
}

/// `text` spoken by espeak-ng (`voice`: `en-us`, `de`), as WAV bytes.
fn speak(text: &str, voice: &str, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(status.success(), "espeak-ng failed on {text:?}");
    path
}

/// `input` converted by ffmpeg into `extension` with `codec` arguments.
fn convert(input: &Path, extension: &str, codec: &[&str]) -> PathBuf {
    let output = input.with_extension(extension);
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(codec)
        .arg(&output)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg failed to make {}", output.display());
    output
}

fn transcribe_file(path: &Path) -> Result<fairgig_asr::Transcript, AsrError> {
    let bytes = std::fs::read(path).expect("the file reads");
    let extension = path.extension().and_then(|e| e.to_str());
    let audio = decode(bytes, extension, AudioLimits::default())?;
    whisper().transcribe(&audio, None)
}

/// Lower case, letters, digits and apostrophes only.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance.
fn word_errors(reference: &[String], hypothesis: &[String]) -> usize {
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut current = vec![i + 1; hypothesis.len() + 1];
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(r != h);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[hypothesis.len()]
}

#[test]
fn word_error_rate_on_twenty_spoken_sentences_is_at_most_0_30() {
    if !speech_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut errors, mut total) = (0, 0);
    for (i, sentence) in SENTENCES.iter().enumerate() {
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
    let wav = speak(SENTENCES[0], "en-us", dir.path(), "bakery");
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
        heard.len() >= 3 && heard.len() < words(SENTENCES[0]).len() + 2,
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
    let wav = speak(SENTENCES[19], "en-us", dir.path(), "offer");
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
