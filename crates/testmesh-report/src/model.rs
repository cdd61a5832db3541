//! The data of a report: what the HTML, JUnit and JSON renderers read. The JSON format is this
//! structure serialised (its schema is documented in `docs/reports.md`; bump
//! [`REPORT_SCHEMA_VERSION`] on any incompatible change).
//!
//! Durations are milliseconds, rates are percentages (0–100) with two decimals, times are RFC 3339
//! UTC and days are `YYYY-MM-DD` (UTC). Lists are sorted as documented on each field, so two
//! renderings of the same data are byte-identical.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the report JSON schema.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Title and the selection the report covers.
    pub meta: ReportMeta,
    /// Totals over the selection.
    pub summary: Summary,
    /// One entry per UTC day of the period that had executions, oldest first.
    pub daily: Vec<DailyPoint>,
    /// Every flow of the selection, by flow name.
    pub flows: Vec<FlowSummary>,
    /// Flows whose flakiness score is above zero or that are broken, highest score first (then
    /// by name); at most 20.
    pub flaky_flows: Vec<FlakyFlow>,
    /// Failed executions grouped by normalised cause, most frequent first (then by signature).
    pub failure_categories: Vec<FailureCategory>,
    /// Steps by average duration, slowest first; at most 20.
    pub slowest_steps: Vec<StepStat>,
    /// The newest failed executions with their steps, newest first; at most
    /// [`ReportMeta::failure_detail_limit`].
    pub failures: Vec<FailureDetail>,
}

/// Title, period and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMeta {
    /// Report title ("TestMesh report" unless named).
    pub title: String,
    /// When the report was generated.
    pub generated_at: DateTime<Utc>,
    /// First day covered (inclusive, UTC).
    pub from: NaiveDate,
    /// Last day covered (inclusive, UTC).
    pub to: NaiveDate,
    /// The filters applied (only those given).
    pub filters: ReportFilters,
    /// The most failures [`ReportData::failures`] holds.
    pub failure_detail_limit: usize,
}

/// What a report was restricted to; empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilters {
    /// Suites (a flow without a suite is in the suite `default`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<String>,
    /// Flow names or ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<String>,
    /// Execution statuses (`completed`, `failed`, `cancelled`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<String>,
    /// Environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
}

/// Totals over the selection. Executions still pending or running are not counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Finished executions.
    pub executions: u64,
    /// Executions that passed (`completed`).
    pub passed: u64,
    /// Executions that failed.
    pub failed: u64,
    /// Executions cancelled (not in the pass rate).
    pub cancelled: u64,
    /// passed / (passed + failed) × 100; 0 when nothing finished.
    pub pass_rate: f64,
    /// Mean execution duration.
    pub avg_duration_ms: f64,
    /// Exact nearest-rank percentiles of execution durations.
    pub p50_duration_ms: i64,
    /// 95th percentile.
    pub p95_duration_ms: i64,
    /// 99th percentile.
    pub p99_duration_ms: i64,
    /// Distinct flows run.
    pub flows: u64,
    /// Flows classified flaky.
    pub flaky_flows: u64,
    /// Flows classified broken (failing consistently).
    pub broken_flows: u64,
    /// Steps recorded.
    pub steps: u64,
    /// Steps that failed, then passed on retry.
    pub flaky_steps: u64,
}

/// One day of the trend charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyPoint {
    /// The UTC day.
    pub date: NaiveDate,
    /// Finished executions that day.
    pub executions: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// passed / (passed + failed) × 100.
    pub pass_rate: f64,
    /// Mean duration.
    pub avg_duration_ms: f64,
    /// Exact percentiles of that day's durations.
    pub p50_duration_ms: i64,
    /// 95th percentile.
    pub p95_duration_ms: i64,
    /// 99th percentile.
    pub p99_duration_ms: i64,
}

/// How a flow behaves over the window its flakiness was scored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// Every run passed (or too few failures to say otherwise).
    Stable,
    /// Fails non-deterministically: the same flow and inputs both passed and failed.
    Flaky,
    /// Fails consistently since some run (a regression), or always.
    Broken,
    /// Fewer than two finished runs.
    Unknown,
}

