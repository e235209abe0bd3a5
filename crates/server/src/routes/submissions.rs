//! `/submissions`: what clients ask for, and following it through the pipeline.

use std::convert::Infallible;

use axum::{
    body::Bytes,
    extract::{
        multipart::{Field, MultipartError},
        DefaultBodyLimit, FromRequest, Multipart, Request, State,
    },
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Json,
};
use fairgig_core::{
    api_key::Scope,
    ids::SubmissionId,
    submission::{SubmissionKind, SubmissionStatus},
};
use fairgig_store::{
    runs::RunView,
    submissions::{Submission, SubmissionFilter},
};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use fairgig_engine::submissions::{self, Idempotency, RunChange, SubmissionRequest, Upload};

use crate::{
    auth::Authenticated,
    error::{ApiError, ApiResult, ErrorBody, ErrorCode},
    extractors::{parse_json, AppPath, AppQuery, ClientInfo},
    routes::admin::page_limit,
    state::AppState,
};

pub fn routes(max_request_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_submission, list_submissions))
        .layer(DefaultBodyLimit::max(max_request_bytes))
        .routes(routes!(get_submission, delete_submission))
        .routes(routes!(cancel_submission))
        .routes(routes!(retry_submission))
        .routes(routes!(submission_events))
}

/// The multipart form of a submission.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SubmissionForm {
    /// The submission as JSON (the same object as the JSON body).
    submission: String,
    /// Up to 10 documents: PDF, DOCX, text, Markdown, HTML.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
    /// One voice recording: WAV, MP3, OGG, WebM, M4A.
    #[schema(value_type = Option<String>, format = Binary)]
    voice: Option<Vec<u8>>,
}

/// A submission with the state of its run.
#[derive(Serialize, ToSchema)]
pub struct SubmissionDetail {
    #[serde(flatten)]
    submission: Submission,
    run: Option<RunView>,
}

async fn detail(state: &AppState, submission: Submission) -> ApiResult<SubmissionDetail> {
    let (submission, run) = submissions::with_run(&state.engine, submission).await?;
    Ok(SubmissionDetail { submission, run })
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).filter(|key| {
        (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    });
    key.map(|key| Some(key.to_owned())).ok_or_else(|| {
        ApiError::with_field(
            ErrorCode::InvalidBody,
            "must be 1-255 printable ASCII characters",
            "Idempotency-Key",
        )
    })
}

/// Submit a request or a job: JSON, or multipart with files and a voice recording.
///
/// With an `Idempotency-Key` header, repeating the same request returns the
/// first submission (with `Idempotent-Replayed: true`); the same key with a
/// different request is a 409.
#[utoipa::path(
    post, path = "/submissions", tag = "submissions",
    request_body(content(
        (SubmissionRequest = "application/json"),
        (SubmissionForm = "multipart/form-data"),
    )),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, description = "Stored; processing starts", body = SubmissionDetail),
        (status = 400, description = "Malformed body or multipart", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with a different request", body = ErrorBody),
        (status = 413, description = "A file or the request is too large", body = ErrorBody),
        (status = 415, description = "Unsupported body or file type", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
async fn create_submission(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let key = idempotency_key(&headers)?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (body, uploads, request_hash) = match mime.as_str() {
        "application/json" => {
            let bytes = Bytes::from_request(request, &state).await.map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
                }
            })?;
            let hash =
                hex::encode(Sha256::new().chain_update(b"json\0").chain_update(&bytes).finalize());
            (parse_json::<SubmissionRequest>(&bytes)?, Vec::new(), hash)
        }
        "multipart/form-data" => {
            let multipart =
                Multipart::from_request(request, &state).await.map_err(|rejection| {
                    ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
                })?;
            read_multipart(&state, multipart).await?
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send application/json or multipart/form-data",
            ))
        }
    };
    let idempotency = key.map(|key| Idempotency { key, request_hash });
    let (submission, new) =
        submissions::create(&state.engine, &caller, body, uploads, idempotency, client.context())
            .await?;
    let mut response =
        (StatusCode::CREATED, Json(detail(&state, submission).await?)).into_response();
    if !new {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn multipart_error(err: MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "the request is too large")
    } else {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("malformed multipart body: {}", err.body_text()),
        )
    }
}

/// A part's headers (its name, file name, type) fit in 8 KiB: anything
/// longer is no upload a person made, and would be kept and logged.
const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

