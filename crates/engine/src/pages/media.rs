//! Images and attachments for pages, in object storage. A file is named by
//! its content (SHA-256 and the extension of its sniffed type), so an
//! upload twice is one object and a name never serves other bytes; pages
//! link it as `/media/<name>`. Only kinds a browser shows without running
//! anything are taken: PNG, JPEG, GIF, WebP and PDF (no SVG: it can carry
//! script).

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::{
    caller::Caller,
    error::{Error, ErrorKind, Result},
    services::Engine,
};

/// The largest file a page may carry (10 MiB).
pub const MAX_MEDIA_BYTES: usize = 10 << 20;

/// Where page media live in object storage.
const PREFIX: &str = "pages/media/";

/// The kinds taken: sniffed type and the extension names carry.
const KINDS: [(&str, &str); 5] = [
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("application/pdf", "pdf"),
];

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// `<sha256>.<ext>`: the file's name under `/media/`.
    pub name: String,
    pub content_type: &'static str,
    pub bytes: usize,
}

impl Media {
    /// How a page shows it: an image, or a link to the attachment.
    pub fn markdown(&self, label: &str) -> String {
        let label = label.replace(['[', ']'], "");
        if self.content_type.starts_with("image/") {
            format!("![{label}](/media/{})", self.name)
        } else {
            format!("[{label}](/media/{})", self.name)
        }
    }
}

/// The content type of a well-formed media name (`None`: not one).
pub fn content_type_of(name: &str) -> Option<&'static str> {
    let (hash, extension) = name.split_once('.')?;
    let hex =
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return None;
    }
    KINDS.iter().find(|(_, ext)| *ext == extension).map(|(kind, _)| *kind)
}

/// The name `bytes` are stored under, if they are of a kind taken.
pub fn name_of(bytes: &[u8]) -> Option<(String, &'static str)> {
    let sniffed = infer::get(bytes)?.mime_type();
    let (kind, extension) = KINDS.iter().find(|(kind, _)| *kind == sniffed)?;
    Some((format!("{}.{extension}", hex::encode(Sha256::digest(bytes))), *kind))
}

/// Stores a file without asking who (the import of an exported site,
/// whose names are checked against their bytes).
pub(crate) async fn store(engine: &Engine, bytes: Bytes) -> Result<Media> {
    if bytes.len() > MAX_MEDIA_BYTES {
        return Err(Error::with_field(ErrorKind::Invalid, "larger than 10 MiB", "file"));
    }
    let Some((name, content_type)) = name_of(&bytes) else {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            "pages take PNG, JPEG, GIF, WebP and PDF files",
        ));
    };
    let size = bytes.len();
    engine
        .storage
        .put(&format!("{PREFIX}{name}"), bytes)
        .await
        .map_err(|err| Error::internal(err, "storing a page's file"))?;
    Ok(Media { name, content_type, bytes: size })
}

/// Uploads a file for pages (admins and page editors).
pub async fn upload(engine: &Engine, caller: &Caller, bytes: Bytes) -> Result<Media> {
    super::require_editor(engine, caller).await?;
    store(engine, bytes).await
}

/// A stored file's bytes and type, for anyone (pages are public once
/// published; a name is only known from a page or its editor).
pub async fn open(engine: &Engine, name: &str) -> Result<(Bytes, &'static str)> {
    let content_type = content_type_of(name).ok_or_else(Error::not_found)?;
    match engine.storage.get(&format!("{PREFIX}{name}")).await {
        Ok(bytes) => Ok((bytes, content_type)),
        Err(err) if err.is_not_found() => Err(Error::not_found()),
        Err(err) => Err(Error::internal(err, "reading a page's file")),
    }
}

/// The media names a page's Markdown links (`/media/<name>`).
pub fn linked(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = markdown
        .split("/media/")
        .skip(1)
        .filter_map(|rest| {
            let name: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
            content_type_of(&name).map(|_| name)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest PNG: a 1×1 transparent pixel's signature and chunks.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
    ];

    #[test]
    fn files_are_named_by_their_bytes_and_kind() {
        let (name, kind) = name_of(PNG).expect("a png");
        assert_eq!(kind, "image/png");
        assert!(name.ends_with(".png") && name.len() == 68, "{name}");
        assert_eq!(content_type_of(&name), Some("image/png"));
        assert_eq!(name_of(b"<svg onload=alert(1)></svg>"), None, "no SVG");
        assert_eq!(name_of(b"just text"), None);
        for bad in ["x.png", "../etc/passwd", &format!("{}.svg", "a".repeat(64)), &"a".repeat(64)] {
            assert_eq!(content_type_of(bad), None, "{bad}");
        }
        let body = format!("![a](/media/{name}) and [b](/media/{name}), [c](/media/nope.png)");
        assert_eq!(linked(&body), vec![name.clone()]);
        let media = Media { name, content_type: "image/png", bytes: PNG.len() };
        assert!(media.markdown("A [logo]").starts_with("![A logo](/media/"));
    }
}
