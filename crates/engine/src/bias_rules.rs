//! The organisation's bias rule pack as a model-registry kind
//! (`bias_rules`): register → evaluate → promote through a gate → serve on
//! every replica → roll back.
//!
//! - Register: the pack (TOML, [`fairgig_ai::bias::custom`]) is validated,
//!   evaluated on a reference corpus (the demo's 40 job posts and 300
//!   freelancer bios, real ESCO-derived text), stored in object storage
//!   under its SHA-256 and registered as `challenger`.
//! - Gate: a pack that would send more than a quarter more of the
//!   reference texts to review, or has a rule that fires on more than half
//!   of the texts it applies to, is refused with reasons (a pattern such as "the" or "we"
//!   would flag every post).
//! - Serving: [`LiveBias`] holds the checker in use. The process that
//!   promotes or rolls back swaps it at once; other replicas look for a new
//!   champion every [`REFRESH_EVERY`].
//! - Rollback restores the previous champion pack, or no organisation pack
//!   (the shipped packs alone) when the first one is rolled back.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use fairgig_ai::bias::{
    custom::{parse_pack, CustomPack, PackError},
    rules::Pack,
    BiasChecker, CheckOptions, Report, TextKind,
};
use fairgig_core::{
    audit::{Actor, NewAuditEntry},
    ids::ModelVersionId,
};
use fairgig_store::{
    models::ModelVersion,
    objects::{ObjectError, ObjectStorage},
    Store, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

/// The registry kind of organisation rule packs.
pub const BIAS_RULES: &str = "bias_rules";

/// How often a replica looks for a newly promoted pack.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The gate: most extra share of reference texts sent to review.
const MAX_MORE_REVIEW: f64 = 0.25;
/// The gate: most share of reference texts one rule may fire on.
const MAX_RULE_REACH: f64 = 0.5;

#[derive(Debug, thiserror::Error)]
pub enum BiasRulesError {
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("rule pack storage: {0}")]
    Storage(#[from] ObjectError),
    #[error("this pack is already registered as {0}")]
    Duplicate(String),
    #[error("no challenger rule pack: register one first")]
    NoChallenger,
    #[error("no organisation rule pack is in use; nothing to roll back")]
    NothingToRollBack,
    #[error("stored rule pack {version}: {reason}")]
    Corrupt { version: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BiasRulesError> for crate::Error {
    fn from(err: BiasRulesError) -> Self {
        match err {
            BiasRulesError::Store(err) => err.into(),
            BiasRulesError::Pack(err) => {
                fairgig_core::ValidationError::new("pack", err.to_string()).into()
            }
            BiasRulesError::Storage(_) | BiasRulesError::Corrupt { .. } => {
                crate::Error::internal(err, "the rule pack could not be stored or read")
            }
            other => crate::Error::conflict(other.to_string()),
        }
    }
}

/// The checker in use and the pack version it was built with (`None`:
/// the shipped packs only).
pub struct LiveBias {
    serving: RwLock<(Option<String>, Arc<BiasChecker>)>,
}

impl std::fmt::Debug for LiveBias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveBias").field("version", &self.version()).finish_non_exhaustive()
    }
}

/// Counts one finished check in `fairgig_bias_checks_total` by kind of
/// text and whether it asks for a person's review: the bias checker's
/// throughput and how often it holds something back.
pub fn observe_check(kind: TextKind, report: &Report) {
    let kind = match kind {
        TextKind::JobPost => "job_post",
        TextKind::Profile => "profile",
        TextKind::Review => "review",
        TextKind::Text => "text",
    };
    let review = if report.requires_review { "true" } else { "false" };
    metrics::counter!("fairgig_bias_checks_total", "kind" => kind, "requires_review" => review)
        .increment(1);
}

impl LiveBias {
    /// The shipped packs, until [`Self::refresh`] finds a champion pack.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { serving: RwLock::new((None, Arc::new(BiasChecker::new()))) })
    }

    /// Checks `text` with the checker in use now, counted in
    /// `fairgig_bias_checks_total`.
    pub fn check(&self, text: &str, kind: TextKind, options: &CheckOptions) -> Report {
        let report = self.checker().check(text, kind, options);
        observe_check(kind, &report);
        report
    }

    /// The checker to use now (cheap: a reference count). Count what it
    /// checks with [`observe_check`].
    pub fn checker(&self) -> Arc<BiasChecker> {
        Arc::clone(&self.serving.read().unwrap_or_else(|poisoned| poisoned.into_inner()).1)
    }

    /// The organisation pack's version in use.
    pub fn version(&self) -> Option<String> {
        self.serving.read().unwrap_or_else(|poisoned| poisoned.into_inner()).0.clone()
    }

    /// Serves the champion pack if it changed; whether it did. The checker
    /// is built on a blocking thread and swapped in whole.
    pub async fn refresh(
        &self,
        store: &Store,
        storage: &ObjectStorage,
    ) -> Result<bool, BiasRulesError> {
        let champion = store.model_alias(BIAS_RULES, "champion").await?;
        let wanted = champion.as_ref().map(|model| model.version.clone());
        if wanted == self.version() {
            return Ok(false);
        }
        let pack = match &champion {
            Some(model) => Some(load_pack(storage, model).await?),
            None => None,
        };
        let checker = tokio::task::spawn_blocking(move || BiasChecker::with_pack(pack))
            .await
            .map_err(|err| BiasRulesError::Corrupt {
                version: wanted.clone().unwrap_or_default(),
                reason: format!("building the checker failed: {err}"),
            })?;
        *self.serving.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            (wanted.clone(), Arc::new(checker));
        tracing::info!(
            version = wanted.as_deref().unwrap_or("shipped packs only"),
            "bias rules in use"
        );
        Ok(true)
    }

    /// Serves the champion pack now (the shipped packs if it cannot be
    /// loaded), then looks for a new one every [`REFRESH_EVERY`] until `stop`.
    pub async fn keep_current(
        self: &Arc<Self>,
        store: Store,
        storage: ObjectStorage,
        tasks: &mut tokio::task::JoinSet<()>,
        stop: CancellationToken,
    ) {
        self.refresh_or_warn(&store, &storage).await;
        let live = Arc::clone(self);
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(REFRESH_EVERY) => {
                        live.refresh_or_warn(&store, &storage).await;
                    }
                }
            }
        });
    }

    async fn refresh_or_warn(&self, store: &Store, storage: &ObjectStorage) {
        if let Err(err) = self.refresh(store, storage).await {
            tracing::warn!(error = %err, "the champion bias rule pack is not loaded");
        }
    }
}

