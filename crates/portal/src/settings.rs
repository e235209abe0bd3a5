//! The signed-in person's settings: notification preferences (channels in
//! order, per-kind mode, quiet hours, digest time, time zone, language),
//! webhook endpoints (a new secret is shown once; secrets rotate with an
//! overlap) and API keys (a new key is shown once; keys can be revoked).

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use fairgig_core::{api_key::Scope, audit::Actor, ids::ApiKeyId};
use fairgig_engine::{accounts, notifications, webhooks};
use fairgig_notify::{
    preferences::{ChannelAddress, Mode, Preferences, QuietHours},
    ChannelKind, NotificationKind,
};
use fairgig_store::{api_keys::ApiKey, notifications::WebhookEndpoint};
use serde::Deserialize;

use super::{
    accounts::FieldError,
    page::{
        check_csrf, path_id, render_with, require_sign_in, CsrfForm, LenientQuery, Page,
        PortalError,
    },
    session::Visitor,
};
use fairgig_http::ClientInfo;

use crate::PortalState;

/// The preferences form as typed: up to three channels in order.
#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    channel_1: String,
    #[serde(default)]
    address_1: String,
    #[serde(default)]
    channel_2: String,
    #[serde(default)]
    address_2: String,
    #[serde(default)]
    channel_3: String,
    #[serde(default)]
    address_3: String,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
    #[serde(default)]
    digest_at: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    locale: String,
    /// `mode_<kind>` → `instant`, `digest` or `off`, for each kind one may choose.
    #[serde(flatten)]
    modes: std::collections::BTreeMap<String, String>,
}

/// The kinds a person may deliver in a digest or switch off (security
/// notices and account links always go at once).
fn optional_kinds() -> impl Iterator<Item = NotificationKind> {
    NotificationKind::ALL.into_iter().filter(|kind| !kind.mandatory())
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Instant => "instant",
        Mode::Digest => "digest",
        Mode::Off => "off",
    }
}

impl PreferencesForm {
    fn from_preferences(preferences: &Preferences) -> Self {
        let channel = |i: usize| preferences.channels.get(i);
        let kind = |i: usize| channel(i).map(|c| c.channel.as_str().to_owned()).unwrap_or_default();
        let address = |i: usize| channel(i).map(|c| c.address.clone()).unwrap_or_default();
        PreferencesForm {
            channel_1: kind(0),
            address_1: address(0),
            channel_2: kind(1),
            address_2: address(1),
            channel_3: kind(2),
            address_3: address(2),
            quiet_start: preferences
                .quiet_hours
                .as_ref()
                .map(|q| q.start.clone())
                .unwrap_or_default(),
            quiet_end: preferences.quiet_hours.as_ref().map(|q| q.end.clone()).unwrap_or_default(),
            digest_at: preferences.digest_at.clone(),
            timezone: preferences.timezone.clone(),
            locale: preferences.locale.clone(),
            modes: optional_kinds()
                .map(|kind| {
                    (
                        format!("mode_{}", kind.as_str()),
                        mode_name(preferences.mode(kind)).to_owned(),
                    )
                })
                .collect(),
            ..PreferencesForm::default()
        }
    }

    /// The chosen mode of `kind`, as typed (`instant` when absent).
    fn mode_of(&self, kind: &str) -> &str {
        self.modes.get(&format!("mode_{kind}")).map_or("instant", String::as_str)
    }

    fn to_preferences(&self, t: &super::i18n::Messages) -> Result<Preferences, FieldError> {
        let mut channels = Vec::new();
        for (channel, address) in [
            (&self.channel_1, &self.address_1),
            (&self.channel_2, &self.address_2),
            (&self.channel_3, &self.address_3),
        ] {
            if channel.is_empty() {
                continue;
            }
            let kind = ChannelKind::parse(channel).ok_or_else(|| FieldError {
                field: "channels".into(),
                message: t.msg("settings-channel-invalid"),
            })?;
            channels.push(ChannelAddress { channel: kind, address: address.trim().to_owned() });
        }
        let quiet_hours = match (self.quiet_start.trim(), self.quiet_end.trim()) {
            ("", "") => None,
            (start, end) => Some(QuietHours { start: start.to_owned(), end: end.to_owned() }),
        };
        let mut kinds = std::collections::BTreeMap::new();
        for kind in optional_kinds() {
            let mode = match self.mode_of(kind.as_str()) {
                "instant" => Mode::Instant,
                "digest" => Mode::Digest,
                "off" => Mode::Off,
                _ => {
                    return Err(FieldError {
                        field: "kinds".into(),
                        message: t.msg("settings-mode-invalid"),
                    })
                }
            };
            if mode != Mode::Instant {
                kinds.insert(kind, mode);
            }
        }
        Ok(Preferences {
            channels,
            kinds,
            locale: self.locale.trim().to_owned(),
            timezone: self.timezone.trim().to_owned(),
            quiet_hours,
            digest_at: self.digest_at.trim().to_owned(),
        })
    }
}

