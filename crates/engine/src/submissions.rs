//! What happens when a client submits: validate, store the files, store the
//! submission with its run, its audit entry and its "received" notification
//! in one transaction, wake a worker, deliver the receipt.
//!
//! Files go to object storage first; if the database then refuses the
//! submission, they are deleted again, so a submission is never half stored.
//! The receipt is an announcement (`fairgig_store::announcements`): written
//! with the submission, delivered right after the commit, again by a replay
//! with the same `Idempotency-Key`, and otherwise by the worker's sweep, so
//! a crash or a lost connection after the commit loses no receipt.

use bytes::Bytes;
use fairgig_core::{
    audit::{Actor, NewAuditEntry, RequestContext},
    ids::{FileId, SubmissionId},
    submission::{self, Budget, ContactPreference, SubmissionKind},
    user::Region,
    ValidationError,
};
use fairgig_notify::NotificationKind;
use fairgig_store::{
    announcements::NewAnnouncement,
    submissions::{NewSubmission, StoredFile, Submission},
    StoreError,
};
use serde::Deserialize;
use serde_json::json;
use time::Date;

use crate::{
    caller::Caller,
    error::{Error, ErrorKind, Result},
    Engine,
};

pub const SUBMISSION_CREATED: &str = "submission.created";
pub const SUBMISSION_CANCELLED: &str = "submission.cancelled";
pub const RUN_RETRIED: &str = "run.retried";
pub const SUBMISSION_DELETED: &str = "submission.deleted";

/// The submission as the client describes it (JSON body, or the
/// `submission` part of a multipart request).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    pub kind: SubmissionKind,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 100000)]
    pub text: String,
    #[serde(default)]
    pub budget: Option<BudgetRequest>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub contact: Option<ContactPreference>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// In minor units (cents).
    pub amount_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

/// An uploaded file, already read within limits and sniffed.
#[derive(Debug)]
pub struct Upload {
    /// `attachment` or `voice`.
    pub role: &'static str,
    pub filename: String,
    pub content_type: &'static str,
    pub sha256: String,
    pub bytes: Bytes,
}

impl Upload {
    /// Accepts an uploaded file as an attachment (a document) or the voice
    /// recording: named safely, not empty, and of an accepted type by its
    /// bytes (not by what the client claimed). `field` names the form field
    /// in a refusal.
    pub fn accept(voice: bool, raw_filename: &str, bytes: Bytes, field: &str) -> Result<Upload> {
        use crate::sniff::{sanitise_filename, sniff, AUDIO_TYPES, DOCUMENT_TYPES};
        use sha2::{Digest, Sha256};

        let filename = sanitise_filename(raw_filename);
        if bytes.is_empty() {
            return Err(Error::with_field(
                ErrorKind::Invalid,
                format!("{filename} is empty"),
                field,
            ));
        }
        let allowed: &[&str] = if voice { &AUDIO_TYPES } else { &DOCUMENT_TYPES };
        let content_type =
            sniff(&bytes, &filename).filter(|kind| allowed.contains(kind)).ok_or_else(|| {
                Error::with_field(
                    ErrorKind::UnsupportedMediaType,
                    format!(
                        "{filename}: not an accepted {} type ({})",
                        if voice { "audio" } else { "document" },
                        allowed.join(", ")
                    ),
                    field,
                )
            })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Upload {
            role: if voice { "voice" } else { "attachment" },
            filename,
            content_type,
            sha256,
            bytes,
        })
    }
}

/// An `Idempotency-Key` and the hash of the request it came with.
#[derive(Debug)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

fn parse_deadline(raw: &str) -> Result<Date, ValidationError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format)
        .map_err(|_| ValidationError::new("deadline", "must be a date as YYYY-MM-DD"))
}

/// Replays the earlier submission made with the same key and request, or
/// refuses a different request under the same key.
fn replay(existing: Submission, request_hash: &str) -> Result<Submission> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(existing)
    } else {
        Err(Error::with_field(
            ErrorKind::Conflict,
            "this Idempotency-Key was used with a different request",
            "Idempotency-Key",
        ))
    }
}

