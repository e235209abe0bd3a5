//! The embedding models that have served, as model-registry kind
//! `embedder`. The embedder is chosen by configuration (`[embedding]`), not
//! promoted: a change of model means re-embedding every vector, which the
//! background re-embedding does on start. So at start each process records
//! the model it serves (provider, dimensions, model id) as a version, and
//! makes it the champion when it is not already; a switch from another
//! model is audited as `model.embedder_changed`. The registry then
//! tells which model made the vectors of any period.
//!
//! Quality: `fairgig model evaluate-embedder --sts FILE` embeds the pairs of
//! an STS-B file (e.g. the benchmark's dev set) with the serving model and
//! records the Spearman correlation of its cosines with the human scores
//! in the version's metrics (all-MiniLM-L6-v2 scores 86.7 on the dev set).

use fairgig_core::{
    audit::{Actor, NewAuditEntry},
    ids::ModelVersionId,
};
use fairgig_embed::{
    dot,
    quality::{spearman, StsPair},
    MAX_TEXTS_PER_REQUEST,
};
use fairgig_store::{models::ModelVersion, Store, StoreError};
use serde_json::json;

use crate::embedding::{EmbeddingError, EmbeddingService};

/// The registry kind of embedding models.
pub const EMBEDDER: &str = "embedder";

/// Records the serving embedder and makes it champion; whether the champion
/// changed.
pub async fn record_serving(
    store: &Store,
    embeddings: &EmbeddingService,
    provider: &str,
) -> Result<bool, StoreError> {
    let version = embeddings.model_id();
    let model = match find(store, version).await? {
        Some(model) => model,
        None => {
            let model = ModelVersion {
                id: ModelVersionId::new(),
                kind: EMBEDDER.to_owned(),
                version: version.to_owned(),
                parameters: json!({
                    "provider": provider,
                    "model": version,
                    "dimensions": embeddings.dimensions(),
                }),
                metrics: json!({}),
                lineage: json!({"code_version": env!("CARGO_PKG_VERSION")}),
                created_by: "fairgig serve".to_owned(),
                created_at: time::OffsetDateTime::now_utc(),
            };
            match store.register_recorded(&model).await {
                Ok(model) => model,
                // Another process registered it first.
                Err(StoreError::Conflict { .. }) => {
                    find(store, version).await?.ok_or(StoreError::NotFound)?
                }
                Err(other) => return Err(other),
            }
        }
    };
    let champion = store.model_alias(EMBEDDER, "champion").await?;
    if champion.as_ref().is_some_and(|champion| champion.id == model.id) {
        return Ok(false);
    }
    store.set_champion(EMBEDDER, model.id).await?;
    // The first model a deployment records is no change; a switch is.
    if let Some(previous) = champion {
        let mut entry = NewAuditEntry::new(Actor::System, "model.embedder_changed");
        entry.target = Some(model.version.clone());
        entry.details = json!({"kind": EMBEDDER, "from": previous.version, "to": model.version});
        store.append_audit(entry).await?;
    }
    Ok(true)
}

/// An embedder's score on a set of STS pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct StsEvaluation {
    pub version: String,
    /// Spearman's rho × 100 between cosines and human scores.
    pub spearman: f64,
    pub pairs: usize,
}

/// Embeds `pairs` with the serving model (not through the cache: these
/// sentences are no one's data), scores it, and records the figure in its
/// registry version's metrics, audited as `actor`.
pub async fn evaluate_serving(
    store: &Store,
    embeddings: &EmbeddingService,
    provider: &str,
    pairs: &[StsPair],
    source: &str,
    actor: Actor,
) -> Result<StsEvaluation, EmbeddingError> {
    let embedder = embeddings.start().await?;
    let mut cosines = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(MAX_TEXTS_PER_REQUEST / 2) {
        let texts: Vec<String> =
            chunk.iter().flat_map(|pair| [pair.a.clone(), pair.b.clone()]).collect();
        let vectors = embedder.embed(texts).await?;
        cosines.extend(vectors.chunks(2).map(|two| match two {
            [a, b] => f64::from(dot(a, b)),
            _ => 0.0,
        }));
    }
    let human: Vec<f64> = pairs.iter().map(|pair| pair.human).collect();
    let rho = 100.0 * spearman(&cosines, &human);
    record_serving(store, embeddings, provider).await?;
    let version = embeddings.model_id().to_owned();
    let model = find(store, &version).await?.ok_or(StoreError::NotFound)?;
    let mut metrics = model.metrics.clone();
    metrics["sts"] = json!({
        "spearman": rho,
        "pairs": pairs.len(),
        "source": source,
        "evaluated_at": time::OffsetDateTime::now_utc().to_string(),
    });
    store.set_model_metrics(model.id, &metrics).await?;
    let mut entry = NewAuditEntry::new(actor, "model.evaluated");
    entry.target = Some(version.clone());
    entry.details =
        json!({"kind": EMBEDDER, "sts_spearman": rho, "pairs": pairs.len(), "source": source});
    store.append_audit(entry).await?;
    Ok(StsEvaluation { version, spearman: rho, pairs: pairs.len() })
}

