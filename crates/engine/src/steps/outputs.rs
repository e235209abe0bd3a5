//! What each step hands on: one type per step output, stored as JSON and
//! read back through [`StepOutput`] by later steps, announcing and the
//! pages that show a run. A step that acts on `job` submissions only
//! records that it was skipped for a request.

use fairgig_ai::{
    analyse::Analysis,
    bias::Report,
    brief::Brief,
    extract::{DocumentKind, OcrStatus},
    offer::{Offer, OfferProse},
};
use fairgig_asr::Transcript;
use fairgig_core::{
    ids::{FileId, JobId, UserId},
    marketplace::JobStatus,
};
use fairgig_pipeline::StepOutput;
use serde::{Deserialize, Serialize};

use super::{ANALYSE, BIAS_CHECK, BRIEF, EMBED, EXTRACT, MATCH, OFFER, PROTOTYPE, PUBLISH_JOB};
use crate::matching::FairnessReport;

/// `extract`: the text of the submission and of every attached document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    /// The submission's text and each document's, blank ones left out.
    pub text: String,
    pub documents: Vec<Document>,
    pub voice: Vec<VoiceNote>,
}

impl StepOutput for Extracted {
    const STEP: &'static str = EXTRACT;
}

/// One attached file, read or skipped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub file_id: FileId,
    pub filename: String,
    #[serde(flatten)]
    pub reading: Reading,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reading {
    Read {
        kind: DocumentKind,
        chars: usize,
        pages: Option<usize>,
        truncated: bool,
        ocr: OcrStatus,
    },
    /// Why the file was not read (not a document).
    Skipped {
        skipped: String,
    },
}

/// A voice recording and what was heard in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceNote {
    pub file_id: FileId,
    pub filename: String,
    #[serde(flatten)]
    pub transcription: Transcription,
}

/// `transcription`: `transcribed` with the transcript, or `unavailable`
/// with the reason (speech to text switched off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transcription", rename_all = "lowercase")]
pub enum Transcription {
    Transcribed {
        /// The model that heard it (provenance).
        model: String,
        #[serde(flatten)]
        transcript: Transcript,
    },
    Unavailable {
        reason: String,
    },
}

/// `analyse`: language, keywords, summary, money, dates, skills, complexity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Analysed(pub Analysis);

impl StepOutput for Analysed {
    const STEP: &'static str = ANALYSE;
}

/// `bias_check`: the findings and whether they need review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BiasChecked(pub Report);

impl StepOutput for BiasChecked {
    const STEP: &'static str = BIAS_CHECK;
}

/// `brief`: what the client asked for, in order, every part grounded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Briefed {
    #[serde(flatten)]
    pub brief: Brief,
    /// What wrote it: `rules` (the structure filled deterministically
    /// from the analysis) or the language model (`openai:<model>`).
    pub made_by: String,
    /// The prompt asked (`brief@v1`), when a language model was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Tokens and cost of the language model's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<fairgig_llm::Usage>,
    /// Why the language model's brief was not used, when it was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl StepOutput for Briefed {
    const STEP: &'static str = BRIEF;
}

/// `offer`: three priced tiers for a request; a job records that it was
/// skipped (a job's price is its own budget and the freelancers' bids).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Offered {
    Offer {
        #[serde(flatten)]
        offer: Box<Offer>,
        /// `rules`: every number is the rules'; a language model, when
        /// configured, writes only `prose`.
        made_by: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prose: Option<OfferProse>,
        /// The prompt, tokens and cost, or why the model's words were not used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prose_by: Option<ProseProvenance>,
    },
    Skipped {
        skipped: String,
    },
}

impl StepOutput for Offered {
    const STEP: &'static str = OFFER;
}

/// `prototype`: a request's landing-page prototype, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prototyped {
    Page {
        /// The share path (`/prototypes/<token>`), under the server's public URL.
        path: String,
        #[serde(with = "time::serde::rfc3339")]
        created_at: time::OffsetDateTime,
    },
    Skipped {
        skipped: String,
    },
}