#[derive(Template)]
#[template(path = "portal/settings.html")]
struct SettingsPage {
    page: Page,
    form: PreferencesForm,
    error: FieldError,
    keys: Vec<ApiKey>,
    /// A key just created: shown this once.
    new_key: String,
    notice: String,
    /// The three channel rows: (number, channel, address).
    rows: Vec<(usize, String, String)>,
    channel_kinds: Vec<&'static str>,
    /// The per-kind rows: (kind, chosen mode).
    kind_modes: Vec<(&'static str, String)>,
    webhooks: Vec<WebhookEndpoint>,
    /// A webhook secret just made (created or rotated): shown this once.
    new_secret: String,
}

/// What a settings page shows besides the stored settings: the form as
/// typed, its refusal, a key or secret shown once, a notice.
#[derive(Default)]
struct Shown {
    form: Option<PreferencesForm>,
    error: FieldError,
    new_key: String,
    new_secret: String,
    notice: String,
}

async fn settings_page(
    state: &PortalState,
    visitor: &Visitor,
    shown: Shown,
) -> Result<SettingsPage, PortalError> {
    let Shown { form, error, new_key, new_secret, notice } = shown;
    let failed = |err| PortalError::from_engine(visitor, err);
    let caller =
        visitor.caller.as_ref().ok_or_else(|| PortalError::new(visitor, StatusCode::FORBIDDEN))?;
    let form = match form {
        Some(form) => form,
        None => PreferencesForm::from_preferences(
            &notifications::preferences(&state.engine, caller).await.map_err(failed)?,
        ),
    };
    let keys = accounts::api_keys(&state.engine, caller).await.map_err(failed)?;
    let webhooks = webhooks::list(&state.engine, caller).await.map_err(failed)?;
    let kind_modes = optional_kinds()
        .map(|kind| (kind.as_str(), form.mode_of(kind.as_str()).to_owned()))
        .collect();
    let rows = vec![
        (1, form.channel_1.clone(), form.address_1.clone()),
        (2, form.channel_2.clone(), form.address_2.clone()),
        (3, form.channel_3.clone(), form.address_3.clone()),
    ];
    let channel_kinds = ChannelKind::ALL.iter().map(|kind| kind.as_str()).collect();
    Ok(SettingsPage {
        page: Page::new(visitor, "settings-title"),
        form,
        error,
        keys,
        new_key,
        notice,
        rows,
        channel_kinds,
        kind_modes,
        webhooks,
        new_secret,
    })
}

pub async fn show(
    State(state): State<PortalState>,
    visitor: Visitor,
    LenientQuery(query): LenientQuery<SettingsQuery>,
) -> Result<Response, PortalError> {
    require_sign_in(&visitor)?;
    let saved = query.saved.is_some();
    let notice = if saved { visitor.messages().msg("settings-saved") } else { String::new() };
    let page = settings_page(&state, &visitor, Shown { notice, ..Shown::default() }).await?;
    Ok(render_with(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn save_preferences(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<PreferencesForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let error = match form.to_preferences(&visitor.messages()) {
        Ok(preferences) => {
            match notifications::set_preferences(&state.engine, caller, preferences).await {
                Ok(_) => return Ok(Redirect::to("/settings?saved=1").into_response()),
                Err(err) => FieldError::from_engine(&visitor, err)?,
            }
        }
        Err(error) => error,
    };
    let page =
        settings_page(&state, &visitor, Shown { form: Some(form), error, ..Shown::default() })
            .await?;
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    read: Option<String>,
    #[serde(default)]
    write: Option<String>,
}

/// Creates an API key and shows it this once.
pub async fn create_key(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Form(form): Form<NewKeyForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let mut scopes = Vec::new();
    if form.read.is_some() {
        scopes.push(Scope::Read);
    }
    if form.write.is_some() {
        scopes.push(Scope::Write);
    }
    let created = accounts::create_api_key(
        &state.engine,
        &caller.user,
        &form.name,
        scopes,
        None,
        Actor::User(caller.user.id),
        client.context(),
    )
    .await;
    let (status, new_key, error) = match created {
        Ok(created) => (StatusCode::CREATED, created.api_key, FieldError::default()),
        Err(err) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            String::new(),
            FieldError::from_engine(&visitor, err)?,
        ),
    };
    let page =
        settings_page(&state, &visitor, Shown { error, new_key, ..Shown::default() }).await?;
    Ok(render_with(status, &page))
}

pub async fn revoke_key(
    State(state): State<PortalState>,
    visitor: Visitor,
    client: ClientInfo,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id: ApiKeyId = path_id(&visitor, &id)?;
    accounts::revoke_api_key(
        &state.engine,
        caller.user.id,
        id,
        Actor::User(caller.user.id),
        client.context(),
    )
    .await
    .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct NewWebhookForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    url: String,
}

/// Registers a webhook endpoint for every kind and shows its secret once.
pub async fn create_webhook(
    State(state): State<PortalState>,
    visitor: Visitor,
    Form(form): Form<NewWebhookForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let (status, shown) = match webhooks::create(&state.engine, caller, &form.url, &[]).await {
        Ok(endpoint) => {
            (StatusCode::CREATED, Shown { new_secret: endpoint.secret, ..Shown::default() })
        }
        Err(err) => {
            let mut error = FieldError::from_engine(&visitor, err)?;
            if error.field == "url" {
                error.field = "webhook_url".into();
            }
            (StatusCode::UNPROCESSABLE_ENTITY, Shown { error, ..Shown::default() })
        }
    };
    Ok(render_with(status, &settings_page(&state, &visitor, shown).await?))
}

/// A new secret for an endpoint (the old one signs for a day more), shown once.
pub async fn rotate_webhook(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id = path_id(&visitor, &id)?;
    let endpoint = webhooks::rotate_secret(&state.engine, caller, id, None)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    let shown = Shown { new_secret: endpoint.secret, ..Shown::default() };
    Ok(render_with(StatusCode::OK, &settings_page(&state, &visitor, shown).await?))
}

pub async fn delete_webhook(
    State(state): State<PortalState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let caller = require_sign_in(&visitor)?;
    check_csrf(&visitor, &form._csrf)?;
    let id = path_id(&visitor, &id)?;
    webhooks::delete(&state.engine, caller, id)
        .await
        .map_err(|err| PortalError::from_engine(&visitor, err))?;
    Ok(Redirect::to("/settings").into_response())
}
