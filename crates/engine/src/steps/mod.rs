//! The pipeline every submission runs through, and the glue from its steps
//! to the `ai` crate. Adding a step: write a `StepHandler` here and add one
//! `.step(…)` line to [`pipeline`].
//!
//! ```text
//! extract ─┬─► analyse ──┬─► publish_job ─┐
//!          ├─► bias_check┴─► brief ─┬─► prototype
//!          │                        └─► offer (after embed too)
//!          └─► embed ─────────────────────┴─► match (after publish_job)
//! ```
//!
//! `brief` (every submission), `offer` and `prototype` (requests, the
//! latter after `brief`) are what the client gets back: a grounded brief,
//! three priced tiers (`fairgig_ai::brief`, `fairgig_ai::offer`) and a
//! landing-page prototype at a share link ([`crate::prototypes`]).
//!
//! `publish_job` and `match` act on `job` submissions only (a request
//! records that it was skipped): the submission becomes a marketplace job
//! (a draft when its bias check needs review), and `match` stores its
//! ranked, fairly re-ranked freelancers with the model version.
//!
//! Each step's output is a type ([`outputs`]); steps read each other's
//! through [`StepContext::output`].

pub mod outputs;
pub mod progress;

use crate::bias_rules::LiveBias;
use crate::candidates::ProfileIndex;
use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use fairgig_ai::{
    analyse::{self, SkillIndex},
    bias::{CheckOptions, TextKind},
    extract::{self, DocumentKind, ExtractError, Limits},
};
use fairgig_core::{
    config::OfferSettings, marketplace::check_short_text, submission::SubmissionKind,
};
use fairgig_pipeline::{
    Pipeline, RetryPolicy, StepContext, StepError, StepHandler, StepOutput, StepSpec,
};
use fairgig_store::{embeddings::EntityKind, marketplace::JobInput, objects::ObjectStorage, Store};
use serde_json::Value;

use outputs::{
    not_a_job, not_a_request, Analysed, BiasChecked, Briefed, Document, Embedded, Extracted,
    Matched, MatchedFreelancer, Offered, Prototyped, Published, Reading, Transcription, VoiceNote,
};

use crate::{
    embedding::EmbeddingService,
    matching::{self, FairnessPolicy},
    transcription::{TranscriptionError, TranscriptionService},
};

pub const EXTRACT: &str = "extract";
pub const ANALYSE: &str = "analyse";
pub const BIAS_CHECK: &str = "bias_check";
pub const EMBED: &str = "embed";
pub const PUBLISH_JOB: &str = "publish_job";
pub const BRIEF: &str = "brief";
pub const OFFER: &str = "offer";
pub const PROTOTYPE: &str = "prototype";
pub const MATCH: &str = "match";

/// How many freelancers the `match` step keeps per job.
const MATCHES_PER_JOB: usize = 10;

/// The engine's services the steps use.
#[allow(missing_debug_implementations)]
pub struct StepServices {
    pub store: Store,
    pub storage: ObjectStorage,
    pub transcription: TranscriptionService,
    pub skills: Arc<SkillIndex>,
    pub bias: Arc<LiveBias>,
    pub embeddings: EmbeddingService,
    pub profiles: Arc<ProfileIndex>,
    pub fairness: Arc<FairnessPolicy>,
    pub offers: OfferSettings,
    /// Prototypes a client may have made per 24 hours.
    pub prototypes_per_day: u32,
    /// The language model that writes briefs and offers' words; `None` when off.
    pub llm: Option<fairgig_llm::LanguageModel>,
}