async fn find(store: &Store, version: &str) -> Result<Option<ModelVersion>, StoreError> {
    Ok(store.models(EMBEDDER).await?.into_iter().find(|model| model.version == version))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use fairgig_core::config::{EmbeddingProvider, EmbeddingSettings};
    use fairgig_store::{audit::AuditFilter, test_support::on_every_backend};

    use super::*;

    #[tokio::test]
    async fn the_serving_embedder_is_recorded_once_and_a_switch_is_audited() {
        on_every_backend(|store| async move {
            let settings = EmbeddingSettings {
                provider: EmbeddingProvider::Hashing,
                ..EmbeddingSettings::default()
            };
            let embeddings = EmbeddingService::new(&settings, store.clone());
            assert!(record_serving(&store, &embeddings, "hashing").await.expect("first"));
            assert!(!record_serving(&store, &embeddings, "hashing").await.expect("again"));
            let recorded = store.models(EMBEDDER).await.expect("models");
            assert_eq!(recorded.len(), 1);
            let challenger = store.model_alias(EMBEDDER, "challenger").await.expect("alias");
            assert!(challenger.is_none(), "an embedder is recorded, not trialled");
            assert_eq!(recorded[0].parameters["dimensions"], embeddings.dimensions());
            let switched = |action: &str| AuditFilter {
                action: Some(action.to_owned()),
                ..AuditFilter::default()
            };
            let audited = store.list_audit(&switched("model.embedder_changed"), 10).await;
            assert!(audited.expect("audit").is_empty(), "the first model is no switch");

            // Another model served meanwhile; this one coming back is a switch.
            let other = ModelVersion {
                id: ModelVersionId::new(),
                version: "other-model".into(),
                ..recorded[0].clone()
            };
            store.register_challenger(&other).await.expect("other");
            store.set_champion(EMBEDDER, other.id).await.expect("champion");
            assert!(record_serving(&store, &embeddings, "hashing").await.expect("back"));
            let audited = store.list_audit(&switched("model.embedder_changed"), 10).await;
            let entry = audited.expect("audit").pop().expect("one entry");
            assert_eq!(entry.details["from"], "other-model");
            assert_eq!(entry.details["to"], embeddings.model_id());

            // Scored on STS pairs: the figure lands in the version's metrics.
            let pairs = fairgig_embed::quality::parse_sts(
                "g\tf\ty\t1\t5.0\tA man is playing a guitar.\tA man is playing a guitar.\n\
                 g\tf\ty\t2\t0.2\tA man is playing a guitar.\tStock markets fell sharply.\n\
                 g\tf\ty\t3\t3.0\tA man is playing a guitar.\tA man plays the guitar loudly.\n",
            )
            .expect("pairs");
            let scored =
                evaluate_serving(&store, &embeddings, "hashing", &pairs, "t.csv", Actor::Cli)
                    .await
                    .expect("evaluated");
            assert_eq!(scored.pairs, 3);
            assert!((scored.spearman - 100.0).abs() < 1e-9, "{scored:?}");
            let recorded = find(&store, embeddings.model_id()).await.expect("find").expect("one");
            assert_eq!(recorded.metrics["sts"]["pairs"], 3);
            assert_eq!(recorded.metrics["sts"]["source"], "t.csv");
        })
        .await;
    }
}
