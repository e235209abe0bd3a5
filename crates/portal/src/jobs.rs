//! Jobs in the portal: writing and editing one with the language check
//! running as the author types, a job's page (for its owner: the findings, publishing
//! with the acknowledgement the check may ask for, the applicants with
//! shortlist / hire / reject, completing, reviewing, and the explained,
//! fairly re-ranked matches; for a freelancer: applying).

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_ai::bias::{Finding, Report};
use fairgig_core::{
    ids::{ApplicationId, JobId},
    marketplace::{ApplicationStatus, JobStatus},
    user::Role,
};
use fairgig_engine::{
    applications::{self, ApplicationDecision, ApplyRequest, ReviewRequest},
    jobs::{self, JobRequest},
    match_request::MatchRequest,
    matching::MatchList,
};
use fairgig_store::{applications::Application, marketplace::Job};
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{
        check_csrf, path_id, render, render_with, require_sign_in, CsrfForm, LenientQuery, Page,
        PortalError,
    },
    requests::{segments, Segment},
    session::Visitor,
};
use fairgig_http::ClientInfo;

use crate::PortalState;

/// The job form as typed (skills comma-separated).
#[derive(Debug, Default, Deserialize)]
pub struct JobForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    remote: Option<String>,
}

impl JobForm {
    fn to_request(&self) -> JobRequest {
        JobRequest {
            title: self.title.clone(),
            description: self.description.clone(),
            required_skills: self
                .skills
                .split(',')
                .map(str::trim)
                .filter(|skill| !skill.is_empty())
                .map(str::to_owned)
                .collect(),
            preferred_skills: Vec::new(),
            max_hourly: None,
            region: Some(self.region.trim().to_owned()).filter(|r| !r.is_empty()),
            remote: Some(self.remote.is_some() || self.region.trim().is_empty()),
            utc_offset_minutes: None,
            experience_level: None,
        }
    }
}

/// Findings of a text, for the as-you-type check and the job page.
#[derive(Template)]
#[template(path = "portal/findings.html")]
pub(super) struct Findings {
    page: Page,
    report: Option<Report>,
    segments: Vec<Segment>,
    findings: Vec<Finding>,
}

impl Findings {
    pub(super) fn of(page: Page, text: &str, report: Option<Report>) -> Findings {
        let findings = report.as_ref().map(|r| r.findings.clone()).unwrap_or_default();
        Findings { page, segments: segments(text, &findings), findings, report }
    }
}

#[derive(Template)]
#[template(path = "portal/job_new.html")]
struct NewJob {
    page: Page,
    form: JobForm,
    error: FieldError,
    /// Where the form posts: `/jobs/new`, or `/jobs/{id}/edit` when editing.
    action: String,
}

impl NewJob {
    fn editing(&self) -> bool {
        self.action != "/jobs/new"
    }
}

pub async fn new_form(visitor: Visitor) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let form = JobForm { remote: Some("on".into()), ..JobForm::default() };
    Ok(render(&NewJob {
        page: Page::new(&visitor, "job-new-title").with_htmx(),
        form,
        error: FieldError::default(),
        action: "/jobs/new".into(),
    }))
}

pub async fn create(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<JobForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let attempt = match form.to_request().parse() {
        Ok(input) => jobs::create(&state.engine, caller, input).await,
        Err(invalid) => Err(invalid.into()),
    };
    match attempt {
        Ok(job) => Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = Page::new(&visitor, "job-new-title").with_htmx();
            let action = "/jobs/new".into();
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &NewJob { page, form, error, action }))
        }
    }
}

/// The job form filled with a job's current text, for its owner.
pub async fn edit_form(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let id: JobId = path_id(&visitor, &id)?;
    let job = jobs::managed(&state.engine, caller, id)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let form = JobForm {
        _csrf: String::new(),
        title: job.input.title.clone(),
        description: job.input.description.clone(),
        skills: job.input.required_skills.join(", "),
        region: job.input.region.clone().unwrap_or_default(),
        remote: job.input.remote.then(|| "on".to_owned()),
    };
    Ok(render(&NewJob {
        page: Page::new(&visitor, "job-edit-title").with_htmx(),
        form,
        error: FieldError::default(),
        action: format!("/jobs/{id}/edit"),
    }))
}

