//! `/jobs`: jobs on the marketplace, their status, and their matches.

use std::collections::BTreeMap;

use axum::{extract::State, http::StatusCode, Json};

use fairgig_core::{
    ids::{JobId, UserId},
    marketplace::{ExperienceLevel, FairAlgorithm, JobStatus},
    submission::Budget,
};
use fairgig_engine::{
    jobs::{self, JobRequest},
    match_request::{MatchRequest, DEFAULT_LIMIT},
    matching::{self, JobMatchList, MatchList},
    profiles,
    search::SortBy,
};
use fairgig_store::{job_activity::ApplicantCounts, marketplace::Job};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::search::{counts, skill_list, FacetCount, HighlightView};
use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, AppPath, AppQuery, ClientInfo},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_jobs, create_job))
        .routes(routes!(get_job, edit_job, delete_job))
        .routes(routes!(my_jobs))
        .routes(routes!(set_status))
        .routes(routes!(job_matches))
        .routes(routes!(my_job_matches))
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    id: JobId,
    owner: UserId,
    title: String,
    description: String,
    required_skills: Vec<String>,
    preferred_skills: Vec<String>,
    max_hourly: Option<Budget>,
    region: Option<String>,
    remote: bool,
    utc_offset_minutes: Option<i32>,
    experience_level: Option<ExperienceLevel>,
    status: JobStatus,
    /// The bias check of title and description; its owner and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    bias_report: Option<serde_json::Value>,
    bias_acknowledged: bool,
}

fn view(job: Job, with_bias: bool) -> JobView {
    let input = job.input;
    JobView {
        id: job.id,
        owner: job.owner,
        title: input.title,
        description: input.description,
        required_skills: input.required_skills,
        preferred_skills: input.preferred_skills,
        max_hourly: Budget::from_parts(input.max_hourly_minor, input.currency),
        region: input.region,
        remote: input.remote,
        utc_offset_minutes: input.utc_offset_minutes,
        experience_level: input.experience_level,
        status: job.status,
        bias_report: with_bias.then_some(job.bias_report),
        bias_acknowledged: job.bias_acknowledged,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobSearchParams {
    /// Free text: title, skills and description by words (BM25, English
    /// stemming, typo-tolerant skill names) and by meaning, fused.
    #[param(max_length = 500)]
    q: Option<String>,
    /// Comma-separated skill names; a job must require every one.
    skills: Option<String>,
    /// A region code: jobs there, or remote.
    region: Option<String>,
    /// Only remote jobs.
    remote: Option<bool>,
    /// Hourly budget range in minor units.
    budget_min: Option<i64>,
    budget_max: Option<i64>,
    /// Changed at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<time::OffsetDateTime>,
    /// 1–50, default 20.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<usize>,
    /// `relevance` (default), `newest`, or `price` (the highest budget
    /// first); sorting by a field sorts the best 1,000 matches.
    sort: Option<SortBy>,
}

#[derive(Serialize, ToSchema)]
pub struct JobSearchHit {
    job: JobView,
    score: f64,
    /// Where the description matched: a fragment and the byte ranges of the
    /// matched words in it.
    highlight: HighlightView,
    /// Rank by words and by meaning (from 1), where found.
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct JobSearchAnswer {
    jobs: Vec<JobSearchHit>,
    /// Open jobs matching the words and filters.
    total: usize,
    /// Over the best 200 matches.
    facets: BTreeMap<String, Vec<FacetCount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<usize>,
}

/// Search the open jobs (anyone signed in).
///
/// Words (BM25 over title ×3, skills ×2 and description) and meaning (the
/// query's embedding against the jobs' vectors) are fused by reciprocal
/// rank fusion; filters apply to both. A blank `q` lists matching jobs,
/// newest first.
#[utoipa::path(
    get, path = "/jobs", tag = "marketplace", params(JobSearchParams),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses((status = 200, body = JobSearchAnswer))
)]
async fn search_jobs(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(params): AppQuery<JobSearchParams>,
) -> ApiResult<Json<JobSearchAnswer>> {
    let skills = skill_list(params.skills.as_deref());
    let query = fairgig_engine::search::JobSearchQuery {
        text: params.q.unwrap_or_default(),
        filters: fairgig_search::Filters {
            skills,
            region: params.region,
            remote_only: params.remote.unwrap_or(false),
            price_min: params.budget_min,
            price_max: params.budget_max,
            since_unix: params.since.map(|at| at.unix_timestamp()),
        },
        limit: params.limit.unwrap_or(20),
        offset: params.cursor.unwrap_or(0),
        sort: params.sort.unwrap_or_default(),
    };
    let page = fairgig_engine::search::jobs(&state.engine, Some(&caller), &query).await?;
    let facets = BTreeMap::from([
        ("skills".to_owned(), counts(page.facets.skills)),
        ("regions".to_owned(), counts(page.facets.regions)),
        ("budget_bands".to_owned(), counts(page.facets.budget_bands)),
    ]);
    let jobs = page
        .hits
        .into_iter()
        .map(|hit| JobSearchHit {
            job: view(hit.job, false),
            score: hit.score,
            highlight: hit.highlight.into(),
            text_rank: hit.text_rank,
            vector_rank: hit.vector_rank,
        })
        .collect();
    Ok(Json(JobSearchAnswer { jobs, total: page.total, facets, next_cursor: page.next }))
}

/// Post a job.
///
/// Clients and admins. Title and description are bias-checked first: a job
/// whose check needs review starts as a `draft` (the findings are in
/// `bias_report`) until its owner opens it acknowledging them; otherwise it
/// is `open` at once.
#[utoipa::path(
    post, path = "/jobs", tag = "marketplace", request_body = JobRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, body = JobView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A freelancer, or a key without write", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn create_job(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<JobRequest>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let job = jobs::create(&state.engine, &caller, body.parse()?).await?;
    Ok((StatusCode::CREATED, Json(view(job, true))))
}