async fn load_pack(
    storage: &ObjectStorage,
    model: &ModelVersion,
) -> Result<CustomPack, BiasRulesError> {
    let corrupt =
        |reason: String| BiasRulesError::Corrupt { version: model.version.clone(), reason };
    let key = model.parameters["artifact"]
        .as_str()
        .ok_or_else(|| corrupt("no artifact in its parameters".into()))?;
    let bytes = storage.get(key).await?;
    let digest = hex::encode(Sha256::digest(&bytes));
    if model.parameters["sha256"].as_str() != Some(digest.as_str()) {
        return Err(corrupt(format!("artifact {key} does not match its SHA-256")));
    }
    let text = std::str::from_utf8(&bytes).map_err(|err| corrupt(err.to_string()))?;
    parse_pack(text).map_err(|err| corrupt(err.to_string()))
}

/// A pack's effect on the reference corpus (stored as the version's
/// `metrics.evaluation`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackEvaluation {
    pub texts: usize,
    /// Reference texts that need review with the shipped packs alone…
    pub review_before: usize,
    /// …and with this pack added.
    pub review_after: usize,
    /// Findings of this pack's rules over the corpus.
    pub findings: usize,
    /// Rules that fire on more than half of the texts the pack applies to.
    pub broad_rules: Vec<BroadRule>,
}

/// A rule and the number of reference texts it fires on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BroadRule {
    pub rule: String,
    pub texts: usize,
}

