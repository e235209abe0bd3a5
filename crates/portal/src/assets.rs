//! The portal's static files, built into the binary and served under a
//! URL that carries their content hash, so browsers may keep them for a
//! year: a new build with a changed file has a new URL.
//!
//! Vendored files come from npm at a pinned version; `assets/vendor/README.md`
//! lists each with its licence and SHA-256, and a test checks the bytes.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "portal.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/portal.css"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/htmx.min.js"),
    },
    Asset {
        name: "htmx-ext-sse.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/htmx-ext-sse.min.js"),
    },
];

/// Each asset's served file name: `htmx.min.3f2a1b9c0d.js`.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = hex::encode(Sha256::digest(asset.bytes));
            let (stem, extension) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
            (format!("{stem}.{}.{extension}", &digest[..10]), asset)
        })
        .collect()
});

/// The URL of the asset named `name` (as listed above).
pub fn url(name: &str) -> String {
    HASHED
        .iter()
        .find(|(_, asset)| asset.name == name)
        .map_or_else(|| format!("/assets/{name}"), |(file, _)| format!("/assets/{file}"))
}

/// `GET /assets/{file}`: immutable, cached for a year.
pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, asset)) = HASHED.iter().find(|(hashed, _)| *hashed == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_files_are_the_pinned_npm_releases() {
        let listed = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/vendor/README.md"
        ))
        .expect("vendor README");
        for asset in ASSETS.iter().filter(|asset| asset.name.contains("htmx")) {
            let digest = hex::encode(Sha256::digest(asset.bytes));
            assert!(
                listed.lines().any(|line| line.contains(asset.name) && line.contains(&digest)),
                "{} ({digest}) is not listed in assets/vendor/README.md",
                asset.name
            );
        }
    }

    #[test]
    fn urls_carry_the_content_hash() {
        let css = url("portal.css");
        assert!(css.starts_with("/assets/portal.") && css.ends_with(".css") && css.len() > 25);
        assert!(HASHED.iter().any(|(file, _)| css.ends_with(file.as_str())));
    }
}
