//! What every portal page shares (language, the signed-in person, the CSRF
//! token, asset URLs), rendering a template, and the error page.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{FromRequestParts, Query},
    http::{request::Parts, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use fairgig_core::user::Role;
use fairgig_engine::{pages::footer::FooterLink, ErrorKind};

use super::{
    assets,
    i18n::{Locale, Messages},
    session::Visitor,
};

/// The frame of every page: `page.t.msg("…")` in templates.
#[derive(Debug)]
pub struct Page {
    pub t: Messages,
    pub lang: &'static str,
    /// The `<title>`, before " · fairgig".
    pub title: String,
    pub csrf: String,
    /// The signed-in person's name and role, for the header.
    pub user: Option<(String, Role)>,
    pub css: String,
    /// Set on pages that use htmx (and its SSE extension).
    pub scripts: Vec<String>,
    /// This page's path, to return to after switching the language.
    pub path: String,
    /// Links to the site's own pages (tagged `footer`).
    pub footer: Arc<Vec<FooterLink>>,
}

impl Page {
    pub fn new(visitor: &Visitor, title_key: &str) -> Page {
        let t = visitor.messages();
        Page {
            title: t.msg(title_key),
            t,
            lang: visitor.locale.tag(),
            csrf: visitor.csrf.clone(),
            user: visitor.caller.as_ref().map(|c| (c.user.display_name.to_string(), c.user.role)),
            css: assets::url("portal.css"),
            scripts: Vec::new(),
            path: visitor.path.clone(),
            footer: Arc::clone(&visitor.footer),
        }
    }

    /// The languages the language menu offers.
    pub fn languages(&self) -> [Locale; 5] {
        Locale::ALL
    }

    /// This page's language, named in itself.
    pub fn language_name(&self) -> &'static str {
        self.t.locale.endonym()
    }

    /// Loads htmx and its SSE extension.
    pub fn with_htmx(mut self) -> Page {
        self.scripts = vec![assets::url("htmx.min.js"), assets::url("htmx-ext-sse.min.js")];
        self
    }

    /// The message for a value of an enumeration: `label("status", "open")`
    /// is message `status-open`.
    pub fn label(&self, prefix: &str, value: &str) -> String {
        self.t.msg(&format!("{prefix}-{}", value.replace('_', "-")))
    }

    /// String equality for templates (which compare through references).
    pub fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn user_name(&self) -> &str {
        self.user.as_ref().map_or("", |(name, _)| name.as_str())
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.user, Some((_, Role::Admin)))
    }

    pub fn is_client(&self) -> bool {
        matches!(self.user, Some((_, Role::Client | Role::Admin)))
    }
}

/// A query string read leniently: a malformed one reads as the defaults, so
/// a mangled link shows the page rather than an error.
#[derive(Debug)]
pub struct LenientQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for LenientQuery<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let query = Query::<T>::from_request_parts(parts, state).await;
        Ok(LenientQuery(query.map(|Query(query)| query).unwrap_or_default()))
    }
}

/// An id from the path; a malformed one names nothing, so the page is 404.
pub fn path_id<T: std::str::FromStr>(visitor: &Visitor, raw: &str) -> Result<T, PortalError> {
    raw.parse().map_err(|_| PortalError::new(visitor, StatusCode::NOT_FOUND))
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Visitor>().cloned().ok_or_else(|| PortalError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            locale: Locale::En,
            request_id: String::new(),
        })
    }
}

/// Renders a page; a template that fails to render is a 500.
pub fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "a portal template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page that cannot be shown: 404, 403 or 500, in the visitor's
/// language, with the request id to quote.
#[derive(Debug)]
pub struct PortalError {
    pub status: StatusCode,
    pub locale: Locale,
    pub request_id: String,
}

impl PortalError {
    pub fn new(visitor: &Visitor, status: StatusCode) -> Self {
        PortalError { status, locale: visitor.locale, request_id: visitor.request_id.clone() }
    }

    /// An engine refusal on a page that has no form to show it beside.
    pub fn from_engine(visitor: &Visitor, err: fairgig_engine::Error) -> Self {
        let status = match &err {
            fairgig_engine::Error::Refused { kind: ErrorKind::NotFound, .. } => {
                StatusCode::NOT_FOUND
            }
            fairgig_engine::Error::Refused {
                kind: ErrorKind::Forbidden | ErrorKind::Unauthorized,
                ..
            } => StatusCode::FORBIDDEN,
            fairgig_engine::Error::Refused { .. } => StatusCode::CONFLICT,
            fairgig_engine::Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            fairgig_engine::Error::Internal(cause) => {
                tracing::error!(error.cause_chain = ?cause, request_id = %visitor.request_id, "portal page failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        PortalError::new(visitor, status)
    }
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    page: Page,
    status: u16,
    message: String,
    request_id: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/signin").into_response();
        }
        let visitor = Visitor {
            caller: None,
            csrf: String::new(),
            locale: self.locale,
            secure: false,
            request_id: self.request_id.clone(),
            path: "/".into(),
            footer: Arc::default(),
        };
        let key = match self.status {
            StatusCode::NOT_FOUND => "error-not-found",
            StatusCode::FORBIDDEN => "error-forbidden",
            StatusCode::CONFLICT => "error-conflict",
            StatusCode::TOO_MANY_REQUESTS => "error-rate-limited",
            _ => "error-internal",
        };
        let page = Page::new(&visitor, key);
        let message = page.t.msg(&format!("{key}-text"));
        render_with(
            self.status,
            &ErrorPage { page, status: self.status.as_u16(), message, request_id: self.request_id },
        )
    }
}

/// Pages for signed-in people send others to sign in first (the error
/// page of `401` is that redirect).
pub fn require_sign_in(visitor: &Visitor) -> Result<&fairgig_engine::Caller, PortalError> {
    visitor.caller.as_ref().ok_or_else(|| PortalError::new(visitor, StatusCode::UNAUTHORIZED))
}

/// A form with only its CSRF token (buttons that act).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub _csrf: String,
}

/// Refuses a state-changing form whose CSRF token is not the visitor's.
pub fn check_csrf(visitor: &Visitor, submitted: &str) -> Result<(), PortalError> {
    if visitor.csrf_matches(submitted) {
        Ok(())
    } else {
        Err(PortalError::new(visitor, StatusCode::FORBIDDEN))
    }
}
