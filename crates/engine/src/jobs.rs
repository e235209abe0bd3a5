//! Jobs on the marketplace: posting, editing, publishing and moving them
//! through `draft → open → in_progress → completed | cancelled`.
//!
//! A job's title and description are bias-checked whenever they change;
//! [`status_for`] is the one place that decides a job starts as a `draft`
//! (its report needs review) or `open`, and [`publish`] the one place a job
//! is stored, for `POST /jobs`, the portal and the `publish_job` step alike.

use fairgig_ai::bias::{CheckOptions, Report, TextKind};
use fairgig_core::{
    api_key::Scope,
    audit::{actions, Actor, NewAuditEntry, RequestContext},
    ids::{JobId, SubmissionId, UserId},
    marketplace::{
        check_short_text, check_utc_offset, parse_skill_names, ExperienceLevel, JobStatus,
    },
    submission::{parse_body, Budget},
    user::{Region, Role},
    ValidationError,
};
use fairgig_store::{
    embeddings::EntityKind,
    job_activity::OwnedJob,
    marketplace::{Job, JobInput, JobReview},
    Store, StoreError,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    error::{Error, Result},
    match_request::MatchRequest,
    matching::job_text,
    Caller, Engine,
};

/// A job as its owner writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// 1–200 characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub title: String,
    /// Up to 100,000 characters.
    #[schema(max_length = 100000)]
    pub description: String,
    /// Up to 30, names unique.
    #[serde(default)]
    #[schema(max_items = 30)]
    pub required_skills: Vec<String>,
    #[serde(default)]
    pub preferred_skills: Vec<String>,
    /// The most paid per hour.
    pub max_hourly: Option<Budget>,
    /// A region code (`DE`, `US-CA`, `EU`); only matters when `remote` is false.
    pub region: Option<String>,
    /// Default true.
    pub remote: Option<bool>,
    pub utc_offset_minutes: Option<i32>,
    pub experience_level: Option<ExperienceLevel>,
}

impl JobRequest {
    /// The job's stored input, or the first field that breaks a rule.
    pub fn parse(self) -> Result<JobInput, ValidationError> {
        let title = self.title.trim().to_owned();
        check_short_text("title", &title, 200)?;
        let description = parse_body(&self.description)
            .map_err(|err| ValidationError::new("description", err.message))?;
        if description.trim().is_empty() {
            return Err(ValidationError::new("description", "must not be blank"));
        }
        let budget = self
            .max_hourly
            .map(|budget| Budget::parse(budget.amount_minor, &budget.currency))
            .transpose()
            .map_err(|err| ValidationError::new("max_hourly", err.message))?;
        let region = self.region.as_deref().map(Region::parse).transpose()?;
        let region = region.map(|region| region.as_ref().to_owned());
        if let Some(offset) = self.utc_offset_minutes {
            check_utc_offset(offset)?;
        }
        Ok(JobInput {
            title,
            description,
            required_skills: parse_skill_names("required_skills", &self.required_skills, 30)?,
            preferred_skills: parse_skill_names("preferred_skills", &self.preferred_skills, 30)?,
            max_hourly_minor: budget.as_ref().map(|budget| budget.amount_minor),
            currency: budget.map(|budget| budget.currency),
            region,
            remote: self.remote.unwrap_or(true),
            utc_offset_minutes: self.utc_offset_minutes,
            experience_level: self.experience_level,
        })
    }
}

/// `draft` when the bias report needs review, else `open`.
pub fn status_for(report: &Report) -> JobStatus {
    if report.requires_review {
        JobStatus::Draft
    } else {
        JobStatus::Open
    }
}

/// The bias check of a job's title and description.
pub fn review(engine: &Engine, input: &JobInput) -> Report {
    let text = format!("{}\n\n{}", input.title, input.description);
    engine.bias.check(&text, TextKind::JobPost, &CheckOptions::default())
}

/// The report as the store keeps it, with its verdict as a column.
fn stored_review(report: &Report) -> Result<JobReview, StoreError> {
    let json = serde_json::to_value(report)
        .map_err(|err| StoreError::Corrupt(format!("a bias report does not serialise: {err}")))?;
    Ok(JobReview { report: json, needs_review: report.requires_review })
}

