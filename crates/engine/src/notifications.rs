//! Glue from what happens in fairgig to the notification dispatcher:
//! building it from the settings, announcing finished runs, and the
//! background tasks every worker-running process starts.
//!
//! Run outcomes are announced by polling for finished runs not yet marked
//! `notified_at`, rather than from inside a step: a failed run has no step
//! left to run, and a poll survives a crash (a run is marked only after its
//! messages are enqueued, and enqueueing twice is a no-op by dedupe key).

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use fairgig_core::{
    config::NotificationSettings,
    ids::UserId,
    submission::{RunStatus, StepStatus},
};
use fairgig_notify::{
    channel::{
        email::EmailChannel, sms::SmsChannel, telegram::TelegramChannel, webhook::WebhookChannel,
    },
    dispatch::{Channels, DispatchConfig, DispatchError, Dispatcher, Event},
    guard::AddressPolicy,
    template::Templates,
    NotificationKind,
};
use fairgig_store::{
    announcements::Announcement, notifications::FinishedRun, submissions::Submission, Store,
    StoreError,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::steps::{
    outputs::{Briefed, Matched, Offered, Prototyped, Published},
    MATCH,
};
use fairgig_pipeline::StepOutput;

/// Matched freelancers invited per job.
const INVITATIONS_PER_JOB: usize = 5;
/// How often finished runs are looked for.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(500);

/// The dispatcher for these settings; fails on a bad SMTP URL or allow-list.
pub fn dispatcher(store: Store, settings: &NotificationSettings) -> anyhow::Result<Dispatcher> {
    let email = match (&settings.smtp_url, &settings.smtp_ca_file) {
        (None, _) => None,
        (Some(url), None) => Some(EmailChannel::new(url.expose_secret(), &settings.smtp_from)?),
        (Some(url), Some(path)) => {
            let pem = std::fs::read(path).with_context(|| {
                format!("reading notifications.smtp_ca_file {}", path.display())
            })?;
            Some(EmailChannel::trusting(url.expose_secret(), &settings.smtp_from, &pem)?)
        }
    };
    // One timeout for every HTTP provider: a hanging one must not hold a sender.
    let timeout = Duration::from_secs(settings.webhook_timeout_secs.max(1));
    let policy = AddressPolicy::new(&settings.webhook_allow)?;
    let webhook = WebhookChannel::new(policy, timeout).context("building the webhook client")?;
    let telegram = settings
        .telegram_bot_token
        .clone()
        .map(|token| TelegramChannel::new(&settings.telegram_base_url, token, timeout))
        .transpose()
        .context("building the Telegram client")?;
    let sms = match (&settings.sms_account_sid, &settings.sms_auth_token) {
        (Some(sid), Some(token)) => {
            anyhow::ensure!(
                !settings.sms_from.is_empty(),
                "notifications.sms_from is required with an SMS account"
            );
            Some(
                SmsChannel::new(
                    &settings.sms_base_url,
                    sid,
                    token.clone(),
                    &settings.sms_from,
                    timeout,
                )
                .context("building the SMS client")?,
            )
        }
        (None, None) => None,
        _ => anyhow::bail!("notifications.sms_account_sid and sms_auth_token go together"),
    };
    let templates = Templates::new().context("compiling the notification templates")?;
    let config = DispatchConfig {
        retry_delays: settings.retry_delays_secs.iter().map(|s| Duration::from_secs(*s)).collect(),
        public_url: settings.public_url.trim_end_matches('/').to_owned(),
        ..DispatchConfig::default()
    };
    Ok(Dispatcher::new(store, templates, Channels { email, webhook, telegram, sms }, config))
}

/// Starts sending and announcing until `stop`. Runs this process's worker
/// finishes are announced at once (`runs_finished`); the poll finds the
/// rest (other processes' runs, and any missed in a crash).
pub fn spawn(
    store: Store,
    dispatcher: Arc<Dispatcher>,
    announcement_grace: Duration,
    runs_finished: Arc<Notify>,
    tasks: &mut tokio::task::JoinSet<()>,
    stop: CancellationToken,
) {
    tasks.spawn(Arc::clone(&dispatcher).run(stop.clone()));
    // Announcements are left behind only by a crash or a lost connection:
    // looking once per grace period (at most once a second) is enough, not
    // at every poll for finished runs.
    let sweep_every = announcement_grace.max(Duration::from_secs(1));
    tasks.spawn(async move {
        let mut last_sweep: Option<std::time::Instant> = None;
        while !stop.is_cancelled() {
            if let Err(err) = announce_finished_runs(&store, &dispatcher).await {
                tracing::warn!(error = %err, "announcing finished runs failed; will retry");
            }
            if last_sweep.is_none_or(|at| at.elapsed() >= sweep_every) {
                last_sweep = Some(std::time::Instant::now());
                let before = time::OffsetDateTime::now_utc() - announcement_grace;
                match sweep_announcements(&store, &dispatcher, before).await {
                    Ok(0) => {}
                    Ok(count) => {
                        metrics::counter!("fairgig_announcements_swept_total")
                            .increment(count as u64);
                        tracing::info!(count, "delivered announcements a request had left behind");
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "sweeping announcements failed; will retry")
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = runs_finished.notified() => {}
                () = tokio::time::sleep(ANNOUNCE_EVERY) => {}
            }
        }
    });
}

/// Hands one announcement to the dispatcher, then forgets it (if the
/// process dies in between, the next delivery is a no-op by dedupe key).
pub async fn deliver_announcement(
    store: &Store,
    dispatcher: &Dispatcher,
    announcement: Announcement,
) -> Result<(), DispatchError> {
    let Announcement { id, new, .. } = announcement;
    match NotificationKind::parse(&new.kind) {
        Some(kind) => {
            notify_user(store, dispatcher, new.user, kind, new.source, new.context).await?
        }
        // Written by a newer version that knows more kinds: not ours to drop.
        None => {
            tracing::warn!(kind = %new.kind, "announcement of an unknown kind left for a newer version");
            return Ok(());
        }
    }
    store.delete_announcement(id).await?;
    Ok(())
}

/// Delivers what `source` announced and is still undelivered: right after
/// the commit that wrote it, and again on a replay of the same request.
/// A failure is logged, not returned: the change itself is committed and
/// the worker's sweep delivers what is left.
pub async fn deliver_announcements_from(engine: &crate::Engine, source: &str) {
    let delivered = async {
        for announcement in engine.store.announcements_from(source).await? {
            deliver_announcement(&engine.store, &engine.notifier, announcement).await?;
        }
        Ok::<_, DispatchError>(())
    };
    if let Err(err) = delivered.await {
        tracing::warn!(error = %err, source, "announcement left for the sweep");
    }
}

/// Delivers announcements written before `before` that nobody delivered
/// (the request's process died or lost its database after the commit);
/// returns how many.
pub async fn sweep_announcements(
    store: &Store,
    dispatcher: &Dispatcher,
    before: time::OffsetDateTime,
) -> Result<usize, DispatchError> {
    let left = store.announcements_before(before, 100).await?;
    let count = left.len();
    for announcement in left {
        deliver_announcement(store, dispatcher, announcement).await?;
    }
    Ok(count)
}

/// Tells owners their run finished (or why it failed) and invites the
/// top matched freelancers; returns how many runs were announced.
pub async fn announce_finished_runs(
    store: &Store,
    dispatcher: &Dispatcher,
) -> Result<usize, DispatchError> {
    let runs = store.runs_to_notify(50).await?;
    for finished in &runs {
        match store.get_submission(finished.submission).await {
            Ok(submission) => announce(store, dispatcher, finished, &submission).await?,
            // Deleted meanwhile: nobody to tell.
            Err(StoreError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }
        store.mark_run_notified(finished.run).await?;
    }
    Ok(runs.len())
}

async fn announce(
    store: &Store,
    dispatcher: &Dispatcher,
    finished: &FinishedRun,
    submission: &Submission,
) -> Result<(), DispatchError> {
    let source = format!("run/{}", finished.run);
    let mut context = json!({
        "submission": {"id": submission.id, "kind": submission.kind, "title": submission.title},
    });
    if finished.status == RunStatus::Failed {
        let run = store.run_of_submission(submission.id).await?;
        let failed = run.steps.iter().find(|step| step.status == StepStatus::Failed);
        context["failed_step"] = json!(failed.map(|step| step.name.as_str()).unwrap_or("unknown"));
        context["error"] = json!(failed.and_then(|step| step.error.as_deref()).unwrap_or(""));
        return notify_user(
            store,
            dispatcher,
            submission.owner,
            NotificationKind::RunFailed,
            source,
            context,
        )
        .await;
    }
    let outputs = store.step_outputs(finished.run).await?;
    // A stored output that no longer reads is announced as absent, not
    // retried forever.
    let published = Published::read(&outputs).ok().flatten();
    let matched = Matched::read(&outputs).ok().flatten();
    let job = published
        .as_ref()
        .and_then(Published::job)
        .map(|(id, status)| json!({"id": id, "status": status, "title": submission.title}));
    if let (Some(job), Some(fields)) = (&job, context.as_object_mut()) {
        fields.insert("job".to_owned(), job.clone());
    }
    let matches = matched.as_ref().map(Matched::matches).unwrap_or_default();
    context["matches"] = json!(matches.len());
    if let Some(briefed) = Briefed::read(&outputs).ok().flatten() {
        context["brief"] = json!({
            "deliverables": briefed.brief.deliverables.len(),
            "questions": briefed.brief.open_questions.iter().take(3).collect::<Vec<_>>(),
        });
    }
    if let Some(Prototyped::Page { path, .. }) = Prototyped::read(&outputs).ok().flatten() {
        context["prototype"] = json!(path);
    }
    if let Some(Offered::Offer { offer, .. }) = Offered::read(&outputs).ok().flatten() {
        let money = |minor: i64| format!("{:.2}", minor as f64 / 100.0);
        let tiers: Vec<Value> = offer
            .tiers
            .iter()
            .map(|tier| {
                json!({
                    "name": tier.name.as_str(),
                    "low": money(tier.price_low_minor),
                    "high": money(tier.price_high_minor),
                })
            })
            .collect();
        context["offer"] = json!({"currency": offer.currency, "tiers": tiers});
    }
    notify_user(
        store,
        dispatcher,
        submission.owner,
        NotificationKind::RunCompleted,
        source.clone(),
        context.clone(),
    )
    .await?;
    for found in matches.iter().take(INVITATIONS_PER_JOB) {
        let invitation = json!({
            "job": job,
            "rank": found.rank,
            "strengths": found.strengths,
        });
        notify_user(
            store,
            dispatcher,
            found.freelancer,
            NotificationKind::JobMatchInvitation,
            format!("{source}/{MATCH}"),
            invitation,
        )
        .await?;
    }
    Ok(())
}

/// For request handlers: records the notification, and logs (rather than
/// fails the request) when it cannot: what the user did has happened.
pub async fn announce_from_request(
    engine: &crate::Engine,
    user: UserId,
    kind: NotificationKind,
    source: String,
    context: Value,
) {
    if let Err(err) =
        notify_user(&engine.store, &engine.notifier, user, kind, source, context).await
    {
        tracing::warn!(error = %err, kind = kind.as_str(), "could not record a notification");
    }
}

/// Sends `kind` to `user` (a user deleted meanwhile is skipped).
pub async fn notify_user(
    store: &Store,
    dispatcher: &Dispatcher,
    user: UserId,
    kind: NotificationKind,
    source: String,
    context: Value,
) -> Result<(), DispatchError> {
    let account = match store.get_user(user).await {
        Ok(account) => account,
        Err(StoreError::NotFound) => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    if account.disabled_at.is_some() {
        return Ok(());
    }
    let event = Event {
        user,
        email: account.email,
        recipient_name: account.display_name,
        kind,
        source,
        context,
    };
    match dispatcher.notify(event).await {
        Ok(_) => Ok(()),
        // Unreadable preferences will not heal by retrying: say so, and let
        // the other recipients (and later runs) go on.
        Err(err @ DispatchError::Preferences { .. }) => {
            tracing::warn!(error = %err, "notification skipped");
            Ok(())
        }
        Err(err) => Err(err),
    }
}

/// The form field a preferences path belongs to (`channels[1].address` →
/// `channels`), for errors shown beside it.
pub fn top_level(path: &str) -> &'static str {
    ["channels", "kinds", "locale"]
        .into_iter()
        .find(|field| path.starts_with(field))
        .unwrap_or("body")
}

/// Checks and stores the caller's notification preferences: valid as a
/// whole, Slack URLs that pass the outbound guard, webhook channels that
/// name one of the caller's own endpoints.
pub async fn set_preferences(
    engine: &crate::Engine,
    caller: &crate::Caller,
    preferences: fairgig_notify::preferences::Preferences,
) -> crate::Result<fairgig_notify::preferences::Preferences> {
    use fairgig_core::{api_key::Scope, ValidationError};
    use fairgig_notify::ChannelKind;

    caller.require(Scope::Write)?;
    preferences.validate().map_err(|err| {
        ValidationError::new(top_level(&err.field), format!("{}: {}", err.field, err.message))
    })?;
    for (index, entry) in preferences.channels.iter().enumerate() {
        if entry.channel == ChannelKind::Slack {
            engine.notifier.check_webhook_url(&entry.address).map_err(|err| {
                ValidationError::new("channels", format!("channels[{index}].address: {err}"))
            })?;
        }
        if entry.channel == ChannelKind::Webhook {
            let id: uuid::Uuid = entry.address.parse().unwrap_or_default();
            if engine.store.webhook_endpoint(caller.user.id, id).await.is_err() {
                return Err(ValidationError::new(
                    "channels",
                    format!("channels[{index}].address: no webhook endpoint of yours has this id"),
                )
                .into());
            }
        }
    }
    engine.store.set_notification_preferences(caller.user.id, &json!(preferences)).await?;
    Ok(preferences)
}

/// The caller's notification preferences (defaults until they set some).
pub async fn preferences(
    engine: &crate::Engine,
    caller: &crate::Caller,
) -> crate::Result<fairgig_notify::preferences::Preferences> {
    engine
        .notifier
        .preferences(caller.user.id, &caller.user.email)
        .await
        .map_err(|err| crate::Error::internal(err, "reading notification preferences"))
}

/// The caller's notifications, newest first: the inbox and delivery log.
pub async fn inbox(
    engine: &crate::Engine,
    caller: &crate::Caller,
    limit: u32,
    offset: u32,
) -> crate::Result<Vec<fairgig_store::notifications::Notification>> {
    caller.require(fairgig_core::api_key::Scope::Read)?;
    let mut listed =
        engine.store.notifications_for_user(caller.user.id, limit.clamp(1, 100), offset).await?;
    hide_account_links(&mut listed);
    Ok(listed)
}

/// Blanks messages that carry a one-time account link, for every view of
/// the log: whoever holds a session (or an admin) must not read a link
/// that is still unsent (a reset link would bypass the current password).
pub fn hide_account_links(listed: &mut [fairgig_store::notifications::Notification]) {
    for item in listed {
        if NotificationKind::parse(&item.kind).is_some_and(NotificationKind::to_account_address) {
            item.body_text = fairgig_notify::dispatch::SCRUBBED.to_owned();
            item.body_html = None;
            item.context = fairgig_store::notifications::JsonText(json!({}));
        }
    }
}
