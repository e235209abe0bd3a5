//! `/content`: the content service's pages over HTTP. Public reads of
//! published pages (`/content/published…`, no credential); admins and page
//! editors write, with every save a version (`/content/pages…`); admins
//! grant the editor permission (`/admin/page-editors/{user}`).

use axum::{extract::State, http::StatusCode, Json};
use fairgig_core::{
    content::{PageContent, PageStatus},
    ids::{PageId, UserId},
};
use fairgig_engine::pages::{self, NewPageInput, PageView, Published};
use fairgig_store::pages::{Page, PageFilter, PageVersion};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Authenticated,
    error::{ApiResult, ErrorBody},
    extractors::{AppJson, AppPath, AppQuery},
    state::AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_published))
        .routes(routes!(read_published))
        .routes(routes!(search_pages))
        .routes(routes!(list_pages, create_page))
        .routes(routes!(read_page, update_page))
        .routes(routes!(list_versions))
        .routes(routes!(read_version))
        .routes(routes!(restore_version))
        .routes(routes!(diff_versions))
        .routes(routes!(preview_page))
        .routes(routes!(upload_media))
        .routes(routes!(grant_editor, revoke_editor))
        // A page's file is the largest body here (pages are ≤ 200,000
        // characters).
        .layer(axum::extract::DefaultBodyLimit::max(pages::media::MAX_MEDIA_BYTES + 1024))
}

/// The fields every save writes, in both request bodies (spelled out in
/// each rather than flattened: a flattened struct defeats
/// `deny_unknown_fields` and makes the OpenAPI schema contradict itself).
macro_rules! page_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($extra)*
            /// 1–80 of a–z, 0–9 and inner single hyphens; unique per locale.
            slug: String,
            title: String,
            #[serde(default)]
            summary: String,
            /// Markdown (CommonMark with tables, footnotes, strikethrough, task lists).
            body: String,
            #[serde(default)]
            tags: Vec<String>,
            /// `draft` (default), `scheduled` (with `publish_at`), `published` or `archived`.
            #[serde(default = "draft")]
            status: PageStatus,
            /// When a scheduled page becomes public (RFC 3339).
            #[serde(default, with = "time::serde::rfc3339::option")]
            #[schema(value_type = Option<String>, format = DateTime)]
            publish_at: Option<OffsetDateTime>,
            /// What this version changed (at most 200 characters).
            #[serde(default)]
            message: String,
        }

        impl $name {
            fn content(&self) -> PageContent {
                PageContent {
                    slug: self.slug.clone(),
                    title: self.title.clone(),
                    summary: self.summary.clone(),
                    body: self.body.clone(),
                    tags: self.tags.clone(),
                    status: self.status,
                    publish_at: self.publish_at,
                }
            }
        }
    };
}

fn draft() -> PageStatus {
    PageStatus::Draft
}

page_fields! {
    /// A new page, or a translation of one.
    pub struct NewPageRequest {
        /// en, de, fr, es or cs.
        locale: String,
        /// Makes the new page this page's translation.
        translation_of: Option<PageId>,
    }
}

page_fields! {
    /// A save of a page.
    pub struct UpdatePageRequest {
        /// The version this edit started from; 409 if the page moved on.
        version: i64,
    }
}

#[derive(Serialize, ToSchema)]
pub struct PageBody {
    id: PageId,
    /// Pages that are translations of each other share it.
    #[schema(value_type = String, format = Uuid)]
    translation_group: uuid::Uuid,
    locale: String,
    slug: String,
    title: String,
    summary: String,
    body: String,
    tags: Vec<String>,
    status: PageStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    publish_at: Option<OffsetDateTime>,
    /// The current version: name it when saving.
    version: i64,
    author: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
}