/// Stores a job in the status its bias report allows. A submission becomes
/// at most one job: when another attempt stored it first, that job is
/// returned.
pub async fn publish(
    store: &Store,
    owner: UserId,
    submission: Option<SubmissionId>,
    input: &JobInput,
    report: &Report,
) -> Result<Job, StoreError> {
    let review = stored_review(report)?;
    match store.create_job(owner, submission, input, status_for(report), &review).await {
        Ok(job) => Ok(job),
        Err(StoreError::Conflict { .. }) if submission.is_some() => {
            let id = submission.ok_or(StoreError::NotFound)?;
            store.job_for_submission(id).await?.ok_or(StoreError::NotFound)
        }
        Err(err) => Err(err),
    }
}

/// Posts a job (clients and admins), bias-checked first.
pub async fn create(engine: &Engine, caller: &Caller, input: JobInput) -> Result<Job> {
    caller.require(Scope::Write)?;
    if caller.user.role == Role::Freelancer {
        return Err(Error::forbidden());
    }
    let report = review(engine, &input);
    let job = publish(&engine.store, caller.user.id, None, &input, &report).await?;
    embed(engine, job.id, &input).await;
    Ok(job)
}

/// Embeds a saved job's text; a failure is logged, not returned: the job is
/// saved, and matching embeds it again on demand.
async fn embed(engine: &Engine, id: JobId, input: &JobInput) {
    if let Err(err) =
        engine.embeddings.embed_entity(EntityKind::Job, id.as_uuid(), &job_text(input)).await
    {
        tracing::warn!(error = %err, job = %id, "job saved without a current embedding");
    }
}

/// The job, if the caller may manage it (its owner or an admin).
pub async fn managed(engine: &Engine, caller: &Caller, id: JobId) -> Result<Job> {
    let job = engine.store.job(id).await?;
    if job.owner != caller.user.id && caller.user.role != Role::Admin {
        return Err(Error::not_found());
    }
    Ok(job)
}

/// A job and whether the caller manages it: owners and admins see any
/// status, freelancers who applied see it in any status too (to follow
/// their application and review the client), others open and running jobs.
pub async fn visible(engine: &Engine, caller: &Caller, id: JobId) -> Result<(Job, bool)> {
    caller.require(Scope::Read)?;
    let job = engine.store.job(id).await?;
    let manages = job.owner == caller.user.id || caller.user.role == Role::Admin;
    if !manages && !matches!(job.status, JobStatus::Open | JobStatus::InProgress) {
        let applied = caller.user.role == Role::Freelancer
            && engine
                .store
                .applications_for_job(job.id)
                .await?
                .iter()
                .any(|application| application.freelancer == caller.user.id);
        if !applied {
            return Err(Error::not_found());
        }
    }
    if !manages {
        // A view the owner sees; failing to count one must not hide the job.
        let today = time::OffsetDateTime::now_utc().date();
        if let Err(err) = engine.store.record_job_view(job.id, caller.user.id, today).await {
            tracing::warn!(error = %err, job = %job.id, "job view not counted");
        }
    }
    Ok((job, manages))
}

/// Replaces a draft or open job and checks it again: a draft whose new text
/// passes opens; an open job whose new text needs review goes back to draft
/// (an earlier acknowledgement does not carry over to new words).
pub async fn edit(engine: &Engine, caller: &Caller, id: JobId, input: JobInput) -> Result<Job> {
    caller.require(Scope::Write)?;
    let job = managed(engine, caller, id).await?;
    if !matches!(job.status, JobStatus::Draft | JobStatus::Open) {
        return Err(Error::conflict(format!("a {} job can no longer be edited", job.status)));
    }
    let report = review(engine, &input);
    let edited = engine
        .store
        .update_job(id, job.status, status_for(&report), &input, &stored_review(&report)?)
        .await
        .map_err(|err| match err {
            StoreError::Conflict { .. } => {
                Error::conflict("the job changed meanwhile; read it and retry")
            }
            other => other.into(),
        })?;
    embed(engine, id, &input).await;
    Ok(edited)
}

