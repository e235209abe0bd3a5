//! The signed-in person's start page: their requests and jobs with status.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use fairgig_engine::{jobs, submissions};
use fairgig_store::{
    marketplace::Job,
    submissions::{Submission, SubmissionFilter},
};

use super::{
    page::{render, require_sign_in, Page, PortalError},
    session::Visitor,
};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/dashboard.html")]
struct Dashboard {
    page: Page,
    submissions: Vec<Submission>,
    jobs: Vec<Job>,
}

/// How many of each the dashboard lists.
const LISTED: u32 = 50;

pub async fn dashboard(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PortalError> {
    let caller = match require_sign_in(&visitor) {
        Ok(caller) => caller,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let failed = |err| PortalError::from_engine(&visitor, err);
    let submissions =
        submissions::list(&state.engine, caller, &SubmissionFilter::default(), LISTED)
            .await
            .map_err(failed)?;
    let jobs = jobs::owned(&state.engine, caller).await.map_err(failed)?;
    Ok(render(&Dashboard { page: Page::new(&visitor, "dashboard-title"), submissions, jobs }))
}
