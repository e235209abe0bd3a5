//! What the operator does: list and manage users, read the audit log and
//! check its hash chain, re-drive dead tasks, read the notification log and
//! re-send deliveries, preview message templates. Admins only; every change
//! is audited.

use std::collections::BTreeMap;

use fairgig_core::{
    audit::{actions, Actor, AuditEntry, NewAuditEntry, RequestContext},
    ids::{NotificationId, RunId, TaskId, UserId},
    user::{Role, User},
    work::NotificationStatus,
    ValidationError,
};
use fairgig_notify::{
    template::{sample_context, DEFAULT_LOCALE},
    ChannelKind, NotificationKind,
};
use fairgig_store::{
    audit::{AuditFilter, AuditVerification},
    notifications::Notification,
    tasks::DeadTask,
};
use serde_json::{json, Value};

use crate::{Caller, Engine, Error, Result};

/// Audited when an admin re-drives a dead task.
pub const TASK_REDRIVEN: &str = "task.redriven";
/// The newest dead tasks listed.
const DEAD_LISTED: u32 = 200;

/// Users in creation order after `after`, and whether more follow.
pub async fn users(
    engine: &Engine,
    caller: &Caller,
    after: Option<UserId>,
    limit: u32,
) -> Result<(Vec<User>, bool)> {
    caller.require_admin()?;
    // One more than asked tells whether another page exists.
    let mut users = engine.store.list_users(after, limit + 1).await?;
    let more = users.len() > limit as usize;
    users.truncate(limit as usize);
    Ok((users, more))
}

/// An admin changes a user's role.
pub async fn set_role(
    engine: &Engine,
    caller: &Caller,
    user: UserId,
    role: Role,
    context: RequestContext,
) -> Result<User> {
    caller.require_admin()?;
    crate::accounts::set_role(engine, user, role, Actor::User(caller.user.id), context).await
}

/// An admin disables a user (never themself: someone must stay to undo it).
pub async fn disable_user(
    engine: &Engine,
    caller: &Caller,
    user: UserId,
    context: RequestContext,
) -> Result<User> {
    caller.require_admin()?;
    if user == caller.user.id {
        return Err(Error::conflict("admins cannot disable themselves"));
    }
    crate::accounts::disable_user(engine, user, Actor::User(caller.user.id), context).await
}

/// Audit entries, newest first, and whether older ones follow.
pub async fn audit(
    engine: &Engine,
    caller: &Caller,
    filter: &AuditFilter,
    limit: u32,
) -> Result<(Vec<AuditEntry>, bool)> {
    caller.require_admin()?;
    let mut entries = engine.store.list_audit(filter, limit + 1).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    Ok((entries, more))
}

/// Walks the whole hash chain: every entry's hash, link and sequence.
pub async fn verify_audit(engine: &Engine, caller: &Caller) -> Result<AuditVerification> {
    caller.require_admin()?;
    Ok(engine.store.verify_audit().await?)
}

pub async fn dead_letters(engine: &Engine, caller: &Caller) -> Result<Vec<DeadTask>> {
    caller.require_admin()?;
    Ok(engine.store.dead_tasks(DEAD_LISTED).await?)
}

/// A dead task put back with fresh attempts; for a pipeline step, the run
/// it continues and the step.
#[derive(Debug)]
pub struct Redriven {
    pub task: TaskId,
    pub run: Option<RunId>,
    pub step: Option<String>,
}

pub async fn retry_dead_letter(
    engine: &Engine,
    caller: &Caller,
    id: TaskId,
    context: RequestContext,
) -> Result<Redriven> {
    caller.require_admin()?;
    let redriven = match engine.store.retry_dead_task(id).await? {
        Some(step) => Redriven { task: id, run: Some(step.run), step: Some(step.step) },
        None => Redriven { task: id, run: None, step: None },
    };
    engine.wake.notify_one();
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), TASK_REDRIVEN)
                .target(format!("task:{id}"))
                .context(context),
        )
        .await?;
    Ok(redriven)
}

/// Every user's deliveries, newest first, optionally in one status;
/// messages with a one-time account link are blanked.
pub async fn notification_log(
    engine: &Engine,
    caller: &Caller,
    status: Option<&str>,
    limit: u32,
) -> Result<Vec<Notification>> {
    caller.require_admin()?;
    let status = status
        .map(|status| {
            status
                .parse::<NotificationStatus>()
                .map_err(|_| ValidationError::new("status", "must be a delivery status"))
        })
        .transpose()?;
    let mut listed = engine.store.notification_log(status, limit).await?;
    crate::notifications::hide_account_links(&mut listed);
    Ok(listed)
}

/// Puts a dead or failed delivery back in the queue with fresh attempts.
pub async fn retry_notification(
    engine: &Engine,
    caller: &Caller,
    id: NotificationId,
    context: RequestContext,
) -> Result<()> {
    caller.require_admin()?;
    engine.store.retry_notification(id).await?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(Actor::User(caller.user.id), actions::NOTIFICATION_RETRIED)
                .target(format!("notification:{id}"))
                .context(context),
        )
        .await?;
    Ok(())
}

/// A kind's templates rendered with sample values.
#[derive(Debug)]
pub struct TemplatePreview {
    pub kind: NotificationKind,
    pub locale: String,
    /// Locales this kind has its own templates in.
    pub locales: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What each chat-like channel gets (`telegram`, `sms`, `slack`).
    pub channels: BTreeMap<String, String>,
    /// The sample values rendered.
    pub context: Value,
}

pub fn preview_template(
    engine: &Engine,
    caller: &Caller,
    kind: &str,
    locale: Option<&str>,
) -> Result<TemplatePreview> {
    caller.require_admin()?;
    let kind = NotificationKind::parse(kind).ok_or_else(Error::not_found)?;
    let locale = locale.unwrap_or(DEFAULT_LOCALE).to_owned();
    if locale.len() > 10 || !locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ValidationError::new("locale", "a language tag such as `en`").into());
    }
    let mut context = sample_context(kind);
    context["public_url"] = json!(engine.settings.notifications.public_url);
    let templates = engine.notifier.templates();
    let failed = |err| Error::internal(err, "rendering a template preview");
    let rendered = templates.render(kind, &locale, &context).map_err(failed)?;
    let mut channels = BTreeMap::new();
    for channel in [ChannelKind::Telegram, ChannelKind::Sms, ChannelKind::Slack] {
        let rendered = templates.render_for(kind, channel, &locale, &context).map_err(failed)?;
        channels.insert(channel.as_str().to_owned(), rendered.text);
    }
    Ok(TemplatePreview {
        kind,
        locales: templates.locales(kind).into_iter().map(str::to_owned).collect(),
        locale,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        channels,
        context,
    })
}
