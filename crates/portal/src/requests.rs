//! A client's request: the form (text, files, a voice recording), its live
//! progress through the pipeline (server-sent events swapped in by htmx;
//! without JavaScript the page shows where the run stands on reload), and
//! its results: what was read, the analysis, bias findings marked in the
//! text, and the explained, fairly re-ranked matches.

use std::convert::Infallible;

use askama::Template;
use axum::{
    extract::{Multipart, Path, State},
    http::{HeaderMap, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Redirect, Response,
    },
    Form,
};
use fairgig_ai::bias::Finding;
use fairgig_core::{
    ids::SubmissionId,
    submission::{RunStatus, StepStatus, SubmissionKind},
};
use fairgig_engine::{
    steps::outputs::{Matched, Offered, Prototyped, Reading, Transcription, VoiceNote},
    submissions::{self, BudgetRequest, Outcome, RunChange, SubmissionRequest, Upload},
};
use fairgig_store::runs::StepView;
use futures::{Stream, StreamExt};

use super::{
    accounts::FieldError,
    i18n::Messages,
    page::{
        check_csrf, path_id, render, render_with, require_sign_in, CsrfForm, Page, PortalError,
    },
    session::{Visitor, CSRF_FIELD},
};
use fairgig_http::ClientInfo;

use crate::PortalState;

/// What the form holds, kept when it comes back with an error.
#[derive(Debug, Default)]
pub struct RequestForm {
    kind: String,
    title: String,
    text: String,
    budget_amount: String,
    budget_currency: String,
    deadline: String,
    region: String,
}

#[derive(Template)]
#[template(path = "portal/request_new.html")]
struct NewRequest {
    page: Page,
    form: RequestForm,
    error: FieldError,
}

pub async fn new_form(visitor: Visitor) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let form = RequestForm {
        kind: "request".into(),
        budget_currency: "EUR".into(),
        ..RequestForm::default()
    };
    Ok(render(&NewRequest {
        page: Page::new(&visitor, "request-new-title"),
        form,
        error: FieldError::default(),
    }))
}

/// `"1500"` or `"1500.5"` major units → minor units.
pub(super) fn parse_amount(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

impl RequestForm {
    /// The submission the engine takes, or the field that is wrong.
    fn to_request(&self, t: &Messages) -> Result<SubmissionRequest, FieldError> {
        let kind = match self.kind.as_str() {
            "job" => SubmissionKind::Job,
            _ => SubmissionKind::Request,
        };
        let budget = match self.budget_amount.trim() {
            "" => None,
            amount => Some(BudgetRequest {
                amount_minor: parse_amount(amount).ok_or_else(|| FieldError {
                    field: "budget".into(),
                    message: t.msg("request-budget-invalid"),
                })?,
                currency: self.budget_currency.trim().to_uppercase(),
            }),
        };
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        Ok(SubmissionRequest {
            kind,
            title: self.title.clone(),
            text: self.text.clone(),
            budget,
            deadline: optional(&self.deadline),
            region: optional(&self.region),
            contact: None,
        })
    }
}

/// Reads the multipart form: its fields, its files (empty file inputs are
/// skipped) and the CSRF token.
async fn read_form(
    visitor: &Visitor,
    mut multipart: Multipart,
) -> Result<(RequestForm, String, Result<Vec<Upload>, FieldError>), PortalError> {
    let bad_request = || PortalError::new(visitor, StatusCode::BAD_REQUEST);
    let mut form = RequestForm::default();
    let mut csrf = String::new();
    let mut uploads = Ok(Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(|_| bad_request())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "files" || name == "voice" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|_| bad_request())?;
            if filename.is_empty() && bytes.is_empty() {
                continue;
            }
            if let Ok(list) = &mut uploads {
                match Upload::accept(name == "voice", &filename, bytes, &name) {
                    Ok(upload) => list.push(upload),
                    Err(err) => uploads = Err(FieldError::from_engine(visitor, err)?),
                }
            }
            continue;
        }
        let value = field.text().await.map_err(|_| bad_request())?;
        match name.as_str() {
            CSRF_FIELD => csrf = value,
            "kind" => form.kind = value,
            "title" => form.title = value,
            "text" => form.text = value,
            "budget_amount" => form.budget_amount = value,
            "budget_currency" => form.budget_currency = value,
            "deadline" => form.deadline = value,
            "region" => form.region = value,
            _ => return Err(bad_request()),
        }
    }
    Ok((form, csrf, uploads))
}