fn check_part_headers(field: &Field<'_>) -> ApiResult<()> {
    let size: usize =
        field.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > MAX_PART_HEADER_BYTES {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!("a part's headers are over {} KiB", MAX_PART_HEADER_BYTES / 1024),
        ));
    }
    Ok(())
}

/// Reads one part, refusing it as soon as it passes `max` bytes or the
/// request passes its total.
async fn read_part(
    field: &mut Field<'_>,
    name: &str,
    max: usize,
    total: &mut usize,
    max_total: usize,
) -> ApiResult<Bytes> {
    let mut buffer = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        *total += chunk.len();
        if buffer.len() + chunk.len() > max {
            return Err(ApiError::with_field(
                ErrorCode::PayloadTooLarge,
                format!("larger than {max} bytes"),
                name,
            ));
        }
        if *total > max_total {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the request is larger than {max_total} bytes"),
            ));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

async fn read_multipart(
    state: &AppState,
    mut multipart: Multipart,
) -> ApiResult<(SubmissionRequest, Vec<Upload>, String)> {
    let limits = &state.engine.settings.submissions;
    let mut total = 0usize;
    let mut parts = 0usize;
    let mut request = None;
    let mut uploads: Vec<Upload> = Vec::new();
    let mut hasher = Sha256::new().chain_update(b"multipart\0");
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > limits.max_files + 2 {
            return Err(ApiError::with_field(
                ErrorCode::InvalidBody,
                format!(
                    "at most {} files, one voice recording and the submission part",
                    limits.max_files
                ),
                "files",
            ));
        }
        check_part_headers(&field)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "submission" => {
                if request.is_some() {
                    return Err(ApiError::with_field(
                        ErrorCode::InvalidBody,
                        "only one submission part",
                        "submission",
                    ));
                }
                let bytes = read_part(
                    &mut field,
                    "submission",
                    1024 * 1024,
                    &mut total,
                    limits.max_request_bytes,
                )
                .await?;
                hasher.update(b"submission\0");
                hasher.update(&bytes);
                request = Some(parse_json::<SubmissionRequest>(&bytes)?);
            }
            "files" | "voice" => {
                let voice = name == "voice";
                if voice && uploads.iter().any(|u| u.role == "voice") {
                    return Err(ApiError::with_field(
                        ErrorCode::InvalidBody,
                        "only one voice recording",
                        "voice",
                    ));
                }
                if !voice
                    && uploads.iter().filter(|u| u.role == "attachment").count() >= limits.max_files
                {
                    return Err(ApiError::with_field(
                        ErrorCode::InvalidBody,
                        format!("at most {} files", limits.max_files),
                        "files",
                    ));
                }
                let raw_filename = field.file_name().unwrap_or("upload").to_owned();
                let bytes = read_part(
                    &mut field,
                    &name,
                    limits.max_file_bytes,
                    &mut total,
                    limits.max_request_bytes,
                )
                .await?;
                let upload = Upload::accept(voice, &raw_filename, bytes, &name)?;
                hasher.update(name.as_bytes());
                hasher.update(upload.filename.as_bytes());
                hasher.update(upload.sha256.as_bytes());
                uploads.push(upload);
            }
            other => {
                return Err(ApiError::with_field(
                    ErrorCode::InvalidBody,
                    "unknown part; expected submission, files or voice",
                    other.to_owned(),
                ))
            }
        }
    }
    let request = request.ok_or_else(|| {
        ApiError::with_field(ErrorCode::InvalidBody, "the submission part is missing", "submission")
    })?;
    Ok((request, uploads, hex::encode(hasher.finalize())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Words that must all appear in the title or the text, in any case
    /// (at most 200 characters; the first 8 words count).
    q: Option<String>,
    status: Option<SubmissionStatus>,
    kind: Option<SubmissionKind>,
    /// Cursor: the `next_cursor` of the previous page.
    cursor: Option<SubmissionId>,
    /// 1–200, default 50.
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionPage {
    /// Newest first.
    submissions: Vec<Submission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<SubmissionId>,
}

/// The caller's submissions, newest first.
#[utoipa::path(
    get, path = "/submissions", tag = "submissions", params(ListQuery),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, description = "A page of submissions", body = SubmissionPage),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn list_submissions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<SubmissionPage>> {
    let limit = page_limit(query.limit)?;
    let filter = SubmissionFilter {
        status: query.status,
        kind: query.kind,
        before: query.cursor,
        text: query.q.filter(|q| !q.trim().is_empty()),
    };
    let mut submissions = submissions::list(&state.engine, &caller, &filter, limit + 1).await?;
    let more = submissions.len() > limit as usize;
    submissions.truncate(limit as usize);
    let next_cursor = more.then(|| submissions.last().map(|s| s.id)).flatten();
    Ok(Json(SubmissionPage { submissions, next_cursor }))
}

/// One submission: status, progress, and each step with attempts, timings, error and output.
#[utoipa::path(
    get, path = "/submissions/{id}", tag = "submissions",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, body = SubmissionDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such submission of the caller's", body = ErrorBody),
    )
)]
async fn get_submission(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<SubmissionId>,
) -> ApiResult<Json<SubmissionDetail>> {
    caller.require(Scope::Read)?;
    let submission = submissions::visible(&state.engine, &caller, id).await?;
    Ok(Json(detail(&state, submission).await?))
}