impl From<Page> for PageBody {
    fn from(page: Page) -> Self {
        let c = page.content;
        PageBody {
            id: page.id,
            translation_group: page.group.as_uuid(),
            locale: page.locale,
            slug: c.slug,
            title: c.title,
            summary: c.summary,
            body: c.body,
            tags: c.tags,
            status: c.status,
            publish_at: c.publish_at,
            version: page.version,
            author: page.author,
            updated_at: page.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Translation {
    locale: String,
    slug: String,
}

fn translations(list: Vec<(String, String)>) -> Vec<Translation> {
    list.into_iter().map(|(locale, slug)| Translation { locale, slug }).collect()
}

#[derive(Serialize, ToSchema)]
pub struct PageViewBody {
    page: PageBody,
    /// Every locale of this page (itself included).
    translations: Vec<Translation>,
}

impl From<PageView> for PageViewBody {
    fn from(view: PageView) -> Self {
        PageViewBody { page: view.page.into(), translations: translations(view.translations) }
    }
}

/// A heading of a rendered page, for a table of contents.
#[derive(Serialize, ToSchema)]
pub struct HeadingBody {
    level: u8,
    text: String,
    anchor: String,
}

fn headings(list: Vec<fairgig_content::render::Heading>) -> Vec<HeadingBody> {
    list.into_iter()
        .map(|h| HeadingBody { level: h.level, text: h.text, anchor: h.anchor })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct PublishedBody {
    locale: String,
    slug: String,
    title: String,
    summary: String,
    tags: Vec<String>,
    /// The body as sanitized HTML.
    html: String,
    headings: Vec<HeadingBody>,
    /// Set when the page is shown in another locale than asked: a notice
    /// to show above it.
    fallback_notice: Option<String>,
    /// The public locales of this page.
    translations: Vec<Translation>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
}

impl From<Published> for PublishedBody {
    fn from(published: Published) -> Self {
        let fallback_notice = published.notice();
        let page = published.page;
        PublishedBody {
            locale: page.locale,
            slug: page.content.slug,
            title: page.content.title,
            summary: page.content.summary,
            tags: page.content.tags,
            html: published.html,
            headings: headings(published.headings),
            fallback_notice,
            translations: translations(published.translations),
            updated_at: page.updated_at,
        }
    }
}

/// A published page in a listing (no body).
#[derive(Serialize, ToSchema)]
pub struct PageSummary {
    id: PageId,
    locale: String,
    slug: String,
    title: String,
    summary: String,
    tags: Vec<String>,
    status: PageStatus,
    version: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: OffsetDateTime,
}

impl From<Page> for PageSummary {
    fn from(page: Page) -> Self {
        PageSummary {
            id: page.id,
            locale: page.locale,
            slug: page.content.slug,
            title: page.content.title,
            summary: page.content.summary,
            tags: page.content.tags,
            status: page.content.status,
            version: page.version,
            updated_at: page.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublishedQuery {
    /// en, de, fr, es or cs.
    locale: Option<String>,
    tag: Option<String>,
}

/// Published pages, newest change first (anyone).
#[utoipa::path(
    get, path = "/content/published", tag = "content", params(PublishedQuery),
    responses((status = 200, body = Vec<PageSummary>), (status = 422, body = ErrorBody))
)]
async fn list_published(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<PublishedQuery>,
) -> ApiResult<Json<Vec<PageSummary>>> {
    let filter = PageFilter { locale: query.locale, tag: query.tag, status: None };
    let pages = pages::list(&state.engine, None, filter).await?;
    Ok(Json(pages.into_iter().map(PageSummary::from).collect()))
}

/// A published page, rendered; a locale without it falls back to English
/// with a notice (anyone).
#[utoipa::path(
    get, path = "/content/published/{locale}/{slug}", tag = "content",
    params(("locale" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = PublishedBody), (status = 404, body = ErrorBody))
)]
async fn read_published(
    State(state): State<AppState>,
    AppPath((locale, slug)): AppPath<(String, String)>,
) -> ApiResult<Json<PublishedBody>> {
    Ok(Json(pages::published(&state.engine, &locale, &slug).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageSearchParams {
    /// Words to find (blank: the newest pages).
    #[serde(default)]
    q: String,
    /// en, de, fr, es or cs.
    locale: Option<String>,
    tag: Option<String>,
    /// 1–50 (default 10).
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct PageSearchHit {
    page: PageSummary,
    /// The fused score of the words' and the meaning's ranks.
    score: f64,
    /// Where the words matched.
    highlight: crate::routes::search::HighlightView,
    /// 1-based rank by words, and by meaning, where it had one.
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
}

/// Public pages found by words and meaning, best first (anyone).
#[utoipa::path(
    get, path = "/content/search", tag = "content", params(PageSearchParams),
    responses((status = 200, body = Vec<PageSearchHit>), (status = 422, body = ErrorBody))
)]
async fn search_pages(
    State(state): State<AppState>,
    AppQuery(params): AppQuery<PageSearchParams>,
) -> ApiResult<Json<Vec<PageSearchHit>>> {
    let query = fairgig_engine::search::PageSearchQuery {
        text: params.q,
        locale: params.locale,
        tag: params.tag,
        limit: params.limit.unwrap_or(10),
    };
    let hits = fairgig_engine::search::pages(&state.engine, &query).await?;
    Ok(Json(
        hits.into_iter()
            .map(|hit| PageSearchHit {
                page: hit.page.into(),
                score: hit.score,
                highlight: hit.highlight.into(),
                text_rank: hit.text_rank,
                vector_rank: hit.vector_rank,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PagesQuery {
    locale: Option<String>,
    /// draft, scheduled, published or archived.
    status: Option<PageStatus>,
    tag: Option<String>,
}

/// Every page in any state (admins and page editors).
#[utoipa::path(
    get, path = "/content/pages", tag = "content", params(PagesQuery),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = Vec<PageSummary>), (status = 403, body = ErrorBody))
)]
async fn list_pages(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppQuery(query): AppQuery<PagesQuery>,
) -> ApiResult<Json<Vec<PageSummary>>> {
    let filter = PageFilter { locale: query.locale, status: query.status, tag: query.tag };
    let pages = pages::list(&state.engine, Some(&caller), filter).await?;
    Ok(Json(pages.into_iter().map(PageSummary::from).collect()))
}

/// A new page at version 1, or a translation of one (admins and page editors).
#[utoipa::path(
    post, path = "/content/pages", tag = "content", request_body = NewPageRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, body = PageViewBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Slug taken in the locale, or the locale translated", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_page(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<NewPageRequest>,
) -> ApiResult<(StatusCode, Json<PageViewBody>)> {
    let input = NewPageInput {
        content: body.content(),
        locale: body.locale,
        translation_of: body.translation_of,
        message: body.message,
    };
    let view = pages::create(&state.engine, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// A page in any state (admins and page editors).
#[utoipa::path(
    get, path = "/content/pages/{id}", tag = "content",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = PageViewBody), (status = 403, body = ErrorBody))
)]
async fn read_page(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<PageId>,
) -> ApiResult<Json<PageViewBody>> {
    Ok(Json(pages::get(&state.engine, &caller, id).await?.into()))
}

/// Save a new version; refused with 409 when the page moved on from
/// `version` (admins and page editors).
#[utoipa::path(
    put, path = "/content/pages/{id}", tag = "content",
    params(("id" = String, Path, format = Uuid)), request_body = UpdatePageRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = PageViewBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Saved by someone else since `version`, or slug taken", body = ErrorBody),
    )
)]
async fn update_page(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<PageId>,
    AppJson(body): AppJson<UpdatePageRequest>,
) -> ApiResult<Json<PageViewBody>> {
    let view =
        pages::update(&state.engine, &caller, id, body.version, body.content(), &body.message)
            .await?;
    Ok(Json(view.into()))
}

