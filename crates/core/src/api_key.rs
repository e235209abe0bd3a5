//! API-key scopes: what a key may do on behalf of its owner.
//!
//! A key never grants more than its owner's role allows; scopes only narrow.
//! Browser sessions (JWT) carry every scope of their role.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read the owner's own objects.
    Read,
    /// Create, change and delete the owner's own objects.
    Write,
    /// Administration endpoints (only effective for admin owners).
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];
    /// What `api-key create` grants when no `--scope` is given.
    pub const DEFAULT: [Scope; 2] = [Scope::Read, Scope::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            ValidationError::new("scopes", "each scope must be one of read, write, admin")
        })
    }
}

/// Parses a comma-separated list as stored in the database, skipping unknown
/// names so that a downgrade never locks a key out entirely.
pub fn parse_scope_list(stored: &str) -> Vec<Scope> {
    stored.split(',').filter_map(|name| name.trim().parse().ok()).collect()
}

pub fn format_scope_list(scopes: &[Scope]) -> String {
    scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_round_trip() {
        let scopes = vec![Scope::Read, Scope::Admin];
        assert_eq!(parse_scope_list(&format_scope_list(&scopes)), scopes);
    }

    #[test]
    fn unknown_stored_scopes_are_skipped() {
        assert_eq!(parse_scope_list("read,teleport"), vec![Scope::Read]);
    }
}