/// Cancel: steps not yet started never run.
#[utoipa::path(
    post, path = "/submissions/{id}/cancel", tag = "submissions",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = SubmissionDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such submission of the caller's", body = ErrorBody),
        (status = 409, description = "Already finished", body = ErrorBody),
    )
)]
async fn cancel_submission(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<SubmissionId>,
) -> ApiResult<Json<SubmissionDetail>> {
    caller.require(Scope::Write)?;
    let submission = submissions::cancel(&state.engine, &caller, id, client.context()).await?;
    Ok(Json(detail(&state, submission).await?))
}

/// Run a failed submission again from the step that failed, with fresh attempts.
#[utoipa::path(
    post, path = "/submissions/{id}/retry", tag = "submissions",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 202, description = "Running again", body = SubmissionDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such submission of the caller's", body = ErrorBody),
        (status = 409, description = "The run did not fail", body = ErrorBody),
    )
)]
async fn retry_submission(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<SubmissionId>,
) -> ApiResult<(StatusCode, Json<SubmissionDetail>)> {
    let submission = submissions::retry(&state.engine, &caller, id, client.context()).await?;
    Ok((StatusCode::ACCEPTED, Json(detail(&state, submission).await?)))
}

/// Delete a submission and its stored files (owner or admin).
#[utoipa::path(
    delete, path = "/submissions/{id}", tag = "submissions",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such submission of the caller's", body = ErrorBody),
    )
)]
async fn delete_submission(
    State(state): State<AppState>,
    client: ClientInfo,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<SubmissionId>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Write)?;
    submissions::delete(&state.engine, &caller, id, client.context()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One server-sent event of a submission's progress.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the stream; the events are written by hand
pub struct ProgressEvent {
    /// `step` for a step's transition, `run` once at the end.
    #[schema(pattern = "^(step|run)$")]
    event: String,
    /// JSON: `{step, status, attempts, error}` for `step`,
    /// `{run, status, progress}` for `run`.
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// Live progress as server-sent events: a `step` event for every step
/// transition, then one `run` event with the final status.
#[utoipa::path(
    get, path = "/submissions/{id}/events", tag = "submissions",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["read"])),
    responses(
        (status = 200, description = "A stream of progress events", content_type = "text/event-stream", body = ProgressEvent),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such submission of the caller's", body = ErrorBody),
    )
)]
async fn submission_events(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<SubmissionId>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Scope::Read)?;
    submissions::visible(&state.engine, &caller, id).await?;
    Ok(Sse::new(progress_stream(state, id)).keep_alive(KeepAlive::default()))
}

/// The engine's run changes as `step` and `run` events.
fn progress_stream(
    state: AppState,
    id: SubmissionId,
) -> impl Stream<Item = Result<Event, Infallible>> {
    submissions::watch(state.engine, id).map(|change| {
        Ok(match change {
            RunChange::Step(step) => {
                let data = serde_json::json!({
                    "step": step.name, "status": step.status, "attempts": step.attempts, "error": step.error,
                });
                Event::default().event("step").data(data.to_string())
            }
            RunChange::Finished(run) => {
                let data = serde_json::json!({"run": run.id, "status": run.status, "progress": run.progress});
                Event::default().event("run").data(data.to_string())
            }
        })
    })
}
