//! Durable delivery. [`Dispatcher::notify`] turns an event into one
//! delivery row on the first channel that applies (dedupe key: source,
//! kind, channel, recipient, so an event announced twice is stored once).
//! [`Dispatcher::run`] claims due rows under a lease and sends them:
//!
//! - sent → `sent`, with the provider's message id;
//! - transient failure → `retrying` after the next delay of the schedule
//!   (default 30 s, 2 min, 5 min, 15 min), or later if the provider's
//!   `Retry-After` asks for it; when the schedule is used up, fallback;
//! - permanent failure (bad address, refused target) → fallback at once:
//!   a new delivery on the user's next applicable channel, this one `failed`;
//!   with no channel left, `dead`;
//! - an open circuit (a provider failing again and again) hands the
//!   delivery back untried, without spending an attempt.
//!
//! Quiet hours hold instant messages until the window ends (security
//! notices never wait); `digest` messages wait for the user's digest time
//! and go out as one message per channel and address.
//!
//! A sender that crashes mid-send leaves its row `sending`; when the lease
//! runs out it is claimed again. That is the one window where a message
//! can go out twice, and the resend carries the same `Message-ID` /
//! `webhook-id`, which receivers use to drop duplicates.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fairgig_core::{
    audit::{actions, Actor, NewAuditEntry},
    breaker::CircuitBreaker,
    ids::UserId,
    work::NotificationStatus,
};
use fairgig_store::{
    notifications::{DeliveryOutcome, NewNotification, Notification},
    Store, StoreError,
};
use futures::future::join_all;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    channel::{
        email::EmailChannel, log, slack, sms::SmsChannel, telegram::TelegramChannel,
        webhook::WebhookChannel,
    },
    kind::{ChannelKind, NotificationKind},
    preferences::{ChannelAddress, Mode, Preferences, Release},
    template::Templates,
    SendError,
};

/// Tunables; the defaults are the product's.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Waits before the 2nd, 3rd, … attempt on one channel.
    pub retry_delays: Vec<Duration>,
    /// How long a claimed delivery is ours before another sender may take it.
    pub lease: Duration,
    /// Deliveries claimed (and sent concurrently) per round.
    pub batch: u32,
    /// Idle wait between polls when nothing was due.
    pub poll: Duration,
    /// This fairgig's public base URL: links in messages point at its API.
    pub public_url: String,
    /// Failures in a row that open a channel's circuit, and its cool-down.
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            retry_delays: [30, 120, 300, 900].map(Duration::from_secs).to_vec(),
            lease: Duration::from_secs(60),
            batch: 32,
            poll: Duration::from_millis(500),
            public_url: "http://127.0.0.1:8080".into(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored preferences of {user} are unreadable: {message}")]
    Preferences { user: UserId, message: String },
}

/// Something that happened to a user and may deserve a message.
#[derive(Clone, Debug)]
pub struct Event {
    pub user: UserId,
    /// The account's address: the default channel when no preferences are saved.
    pub email: String,
    pub kind: NotificationKind,
    /// What caused it (`submission/<id>`, `run/<id>`, `run/<id>/match`): with
    /// kind, channel and recipient, the dedupe key.
    pub source: String,
    /// Template values; `recipient` and `public_url` are added.
    pub context: Value,
    pub recipient_name: String,
}

/// The channels this process can send on. A provider left unconfigured
/// (`None`) fails its deliveries permanently, so they fall back.
#[derive(Clone, Debug)]
pub struct Channels {
    pub email: Option<EmailChannel>,
    /// Signed webhooks, and the guarded client Slack webhooks use too.
    pub webhook: WebhookChannel,
    pub telegram: Option<TelegramChannel>,
    pub sms: Option<SmsChannel>,
}

/// What stays of a sent one-time link's message.
pub const SCRUBBED: &str = "(This message held a one-time link. It was removed once sent.)";