impl StepOutput for Prototyped {
    const STEP: &'static str = PROTOTYPE;
}

/// Who wrote an output's words and what it cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProseProvenance {
    /// `openai:<model>`.
    pub model: String,
    /// `offer@v2`.
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<fairgig_llm::Usage>,
    /// Why the model's words were not used, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// `embed`: which model embedded the submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Embedded {
    pub model: String,
    pub dimensions: usize,
    /// False when an unchanged text by the same model was embedded before.
    pub embedded: bool,
}

impl StepOutput for Embedded {
    const STEP: &'static str = EMBED;
}

/// `publish_job`: the job the submission became.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Published {
    Job {
        job: JobId,
        /// `draft` when the bias check asked for review, else `open`.
        status: JobStatus,
        required_skills: Vec<String>,
    },
    Skipped {
        skipped: String,
    },
}

impl StepOutput for Published {
    const STEP: &'static str = PUBLISH_JOB;
}

impl Published {
    /// The published job, if the submission became one.
    pub fn job(&self) -> Option<(JobId, JobStatus)> {
        match self {
            Published::Job { job, status, .. } => Some((*job, *status)),
            Published::Skipped { .. } => None,
        }
    }
}

/// `match`: the job's ranked, fairly re-ranked freelancers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Matched {
    List {
        job: JobId,
        /// The stored list (feedback refers to it).
        match_list: fairgig_core::ids::MatchListId,
        ranker: String,
        embedding_model: String,
        /// Qualified candidates scored.
        pool: usize,
        matches: Vec<MatchedFreelancer>,
        /// Redacted for a ranking by a self-declared attribute: the
        /// submission's owner reads this.
        fairness: Box<FairnessReport>,
    },
    Skipped {
        skipped: String,
    },
}

impl StepOutput for Matched {
    const STEP: &'static str = MATCH;
}

impl Matched {
    /// The ranked freelancers (none for a skipped match).
    pub fn matches(&self) -> &[MatchedFreelancer] {
        match self {
            Matched::List { matches, .. } => matches,
            Matched::Skipped { .. } => &[],
        }
    }
}

/// One ranked freelancer, as the submission's owner sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchedFreelancer {
    pub freelancer: UserId,
    /// 1-based, after fair re-ranking.
    pub rank: usize,
    /// 1-based, by score alone.
    pub relevance_rank: usize,
    pub score: f64,
    pub newcomer: bool,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
}

/// What a run produced, each step's output read through its type; a step
/// that has not succeeded (or whose stored output no longer reads) is
/// `None`.
#[derive(Clone, Debug, Default)]
pub struct RunOutputs {
    pub extracted: Option<Extracted>,
    pub analysed: Option<Analysed>,
    pub bias: Option<BiasChecked>,
    pub published: Option<Published>,
    pub briefed: Option<Briefed>,
    pub offered: Option<Offered>,
    pub prototyped: Option<Prototyped>,
    pub matched: Option<Matched>,
}

impl RunOutputs {
    /// Reads the outputs a run's steps recorded.
    pub fn of(steps: &[fairgig_store::runs::StepView]) -> RunOutputs {
        let outputs: std::collections::HashMap<String, serde_json::Value> = steps
            .iter()
            .filter_map(|step| Some((step.name.clone(), step.output.clone()?)))
            .collect();
        RunOutputs {
            extracted: Extracted::read(&outputs).ok().flatten(),
            analysed: Analysed::read(&outputs).ok().flatten(),
            bias: BiasChecked::read(&outputs).ok().flatten(),
            published: Published::read(&outputs).ok().flatten(),
            briefed: Briefed::read(&outputs).ok().flatten(),
            offered: Offered::read(&outputs).ok().flatten(),
            prototyped: Prototyped::read(&outputs).ok().flatten(),
            matched: Matched::read(&outputs).ok().flatten(),
        }
    }
}

/// Why `publish_job` and `match` did nothing for a request.
pub(crate) fn not_a_job() -> String {
    "not a job submission".to_owned()
}

pub(crate) fn not_a_request() -> String {
    "not a request".to_owned()
}
