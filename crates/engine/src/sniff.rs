//! What an upload really is, from its bytes; the client's claimed content
//! type is never trusted. Only the allow-listed kinds are accepted.

/// Document types accepted as attachments.
pub const DOCUMENT_TYPES: [&str; 5] = [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/markdown",
    "text/html",
];

/// Audio types accepted as voice recordings.
pub const AUDIO_TYPES: [&str; 5] =
    ["audio/wav", "audio/mpeg", "audio/ogg", "audio/webm", "audio/mp4"];

/// The sniffed content type, if it is one we accept.
pub fn sniff(bytes: &[u8], filename: &str) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes).filter(|kind| !kind.mime_type().starts_with("text/")) {
        return match kind.mime_type() {
            "application/pdf" => Some("application/pdf"),
            "application/zip"
            | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if contains(bytes, b"word/document.xml") =>
            {
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            }
            "audio/x-wav" | "audio/wav" => Some("audio/wav"),
            "audio/mpeg" => Some("audio/mpeg"),
            "audio/ogg" | "audio/opus" => Some("audio/ogg"),
            "video/webm" | "audio/webm" => Some("audio/webm"),
            "audio/m4a" | "audio/x-m4a" | "video/mp4" | "audio/mp4" => Some("audio/mp4"),
            _ => None,
        };
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    let head: String = text.trim_start().chars().take(15).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Some("text/html");
    }
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        return Some("text/markdown");
    }
    Some("text/plain")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// A filename safe to store and show: the last path component, characters
/// outside letters, digits, `.`, `-`, `_` and space replaced by `_`, no
/// leading dots, at most 100 characters; `upload` if nothing is left.
pub fn sanitise_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(100)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_judged_by_its_bytes() {
        let cases: [(&[u8], &str, Option<&str>); 7] = [
            (b"%PDF-1.4\n...", "x.docx", Some("application/pdf")),
            (b"# Title\n", "brief.md", Some("text/markdown")),
            (b"plain words", "notes.pdf", Some("text/plain")),
            (b"<!DOCTYPE html><p>x", "a.txt", Some("text/html")),
            (b"MZ\x90\x00\x03\x00\x00\x00", "invoice.pdf", None),
            (b"\x00\x01\x02binary", "data.txt", None),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "voice.wav", Some("audio/wav")),
        ];
        for (bytes, name, expected) in cases {
            assert_eq!(sniff(bytes, name), expected, "{name}");
        }
    }

    #[test]
    fn filenames_lose_paths_and_odd_characters() {
        let cases = [
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\a\\brief.pdf", "brief.pdf"),
            (".hidden", "hidden"),
            ("a<b>c|d.txt", "a_b_c_d.txt"),
            ("", "upload"),
            ("\u{202e}exe.pdf", "_exe.pdf"),
        ];
        for (raw, expected) in cases {
            assert_eq!(sanitise_filename(raw), expected, "{raw:?}");
        }
    }
}