/// Saves the edited text; the engine checks it again (an open job whose
/// new words need review goes back to draft). What the form does not show
/// (preferred skills, rate, time zone, level) is kept as it was.
pub async fn edit(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<JobForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: JobId = path_id(&visitor, &id)?;
    let current = jobs::managed(&state.engine, caller, id)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let attempt = match form.to_request().parse() {
        Ok(mut input) => {
            input.preferred_skills = current.input.preferred_skills;
            input.max_hourly_minor = current.input.max_hourly_minor;
            input.currency = current.input.currency;
            input.utc_offset_minutes = current.input.utc_offset_minutes;
            input.experience_level = current.input.experience_level;
            jobs::edit(&state.engine, caller, id, input).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match attempt {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}?done=edit")).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = Page::new(&visitor, "job-edit-title").with_htmx();
            let action = format!("/jobs/{id}/edit");
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &NewJob { page, form, error, action }))
        }
    }
}

/// `POST /jobs/preview` (htmx): the findings of the draft so far.
pub async fn preview(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<JobForm>,
) -> Result<Response, PortalError> {
    let Some(caller) = visitor.caller.as_ref() else {
        return Err(PortalError::new(&visitor, StatusCode::FORBIDDEN));
    };
    check_csrf(&visitor, &form._csrf)?;
    let text = format!("{}\n\n{}", form.title, form.description);
    let report = jobs::preview(&state.engine, caller, &form.title, &form.description)
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(render(&Findings::of(Page::new(&visitor, "job-new-title"), &text, Some(report))))
}

/// An applicant as the owner sees them.
#[derive(Debug)]
pub struct Applicant {
    pub application: Application,
    pub name: String,
}

#[derive(Template)]
#[template(path = "portal/job.html")]
struct JobPage {
    page: Page,
    job: Job,
    manages: bool,
    can_apply: bool,
    letter: String,
    error: FieldError,
    findings: String,
    applicants: Vec<Applicant>,
    matches: Option<MatchList>,
    can_review: bool,
    /// What was just done, to confirm it (`?done=review`).
    notice: String,
    /// The matches leave out freelancers over the budget (asked by the
    /// owner; by default the budget is scored, not a filter).
    within_budget: bool,
}