/// Creates a submission. Returns it and whether it is new (`false`: a replay).
pub async fn create(
    engine: &Engine,
    caller: &Caller,
    request: SubmissionRequest,
    uploads: Vec<Upload>,
    idempotency: Option<Idempotency>,
    context: RequestContext,
) -> Result<(Submission, bool)> {
    let title = submission::parse_title(&request.title)?;
    let body = submission::parse_body(&request.text)?;
    let budget = request.budget.map(|b| Budget::parse(b.amount_minor, &b.currency)).transpose()?;
    let deadline = request.deadline.as_deref().map(parse_deadline).transpose()?;
    let region = request.region.as_deref().map(Region::parse).transpose()?;
    if body.trim().is_empty() && uploads.is_empty() {
        return Err(
            ValidationError::new("text", "must not be empty when no file is attached").into()
        );
    }
    if let Some(idempotency) = &idempotency {
        if let Some(existing) =
            engine.store.submission_by_idempotency_key(caller.user.id, &idempotency.key).await?
        {
            let replayed = replay(existing, &idempotency.request_hash)?;
            // An earlier attempt may have committed and then failed to
            // deliver: this one completes it.
            deliver_receipt(engine, replayed.id).await;
            return Ok((replayed, false));
        }
    }

    let id = SubmissionId::new();
    let mut files = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let file_id = FileId::new();
        let object_key = format!("submissions/{id}/{file_id}");
        if let Err(err) = engine.storage.put(&object_key, upload.bytes.clone()).await {
            remove_objects(engine, &files).await;
            return Err(Error::Internal(anyhow::Error::new(err).context("storing an upload")));
        }
        files.push(StoredFile {
            id: file_id,
            role: upload.role.to_owned(),
            filename: upload.filename,
            content_type: upload.content_type.to_owned(),
            size_bytes: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
            sha256: upload.sha256,
            object_key,
        });
    }
    let new = NewSubmission {
        id,
        owner: caller.user.id,
        kind: request.kind,
        title: title.clone(),
        body,
        budget,
        deadline,
        region: region.map(|r| r.as_ref().to_owned()),
        contact: request.contact,
        idempotency_key: idempotency.as_ref().map(|i| i.key.clone()),
        request_hash: idempotency.as_ref().map(|i| i.request_hash.clone()),
        audit: Some(
            NewAuditEntry::new(Actor::User(caller.user.id), SUBMISSION_CREATED)
                .target(format!("submission:{id}"))
                .context(context)
                .details(json!({"kind": request.kind, "files": files.len()})),
        ),
        receipt: Some(NewAnnouncement {
            user: caller.user.id,
            kind: NotificationKind::SubmissionReceived.as_str().to_owned(),
            source: receipt_source(id),
            context: json!({"submission": {"id": id, "kind": request.kind, "title": title}}),
        }),
        files,
    };
    let created = match engine.store.create_submission(&new, engine.pipeline.plan()).await {
        Ok((submission, _run)) => submission,
        Err(err) => {
            remove_objects(engine, &new.files).await;
            return match (err, &idempotency) {
                // Two requests with one key raced; the other one won.
                (StoreError::Conflict { field: "idempotency_key" }, Some(idempotency)) => {
                    let existing = engine
                        .store
                        .submission_by_idempotency_key(caller.user.id, &idempotency.key)
                        .await?
                        .ok_or_else(Error::not_found)?;
                    let replayed = replay(existing, &idempotency.request_hash)?;
                    deliver_receipt(engine, replayed.id).await;
                    Ok((replayed, false))
                }
                (err, _) => Err(err.into()),
            };
        }
    };
    engine.wake.notify_one();
    deliver_receipt(engine, created.id).await;
    Ok((created, true))
}

/// What a submission's receipt is caused by: with kind and channel, its
/// dedupe key.
fn receipt_source(id: SubmissionId) -> String {
    format!("submission/{id}")
}

/// Delivers the submission's receipt if it is still undelivered.
async fn deliver_receipt(engine: &Engine, id: SubmissionId) {
    crate::notifications::deliver_announcements_from(engine, &receipt_source(id)).await;
}

async fn remove_objects(engine: &Engine, files: &[StoredFile]) {
    for file in files {
        if let Err(err) = engine.storage.delete(&file.object_key).await {
            tracing::error!(key = %file.object_key, error.message = %err, "could not remove an orphaned upload");
        }
    }
}

