//! The single error type of every parser in this crate.

/// A user-supplied value was refused. `field` names the input field so the API
/// can point at it (`{"error": {"field": "email", ...}}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// Checks shared by every free-text field: length in characters and no control
/// characters (they break logs and terminals, and PostgreSQL refuses NUL).
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    min_chars: usize,
    max_chars: usize,
) -> Result<(), ValidationError> {
    let chars = value.chars().count();
    if chars < min_chars {
        return Err(if min_chars == 1 {
            ValidationError::new(field, "must not be empty")
        } else {
            ValidationError::new(field, format!("must be at least {min_chars} characters"))
        });
    }
    if chars > max_chars {
        return Err(ValidationError::new(field, format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(())
}
