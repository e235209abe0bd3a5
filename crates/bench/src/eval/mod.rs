//! Relevance evaluations on third-party data the product was not built
//! from: `fairgig eval search` ([`search`]) and `fairgig eval matching`
//! ([`matching`]), both over the ESCO occupations ([`esco`]); and the bias
//! checker's precision and recall per protected ground, `fairgig eval bias`
//! ([`bias`]).

pub mod bias;
mod esco;
pub mod matching;
pub mod search;

pub use bias::bias_grounds;
pub use matching::matching_relevance;
pub use search::search_relevance;

use anyhow::Context;
use fairgig_core::{config::Settings, user::User};
use fairgig_engine::{Caller, Credential, Engine};
use fairgig_store::embeddings::EntityKind;

/// An engine on a fresh SQLite store in a temporary folder, with the
/// configured embedding model and one client to own jobs and search.
pub(crate) struct Scratch {
    pub engine: Engine,
    pub owner: User,
    pub caller: Caller,
    /// Removed when dropped: keep it as long as the engine.
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub async fn new(base: &Settings) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        let mut settings = base.clone();
        settings.data_dir = dir.path().to_path_buf();
        settings.database.url = None;
        settings.rate_limit.enabled = false;
        let engine = Engine::build(settings).await?;
        engine.store.migrate().await?;
        engine.embeddings.start().await?;
        let owner =
            crate::seed_client(&engine, "eval@example.org", "relevance under test 42").await?;
        let caller = Caller {
            user: owner.clone(),
            credential: Credential::Session(fairgig_core::ids::SessionId::new()),
        };
        Ok(Self { engine, owner, caller, dir })
    }
}

/// Rankings are judged at their top ten.
const CUTOFF: usize = 10;

/// DCG@10 of `grades` in ranked order.
pub(crate) fn dcg(grades: &[f64]) -> f64 {
    grades
        .iter()
        .take(CUTOFF)
        .enumerate()
        .map(|(at, g)| (2f64.powf(*g) - 1.0) / ((at + 2) as f64).log2())
        .sum()
}

/// nDCG@10 of `ranked` (best first) under `grade`.
pub(crate) fn ndcg(ranked: &[usize], grade: impl Fn(usize) -> f64, ideal: &[f64]) -> f64 {
    let grades: Vec<f64> = ranked.iter().take(CUTOFF).map(|doc| grade(*doc)).collect();
    let best = dcg(ideal);
    if best == 0.0 {
        0.0
    } else {
        dcg(&grades) / best
    }
}

/// Embeds `texts` with the engine's model and stores each as `ids`' vector.
pub(crate) async fn embed_all(
    engine: &fairgig_engine::Engine,
    kind: EntityKind,
    ids: &[uuid::Uuid],
    texts: &[String],
) -> anyhow::Result<()> {
    for (chunk_ids, chunk_texts) in ids.chunks(64).zip(texts.chunks(64)) {
        let embedded = engine.embeddings.embed(chunk_texts).await?;
        for (id, vector) in chunk_ids.iter().zip(&embedded.vectors) {
            engine
                .store
                .put_entity_embedding(kind, *id, engine.embeddings.model_id(), "", vector)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_lower_otherwise() {
        let grade = |doc: usize| [2.0, 1.0, 0.0][doc];
        let ideal = [2.0, 1.0];
        assert!((ndcg(&[0, 1, 2], grade, &ideal) - 1.0).abs() < 1e-12);
        let swapped = ndcg(&[1, 0, 2], grade, &ideal);
        assert!(swapped < 1.0 && swapped > 0.5, "{swapped}");
        assert_eq!(ndcg(&[2], grade, &ideal), 0.0);
        assert_eq!(ndcg(&[], grade, &[]), 0.0);
    }
}