/// The request pipeline.
pub fn pipeline(services: StepServices) -> Pipeline {
    let StepServices {
        store,
        storage,
        transcription,
        skills,
        bias,
        embeddings,
        profiles,
        fairness,
        offers,
        prototypes_per_day,
        llm,
    } = services;
    let steps = Pipeline::new()
        .step(
            // Documents take seconds; a recording up to its length limit
            // (the local model runs about ten times faster than speech).
            StepSpec::new(EXTRACT).timeout(Duration::from_secs(900)).retry(RetryPolicy::default()),
            Extract { storage: storage.clone(), transcription, limits: Limits::default() },
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
                Embed { embeddings: embeddings.clone() },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(PUBLISH_JOB).after(&[ANALYSE, BIAS_CHECK]),
                PublishJob { store: store.clone() },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(BRIEF)
                    .after(&[ANALYSE, BIAS_CHECK])
                    .timeout(Duration::from_secs(300))
                    .retry(RetryPolicy::default()),
                WriteBrief { store: store.clone(), llm: llm.clone() },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(PROTOTYPE)
                    .after(&[BRIEF])
                    .timeout(Duration::from_secs(60))
                    .retry(RetryPolicy::default()),
                MakePrototype {
                    store: store.clone(),
                    storage: storage.clone(),
                    per_day: prototypes_per_day,
                },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(OFFER)
                    .after(&[BRIEF, EMBED])
                    // As long as a brief: its words may wait for the model.
                    .timeout(Duration::from_secs(300))
                    .retry(RetryPolicy::default()),
                PriceOffer {
                    store: store.clone(),
                    embeddings: embeddings.clone(),
                    profiles: Arc::clone(&profiles),
                    settings: offers,
                    llm,
                },
            )
        })
        .and_then(|pipeline| {
            pipeline.step(
                StepSpec::new(MATCH)
                    .after(&[PUBLISH_JOB, EMBED])
                    .timeout(Duration::from_secs(120))
                    .retry(RetryPolicy::default()),
                MatchFreelancers { store, embeddings, profiles, fairness },
            )
        });
    match steps {
        Ok(pipeline) => pipeline,
        // The plan above is static; a mistake in it is a programming error caught by every test.
        Err(err) => unreachable!("invalid static pipeline: {err}"),
    }
}

/// Text out of every attached document, and out of every voice recording
/// (transcribed); all of it goes on to analysis, the bias check and the
/// embedding exactly like typed text.
struct Extract {
    storage: ObjectStorage,
    transcription: TranscriptionService,
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
                let note = self.transcribe(file).await?;
                if let Transcription::Transcribed { transcript, .. } = &note.transcription {
                    texts.push(transcript.text.clone());
                }
                voice.push(note);
                continue;
            }
            let Some(kind) = DocumentKind::from_content_type(&file.content_type) else {
                documents.push(Document {
                    file_id: file.id,
                    filename: file.filename.clone(),
                    reading: Reading::Skipped { skipped: "not a document".into() },
                });
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
                    documents.push(Document {
                        file_id: file.id,
                        filename: file.filename.clone(),
                        reading: Reading::Read {
                            kind: out.kind,
                            chars: out.chars,
                            pages: out.pages,
                            truncated: out.truncated,
                            ocr: out.ocr,
                        },
                    });
                    texts.push(out.text);
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
        Extracted { text, documents, voice }.to_output()
    }
}

impl Extract {
    /// One recording's transcript; a recording no decoder reads fails the
    /// step for good (like a corrupt document), a failing model or service
    /// for a retry.
    async fn transcribe(
        &self,
        file: &fairgig_store::submissions::StoredFile,
    ) -> Result<VoiceNote, StepError> {
        let note = |transcription| VoiceNote {
            file_id: file.id,
            filename: file.filename.clone(),
            transcription,
        };
        let Some(model) = self.transcription.model_id() else {
            return Ok(note(Transcription::Unavailable {
                reason: TranscriptionError::Off.to_string(),
            }));
        };
        let bytes = self
            .storage
            .get(&file.object_key)
            .await
            .map_err(|err| StepError::Retryable(format!("reading {}: {err}", file.filename)))?;
        match self
            .transcription
            .transcribe(bytes.to_vec(), &file.filename, &file.content_type)
            .await
        {
            Ok(transcript) => Ok(note(Transcription::Transcribed { model, transcript })),
            Err(TranscriptionError::Off) => {
                Ok(note(Transcription::Unavailable { reason: TranscriptionError::Off.to_string() }))
            }
            Err(err @ TranscriptionError::Recording(_)) => {
                Err(StepError::Permanent(format!("{}: {err}", file.filename)))
            }
            Err(err @ TranscriptionError::Provider(_)) => {
                Err(StepError::Retryable(format!("{}: {err}", file.filename)))
            }
        }
    }
}

/// Deterministic analysis of the submission text plus everything extracted.
struct Analyse {
    skills: Arc<SkillIndex>,
}

