//! Who is acting: a user and the credential they proved it with.
//!
//! Use cases take a [`Caller`] and declare what they need with
//! [`Caller::require`] or [`Caller::require_admin`] as their first line, so
//! "who may do this" is read at the top. The server turns a bearer token or
//! an API key into a `Caller` (and the portal a session cookie); the rules
//! about what each may do are here.

use fairgig_core::{
    api_key::Scope,
    ids::{ApiKeyId, SessionId},
    user::{Role, User},
};

use crate::error::{Error, ErrorKind, Result};

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A signed-in session (access token); holds every scope of the role.
    Session(SessionId),
    /// An API key, limited to its scopes.
    ApiKey { id: ApiKeyId, scopes: Vec<Scope> },
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

impl Caller {
    /// Fails with 403 unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        match &self.credential {
            Credential::Session(_) => Ok(()),
            Credential::ApiKey { scopes, .. } if scopes.contains(&scope) => Ok(()),
            Credential::ApiKey { .. } => Err(Error::new(
                ErrorKind::Forbidden,
                format!("this API key lacks the {scope} scope"),
            )),
        }
    }

    /// Fails with 403 unless the caller is an admin (and, for a key, has the admin scope).
    pub fn require_admin(&self) -> Result<()> {
        if self.user.role != Role::Admin {
            return Err(Error::forbidden());
        }
        self.require(Scope::Admin)
    }

    /// Fails with 403 for API keys: some acts (creating keys, changing the
    /// password) need the person, not a delegated key.
    pub fn require_session(&self) -> Result<()> {
        match self.credential {
            Credential::Session(_) => Ok(()),
            Credential::ApiKey { .. } => Err(Error::new(
                ErrorKind::Forbidden,
                "this needs a signed-in session, not an API key",
            )),
        }
    }

    pub fn session(&self) -> Option<SessionId> {
        match self.credential {
            Credential::Session(session) => Some(session),
            Credential::ApiKey { .. } => None,
        }
    }
}