/// Enqueues and sends notifications.
#[derive(Debug)]
pub struct Dispatcher {
    store: Store,
    templates: Templates,
    channels: Channels,
    config: DispatchConfig,
    /// One per provider: per channel, and per endpoint for user-owned targets
    /// (one user's broken webhook must not pause everyone's).
    breakers: Mutex<HashMap<String, CircuitBreaker>>,
    /// Wakes the send loop when something was enqueued in this process.
    wake: Notify,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        templates: Templates,
        channels: Channels,
        config: DispatchConfig,
    ) -> Self {
        Dispatcher {
            store,
            templates,
            channels,
            config,
            breakers: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        }
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Whether `url` could be a webhook target (scheme, no credentials, not
    /// a literal internal address); names are checked again at connect time.
    pub fn check_webhook_url(&self, url: &str) -> Result<(), SendError> {
        self.channels.webhook.check_url(url).map(|_| ())
    }

    pub fn email_configured(&self) -> bool {
        self.channels.email.is_some()
    }

    /// The user's preferences, or the defaults for a user who saved none.
    pub async fn preferences(
        &self,
        user: UserId,
        email: &str,
    ) -> Result<Preferences, DispatchError> {
        match self.store.notification_preferences(user).await? {
            Some(document) => serde_json::from_value(document)
                .map_err(|err| DispatchError::Preferences { user, message: err.to_string() }),
            None => Ok(Preferences::default_for(email, self.email_configured())),
        }
    }

    /// Records `event` for delivery on the user's first applicable channel.
    /// Returns the new delivery, or `None` when the user switched the kind
    /// off, no channel applies, or the same event was already recorded.
    pub async fn notify(&self, event: Event) -> Result<Option<Notification>, DispatchError> {
        let preferences = self.preferences(event.user, &event.email).await?;
        if preferences.mode(event.kind) == Mode::Off {
            return Ok(None);
        }
        let mut context = event.context;
        if let Some(map) = context.as_object_mut() {
            map.insert("recipient".into(), json!({"name": event.recipient_name, "id": event.user}));
            map.insert("public_url".into(), json!(self.config.public_url));
        }
        let start = Start {
            user: event.user,
            kind: event.kind,
            source: event.source,
            context,
            locale: preferences.locale.clone(),
            release: preferences.release(event.kind, OffsetDateTime::now_utc()),
        };
        let channels = self.channels_for(start.kind, preferences, &event.email);
        let delivery = self.enqueue_from(&start, &channels, 0).await?;
        if delivery.is_some() {
            self.wake.notify_one();
        }
        Ok(delivery)
    }

    /// The channels a `kind` message tries, in order. A one-time account
    /// link proves control of the account's address, so it goes there
    /// (or to the log without SMTP) whatever channels the user chose.
    fn channels_for(
        &self,
        kind: NotificationKind,
        preferences: Preferences,
        email: &str,
    ) -> Vec<ChannelAddress> {
        if kind.to_account_address() {
            Preferences::default_for(email, self.email_configured()).channels
        } else {
            preferences.channels
        }
    }

    /// Enqueues on the first applicable channel at or after `rank`.
    async fn enqueue_from(
        &self,
        start: &Start,
        channels: &[ChannelAddress],
        rank: usize,
    ) -> Result<Option<Notification>, DispatchError> {
        for (index, entry) in channels.iter().enumerate().skip(rank) {
            if !self.applies(start, entry).await? {
                continue;
            }
            let (rendered, refused) = match self.templates.render_for(
                start.kind,
                entry.channel,
                &start.locale,
                &start.context,
            ) {
                Ok(rendered) => (Some(rendered), None),
                // Recorded as dead with the reason: the log shows why nothing went out.
                Err(err) => (None, Some(err.to_string())),
            };
            let new = NewNotification {
                user: start.user,
                kind: start.kind.as_str().into(),
                channel: entry.channel.as_str().into(),
                address: entry.address.clone(),
                source: start.source.clone(),
                context: start.context.clone(),
                locale: start.locale.clone(),
                subject: rendered.as_ref().map(|r| r.subject.clone()).unwrap_or_default(),
                body_text: rendered.as_ref().map(|r| r.text.clone()).unwrap_or_default(),
                body_html: rendered.map(|r| r.html),
                channel_rank: i32::try_from(index).unwrap_or(i32::MAX),
                not_before: Some(start.release.at),
                digest: start.release.digest,
                refused,
            };
            let stored = self.store.enqueue_notification(&new).await?;
            if let Some(stored) = &stored {
                metrics::counter!("fairgig_notifications_enqueued_total", "channel" => entry.channel.as_str(), "kind" => start.kind.as_str()).increment(1);
                if stored.status == NotificationStatus::Dead {
                    self.audit(stored, actions::NOTIFICATION_DEAD).await;
                }
            }
            return Ok(stored);
        }
        Ok(None)
    }

    /// A webhook entry applies when the endpoint exists and wants the kind;
    /// every other channel always applies (whether it can send is the send's business).
    async fn applies(&self, start: &Start, entry: &ChannelAddress) -> Result<bool, DispatchError> {
        if entry.channel != ChannelKind::Webhook {
            return Ok(true);
        }
        let Ok(id) = entry.address.parse() else { return Ok(false) };
        match self.store.webhook_endpoint(start.user, id).await {
            Ok(endpoint) => Ok(endpoint.wants(start.kind.as_str())),
            Err(StoreError::NotFound) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Sends until `shutdown`; a round that found work is followed at once
    /// by the next, an idle one waits `poll` or until something is enqueued.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let sent = match self.deliver_due().await {
                Ok(count) => count,
                Err(err) => {
                    tracing::warn!(error = %err, "notification round failed");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.config.poll) => {}
                }
            }
        }
    }

    /// One round: claims due deliveries and sends them concurrently.
    /// Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, DispatchError> {
        let lease_until = OffsetDateTime::now_utc() + self.config.lease;
        let claimed = self.store.claim_notifications(self.config.batch, lease_until).await?;
        let count = claimed.len();
        // Digest items go out as one message per recipient and channel.
        let mut digests: Vec<Vec<Notification>> = Vec::new();
        let mut singles = Vec::new();
        for delivery in claimed {
            if !delivery.digest {
                singles.push(delivery);
                continue;
            }
            let same = |group: &&mut Vec<Notification>| {
                let first = &group[0];
                (first.user_id, &first.channel, &first.address)
                    == (delivery.user_id, &delivery.channel, &delivery.address)
            };
            match digests.iter_mut().find(same) {
                Some(group) => group.push(delivery),
                None => digests.push(vec![delivery]),
            }
        }
        // Together, so one slow provider does not hold up the others.
        let singles = join_all(singles.into_iter().map(|delivery| self.deliver(delivery)));
        let digests =
            join_all(digests.into_iter().map(|items| self.deliver_digest(items, lease_until)));
        let (singles, digests) = futures::join!(singles, digests);
        for result in singles.into_iter().chain(digests) {
            if let Err(err) = result {
                tracing::warn!(error = %err, "recording a delivery failed; its lease will return it");
            }
        }
        Ok(count)
    }

    async fn deliver(&self, delivery: Notification) -> Result<(), DispatchError> {
        let span = delivery_span(&delivery);
        async {
            let verdict = self.attempt(&delivery).await;
            self.apply(&delivery, verdict).await
        }
        .instrument(span)
        .await
    }

    /// Sends the recipient's due digest items (with any the batch left out)
    /// as one message; its outcome becomes each item's.
    async fn deliver_digest(
        &self,
        items: Vec<Notification>,
        lease_until: OffsetDateTime,
    ) -> Result<(), DispatchError> {
        let first = items[0].clone();
        let span = delivery_span(&first);
        self.deliver_digest_traced(items, first, lease_until).instrument(span).await
    }

    async fn deliver_digest_traced(
        &self,
        mut items: Vec<Notification>,
        first: Notification,
        lease_until: OffsetDateTime,
    ) -> Result<(), DispatchError> {
        let user = first.user_id;
        let more = self
            .store
            .claim_digest_items(user, &first.channel, &first.address, lease_until)
            .await?;
        items.extend(more);
        items.sort_by_key(|item| (item.created_at, item.id));
        let context = json!({
            "recipient": first.context.0["recipient"],
            "public_url": self.config.public_url,
            "items": items.iter().map(|item| json!({"subject": item.subject, "text": item.body_text})).collect::<Vec<_>>(),
        });
        let verdict = match self.templates.render_digest(&first.locale, &context) {
            Ok(rendered) => {
                let mut envelope = first.clone();
                envelope.kind = "digest".into();
                envelope.subject = rendered.subject;
                envelope.body_text = rendered.text;
                envelope.body_html = Some(rendered.html);
                envelope.context.0 = context;
                self.attempt(&envelope).await
            }
            Err(err) => Verdict::Dead(err.to_string()),
        };
        for item in &items {
            self.apply(item, verdict.clone()).await?;
        }
        Ok(())
    }

    /// One send through the delivery's channel (unless its provider's
    /// circuit is open), judged against the retry schedule.
    async fn attempt(&self, delivery: &Notification) -> Verdict {
        let Some(channel) = ChannelKind::parse(&delivery.channel) else {
            return Verdict::Dead(format!("unknown channel `{}`", delivery.channel));
        };
        let provider = provider_key(channel, delivery);
        if let Err(wait) = self.admit(&provider) {
            return Verdict::Postpone(OffsetDateTime::now_utc() + wait);
        }
        let started = Instant::now();
        let result = self.send(channel, delivery).await;
        metrics::histogram!("fairgig_notification_send_seconds", "channel" => channel.as_str())
            .record(started.elapsed().as_secs_f64());
        self.record(&provider, !matches!(result, Err(SendError::Transient { .. })));
        match result {
            Ok(provider_id) => Verdict::Sent(provider_id),
            Err(SendError::Transient { reason, retry_after }) => {
                let attempt = usize::try_from(delivery.attempts.max(1) - 1).unwrap_or(usize::MAX);
                match self.config.retry_delays.get(attempt) {
                    Some(delay) => {
                        let wish = retry_after.unwrap_or_default().min(self.config.max_retry_after);
                        let at = OffsetDateTime::now_utc() + (*delay).max(wish);
                        Verdict::Retry { at, error: reason }
                    }
                    None => Verdict::GiveUp(reason),
                }
            }
            Err(SendError::Permanent(reason)) => Verdict::GiveUp(reason),
        }
    }

    async fn apply(&self, delivery: &Notification, verdict: Verdict) -> Result<(), DispatchError> {
        match verdict {
            Verdict::Sent(provider_id) => {
                let outcome = DeliveryOutcome::Sent { provider_id: Some(provider_id) };
                self.finish(delivery, outcome).await
            }
            Verdict::Retry { at, error } => {
                self.finish(delivery, DeliveryOutcome::Retry { at, error }).await
            }
            Verdict::GiveUp(error) => self.fall_back(delivery, error).await,
            Verdict::Dead(error) => self.finish(delivery, DeliveryOutcome::Dead { error }).await,
            Verdict::Postpone(at) => Ok(self.store.postpone_notification(delivery.id, at).await?),
        }
    }

    async fn send(
        &self,
        channel: ChannelKind,
        delivery: &Notification,
    ) -> Result<String, SendError> {
        let rendered = crate::template::Rendered {
            subject: delivery.subject.clone(),
            text: delivery.body_text.clone(),
            html: delivery.body_html.clone().unwrap_or_default(),
        };
        match channel {
            ChannelKind::Log => {
                Ok(log::send(delivery.id, &delivery.address, &delivery.kind, &rendered))
            }
            ChannelKind::Email => {
                let email = self.channels.email.as_ref().ok_or_else(|| {
                    SendError::Permanent("email is not configured (FAIRGIG_SMTP_URL)".into())
                })?;
                let unsubscribe =
                    format!("{}/api/v1/me/notification-preferences", self.config.public_url);
                email.send(delivery.id, &delivery.address, &rendered, Some(&unsubscribe)).await
            }
            ChannelKind::Webhook => self.send_webhook(delivery).await,
            ChannelKind::Telegram => {
                let telegram =
                    self.channels.telegram.as_ref().ok_or_else(|| {
                        unconfigured("Telegram", "notifications.telegram_bot_token")
                    })?;
                let id = delivery.id;
                let checkpoint = |sent: String| {
                    let store = self.store.clone();
                    async move {
                        if let Err(err) = store.checkpoint_notification(id, &sent).await {
                            tracing::warn!(%id, error = %err, "could not record the Telegram parts sent");
                        }
                    }
                };
                let delivered = delivery.provider_id.as_deref();
                telegram
                    .send_resuming(&delivery.address, &rendered.text, delivered, checkpoint)
                    .await
            }
            ChannelKind::Sms => {
                let sms = self
                    .channels
                    .sms
                    .as_ref()
                    .ok_or_else(|| unconfigured("SMS", "notifications.sms_account_sid"))?;
                sms.send(&delivery.address, &rendered.text).await
            }
            ChannelKind::Slack => {
                slack::send(&self.channels.webhook, &delivery.address, &rendered.text).await
            }
        }
    }

    async fn send_webhook(&self, delivery: &Notification) -> Result<String, SendError> {
        let id = delivery
            .address
            .parse()
            .map_err(|_| SendError::Permanent("not a webhook endpoint id".into()))?;
        let endpoint = match self.store.webhook_endpoint(delivery.user_id, id).await {
            Ok(endpoint) => endpoint,
            Err(StoreError::NotFound) => {
                return Err(SendError::Permanent("the webhook endpoint was deleted".into()))
            }
            Err(err) => return Err(SendError::transient(err.to_string())),
        };
        let now = OffsetDateTime::now_utc();
        let body = json!({
            "type": delivery.kind,
            "timestamp": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "data": {
                "notification": delivery.id,
                "source": delivery.source,
                "subject": delivery.subject,
                "text": delivery.body_text,
                "context": delivery.context.0,
            },
        });
        let message_id = format!("msg_{}", delivery.id.as_uuid().simple());
        self.channels
            .webhook
            .send(
                &message_id,
                &endpoint.url,
                &endpoint.signing_secrets(now),
                body.to_string().into_bytes(),
                now.unix_timestamp(),
            )
            .await
    }

    /// This channel gave up: enqueue the next applicable one, then close this.
    async fn fall_back(&self, delivery: &Notification, error: String) -> Result<(), DispatchError> {
        let user = delivery.user_id;
        let account = self.store.get_user(user).await?;
        let preferences = self.preferences(user, &account.email).await?;
        let kind = NotificationKind::parse(&delivery.kind);
        let next_rank = usize::try_from(delivery.channel_rank + 1).unwrap_or(usize::MAX);
        let next = match kind {
            Some(kind) => {
                let channels = self.channels_for(kind, preferences, &account.email);
                let start = Start {
                    user,
                    kind,
                    source: delivery.source.clone(),
                    context: delivery.context.0.clone(),
                    locale: delivery.locale.clone(),
                    // Due at once on the next channel; a digest item stays one.
                    release: Release { at: OffsetDateTime::now_utc(), digest: delivery.digest },
                };
                self.enqueue_from(&start, &channels, next_rank).await?
            }
            None => None,
        };
        let outcome = match next {
            Some(_) => DeliveryOutcome::FellBack { error },
            None => DeliveryOutcome::Dead { error },
        };
        self.finish(delivery, outcome).await
    }

    async fn finish(
        &self,
        delivery: &Notification,
        outcome: DeliveryOutcome,
    ) -> Result<(), DispatchError> {
        self.store.finish_notification(delivery.id, &outcome).await?;
        let secret =
            NotificationKind::parse(&delivery.kind).is_some_and(|kind| kind.to_account_address());
        if secret && matches!(outcome, DeliveryOutcome::Sent { .. }) {
            self.store.scrub_notification(delivery.id, SCRUBBED).await?;
        }
        let (label, action) = match &outcome {
            DeliveryOutcome::Sent { .. } => ("sent", Some(actions::NOTIFICATION_SENT)),
            DeliveryOutcome::Retry { .. } => ("retrying", None),
            DeliveryOutcome::FellBack { .. } => ("failed", Some(actions::NOTIFICATION_FAILED)),
            DeliveryOutcome::Dead { .. } => ("dead", Some(actions::NOTIFICATION_DEAD)),
        };
        metrics::counter!("fairgig_notifications_total", "channel" => delivery.channel.clone(), "outcome" => label).increment(1);
        if let Some(action) = action {
            let mut audited = delivery.clone();
            if let DeliveryOutcome::FellBack { error }
            | DeliveryOutcome::Dead { error }
            | DeliveryOutcome::Retry { error, .. } = &outcome
            {
                audited.last_error = Some(error.clone());
            }
            self.audit(&audited, action).await;
        }
        Ok(())
    }

    /// Every final outcome goes to the audit log; a failure to audit is
    /// logged, never a reason to send again.
    async fn audit(&self, delivery: &Notification, action: &'static str) {
        let entry = NewAuditEntry::new(Actor::System, action)
            .target(format!("notification:{}", delivery.id))
            .details(json!({
                "user": delivery.user_id,
                "kind": delivery.kind,
                "channel": delivery.channel,
                "attempts": delivery.attempts,
                "error": delivery.last_error,
            }));
        if let Err(err) = self.store.append_audit(entry).await {
            tracing::warn!(error = %err, delivery = %delivery.id, "could not audit a notification");
        }
    }

    fn admit(&self, provider: &str) -> Result<(), Duration> {
        let mut breakers = self.breakers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        breakers
            .entry(provider.to_owned())
            .or_insert_with(|| {
                CircuitBreaker::new(self.config.breaker_threshold, self.config.breaker_cooldown)
            })
            .admit(Instant::now())
    }

    /// Records the outcome; a circuit that opens now is counted in
    /// `fairgig_breaker_opened_total` by channel (`notify:webhook`…), not
    /// by endpoint, so the series stay few.
    fn record(&self, provider: &str, success: bool) {
        let mut breakers = self.breakers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(breaker) = breakers.get_mut(provider) {
            if breaker.record(success, Instant::now()) {
                let channel = provider.split(':').next().unwrap_or(provider);
                tracing::warn!(provider, "circuit opened: deliveries wait until the cooldown ends");
                metrics::counter!("fairgig_breaker_opened_total", "call" => format!("notify:{channel}"))
                    .increment(1);
            }
        }
    }
}

