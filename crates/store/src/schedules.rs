//! Periodic work shared between processes. Every `serve` and `worker` runs
//! the same schedules; a lease in the database makes sure one of them runs
//! each occurrence, and a crashed holder's lease simply runs out.

use time::OffsetDateTime;

use crate::{with_pool, Store, StoreError};

impl Store {
    /// Claims schedule `name` for `holder` until `lease_until` when it is due
    /// (never run, or last run at or before `due_if_run_before`) and no
    /// unexpired lease is held. Whether this call got it.
    pub async fn claim_schedule(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        due_if_run_before: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = with_pool!(self, pool => {
            sqlx::query("INSERT INTO schedules (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(pool)
                .await?;
            sqlx::query(
                "UPDATE schedules SET holder = $2, lease_until = $3 \
                 WHERE name = $1 AND (lease_until IS NULL OR lease_until < $4) \
                   AND (last_run_at IS NULL OR last_run_at <= $5)",
            )
            .bind(name)
            .bind(holder)
            .bind(lease_until)
            .bind(now)
            .bind(due_if_run_before)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(claimed == 1)
    }

    /// Records that `holder` ran `name` at `at` and gives the lease back.
    pub async fn finish_schedule(
        &self,
        name: &str,
        holder: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE schedules SET last_run_at = $3, holder = NULL, lease_until = NULL \
                 WHERE name = $1 AND holder = $2",
            )
            .bind(name)
            .bind(holder)
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Feedback events recorded after `since`.
    pub async fn feedback_since(&self, since: OffsetDateTime) -> Result<u64, StoreError> {
        let (count,): (i64,) = with_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM feedback WHERE created_at > $1")
                .bind(since)
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use time::Duration;

    use crate::test_support::on_every_backend;

    #[tokio::test]
    async fn one_holder_at_a_time_and_only_when_due() {
        on_every_backend(|store| async move {
            let now = time::OffsetDateTime::now_utc();
            let hour = Duration::hours(1);
            let claim = |holder: &'static str, at: time::OffsetDateTime| {
                let store = store.clone();
                async move {
                    store.claim_schedule("train", holder, at, at + hour, at - 24 * hour).await
                }
            };
            assert!(claim("a", now).await.expect("claim"), "never run: due");
            assert!(!claim("b", now).await.expect("claim"), "a holds the lease");
            // A crashed holder's lease runs out.
            assert!(claim("b", now + 2 * hour).await.expect("claim"));
            store.finish_schedule("train", "b", now + 2 * hour).await.expect("finish");
            assert!(!claim("a", now + 3 * hour).await.expect("claim"), "ran an hour ago");
            assert!(claim("a", now + 27 * hour).await.expect("claim"), "a day later: due");
            // A late finish by a holder that lost its lease changes nothing.
            store.finish_schedule("train", "b", now + 28 * hour).await.expect("finish");
            assert!(!claim("b", now + 27 * hour).await.expect("claim"), "a still holds it");
        })
        .await;
    }
}
