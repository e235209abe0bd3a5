//! The engine's one error type: what went wrong, in words a user can act
//! on, and which kind of refusal it is. The server maps each [`ErrorKind`]
//! to its HTTP error code in one place (`server::error`); the portal maps it
//! to a message beside the field.

use fairgig_core::ValidationError;
use fairgig_store::StoreError;

/// Why a use case refused, independent of how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An input broke a rule; the field says which.
    Invalid,
    /// The request clashes with the current state (already taken, already
    /// finished, changed meanwhile).
    Conflict,
    /// No such thing visible to the caller.
    NotFound,
    /// The caller may not do this.
    Forbidden,
    /// No valid credential.
    Unauthorized,
    /// Email or password wrong.
    InvalidCredentials,
    /// The upload is not of a kind the use case accepts.
    UnsupportedMediaType,
    /// A service this needs (the database, the embedding model) did not
    /// answer; worth a retry (HTTP: 503 with `Retry-After`).
    Unavailable,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal the caller can act on, with a message meant for them and
    /// maybe the field it is about.
    #[error("{message}")]
    Refused { kind: ErrorKind, message: String, field: Option<String> },
    /// Too many attempts; retry after this many seconds.
    #[error("rate limited; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Anything unexpected. Its text is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::Refused { kind, message: message.into(), field: None }
    }

    pub fn with_field(
        kind: ErrorKind,
        message: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        Error::Refused { kind, message: message.into(), field: Some(field.into()) }
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "authentication required")
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorKind::Forbidden, "you may not do this")
    }

    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not found")
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// An unexpected failure with what was being done.
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static, doing: &str) -> Self {
        Error::Internal(anyhow::Error::new(err).context(doing.to_owned()))
    }
}

impl From<ValidationError> for Error {
    fn from(err: ValidationError) -> Self {
        Error::with_field(ErrorKind::Invalid, err.message, err.field)
    }
}

/// What a caller is told when the database cannot be reached.
pub const DATABASE_UNAVAILABLE: &str =
    "the database is not reachable right now; try again in a few seconds";

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Error::not_found(),
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %unavailable, cause = ?unavailable, "database unavailable");
                Error::new(ErrorKind::Unavailable, DATABASE_UNAVAILABLE)
            }
            StoreError::Stale { current } => Error::with_field(
                ErrorKind::Conflict,
                format!(
                    "someone saved this since you opened it: it is now at version {current}; \
                     reload it and apply your changes again"
                ),
                "version",
            ),
            StoreError::Conflict { field } => {
                Error::with_field(ErrorKind::Conflict, format!("{field} is already taken"), field)
            }
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}
