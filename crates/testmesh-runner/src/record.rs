//! What a run produces: one record per flow and per step, serialisable for reports and the store.

use std::time::Duration;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use testmesh_flow::model::Phase;

/// The outcome of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// The action succeeded and every assertion held.
    Passed,
    /// The action or an assertion failed (after all attempts).
    Failed,
    /// Not run: `when` was false, `disabled: true`, or an earlier failure stopped the phase.
    Skipped,
}

/// The outcome of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Every step that ran passed (or failed with `on_error: continue`).
    Passed,
    /// A step failed, the flow timed out, or setup/teardown failed.
    Failed,
    /// Not run (filtered out).
    Skipped,
}

/// Why a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The step or the flow ran out of time.
    Timeout,
    /// The target could not be reached (refused, DNS, TLS, reset).
    Connection,
    /// An assertion was false.
    Assertion,
    /// The action itself reported an error (SQL error, bad response, …).
    Action,
    /// The config could not be rendered or decoded (undefined reference, wrong type).
    Config,
    /// The action is known but not available in this build.
    Unsupported,
}

/// A step failure.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// Category, used by `retry_on: [timeout, connection_error]` and reports.
    pub kind: ErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

impl StepError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StepError {
            kind,
            message: message.into(),
        }
    }

    /// An action error.
    pub fn action(message: impl Into<String>) -> Self {
        StepError::new(ErrorKind::Action, message)
    }

    /// A config error.
    pub fn config(message: impl Into<String>) -> Self {
        StepError::new(ErrorKind::Config, message)
    }
}

/// One evaluated assertion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssertionRecord {
    /// The expression as written.
    pub expression: String,
    /// Whether it held.
    pub passed: bool,
    /// Failure text (the user's `message` when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The actual value of a failed comparison's left side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    /// The expected value of a failed comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
}

/// Everything known about one step after it ran (or was skipped).
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// Step id.
    pub id: String,
    /// The phase of a top-level step (`setup`, `main`, `on_error`, `teardown`); nested steps have
    /// none (theirs is their parent's).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "phase_name")]
    pub phase: Option<Phase>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The action as written.
    pub action: String,
    /// Outcome.
    pub status: StepStatus,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
    /// A failure was followed by a pass on retry: the step is flaky.
    pub flaky: bool,
    /// When the first attempt started.
    pub started_at: DateTime<Utc>,
    /// Wall time of all attempts, including retry delays.
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    /// The rendered request (secrets masked), for actions that send one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The response (secrets masked), for actions that receive one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// The action's result, as assertions and outputs see it (secrets masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Named outputs kept after the step.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Value>,
    /// Evaluated assertions of the last attempt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionRecord>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The failure was recorded but the flow went on (`on_error: continue`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
    /// Records of nested steps (condition branches, loop iterations, parallel children, error_steps).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<StepRecord>,
}

impl StepRecord {
    /// A record for a step that did not run.
    pub fn skipped(id: &str, name: Option<&str>, action: &str, reason: impl Into<String>) -> Self {
        StepRecord {
            id: id.to_string(),
            phase: None,
            name: name.map(str::to_string),
            action: action.to_string(),
            status: StepStatus::Skipped,
            attempts: 0,
            flaky: false,
            started_at: Utc::now(),
            duration: Duration::ZERO,
            request: None,
            response: None,
            result: None,
            outputs: IndexMap::new(),
            assertions: Vec::new(),
            error: None,
            skip_reason: Some(reason.into()),
            continued: false,
            children: Vec::new(),
        }
    }

    /// The step and every nested step, depth first.
    pub fn walk(&self) -> Vec<&StepRecord> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.walk());
        }
        out
    }
}

/// Everything known about one flow after it ran.
#[derive(Debug, Clone, Serialize)]
pub struct FlowRecord {
    /// Execution id.
    pub execution_id: String,
    /// Flow name.
    pub name: String,
    /// The file it came from, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Suite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Outcome.
    pub status: FlowStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Wall time.
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    /// Step records of every phase in run order.
    pub steps: Vec<StepRecord>,
    /// Why the flow failed, e.g. `[main] step 'pay' (http_request): …`, or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run was cancelled ([`crate::RunOptions::cancel`]): the steps left were skipped and
    /// teardown ran. A cancelled flow has the status `failed`: it did not pass.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// The flow's outputs: every named step output, by name (what `run_flow` callers see).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Value>,
}

impl FlowRecord {
    /// Every step record, nested ones included.
    pub fn all_steps(&self) -> Vec<&StepRecord> {
        self.steps.iter().flat_map(StepRecord::walk).collect()
    }

    /// How many step records there are of each status, nested ones included.
    pub fn step_counts(&self) -> StepCounts {
        let mut counts = StepCounts::default();
        for step in self.all_steps() {
            counts.total += 1;
            match step.status {
                StepStatus::Passed => counts.passed += 1,
                StepStatus::Failed => counts.failed += 1,
                StepStatus::Skipped => counts.skipped += 1,
            }
        }
        counts
    }
}

/// Step records by status (see [`FlowRecord::step_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StepCounts {
    /// Every step record.
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

fn phase_name<S: serde::Serializer>(phase: &Option<Phase>, s: S) -> Result<S::Ok, S::Error> {
    match phase {
        Some(phase) => s.serialize_str(phase.name()),
        None => s.serialize_none(),
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
