//! The pages' editor, for admins and page editors: every page in any
//! state (`/admin/pages`), a form to write one with a live preview and the
//! bias check's hints as you type (`/admin/pages/new`, `/admin/pages/{id}`),
//! its history with the changes between versions and a restore button.
//! Each handler parses the form and calls one use case of
//! [`fairgig_engine::pages`].

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::{
    content::{PageContent, PageStatus, LOCALES},
    ids::PageId,
};
use fairgig_engine::pages::{self, DiffLine, NewPageInput};
use fairgig_store::pages::{Page as StoredPage, PageFilter, PageVersion};
use serde::Deserialize;
use time::{format_description::well_known::Rfc3339, OffsetDateTime, PrimitiveDateTime};

use crate::{
    accounts::FieldError,
    jobs::Findings,
    page::{check_csrf, path_id, render, render_with, require_sign_in, Page, PortalError},
    session::Visitor,
    PortalState,
};

/// The states a page can be put in, in the form's order.
const STATUSES: [&str; 4] = ["draft", "scheduled", "published", "archived"];

#[derive(Template)]
#[template(path = "portal/pages.html")]
struct PagesList {
    page: Page,
    pages: Vec<StoredPage>,
}

/// Every page, newest change first.
pub async fn list(
    State(state): State<PortalState>,
    visitor: Visitor,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let pages = pages::list(&state.engine, Some(caller), PageFilter::default())
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(render(&PagesList { page: Page::new(&visitor, "pages-title"), pages }))
}

/// The form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    translation_of: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    body: String,
    /// Comma-separated.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    status: String,
    /// `datetime-local` (UTC), for a scheduled page.
    #[serde(default)]
    publish_at: String,
    #[serde(default)]
    message: String,
}

impl PageForm {
    /// The content the form describes; a field the form cannot read is
    /// refused with its name, as the engine would.
    fn content(&self) -> Result<PageContent, fairgig_core::ValidationError> {
        let status: PageStatus = self.status.parse()?;
        let publish_at = match self.publish_at.trim() {
            "" => None,
            typed => Some(parse_local(typed).ok_or_else(|| {
                fairgig_core::ValidationError::new(
                    "publish_at",
                    "a date and time, like 2027-01-31T09:00",
                )
            })?),
        };
        Ok(PageContent {
            slug: self.slug.trim().to_owned(),
            title: self.title.trim().to_owned(),
            summary: self.summary.trim().to_owned(),
            body: self.body.replace("\r\n", "\n"),
            tags: self
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            status,
            // Only a scheduled page keeps its time.
            publish_at: publish_at.filter(|_| status == PageStatus::Scheduled),
        })
    }

    fn of(page: &StoredPage) -> PageForm {
        let c = &page.content;
        PageForm {
            locale: page.locale.clone(),
            version: page.version.to_string(),
            slug: c.slug.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            body: c.body.clone(),
            tags: c.tags.join(", "),
            status: c.status.as_str().to_owned(),
            publish_at: c.publish_at.map(format_local).unwrap_or_default(),
            ..PageForm::default()
        }
    }
}

