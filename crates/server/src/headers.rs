//! Response headers that depend on what was asked for: API answers are
//! never stored by a cache (they carry tokens, keys, secrets and people's
//! data) and may run no content; the interactive docs get a policy the
//! bundled Swagger UI works with.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// API responses: nothing to load, nothing to frame.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Swagger UI loads its own scripts and styles (no inline script; React sets
/// inline style attributes), data: icons, and fetches the spec.
const DOCS_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Portal pages: their own scripts and styles only (htmx, no inline
/// script or style), server-sent events from the same origin, forms posted
/// to the same origin, never framed.
const PORTAL_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Sets `Cache-Control: no-store` on every `/api/v1` answer that did not
/// choose its own, and the content security policy of each area.
pub async fn by_area(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let (api, docs) = (path.starts_with("/api/"), path == "/docs" || path.starts_with("/docs/"));
    let portal = !api && !docs && fairgig_portal::owns(path);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if portal && !headers.contains_key(header::CACHE_CONTROL) {
        // Pages carry a person's data and CSRF token: not for shared caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    let policy = if docs {
        DOCS_POLICY
    } else if portal {
        PORTAL_POLICY
    } else {
        API_POLICY
    };
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| HeaderValue::from_static(policy));
    response
}
