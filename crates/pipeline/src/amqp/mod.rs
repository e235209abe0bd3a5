//! The RabbitMQ transport: task ids travel through the broker, task state
//! stays in the database.
//!
//! Without it, workers poll the `tasks` table. With it ([`AmqpConfig`]), a
//! [`Relay`] publishes the id of every queued task (an outbox over the table,
//! with publisher confirms) and workers consume them with manual acks
//! (`Worker::run`), claiming the one task each message names. Results and
//! retries are recorded in the database exactly as before, so losing the
//! broker, a message or a whole queue loses no task: the relay publishes
//! again what is queued and unconfirmed.
//!
//! Topology, every name under the configured prefix `p`:
//! - `p.tasks`: the durable work queue (priorities 0–9); a rejected message is
//!   dead-lettered through the `p.dead-letter` exchange to `p.tasks.dead`.
//! - `p.tasks.delay.<ms>`: durable holding queues with one fixed message TTL
//!   each, dead-lettering back into `p.tasks` when it runs out: delayed retries
//!   and scheduled tasks without a broker plugin. One TTL per queue keeps each
//!   FIFO (per-message TTLs expire only at the head of a queue).
//! - `p.tasks.dead`: messages of tasks that failed for good and messages that
//!   name no task, as a broker-side trail (capped at 100,000). The admin API's
//!   dead letters come from the database.

mod consumer;
mod relay;

use std::time::Duration;

use fairgig_store::StoreError;
use lapin::{
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
    Channel, Connection, ConnectionProperties, ExchangeKind,
};
use rand::Rng;

pub use relay::Relay;

/// The longest a message waits in a holding queue; tasks due later stay in
/// the database until they come within reach.
pub const DELAY_HORIZON: Duration = Duration::from_secs(3_600);

/// TTLs of the holding queues, in milliseconds, shortest first.
const DELAY_BUCKETS_MS: [u64; 7] = [250, 1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000];

/// Highest message priority the work queue honours (task priorities clamp to 0..=9).
const MAX_PRIORITY: u8 = 9;

#[derive(Clone, Debug)]
pub struct AmqpConfig {
    /// `amqp://user:pass@host:port/vhost` or `amqps://…`.
    pub url: String,
    /// Prefix of every exchange and queue name.
    pub prefix: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused a message (publisher confirm was a nack)")]
    Nacked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AmqpConfig {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self { url: url.into(), prefix: prefix.into() }
    }

    /// The durable work queue workers consume.
    pub fn work_queue(&self) -> String {
        format!("{}.tasks", self.prefix)
    }

    /// Where failed and unreadable messages end up.
    pub fn dead_queue(&self) -> String {
        format!("{}.tasks.dead", self.prefix)
    }

    fn dead_letter_exchange(&self) -> String {
        format!("{}.dead-letter", self.prefix)
    }

    fn delay_queue(&self, ttl_ms: u64) -> String {
        format!("{}.tasks.delay.{ttl_ms}", self.prefix)
    }

    /// Every queue this transport declares (tests and operators use it to clean up).
    pub fn queues(&self) -> Vec<String> {
        let mut queues = vec![self.work_queue(), self.dead_queue()];
        queues.extend(DELAY_BUCKETS_MS.iter().map(|ttl| self.delay_queue(*ttl)));
        queues
    }

    /// The queue a task due in `delay` is published to: the work queue when
    /// it is due, else the holding queue with the longest TTL not beyond its
    /// time (the shortest when it is due sooner than all). A message that
    /// arrives early is scheduled again for the rest of its wait.
    fn queue_for_delay(&self, delay: Duration) -> String {
        if delay.is_zero() {
            return self.work_queue();
        }
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let ttl = DELAY_BUCKETS_MS
            .iter()
            .rev()
            .find(|ttl| **ttl <= millis)
            .copied()
            .unwrap_or(DELAY_BUCKETS_MS[0]);
        self.delay_queue(ttl)
    }