impl Stability {
    /// Its name, as serialised and stored: `stable`, `flaky`, `broken`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Stable => "stable",
            Stability::Flaky => "flaky",
            Stability::Broken => "broken",
            Stability::Unknown => "unknown",
        }
    }

    /// The stability a name stands for.
    pub fn parse(name: &str) -> Option<Stability> {
        [
            Stability::Stable,
            Stability::Flaky,
            Stability::Broken,
            Stability::Unknown,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One flow of the selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSummary {
    /// Stored flow id, when the executions name one.
    pub flow_id: Option<String>,
    /// Flow name.
    pub flow_name: String,
    /// Suite (`default` when none).
    pub suite: String,
    /// Finished executions.
    pub executions: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// passed / (passed + failed) × 100.
    pub pass_rate: f64,
    /// Mean duration.
    pub avg_duration_ms: f64,
    /// 95th percentile duration.
    pub p95_duration_ms: i64,
    /// Flakiness score 0–100 (see `docs/analytics.md`).
    pub flakiness_score: f64,
    /// Stable, flaky, broken or unknown.
    pub stability: Stability,
    /// The newest execution.
    pub last: ExecutionBrief,
    /// Failed executions other than the newest, newest first; at most 10.
    pub recent_failures: Vec<ExecutionBrief>,
    /// Statuses of the newest executions, oldest first; at most 30 (`passed`, `failed`,
    /// `cancelled`), for the history sparkline.
    pub history: Vec<String>,
}

/// One execution, briefly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionBrief {
    /// Execution id.
    pub execution_id: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// `passed`, `failed` or `cancelled`.
    pub status: String,
    /// Wall time.
    pub duration_ms: i64,
    /// Environment, when given.
    pub environment: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The first failed step's id, when one failed.
    pub failed_step: Option<String>,
    /// Ids of steps that failed, then passed on retry.
    pub retried_steps: Vec<String>,
}

/// A flow's flakiness over the scoring window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlakyFlow {
    /// Stored flow id, when known.
    pub flow_id: Option<String>,
    /// Flow name.
    pub flow_name: String,
    /// Score 0–100.
    pub score: f64,
    /// Flaky or broken (stable flows are not listed).
    pub stability: Stability,
    /// Finished runs in the window.
    pub runs: u64,
    /// Passed runs.
    pub passed: u64,
    /// Failed runs.
    pub failed: u64,
    /// Failures counted as non-deterministic.
    pub flaky_failures: u64,
    /// Status changes between consecutive runs.
    pub transitions: u64,
    /// Failures in a row at the end of the window.
    pub consecutive_failures: u64,
    /// Passes in a row at the end of the window.
    pub consecutive_successes: u64,
    /// Statuses oldest first, at most 30, for the sparkline.
    pub history: Vec<String>,
}

/// Failed executions that share a normalised cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureCategory {
    /// The kind of cause (`categories::KINDS`): `status_mismatch`, `assertion`, `timeout`,
    /// `connection_refused`, `dns`, `tls`, `connection`, `contract_mismatch`, `mock_unmatched`,
    /// `database`, `config`, `other`.
    pub kind: String,
    /// The normalised message (numbers, ids, durations and quoted values replaced), e.g.
    /// `expected status <n>, got <n>` or `assertion failed: body.items[<n>].price == <v>`.
    pub signature: String,
    /// Failed executions with this cause.
    pub count: u64,
    /// Flow names affected, sorted; at most 10.
    pub flows: Vec<String>,
    /// One real message of the category (the newest).
    pub example: String,
    /// When it last happened.
    pub last_seen: DateTime<Utc>,
}

/// A step's performance over the selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStat {
    /// Flow name.
    pub flow_name: String,
    /// Step id.
    pub step_id: String,
    /// Action, e.g. `http_request`.
    pub action: String,
    /// Times it ran (skipped runs are not counted).
    pub executions: u64,
    /// Mean duration.
    pub avg_duration_ms: f64,
    /// 95th percentile duration.
    pub p95_duration_ms: i64,
    /// Longest.
    pub max_duration_ms: i64,
    /// Failed runs.
    pub errors: u64,
    /// errors / executions × 100.
    pub error_rate: f64,
}

/// A failed execution with its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureDetail {
    /// The execution.
    pub execution: ExecutionBrief,
    /// Flow name.
    pub flow_name: String,
    /// Suite (`default` when none).
    pub suite: String,
    /// The failure category's signature.
    pub category: String,
    /// Its steps, in execution order.
    pub steps: Vec<StepDetail>,
}

/// One step of a failed execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDetail {
    /// Step id.
    pub step_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Action.
    pub action: String,
    /// Nesting depth (0 for top-level steps).
    pub depth: i64,
    /// `passed`, `failed` or `skipped`.
    pub status: String,
    /// Wall time of all attempts.
    pub duration_ms: i64,
    /// Attempts made.
    pub attempts: i64,
    /// Failed, then passed on retry.
    pub flaky: bool,
    /// Error kind (`assertion`, `timeout`, …) and message, when it failed.
    pub error_kind: Option<String>,
    /// The error message.
    pub error_message: Option<String>,
    /// Assertion results as recorded (`[{expression, passed, expected?, actual?}]`), when any.
    pub assertions: Option<Value>,
    /// The request sent (masked), for failed steps only.
    pub request: Option<Value>,
    /// The response received (masked), for failed steps only.
    pub response: Option<Value>,
}
