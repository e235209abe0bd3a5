//! Sign up, sign in, sign out. The rules (password strength, lockouts,
//! audit, sessions) are the engine's; these pages show its answers beside
//! the fields, keeping what was typed (never the password).

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::user::Role;
use fairgig_engine::accounts::{self, AccountInput, BrowserSession};
use serde::Deserialize;

use super::{
    page::{check_csrf, render_with, CsrfForm, LenientQuery, Page, PortalError},
    session::{append_cookie, Visitor},
};
use fairgig_http::ClientInfo;

use crate::PortalState;

/// A form's refusal, shown beside its field (or above the form).
#[derive(Debug, Default)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// The message for `field`, if the refusal is about it.
    pub fn on(&self, field: &str) -> String {
        if self.field == field {
            self.message.clone()
        } else {
            String::new()
        }
    }

    /// A refusal not about one of the form's fields.
    pub fn general(&self, fields: &[&str]) -> String {
        if self.message.is_empty() || fields.contains(&self.field.as_str()) {
            String::new()
        } else {
            self.message.clone()
        }
    }

    pub fn from_engine(visitor: &Visitor, err: fairgig_engine::Error) -> Result<Self, PortalError> {
        let t = visitor.messages();
        match err {
            fairgig_engine::Error::Refused { message, field, .. } => {
                Ok(FieldError { field: field.unwrap_or_default(), message })
            }
            fairgig_engine::Error::RateLimited { retry_after_secs } => Ok(FieldError {
                field: String::new(),
                message: t.msg_with("signin-locked", "seconds", retry_after_secs),
            }),
            other => Err(PortalError::from_engine(visitor, other)),
        }
    }
}

/// Signs the visitor in: a new session cookie, then the dashboard.
fn signed_in(visitor: &Visitor, session: BrowserSession) -> Response {
    let mut response = Redirect::to("/dashboard").into_response();
    append_cookie(&mut response, &visitor.session_cookie(session.token, session.max_age_secs));
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "portal/signup.html")]
struct Signup {
    page: Page,
    form: SignupForm,
    error: FieldError,
}

pub async fn signup_form(visitor: Visitor) -> Response {
    let form = SignupForm { role: "client".into(), ..SignupForm::default() };
    render_with(
        StatusCode::OK,
        &Signup { page: Page::new(&visitor, "signup-title"), form, error: FieldError::default() },
    )
}

pub async fn signup(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(mut form): Form<SignupForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let role = match form.role.as_str() {
        "freelancer" => Role::Freelancer,
        _ => Role::Client,
    };
    let input = AccountInput {
        email: &form.email,
        display_name: &form.display_name,
        password: &form.password,
        role,
        region: None,
    };
    match accounts::browser_register(&state.engine, input, client.context()).await {
        Ok(session) => Ok(signed_in(&visitor, session)),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            form.password.clear();
            let page = Page::new(&visitor, "signup-title");
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &Signup { page, form, error }))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "portal/signin.html")]
struct Signin {
    page: Page,
    email: String,
    error: String,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninQuery {
    #[serde(default)]
    notice: String,
}

pub async fn signin_form(
    visitor: Visitor,
    LenientQuery(query): LenientQuery<SigninQuery>,
) -> Response {
    let page = Page::new(&visitor, "signin-title");
    let notice = match query.notice.as_str() {
        "password-reset" => page.t.msg("reset-done"),
        _ => String::new(),
    };
    let signin = Signin { page, email: String::new(), error: String::new(), notice };
    render_with(StatusCode::OK, &signin)
}

pub async fn signin(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<SigninForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let context = client.context();
    match accounts::browser_login(&state.engine, &form.email, &form.password, context).await {
        Ok(session) => Ok(signed_in(&visitor, session)),
        Err(err) => {
            let status = match err {
                fairgig_engine::Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let error = FieldError::from_engine(&visitor, err)?;
            let page = Page::new(&visitor, "signin-title");
            let message = if status == StatusCode::UNAUTHORIZED {
                page.t.msg("signin-wrong")
            } else {
                error.message
            };
            let signin = Signin { page, email: form.email, error: message, notice: String::new() };
            Ok(render_with(status, &signin))
        }
    }
}

/// Revokes the session and removes the cookie.
pub async fn signout(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    if let Some(caller) = &visitor.caller {
        accounts::logout(&state.engine, caller, client.context())
            .await
            .map_err(|err| PortalError::from_engine(&visitor, err))?;
    }
    let mut response = Redirect::to("/").into_response();
    append_cookie(&mut response, &visitor.session_removal());
    Ok(response)
}