    /// Opens a connection named after `role` (shown in the broker's UI).
    async fn connect(&self, role: &str) -> Result<Connection, lapin::Error> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("fairgig-{role}-{}", std::process::id()).into());
        Connection::connect(&self.url, properties).await
    }

    /// Declares the topology (idempotent; every connection does it, so it
    /// does not matter which process starts first).
    async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        channel
            .exchange_declare(
                self.dead_letter_exchange().into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() },
                FieldTable::default(),
            )
            .await?;
        let mut dead_args = FieldTable::default();
        dead_args.insert("x-max-length".into(), AMQPValue::LongLongInt(100_000));
        channel.queue_declare(self.dead_queue().into(), durable, dead_args).await?;
        channel
            .queue_bind(
                self.dead_queue().into(),
                self.dead_letter_exchange().into(),
                self.dead_queue().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut work_args = FieldTable::default();
        work_args.insert("x-max-priority".into(), AMQPValue::ShortShortUInt(MAX_PRIORITY));
        work_args.insert("x-dead-letter-exchange".into(), long(&self.dead_letter_exchange()));
        work_args.insert("x-dead-letter-routing-key".into(), long(&self.dead_queue()));
        channel.queue_declare(self.work_queue().into(), durable, work_args).await?;
        for ttl in DELAY_BUCKETS_MS {
            let mut args = FieldTable::default();
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl as i64));
            args.insert("x-dead-letter-exchange".into(), long(""));
            args.insert("x-dead-letter-routing-key".into(), long(&self.work_queue()));
            channel.queue_declare(self.delay_queue(ttl).into(), durable, args).await?;
        }
        Ok(())
    }
}

/// Deletes every queue and the exchange under `config.prefix`, messages and
/// all: for tests, and for retiring a prefix. Tasks stay in the database and
/// are published again by the next relay on that prefix.
pub async fn delete_topology(config: &AmqpConfig) -> Result<(), lapin::Error> {
    let connection = config.connect("admin").await?;
    let channel = connection.create_channel().await?;
    for queue in config.queues() {
        channel.queue_delete(queue.into(), QueueDeleteOptions::default()).await?;
    }
    channel
        .exchange_delete(config.dead_letter_exchange().into(), ExchangeDeleteOptions::default())
        .await?;
    connection.close(200, "topology deleted".into()).await
}

fn long(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.to_owned()))
}

/// Exponential back-off with jitter between reconnection attempts (100 ms to 5 s).
#[derive(Debug)]
struct Reconnect {
    next: Duration,
}

impl Reconnect {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    fn new() -> Self {
        Self { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// How long to wait before the next attempt.
    fn delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        base.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_pick_the_longest_holding_queue_that_is_not_late() {
        let config = AmqpConfig::new("amqp://x", "p");
        let queue = |ms: u64| config.queue_for_delay(Duration::from_millis(ms));
        assert_eq!(queue(0), "p.tasks");
        assert_eq!(queue(100), "p.tasks.delay.250", "shorter than every bucket: the shortest");
        assert_eq!(queue(250), "p.tasks.delay.250");
        assert_eq!(queue(1_500), "p.tasks.delay.1000");
        assert_eq!(queue(45_000), "p.tasks.delay.30000");
        assert_eq!(queue(7_200_000), "p.tasks.delay.3600000");
        assert!(config.queues().contains(&"p.tasks.delay.600000".to_owned()));
    }

    #[test]
    fn reconnect_delays_grow_to_a_cap_and_reset() {
        let mut reconnect = Reconnect::new();
        let delays: Vec<Duration> = (0..10).map(|_| reconnect.delay()).collect();
        assert!(delays[0] <= Reconnect::FIRST);
        assert!(delays.iter().all(|delay| *delay <= Reconnect::MAX));
        assert!(delays[9] >= Reconnect::MAX / 2, "capped, with jitter of at most half");
        reconnect.reset();
        assert!(reconnect.delay() <= Reconnect::FIRST);
    }
}