#[async_trait]
impl StepHandler for Analyse {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let text = extracted_text(context)?;
        let attachments = context.submission.files.len();
        let skills = Arc::clone(&self.skills);
        let analysis =
            tokio::task::spawn_blocking(move || analyse::analyse(&text, &skills, attachments))
                .await
                .map_err(|err| StepError::Retryable(format!("analysis task failed: {err}")))?;
        Analysed(analysis).to_output()
    }
}

/// The extracted text checked for exclusionary language: as a job post for
/// `job` submissions (with the gender-coded verdict), as plain text otherwise.
struct BiasCheck {
    bias: Arc<LiveBias>,
}

#[async_trait]
impl StepHandler for BiasCheck {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let text = extracted_text(context)?;
        let kind = match context.submission.kind {
            fairgig_core::submission::SubmissionKind::Job => TextKind::JobPost,
            fairgig_core::submission::SubmissionKind::Request => TextKind::Text,
        };
        let bias = self.bias.checker();
        let report =
            tokio::task::spawn_blocking(move || bias.check(&text, kind, &CheckOptions::default()))
                .await
                .map_err(|err| StepError::Retryable(format!("bias check task failed: {err}")))?;
        crate::bias_rules::observe_check(kind, &report);
        BiasChecked(report).to_output()
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
        let text = format!("{}\n{}", context.submission.title, extracted_text(context)?);
        let embedded = self
            .embeddings
            .embed_entity(EntityKind::Submission, context.submission.id.as_uuid(), &text)
            .await
            .map_err(|err| StepError::Retryable(err.to_string()))?;
        Embedded {
            model: self.embeddings.model_id().to_owned(),
            dimensions: self.embeddings.dimensions(),
            embedded,
        }
        .to_output()
    }
}

/// A `job` submission becomes a marketplace job ([`crate::jobs::publish`]):
/// its title, its text (with what was extracted from files), the skills
/// `analyse` found as required skills; a draft when `bias_check` asks for
/// review, else open. Idempotent: a submission becomes at most one job.
struct PublishJob {
    store: Store,
}

#[async_trait]
impl StepHandler for PublishJob {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let submission = &context.submission;
        if submission.kind != SubmissionKind::Job {
            return Published::Skipped { skipped: not_a_job() }.to_output();
        }
        let missing = |step: &str| StepError::Permanent(format!("{step} has no output"));
        let Analysed(analysis) = context.output::<Analysed>()?.ok_or_else(|| missing(ANALYSE))?;
        let BiasChecked(report) =
            context.output::<BiasChecked>()?.ok_or_else(|| missing(BIAS_CHECK))?;
        // The skills list's labels, each once, as many as a job may require;
        // a label the job rules refuse is skipped, not the whole list.
        let mut skills: Vec<String> = Vec::new();
        for mention in &analysis.skills {
            let label = mention.label.as_str();
            let fresh = !skills.iter().any(|known| known.eq_ignore_ascii_case(label));
            if fresh && skills.len() < 30 && check_short_text("required_skills", label, 80).is_ok()
            {
                skills.push(label.to_owned());
            }
        }
        let input = JobInput {
            title: submission.title.clone(),
            description: extracted_text(context)?,
            required_skills: skills,
            preferred_skills: Vec::new(),
            // A submission's budget is a total, not an hourly rate.
            max_hourly_minor: None,
            currency: None,
            region: submission.region.clone(),
            remote: submission.region.is_none(),
            utc_offset_minutes: None,
            experience_level: None,
        };
        let job = crate::jobs::publish(
            &self.store,
            submission.owner,
            Some(submission.id),
            &input,
            &report,
        )
        .await
        .map_err(|err| StepError::Retryable(err.to_string()))?;
        Published::Job {
            job: job.id,
            status: job.status,
            required_skills: job.input.required_skills,
        }
        .to_output()
    }
}

/// The job's freelancers, ranked by the champion ranker and fairly
/// re-ranked by the deployment's policy, stored as this step's output with the model
/// versions so the list can be audited later.
struct MatchFreelancers {
    store: Store,
    embeddings: EmbeddingService,
    profiles: Arc<ProfileIndex>,
    fairness: Arc<FairnessPolicy>,
}