pub async fn create(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    multipart: Multipart,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?.clone();
    let (form, csrf, uploads) = read_form(&visitor, multipart).await?;
    check_csrf(&visitor, &csrf)?;
    let t = visitor.messages();
    let attempt = uploads.and_then(|uploads| Ok((form.to_request(&t)?, uploads)));
    let error = match attempt {
        Ok((request, uploads)) => {
            match submissions::create(
                &state.engine,
                &caller,
                request,
                uploads,
                None,
                client.context(),
            )
            .await
            {
                Ok((submission, _)) => {
                    return Ok(Redirect::to(&format!("/requests/{}", submission.id)).into_response())
                }
                Err(err) => FieldError::from_engine(&visitor, err)?,
            }
        }
        Err(error) => error,
    };
    let page = Page::new(&visitor, "request-new-title");
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &NewRequest { page, form, error }))
}

/// One step as the timeline shows it.
#[derive(Debug)]
pub struct StepRow {
    pub name: String,
    pub label: String,
    pub status: StepStatus,
    pub status_label: String,
    pub attempts: i32,
    pub seconds: Option<String>,
    pub error: String,
    /// The end of what the running step has written so far.
    pub progress: String,
}

/// How much of a running step's text the timeline shows (its end).
const PROGRESS_SHOWN: usize = 600;

impl StepRow {
    fn new(t: &Messages, step: &StepView) -> StepRow {
        StepRow {
            name: step.name.clone(),
            label: t.msg(&format!("step-{}", step.name.replace('_', "-"))),
            status: step.status,
            status_label: t.msg(&format!("status-{}", step.status.as_str())),
            attempts: step.attempts,
            seconds: step.duration_ms.map(|ms| format!("{:.1}", ms as f64 / 1000.0)),
            error: step.error.clone().unwrap_or_default(),
            progress: step.progress.as_deref().map_or_else(String::new, |text| {
                let mut start = text.len().saturating_sub(PROGRESS_SHOWN);
                while !text.is_char_boundary(start) {
                    start += 1;
                }
                text[start..].to_owned()
            }),
        }
    }

    pub fn css(&self) -> &'static str {
        match self.status {
            StepStatus::Succeeded => "ok",
            StepStatus::Failed | StepStatus::Cancelled => "bad",
            StepStatus::Running | StepStatus::Retrying => "busy",
            StepStatus::Waiting | StepStatus::Queued => "idle",
        }
    }
}

/// A piece of the checked text: plain, or marked by finding `n` (1-based).
#[derive(Debug)]
pub struct Segment {
    pub text: String,
    pub finding: Option<usize>,
}

/// The text cut at the findings' byte ranges (overlaps and ranges that do
/// not fall on character boundaries are shown unmarked).
pub(super) fn segments(text: &str, findings: &[Finding]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for (index, finding) in findings.iter().enumerate() {
        let (start, end) = (finding.start, finding.end);
        if start < at
            || end > text.len()
            || start >= end
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        if start > at {
            out.push(Segment { text: text[at..start].to_owned(), finding: None });
        }
        out.push(Segment { text: text[start..end].to_owned(), finding: Some(index + 1) });
        at = end;
    }
    if at < text.len() {
        out.push(Segment { text: text[at..].to_owned(), finding: None });
    }
    out
}

/// A matched freelancer as a card.
#[derive(Debug)]
pub struct MatchCard {
    pub rank: usize,
    pub relevance_rank: usize,
    pub name: String,
    pub headline: String,
    pub score: String,
    pub newcomer: bool,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
}

/// One group's share before and after fair re-ranking.
#[derive(Debug)]
pub struct GroupShare {
    pub group: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "portal/request_results.html")]
struct Results {
    page: Page,
    id: SubmissionId,
    finished: bool,
    failed: bool,
    steps: Vec<StepRow>,
    documents: Vec<(String, String)>,
    /// The prototype's share path, or why there is none (for a request).
    prototype: Option<Result<String, String>>,
    /// The offer's tiers, formatted; empty without an offer.
    offer_tiers: Vec<OfferTierRow>,
    offer_budget_note: Option<String>,
    offer_explanation: Vec<String>,
    /// The language model's introduction to the offer, when it wrote one.
    offer_introduction: Option<String>,
    /// Each recording: its name, what became of it, and its transcript.
    voice: Vec<(String, String, Option<String>)>,
    outcome: Outcome,
    segments: Vec<Segment>,
    findings: Vec<Finding>,
    matches: Vec<MatchCard>,
    shares: Vec<GroupShare>,
    min_skew: Option<(String, String)>,
    algorithm: String,
}

