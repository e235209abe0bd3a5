//! `fairgig model …`: rankers learned from recorded lists and feedback, and
//! the registry that versions them.
//!
//! `train` learns on the older lists, evaluates the new model and the
//! current champion (v1 when there is none) on the newest ones, and
//! registers the new model as `challenger` with both evaluations. `promote`
//! runs the gate ([`fairgig_matching::learning::judge`]) on those figures
//! (and, while they come from fewer than 50 held-out lists, on the shipped
//! relevance set, [`crate::relevance_set`]), records the verdict and its reasons in the audit log, and makes the
//! challenger champion if it passes. `rollback` restores the previous
//! champion. Matching ranks with the champion's weights.

use std::time::Instant;

use fairgig_core::{
    audit::{Actor, NewAuditEntry},
    ids::ModelVersionId,
};
use fairgig_matching::{
    features::semantic_of,
    learning::{
        evaluate, judge, label_of, time_split, train, Evaluation, Example, Gate, OfflineCheck,
        ShownList, TrainConfig,
    },
    score::LinearModel,
};
use fairgig_store::{feedback::MatchListWithFeedback, models::ModelVersion, Store};
use serde_json::{json, Value};

/// The registry kind of rankers.
pub const RANKER: &str = "ranker";

/// The champion ranker's version and weights, or the built-in's.
pub async fn champion_ranker(
    store: &Store,
) -> Result<(String, [f64; 8]), fairgig_store::StoreError> {
    let champion = store.model_alias(RANKER, "champion").await?;
    Ok(champion
        .and_then(|model| Some((model.version.clone(), weights_of(&model.parameters)?)))
        .unwrap_or_else(|| {
            let (version, model) = LinearModel::builtin();
            (version.to_owned(), model.weights)
        }))
}

fn weights_of(parameters: &Value) -> Option<[f64; 8]> {
    let values: Vec<f64> =
        parameters["weights"].as_array()?.iter().filter_map(Value::as_f64).collect();
    values.try_into().ok()
}

pub fn evaluation_json(evaluation: &Evaluation) -> Value {
    json!({
        "ndcg_at_10": evaluation.ndcg_at_10,
        "auc": evaluation.auc,
        "min_skew_at_10": evaluation.min_skew_at_10,
        "lists_with_absent_group": evaluation.lists_with_absent_group,
        "selection_ratio": evaluation.selection_ratio,
        "lists": evaluation.lists,
    })
}

fn evaluation_of(value: &Value) -> Option<Evaluation> {
    Some(Evaluation {
        ndcg_at_10: value["ndcg_at_10"].as_f64()?,
        auc: value["auc"].as_f64()?,
        min_skew_at_10: value["min_skew_at_10"].as_f64(),
        // Recorded before absent groups were counted apart: none known.
        lists_with_absent_group: value["lists_with_absent_group"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        selection_ratio: value["selection_ratio"].as_f64(),
        lists: usize::try_from(value["lists"].as_u64()?).ok()?,
    })
}

/// Turns recorded lists into training examples; items without numeric
/// features (a corrupt or foreign list) are skipped. Items recorded under
/// version 1 of the features (no `features_version`, whichever ranker
/// showed them) carry the plain cosine as their semantic feature: it is
/// squared here, as matching computes it now.
pub fn shown_lists(lists: &[MatchListWithFeedback]) -> Vec<ShownList> {
    lists
        .iter()
        .map(|list| {
            let examples = list
                .items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    let values: Vec<f64> =
                        item["features"].as_array()?.iter().filter_map(|v| v.as_f64()).collect();
                    let mut features: [f64; 8] = values.try_into().ok()?;
                    if item["features_version"].as_u64().unwrap_or(1) == 1 {
                        features[0] = semantic_of(features[0]);
                    }
                    let freelancer: uuid::Uuid = item["freelancer"].as_str()?.parse().ok()?;
                    let label = list
                        .feedback
                        .iter()
                        .filter(|(who, _, _)| *who == freelancer)
                        .map(|(_, kind, rating)| label_of(kind, *rating))
                        .max()
                        .unwrap_or(0);
                    Some(Example {
                        features,
                        rank: usize::try_from(item["rank"].as_u64()?).ok()?,
                        label,
                        newcomer: item["newcomer"].as_bool().unwrap_or(false),
                    })
                })
                .collect();
            ShownList { examples }
        })
        .collect()
}