/// The span of one delivery, continuing the trace of the request or step
/// that addressed it.
fn delivery_span(delivery: &Notification) -> tracing::Span {
    let span = tracing::info_span!(
        "delivery",
        otel.name = %format_args!("deliver {} by {}", delivery.kind, delivery.channel),
        notification = %delivery.id,
        channel = %delivery.channel,
        kind = %delivery.kind,
        trace_id = tracing::field::Empty,
    );
    fairgig_trace::continue_from(&span, delivery.trace_parent.as_deref());
    span
}

/// Whose circuit a delivery goes through: the endpoint for webhooks, the
/// host for Slack URLs, else the channel's one provider.
fn provider_key(channel: ChannelKind, delivery: &Notification) -> String {
    match channel {
        ChannelKind::Webhook => format!("webhook:{}", delivery.address),
        ChannelKind::Slack => {
            let host = url::Url::parse(&delivery.address)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_default();
            format!("slack:{host}")
        }
        other => other.as_str().to_owned(),
    }
}

fn unconfigured(provider: &str, setting: &str) -> SendError {
    SendError::Permanent(format!("{provider} is not configured ({setting})"))
}

/// What one attempt means for the deliveries it carried.
#[derive(Clone, Debug)]
enum Verdict {
    Sent(String),
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// This channel will not work: the next one takes over.
    GiveUp(String),
    /// Nothing to fall back to (the message itself is broken).
    Dead(String),
    /// The provider's circuit is open: untried, due again at this moment.
    Postpone(OffsetDateTime),
}

/// An event being placed on a channel (first time or as a fallback).
struct Start {
    user: UserId,
    kind: NotificationKind,
    source: String,
    context: Value,
    locale: String,
    release: Release,
}
