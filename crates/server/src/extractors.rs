//! Extractors that turn every malformed input into the API's error shape.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
pub use fairgig_http::ClientInfo;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// `Json` with our errors: 415 without a JSON content type, 413 over the body
/// limit, 400 `invalid_json` for syntax errors and 400 `invalid_body` naming
/// the field for wrong types, missing and unknown fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Deserialises JSON, naming the offending field on type errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {inner}"));
        }
        let message = inner.to_string();
        let field = unknown_field_name(&message)
            .map(|name| {
                // Some serde paths already end in the unknown key, some stop at its parent.
                if path == "." {
                    name
                } else if path == name || path.ends_with(&format!(".{name}")) {
                    path.clone()
                } else {
                    format!("{path}.{name}")
                }
            })
            .unwrap_or(path);
        if field == "." || field.is_empty() {
            ApiError::new(ErrorCode::InvalidBody, message)
        } else {
            ApiError::with_field(ErrorCode::InvalidBody, message, field)
        }
    })?;
    deserializer
        .end()
        .map_err(|err| ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {err}")))?;
    Ok(value)
}

/// serde reports unknown fields at the containing object's path; the name is
/// only in the message ("unknown field `x`, expected …").
fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// `Path` with our errors: a malformed path segment is 400 `invalid_path`
/// in the JSON error shape (axum's own rejection is plain text).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<T, S> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(AppPath(value))
    }
}

/// `Query` with our errors: a malformed query string is 400 `invalid_query`
/// in the JSON error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        age: u8,
    }

    fn field_of(body: &str) -> (ErrorCode, Option<String>) {
        match parse_json::<Input>(body.as_bytes()) {
            Err(ApiError::Client { code, field, .. }) => (code, field),
            other => panic!("expected a client error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let cases = [
            (r#"{"name": 1, "age": 3}"#, ErrorCode::InvalidBody, Some("name"), "wrong type"),
            (r#"{"name": "a", "age": 300}"#, ErrorCode::InvalidBody, Some("age"), "out of range"),
            (r#"{"name": "a", "age": 3, "x": 1}"#, ErrorCode::InvalidBody, Some("x"), "unknown"),
            (r#"{"name": "a""#, ErrorCode::InvalidJson, None, "truncated"),
            (r#"{"name": "a", "age": 3} trailing"#, ErrorCode::InvalidJson, None, "trailing"),
            ("", ErrorCode::InvalidJson, None, "empty"),
        ];
        for (body, code, field, why) in cases {
            assert_eq!(field_of(body), (code, field.map(str::to_owned)), "{why}");
        }
    }

    #[test]
    fn missing_fields_are_reported() {
        let (code, _) = field_of(r#"{"name": "a"}"#);
        assert_eq!(code, ErrorCode::InvalidBody);
    }
}