fn describe(name: &str, evaluation: &Evaluation) {
    let skew =
        evaluation.min_skew_at_10.map_or_else(|| "n/a".to_owned(), |skew| format!("{skew:.3}"));
    println!(
        "{name}: NDCG@10 {:.4}, AUC {:.4}, newcomer MinSkew@10 {skew}, a group absent from the top 10 in {} ({} held-out lists)",
        evaluation.ndcg_at_10, evaluation.auc, evaluation.lists_with_absent_group, evaluation.lists
    );
}

/// Why the registry refused an operation (the HTTP API answers 409).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no challenger: train a ranker first")]
    NoChallenger,
    #[error("challenger {0} has no held-out evaluation")]
    NotEvaluated(String),
    #[error("no earlier champion to roll back to")]
    NothingToRollBack,
    #[error(transparent)]
    Store(#[from] fairgig_store::StoreError),
}

/// What a training run did.
#[derive(Debug)]
pub struct TrainReport {
    pub lists: usize,
    pub events: usize,
    /// `None` when there was too little feedback to train and hold some out.
    pub trained: Option<Trained>,
}

#[derive(Debug)]
pub struct Trained {
    pub training_lists: usize,
    pub seconds: f64,
    pub champion_version: String,
    pub baseline: Evaluation,
    pub evaluation: Evaluation,
    pub weights: Vec<(&'static str, f64)>,
    /// The challenger's version.
    pub version: String,
}

/// Trains on the older lists, evaluates the new model and the champion on
/// the newest ones, and registers the new model as challenger.
pub async fn train_ranker(
    store: &Store,
    held_out: f64,
    created_by: &str,
) -> Result<TrainReport, RegistryError> {
    let recorded = store.match_lists_with_feedback(time::OffsetDateTime::UNIX_EPOCH, true).await?;
    let lists = shown_lists(&recorded);
    let events: usize = recorded.iter().map(|list| list.feedback.len()).sum();
    if lists.len() < 2 {
        return Ok(TrainReport { lists: lists.len(), events, trained: None });
    }
    let (training, testing) = time_split(&lists, held_out);
    let (champion_version, champion) = champion_ranker(store).await?;
    let started = Instant::now();
    let learned = train(training, champion, TrainConfig::default());
    let seconds = started.elapsed().as_secs_f64();
    let baseline = evaluate(testing, &champion);
    let evaluation = evaluate(testing, &learned);
    let names = fairgig_matching::features::FEATURE_NAMES;
    let split = training.len();
    let version = format!("ranker-{}", uuid::Uuid::now_v7().simple());
    let model = ModelVersion {
        id: ModelVersionId::new(),
        kind: RANKER.to_owned(),
        version: version.clone(),
        parameters: json!({"weights": learned, "features": names}),
        metrics: json!({"evaluation": evaluation_json(&evaluation), "baseline": evaluation_json(&baseline)}),
        lineage: json!({
            "parent": champion_version,
            "trained_from": recorded.first().map(|l| l.created_at.to_string()),
            "trained_until": recorded.get(split.saturating_sub(1)).map(|l| l.created_at.to_string()),
            "held_out_from": recorded.get(split).map(|l| l.created_at.to_string()),
            "code_version": env!("CARGO_PKG_VERSION"),
        }),
        created_by: created_by.to_owned(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    store.register_challenger(&model).await?;
    Ok(TrainReport {
        lists: lists.len(),
        events,
        trained: Some(Trained {
            training_lists: split,
            seconds,
            champion_version,
            baseline,
            evaluation,
            weights: names.iter().copied().zip(learned).collect(),
            version,
        }),
    })
}

/// `fairgig model train`: trains and prints the figures.
pub async fn train_command(store: &Store, held_out: f64) -> anyhow::Result<()> {
    let report = train_ranker(store, held_out, "fairgig model train").await?;
    println!("{} lists with feedback, {} feedback events", report.lists, report.events);
    let Some(trained) = report.trained else {
        println!("not enough feedback to train and hold some out; nothing trained");
        return Ok(());
    };
    println!("trained on {} lists in {:.3} s", trained.training_lists, trained.seconds);
    describe(&trained.champion_version, &trained.baseline);
    describe("trained", &trained.evaluation);
    let weights: Vec<String> =
        trained.weights.iter().map(|(name, w)| format!("{name} {w:.3}")).collect();
    println!("trained weights: {}", weights.join(", "));
    println!("registered {} as challenger", trained.version);
    Ok(())
}

/// One registered version with its aliases.
#[derive(Debug)]
pub struct RegistryEntry {
    pub model: ModelVersion,
    pub aliases: Vec<&'static str>,
}

/// Every version of `kind`, oldest first, with its aliases.
pub async fn registry(store: &Store, kind: &str) -> Result<Vec<RegistryEntry>, RegistryError> {
    let champion = store.model_alias(kind, "champion").await?.map(|m| m.id);
    let challenger = store.model_alias(kind, "challenger").await?.map(|m| m.id);
    Ok(store
        .models(kind)
        .await?
        .into_iter()
        .map(|model| {
            let mut aliases = Vec::new();
            if champion == Some(model.id) {
                aliases.push("champion");
            }
            if challenger == Some(model.id) {
                aliases.push("challenger");
            }
            RegistryEntry { model, aliases }
        })
        .collect())
}

/// Prints every ranker version with its aliases and held-out NDCG@10.
pub async fn list_command(store: &Store) -> anyhow::Result<()> {
    println!("{} (built in; champion while no other is)", LinearModel::builtin().0);
    for RegistryEntry { model, aliases } in registry(store, RANKER).await? {
        let ndcg = model.metrics["evaluation"]["ndcg_at_10"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{} [{}] NDCG@10 {ndcg:.4}, parent {}, created {}",
            model.version,
            aliases.join(", "),
            model.lineage["parent"].as_str().unwrap_or("?"),
            model.created_at
        );
    }
    Ok(())
}

/// `fairgig model list --kind …` for kinds other than rankers.
pub async fn list_kind_command(store: &Store, kind: &str) -> anyhow::Result<()> {
    for RegistryEntry { model, aliases } in registry(store, kind).await? {
        println!(
            "{} [{}] {}, created {} by {}",
            model.version,
            aliases.join(", "),
            model.parameters,
            model.created_at,
            model.created_by
        );
    }
    Ok(())
}

/// `fairgig model show`: one version (of any kind) as JSON; `false` when there is none.
pub async fn show_command(store: &Store, version: &str) -> anyhow::Result<bool> {
    let mut found = None;
    for kind in [RANKER, crate::bias_rules::BIAS_RULES, crate::embedding_registry::EMBEDDER] {
        found =
            registry(store, kind).await?.into_iter().find(|entry| entry.model.version == version);
        if found.is_some() {
            break;
        }
    }
    let Some(entry) = found else {
        return Ok(false);
    };
    let model = entry.model;
    let shown = json!({
        "version": model.version,
        "kind": model.kind,
        "aliases": entry.aliases,
        "parameters": model.parameters,
        "metrics": model.metrics,
        "lineage": model.lineage,
        "created_by": model.created_by,
        "created_at": model.created_at.to_string(),
    });
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(true)
}

/// The gate's verdict on the challenger.
#[derive(Debug)]
pub struct Promotion {
    pub version: String,
    pub promoted: bool,
    pub reasons: Vec<String>,
}

/// Runs the gate on the challenger, audits the verdict as `actor`, and
/// makes the challenger champion when it passes.
pub async fn promote_challenger(store: &Store, actor: Actor) -> Result<Promotion, RegistryError> {
    let challenger =
        store.model_alias(RANKER, "challenger").await?.ok_or(RegistryError::NoChallenger)?;
    let (evaluation, baseline) = (
        evaluation_of(&challenger.metrics["evaluation"]),
        evaluation_of(&challenger.metrics["baseline"]),
    );
    let (Some(evaluation), Some(baseline)) = (evaluation, baseline) else {
        return Err(RegistryError::NotEvaluated(challenger.version));
    };
    let (_, champion) = champion_ranker(store).await?;
    let offline = match (weights_of(&challenger.parameters), crate::relevance_set::lists()) {
        (Some(weights), Ok(lists)) => Some(OfflineCheck::measure(lists, &weights, &champion)),
        (_, Err(err)) => {
            tracing::error!(error = %err, "the shipped relevance set does not parse");
            None
        }
        (None, _) => None,
    };
    let verdict = judge(&evaluation, &baseline, offline, Gate::default());
    let action = if verdict.promote { "model.promoted" } else { "model.promotion_refused" };
    let mut entry = NewAuditEntry::new(actor, action);
    entry.target = Some(challenger.version.clone());
    entry.details = json!({"kind": RANKER, "promote": verdict.promote, "reasons": verdict.reasons});
    store.append_audit(entry).await?;
    if verdict.promote {
        store.set_champion(RANKER, challenger.id).await?;
    }
    Ok(Promotion {
        version: challenger.version,
        promoted: verdict.promote,
        reasons: verdict.reasons,
    })
}

/// `fairgig model promote`; returns whether the challenger was promoted.
pub async fn promote_command(store: &Store) -> anyhow::Result<bool> {
    let promotion = promote_challenger(store, Actor::Cli).await?;
    for reason in &promotion.reasons {
        println!("{reason}");
    }
    if promotion.promoted {
        println!("{} is the champion", promotion.version);
    } else {
        println!("{} stays challenger", promotion.version);
    }
    Ok(promotion.promoted)
}

/// Restores the previous champion, audited as `actor`; returns (from, to).
pub async fn rollback_ranker(
    store: &Store,
    actor: Actor,
) -> Result<(Option<String>, Option<String>), RegistryError> {
    let current = store.model_alias(RANKER, "champion").await?.map(|m| m.version);
    store.rollback_champion(RANKER).await.map_err(|err| match err {
        fairgig_store::StoreError::NotFound => RegistryError::NothingToRollBack,
        other => other.into(),
    })?;
    let restored = store.model_alias(RANKER, "champion").await?.map(|m| m.version);
    let mut entry = NewAuditEntry::new(actor, "model.rolled_back");
    entry.target = current.clone();
    entry.details = json!({"kind": RANKER, "from": current, "to": restored});
    store.append_audit(entry).await?;
    Ok((current, restored))
}

/// `fairgig model rollback`.
pub async fn rollback_command(store: &Store) -> anyhow::Result<()> {
    let (_, restored) = rollback_ranker(store, Actor::Cli).await?;
    println!("champion is {} again", restored.unwrap_or_default());
    Ok(())
}

impl From<RegistryError> for crate::Error {
    fn from(err: RegistryError) -> Self {
        match err {
            RegistryError::Store(err) => err.into(),
            other => crate::Error::conflict(other.to_string()),
        }
    }
}

/// Share of the newest lists held out for evaluation when not given.
pub const DEFAULT_HELD_OUT: f64 = 0.2;

/// Trains a challenger ranker on the recorded lists (admins); the report
/// says when there is too little feedback yet.
pub async fn train_challenger(
    engine: &crate::Engine,
    caller: &crate::Caller,
    held_out: Option<f64>,
) -> crate::Result<TrainReport> {
    caller.require_admin()?;
    let held_out = held_out.unwrap_or(DEFAULT_HELD_OUT);
    if !(0.05..=0.5).contains(&held_out) {
        return Err(fairgig_core::ValidationError::new("held_out", "between 0.05 and 0.5").into());
    }
    let created_by = format!("user:{}", caller.user.id);
    Ok(train_ranker(&engine.store, held_out, &created_by).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(features_version: Option<u64>, semantic: f64) -> MatchListWithFeedback {
        let freelancer = uuid::Uuid::now_v7();
        let mut item = json!({
            "freelancer": freelancer.to_string(),
            "rank": 1,
            "features": [semantic, 1.0, 0.5, 1.0, 1.0, 0.5, 0.5, 1.0],
        });
        if let Some(version) = features_version {
            item["features_version"] = json!(version);
        }
        MatchListWithFeedback {
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            items: json!([item]),
            fairness: Value::Null,
            feedback: vec![(freelancer, "hire".to_owned(), None)],
        }
    }

    #[test]
    fn lists_recorded_with_the_plain_cosine_are_read_as_matching_computes_it_now() {
        let read = shown_lists(&[list(None, 0.7), list(Some(1), 0.7), list(Some(2), 0.49)]);
        for shown in &read {
            let semantic = shown.examples[0].features[0];
            assert!((semantic - 0.49).abs() < 1e-9, "{semantic}");
            assert_eq!(shown.examples[0].label, label_of("hire", None));
        }
    }
}