async fn job_page(
    state: &PortalState,
    visitor: &Visitor,
    id: JobId,
    (letter, error): (String, FieldError),
    asked: &MatchRequest,
) -> Result<JobPage, PortalError> {
    let failed = |err| PortalError::from_engine(visitor, err);
    let caller =
        visitor.caller.as_ref().ok_or_else(|| PortalError::new(visitor, StatusCode::FORBIDDEN))?;
    let (job, manages) = jobs::visible(&state.engine, caller, id).await.map_err(failed)?;
    let mut page = Page::new(visitor, "job-title");
    page.title = job.input.title.clone();
    let can_apply = caller.user.role == Role::Freelancer && job.status == JobStatus::Open;
    let (mut findings, mut applicants, mut matches) = (String::new(), Vec::new(), None);
    let mut can_review = false;
    if manages {
        let report: Option<Report> = serde_json::from_value(job.bias_report.clone()).ok();
        let text = format!("{}\n\n{}", job.input.title, job.input.description);
        findings = Findings::of(Page::new(visitor, "job-title"), &text, report)
            .render()
            .unwrap_or_default();
        for application in applications::for_job(&state.engine, caller, id).await.map_err(failed)? {
            let name = state
                .engine
                .store
                .get_user(application.freelancer)
                .await
                .map(|user| user.display_name.to_string())
                .unwrap_or_default();
            can_review |= application.status == ApplicationStatus::Hired;
            applicants.push(Applicant { application, name });
        }
    }
    if manages && matches!(job.status, JobStatus::Draft | JobStatus::Open | JobStatus::InProgress) {
        matches = Some(jobs::matches(&state.engine, caller, id, asked).await.map_err(failed)?);
    }
    // The hired freelancer reviews the client too; the engine checks who was hired.
    can_review = job.status == JobStatus::Completed
        && (can_review || (!manages && caller.user.role == Role::Freelancer));
    Ok(JobPage {
        page,
        job,
        manages,
        can_apply,
        letter,
        error,
        findings,
        applicants,
        matches,
        can_review,
        notice: String::new(),
        within_budget: asked.within_budget.unwrap_or(false),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct JobQuery {
    #[serde(default)]
    done: String,
    /// The matches form's box: `1` leaves out freelancers over the budget.
    #[serde(default)]
    within_budget: String,
}

pub async fn show(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    LenientQuery(query): LenientQuery<JobQuery>,
) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let id: JobId = path_id(&visitor, &id)?;
    let asked =
        MatchRequest { within_budget: Some(query.within_budget == "1"), ..MatchRequest::default() };
    let mut page =
        job_page(&state, &visitor, id, (String::new(), FieldError::default()), &asked).await?;
    match query.done.as_str() {
        "review" => page.notice = page.page.t.msg("job-review-sent"),
        "edit" => page.notice = page.page.t.msg("job-edit-saved"),
        _ => {}
    }
    Ok(render(&page))
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    cover_letter: String,
}

pub async fn apply(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ApplyForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: JobId = path_id(&visitor, &id)?;
    let request = ApplyRequest { cover_letter: form.cover_letter.clone(), proposed_rate: None };
    match applications::apply(&state.engine, caller, id, request).await {
        Ok(_) => Ok(Redirect::to("/dashboard").into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = job_page(
                &state,
                &visitor,
                id,
                (form.cover_letter, error),
                &MatchRequest::default(),
            )
            .await?;
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    acknowledge: Option<String>,
}

/// Publishing (with the acknowledgement a flagged job needs), completing,
/// cancelling; a refusal is shown on the job's page.
pub async fn set_status(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: JobId = path_id(&visitor, &id)?;
    let status: JobStatus =
        form.status.parse().map_err(|_| PortalError::new(&visitor, StatusCode::BAD_REQUEST))?;
    let acknowledge = form.acknowledge.is_some();
    match jobs::set_status(&state.engine, caller, id, status, acknowledge).await {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}")).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page =
                job_page(&state, &visitor, id, (String::new(), error), &MatchRequest::default())
                    .await?;
            Ok(render_with(StatusCode::CONFLICT, &page))
        }
    }
}

/// Deletes a draft and goes back to the dashboard; anything but a draft
/// stays, with the reason on its page.
pub async fn delete(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: JobId = path_id(&visitor, &id)?;
    match jobs::delete_draft(&state.engine, caller, id, client.context()).await {
        Ok(()) => Ok(Redirect::to("/dashboard?notice=job-deleted").into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page =
                job_page(&state, &visitor, id, (String::new(), error), &MatchRequest::default())
                    .await?;
            Ok(render_with(StatusCode::CONFLICT, &page))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    decision: String,
}

/// Shortlist, hire or reject an applicant; back to the job.
pub async fn decide(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let bad = || PortalError::new(&visitor, StatusCode::BAD_REQUEST);
    let id: ApplicationId = id.parse().map_err(|_| bad())?;
    let decision = match form.decision.as_str() {
        "shortlisted" => ApplicationDecision::Shortlisted,
        "hired" => ApplicationDecision::Hired,
        "rejected" => ApplicationDecision::Rejected,
        "withdrawn" => ApplicationDecision::Withdrawn,
        _ => return Err(bad()),
    };
    let moved = applications::decide(&state.engine, caller, id, decision)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to(&format!("/jobs/{}", moved.job)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    text: String,
}

/// Review the other party of a completed job.
pub async fn review(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: JobId = path_id(&visitor, &id)?;
    let rating = form.rating.trim().parse::<u8>().unwrap_or(0);
    let request = ReviewRequest { rating, sub_ratings: Default::default(), text: form.text };
    match applications::review(&state.engine, caller, id, request).await {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}?done=review")).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page =
                job_page(&state, &visitor, id, (String::new(), error), &MatchRequest::default())
                    .await?;
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
