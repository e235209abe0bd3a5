//! The API's one error type and its one code → status table.
//!
//! Every error reaches the client as
//! `{"error": {"code": "stable_snake_case", "message": "...", "field": "..."?}}`.
//! Internal errors show only an id; the cause chain is logged once, with it.

use axum::{
    extract::rejection::{PathRejection, QueryRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use fairgig_core::ValidationError;
use fairgig_engine::ErrorKind;
use fairgig_store::StoreError;
use serde::Serialize;
use uuid::Uuid;

/// Stable error codes. Clients branch on these, so never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    InvalidBody,
    InvalidQuery,
    InvalidPath,
    ValidationFailed,
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    RateLimited,
    Timeout,
    Unavailable,
    InternalError,
}

impl ErrorCode {
    /// The table: each code has exactly one status.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::InvalidBody
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidPath => StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A client mistake with a code, a message meant for them and maybe a field.
    #[error("{message}")]
    Client { code: ErrorCode, message: String, field: Option<String> },
    /// Too many requests; retry after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// Anything unexpected. Never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Client { code, message: message.into(), field: None }
    }

    pub fn with_field(
        code: ErrorCode,
        message: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        ApiError::Client { code, message: message.into(), field: Some(field.into()) }
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "authentication required")
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "you may not do this")
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Client { code, .. } => *code,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

/// The JSON body of every error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let (message, field) = match self {
            ApiError::Client { message, field, .. } => (message, field),
            ApiError::RateLimited { retry_after_secs } => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code,
                        message: format!("too many requests; retry in {retry_after_secs} s"),
                        field: None,
                    },
                };
                let mut response = (code.status(), Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                return response;
            }
            ApiError::Internal(err) => {
                let id = Uuid::now_v7();
                tracing::error!(
                    error.id = %id,
                    error.message = %err,
                    error.cause_chain = ?err,
                    "internal error"
                );
                (format!("internal error (id {id})"), None)
            }
        };
        let mut response =
            (code.status(), Json(ErrorBody { error: ErrorDetail { code, message, field } }))
                .into_response();
        if code == ErrorCode::Unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_UNAVAILABLE_SECS));
        }
        response
    }
}

/// `Retry-After` of a 503: long enough for a database restart or a model
/// to come back, short enough that a client is not left waiting.
pub const RETRY_UNAVAILABLE_SECS: u64 = 5;

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::with_field(ErrorCode::ValidationFailed, err.message, err.field)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found(),
            unavailable if unavailable.is_unavailable() => {
                fairgig_engine::Error::from(unavailable).into()
            }
            StoreError::Conflict { field } => ApiError::with_field(
                ErrorCode::Conflict,
                format!("{field} is already taken"),
                field,
            ),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// The engine's refusals, each on its error code: the one place a
/// use case's [`ErrorKind`] becomes an HTTP status.
impl From<fairgig_engine::Error> for ApiError {
    fn from(err: fairgig_engine::Error) -> Self {
        match err {
            fairgig_engine::Error::Refused { kind, message, field } => {
                let code = match kind {
                    ErrorKind::Invalid => ErrorCode::ValidationFailed,
                    ErrorKind::Conflict => ErrorCode::Conflict,
                    ErrorKind::NotFound => ErrorCode::NotFound,
                    ErrorKind::Forbidden => ErrorCode::Forbidden,
                    ErrorKind::Unauthorized => ErrorCode::Unauthorized,
                    ErrorKind::InvalidCredentials => ErrorCode::InvalidCredentials,
                    ErrorKind::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
                    ErrorKind::Unavailable => ErrorCode::Unavailable,
                };
                ApiError::Client { code, message, field }
            }
            fairgig_engine::Error::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            fairgig_engine::Error::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidQuery, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(ErrorCode::InvalidPath, rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_reveal_nothing_but_an_id() {
        let response =
            ApiError::Internal(anyhow::anyhow!("password=hunter2 in a query")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("hunter2"), "{body}");
        assert!(body.contains("\"code\":\"internal_error\""), "{body}");
    }

    #[test]
    fn validation_errors_name_their_field() {
        let err: ApiError = ValidationError::new("email", "must contain @").into();
        match err {
            ApiError::Client { code, field, .. } => {
                assert_eq!(code, ErrorCode::ValidationFailed);
                assert_eq!(field.as_deref(), Some("email"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