#[async_trait]
impl StepHandler for MatchFreelancers {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let Some((job_id, _)) = context.output::<Published>()?.as_ref().and_then(Published::job)
        else {
            return Matched::Skipped { skipped: not_a_job() }.to_output();
        };
        let job =
            self.store.job(job_id).await.map_err(|err| StepError::Retryable(err.to_string()))?;
        let list = matching::matches_for_job(
            &self.store,
            &self.embeddings,
            &self.profiles,
            &job,
            (MATCHES_PER_JOB, &matching::ProfileFilters::default(), None),
            &self.fairness,
        )
        .await
        .map_err(|err| StepError::Retryable(err.to_string()))?;
        // The submission's owner reads this output; the full report is in
        // the stored match list and the audit log.
        let mut fairness = list.fairness;
        fairness.redact();
        Matched::List {
            job: job.id,
            match_list: list.match_list,
            ranker: list.ranker,
            embedding_model: list.model,
            pool: list.pool,
            matches: list
                .matches
                .into_iter()
                .map(|m| MatchedFreelancer {
                    freelancer: m.freelancer,
                    rank: m.rank,
                    relevance_rank: m.relevance_rank,
                    score: m.score,
                    newcomer: m.newcomer,
                    strengths: m.strengths,
                    gaps: m.gaps,
                })
                .collect(),
            fairness: Box::new(fairness),
        }
        .to_output()
    }
}

/// The brief of every submission, from its text, analysis and form: by the
/// rules, or by the language model when one is configured — its brief used
/// only if every quote in it occurs in the request, else the rules' with
/// the reason.
struct WriteBrief {
    store: Store,
    llm: Option<fairgig_llm::LanguageModel>,
}

#[async_trait]
impl StepHandler for WriteBrief {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let submission = &context.submission;
        let missing = |step: &str| StepError::Permanent(format!("{step} has no output"));
        let Analysed(analysis) = context.output::<Analysed>()?.ok_or_else(|| missing(ANALYSE))?;
        let BiasChecked(report) =
            context.output::<BiasChecked>()?.ok_or_else(|| missing(BIAS_CHECK))?;
        let extracted = context.output::<Extracted>()?;
        let text = extracted.as_ref().map_or(submission.text.as_str(), |e| e.text.as_str());
        let truncated_recording = extracted.as_ref().is_some_and(|e| {
            e.voice.iter().any(|note| {
                matches!(&note.transcription, Transcription::Transcribed { transcript, .. } if transcript.truncated)
            })
        });
        let budget = submission
            .budget
            .as_ref()
            .map(|b| format!("{:.2} {}", b.amount_minor as f64 / 100.0, b.currency));
        let deadline = submission.deadline.map(|d| d.to_string());
        let rules = fairgig_ai::brief::brief(&fairgig_ai::brief::BriefInput {
            title: &submission.title,
            text,
            analysis: &analysis,
            budget: budget.as_deref(),
            deadline: deadline.as_deref(),
            region: submission.region.as_deref(),
            needs_review: report.requires_review,
            truncated_recording,
        });
        let request = crate::briefs::BriefRequest {
            title: &submission.title,
            text,
            budget: budget.as_deref(),
            deadline: deadline.as_deref(),
            region: submission.region.as_deref(),
        };
        let progress = progress::StepProgress::new(self.store.clone(), step_ref(context));
        let briefed = crate::briefs::write_brief(self.llm.as_ref(), request, rules, &|text| {
            progress.tell(text)
        })
        .await;
        progress.finish().await;
        briefed.to_output()
    }
}

/// The store's name for the step `context` runs.
fn step_ref(context: &StepContext) -> fairgig_store::runs::StepRef {
    fairgig_store::runs::StepRef { run: context.run, step: context.step.clone() }
}

/// A request's three priced tiers: the effort from its analysis, the rate
/// from what the freelancers qualified for it charge (found as a match
/// would find them), its budget as the reference; a language model, when
/// configured, writes the words around them and no number.
struct PriceOffer {
    store: Store,
    embeddings: EmbeddingService,
    profiles: Arc<ProfileIndex>,
    settings: OfferSettings,
    llm: Option<fairgig_llm::LanguageModel>,
}

