//! The model registry: versions and the champion/challenger aliases.

use fairgig_core::ids::ModelVersionId;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{found, now, with_pool, BeginWrite, Store, StoreError};

#[derive(Clone, Debug, PartialEq)]
pub struct ModelVersion {
    pub id: ModelVersionId,
    /// `ranker`, `embedder` or `bias_rules`.
    pub kind: String,
    pub version: String,
    pub parameters: Value,
    pub metrics: Value,
    /// Training data time range, parent version, code version.
    pub lineage: Value,
    pub created_by: String,
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ModelRow {
    id: Uuid,
    kind: String,
    version: String,
    parameters: String,
    metrics: String,
    lineage: String,
    created_by: String,
    created_at: OffsetDateTime,
}

impl ModelRow {
    fn into_model(self) -> Result<ModelVersion, StoreError> {
        let parse = |text: &str| {
            serde_json::from_str(text)
                .map_err(|err| StoreError::Corrupt(format!("model {}: {err}", self.version)))
        };
        Ok(ModelVersion {
            id: ModelVersionId::from_uuid(self.id),
            parameters: parse(&self.parameters)?,
            metrics: parse(&self.metrics)?,
            lineage: parse(&self.lineage)?,
            kind: self.kind,
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
        })
    }
}

const MODEL_COLUMNS: &str =
    "id, kind, version, parameters, metrics, lineage, created_by, created_at";

impl Store {
    /// Registers a version and makes it the kind's challenger.
    /// `Conflict { field: "version" }` when the version exists.
    pub async fn register_challenger(
        &self,
        model: &ModelVersion,
    ) -> Result<ModelVersion, StoreError> {
        self.register_model(model, true).await
    }

    /// Registers a version that is recorded, not trialled (an embedder that
    /// served): no alias. `Conflict { field: "version" }` when it exists.
    pub async fn register_recorded(
        &self,
        model: &ModelVersion,
    ) -> Result<ModelVersion, StoreError> {
        self.register_model(model, false).await
    }

    async fn register_model(
        &self,
        model: &ModelVersion,
        challenger: bool,
    ) -> Result<ModelVersion, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING {MODEL_COLUMNS}"
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: ModelRow = sqlx::query_as(&sql)
                .bind(model.id.as_uuid())
                .bind(&model.kind)
                .bind(&model.version)
                .bind(model.parameters.to_string())
                .bind(model.metrics.to_string())
                .bind(model.lineage.to_string())
                .bind(&model.created_by)
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("version"))?;
            if challenger {
                sqlx::query(
                    "INSERT INTO model_aliases (kind, alias, model_id, previous, updated_at) \
                     VALUES ($1, 'challenger', $2, NULL, $3) \
                     ON CONFLICT (kind, alias) DO UPDATE SET model_id = $2, updated_at = $3",
                )
                .bind(&model.kind)
                .bind(model.id.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            row.into_model()
        })
    }

    pub async fn models(&self, kind: &str) -> Result<Vec<ModelVersion>, StoreError> {
        let sql =
            format!("SELECT {MODEL_COLUMNS} FROM models WHERE kind = $1 ORDER BY created_at, id");
        let rows: Vec<ModelRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(kind).fetch_all(pool).await?
        });
        rows.into_iter().map(ModelRow::into_model).collect()
    }

    /// The version an alias points at, if any.
    pub async fn model_alias(
        &self,
        kind: &str,
        alias: &str,
    ) -> Result<Option<ModelVersion>, StoreError> {
        let columns: String =
            MODEL_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM model_aliases a JOIN models m ON m.id = a.model_id \
             WHERE a.kind = $1 AND a.alias = $2"
        );
        let row: Option<ModelRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(kind).bind(alias).fetch_optional(pool).await?
        });
        row.map(ModelRow::into_model).transpose()
    }

    /// Makes `model` the champion, remembering the one it replaces.
    pub async fn set_champion(&self, kind: &str, model: ModelVersionId) -> Result<(), StoreError> {
        let at = now();
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO model_aliases (kind, alias, model_id, previous, updated_at) \
                 VALUES ($1, 'champion', $2, NULL, $3) \
                 ON CONFLICT (kind, alias) DO UPDATE SET previous = model_aliases.model_id, \
                   model_id = $2, updated_at = $3",
            )
            .bind(kind)
            .bind(model.as_uuid())
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Restores the previous champion; `NotFound` when there is none.
    pub async fn rollback_champion(&self, kind: &str) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE model_aliases SET model_id = previous, previous = NULL, updated_at = $2 \
                 WHERE kind = $1 AND alias = 'champion' AND previous IS NOT NULL",
            )
            .bind(kind)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        found(changed)
    }

    /// Removes the champion alias (the built-in serves again); whether there was one.
    pub async fn clear_champion(&self, kind: &str) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => {
            sqlx::query("DELETE FROM model_aliases WHERE kind = $1 AND alias = 'champion'")
                .bind(kind)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }

    /// Replaces a version's metrics (a later evaluation of a recorded model).
    pub async fn set_model_metrics(
        &self,
        id: ModelVersionId,
        metrics: &Value,
    ) -> Result<(), StoreError> {
        let changed = with_pool!(self, pool => {
            sqlx::query("UPDATE models SET metrics = $1 WHERE id = $2")
                .bind(metrics.to_string())
                .bind(id.as_uuid())
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(changed)
    }
}
