//! Audit-log entries. The log is append-only and hash-chained (see the store
//! crate); this module defines what an entry says and the names of actions.

use serde::Serialize;
use time::OffsetDateTime;

/// Names of audited actions, `area.verb`. Stable: dashboards and queries use them.
pub mod actions {
    pub const USER_REGISTERED: &str = "user.registered";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_ROLE_CHANGED: &str = "user.role_changed";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const PASSWORD_CHANGED: &str = "auth.password_changed";
    pub const PASSWORD_RESET_REQUESTED: &str = "auth.password_reset_requested";
    pub const PASSWORD_RESET: &str = "auth.password_reset";
    pub const EMAIL_VERIFIED: &str = "auth.email_verified";
    pub const LOGIN_SUCCEEDED: &str = "auth.login_succeeded";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const LOGOUT: &str = "auth.logout";
    pub const REFRESH_REUSE_DETECTED: &str = "auth.refresh_reuse_detected";
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_REVOKED: &str = "api_key.revoked";
    pub const MATCH_RANKED: &str = "match.ranked";
    pub const JOB_DELETED: &str = "job.deleted";
    pub const PAGE_CREATED: &str = "page.created";
    pub const PAGE_SAVED: &str = "page.saved";
    pub const PAGE_RESTORED: &str = "page.restored";
    pub const PAGE_EDITOR_GRANTED: &str = "page_editor.granted";
    pub const PAGE_EDITOR_REVOKED: &str = "page_editor.revoked";
    pub const NOTIFICATION_SENT: &str = "notification.sent";
    pub const NOTIFICATION_FAILED: &str = "notification.failed";
    pub const NOTIFICATION_DEAD: &str = "notification.dead";
    pub const NOTIFICATION_RETRIED: &str = "notification.retried";
}

/// Who did it: a user, the command line, or nobody known (a failed login).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User(crate::ids::UserId),
    Cli,
    Anonymous,
    /// fairgig itself, acting on nobody's request (e.g. sending a notification).
    System,
}

impl Actor {
    pub fn as_stored(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Cli => "cli".to_owned(),
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::System => "system".to_owned(),
        }
    }
}

/// What the caller knows about the request an action came from.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// An entry to append.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    pub actor: Actor,
    pub action: &'static str,
    pub target: Option<String>,
    pub context: RequestContext,
    pub details: serde_json::Value,
}

impl NewAuditEntry {
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self {
            actor,
            action,
            target: None,
            context: RequestContext::default(),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored entry, as the API returns it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, 1-based, without gaps.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// SHA-256 (hex) of this entry chained to the previous one.
    pub hash: String,
}
