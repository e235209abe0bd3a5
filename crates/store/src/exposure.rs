//! The exposure ledger of amortised fairness: per attribute, group and day,
//! what the shown match lists owed each group and what they gave it
//! (see `fairgig_matching::fairness::amortise`).

use time::Date;

use crate::{with_pool, BeginWrite, Store, StoreError};

/// One group's share of one list, or a sum of them.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupExposure {
    pub group: String,
    pub owed: f64,
    pub given: f64,
}

/// Adds one list's share of each group to the ledger of `$attribute` on
/// `$day` inside the open transaction `$tx` (of either backend); `?`
/// returns the store error from the enclosing function.
macro_rules! book_exposure_in {
    ($tx:ident, $attribute:expr, $day:expr, $groups:expr) => {{
        let day = $day.to_string();
        for group in $groups {
            sqlx::query(
                "INSERT INTO fairness_exposure (attribute, group_name, day, owed, given, lists) \
                 VALUES ($1, $2, $3, $4, $5, 1) \
                 ON CONFLICT (attribute, group_name, day) DO UPDATE SET \
                   owed = fairness_exposure.owed + excluded.owed, \
                   given = fairness_exposure.given + excluded.given, \
                   lists = fairness_exposure.lists + 1",
            )
            .bind($attribute)
            .bind(&group.group)
            .bind(&day)
            .bind(group.owed)
            .bind(group.given)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use book_exposure_in;

impl Store {
    /// Adds one shown list's exposure to the ledger of `attribute` on `day`.
    pub async fn record_exposure(
        &self,
        attribute: &str,
        day: Date,
        groups: &[GroupExposure],
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            book_exposure_in!(tx, attribute, day, groups);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Each group's exposure owed and given under `attribute` from `since`
    /// (inclusive) on, by group name.
    pub async fn exposure_since(
        &self,
        attribute: &str,
        since: Date,
    ) -> Result<Vec<GroupExposure>, StoreError> {
        let rows: Vec<(String, f64, f64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT group_name, SUM(owed), SUM(given) FROM fairness_exposure \
                 WHERE attribute = $1 AND day >= $2 GROUP BY group_name ORDER BY group_name",
            )
            .bind(attribute)
            .bind(since.to_string())
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(group, owed, given)| GroupExposure { group, owed, given })
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::test_support::on_every_backend;

    fn exposure(group: &str, owed: f64, given: f64) -> GroupExposure {
        GroupExposure { group: group.to_owned(), owed, given }
    }

    #[tokio::test]
    async fn lists_add_up_per_group_within_the_window() {
        on_every_backend(|store| async move {
            let today = time::OffsetDateTime::now_utc().date();
            let long_ago = today - time::Duration::days(40);
            let list = [exposure("established", 3.0, 4.0), exposure("newcomer", 1.5, 0.5)];
            store.record_exposure("newcomer", today, &list).await.expect("record");
            store.record_exposure("newcomer", today, &list).await.expect("record again");
            store.record_exposure("newcomer", long_ago, &list).await.expect("record old");
            store
                .record_exposure("gender", today, &[exposure("woman", 2.0, 1.0)])
                .await
                .expect("record other attribute");
            let since = today - time::Duration::days(27);
            let summed = store.exposure_since("newcomer", since).await.expect("read");
            assert_eq!(summed, [exposure("established", 6.0, 8.0), exposure("newcomer", 3.0, 1.0)]);
            let everything = store.exposure_since("newcomer", long_ago).await.expect("read");
            assert_eq!(everything[1], exposure("newcomer", 4.5, 1.5));
            assert!(store.exposure_since("age", since).await.expect("read").is_empty());
        })
        .await;
    }
}