#[derive(Serialize, ToSchema)]
pub struct VersionBody {
    version: i64,
    slug: String,
    title: String,
    summary: String,
    body: String,
    tags: Vec<String>,
    status: PageStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    publish_at: Option<OffsetDateTime>,
    author: Option<UserId>,
    message: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
}

impl From<PageVersion> for VersionBody {
    fn from(v: PageVersion) -> Self {
        VersionBody {
            version: v.version,
            slug: v.content.slug,
            title: v.content.title,
            summary: v.content.summary,
            body: v.content.body,
            tags: v.content.tags,
            status: v.content.status,
            publish_at: v.content.publish_at,
            author: v.author,
            message: v.message,
            created_at: v.created_at,
        }
    }
}

/// A page's history, oldest first (admins and page editors).
#[utoipa::path(
    get, path = "/content/pages/{id}/versions", tag = "content",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = Vec<VersionBody>), (status = 403, body = ErrorBody))
)]
async fn list_versions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<PageId>,
) -> ApiResult<Json<Vec<VersionBody>>> {
    let versions = pages::versions(&state.engine, &caller, id).await?;
    Ok(Json(versions.into_iter().map(VersionBody::from).collect()))
}

/// One version of a page (admins and page editors).
#[utoipa::path(
    get, path = "/content/pages/{id}/versions/{number}", tag = "content",
    params(("id" = String, Path, format = Uuid), ("number" = i64, Path)),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = VersionBody), (status = 403, body = ErrorBody))
)]
async fn read_version(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath((id, number)): AppPath<(PageId, i64)>,
) -> ApiResult<Json<VersionBody>> {
    Ok(Json(pages::version(&state.engine, &caller, id, number).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The page's current version, as for a save.
    version: i64,
}

/// Save an old version's content again as the newest version (admins and
/// page editors).
#[utoipa::path(
    post, path = "/content/pages/{id}/versions/{number}/restore", tag = "content",
    params(("id" = String, Path, format = Uuid), ("number" = i64, Path)),
    request_body = RestoreRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 200, body = PageViewBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Saved by someone else since `version`", body = ErrorBody),
    )
)]
async fn restore_version(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath((id, number)): AppPath<(PageId, i64)>,
    AppJson(body): AppJson<RestoreRequest>,
) -> ApiResult<Json<PageViewBody>> {
    Ok(Json(pages::restore(&state.engine, &caller, id, number, body.version).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DiffLineBody {
    /// " " kept, "-" removed, "+" added.
    change: String,
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DiffBody {
    from: i64,
    to: i64,
    /// Fields besides the body that differ.
    fields: Vec<String>,
    body: Vec<DiffLineBody>,
    /// The body's changes as a unified diff.
    unified: String,
}

/// What changed between two versions (admins and page editors).
#[utoipa::path(
    get, path = "/content/pages/{id}/diff", tag = "content",
    params(("id" = String, Path, format = Uuid), DiffQuery),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = DiffBody), (status = 403, body = ErrorBody))
)]
async fn diff_versions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(id): AppPath<PageId>,
    AppQuery(query): AppQuery<DiffQuery>,
) -> ApiResult<Json<DiffBody>> {
    let diff = pages::diff(&state.engine, &caller, id, (query.from, query.to)).await?;
    Ok(Json(DiffBody {
        from: diff.from,
        to: diff.to,
        fields: diff.fields.into_iter().map(str::to_owned).collect(),
        body: diff
            .body
            .into_iter()
            .map(|line| DiffLineBody { change: line.change.to_string(), text: line.text })
            .collect(),
        unified: diff.unified,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Markdown.
    body: String,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewBody {
    html: String,
    headings: Vec<HeadingBody>,
    /// The bias check's findings on the text (as `/bias/check` gives them).
    #[schema(value_type = Object)]
    hints: serde_json::Value,
}

/// Render a draft and check its language, for the editor's live preview
/// (admins and page editors).
#[utoipa::path(
    post, path = "/content/preview", tag = "content", request_body = PreviewRequest,
    security(("bearer" = []), ("api_key" = ["write"])),
    responses((status = 200, body = PreviewBody), (status = 403, body = ErrorBody))
)]
async fn preview_page(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppJson(body): AppJson<PreviewRequest>,
) -> ApiResult<Json<PreviewBody>> {
    let preview = pages::preview(&state.engine, &caller, &body.body).await?;
    Ok(Json(PreviewBody {
        html: preview.html,
        headings: headings(preview.headings),
        hints: serde_json::to_value(&preview.hints)
            .map_err(|err| anyhow::anyhow!("serializing a bias report: {err}"))?,
    }))
}

/// Let a user write pages (admins).
#[utoipa::path(
    put, path = "/admin/page-editors/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses((status = 204), (status = 403, body = ErrorBody))
)]
async fn grant_editor(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(user): AppPath<UserId>,
) -> ApiResult<StatusCode> {
    pages::grant_editor(&state.engine, &caller, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take the permission to write pages back (admins).
#[utoipa::path(
    delete, path = "/admin/page-editors/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = []), ("api_key" = ["admin"])),
    responses((status = 204), (status = 403, body = ErrorBody))
)]
async fn revoke_editor(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    AppPath(user): AppPath<UserId>,
) -> ApiResult<StatusCode> {
    pages::revoke_editor(&state.engine, &caller, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MediaBody {
    /// `<sha256>.<ext>`.
    name: String,
    /// Where pages link it (`/media/<name>`).
    url: String,
    content_type: String,
    bytes: usize,
    /// The Markdown that shows it on a page.
    markdown: String,
}

/// Store an image (PNG, JPEG, GIF, WebP) or a PDF for pages, named by its
/// content; the body is the file (admins and page editors).
#[utoipa::path(
    post, path = "/content/media", tag = "content",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = []), ("api_key" = ["write"])),
    responses(
        (status = 201, body = MediaBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG, GIF, WebP or PDF", body = ErrorBody),
    )
)]
async fn upload_media(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<MediaBody>)> {
    let media = pages::media::upload(&state.engine, &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(MediaBody {
            url: format!("/media/{}", media.name),
            markdown: media.markdown("image"),
            content_type: media.content_type.to_owned(),
            bytes: media.bytes,
            name: media.name,
        }),
    ))
}
