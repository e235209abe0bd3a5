//! The content service's pages and their versions. A save writes the page
//! row and its version row in one transaction; an update names the version
//! it was made from, and a page saved by someone else since is refused
//! ([`StoreError::Stale`]) instead of overwritten.

use fairgig_core::{
    content::{PageContent, PageStatus},
    ids::{PageId, TranslationGroupId, UserId},
};
use time::OffsetDateTime;

use crate::{now, with_pool, BeginWrite, Store, StoreError};

/// One locale's page as it stands (its current version).
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub id: PageId,
    pub group: TranslationGroupId,
    pub locale: String,
    pub content: PageContent,
    pub version: i64,
    pub author: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// One save of a page.
#[derive(Clone, Debug, PartialEq)]
pub struct PageVersion {
    pub page: PageId,
    pub version: i64,
    pub content: PageContent,
    pub author: Option<UserId>,
    pub message: String,
    pub created_at: OffsetDateTime,
}

/// Which translation group a new page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageGroup {
    /// A group of its own with this id (an import keeps the exported id).
    New(TranslationGroupId),
    /// A translation into this existing group.
    Join(TranslationGroupId),
}

impl PageGroup {
    pub fn id(self) -> TranslationGroupId {
        match self {
            Self::New(group) | Self::Join(group) => group,
        }
    }
}

/// A new page.
#[derive(Clone, Debug)]
pub struct NewPage {
    pub group: PageGroup,
    pub locale: String,
    pub content: PageContent,
    pub author: Option<UserId>,
    pub message: String,
}

type PageRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    i64,
    Option<uuid::Uuid>,
    OffsetDateTime,
    OffsetDateTime,
);

const PAGE_COLUMNS: &str = "id, translation_group, locale, slug, title, summary, body, tags, \
                            status, publish_at, version, author, created_at, updated_at";

type VersionRow = (
    uuid::Uuid,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    Option<uuid::Uuid>,
    String,
    OffsetDateTime,
);

const VERSION_COLUMNS: &str = "page_id, version, slug, title, summary, body, tags, status, \
                               publish_at, author, message, created_at";

fn content(
    (slug, title, summary, body): (String, String, String, String),
    tags: &str,
    status: String,
    publish_at: Option<OffsetDateTime>,
) -> Result<PageContent, StoreError> {
    Ok(PageContent {
        slug,
        title,
        summary,
        body,
        tags: serde_json::from_str(tags)
            .map_err(|err| StoreError::Corrupt(format!("page tags: {err}")))?,
        status: status.parse().map_err(|err| StoreError::Corrupt(format!("page status: {err}")))?,
        publish_at,
    })
}

fn page(row: PageRow) -> Result<Page, StoreError> {
    let (
        id,
        group,
        locale,
        slug,
        title,
        summary,
        body,
        tags,
        status,
        publish_at,
        version,
        author,
        created_at,
        updated_at,
    ) = row;
    Ok(Page {
        id: PageId::from_uuid(id),
        group: TranslationGroupId::from_uuid(group),
        locale,
        content: content((slug, title, summary, body), &tags, status, publish_at)?,
        version,
        author: author.map(UserId::from_uuid),
        created_at,
        updated_at,
    })
}

fn version(row: VersionRow) -> Result<PageVersion, StoreError> {
    let (
        page,
        version,
        slug,
        title,
        summary,
        body,
        tags,
        status,
        publish_at,
        author,
        message,
        created_at,
    ) = row;
    Ok(PageVersion {
        page: PageId::from_uuid(page),
        version,
        content: content((slug, title, summary, body), &tags, status, publish_at)?,
        author: author.map(UserId::from_uuid),
        message,
        created_at,
    })
}

fn tags_json(content: &PageContent) -> String {
    serde_json::Value::from(content.tags.clone()).to_string()
}

/// What a page's columns are filtered by in a listing.
#[derive(Clone, Debug, Default)]
pub struct PageFilter {
    pub locale: Option<String>,
    pub status: Option<PageStatus>,
    pub tag: Option<String>,
}