#[async_trait]
impl StepHandler for PriceOffer {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let submission = &context.submission;
        if submission.kind != SubmissionKind::Request {
            return Offered::Skipped { skipped: not_a_request() }.to_output();
        }
        let missing = |step: &str| StepError::Permanent(format!("{step} has no output"));
        let Analysed(analysis) = context.output::<Analysed>()?.ok_or_else(|| missing(ANALYSE))?;
        let briefed = context.output::<Briefed>()?.ok_or_else(|| missing(BRIEF))?;
        let currency = submission
            .budget
            .as_ref()
            .map_or_else(|| self.settings.currency.clone(), |b| b.currency.clone());
        let text = format!("{}\n{}", submission.title, extracted_text(context)?);
        let rates = matching::qualified_rates(
            &self.store,
            &self.embeddings,
            &self.profiles,
            submission,
            &analysis,
            &text,
            &currency,
        )
        .await
        .map_err(|err| StepError::Retryable(err.to_string()))?;
        let deliverables = briefed.brief.deliverable_texts();
        let offer = fairgig_ai::offer::offer(&fairgig_ai::offer::OfferInput {
            analysis: &analysis,
            deliverables: &deliverables,
            currency: &currency,
            budget_minor: submission.budget.as_ref().map(|b| b.amount_minor),
            rates_minor: &rates,
            reference_rate_minor: self.settings.reference_hourly_rate_minor,
        });
        let progress = progress::StepProgress::new(self.store.clone(), step_ref(context));
        let spent = briefed.usage.as_ref().map_or(0, fairgig_llm::Usage::total);
        let (prose, prose_by) =
            crate::briefs::write_offer_prose(self.llm.as_ref(), &text, &offer, spent, &|text| {
                progress.tell(text)
            })
            .await;
        progress.finish().await;
        Offered::Offer {
            offer: Box::new(offer),
            made_by: crate::briefs::MADE_BY_RULES.to_owned(),
            prose,
            prose_by,
        }
        .to_output()
    }
}

/// A request that describes a site or an app gets a landing-page
/// prototype ([`crate::prototypes`]), within its owner's daily quota.
struct MakePrototype {
    store: Store,
    storage: ObjectStorage,
    per_day: u32,
}

#[async_trait]
impl StepHandler for MakePrototype {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError> {
        let submission = &context.submission;
        if submission.kind != SubmissionKind::Request {
            return Prototyped::Skipped { skipped: not_a_request() }.to_output();
        }
        let text = extracted_text(context)?;
        if !fairgig_ai::prototype::describes_site_or_app(&format!("{}\n{text}", submission.title)) {
            return Prototyped::Skipped {
                skipped: "the request does not describe a site or an app".into(),
            }
            .to_output();
        }
        if self.per_day == 0 {
            return Prototyped::Skipped {
                skipped: "prototypes are switched off on this server".into(),
            }
            .to_output();
        }
        let missing = |step: &str| StepError::Permanent(format!("{step} has no output"));
        let Analysed(analysis) = context.output::<Analysed>()?.ok_or_else(|| missing(ANALYSE))?;
        let briefed = context.output::<Briefed>()?.ok_or_else(|| missing(BRIEF))?;
        let content =
            fairgig_ai::prototype::page_content(&submission.title, &briefed.brief, &analysis);
        let made = crate::prototypes::make(
            &self.store,
            &self.storage,
            (submission.id, submission.owner),
            &content,
            self.per_day,
        )
        .await
        .map_err(|err| StepError::Retryable(err.to_string()))?;
        match made {
            crate::prototypes::Made::Page { path, created_at } => {
                Prototyped::Page { path, created_at }.to_output()
            }
            crate::prototypes::Made::QuotaReached { limit, next_at } => Prototyped::Skipped {
                skipped: format!(
                    "too many prototypes: at most {limit} per client in 24 hours; the next one \
                     can be made after {}",
                    next_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                ),
            }
            .to_output(),
        }
    }
}

/// The text `extract` produced, or the submission's own text.
fn extracted_text(context: &StepContext) -> Result<String, StepError> {
    Ok(context
        .output::<Extracted>()?
        .map_or_else(|| context.submission.text.clone(), |extracted| extracted.text))
}
