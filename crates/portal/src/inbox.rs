//! The notifications inbox and delivery log, and changing the password.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_engine::{accounts, notifications};
use fairgig_store::notifications::Notification;
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{check_csrf, render, render_with, require_sign_in, Page, PortalError},
    session::Visitor,
};
use fairgig_http::ClientInfo;

use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/inbox.html")]
struct InboxPage {
    page: Page,
    notifications: Vec<Notification>,
}

pub async fn inbox(
    State(state): State<PortalState>,
    visitor: Visitor,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let notifications = notifications::inbox(&state.engine, caller, 50, 0)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(render(&InboxPage { page: Page::new(&visitor, "inbox-title"), notifications }))
}

#[derive(Template)]
#[template(path = "portal/password.html")]
struct PasswordPage {
    page: Page,
    error: FieldError,
}

pub async fn password_form(visitor: Visitor) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    Ok(render(&PasswordPage {
        page: Page::new(&visitor, "password-title"),
        error: FieldError::default(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the password; the engine signs out every other session.
pub async fn change_password(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let changed = accounts::change_password(
        &state.engine,
        caller,
        &form.current_password,
        &form.new_password,
        client.context(),
    )
    .await;
    match changed {
        Ok(()) => Ok(Redirect::to("/settings?saved=1").into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = PasswordPage { page: Page::new(&visitor, "password-title"), error };
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
