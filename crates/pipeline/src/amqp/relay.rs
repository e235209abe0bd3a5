//! The relay: publishes queued tasks from the database to RabbitMQ.
//!
//! An outbox: [`Store::take_unpublished`] marks a batch of queued tasks as
//! published and returns them; the relay publishes each id (persistent, to
//! the work queue or the holding queue for its delay) and waits for the
//! broker's confirms; whatever was not confirmed is unmarked and published
//! again on the next pass. A relay that dies between marking and publishing
//! leaves tasks marked without a message: every 30 s, when the work queue is
//! empty, tasks that have been due for that long are unmarked (they cannot
//! still be waiting in the queue). Duplicate messages are harmless: a worker
//! claims a task only while it is queued.
//!
//! Every process that enqueues runs one (`serve`, `serve --role api`,
//! `worker`); it wakes on the same notification the in-process worker used
//! and otherwise looks every `tick`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use fairgig_store::{outbox::Unpublished, Store};
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions},
    types::FieldTable,
    BasicProperties, Channel, Connection,
};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{AmqpConfig, AmqpError, Reconnect, DELAY_HORIZON, MAX_PRIORITY};

/// Tasks taken from the database per pass.
const BATCH: u32 = 256;
/// How often the relay looks for lost messages.
const ORPHAN_CHECK: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Relay {
    store: Store,
    config: AmqpConfig,
    wake: Arc<Notify>,
    tick: Duration,
}

/// An open publishing channel with confirms on.
struct Publisher {
    // Kept so the connection lives as long as the channel.
    _connection: Connection,
    channel: Channel,
}

impl Relay {
    /// `wake` is notified by whoever enqueues in this process.
    pub fn new(store: Store, config: AmqpConfig, wake: Arc<Notify>) -> Self {
        Self { store, config, wake, tick: Duration::from_millis(500) }
    }

    /// Publishes until `shutdown` is cancelled, reconnecting as needed.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut publisher: Option<Publisher> = None;
        let mut reconnect = Reconnect::new();
        let mut last_orphan_check = Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let open = match publisher.take() {
                Some(open) => open,
                None => match self.open().await {
                    Ok(open) => {
                        tracing::info!(prefix = %self.config.prefix, "relay connected to RabbitMQ");
                        reconnect.reset();
                        open
                    }
                    Err(err) => {
                        tracing::warn!(error.message = %err, "relay cannot reach RabbitMQ; retrying");
                        metrics::counter!("pipeline_amqp_reconnects_total", "role" => "relay")
                            .increment(1);
                        tokio::select! {
                            () = tokio::time::sleep(reconnect.delay()) => {}
                            () = shutdown.cancelled() => return,
                        }
                        continue;
                    }
                },
            };
            match self.publish_ready(&open.channel).await {
                Ok(published) if published == BATCH as usize => {
                    // More may be waiting: go on at once.
                    publisher = Some(open);
                    continue;
                }
                Ok(_) => publisher = Some(open),
                Err(AmqpError::Store(err)) => {
                    tracing::error!(error.message = %err, "relay cannot read the outbox");
                    publisher = Some(open);
                }
                Err(err) => {
                    tracing::warn!(error.message = %err, "relay lost RabbitMQ; reconnecting");
                    continue;
                }
            }
            if last_orphan_check.elapsed() >= ORPHAN_CHECK {
                last_orphan_check = Instant::now();
                if let Some(open) = &publisher {
                    if let Err(err) = self.recover_orphans(&open.channel).await {
                        tracing::warn!(error.message = %err, "relay could not check for lost messages");
                    }
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.tick) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    async fn open(&self) -> Result<Publisher, lapin::Error> {
        let connection = self.config.connect("relay").await?;
        let channel = connection.create_channel().await?;
        self.config.declare(&channel).await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(Publisher { _connection: connection, channel })
    }

    /// One pass: publishes up to a batch of tasks and waits for their
    /// confirms. Returns how many were taken from the database.
    async fn publish_ready(&self, channel: &Channel) -> Result<usize, AmqpError> {
        let now = OffsetDateTime::now_utc();
        let batch = self.store.take_unpublished(BATCH, now + DELAY_HORIZON).await?;
        let mut pending = Vec::with_capacity(batch.len());
        let mut unconfirmed = Vec::new();
        let mut broken = None;
        for task in &batch {
            if broken.is_some() {
                unconfirmed.push(task.id);
                continue;
            }
            match self.publish(channel, task, now).await {
                Ok(confirm) => pending.push((task.id, confirm)),
                Err(err) => {
                    unconfirmed.push(task.id);
                    broken = Some(err);
                }
            }
        }
        for (id, confirm) in pending {
            match confirm.await {
                Ok(confirmation) if confirmation.is_ack() => {}
                Ok(_) => {
                    unconfirmed.push(id);
                    broken.get_or_insert(AmqpError::Nacked);
                }
                Err(err) => {
                    unconfirmed.push(id);
                    broken.get_or_insert(AmqpError::Broker(err));
                }
            }
        }
        let confirmed = batch.len() - unconfirmed.len();
        metrics::counter!("pipeline_amqp_published_total").increment(confirmed as u64);
        self.store.unmark_published(&unconfirmed).await?;
        match broken {
            Some(err) => Err(err),
            None => Ok(batch.len()),
        }
    }

    async fn publish(
        &self,
        channel: &Channel,
        task: &Unpublished,
        now: OffsetDateTime,
    ) -> Result<lapin::PublisherConfirm, AmqpError> {
        let delay = Duration::try_from(task.run_after - now).unwrap_or(Duration::ZERO);
        let queue = self.config.queue_for_delay(delay);
        let id = task.id.to_string();
        let priority = u8::try_from(task.priority.clamp(0, i32::from(MAX_PRIORITY))).unwrap_or(0);
        // The worker reads the trace context from the task's row; the
        // header carries it for whatever else watches the queue.
        let mut headers = FieldTable::default();
        if let Some(traceparent) = &task.trace_parent {
            headers.insert(
                fairgig_trace::TRACEPARENT.into(),
                lapin::types::AMQPValue::LongString(traceparent.as_str().into()),
            );
        }
        let properties = BasicProperties::default()
            .with_headers(headers)
            .with_delivery_mode(2) // persistent
            .with_priority(priority)
            .with_message_id(id.as_str().into())
            .with_content_type("text/plain".into());
        let confirm = channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                id.as_bytes(),
                properties,
            )
            .await?;
        Ok(confirm)
    }

    /// Unmarks tasks whose message must have been lost: only when the work
    /// queue holds nothing ready, else a long backlog would be published twice.
    async fn recover_orphans(&self, channel: &Channel) -> Result<(), AmqpError> {
        let queue = channel
            .queue_declare(
                self.config.work_queue().into(),
                QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
                FieldTable::default(),
            )
            .await?;
        if queue.message_count() > 0 {
            return Ok(());
        }
        let before = OffsetDateTime::now_utc() - ORPHAN_CHECK;
        let cleared = self.store.republish_orphans(before).await?;
        if cleared > 0 {
            tracing::warn!(
                count = cleared,
                "tasks marked published had no message; publishing them again"
            );
            self.wake.notify_one();
        }
        Ok(())
    }
}
