//! OCR through the `tesseract` command (and `pdftoppm` to render PDF pages),
//! used only when both are installed; otherwise the result says so.

use std::process::Command;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OcrStatus {
    /// The document had a text layer.
    NotNeeded,
    /// Text was recognised from page images.
    Applied,
    /// The document needs OCR but `tesseract`/`pdftoppm` are not installed.
    Unavailable,
    /// OCR ran and failed.
    Failed { reason: String },
}

fn installed(program: &str) -> bool {
    Command::new(program).arg("-v").output().is_ok()
}

/// OCR of a PDF's first `max_pages` pages; `Ok(None)` when the tools are missing.
pub(super) fn pdf(bytes: &[u8], max_pages: usize) -> Result<Option<String>, String> {
    if !installed("pdftoppm") || !installed("tesseract") {
        return Ok(None);
    }
    let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, bytes).map_err(|err| err.to_string())?;
    let prefix = dir.path().join("page");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-l", &max_pages.to_string()])
        .arg(&input)
        .arg(&prefix)
        .output()
        .map_err(|err| err.to_string())?;
    if !rendered.status.success() {
        return Err(format!("pdftoppm: {}", String::from_utf8_lossy(&rendered.stderr).trim()));
    }
    let mut images: Vec<_> = std::fs::read_dir(dir.path())
        .map_err(|err| err.to_string())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
        .collect();
    images.sort();
    let mut text = String::new();
    for image in images {
        let out = Command::new("tesseract")
            .arg(&image)
            .arg("stdout")
            .output()
            .map_err(|err| err.to_string())?;
        if !out.status.success() {
            return Err(format!("tesseract: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str("\n\n");
    }
    Ok(Some(text))
}
