//! Authentication: password hashing, access and refresh tokens, API keys, and
//! the [`Caller`] extractor that every protected endpoint takes.

pub mod api_keys;
mod caller;
pub mod passwords;
pub mod tokens;

pub use caller::{presented_credential, Caller, Credential, VerifiedAccess};
