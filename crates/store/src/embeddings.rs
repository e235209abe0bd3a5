//! Stored embeddings: the cache keyed by (model, SHA-256 of the normalised
//! text), and the current vector of each submission, job or profile.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{now, with_pool, Store, StoreError};

/// What an entity embedding belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Submission,
    Job,
    Profile,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::Job => "job",
            Self::Profile => "profile",
        }
    }

    fn parse(value: &str) -> Result<Self, StoreError> {
        Ok(match value {
            "submission" => Self::Submission,
            "job" => Self::Job,
            "profile" => Self::Profile,
            other => return Err(StoreError::Corrupt(format!("entity kind {other:?}"))),
        })
    }
}

/// The vector of one entity and the model that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityEmbedding {
    pub kind: EntityKind,
    pub id: Uuid,
    pub model_id: String,
    /// The normalised text the vector is of (kept to re-embed after a model change).
    pub text: String,
    pub vector: Vec<f32>,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct EntityRow {
    entity_kind: String,
    entity_id: Uuid,
    model_id: String,
    text: String,
    vector: Vec<u8>,
    updated_at: OffsetDateTime,
}

impl TryFrom<EntityRow> for EntityEmbedding {
    type Error = StoreError;
    fn try_from(row: EntityRow) -> Result<Self, StoreError> {
        Ok(Self {
            kind: EntityKind::parse(&row.entity_kind)?,
            id: row.entity_id,
            model_id: row.model_id,
            text: row.text,
            vector: decode_vector(&row.vector)?,
            updated_at: row.updated_at,
        })
    }
}

/// Little-endian f32s, as stored.
pub fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn decode_vector(bytes: &[u8]) -> Result<Vec<f32>, StoreError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt(format!("vector of {} bytes", bytes.len())));
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

impl Store {
    /// The cached vectors among `digests` for `model_id`, by digest.
    pub async fn cached_embeddings(
        &self,
        model_id: &str,
        digests: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<f32>>, StoreError> {
        if digests.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Vec<u8>, Vec<u8>)> = with_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT text_sha256, vector FROM embedding_cache WHERE model_id = ",
            );
            query.push_bind(model_id).push(" AND text_sha256 IN (");
            let mut list = query.separated(", ");
            for digest in digests {
                list.push_bind(digest.to_vec());
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(digest, vector)| {
                let digest: [u8; 32] = digest
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("cache key is not 32 bytes".into()))?;
                Ok((digest, decode_vector(&vector)?))
            })
            .collect()
    }

    /// Adds vectors to the cache; one already there is kept.
    pub async fn cache_embeddings(
        &self,
        model_id: &str,
        entries: &[([u8; 32], &[f32])],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let at = now();
        with_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO embedding_cache (model_id, text_sha256, vector, created_at) ",
            );
            query.push_values(entries, |mut row, (digest, vector)| {
                row.push_bind(model_id)
                    .push_bind(digest.to_vec())
                    .push_bind(encode_vector(vector))
                    .push_bind(at);
            });
            query.push(" ON CONFLICT (model_id, text_sha256) DO NOTHING");
            query.build().execute(pool).await?;
        });
        Ok(())
    }

    /// Sets an entity's vector (replacing the one it had).
    pub async fn put_entity_embedding(
        &self,
        kind: EntityKind,
        id: Uuid,
        model_id: &str,
        text: &str,
        vector: &[f32],
    ) -> Result<(), StoreError> {
        let at = now();
        let bytes = encode_vector(vector);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO entity_embeddings (entity_kind, entity_id, model_id, text, vector, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (entity_kind, entity_id) DO UPDATE SET \
                 model_id = excluded.model_id, text = excluded.text, vector = excluded.vector, \
                 updated_at = excluded.updated_at, reembed_until = NULL",
            )
            .bind(kind.as_str())
            .bind(id)
            .bind(model_id)
            .bind(text)
            .bind(bytes)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn entity_embedding(
        &self,
        kind: EntityKind,
        id: Uuid,
    ) -> Result<Option<EntityEmbedding>, StoreError> {
        let row: Option<EntityRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT entity_kind, entity_id, model_id, text, vector, updated_at \
                 FROM entity_embeddings WHERE entity_kind = $1 AND entity_id = $2",
            )
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EntityEmbedding::try_from).transpose()
    }

    /// Up to `limit` entities whose vector was made by another model than
    /// `model_id`: what a model change leaves to re-embed.
    /// Claims up to `limit` vectors made by another model than `model_id`
    /// until `lease_until`, oldest first, skipping those another process
    /// has claimed and not released: re-embedding is shared, not repeated.
    pub async fn claim_stale_entity_embeddings(
        &self,
        model_id: &str,
        limit: i64,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<EntityEmbedding>, StoreError> {
        let lock = match self.pool {
            crate::Pool::Sqlite(_) => "",
            crate::Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE entity_embeddings SET reembed_until = $3 \
             WHERE (entity_kind, entity_id) IN (SELECT entity_kind, entity_id FROM entity_embeddings \
               WHERE model_id <> $1 AND (reembed_until IS NULL OR reembed_until < $4) \
               ORDER BY updated_at LIMIT $2 {lock}) \
             RETURNING entity_kind, entity_id, model_id, text, vector, updated_at"
        );
        let rows: Vec<EntityRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(model_id)
                .bind(limit)
                .bind(lease_until)
                .bind(now())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(EntityEmbedding::try_from).collect()
    }

    /// Stores a re-embedded vector only if the row still holds the stale
    /// `text` it was computed from: an entity edited (and embedded by the
    /// current model) meanwhile keeps its newer vector. Returns whether it
    /// was stored.
    pub async fn replace_stale_entity_embedding(
        &self,
        stale: &EntityEmbedding,
        model_id: &str,
        vector: &[f32],
    ) -> Result<bool, StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE entity_embeddings SET model_id = $3, vector = $4, updated_at = $5, \
                   reembed_until = NULL \
                 WHERE entity_kind = $1 AND entity_id = $2 AND model_id = $6 AND text = $7",
            )
            .bind(stale.kind.as_str())
            .bind(stale.id)
            .bind(model_id)
            .bind(encode_vector(vector))
            .bind(now())
            .bind(&stale.model_id)
            .bind(&stale.text)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    pub async fn delete_entity_embedding(
        &self,
        kind: EntityKind,
        id: Uuid,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM entity_embeddings WHERE entity_kind = $1 AND entity_id = $2")
                .bind(kind.as_str())
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
