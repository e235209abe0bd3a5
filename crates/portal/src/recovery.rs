//! A lost password and an unconfirmed address: asking for a reset link,
//! choosing a new password with it, and confirming the address with the
//! link mailed at sign-up. Links open a page with a button (a POST with the
//! CSRF token), so a mail scanner that follows links spends nothing.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_engine::accounts::links;
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{
        check_csrf, render, render_with, require_sign_in, CsrfForm, LenientQuery, Page, PortalError,
    },
    session::Visitor,
};
use fairgig_http::ClientInfo;

use crate::PortalState;

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "portal/password_forgot.html")]
struct ForgotPage {
    page: Page,
    email: String,
    error: FieldError,
    /// Set once a request was taken: the same words whether or not the
    /// address has an account.
    sent: bool,
}

pub async fn forgot_form(visitor: Visitor) -> Response {
    render(&ForgotPage {
        page: Page::new(&visitor, "forgot-title"),
        email: String::new(),
        error: FieldError::default(),
        sent: false,
    })
}

pub async fn forgot(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<ForgotForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let page = Page::new(&visitor, "forgot-title");
    match links::request_password_reset(&state.engine, &form.email, client.context()).await {
        Ok(()) => Ok(render(&ForgotPage {
            page,
            email: form.email,
            error: FieldError::default(),
            sent: true,
        })),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = ForgotPage { page, email: form.email, error, sent: false };
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

#[derive(Template)]
#[template(path = "portal/password_reset.html")]
struct ResetPage {
    page: Page,
    token: String,
    error: FieldError,
}

pub async fn reset_form(
    visitor: Visitor,
    LenientQuery(query): LenientQuery<TokenQuery>,
) -> Response {
    let page = Page::new(&visitor, "reset-title");
    let token = query.token;
    let error = match links::check_token_shape(&token) {
        Ok(()) => FieldError::default(),
        Err(err) => FieldError { field: err.field.to_string(), message: err.message },
    };
    render(&ResetPage { page, token, error })
}

/// Sets the new password; every session ends, so the visitor signs in again.
pub async fn reset(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<ResetForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let outcome =
        links::reset_password(&state.engine, &form.token, &form.new_password, client.context())
            .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/signin?notice=password-reset").into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page =
                ResetPage { page: Page::new(&visitor, "reset-title"), token: form.token, error };
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "portal/verify_email.html")]
struct VerifyPage {
    page: Page,
    token: String,
    error: FieldError,
    verified: bool,
}

pub async fn verify_form(
    visitor: Visitor,
    LenientQuery(query): LenientQuery<TokenQuery>,
) -> Response {
    let page = Page::new(&visitor, "verify-title");
    let token = query.token;
    render(&VerifyPage { page, token, error: FieldError::default(), verified: false })
}

pub async fn verify(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<VerifyForm>,
) -> Result<Response, PortalError> {
    check_csrf(&visitor, &form._csrf)?;
    let page = Page::new(&visitor, "verify-title");
    match links::verify_email(&state.engine, &form.token, client.context()).await {
        Ok(_) => Ok(render(&VerifyPage {
            page,
            token: String::new(),
            error: FieldError::default(),
            verified: true,
        })),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = VerifyPage { page, token: form.token, error, verified: false };
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// Mails the signed-in visitor a new verification link.
pub async fn resend(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    links::send_verification(&state.engine, &caller.user)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/dashboard?notice=verification-sent").into_response())
}