impl Store {
    /// Creates a page at version 1. A slug taken in the locale is a
    /// conflict on `slug`; a second page of one locale in a translation
    /// group a conflict on `locale`; joining a group that does not exist
    /// is not found.
    pub async fn create_page(&self, new: &NewPage) -> Result<Page, StoreError> {
        let at = now();
        let id = PageId::new();
        let group = new.group.id();
        let c = &new.content;
        let tags = tags_json(c);
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let PageGroup::Join(group) = new.group {
                let known: Option<(uuid::Uuid,)> =
                    sqlx::query_as("SELECT id FROM pages WHERE translation_group = $1 LIMIT 1")
                        .bind(group.as_uuid())
                        .fetch_optional(&mut *tx)
                        .await?;
                if known.is_none() {
                    return Err(StoreError::NotFound);
                }
                let same_locale: Option<(uuid::Uuid,)> = sqlx::query_as(
                    "SELECT id FROM pages WHERE translation_group = $1 AND locale = $2",
                )
                .bind(group.as_uuid())
                .bind(&new.locale)
                .fetch_optional(&mut *tx)
                .await?;
                if same_locale.is_some() {
                    return Err(StoreError::Conflict { field: "locale" });
                }
            }
            let inserted = sqlx::query(
                "INSERT INTO pages (id, translation_group, locale, slug, title, summary, body, tags, \
                 status, publish_at, version, author, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12)",
            )
            .bind(id.as_uuid())
            .bind(group.as_uuid())
            .bind(&new.locale)
            .bind(&c.slug)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(&tags)
            .bind(c.status.as_str())
            .bind(c.publish_at)
            .bind(new.author.map(|a| a.as_uuid()))
            .bind(at)
            .execute(&mut *tx)
            .await;
            if let Err(err) = inserted {
                // Rolled back now, not when the pool next hands out this
                // connection: the failed write holds SQLite's write lock.
                tx.rollback().await?;
                return Err(StoreError::conflict_on("slug")(err));
            }
            insert_version(&mut tx, id, 1, c, &tags, (new.author, &new.message), at).await?;
            tx.commit().await?;
        });
        Ok(Page {
            id,
            group,
            locale: new.locale.clone(),
            content: new.content.clone(),
            version: 1,
            author: new.author,
            created_at: at,
            updated_at: at,
        })
    }

    /// Saves `content` as the page's next version, if the page is still at
    /// `expected_version`; otherwise [`StoreError::Stale`] with the version
    /// it is at.
    pub async fn update_page(
        &self,
        id: PageId,
        expected_version: i64,
        content: &PageContent,
        (author, message): (Option<UserId>, &str),
    ) -> Result<Page, StoreError> {
        let at = now();
        let tags = tags_json(content);
        let next = expected_version + 1;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE pages SET slug = $1, title = $2, summary = $3, body = $4, tags = $5, \
                 status = $6, publish_at = $7, version = $8, author = $9, updated_at = $10 \
                 WHERE id = $11 AND version = $12",
            )
            .bind(&content.slug)
            .bind(&content.title)
            .bind(&content.summary)
            .bind(&content.body)
            .bind(&tags)
            .bind(content.status.as_str())
            .bind(content.publish_at)
            .bind(next)
            .bind(author.map(|a| a.as_uuid()))
            .bind(at)
            .bind(id.as_uuid())
            .bind(expected_version)
            .execute(&mut *tx)
            .await;
            let updated = match updated {
                Ok(updated) => updated,
                Err(err) => {
                    // As in `create_page`: release the write lock now.
                    tx.rollback().await?;
                    return Err(StoreError::conflict_on("slug")(err));
                }
            };
            if updated.rows_affected() == 0 {
                let current: Option<(i64,)> = sqlx::query_as("SELECT version FROM pages WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.rollback().await?;
                return Err(match current {
                    Some((current,)) => StoreError::Stale { current },
                    None => StoreError::NotFound,
                });
            }
            insert_version(&mut tx, id, next, content, &tags, (author, message), at).await?;
            tx.commit().await?;
        });
        self.page(id).await
    }

    pub async fn page(&self, id: PageId) -> Result<Page, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id = $1");
        let row: Option<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.map(page).transpose()?.ok_or(StoreError::NotFound)
    }

    /// The page with `slug` in `locale`.
    pub async fn page_by_slug(&self, locale: &str, slug: &str) -> Result<Page, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE locale = $1 AND slug = $2");
        let row: Option<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(locale).bind(slug).fetch_optional(pool).await?
        });
        row.map(page).transpose()?.ok_or(StoreError::NotFound)
    }

    /// Every page with `slug` in any locale (a slug is unique per locale
    /// only), by locale.
    pub async fn pages_with_slug(&self, slug: &str) -> Result<Vec<Page>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE slug = $1 ORDER BY locale");
        let rows: Vec<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(slug).fetch_all(pool).await?
        });
        rows.into_iter().map(page).collect()
    }

    /// The translations of a page (itself included), by locale.
    pub async fn translations(&self, group: TranslationGroupId) -> Result<Vec<Page>, StoreError> {
        let sql = format!(
            "SELECT {PAGE_COLUMNS} FROM pages WHERE translation_group = $1 ORDER BY locale"
        );
        let rows: Vec<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(group.as_uuid()).fetch_all(pool).await?
        });
        rows.into_iter().map(page).collect()
    }

    /// Pages by `filter`, newest change first. The tag filter runs here,
    /// on the decoded tags (a JSON column has no portable index).
    pub async fn pages(&self, filter: &PageFilter) -> Result<Vec<Page>, StoreError> {
        let sql = format!(
            "SELECT {PAGE_COLUMNS} FROM pages \
             WHERE ($1 IS NULL OR locale = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY updated_at DESC, id"
        );
        let status = filter.status.map(PageStatus::as_str);
        let rows: Vec<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(&filter.locale).bind(status).fetch_all(pool).await?
        });
        let pages = rows.into_iter().map(page).collect::<Result<Vec<_>, _>>()?;
        Ok(match &filter.tag {
            Some(tag) => pages.into_iter().filter(|p| p.content.tags.contains(tag)).collect(),
            None => pages,
        })
    }

    /// Pages in any state changed at or after `since` (the search index
    /// catches up with them).
    pub async fn pages_changed_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<Page>, StoreError> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE updated_at >= $1");
        let rows: Vec<PageRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(page).collect()
    }

    /// A page's versions, oldest first.
    pub async fn page_versions(&self, id: PageId) -> Result<Vec<PageVersion>, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM page_versions WHERE page_id = $1 ORDER BY version"
        );
        let rows: Vec<VersionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_all(pool).await?
        });
        rows.into_iter().map(version).collect()
    }

    pub async fn page_version(&self, id: PageId, number: i64) -> Result<PageVersion, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM page_versions WHERE page_id = $1 AND version = $2"
        );
        let row: Option<VersionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).bind(number).fetch_optional(pool).await?
        });
        row.map(version).transpose()?.ok_or(StoreError::NotFound)
    }

    /// Lets `user` write pages (idempotent).
    pub async fn grant_page_editor(&self, user: UserId) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO page_editors (user_id, granted_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user.as_uuid())
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Takes the grant back; whether there was one.
    pub async fn revoke_page_editor(&self, user: UserId) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => {
            sqlx::query("DELETE FROM page_editors WHERE user_id = $1")
                .bind(user.as_uuid())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }

    pub async fn is_page_editor(&self, user: UserId) -> Result<bool, StoreError> {
        let row: Option<(uuid::Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT user_id FROM page_editors WHERE user_id = $1")
                .bind(user.as_uuid())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }
}

async fn insert_version<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    id: PageId,
    number: i64,
    content: &PageContent,
    tags: &str,
    (author, message): (Option<UserId>, &str),
    at: OffsetDateTime,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'e> &'e mut <DB as sqlx::Database>::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    uuid::Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<uuid::Uuid>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'s> &'s str: sqlx::Encode<'s, DB> + sqlx::Type<DB>,
    OffsetDateTime: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<OffsetDateTime>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO page_versions (page_id, version, slug, title, summary, body, tags, status, \
         publish_at, author, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.as_uuid())
    .bind(number)
    .bind(content.slug.clone())
    .bind(content.title.clone())
    .bind(content.summary.clone())
    .bind(content.body.clone())
    .bind(tags.to_owned())
    .bind(content.status.as_str().to_owned())
    .bind(content.publish_at)
    .bind(author.map(|a| a.as_uuid()))
    .bind(message.to_owned())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
