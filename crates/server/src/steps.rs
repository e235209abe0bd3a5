//! The pipeline every submission runs through, and the glue from its steps
//! to the `ai` crate. Adding a step: write a `StepHandler` here and add one
//! `.step(…)` line to [`pipeline`].
//!
//! ```text
//!          ┌─► analyse
//! extract ─┼─► bias_check
//!          └─► embed
//! ```

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use fairgig_ai::{
    analyse::{self, SkillIndex},
    bias::{BiasChecker, CheckOptions, TextKind},
    extract::{self, DocumentKind, ExtractError, Limits},
};
use fairgig_pipeline::{Pipeline, RetryPolicy, StepContext, StepError, StepHandler, StepSpec};
use fairgig_store::embeddings::EntityKind;
use fairgig_store::objects::ObjectStorage;
use serde_json::{json, Value};

use crate::embedding::EmbeddingService;

pub const EXTRACT: &str = "extract";
pub const ANALYSE: &str = "analyse";
pub const BIAS_CHECK: &str = "bias_check";
pub const EMBED: &str = "embed";

/// The request pipeline.
pub fn pipeline(
    storage: ObjectStorage,
    skills: Arc<SkillIndex>,
    bias: Arc<BiasChecker>,
    embeddings: EmbeddingService,
) -> Pipeline {
    let steps = Pipeline::new()
        .step(
            StepSpec::new(EXTRACT).timeout(Duration::from_secs(300)).retry(RetryPolicy::default()),
            Extract { storage, limits: Limits::default() },
        )
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(ANALYSE).after(&[EXTRACT]).timeout(Duration::from_secs(60)),
                Analyse { skills },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(BIAS_CHECK).after(&[EXTRACT]).timeout(Duration::from_secs(60)),
                BiasCheck { bias },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(EMBED)
                    .after(&[EXTRACT])
                    .timeout(Duration::from_secs(120))
                    .retry(RetryPolicy::default()),
                Embed { embeddings },
            )
        });
    match steps {
        Ok(pipeline) => pipeline,
        // The plan above is static; a mistake in it is a programming error caught by every test.
        Err(err) => unreachable!("invalid static pipeline: {err}"),
    }
}

/// Text out of every attached document; voice recordings are stored and
/// marked for transcription, which is not available yet.
struct Extract {
    storage: ObjectStorage,
    limits: Limits,
}

#[async_trait]
impl StepHandler for Extract {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let mut documents = Vec::new();
        let mut voice = Vec::new();
        let mut texts = vec![context.submission.text.clone()];
        for file in &context.submission.files {
            if file.role == "voice" {
                voice.push(json!({
                    "file_id": file.id,
                    "filename": file.filename,
                    "transcription": "unavailable",
                    "reason": "speech-to-text is not installed in this version of fairgig",
                }));
                continue;
            }
            let Some(kind) = DocumentKind::from_content_type(&file.content_type) else {
                documents.push(json!({"file_id": file.id, "filename": file.filename, "skipped": "not a document"}));
                continue;
            };
            let bytes =
                self.storage.get(&file.object_key).await.map_err(|err| {
                    StepError::Retryable(format!("reading {}: {err}", file.filename))
                })?;
            let limits = self.limits;
            let extracted =
                tokio::task::spawn_blocking(move || extract::extract(kind, &bytes, &limits))
                    .await
                    .map_err(|err| {
                        StepError::Retryable(format!("extraction task failed: {err}"))
                    })?;
            match extracted {
                Ok(out) => {
                    texts.push(out.text.clone());
                    documents.push(json!({
                        "file_id": file.id,
                        "filename": file.filename,
                        "kind": out.kind,
                        "chars": out.chars,
                        "pages": out.pages,
                        "truncated": out.truncated,
                        "ocr": out.ocr,
                    }));
                }
                Err(
                    err @ (ExtractError::Corrupt(_)
                    | ExtractError::Encrypted
                    | ExtractError::TooLarge(_)),
                ) => {
                    return Err(StepError::Permanent(format!("{}: {err}", file.filename)));
                }
            }
        }
        let text =
            texts.into_iter().filter(|t| !t.trim().is_empty()).collect::<Vec<_>>().join("\n\n");
        Ok(json!({"text": text, "documents": documents, "voice": voice}))
    }
}

/// Deterministic analysis of the submission text plus everything extracted.
struct Analyse {
    skills: Arc<SkillIndex>,
}

#[async_trait]
impl StepHandler for Analyse {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let text = extracted_text(context);
        let attachments = context.submission.files.len();
        let skills = Arc::clone(&self.skills);
        let analysis =
            tokio::task::spawn_blocking(move || analyse::analyse(&text, &skills, attachments))
                .await
                .map_err(|err| StepError::Retryable(format!("analysis task failed: {err}")))?;
        serde_json::to_value(analysis)
            .map_err(|err| StepError::Permanent(format!("analysis output: {err}")))
    }
}

/// The extracted text checked for exclusionary language: as a job post for
/// `job` submissions (with the gender-coded verdict), as plain text otherwise.
struct BiasCheck {
    bias: Arc<BiasChecker>,
}

#[async_trait]
impl StepHandler for BiasCheck {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let text = extracted_text(context);
        let kind = match context.submission.kind {
            fairgig_core::submission::SubmissionKind::Job => TextKind::JobPost,
            fairgig_core::submission::SubmissionKind::Request => TextKind::Text,
        };
        let bias = Arc::clone(&self.bias);
        let report =
            tokio::task::spawn_blocking(move || bias.check(&text, kind, &CheckOptions::default()))
                .await
                .map_err(|err| StepError::Retryable(format!("bias check task failed: {err}")))?;
        serde_json::to_value(report)
            .map_err(|err| StepError::Permanent(format!("bias report: {err}")))
    }
}

/// The submission's vector (its title and extracted text), stored for
/// matching. Idempotent: an unchanged text by the same model is not
/// embedded again.
struct Embed {
    embeddings: EmbeddingService,
}

#[async_trait]
impl StepHandler for Embed {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let text = format!("{}\n{}", context.submission.title, extracted_text(context));
        let embedded = self
            .embeddings
            .embed_entity(EntityKind::Submission, context.submission.id.as_uuid(), &text)
            .await
            .map_err(|err| StepError::Retryable(err.to_string()))?;
        Ok(json!({
            "model": self.embeddings.model_id(),
            "dimensions": self.embeddings.dimensions(),
            "embedded": embedded,
        }))
    }
}

/// The text `extract` produced, or the submission's own text.
fn extracted_text(context: &StepContext) -> String {
    context
        .outputs
        .get(EXTRACT)
        .and_then(|output| output.get("text"))
        .and_then(Value::as_str)
        .unwrap_or(&context.submission.text)
        .to_owned()
}
