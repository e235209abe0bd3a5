//! The signed-in person's start page: their requests and jobs with status.

use askama::Template;
use axum::{extract::State, response::Response};
use fairgig_core::user::Role;
use fairgig_engine::{applications, jobs, matching::JobMatch, profiles, submissions};
use fairgig_store::{
    applications::{Application, Review},
    job_activity::OwnedJob,
    submissions::{Submission, SubmissionFilter},
};

use super::{
    page::{render, require_sign_in, LenientQuery, Page, PortalError},
    session::Visitor,
};
use crate::PortalState;

#[derive(Template)]
#[template(path = "portal/dashboard.html")]
struct Dashboard {
    page: Page,
    submissions: Vec<Submission>,
    jobs: Vec<OwnedJob>,
    /// Freelancers: whether they have a profile, and the jobs that fit it.
    has_profile: bool,
    jobs_for_me: Vec<JobMatch>,
    /// Published reviews of the signed-in person.
    reviews: Vec<Review>,
    /// Reviews the signed-in person wrote, in any status.
    reviews_given: Vec<Review>,
    /// Freelancers: their applications, each with its job's title.
    applications: Vec<(Application, String)>,
    /// The account's address is not confirmed yet: offer a new link.
    unverified: bool,
    notice: String,
    /// The search of the client's requests, as typed.
    q: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    q: String,
}

/// How many of each the dashboard lists.
const LISTED: u32 = 50;

pub async fn dashboard(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<DashboardQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let failed = |err| PortalError::from_engine(&visitor, err);
    let page = Page::new(&visitor, "dashboard-title").with_htmx();
    let unverified = caller.user.email_verified_at.is_none();
    let notice = match query.notice.as_str() {
        "verification-sent" => page.t.msg("verify-sent"),
        "job-deleted" => page.t.msg("dashboard-job-deleted"),
        _ => String::new(),
    };
    if caller.user.role == Role::Freelancer {
        let fitting = profiles::jobs_for_me(&state.engine, caller, 20, &Default::default())
            .await
            .map_err(failed)?;
        let reviews = applications::reviews_of(&state.engine, caller, caller.user.id)
            .await
            .map_err(failed)?;
        let reviews_given =
            applications::reviews_given(&state.engine, caller).await.map_err(failed)?;
        let mine = applications::mine(&state.engine, caller).await.map_err(failed)?;
        return Ok(render(&Dashboard {
            reviews_given,
            applications: mine,
            page,
            submissions: Vec::new(),
            jobs: Vec::new(),
            has_profile: fitting.is_some(),
            jobs_for_me: fitting.map(|list| list.matches).unwrap_or_default(),
            reviews,
            unverified,
            notice,
            q: String::new(),
        }));
    }
    let q: String = query.q.trim().chars().filter(|c| !c.is_control()).take(200).collect();
    let filter =
        SubmissionFilter { text: (!q.is_empty()).then(|| q.clone()), ..Default::default() };
    let submissions =
        submissions::list(&state.engine, caller, &filter, LISTED).await.map_err(failed)?;
    let jobs = jobs::owned(&state.engine, caller).await.map_err(failed)?;
    let reviews =
        applications::reviews_of(&state.engine, caller, caller.user.id).await.map_err(failed)?;
    let reviews_given = applications::reviews_given(&state.engine, caller).await.map_err(failed)?;
    Ok(render(&Dashboard {
        reviews_given,
        applications: Vec::new(),
        page,
        submissions,
        jobs,
        has_profile: false,
        jobs_for_me: Vec::new(),
        reviews,
        unverified,
        notice,
        q,
    }))
}