/// The submission if the caller owns it or is an admin; 404 otherwise (no
/// hint that someone else's exists).
pub async fn visible(engine: &Engine, caller: &Caller, id: SubmissionId) -> Result<Submission> {
    let submission = engine.store.get_submission(id).await?;
    if submission.owner != caller.user.id && caller.require_admin().is_err() {
        return Err(Error::not_found());
    }
    Ok(submission)
}

pub async fn cancel(
    engine: &Engine,
    caller: &Caller,
    id: SubmissionId,
    context: RequestContext,
) -> Result<Submission> {
    visible(engine, caller, id).await?;
    if !engine.store.cancel_submission(id).await? {
        return Err(Error::new(ErrorKind::Conflict, "the submission has already finished"));
    }
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), SUBMISSION_CANCELLED)
                .target(format!("submission:{id}"))
                .context(context),
        )
        .await?;
    Ok(engine.store.get_submission(id).await?)
}

/// Runs a failed submission again from the step that failed, with fresh
/// attempts (the steps that succeeded keep their outputs).
pub async fn retry(
    engine: &Engine,
    caller: &Caller,
    id: SubmissionId,
    context: RequestContext,
) -> Result<Submission> {
    caller.require(fairgig_core::api_key::Scope::Write)?;
    visible(engine, caller, id).await?;
    let run = engine.store.run_of_submission(id).await?;
    if run.status != fairgig_core::submission::RunStatus::Failed {
        return Err(Error::new(ErrorKind::Conflict, "only a failed run can be retried"));
    }
    let dead = engine.store.dead_tasks_of_run(run.id).await?;
    if dead.is_empty() {
        return Err(Error::new(ErrorKind::Conflict, "the run has no failed step left to retry"));
    }
    for task in &dead {
        match engine.store.retry_dead_task(*task).await {
            // Retried meanwhile by someone else (an admin, a second click).
            Ok(_) | Err(fairgig_store::StoreError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }
    }
    engine.wake.notify_one();
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), RUN_RETRIED)
                .target(format!("run:{}", run.id))
                .context(context)
                .details(json!({"submission": id, "steps": dead.len()})),
        )
        .await?;
    Ok(engine.store.get_submission(id).await?)
}

pub async fn delete(
    engine: &Engine,
    caller: &Caller,
    id: SubmissionId,
    context: RequestContext,
) -> Result<()> {
    visible(engine, caller, id).await?;
    let keys = engine.store.delete_submission(id).await?;
    for key in &keys {
        engine.storage.delete(key).await.map_err(|err| {
            Error::Internal(anyhow::Error::new(err).context("deleting a stored file"))
        })?;
    }
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), SUBMISSION_DELETED)
                .target(format!("submission:{id}"))
                .context(context)
                .details(json!({"files_removed": keys.len()})),
        )
        .await?;
    Ok(())
}

/// The most characters a search of one's submissions may have.
const MAX_SEARCH_CHARS: usize = 200;

/// The caller's submissions, newest first; with `filter.text`, those whose
/// title or text holds every word of it.
pub async fn list(
    engine: &Engine,
    caller: &Caller,
    filter: &fairgig_store::submissions::SubmissionFilter,
    limit: u32,
) -> Result<Vec<Submission>> {
    caller.require(fairgig_core::api_key::Scope::Read)?;
    if let Some(text) = &filter.text {
        if text.chars().count() > MAX_SEARCH_CHARS || text.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "q",
                "at most 200 characters, without control characters",
            )
            .into());
        }
    }
    Ok(engine.store.list_submissions(caller.user.id, filter, limit).await?)
}

/// A submission the caller may see, with the state of its latest run.
pub async fn detail(
    engine: &Engine,
    caller: &Caller,
    id: SubmissionId,
) -> Result<(Submission, Option<fairgig_store::runs::RunView>)> {
    let submission = visible(engine, caller, id).await?;
    with_run(engine, submission).await
}