#[derive(Template)]
#[template(path = "portal/request.html")]
struct RequestPage {
    page: Page,
    /// The rendered [`Results`], also served alone when the run ends.
    results: String,
}

fn build_results(visitor: &Visitor, outcome: Outcome) -> Results {
    let t = visitor.messages();
    let finished = outcome.run.as_ref().is_some_and(|run| run.status != RunStatus::Running);
    let failed = outcome.run.as_ref().is_some_and(|run| run.status == RunStatus::Failed);
    let steps = outcome
        .run
        .as_ref()
        .map(|run| run.steps.iter().map(|step| StepRow::new(&t, step)).collect())
        .unwrap_or_default();
    let (documents, voice) = match &outcome.outputs.extracted {
        Some(extracted) => (
            extracted
                .documents
                .iter()
                .map(|document| {
                    let note = match &document.reading {
                        Reading::Read { chars, pages, truncated, .. } => {
                            let mut note = t.msg_with("result-document-chars", "chars", chars);
                            if let Some(pages) = pages {
                                note = format!(
                                    "{note}, {}",
                                    t.msg_with("result-document-pages", "pages", pages)
                                );
                            }
                            if *truncated {
                                note = format!("{note}, {}", t.msg("result-document-truncated"));
                            }
                            note
                        }
                        Reading::Skipped { .. } => t.msg("result-document-skipped"),
                    };
                    (document.filename.clone(), note)
                })
                .collect(),
            extracted.voice.iter().map(|note| voice_row(&t, note)).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let prototype = match &outcome.outputs.prototyped {
        Some(Prototyped::Page { path, .. }) => Some(Ok(path.clone())),
        Some(Prototyped::Skipped { skipped })
            if outcome.submission.kind == SubmissionKind::Request =>
        {
            Some(Err(skipped.clone()))
        }
        _ => None,
    };
    let (offer_tiers, offer_budget_note, offer_explanation, offer_introduction) =
        match &outcome.outputs.offered {
            Some(Offered::Offer { offer, prose, .. }) => (
                offer
                    .tiers
                    .iter()
                    .map(|tier| OfferTierRow::new(&t, tier, &offer.currency, prose.as_ref()))
                    .collect(),
                offer.budget_note.clone(),
                offer.explanation.clone(),
                prose.as_ref().map(|p| p.introduction.clone()),
            ),
            _ => (Vec::new(), None, Vec::new(), None),
        };
    let checked_text = outcome
        .outputs
        .extracted
        .as_ref()
        .map_or_else(|| outcome.submission.text.clone(), |extracted| extracted.text.clone());
    let findings = outcome.outputs.bias.as_ref().map(|b| b.0.findings.clone()).unwrap_or_default();
    let segments = segments(&checked_text, &findings);
    let (matches, shares, min_skew, algorithm) = match &outcome.outputs.matched {
        Some(Matched::List { matches, fairness, .. }) => {
            let cards = matches
                .iter()
                .map(|m| {
                    let (name, headline) =
                        outcome.freelancers.get(&m.freelancer).cloned().unwrap_or_default();
                    MatchCard {
                        rank: m.rank,
                        relevance_rank: m.relevance_rank,
                        name,
                        headline,
                        score: format!("{:.2}", m.score),
                        newcomer: m.newcomer,
                        strengths: m.strengths.clone(),
                        gaps: m.gaps.clone(),
                    }
                })
                .collect();
            let shares = fairness
                .groups
                .iter()
                .zip(&fairness.target)
                .map(|(group, share)| GroupShare {
                    group: group.clone(),
                    target: format!("{:.0} %", share * 100.0),
                })
                .collect();
            let skew = fairness
                .before
                .as_ref()
                .zip(fairness.after.as_ref())
                .map(|(before, after)| (before.min_skew_figure(), after.min_skew_figure()));
            (cards, shares, skew, fairness.algorithm.to_string())
        }
        _ => (Vec::new(), Vec::new(), None, String::new()),
    };
    Results {
        page: Page::new(visitor, "request-title"),
        id: outcome.submission.id,
        finished,
        failed,
        steps,
        documents,
        voice,
        prototype,
        offer_tiers,
        offer_budget_note,
        offer_explanation,
        offer_introduction,
        outcome,
        segments,
        findings,
        matches,
        shares,
        min_skew,
        algorithm,
    }
}

async fn load(state: &PortalState, visitor: &Visitor, id: &str) -> Result<Outcome, PortalError> {
    let caller =
        visitor.caller.as_ref().ok_or_else(|| PortalError::new(visitor, StatusCode::FORBIDDEN))?;
    let id: SubmissionId = path_id(visitor, id)?;
    submissions::outcome(&state.engine, caller, id)
        .await
        .map_err(|err| PortalError::from_engine(visitor, err))
}

/// The request page: live while the run is going, its results after.
pub async fn show(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let outcome = load(&state, &visitor, &id).await?;
    let mut page = Page::new(&visitor, "request-title");
    page.title = outcome.submission.title.clone();
    let results = build_results(&visitor, outcome);
    if !results.finished {
        page = page.with_htmx();
    }
    let results = match results.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "the results template failed");
            return Err(PortalError::new(&visitor, StatusCode::INTERNAL_SERVER_ERROR));
        }
    };
    Ok(render(&RequestPage { page, results }))
}