/// Moves a job along its lifecycle. Opening a job whose bias check asked
/// for review needs `acknowledge_bias` (once).
pub async fn set_status(
    engine: &Engine,
    caller: &Caller,
    id: JobId,
    status: JobStatus,
    acknowledge_bias: bool,
) -> Result<Job> {
    caller.require(Scope::Write)?;
    let job = managed(engine, caller, id).await?;
    if !job.status.can_become(status) {
        return Err(Error::conflict(format!("a {} job cannot become {status}", job.status)));
    }
    if status == JobStatus::Open && job.needs_review && !job.bias_acknowledged && !acknowledge_bias
    {
        return Err(Error::conflict(
            "the bias check found language that needs review: edit the job or open it with \
             acknowledge_bias",
        ));
    }
    if status == JobStatus::Completed {
        // Counts the job on the hired freelancers' profiles too.
        engine.store.complete_job(id).await?;
        return Ok(engine.store.job(id).await?);
    }
    Ok(engine.store.set_job_status(id, job.status, status, acknowledge_bias).await?)
}

/// Jobs listed in "my jobs".
const OWNED_LISTED: u32 = 200;

/// The caller's own jobs in every status, newest first, with how many
/// applied (by status) and how many people opened each.
pub async fn owned(engine: &Engine, caller: &Caller) -> Result<Vec<OwnedJob>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.jobs_with_activity(caller.user.id, OWNED_LISTED).await?)
}

/// Deletes a draft (its owner or an admin): a job that never opened is
/// nobody else's business. An open job is closed (cancelled) instead, so
/// its applicants keep their record.
pub async fn delete_draft(
    engine: &Engine,
    caller: &Caller,
    id: JobId,
    context: RequestContext,
) -> Result<()> {
    caller.require(Scope::Write)?;
    let job = managed(engine, caller, id).await?;
    let refused = || Error::conflict("only a draft can be deleted; cancel an open job instead");
    if job.status != JobStatus::Draft {
        return Err(refused());
    }
    engine.store.delete_draft_job(id).await.map_err(|err| match err {
        StoreError::Conflict { .. } => refused(),
        other => other.into(),
    })?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), actions::JOB_DELETED)
                .target(format!("job:{id}"))
                .context(context)
                .details(serde_json::json!({"title": job.input.title})),
        )
        .await?;
    Ok(())
}

/// The freelancers for a job its owner (or an admin) manages, ranked by the
/// champion ranker and fairly re-ranked by the deployment's policy with the
/// request's overrides; the group figures of a ranking by a self-declared
/// attribute are shown to admins only.
pub async fn matches(
    engine: &Engine,
    caller: &Caller,
    id: JobId,
    request: &MatchRequest,
) -> Result<crate::matching::MatchList> {
    caller.require(Scope::Read)?;
    let limit = request.limit()?;
    let admin = caller.require_admin().is_ok();
    let policy = request.policy(&engine.fairness, admin)?;
    let filters = request.filters()?;
    let job = managed(engine, caller, id).await?;
    if matches!(job.status, JobStatus::Cancelled | JobStatus::Completed) {
        return Err(Error::conflict(format!("the job is {}", job.status)));
    }
    let mut list = crate::matching::matches_for_job(
        &engine.store,
        &engine.embeddings,
        &engine.profile_index,
        &job,
        (limit, &filters, Some(caller.user.id)),
        &policy,
    )
    .await?;
    if !admin {
        list.fairness.redact();
    }
    Ok(list)
}

/// How much text the as-you-type check reads (a job's description limit).
const PREVIEW_CHARS: usize = 100_000;

/// The bias check of a draft title and description as its author types,
/// a few at a time per person (it is the costliest thing a keystroke does).
pub fn preview(engine: &Engine, caller: &Caller, title: &str, description: &str) -> Result<Report> {
    let Some(_slot) = engine.expensive.try_start(caller.user.id) else {
        return Err(Error::RateLimited { retry_after_secs: 1 });
    };
    let text: String = format!("{title}\n\n{description}").chars().take(PREVIEW_CHARS).collect();
    Ok(engine.bias.check(&text, TextKind::JobPost, &CheckOptions::default()))
}