/// A submission and the state of its latest run, read so that the two
/// agree: they change in one transaction but are read one after the
/// other, so a run that finished in between means reading the submission
/// again.
pub async fn with_run(
    engine: &Engine,
    submission: Submission,
) -> Result<(Submission, Option<fairgig_store::runs::RunView>)> {
    let run = match engine.store.run_of_submission(submission.id).await {
        Ok(run) => Some(run),
        Err(fairgig_store::StoreError::NotFound) => None,
        Err(err) => return Err(err.into()),
    };
    let unsettled = matches!(
        submission.status,
        fairgig_core::submission::SubmissionStatus::Received
            | fairgig_core::submission::SubmissionStatus::Processing
    );
    let submission = match &run {
        Some(run) if run.status != fairgig_core::submission::RunStatus::Running && unsettled => {
            engine.store.get_submission(submission.id).await?
        }
        _ => submission,
    };
    Ok((submission, run))
}

/// What changed in a submission's run, as [`watch`] sees it.
#[derive(Clone, Debug)]
pub enum RunChange {
    /// A step moved (or was retried).
    Step(fairgig_store::runs::StepView),
    /// The run ended; the last change.
    Finished(fairgig_store::runs::RunView),
}

/// Follows a submission's run (workers may be other processes, so the store
/// is polled) and yields each step transition (and each step's progress as
/// its text grows), then the end. Stops after an
/// hour; a client can follow again.
pub fn watch(engine: Engine, id: SubmissionId) -> impl futures::Stream<Item = RunChange> {
    use std::collections::{HashMap, VecDeque};

    const POLL: std::time::Duration = std::time::Duration::from_millis(200);
    const MAX_POLLS: u32 = 18_000;
    struct Watch {
        engine: Engine,
        id: SubmissionId,
        /// Status, attempts and how much text it has written so far.
        seen: HashMap<String, (fairgig_core::submission::StepStatus, i32, usize)>,
        pending: VecDeque<RunChange>,
        finished: bool,
        polls: u32,
    }
    let start = Watch {
        engine,
        id,
        seen: HashMap::new(),
        pending: VecDeque::new(),
        finished: false,
        polls: 0,
    };
    futures::stream::unfold(start, |mut watch| async move {
        loop {
            if let Some(change) = watch.pending.pop_front() {
                return Some((change, watch));
            }
            if watch.finished || watch.polls >= MAX_POLLS {
                return None;
            }
            if watch.polls > 0 {
                tokio::time::sleep(POLL).await;
            }
            watch.polls += 1;
            let Ok(run) = watch.engine.store.run_of_submission(watch.id).await else {
                watch.finished = true;
                continue;
            };
            for step in &run.steps {
                let written = step.progress.as_ref().map_or(0, String::len);
                let now = (step.status, step.attempts, written);
                if watch.seen.get(&step.name) != Some(&now) {
                    watch.seen.insert(step.name.clone(), now);
                    watch.pending.push_back(RunChange::Step(step.clone()));
                }
            }
            if run.status != fairgig_core::submission::RunStatus::Running {
                watch.pending.push_back(RunChange::Finished(run));
                watch.finished = true;
            }
        }
    })
}

/// A submission as its owner reads it once processed: the run, each step's
/// output through its type, and who the matched freelancers are.
#[derive(Debug)]
pub struct Outcome {
    pub submission: Submission,
    pub run: Option<fairgig_store::runs::RunView>,
    pub outputs: crate::steps::outputs::RunOutputs,
    /// Display name and headline of each matched freelancer.
    pub freelancers: std::collections::HashMap<fairgig_core::ids::UserId, (String, String)>,
}

/// The submission, its run and what the run produced.
pub async fn outcome(engine: &Engine, caller: &Caller, id: SubmissionId) -> Result<Outcome> {
    let (submission, run) = detail(engine, caller, id).await?;
    let outputs = run
        .as_ref()
        .map(|run| crate::steps::outputs::RunOutputs::of(&run.steps))
        .unwrap_or_default();
    let mut freelancers = std::collections::HashMap::new();
    for matched in outputs.matched.as_ref().map(|m| m.matches()).unwrap_or_default() {
        let Ok(user) = engine.store.get_user(matched.freelancer).await else { continue };
        let headline = engine
            .store
            .profile(matched.freelancer)
            .await
            .map(|profile| profile.input.headline)
            .unwrap_or_default();
        freelancers.insert(matched.freelancer, (user.display_name.to_string(), headline));
    }
    Ok(Outcome { submission, run, outputs, freelancers })
}