/// Runs a failed request again from the step that failed; the page then
/// follows it live.
pub async fn retry(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: SubmissionId = path_id(&visitor, &id)?;
    submissions::retry(&state.engine, caller, id, client.context())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

/// The results, as the live page swaps them in when the run ends.
pub async fn results(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    if !headers.contains_key("hx-request") {
        return Ok(Redirect::to(&format!("/requests/{id}")).into_response());
    }
    let outcome = load(&state, &visitor, &id).await?;
    Ok(render(&build_results(&visitor, outcome)))
}

#[derive(Template)]
#[template(path = "portal/step.html")]
struct StepFragment {
    step: StepRow,
}

/// Each step's new state as an HTML fragment (event `step-NAME`), then
/// `run` when the run ended.
pub async fn events(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PortalError> {
    let outcome = load(&state, &visitor, &id).await?;
    let t = visitor.messages();
    let stream =
        submissions::watch(state.engine.clone(), outcome.submission.id).map(move |change| {
            Ok(match change {
                RunChange::Step(step) => {
                    let html =
                        StepFragment { step: StepRow::new(&t, &step) }.render().unwrap_or_default();
                    Event::default().event(format!("step-{}", step.name)).data(html)
                }
                RunChange::Finished(run) => Event::default().event("run").data(run.status.as_str()),
            })
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One recording on the results page: its name, a note (language and
/// length, or why there is no transcript) and the transcript.
fn voice_row(t: &Messages, note: &VoiceNote) -> (String, String, Option<String>) {
    match &note.transcription {
        Transcription::Transcribed { transcript, .. } => {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("language", transcript.language.clone().unwrap_or_else(|| "?".into()));
            args.set("seconds", format!("{:.0}", transcript.duration_secs));
            let mut line = t.msg_args("result-voice-transcribed", &args);
            if transcript.truncated {
                line = format!("{line}, {}", t.msg("result-voice-truncated"));
            }
            let text = if transcript.text.is_empty() {
                t.msg("result-voice-no-speech")
            } else {
                transcript.text.clone()
            };
            (note.filename.clone(), line, Some(text))
        }
        Transcription::Unavailable { .. } => {
            (note.filename.clone(), t.msg("result-voice-unavailable"), None)
        }
    }
}

/// One tier of an offer on the results page.
struct OfferTierRow {
    name: &'static str,
    price: String,
    hours: String,
    scope: Vec<String>,
    /// The language model's words for the tier, when it wrote them.
    text: Option<String>,
}

impl OfferTierRow {
    fn new(
        t: &Messages,
        tier: &fairgig_ai::offer::Tier,
        currency: &str,
        prose: Option<&fairgig_ai::offer::OfferProse>,
    ) -> Self {
        use fairgig_ai::offer::TierName;
        let money = |minor: i64| format!("{:.2}", minor as f64 / 100.0);
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("low", tier.hours_low.to_string());
        args.set("high", tier.hours_high.to_string());
        Self {
            name: tier.name.as_str(),
            price: format!(
                "{}–{} {currency}",
                money(tier.price_low_minor),
                money(tier.price_high_minor)
            ),
            hours: t.msg_args("result-offer-hours", &args),
            scope: tier.scope.clone(),
            text: prose.map(|prose| {
                match tier.name {
                    TierName::Essential => &prose.tiers.essential,
                    TierName::Standard => &prose.tiers.standard,
                    TierName::Complete => &prose.tiers.complete,
                }
                .clone()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_major_units() {
        assert_eq!(parse_amount("1500"), Some(150_000));
        assert_eq!(parse_amount("1500.5"), Some(150_050));
        assert_eq!(parse_amount("12,34"), Some(1_234));
        for bad in ["", "-5", "1.234", "abc", "1e3", "99999999999999999999"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }
}
