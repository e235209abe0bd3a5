//! The signed-in person's data rights: download everything fairgig holds
//! about them, or erase their account (confirmed with the password and a
//! tick, since it cannot be undone).

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use fairgig_engine::personal_data::{self, Whose};
use fairgig_http::ClientInfo;
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{check_csrf, render_with, require_sign_in, Page, PortalError},
    session::{append_cookie, Visitor},
};
use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/your_data.html")]
struct YourDataPage {
    page: Page,
    error: FieldError,
}

#[derive(Template)]
#[template(path = "portal/erased.html")]
struct ErasedPage {
    page: Page,
}

pub async fn show(visitor: Visitor) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let page =
        YourDataPage { page: Page::new(&visitor, "data-title"), error: FieldError::default() };
    Ok(render_with(StatusCode::OK, &page))
}

/// The archive of everything fairgig holds about the visitor.
pub async fn export(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let archive = personal_data::export(&state.engine, caller, Whose::Mine, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(fairgig_http::archive_download(archive))
}

#[derive(Debug, Default, Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Erases the visitor's account, then signs them out for good.
pub async fn erase(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<EraseForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let error = if form.confirm.is_none() {
        FieldError {
            field: "confirm".into(),
            message: visitor.messages().msg("data-confirm-needed"),
        }
    } else {
        let erased = personal_data::erase(
            &state.engine,
            caller,
            Whose::Mine,
            &form.password,
            client.context(),
        )
        .await;
        match erased {
            Ok(_) => {
                let signed_out = Visitor { caller: None, ..visitor.clone() };
                let page = ErasedPage { page: Page::new(&signed_out, "erased-title") };
                let mut response = render_with(StatusCode::OK, &page).into_response();
                append_cookie(&mut response, &visitor.session_removal());
                return Ok(response);
            }
            Err(err) => FieldError::from_engine(&visitor, err)?,
        }
    };
    let page = YourDataPage { page: Page::new(&visitor, "data-title"), error };
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
