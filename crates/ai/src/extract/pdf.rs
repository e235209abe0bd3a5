//! PDF text via `pdf-extract` (pure Rust), page by page, with OCR for pages
//! that carry no text layer (scans) when `pdftoppm` and `tesseract` exist.

use super::{ocr, ExtractError, Limits, OcrStatus, Parsed};

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Parsed, ExtractError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(ExtractError::Corrupt("no PDF header".to_owned()));
    }
    if is_encrypted(bytes) {
        return Err(ExtractError::Encrypted);
    }
    let pages = pdf_extract::extract_text_from_mem_by_pages(bytes)
        .map_err(|err| ExtractError::Corrupt(format!("PDF: {err}")))?;
    let cut = pages.len() > limits.max_pages;
    let read: Vec<String> = pages.into_iter().take(limits.max_pages).collect();
    let text = read.join("\n\n");
    let page_count = read.len();
    if text.trim().is_empty() && page_count > 0 {
        // No text layer: a scan. Read it with OCR if we can, and say if we cannot.
        let pages = Some((page_count, cut));
        return Ok(match ocr::pdf(bytes, limits.max_pages) {
            Ok(Some(text)) => Parsed { text, pages, ocr: OcrStatus::Applied },
            Ok(None) => Parsed { text: String::new(), pages, ocr: OcrStatus::Unavailable },
            Err(reason) => Parsed { text: String::new(), pages, ocr: OcrStatus::Failed { reason } },
        });
    }
    Ok(Parsed { text, pages: Some((page_count, cut)), ocr: OcrStatus::NotNeeded })
}
/// An `/Encrypt` entry in the trailer (or a cross-reference stream) means the
/// content streams are encrypted; even an empty user password would need a
/// decryptor we do not run on untrusted input.
fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|window| window == b"/Encrypt")
}
