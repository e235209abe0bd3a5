//! The embedding models that have served, as model-registry kind
//! `embedder`. The embedder is chosen by configuration (`[embedding]`), not
//! promoted: a change of model means re-embedding every vector, which the
//! background re-embedding does on start. So at start each process records
//! the model it serves (provider, dimensions, model id) as a version, and
//! makes it the champion when it is not already, audited as
//! `model.embedder_changed` with the one it replaced. The registry then
//! tells which model made the vectors of any period.

use fairgig_core::audit::{Actor, NewAuditEntry};
use fairgig_store::{models::ModelVersion, Store, StoreError};
use serde_json::json;

use crate::embedding::EmbeddingService;

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
                id: uuid::Uuid::now_v7(),
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
            match store.register_challenger(&model).await {
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
    let mut entry = NewAuditEntry::new(Actor::System, "model.embedder_changed");
    entry.target = Some(model.version.clone());
    entry.details = json!({
        "kind": EMBEDDER,
        "from": champion.map(|champion| champion.version),
        "to": model.version,
    });
    store.append_audit(entry).await?;
    Ok(true)
}

async fn find(store: &Store, version: &str) -> Result<Option<ModelVersion>, StoreError> {
    Ok(store.models(EMBEDDER).await?.into_iter().find(|model| model.version == version))
}
