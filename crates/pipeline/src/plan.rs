//! Declaring steps.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use fairgig_core::ids::RunId;
use fairgig_store::{runs::PlannedStep, submissions::Submission};
use rand::Rng;
use serde_json::Value;

/// How a step retries: up to `max_attempts` attempts in all, waiting
/// `base · 2^(n−1)` after the n-th failure, capped at `max`, with "equal
/// jitter" (half fixed, half random) so that failures of many runs at once
/// do not retry in lockstep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, base: Duration::from_secs(2), max: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: i32) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
        let full = self.base.saturating_mul(2u32.saturating_pow(exponent)).min(self.max);
        let half = full / 2;
        let jitter =
            rand::thread_rng().gen_range(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_millis(jitter)
    }
}

/// A step's declaration.
#[derive(Clone, Debug)]
pub struct StepSpec {
    pub name: &'static str,
    pub depends_on: Vec<&'static str>,
    /// A run longer than this counts as a failed (retryable) attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Higher runs first when workers are busy.
    pub priority: i32,
}

impl StepSpec {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            depends_on: Vec::new(),
            timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            priority: 0,
        }
    }

    pub fn after(mut self, dependencies: &[&'static str]) -> Self {
        self.depends_on = dependencies.to_vec();
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// Why a step attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Worth trying again (a timeout, a provider hiccup).
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time (a corrupt file): no retries.
    #[error("{0}")]
    Permanent(String),
}

/// What a step sees: its submission and the outputs of the steps before it.
#[derive(Clone, Debug)]
pub struct StepContext {
    pub run: RunId,
    pub step: String,
    /// 1 on the first attempt.
    pub attempt: i32,
    pub submission: Submission,
    pub outputs: HashMap<String, Value>,
}

/// The type of a step's output, named by its step. Steps store their output
/// as JSON; later steps (and anyone reading a run) read it back through
/// this type, never by string key.
pub trait StepOutput: serde::Serialize + serde::de::DeserializeOwned {
    /// The step whose output this is.
    const STEP: &'static str;

    /// This output as the JSON the store keeps.
    fn to_output(&self) -> Result<Value, StepError> {
        serde_json::to_value(self)
            .map_err(|err| StepError::Permanent(format!("{} output: {err}", Self::STEP)))
    }

    /// The output among a run's stored `outputs`: `None` when the step has
    /// not succeeded; an error when what is stored does not read as `Self`.
    fn read(outputs: &HashMap<String, Value>) -> Result<Option<Self>, serde_json::Error> {
        outputs.get(Self::STEP).map(|value| Self::deserialize(value)).transpose()
    }
}

impl StepContext {
    /// The output of step `T::STEP`, which ran before this one; a stored
    /// output that does not read as `T` is a broken contract, not worth a
    /// retry.
    pub fn output<T: StepOutput>(&self) -> Result<Option<T>, StepError> {
        T::read(&self.outputs)
            .map_err(|err| StepError::Permanent(format!("reading the {} output: {err}", T::STEP)))
    }
}

/// One step's work. Must be idempotent: a step may run again after a crash
/// (its effects are keyed by run and step).
#[async_trait]
pub trait StepHandler: Send + Sync + 'static {
    async fn run(&self, context: &StepContext) -> Result<Value, StepError>;
}

/// The DAG of steps every submission runs through.
#[derive(Clone, Default)]
pub struct Pipeline {
    steps: Vec<(StepSpec, Arc<dyn StepHandler>)>,
    /// The steps as the store records them, kept in step with `steps` so the
    /// hot path (every finished step, every submission) borrows it.
    plan: Vec<PlannedStep>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.steps.iter().map(|(spec, _)| spec.name)).finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("step {0:?} is declared twice")]
    Duplicate(&'static str),
    #[error("step {step:?} depends on {missing:?}, which is not declared before it")]
    UnknownDependency { step: &'static str, missing: &'static str },
}

impl Pipeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step. Dependencies must be declared earlier, which also rules
    /// out cycles.
    pub fn step(mut self, spec: StepSpec, handler: impl StepHandler) -> Result<Self, PlanError> {
        if self.spec(spec.name).is_some() {
            return Err(PlanError::Duplicate(spec.name));
        }
        if let Some(missing) = spec.depends_on.iter().find(|dep| self.spec(dep).is_none()) {
            return Err(PlanError::UnknownDependency { step: spec.name, missing });
        }
        self.plan.push(PlannedStep {
            name: spec.name.to_owned(),
            depends_on: spec.depends_on.iter().map(|dep| (*dep).to_owned()).collect(),
            max_attempts: spec.retry.max_attempts,
            priority: spec.priority,
        });
        self.steps.push((spec, Arc::new(handler)));
        Ok(self)
    }

    pub fn spec(&self, name: &str) -> Option<&StepSpec> {
        self.steps.iter().map(|(spec, _)| spec).find(|spec| spec.name == name)
    }

    pub fn handler(&self, name: &str) -> Option<Arc<dyn StepHandler>> {
        self.steps
            .iter()
            .find(|(spec, _)| spec.name == name)
            .map(|(_, handler)| Arc::clone(handler))
    }

    /// The plan as the store records it.
    pub fn plan(&self) -> &[PlannedStep] {
        &self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    #[async_trait]
    impl StepHandler for Nothing {
        async fn run(&self, _: &StepContext) -> Result<Value, StepError> {
            Ok(Value::Null)
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(2),
            max: Duration::from_secs(30),
        };
        let cases = [(1, 1, 2), (2, 2, 4), (3, 4, 8), (4, 8, 16), (5, 15, 30), (9, 15, 30)];
        for (attempt, low, high) in cases {
            for _ in 0..50 {
                let wait = policy.backoff(attempt).as_secs_f64();
                assert!((low as f64..=high as f64).contains(&wait), "attempt {attempt}: {wait}");
            }
        }
    }

    #[test]
    fn dependencies_must_be_declared_first() {
        let result = Pipeline::new().step(StepSpec::new("analyse").after(&["extract"]), Nothing);
        assert_eq!(
            result.err(),
            Some(PlanError::UnknownDependency { step: "analyse", missing: "extract" })
        );
        let duplicate = Pipeline::new()
            .step(StepSpec::new("extract"), Nothing)
            .and_then(|p| p.step(StepSpec::new("extract"), Nothing));
        assert_eq!(duplicate.err(), Some(PlanError::Duplicate("extract")));
    }

    #[test]
    fn the_plan_lists_steps_in_order_with_their_dependencies() -> Result<(), PlanError> {
        let pipeline = Pipeline::new()
            .step(StepSpec::new("extract"), Nothing)?
            .step(StepSpec::new("analyse").after(&["extract"]), Nothing)?;
        let plan = pipeline.plan();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[1].depends_on, vec!["extract".to_owned()]);
        Ok(())
    }
}
