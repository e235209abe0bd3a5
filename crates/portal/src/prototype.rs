//! `/prototypes/<token>`: a request's landing-page prototype, for anyone the client
//! shares the link with (no sign-in: the token is the key). Served under
//! the page's own policy, which allows its inline styles and nothing else.

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use fairgig_engine::prototypes::{self, CONTENT_SECURITY_POLICY};

use crate::{page::PortalError, session::Visitor, PortalState};

pub async fn serve(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PortalError> {
    let html = prototypes::open(&state.engine, &token)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300")),
        (header::HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex")),
    ];
    Ok((headers, html).into_response())
}