/// Edit a draft or open job (its owner or an admin).
///
/// The whole job is replaced and bias-checked again: a draft whose new text
/// passes opens; an open job whose new text needs review goes back to draft
/// (an earlier acknowledgement does not carry over to new words).
#[utoipa::path(
    put, path = "/jobs/{id}", tag = "marketplace", request_body = JobRequest,
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = JobView),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
        (status = 409, description = "The job is in progress, completed or cancelled", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn edit_job(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppJson(body): AppJson<JobRequest>,
) -> ApiResult<Json<JobView>> {
    let edited = jobs::edit(&state.engine, &caller, id, body.parse()?).await?;
    Ok(Json(view(edited, true)))
}

/// Delete a draft job (its owner or an admin); an open job is cancelled
/// instead (`POST /jobs/{id}/status`), so its applicants keep their record.
#[utoipa::path(
    delete, path = "/jobs/{id}", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
        (status = 409, description = "The job is not a draft", body = ErrorBody),
    )
)]
async fn delete_job(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
) -> ApiResult<StatusCode> {
    jobs::delete_draft(&state.engine, &caller, id, client.context()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One of my jobs with the interest it drew.
#[derive(Serialize, ToSchema)]
pub struct OwnedJobView {
    #[serde(flatten)]
    job: JobView,
    /// Applications by status.
    applicants: ApplicantCounts,
    /// People who opened it (each once per day; its owner and admins not counted).
    views: i64,
}

/// My jobs in every status, newest first, with applicant counts and views.
#[utoipa::path(
    get, path = "/me/jobs", tag = "marketplace",
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = Vec<OwnedJobView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn my_jobs(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<Vec<OwnedJobView>>> {
    let owned = jobs::owned(&state.engine, &caller).await?;
    Ok(Json(
        owned
            .into_iter()
            .map(|owned| OwnedJobView {
                job: view(owned.job, true),
                applicants: owned.applicants,
                views: owned.views,
            })
            .collect(),
    ))
}

/// A job. Its owner and admins see it in any status, with the bias report;
/// others see open and running jobs. Opening someone else's job counts as a
/// view (once per person and day).
#[utoipa::path(
    get, path = "/jobs/{id}", tag = "marketplace",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = JobView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such job visible to the caller", body = ErrorBody),
    )
)]
async fn get_job(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
) -> ApiResult<Json<JobView>> {
    let (job, manages) = jobs::visible(&state.engine, &caller, id).await?;
    Ok(Json(view(job, manages)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    status: JobStatus,
    /// Needed to open a job whose bias check asked for review.
    #[serde(default)]
    acknowledge_bias: bool,
}

/// Move a job along `draft → open → in_progress → completed | cancelled`.
#[utoipa::path(
    post, path = "/jobs/{id}/status", tag = "marketplace", request_body = StatusRequest,
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = JobView),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
        (status = 409, description = "Not allowed from the current status, or bias findings not acknowledged", body = ErrorBody),
    )
)]
async fn set_status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppJson(body): AppJson<StatusRequest>,
) -> ApiResult<Json<JobView>> {
    let job =
        jobs::set_status(&state.engine, &caller, id, body.status, body.acknowledge_bias).await?;
    Ok(Json(view(job, true)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MatchQuery {
    /// 1–100, default 10.
    limit: Option<usize>,
    /// The fair re-ranker; default: the deployment's (`det_const_sort`).
    fairness: Option<FairAlgorithm>,
    /// Group by `newcomer` or a self-declared attribute such as `gender`;
    /// default: the deployment's. Only admins may choose the attribute,
    /// target or protected group of a ranking by a self-declared attribute,
    /// and only they see its group figures.
    attribute: Option<String>,
    /// Desired shares by group, `group:share` comma-separated
    /// (`newcomer:0.3`); other groups share the rest by their pool share.
    target: Option<String>,
    /// FA*IR's protected group under a self-declared attribute.
    protected: Option<String>,
    /// Correct the target by the exposure groups are owed from recent lists.
    amortise: Option<bool>,
    /// Only freelancers in this region (even for a remote job).
    region: Option<String>,
    /// Only freelancers with at least this many years of experience (0–80).
    min_years: Option<f64>,
    /// Only freelancers whose reputation (Bayesian average rating, 1–5) is
    /// at least this.
    min_rating: Option<f64>,
    /// Leave out freelancers whose rate is over the budget by more than
    /// 25 %; by default the budget is scored (`rate_fit`), not a filter.
    within_budget: Option<bool>,
}

impl From<MatchQuery> for MatchRequest {
    fn from(query: MatchQuery) -> Self {
        MatchRequest {
            limit: query.limit,
            fairness: query.fairness,
            attribute: query.attribute,
            target: query.target,
            protected: query.protected,
            amortise: query.amortise,
            region: query.region,
            min_years: query.min_years,
            min_rating: query.min_rating,
            within_budget: query.within_budget,
        }
    }
}

/// The best freelancers for a job, with reasons and a fairness report.
///
/// Its owner and admins; not for cancelled or completed jobs.
#[utoipa::path(
    get, path = "/jobs/{id}/matches", tag = "marketplace",
    params(("id" = String, Path, format = Uuid), MatchQuery),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = MatchList),
        (status = 400, description = "Malformed id or query", body = ErrorBody),
        (status = 403, description = "Steering a ranking by a self-declared attribute (admins only)", body = ErrorBody),
        (status = 404, description = "No such job of the caller's", body = ErrorBody),
        (status = 409, description = "The job is cancelled or completed", body = ErrorBody),
        (status = 422, description = "limit, filters or fairness policy invalid", body = ErrorBody),
        (status = 503, description = "The embedding service is unavailable", body = ErrorBody),
    )
)]
async fn job_matches(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<JobId>,
    AppQuery(query): AppQuery<MatchQuery>,
) -> ApiResult<Json<MatchList>> {
    Ok(Json(jobs::matches(&state.engine, &caller, id, &query.into()).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobMatchQuery {
    /// 1–100, default 10.
    limit: Option<usize>,
    /// Only remote jobs.
    remote_only: Option<bool>,
    /// Only jobs paying at least this per hour, in minor units (cents) of
    /// the freelancer's currency; jobs without a budget, or in another
    /// currency, are left out.
    min_budget: Option<i64>,
    /// Leave out jobs whose budget my rate exceeds by more than 25 %; by
    /// default the budget is scored (`rate_fit`), not a filter.
    within_budget: Option<bool>,
}

/// Open jobs for me, best first, with reasons (freelancers with a profile).
#[utoipa::path(
    get, path = "/me/job-matches", tag = "marketplace", params(JobMatchQuery),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = JobMatchList),
        (status = 404, description = "No profile yet", body = ErrorBody),
        (status = 422, description = "limit or min_budget out of range", body = ErrorBody),
        (status = 503, description = "The embedding service is unavailable", body = ErrorBody),
    )
)]
async fn my_job_matches(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<JobMatchQuery>,
) -> ApiResult<Json<JobMatchList>> {
    let filters = matching::JobFilters {
        remote_only: query.remote_only.unwrap_or(false),
        min_budget_minor: query.min_budget,
        within_budget: query.within_budget.unwrap_or(false),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let list = profiles::jobs_for_me(&state.engine, &caller, limit, &filters)
        .await?
        .ok_or_else(fairgig_engine::Error::not_found)?;
    Ok(Json(list))
}
