//! Consuming the work queue: each delivery names one task; the worker claims
//! that task in the database, runs it, and only then acks the message.
//!
//! Prefetch equals the worker's concurrency, so the broker never hands this
//! process more than it can run. A message is rejected to the dead-letter
//! queue when it names no task or its task failed for good; everything else
//! is acked once the database has the outcome. A message for a task that is
//! not due yet hands the task back to the relay (see [`TaskClaim::NotDue`]);
//! one for a task that is running elsewhere or settled is a duplicate and is
//! dropped. If the connection drops mid-step the step still finishes and is
//! recorded; the broker redelivers its message, which then finds the task
//! settled.

use std::{sync::Arc, time::Duration};

use fairgig_core::ids::TaskId;
use fairgig_store::outbox::TaskClaim;
use futures::StreamExt;
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions,
        BasicQosOptions, BasicRejectOptions,
    },
    types::FieldTable,
    Channel, Connection, Consumer,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{AmqpConfig, Reconnect};
use crate::{ExecutionOutcome, Worker};

impl Worker {
    /// Consumes `amqp`'s work queue until `shutdown`, reconnecting with
    /// back-off whenever the broker goes away. Returns the open connection
    /// on shutdown so in-flight steps can still ack before it closes.
    pub(crate) async fn consume(
        &self,
        amqp: &AmqpConfig,
        slots: &Arc<Semaphore>,
        shutdown: &CancellationToken,
    ) -> Option<Connection> {
        let mut reconnect = Reconnect::new();
        let prefetch = u16::try_from(self.config.concurrency.max(1)).unwrap_or(u16::MAX);
        loop {
            let opened = tokio::select! {
                opened = open_consumer(amqp, prefetch, &self.config.id) => opened,
                () = shutdown.cancelled() => return None,
            };
            match opened {
                Ok((connection, channel, mut deliveries)) => {
                    reconnect.reset();
                    tracing::info!(worker = %self.config.id, queue = %amqp.work_queue(), "consuming from RabbitMQ");
                    loop {
                        let next = tokio::select! {
                            next = deliveries.next() => next,
                            () = shutdown.cancelled() => {
                                // No new deliveries; unacked ones go back to the queue on close.
                                let tag = deliveries.tag();
                                let _ = channel.basic_cancel(tag, BasicCancelOptions::default()).await;
                                return Some(connection);
                            }
                        };
                        match next {
                            Some(Ok(delivery)) => {
                                let Ok(permit) = Arc::clone(slots).acquire_owned().await else {
                                    return Some(connection);
                                };
                                let worker = self.clone();
                                tokio::spawn(async move {
                                    worker.handle_delivery(delivery).await;
                                    drop(permit);
                                });
                            }
                            Some(Err(err)) => {
                                tracing::warn!(error.message = %err, "lost RabbitMQ while consuming; reconnecting");
                                break;
                            }
                            None => {
                                tracing::warn!("RabbitMQ ended the consumer; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error.message = %err, "worker cannot reach RabbitMQ; retrying");
                }
            }
            metrics::counter!("pipeline_amqp_reconnects_total", "role" => "worker").increment(1);
            tokio::select! {
                () = tokio::time::sleep(reconnect.delay()) => {}
                () = shutdown.cancelled() => return None,
            }
        }
    }

    async fn handle_delivery(&self, delivery: Delivery) {
        let Some(id) = task_id(&delivery.data) else {
            tracing::warn!(
                bytes = delivery.data.len(),
                "a message that names no task; dead-lettering it"
            );
            settle(delivery.reject(BasicRejectOptions { requeue: false }).await);
            return;
        };
        let claim = self.store.claim_task(id, &self.config.id, self.lease_until()).await;
        let dead_letter = match claim {
            Ok(TaskClaim::Claimed(task)) => match self.execute(task).await {
                Ok(outcome) => {
                    // Successors were enqueued with the outcome: let the relay publish them now.
                    self.wake.notify_one();
                    matches!(outcome, ExecutionOutcome::Failed { .. })
                }
                Err(err) => {
                    tracing::error!(error.message = %err, error.cause_chain = ?err, "recording a step failed; its lease will expire and it will run again");
                    false
                }
            },
            Ok(TaskClaim::NotDue) => {
                self.wake.notify_one();
                false
            }
            Ok(TaskClaim::Gone) => false,
            Err(err) => {
                // The database is unreachable: hand the message back after a
                // pause instead of spinning through redeliveries.
                tracing::warn!(task = %id, error.message = %err, "cannot claim a delivered task; returning it to the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let requeue = BasicNackOptions { requeue: true, multiple: false };
                settle(delivery.nack(requeue).await);
                return;
            }
        };
        let settled = if dead_letter {
            delivery.reject(BasicRejectOptions { requeue: false }).await
        } else {
            delivery.ack(BasicAckOptions::default()).await
        };
        settle(settled);
    }
}

async fn open_consumer(
    amqp: &AmqpConfig,
    prefetch: u16,
    worker: &str,
) -> Result<(Connection, Channel, Consumer), lapin::Error> {
    let connection = amqp.connect("worker").await?;
    let channel = connection.create_channel().await?;
    amqp.declare(&channel).await?;
    channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
    let consumer = channel
        .basic_consume(
            amqp.work_queue().into(),
            worker.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok((connection, channel, consumer))
}

/// A message body is the task id as text.
fn task_id(body: &[u8]) -> Option<TaskId> {
    std::str::from_utf8(body).ok().and_then(|text| text.trim().parse().ok())
}

/// Settling fails only when the channel is gone; the broker then redelivers
/// the message and the redelivery finds its task settled.
fn settle(result: Result<bool, lapin::Error>) {
    if let Err(err) = result {
        tracing::debug!(error.message = %err, "could not settle a delivery; it will be redelivered and dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::task_id;

    #[test]
    fn message_bodies_are_task_ids_or_nothing() {
        let id = fairgig_core::ids::TaskId::new();
        assert_eq!(task_id(id.to_string().as_bytes()), Some(id));
        assert_eq!(task_id(format!(" {id}\n").as_bytes()), Some(id));
        for garbage in [&b""[..], b"not a task", b"\xff\xfe", &[0u8; 36]] {
            assert_eq!(task_id(garbage), None);
        }
    }
}
