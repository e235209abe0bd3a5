//! The request pipeline: a submission's run is a small DAG of steps, each a
//! durable task; workers claim tasks under a lease, run the step, and record
//! the result and the steps it unblocks in one transaction.
//!
//! - [`plan`]: how steps are declared (name, dependencies, timeout, retries).
//! - [`worker`]: claiming and running tasks, heartbeats, retries, the lease monitor.
//! - [`amqp`]: the RabbitMQ transport (a relay publishing task ids, workers consuming them).
//! - [`bench`]: queue throughput and chain latency figures (`fairgig bench queue`).
//!
//! Adding a step is: implement [`StepHandler`], add one `.step(…)` line where
//! the pipeline is assembled (the server's `steps.rs`).

pub mod amqp;
pub mod bench;
pub mod plan;
pub mod worker;

pub use plan::{Pipeline, RetryPolicy, StepContext, StepError, StepHandler, StepOutput, StepSpec};
pub use worker::{ExecutionOutcome, Worker, WorkerConfig};
