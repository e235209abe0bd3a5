//! Speech for tests, made here rather than recorded: `espeak-ng` speaks,
//! `ffmpeg` encodes into the containers clients upload (`.ci/run` installs
//! both). Without them [`speech_tools`] prints SKIP, except in CI, where it
//! fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// True when `espeak-ng` and `ffmpeg` run; else a SKIP line (a failure in CI).
pub fn speech_tools() -> bool {
    let runs = |tool: &str, flag: &str| {
        Command::new(tool).arg(flag).output().is_ok_and(|out| out.status.success())
    };
    if runs("espeak-ng", "--version") && runs("ffmpeg", "-version") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "espeak-ng and ffmpeg are missing; .ci/run must install them"
    );
    eprintln!("SKIP speech: espeak-ng or ffmpeg is not installed");
    false
}

/// `text` spoken by espeak-ng in `voice` (`en-us`, `de`) into `dir/name.wav`.
pub fn speak(text: &str, voice: &str, dir: &Path, name: &str) -> PathBuf {
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

/// `input` re-encoded by ffmpeg with `arguments` (codec, bit rate) into a
/// file with `extension` beside it.
pub fn convert(input: &Path, extension: &str, arguments: &[&str]) -> PathBuf {
    let output = input.with_extension(extension);
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(arguments)
        .arg(&output)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg failed to make {}", output.display());
    output
}

/// Where `make models` put the Whisper model (`FAIRGIG_MODELS_DIR` moves it).
pub fn model_dir() -> PathBuf {
    std::env::var_os("FAIRGIG_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
        .join("whisper-base")
}