/// Checks the reference corpus with and without `pack`.
pub fn evaluate(pack: &CustomPack) -> PackEvaluation {
    let corpus = crate::demo::reference_texts();
    let shipped = BiasChecker::new();
    let with_pack = BiasChecker::with_pack(Some(pack.clone()));
    let options = CheckOptions::default();
    let (mut review_before, mut review_after, mut findings, mut applicable) = (0, 0, 0, 0);
    let mut reach: std::collections::BTreeMap<String, usize> = Default::default();
    for (kind, text) in &corpus {
        review_before += usize::from(shipped.check(text, *kind, &options).requires_review);
        review_after += usize::from(with_pack.check(text, *kind, &options).requires_review);
        if pack.applies_to(*kind) {
            applicable += 1;
            let own = with_pack.findings(text, &[Pack::Organisation], &options);
            findings += own.len();
            let mut fired: Vec<String> =
                own.into_iter().map(|finding| finding.rule_id.to_string()).collect();
            fired.sort();
            fired.dedup();
            for rule in fired {
                *reach.entry(rule).or_default() += 1;
            }
        }
    }
    let texts = corpus.len();
    let broad_rules = reach
        .into_iter()
        .filter(|(_, n)| *n as f64 > MAX_RULE_REACH * f64::from(applicable))
        .map(|(rule, texts)| BroadRule { rule, texts })
        .collect();
    PackEvaluation { texts, review_before, review_after, findings, broad_rules }
}

/// The gate's verdict on a pack and its reasons, in words.
pub fn judge(evaluation: &PackEvaluation) -> (bool, Vec<String>) {
    let texts = evaluation.texts.max(1) as f64;
    let more = evaluation.review_after.saturating_sub(evaluation.review_before) as f64 / texts;
    let mut reasons = vec![format!(
        "reference texts needing review: {} of {} with the pack, {} without",
        evaluation.review_after, evaluation.texts, evaluation.review_before
    )];
    let mut pass = true;
    if more > MAX_MORE_REVIEW {
        pass = false;
        reasons.push(format!(
            "refused: the pack sends {:.0} % more of the reference texts to review (at most {:.0} %)",
            more * 100.0,
            MAX_MORE_REVIEW * 100.0
        ));
    }
    for BroadRule { rule, texts: n } in &evaluation.broad_rules {
        pass = false;
        reasons.push(format!(
            "refused: rule {rule} fires on {n} reference texts, more than half of those it applies to; is a pattern too common?"
        ));
    }
    if pass {
        reasons.push("passed: no rule is that broad".to_owned());
    }
    (pass, reasons)
}

/// A registered pack.
#[derive(Debug)]
pub struct Registered {
    pub version: String,
    pub name: String,
    pub rules: usize,
    pub evaluation: PackEvaluation,
}

