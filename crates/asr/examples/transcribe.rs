//! `cargo run -p fairgig-asr --example transcribe -- MODEL_DIR FILE [LANG]`
use fairgig_asr::{decode, AudioLimits, LocalWhisper, WhisperConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(model_dir), Some(file)) = (args.get(1), args.get(2)) else {
        return Err("usage: transcribe MODEL_DIR FILE [LANG]".into());
    };
    let whisper = LocalWhisper::load(&WhisperConfig {
        model_dir: model_dir.into(),
        threads: 0,
        beam_size: 1,
        languages: std::env::var("LANGS")
            .map(|l| l.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    })?;
    let extension =
        std::path::Path::new(file).extension().and_then(|e| e.to_str()).map(str::to_owned);
    let started = std::time::Instant::now();
    let audio = decode(std::fs::read(file)?, extension.as_deref(), AudioLimits::default())?;
    let transcript = whisper.transcribe(&audio, args.get(3).map(String::as_str))?;
    println!("{}", serde_json::to_string_pretty(&transcript)?);
    eprintln!("{:.1} s of audio in {:.2?}", transcript.duration_secs, started.elapsed());
    Ok(())
}