/// `2027-01-31T09:00` (a `datetime-local` value, read as UTC).
fn parse_local(typed: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(typed, &Rfc3339) {
        return Some(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    PrimitiveDateTime::parse(typed, &format).ok().map(PrimitiveDateTime::assume_utc)
}

fn format_local(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[derive(Template)]
#[template(path = "portal/page_edit.html")]
struct PageEditor {
    page: Page,
    form: PageForm,
    error: FieldError,
    /// Where the form posts: `/admin/pages/new` or `/admin/pages/{id}`.
    action: String,
    locales: [&'static str; 5],
    statuses: [&'static str; 4],
    /// Editing an existing page: its history and translations.
    versions: Vec<PageVersion>,
    translations: Vec<(String, String)>,
    id: String,
    /// The page shows "saved" once after a save.
    saved: bool,
    /// After an upload: the Markdown that shows the file.
    uploaded: String,
}

impl PageEditor {
    fn new(page: Page, form: PageForm, action: String) -> Self {
        PageEditor {
            page,
            form,
            error: FieldError::default(),
            action,
            locales: LOCALES,
            statuses: STATUSES,
            versions: Vec::new(),
            translations: Vec::new(),
            id: String::new(),
            saved: false,
            uploaded: String::new(),
        }
    }

    fn editing(&self) -> bool {
        !self.id.is_empty()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// Start a translation of this page.
    #[serde(default)]
    translation_of: String,
}

/// An empty form (or one for a translation of a page).
pub async fn new_form(
    State(state): State<PortalState>,
    visitor: Visitor,
    Query(query): Query<NewQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    pages::require_editor(&state.engine, caller)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let form = PageForm {
        locale: visitor.locale.tag().to_owned(),
        status: "draft".to_owned(),
        translation_of: query.translation_of,
        ..PageForm::default()
    };
    let page = Page::new(&visitor, "pages-new").with_htmx();
    Ok(render(&PageEditor::new(page, form, "/admin/pages/new".to_owned())))
}

pub async fn create(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<PageForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let attempt = match (form.content(), form.translation_of.trim()) {
        (Err(invalid), _) => Err(invalid.into()),
        (Ok(content), translation_of) => {
            let translation_of = match translation_of {
                "" => None,
                id => Some(path_id::<PageId>(&visitor, id)?),
            };
            let input = NewPageInput {
                locale: form.locale.clone(),
                content,
                translation_of,
                message: form.message.clone(),
            };
            pages::create(&state.engine, caller, input).await
        }
    };
    match attempt {
        Ok(view) => {
            Ok(Redirect::to(&format!("/admin/pages/{}?saved=1", view.page.id)).into_response())
        }
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let page = Page::new(&visitor, "pages-new").with_htmx();
            let mut editor = PageEditor::new(page, form, "/admin/pages/new".to_owned());
            editor.error = error;
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &editor))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    saved: Option<String>,
    /// A file just uploaded: its name under `/media/`.
    #[serde(default)]
    media: Option<String>,
}

async fn editor_for(
    state: &PortalState,
    visitor: &Visitor,
    id: PageId,
    form: Option<PageForm>,
) -> Result<PageEditor, PortalError> {
    let caller = require_sign_in(visitor)?;
    let failed = |err| PortalError::from_engine(visitor, err);
    let view = pages::get(&state.engine, caller, id).await.map_err(failed)?;
    let mut versions = pages::versions(&state.engine, caller, id).await.map_err(failed)?;
    versions.reverse();
    let mut form = form.unwrap_or_else(|| PageForm::of(&view.page));
    form.locale = view.page.locale.clone();
    let page = Page::new(visitor, "pages-edit").with_htmx();
    let mut editor = PageEditor::new(page, form, format!("/admin/pages/{id}"));
    editor.versions = versions;
    editor.translations = view.translations;
    editor.id = id.to_string();
    Ok(editor)
}

/// The editor again, with a refusal beside its field and `form` as typed
/// (`None`: the page as saved).
async fn refused(
    state: &PortalState,
    visitor: &Visitor,
    id: PageId,
    form: Option<PageForm>,
    (error, status): (FieldError, StatusCode),
) -> Result<Response, PortalError> {
    let mut editor = editor_for(state, visitor, id, form).await?;
    editor.error = error;
    Ok(render_with(status, &editor))
}

/// The form filled with the page's current version, and its history.
pub async fn edit_form(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, PortalError> {
    let id: PageId = path_id(&visitor, &id)?;
    let mut editor = editor_for(&state, &visitor, id, None).await?;
    editor.saved = query.saved.is_some();
    if let Some(name) = query.media.filter(|name| pages::media::content_type_of(name).is_some()) {
        let image = pages::media::content_type_of(&name).is_some_and(|t| t.starts_with("image/"));
        editor.uploaded =
            if image { format!("![](/media/{name})") } else { format!("[](/media/{name})") };
    }
    Ok(render(&editor))
}

/// Saves a new version; someone else's save since is refused beside the
/// form, with what was typed kept.
pub async fn save(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<PageForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: PageId = path_id(&visitor, &id)?;
    let attempt = match (form.content(), form.version.trim().parse::<i64>()) {
        (Err(invalid), _) => Err(invalid.into()),
        (_, Err(_)) => Err(fairgig_core::ValidationError::new("version", "reload the page").into()),
        (Ok(content), Ok(version)) => {
            pages::update(&state.engine, caller, id, version, content, &form.message).await
        }
    };
    match attempt {
        Ok(_) => Ok(Redirect::to(&format!("/admin/pages/{id}?saved=1")).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            let status = if error.field == "version" {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            refused(&state, &visitor, id, Some(form), (error, status)).await
        }
    }
}

#[derive(Template)]
#[template(path = "portal/page_preview.html")]
struct Preview {
    html: String,
    findings_html: String,
}

/// `POST /admin/pages/preview` (htmx): the page as it will look and the
/// bias check's hints on its text.
pub async fn preview(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<PageForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let preview = pages::preview(&state.engine, caller, &form.body)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let findings = Findings::of(Page::new(&visitor, "pages-edit"), &form.body, Some(preview.hints));
    let findings_html = findings.render().map_err(|err| {
        tracing::error!(error = %err, "the findings fragment failed to render");
        PortalError::new(&visitor, StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    Ok(render(&Preview { html: preview.html, findings_html }))
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

#[derive(Template)]
#[template(path = "portal/page_diff.html")]
struct DiffPage {
    page: Page,
    id: String,
    from: i64,
    to: i64,
    fields: Vec<&'static str>,
    lines: Vec<DiffLine>,
}

/// What changed between two versions.
pub async fn diff(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let id: PageId = path_id(&visitor, &id)?;
    let diff = pages::diff(&state.engine, caller, id, (query.from, query.to))
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(render(&DiffPage {
        page: Page::new(&visitor, "pages-diff"),
        id: id.to_string(),
        from: diff.from,
        to: diff.to,
        fields: diff.fields,
        lines: diff.body,
    }))
}

#[derive(Debug, Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    version: String,
}

/// Saves an old version again as the newest.
pub async fn restore(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path((id, number)): Path<(String, i64)>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: PageId = path_id(&visitor, &id)?;
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| PortalError::new(&visitor, StatusCode::BAD_REQUEST))?;
    match pages::restore(&state.engine, caller, id, number, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/pages/{id}?saved=1")).into_response()),
        Err(err) => {
            let error = FieldError::from_engine(&visitor, err)?;
            refused(&state, &visitor, id, None, (error, StatusCode::CONFLICT)).await
        }
    }
}

/// Uploads a file for the page being edited (multipart: `_csrf`, `file`)
/// and returns to it with the Markdown that shows the file.
pub async fn upload(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    let id: PageId = path_id(&visitor, &id)?;
    let bad_request = || PortalError::new(&visitor, StatusCode::BAD_REQUEST);
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(field) = multipart.next_field().await.map_err(|_| bad_request())? {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = field.text().await.map_err(|_| bad_request())?,
            "file" => file = Some(field.bytes().await.map_err(|_| bad_request())?),
            _ => return Err(bad_request()),
        }
    }
    check_csrf(&visitor, &csrf)?;
    let attempt = match file.filter(|bytes| !bytes.is_empty()) {
        Some(bytes) => pages::media::upload(&state.engine, caller, bytes).await,
        None => Err(fairgig_core::ValidationError::new("file", "choose a file").into()),
    };
    match attempt {
        Ok(media) => {
            Ok(Redirect::to(&format!("/admin/pages/{id}?media={}#media", media.name))
                .into_response())
        }
        Err(err) => {
            let mut error = FieldError::from_engine(&visitor, err)?;
            error.field = "file".to_owned();
            refused(&state, &visitor, id, None, (error, StatusCode::UNPROCESSABLE_ENTITY)).await
        }
    }
}

/// `/media/<name>`: a page's image or attachment, for anyone. Named by
/// its content, so it never changes: cached for a year. Served under a
/// policy that runs nothing; a PDF is a download.
pub async fn serve_media(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(name): Path<String>,
) -> Result<Response, PortalError> {
    let (bytes, content_type) = pages::media::open(&state.engine, &name)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let disposition = if content_type.starts_with("image/") { "inline" } else { "attachment" };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition)),
    ];
    Ok((headers, bytes).into_response())
}