/// Validates, evaluates, stores and registers a pack as challenger.
pub async fn register_pack(
    store: &Store,
    storage: &ObjectStorage,
    text: &str,
    created_by: &str,
) -> Result<Registered, BiasRulesError> {
    let pack = parse_pack(text)?;
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let version = format!("bias-rules-{}-{}", pack.name, &digest[..12]);
    if store.models(BIAS_RULES).await?.iter().any(|model| model.version == version) {
        return Err(BiasRulesError::Duplicate(version));
    }
    let evaluated = pack.clone();
    let evaluation =
        tokio::task::spawn_blocking(move || evaluate(&evaluated)).await.map_err(|err| {
            BiasRulesError::Corrupt { version: version.clone(), reason: err.to_string() }
        })?;
    let artifact = format!("registry/{BIAS_RULES}/{digest}.toml");
    storage.put(&artifact, Bytes::copy_from_slice(text.as_bytes())).await?;
    let parent = store.model_alias(BIAS_RULES, "champion").await?.map(|model| model.version);
    let model = ModelVersion {
        id: ModelVersionId::new(),
        kind: BIAS_RULES.to_owned(),
        version: version.clone(),
        parameters: json!({
            "name": pack.name,
            "applies_to": pack.applies_to,
            "rules": pack.rules.len(),
            "sha256": digest,
            "artifact": artifact,
        }),
        metrics: json!({"evaluation": evaluation}),
        lineage: json!({
            "parent": parent.unwrap_or_else(|| "shipped packs".to_owned()),
            "code_version": env!("CARGO_PKG_VERSION"),
        }),
        created_by: created_by.to_owned(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    store.register_challenger(&model).await.map_err(|err| match err {
        StoreError::Conflict { .. } => BiasRulesError::Duplicate(version.clone()),
        other => other.into(),
    })?;
    Ok(Registered { version, name: pack.name, rules: pack.rules.len(), evaluation })
}

/// The gate on the challenger pack: audited as `actor`; when it passes the
/// pack becomes champion and `live` serves it at once.
pub async fn promote_pack(
    store: &Store,
    storage: &ObjectStorage,
    live: &LiveBias,
    actor: Actor,
) -> Result<crate::training::Promotion, BiasRulesError> {
    let challenger =
        store.model_alias(BIAS_RULES, "challenger").await?.ok_or(BiasRulesError::NoChallenger)?;
    let evaluation: PackEvaluation =
        serde_json::from_value(challenger.metrics["evaluation"].clone()).map_err(|err| {
            BiasRulesError::Corrupt {
                version: challenger.version.clone(),
                reason: format!("no evaluation in its metrics: {err}"),
            }
        })?;
    let (promote, reasons) = judge(&evaluation);
    let action = if promote { "model.promoted" } else { "model.promotion_refused" };
    let mut entry = NewAuditEntry::new(actor, action);
    entry.target = Some(challenger.version.clone());
    entry.details = json!({"kind": BIAS_RULES, "promote": promote, "reasons": reasons});
    store.append_audit(entry).await?;
    if promote {
        store.set_champion(BIAS_RULES, challenger.id).await?;
        live.refresh(store, storage).await?;
    }
    Ok(crate::training::Promotion { version: challenger.version, promoted: promote, reasons })
}

/// Restores the previous champion pack, or the shipped packs alone when
/// the first one is rolled back; returns (from, to). Audited as `actor`.
pub async fn rollback_pack(
    store: &Store,
    storage: &ObjectStorage,
    live: &LiveBias,
    actor: Actor,
) -> Result<(Option<String>, Option<String>), BiasRulesError> {
    let current = store
        .model_alias(BIAS_RULES, "champion")
        .await?
        .map(|model| model.version)
        .ok_or(BiasRulesError::NothingToRollBack)?;
    match store.rollback_champion(BIAS_RULES).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            store.clear_champion(BIAS_RULES).await?;
        }
        Err(other) => return Err(other.into()),
    }
    let restored = store.model_alias(BIAS_RULES, "champion").await?.map(|model| model.version);
    let mut entry = NewAuditEntry::new(actor, "model.rolled_back");
    entry.target = Some(current.clone());
    entry.details = json!({"kind": BIAS_RULES, "from": current, "to": restored});
    store.append_audit(entry).await?;
    live.refresh(store, storage).await?;
    Ok((Some(current), restored))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn pack(pattern: &str) -> CustomPack {
        parse_pack(&format!(
            "[pack]\nname = \"t\"\n[[rule]]\nid = \"t-1\"\ncategory = \"jargon\"\nseverity = \"error\"\n\
             type = \"basic\"\npatterns = [\"{pattern}\"]\nsource = \"test\"\n"
        ))
        .expect("valid")
    }

    #[test]
    fn a_narrow_pack_passes_the_gate_and_a_pattern_on_every_text_does_not() {
        let narrow = evaluate(&pack("code wizard"));
        assert_eq!(narrow.texts, 340);
        assert_eq!(narrow.review_after, narrow.review_before);
        assert!(judge(&narrow).0, "{:?}", judge(&narrow).1);
        let broad = evaluate(&pack("the"));
        assert!(broad.review_after > broad.review_before + 85, "{broad:?}");
        assert_eq!(broad.broad_rules.first().map(|b| b.rule.as_str()), Some("t-1"));
        let (pass, reasons) = judge(&broad);
        assert!(!pass);
        assert!(reasons.iter().any(|r| r.contains("rule t-1 fires on")), "{reasons:?}");
        let stored = serde_json::to_value(&broad).expect("json");
        assert_eq!(serde_json::from_value::<PackEvaluation>(stored).ok(), Some(broad));
    }
}
