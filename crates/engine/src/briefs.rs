//! What a language model adds to a submission's answer: the brief written
//! from the rules' draft, and the words around an offer's numbers. Each
//! call is checked (quotes occur in the request, no digit in an offer's
//! words), sent back once with its error, and falls back to the rules with
//! the reason; the steps and `fairgig bench llm` share these functions.

use fairgig_ai::brief::Brief;
use fairgig_ai::offer::{Offer, OfferProse};
use fairgig_llm::{Ask, LanguageModel, OnText, BRIEF_PROMPT, OFFER_PROMPT};

use crate::steps::outputs::{Briefed, ProseProvenance};

/// Made by the rules of `fairgig_ai::brief` and `fairgig_ai::offer`.
pub const MADE_BY_RULES: &str = "rules";

/// A submission as the brief's prompt shows it.
#[derive(Clone, Copy, Debug)]
pub struct BriefRequest<'a> {
    pub title: &'a str,
    /// The request's words, typed and transcribed.
    pub text: &'a str,
    pub budget: Option<&'a str>,
    pub deadline: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// The brief of `request`: the model's, when one is configured and its
/// answer passes the checks, else the rules' `draft` with the reason;
/// `on_text` hears the model's answer as it is written.
pub async fn write_brief(
    llm: Option<&LanguageModel>,
    request: BriefRequest<'_>,
    draft: Brief,
    on_text: OnText<'_>,
) -> Briefed {
    let by_rules = |draft: Brief, fallback, usage, prompt| Briefed {
        brief: draft,
        made_by: MADE_BY_RULES.to_owned(),
        prompt,
        usage,
        fallback,
    };
    let Some(llm) = llm else {
        return by_rules(draft, None, None, None);
    };
    let quoted = format!("{}\n{}", request.title, request.text);
    let draft_json = serde_json::to_value(&draft).unwrap_or_default();
    let input = format!(
        "Request title: {}\n\nRequest:\n{}\n\nForm fields: budget: {}; deadline: {}; \
         region: {}\n\nDraft made by rules:\n{draft_json}",
        request.title,
        request.text,
        request.budget.unwrap_or("none"),
        request.deadline.unwrap_or("none"),
        request.region.unwrap_or("none"),
    );
    let grounded = |brief: &Brief| {
        let ungrounded = brief.ungrounded(&quoted);
        if brief.goals.is_empty() {
            Err("a brief needs at least one goal".to_owned())
        } else if ungrounded.is_empty() {
            Ok(())
        } else {
            Err(format!("these quotes are not in the request word for word: {ungrounded:?}"))
        }
    };
    let ask = Ask {
        prompt: &BRIEF_PROMPT,
        source: &quoted,
        draft: Some(&draft_json),
        budget: llm.run_budget(),
    };
    match llm.structured(ask, &input, on_text, grounded).await {
        Ok(answer) => Briefed {
            brief: answer.value,
            made_by: llm.model_id(),
            prompt: Some(BRIEF_PROMPT.id()),
            usage: Some(answer.usage),
            fallback: None,
        },
        Err(err) => {
            tracing::warn!(error = %err, "the language model's brief was not used");
            by_rules(draft, Some(err.to_string()), err.usage().cloned(), Some(BRIEF_PROMPT.id()))
        }
    }
}

/// The model's words for `offer` (the request as `text`), or why there are
/// none; `(None, None)` without a model. `spent` is what the run's earlier
/// calls (its brief's) used of its token budget.
pub async fn write_offer_prose(
    llm: Option<&LanguageModel>,
    text: &str,
    offer: &Offer,
    spent: u32,
    on_text: OnText<'_>,
) -> (Option<OfferProse>, Option<ProseProvenance>) {
    let Some(llm) = llm else { return (None, None) };
    let scopes: Vec<String> = offer
        .tiers
        .iter()
        .map(|tier| format!("{}: {}", tier.name.as_str(), tier.scope.join("; ")))
        .collect();
    let title = text.lines().next().unwrap_or_default();
    let draft = serde_json::to_value(OfferProse::draft(title)).unwrap_or_default();
    let input = format!(
        "Request:\n{text}\n\nScope of each tier:\n{}\n\nDraft made by rules:\n{draft}",
        scopes.join("\n")
    );
    let checked = |prose: &OfferProse| prose.check();
    let provenance = |usage, fallback| ProseProvenance {
        model: llm.model_id(),
        prompt: OFFER_PROMPT.id(),
        usage,
        fallback,
    };
    let Some(left) = llm.run_budget().checked_sub(spent).filter(|left| *left > 0) else {
        let why = format!(
            "the run's token budget of {} tokens was spent before the offer ({spent} used)",
            llm.run_budget()
        );
        return (None, Some(provenance(None, Some(why))));
    };
    let ask = Ask { prompt: &OFFER_PROMPT, source: text, draft: Some(&draft), budget: left };
    match llm.structured(ask, &input, on_text, checked).await {
        Ok(answer) => (Some(answer.value), Some(provenance(Some(answer.usage), None))),
        Err(err) => {
            tracing::warn!(error = %err, "the language model's offer text was not used");
            (None, Some(provenance(err.usage().cloned(), Some(err.to_string()))))
        }
    }
}
