//! Analytics storage: the facts aggregation reads (finished executions and their steps, streamed
//! in one ordered scan per table), the rows it writes (daily metrics per workspace, suite and flow,
//! with and without an environment; step performance per day, flow, step and action; flakiness per
//! flow and window), the queries the API and the dashboard make over them, and the record of each
//! aggregation run.
//!
//! The store computes nothing here: `testmesh-report` turns facts into rows (exact percentiles,
//! flakiness scores) and hands them back to [`Store::replace_analytics`], which rewrites the days
//! (and the window) it is given inside one transaction, so running an aggregation twice leaves the
//! same rows.
//!
//! Days are UTC calendar days; an execution counts on the day it was created. Runs without an
//! environment are in the environment [`DEFAULT_ENVIRONMENT`], flows without a suite in the suite
//! [`DEFAULT_SUITE`]; rows over all environments have `environment: None`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{
    Backend, RowExt, Sql, fetch_page, from_ms, new_id, now_ms, page_bounds, to_json_text,
};
use crate::error::{Error, Result};
use crate::executions::{ExecutionStatus, Trigger};
use crate::{Page, Store};

/// The environment of runs that name none.
pub const DEFAULT_ENVIRONMENT: &str = "default";
/// The suite of flows that name none.
pub const DEFAULT_SUITE: &str = "default";
/// The stored `environment` of rows over all environments (never a run's environment: those
/// without one are in [`DEFAULT_ENVIRONMENT`]).
const ALL_ENVIRONMENTS: &str = "";
/// Values bound per statement stay below SQLite's limit (32766).
const MAX_BOUND_VALUES: usize = 32_000;

/// The first millisecond of a UTC day (since the epoch).
pub fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// The UTC day of a time in milliseconds since the epoch.
pub fn day_of_ms(ms: i64) -> NaiveDate {
    from_ms(ms).date_naive()
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(col: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| Error::Corrupt(format!("column {col} holds `{text}`, not a day: {e}")))
}

fn float(row: &AnyRow, col: &str) -> Result<f64> {
    Ok(row.try_get::<f64, _>(col)?)
}

/// `sum / count`, two decimals; `None` without anything counted.
fn mean(sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| round2(sum as f64 / count as f64))
}

/// `part` / `whole` × 100, rounded to two decimals; 0 when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        round2(part as f64 * 100.0 / whole as f64)
    }
}

/// Rounds to two decimals.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Facts: what aggregation and reports read.
// ---------------------------------------------------------------------------------------------

/// Which executions to read: created on the days `from..=to` (UTC), in any of the listed
/// suites, flows, statuses and environments (an empty list means all). Every value is bound as a
/// parameter.
#[derive(Debug, Clone)]
pub struct FactFilter {
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Suites; [`DEFAULT_SUITE`] also matches executions without a suite.
    pub suites: Vec<String>,
    /// Flow ids or names.
    pub flows: Vec<String>,
    /// Statuses; when empty, every final one (completed, failed, cancelled). Pending and running
    /// executions are never read.
    pub statuses: Vec<ExecutionStatus>,
    /// Environments; [`DEFAULT_ENVIRONMENT`] also matches executions without one.
    pub environments: Vec<String>,
}

impl FactFilter {
    /// Every finished execution of the days `from..=to`.
    pub fn days(from: NaiveDate, to: NaiveDate) -> FactFilter {
        FactFilter {
            from,
            to,
            suites: Vec::new(),
            flows: Vec::new(),
            statuses: Vec::new(),
            environments: Vec::new(),
        }
    }

    /// `WHERE …` over the executions table under `alias` (`""` or `"e."`).
    fn push_where(&self, sql: &mut Sql, alias: &str, workspace_id: &str) {
        let col = |name: &str| format!("{alias}{name}");
        // The first millisecond after the last day (no day follows NaiveDate::MAX).
        let end = self
            .to
            .checked_add_days(Days::new(1))
            .map_or(i64::MAX, day_start_ms);
        sql.push(" WHERE ")
            .push(&col("workspace_id"))
            .push(" = ")
            .bind(workspace_id)
            .push(" AND ")
            .push(&col("created_at"))
            .push(" >= ")
            .bind(day_start_ms(self.from))
            .push(" AND ")
            .push(&col("created_at"))
            .push(" < ")
            .bind(end);
        let statuses: Vec<&str> = if self.statuses.is_empty() {
            vec!["completed", "failed", "cancelled"]
        } else {
            self.statuses
                .iter()
                .filter(|s| s.is_final())
                .map(|s| s.as_str())
                .collect()
        };
        sql.push(" AND ").push(&col("status"));
        push_in(sql, statuses.iter().copied());
        if !self.suites.is_empty() {
            sql.push(" AND (").push(&col("suite"));
            push_in(sql, self.suites.iter().map(String::as_str));
            if self.suites.iter().any(|s| s == DEFAULT_SUITE) {
                sql.push(" OR ")
                    .push(&col("suite"))
                    .push(" IS NULL OR ")
                    .push(&col("suite"))
                    .push(" = ''");
            }
            sql.push(")");
        }
        if !self.flows.is_empty() {
            sql.push(" AND (").push(&col("flow_id"));
            push_in(sql, self.flows.iter().map(String::as_str));
            sql.push(" OR ").push(&col("flow_name"));
            push_in(sql, self.flows.iter().map(String::as_str));
            sql.push(")");
        }
        if !self.environments.is_empty() {
            sql.push(" AND (").push(&col("environment"));
            push_in(sql, self.environments.iter().map(String::as_str));
            if self.environments.iter().any(|e| e == DEFAULT_ENVIRONMENT) {
                sql.push(" OR ")
                    .push(&col("environment"))
                    .push(" IS NULL OR ")
                    .push(&col("environment"))
                    .push(" = ''");
            }
            sql.push(")");
        }
    }
}

/// ` IN ($1, $2, …)`; an empty list matches nothing.
fn push_in<'a>(sql: &mut Sql, values: impl Iterator<Item = &'a str>) {
    sql.push(" IN (");
    let mut any = false;
    for (i, value) in values.enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(value);
        any = true;
    }
    if !any {
        sql.push("NULL");
    }
    sql.push(")");
}

/// One finished execution, as aggregation and reports read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionFact {
    /// Execution id.
    pub id: String,
    /// The stored flow, when the run is of one.
    pub flow_id: Option<String>,
    /// The flow version run.
    pub flow_version: Option<i64>,
    /// Flow name at the time of the run.
    pub flow_name: String,
    /// Suite at the time of the run.
    pub suite: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// Completed, failed or cancelled.
    pub status: ExecutionStatus,
    /// When it was created (its day is the day it counts on).
    pub created_at: DateTime<Utc>,
    /// Wall time.
    pub duration_ms: Option<i64>,
    /// Steps recorded (nested ones included).
    pub total_steps: i64,
    /// Steps passed.
    pub passed_steps: i64,
    /// Steps failed.
    pub failed_steps: i64,
    /// Steps skipped.
    pub skipped_steps: i64,
    /// Why it failed.
    pub error: Option<String>,
}

impl ExecutionFact {
    /// What identifies the flow in analytics: its id, or its name for runs not tied to a stored
    /// flow.
    pub fn flow_key(&self) -> &str {
        self.flow_id.as_deref().unwrap_or(&self.flow_name)
    }

    /// The suite, [`DEFAULT_SUITE`] when none.
    pub fn suite_name(&self) -> &str {
        match self.suite.as_deref() {
            Some(s) if !s.is_empty() => s,
            _ => DEFAULT_SUITE,
        }
    }

    /// The environment, [`DEFAULT_ENVIRONMENT`] when none.
    pub fn environment_name(&self) -> &str {
        match self.environment.as_deref() {
            Some(e) if !e.is_empty() => e,
            _ => DEFAULT_ENVIRONMENT,
        }
    }

    fn from_row(row: &AnyRow) -> Result<ExecutionFact> {
        let status: &str = row.try_get(6)?;
        Ok(ExecutionFact {
            id: row.try_get(0)?,
            flow_id: row.try_get(1)?,
            flow_version: row.try_get(2)?,
            flow_name: row.try_get(3)?,
            suite: row.try_get(4)?,
            environment: row.try_get(5)?,
            status: ExecutionStatus::parse(status)
                .ok_or_else(|| Error::Corrupt(format!("unknown execution status `{status}`")))?,
            created_at: from_ms(row.try_get(7)?),
            duration_ms: row.try_get(8)?,
            total_steps: row.try_get(9)?,
            passed_steps: row.try_get(10)?,
            failed_steps: row.try_get(11)?,
            skipped_steps: row.try_get(12)?,
            error: row.try_get(13)?,
        })
    }
}

/// One recorded step of a finished execution, borrowed from the row being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFact<'r> {
    /// The execution it belongs to.
    pub execution_id: &'r str,
    /// That execution's flow key (its flow's id, or its name for runs not tied to a stored flow).
    pub flow_key: &'r str,
    /// When that execution was created (its day is the day the step counts on).
    pub created_at: DateTime<Utc>,
    /// Position in the execution (depth first, from 0).
    pub seq: i64,
    /// Nesting depth (0 for top-level steps).
    pub depth: i64,
    /// Step id.
    pub step_id: &'r str,
    /// Action.
    pub action: &'r str,
    /// `passed`, `failed` or `skipped`.
    pub status: &'r str,
    /// Failed, then passed on retry.
    pub flaky: bool,
    /// Wall time of all attempts.
    pub duration_ms: i64,
    /// Error category, when it failed.
    pub error_kind: Option<&'r str>,
    /// Error text, when it failed.
    pub error_message: Option<&'r str>,
}

impl<'r> StepFact<'r> {
    fn from_row(row: &'r AnyRow) -> Result<StepFact<'r>> {
        Ok(StepFact {
            execution_id: row.try_get(0)?,
            seq: row.try_get(1)?,
            depth: row.try_get(2)?,
            step_id: row.try_get(3)?,
            action: row.try_get(4)?,
            status: row.try_get(5)?,
            flaky: row.try_get::<i64, _>(6)? != 0,
            duration_ms: row.try_get(7)?,
            error_kind: row.try_get(8)?,
            error_message: row.try_get(9)?,
            flow_key: row.try_get(10)?,
            created_at: from_ms(row.try_get(11)?),
        })
    }
}

/// The runs of one step (id and action) of one flow, as [`Store::step_groups`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepGroup {
    /// The UTC day, when the groups were asked for per day.
    pub day: Option<NaiveDate>,
    /// The flow's key (its id, or its name for runs not tied to a stored flow).
    pub flow_key: String,
    /// Step id.
    pub step_id: String,
    /// Action.
    pub action: String,
    /// Times it ran.
    pub runs: i64,
    /// Runs that failed.
    pub errors: i64,
    /// Runs that failed, then passed on a retry.
    pub flaky: i64,
    /// The duration of every run, in no particular order.
    pub durations: Vec<i64>,
}

// ---------------------------------------------------------------------------------------------
// Rows: what aggregation writes.
// ---------------------------------------------------------------------------------------------

/// What a daily metric row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricScope {
    /// Every execution of the workspace that day.
    All,
    /// The executions of one suite.
    Suite,
    /// The executions of one flow.
    Flow,
}

impl MetricScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricScope::All => "all",
            MetricScope::Suite => "suite",
            MetricScope::Flow => "flow",
        }
    }

    /// The scope of a stored or user-given name.
    pub fn parse(name: &str) -> Option<MetricScope> {
        match name {
            "all" => Some(MetricScope::All),
            "suite" => Some(MetricScope::Suite),
            "flow" => Some(MetricScope::Flow),
            _ => None,
        }
    }
}

/// Daily metrics of one day, scope and environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyMetric {
    /// The UTC day.
    pub day: NaiveDate,
    /// All executions, one suite or one flow.
    pub scope: MetricScope,
    /// `""` for the scope `all`, the suite's name, or the flow's key (its id, or its name when the
    /// runs are not tied to a stored flow).
    pub subject: String,
    /// The environment; `None` for the row over all environments.
    pub environment: Option<String>,
    /// The flow's id (flow rows of stored flows).
    pub flow_id: Option<String>,
    /// The flow's name (flow rows).
    pub flow_name: Option<String>,
    /// The suite (suite rows, and flow rows: the suite of the flow's newest run that day).
    pub suite: Option<String>,
    /// Distinct flows run.
    pub flows: i64,
    /// Finished executions (passed, failed and cancelled).
    pub total_executions: i64,
    /// Executions that passed (stored status `completed`).
    pub passed_executions: i64,
    /// Executions that failed.
    pub failed_executions: i64,
    /// Executions cancelled.
    pub cancelled_executions: i64,
    /// passed / (passed + failed) × 100, two decimals; 0 without such runs. Computed on read.
    pub pass_rate: f64,
    /// Passed and failed executions with a duration (cancelled runs stopped early).
    pub timed_executions: i64,
    /// The sum of their durations.
    pub total_duration_ms: i64,
    /// Their mean, two decimals: `total_duration_ms / timed_executions`, computed on read.
    pub avg_duration_ms: Option<f64>,
    /// Their shortest.
    pub min_duration_ms: Option<i64>,
    /// Their longest.
    pub max_duration_ms: Option<i64>,
    /// Exact nearest-rank 50th percentile.
    pub p50_duration_ms: Option<i64>,
    /// 95th percentile.
    pub p95_duration_ms: Option<i64>,
    /// 99th percentile.
    pub p99_duration_ms: Option<i64>,
    /// Steps recorded (nested ones included).
    pub total_steps: i64,
    /// Steps passed.
    pub passed_steps: i64,
    /// Steps failed.
    pub failed_steps: i64,
    /// Steps skipped.
    pub skipped_steps: i64,
    /// Steps that failed, then passed on retry.
    pub flaky_steps: i64,
    /// When the row was computed.
    pub computed_at: DateTime<Utc>,
}

const DAILY_COLUMNS: &str = "workspace_id, day, scope, subject, environment, flow_id, flow_name, suite, flows, total_executions, passed_executions, failed_executions, cancelled_executions, timed_executions, total_duration_ms, min_duration_ms, max_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms, total_steps, passed_steps, failed_steps, skipped_steps, flaky_steps, computed_at";
const DAILY_COLUMN_COUNT: usize = 26;

impl DailyMetric {
    fn from_row(row: &AnyRow) -> Result<DailyMetric> {
        let scope = row.text("scope")?;
        let environment = row.text("environment")?;
        let passed = row.int("passed_executions")?;
        let failed = row.int("failed_executions")?;
        let timed = row.int("timed_executions")?;
        let total = row.int("total_duration_ms")?;
        Ok(DailyMetric {
            day: parse_day("day", &row.text("day")?)?,
            scope: MetricScope::parse(&scope)
                .ok_or_else(|| Error::Corrupt(format!("unknown metric scope `{scope}`")))?,
            subject: row.text("subject")?,
            environment: (environment != ALL_ENVIRONMENTS).then_some(environment),
            flow_id: row.opt_text("flow_id")?,
            flow_name: row.opt_text("flow_name")?,
            suite: row.opt_text("suite")?,
            flows: row.int("flows")?,
            total_executions: row.int("total_executions")?,
            passed_executions: passed,
            failed_executions: failed,
            cancelled_executions: row.int("cancelled_executions")?,
            pass_rate: rate(passed, passed + failed),
            timed_executions: timed,
            total_duration_ms: total,
            avg_duration_ms: mean(total, timed),
            min_duration_ms: row.opt_int("min_duration_ms")?,
            max_duration_ms: row.opt_int("max_duration_ms")?,
            p50_duration_ms: row.opt_int("p50_duration_ms")?,
            p95_duration_ms: row.opt_int("p95_duration_ms")?,
            p99_duration_ms: row.opt_int("p99_duration_ms")?,
            total_steps: row.int("total_steps")?,
            passed_steps: row.int("passed_steps")?,
            failed_steps: row.int("failed_steps")?,
            skipped_steps: row.int("skipped_steps")?,
            flaky_steps: row.int("flaky_steps")?,
            computed_at: row.time("computed_at")?,
        })
    }

    fn bind(&self, sql: &mut Sql, workspace_id: &str) {
        sql.bind(workspace_id)
            .push(", ")
            .bind(day_text(self.day))
            .push(", ")
            .bind(self.scope.as_str())
            .push(", ")
            .bind(self.subject.as_str())
            .push(", ")
            .bind(self.environment.as_deref().unwrap_or(ALL_ENVIRONMENTS))
            .push(", ")
            .bind(self.flow_id.as_deref())
            .push(", ")
            .bind(self.flow_name.as_deref())
            .push(", ")
            .bind(self.suite.as_deref())
            .push(", ")
            .bind(self.flows)
            .push(", ")
            .bind(self.total_executions)
            .push(", ")
            .bind(self.passed_executions)
            .push(", ")
            .bind(self.failed_executions)
            .push(", ")
            .bind(self.cancelled_executions)
            .push(", ")
            .bind(self.timed_executions)
            .push(", ")
            .bind(self.total_duration_ms)
            .push(", ")
            .bind(self.min_duration_ms)
            .push(", ")
            .bind(self.max_duration_ms)
            .push(", ")
            .bind(self.p50_duration_ms)
            .push(", ")
            .bind(self.p95_duration_ms)
            .push(", ")
            .bind(self.p99_duration_ms)
            .push(", ")
            .bind(self.total_steps)
            .push(", ")
            .bind(self.passed_steps)
            .push(", ")
            .bind(self.failed_steps)
            .push(", ")
            .bind(self.skipped_steps)
            .push(", ")
            .bind(self.flaky_steps)
            .push(", ")
            .bind(self.computed_at.timestamp_millis());
    }
}

/// How one step of one flow performed on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepPerformance {
    /// The UTC day.
    pub day: NaiveDate,
    /// The flow's key (its id, or its name when the runs are not tied to a stored flow).
    pub flow_key: String,
    /// The flow's id, for stored flows.
    pub flow_id: Option<String>,
    /// The flow's name.
    pub flow_name: String,
    /// Step id.
    pub step_id: String,
    /// Action, e.g. `http_request`.
    pub step_action: String,
    /// Times the step ran (skipped runs are not counted).
    pub total_executions: i64,
    /// Runs that failed.
    pub error_count: i64,
    /// Runs that failed, then passed on retry.
    pub flaky_count: i64,
    /// error_count / total_executions × 100, two decimals.
    pub error_rate: f64,
    /// Sum of the durations.
    pub total_duration_ms: i64,
    /// Mean duration, two decimals.
    pub avg_duration_ms: f64,
    /// Shortest.
    pub min_duration_ms: i64,
    /// Longest.
    pub max_duration_ms: i64,
    /// Exact nearest-rank 50th percentile.
    pub p50_duration_ms: i64,
    /// 95th percentile.
    pub p95_duration_ms: i64,
    /// 99th percentile.
    pub p99_duration_ms: i64,
    /// Up to 5 distinct error messages, the most frequent first (ties by text).
    pub errors: Vec<String>,
    /// When the row was computed.
    pub computed_at: DateTime<Utc>,
}

const STEP_COLUMNS: &str = "workspace_id, day, flow_key, flow_id, flow_name, step_id, action, total_executions, error_count, flaky_count, error_rate, total_duration_ms, avg_duration_ms, min_duration_ms, max_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms, errors, computed_at";
const STEP_COLUMN_COUNT: usize = 20;

impl StepPerformance {
    fn from_row(row: &AnyRow) -> Result<StepPerformance> {
        Ok(StepPerformance {
            day: parse_day("day", &row.text("day")?)?,
            flow_key: row.text("flow_key")?,
            flow_id: row.opt_text("flow_id")?,
            flow_name: row.text("flow_name")?,
            step_id: row.text("step_id")?,
            step_action: row.text("action")?,
            total_executions: row.int("total_executions")?,
            error_count: row.int("error_count")?,
            flaky_count: row.int("flaky_count")?,
            error_rate: float(row, "error_rate")?,
            total_duration_ms: row.int("total_duration_ms")?,
            avg_duration_ms: float(row, "avg_duration_ms")?,
            min_duration_ms: row.int("min_duration_ms")?,
            max_duration_ms: row.int("max_duration_ms")?,
            p50_duration_ms: row.int("p50_duration_ms")?,
            p95_duration_ms: row.int("p95_duration_ms")?,
            p99_duration_ms: row.int("p99_duration_ms")?,
            errors: row.string_list("errors")?,
            computed_at: row.time("computed_at")?,
        })
    }

    fn bind(&self, sql: &mut Sql, workspace_id: &str) {
        sql.bind(workspace_id)
            .push(", ")
            .bind(day_text(self.day))
            .push(", ")
            .bind(self.flow_key.as_str())
            .push(", ")
            .bind(self.flow_id.as_deref())
            .push(", ")
            .bind(self.flow_name.as_str())
            .push(", ")
            .bind(self.step_id.as_str())
            .push(", ")
            .bind(self.step_action.as_str())
            .push(", ")
            .bind(self.total_executions)
            .push(", ")
            .bind(self.error_count)
            .push(", ")
            .bind(self.flaky_count)
            .push(", ")
            .bind(self.error_rate)
            .push(", ")
            .bind(self.total_duration_ms)
            .push(", ")
            .bind(self.avg_duration_ms)
            .push(", ")
            .bind(self.min_duration_ms)
            .push(", ")
            .bind(self.max_duration_ms)
            .push(", ")
            .bind(self.p50_duration_ms)
            .push(", ")
            .bind(self.p95_duration_ms)
            .push(", ")
            .bind(self.p99_duration_ms)
            .push(", ")
            .bind(to_json_text(&self.errors))
            .push(", ")
            .bind(self.computed_at.timestamp_millis());
    }
}

/// The days a flakiness score covers: `days` whole UTC days from `start` to `end` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlakinessWindow {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Days in the window.
    pub days: u32,
}

impl FlakinessWindow {
    /// The `days` days ending with `end` (at least one).
    pub fn ending(end: NaiveDate, days: u32) -> FlakinessWindow {
        let days = days.max(1);
        FlakinessWindow {
            start: end
                .checked_sub_days(Days::new(u64::from(days) - 1))
                .unwrap_or(NaiveDate::MIN),
            end,
            days,
        }
    }
}

/// One flow's flakiness over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakinessRecord {
    /// The flow's key (its id, or its name when the runs are not tied to a stored flow).
    pub flow_key: String,
    /// The flow's id, for stored flows.
    pub flow_id: Option<String>,
    /// The flow's name (of its newest run).
    pub flow_name: String,
    /// Its suite (of its newest run).
    pub suite: Option<String>,
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window.
    pub window_end: NaiveDate,
    /// Days in the window.
    pub window_days: u32,
    /// Score 0–100 (see docs/analytics.md).
    pub flakiness_score: f64,
    /// `stable`, `flaky`, `broken` or `unknown`.
    pub stability: String,
    /// Passed and failed runs in the window (cancelled ones are not scored).
    pub total_runs: i64,
    /// Passed runs.
    pub passed_runs: i64,
    /// Failed runs.
    pub failed_runs: i64,
    /// Failures counted as non-deterministic.
    pub flaky_failures: i64,
    /// Status changes between consecutive runs.
    pub transitions: i64,
    /// Failures in a row at the end of the window.
    pub consecutive_failures: i64,
    /// Passes in a row at the end of the window.
    pub consecutive_successes: i64,
    /// The newest runs, oldest first, at most 30: `P` passed, `F` failed.
    pub history: String,
    /// When the newest run of the window was created.
    pub last_run_at: DateTime<Utc>,
    /// When the row was computed.
    pub computed_at: DateTime<Utc>,
}

const FLAKINESS_COLUMNS: &str = "workspace_id, flow_key, flow_id, flow_name, suite, window_start, window_end, window_days, flakiness_score, stability, total_runs, passed_runs, failed_runs, flaky_failures, transitions, consecutive_failures, consecutive_successes, history, last_run_at, computed_at";
const FLAKINESS_COLUMN_COUNT: usize = 20;

/// The stabilities a flakiness row can have.
pub const STABILITIES: [&str; 4] = ["stable", "flaky", "broken", "unknown"];

/// A stored window length; a value no window can have is corrupt data, not a zero.
fn window_days(row: &AnyRow) -> Result<u32> {
    let days = row.int("window_days")?;
    u32::try_from(days)
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| Error::Corrupt(format!("analytics_flakiness.window_days is {days}")))
}

impl FlakinessRecord {
    fn from_row(row: &AnyRow) -> Result<FlakinessRecord> {
        Ok(FlakinessRecord {
            flow_key: row.text("flow_key")?,
            flow_id: row.opt_text("flow_id")?,
            flow_name: row.text("flow_name")?,
            suite: row.opt_text("suite")?,
            window_start: parse_day("window_start", &row.text("window_start")?)?,
            window_end: parse_day("window_end", &row.text("window_end")?)?,
            window_days: window_days(row)?,
            flakiness_score: float(row, "flakiness_score")?,
            stability: row.text("stability")?,
            total_runs: row.int("total_runs")?,
            passed_runs: row.int("passed_runs")?,
            failed_runs: row.int("failed_runs")?,
            flaky_failures: row.int("flaky_failures")?,
            transitions: row.int("transitions")?,
            consecutive_failures: row.int("consecutive_failures")?,
            consecutive_successes: row.int("consecutive_successes")?,
            history: row.text("history")?,
            last_run_at: row.time("last_run_at")?,
            computed_at: row.time("computed_at")?,
        })
    }

    fn bind(&self, sql: &mut Sql, workspace_id: &str) {
        sql.bind(workspace_id)
            .push(", ")
            .bind(self.flow_key.as_str())
            .push(", ")
            .bind(self.flow_id.as_deref())
            .push(", ")
            .bind(self.flow_name.as_str())
            .push(", ")
            .bind(self.suite.as_deref())
            .push(", ")
            .bind(day_text(self.window_start))
            .push(", ")
            .bind(day_text(self.window_end))
            .push(", ")
            .bind(i64::from(self.window_days))
            .push(", ")
            .bind(self.flakiness_score)
            .push(", ")
            .bind(self.stability.as_str())
            .push(", ")
            .bind(self.total_runs)
            .push(", ")
            .bind(self.passed_runs)
            .push(", ")
            .bind(self.failed_runs)
            .push(", ")
            .bind(self.flaky_failures)
            .push(", ")
            .bind(self.transitions)
            .push(", ")
            .bind(self.consecutive_failures)
            .push(", ")
            .bind(self.consecutive_successes)
            .push(", ")
            .bind(self.history.as_str())
            .push(", ")
            .bind(self.last_run_at.timestamp_millis())
            .push(", ")
            .bind(self.computed_at.timestamp_millis());
    }
}

/// What one aggregation computed: the rows that replace those of the days `from..=to`, and the
/// flakiness rows that replace those of `flakiness.0`.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticsWrite<'a> {
    /// First day replaced.
    pub from: NaiveDate,
    /// Last day replaced.
    pub to: NaiveDate,
    /// Daily metric rows, all of days within `from..=to`.
    pub daily: &'a [DailyMetric],
    /// Step performance rows, all of days within `from..=to`.
    pub steps: &'a [StepPerformance],
    /// The window scored and its rows.
    pub flakiness: Option<(FlakinessWindow, &'a [FlakinessRecord])>,
}

// ---------------------------------------------------------------------------------------------
// Queries: filters of the API.
// ---------------------------------------------------------------------------------------------

/// Filters for [`Store::list_daily_metrics`], [`Store::metric_summary`] and
/// [`Store::metric_trends`]. Every value is bound as a parameter.
#[derive(Debug, Clone, Default)]
pub struct MetricFilter {
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    pub to: Option<NaiveDate>,
    /// Only rows of this scope. Lists show every scope when `None`; summaries and trends use
    /// [`MetricScope::All`] unless `suite` or `flow` say otherwise.
    pub scope: Option<MetricScope>,
    /// Only rows of this suite (suite rows, and flow rows of flows in it).
    pub suite: Option<String>,
    /// Only flow rows of this flow (its id or name).
    pub flow: Option<String>,
    /// Only rows of this environment; `None` reads the rows over all environments.
    pub environment: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

impl MetricFilter {
    /// The scope a summary or a trend reads: a flow's rows when a flow is named, a suite's when a
    /// suite is, else `scope` or all.
    fn single_scope(&self) -> MetricScope {
        if self.flow.is_some() {
            MetricScope::Flow
        } else if self.suite.is_some() {
            MetricScope::Suite
        } else {
            self.scope.unwrap_or(MetricScope::All)
        }
    }

    fn push_where(&self, sql: &mut Sql, workspace_id: &str, scope: Option<MetricScope>) {
        sql.push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND environment = ")
            .bind(self.environment.as_deref().unwrap_or(ALL_ENVIRONMENTS));
        if let Some(scope) = scope {
            sql.push(" AND scope = ").bind(scope.as_str());
        }
        if let Some(from) = self.from {
            sql.push(" AND day >= ").bind(day_text(from));
        }
        if let Some(to) = self.to {
            sql.push(" AND day <= ").bind(day_text(to));
        }
        if let Some(suite) = &self.suite {
            sql.push(" AND suite = ").bind(suite.as_str());
        }
        if let Some(flow) = &self.flow {
            sql.push(" AND scope = 'flow' AND (subject = ")
                .bind(flow.as_str())
                .push(" OR flow_name = ")
                .bind(flow.as_str())
                .push(")");
        }
    }
}

/// Totals over the daily rows a [`MetricFilter`] selects (one scope: see
/// [`MetricFilter::scope`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricSummary {
    /// Days with rows.
    pub days: i64,
    /// Finished executions.
    pub total_executions: i64,
    /// Passed.
    pub passed_executions: i64,
    /// Failed.
    pub failed_executions: i64,
    /// Cancelled.
    pub cancelled_executions: i64,
    /// passed / (passed + failed) × 100, two decimals.
    pub pass_rate: f64,
    /// Mean duration of passed and failed executions over every day (exact: sums over counts).
    pub avg_duration_ms: Option<f64>,
    /// Steps recorded.
    pub total_steps: i64,
    /// Steps passed.
    pub passed_steps: i64,
    /// Steps failed.
    pub failed_steps: i64,
    /// Steps skipped.
    pub skipped_steps: i64,
    /// Steps that passed on retry.
    pub flaky_steps: i64,
}

/// The periods of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendPeriod {
    /// One point per UTC day.
    Day,
    /// One point per ISO week (Monday to Sunday).
    Week,
    /// One point per calendar month.
    Month,
}

impl TrendPeriod {
    /// Parses `day`, `week` or `month`.
    pub fn parse(name: &str) -> Option<TrendPeriod> {
        match name {
            "day" => Some(TrendPeriod::Day),
            "week" => Some(TrendPeriod::Week),
            "month" => Some(TrendPeriod::Month),
            _ => None,
        }
    }

    /// The first day of the period `day` is in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            TrendPeriod::Day => day,
            TrendPeriod::Week => day
                .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                .unwrap_or(day),
            TrendPeriod::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// One point of a trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The first day of the period.
    pub date: NaiveDate,
    /// Days of the period with executions.
    pub days: i64,
    /// Finished executions.
    pub executions: i64,
    /// Passed.
    pub passed: i64,
    /// Failed.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// passed / (passed + failed) × 100, two decimals.
    pub pass_rate: f64,
    /// Mean duration (exact over the period).
    pub avg_duration_ms: Option<f64>,
    /// Exact percentiles of the day's durations: per-day points only (percentiles of several
    /// days cannot be computed from daily rows; a report over the period has them).
    pub p50_duration_ms: Option<i64>,
    /// 95th percentile (per-day points only).
    pub p95_duration_ms: Option<i64>,
    /// 99th percentile (per-day points only).
    pub p99_duration_ms: Option<i64>,
    /// Steps that passed on retry.
    pub flaky_steps: i64,
}

/// Filters for [`Store::list_step_performance`].
#[derive(Debug, Clone, Default)]
pub struct StepFilter {
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    pub to: Option<NaiveDate>,
    /// Only steps of this flow (its id or name).
    pub flow: Option<String>,
    /// Only steps with this id.
    pub step_id: Option<String>,
    /// Only steps of this action.
    pub action: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Filters for [`Store::list_flakiness`].
#[derive(Debug, Clone, Default)]
pub struct FlakinessFilter {
    /// The window's last day; the newest window computed when `None`. Ignored with `flow`.
    pub window_end: Option<NaiveDate>,
    /// A flow (its id or name): its rows of every window, newest first.
    pub flow: Option<String>,
    /// Only these stabilities.
    pub stabilities: Vec<String>,
    /// Only scores at or above this.
    pub min_score: Option<f64>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Where an aggregation run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalyticsRunStatus {
    /// Under way (or its process died: see `started_at`).
    Running,
    /// Finished; its rows are written.
    Completed,
    /// Stopped on an error; nothing of it was written.
    Failed,
}

impl AnalyticsRunStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalyticsRunStatus::Running => "running",
            AnalyticsRunStatus::Completed => "completed",
            AnalyticsRunStatus::Failed => "failed",
        }
    }

    fn parse(name: &str) -> Option<AnalyticsRunStatus> {
        match name {
            "running" => Some(AnalyticsRunStatus::Running),
            "completed" => Some(AnalyticsRunStatus::Completed),
            "failed" => Some(AnalyticsRunStatus::Failed),
            _ => None,
        }
    }
}

/// One aggregation: who asked, for which days, how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyticsRun {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// First day aggregated.
    pub from: NaiveDate,
    /// Last day aggregated.
    pub to: NaiveDate,
    /// `cli`, `api` or `schedule`.
    pub triggered_by: Trigger,
    /// Running, completed or failed.
    pub status: AnalyticsRunStatus,
    /// Executions read.
    pub executions: i64,
    /// Steps read.
    pub steps: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "id, workspace_id, from_day, to_day, triggered_by, status, executions, steps, error, started_at, finished_at";

impl AnalyticsRun {
    fn from_row(row: &AnyRow) -> Result<AnalyticsRun> {
        let trigger = row.text("triggered_by")?;
        let status = row.text("status")?;
        Ok(AnalyticsRun {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            from: parse_day("from_day", &row.text("from_day")?)?,
            to: parse_day("to_day", &row.text("to_day")?)?,
            triggered_by: Trigger::parse(&trigger)
                .ok_or_else(|| Error::Corrupt(format!("unknown trigger `{trigger}`")))?,
            status: AnalyticsRunStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown aggregation status `{status}`")))?,
            executions: row.int("executions")?,
            steps: row.int("steps")?,
            error: row.opt_text("error")?,
            started_at: row.time("started_at")?,
            finished_at: row.opt_time("finished_at")?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The store's analytics API.
// ---------------------------------------------------------------------------------------------

impl Store {
    /// Calls `visit` with every execution `filter` selects, oldest first (then by id), streaming
    /// them from one ordered scan. Returns how many there were.
    pub async fn for_each_execution_fact(
        &self,
        workspace_id: &str,
        filter: &FactFilter,
        mut visit: impl FnMut(ExecutionFact),
    ) -> Result<u64> {
        let mut sql = Sql::new(
            "SELECT id, flow_id, flow_version, flow_name, suite, environment, status, created_at, duration_ms, total_steps, passed_steps, failed_steps, skipped_steps, error FROM executions",
        );
        filter.push_where(&mut sql, "", workspace_id);
        sql.push(" ORDER BY created_at, id");
        let mut rows = sql.fetch(&self.pool);
        let mut n = 0;
        while let Some(row) = rows.try_next().await? {
            visit(ExecutionFact::from_row(&row)?);
            n += 1;
        }
        Ok(n)
    }

    /// Calls `visit` with every recorded step of the executions `filter` selects (nested steps
    /// included), streaming them from one scan, in no particular order. Returns how many there
    /// were. (Aggregation reads [`Store::step_groups`] and [`Store::for_each_notable_step`]
    /// instead: a row per step costs more to carry than to compute.)
    pub async fn for_each_step_fact(
        &self,
        workspace_id: &str,
        filter: &FactFilter,
        visit: impl FnMut(StepFact<'_>),
    ) -> Result<u64> {
        self.scan_steps(workspace_id, filter, false, visit).await
    }

    /// Calls `visit` with the steps of the executions `filter` selects that failed or passed on a
    /// retry — the few that reports and error lists need — in no particular order. Returns how
    /// many there were.
    pub async fn for_each_notable_step(
        &self,
        workspace_id: &str,
        filter: &FactFilter,
        visit: impl FnMut(StepFact<'_>),
    ) -> Result<u64> {
        self.scan_steps(workspace_id, filter, true, visit).await
    }

    /// The steps that ran (skipped ones did not) of the executions `filter` selects, grouped by
    /// flow, step id and action — and by the executions' UTC day when `per_day` — with their
    /// counts and every duration, so percentiles stay exact. The database joins, groups and
    /// concatenates the durations: one row per group travels, not one per step, and one query
    /// covers a whole range of days (its planner picks index lookups for a day, one scan for a
    /// month).
    pub async fn step_groups(
        &self,
        workspace_id: &str,
        filter: &FactFilter,
        per_day: bool,
    ) -> Result<Vec<StepGroup>> {
        let durations = match self.backend {
            Backend::Sqlite => "group_concat(s.duration_ms)",
            Backend::Postgres => "string_agg(CAST(s.duration_ms AS TEXT), ',')",
        };
        // The day number since the epoch (creation times are after 1970).
        let day = if per_day {
            "e.created_at / 86400000"
        } else {
            "CAST(-1 AS BIGINT)"
        };
        let mut sql = Sql::new("SELECT ");
        sql.push(day)
            .push(" AS day_number, COALESCE(e.flow_id, e.flow_name) AS flow_key, s.step_id, s.action, COUNT(*) AS runs, CAST(SUM(CASE WHEN s.status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS errors, CAST(SUM(CASE WHEN s.flaky <> 0 THEN 1 ELSE 0 END) AS BIGINT) AS flaky, ")
            .push(durations)
            .push(" AS durations FROM executions e JOIN execution_steps s ON s.execution_id = e.id");
        filter.push_where(&mut sql, "e.", workspace_id);
        sql.push(" AND s.status <> 'skipped' GROUP BY ");
        if per_day {
            sql.push("e.created_at / 86400000, ");
        }
        sql.push("COALESCE(e.flow_id, e.flow_name), s.step_id, s.action");
        let mut groups = Vec::new();
        let mut rows = sql.fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let text: &str = row.try_get(7)?;
            let durations = text
                .split(',')
                .map(|d| {
                    d.trim().parse::<i64>().map_err(|_| {
                        Error::Corrupt(format!("a step duration is not a number: `{d}`"))
                    })
                })
                .collect::<Result<Vec<i64>>>()?;
            let day_number: i64 = row.try_get(0)?;
            groups.push(StepGroup {
                day: per_day.then(|| day_of_ms(day_number.saturating_mul(86_400_000))),
                flow_key: row.try_get(1)?,
                step_id: row.try_get(2)?,
                action: row.try_get(3)?,
                runs: row.try_get(4)?,
                errors: row.try_get(5)?,
                flaky: row.try_get(6)?,
                durations,
            });
        }
        Ok(groups)
    }

    async fn scan_steps(
        &self,
        workspace_id: &str,
        filter: &FactFilter,
        notable_only: bool,
        mut visit: impl FnMut(StepFact<'_>),
    ) -> Result<u64> {
        let mut sql = Sql::new(
            "SELECT s.execution_id, s.seq, s.depth, s.step_id, s.action, s.status, s.flaky, s.duration_ms, s.error_kind, s.error_message, COALESCE(e.flow_id, e.flow_name), e.created_at FROM executions e JOIN execution_steps s ON s.execution_id = e.id",
        );
        filter.push_where(&mut sql, "e.", workspace_id);
        if notable_only {
            sql.push(" AND (s.status = 'failed' OR s.flaky <> 0)");
        }
        let mut rows = sql.fetch(&self.pool);
        let mut n = 0;
        while let Some(row) = rows.try_next().await? {
            visit(StepFact::from_row(&row)?);
            n += 1;
        }
        Ok(n)
    }

    /// Replaces the analytics of the days `write.from..=write.to` (and of the flakiness window)
    /// with the rows given, in one transaction: the days' old rows are deleted, the new ones
    /// inserted in multi-row batches. Rows of days outside the range are refused.
    pub async fn replace_analytics(
        &self,
        workspace_id: &str,
        write: &AnalyticsWrite<'_>,
    ) -> Result<()> {
        if write.from > write.to {
            return Err(Error::invalid(format!(
                "the first day ({}) is after the last ({})",
                write.from, write.to
            )));
        }
        let outside = write
            .daily
            .iter()
            .map(|m| m.day)
            .chain(write.steps.iter().map(|s| s.day))
            .find(|day| *day < write.from || *day > write.to);
        if let Some(day) = outside {
            return Err(Error::invalid(format!(
                "a row of {day} is outside the days replaced ({} to {})",
                write.from, write.to
            )));
        }
        if let Some((window, rows)) = write.flakiness
            && let Some(row) = rows
                .iter()
                .find(|r| r.window_end != window.end || r.window_days != window.days)
        {
            return Err(Error::invalid(format!(
                "the flakiness of {} is for another window than {} ({} days)",
                row.flow_name, window.end, window.days
            )));
        }
        let (from, to) = (day_text(write.from), day_text(write.to));
        let mut tx = self.begin_write().await?;
        for table in ["analytics_daily", "analytics_steps"] {
            let mut delete = Sql::new("DELETE FROM ");
            delete
                .push(table)
                .push(" WHERE workspace_id = ")
                .bind(workspace_id)
                .push(" AND day >= ")
                .bind(from.as_str())
                .push(" AND day <= ")
                .bind(to.as_str());
            delete.execute(&mut *tx).await?;
        }
        insert_rows(
            &mut tx,
            "analytics_daily",
            DAILY_COLUMNS,
            DAILY_COLUMN_COUNT,
            write.daily,
            |sql, row| row.bind(sql, workspace_id),
        )
        .await?;
        insert_rows(
            &mut tx,
            "analytics_steps",
            STEP_COLUMNS,
            STEP_COLUMN_COUNT,
            write.steps,
            |sql, row| row.bind(sql, workspace_id),
        )
        .await?;
        if let Some((window, rows)) = write.flakiness {
            let mut delete = Sql::new("DELETE FROM analytics_flakiness WHERE workspace_id = ");
            delete
                .bind(workspace_id)
                .push(" AND window_end = ")
                .bind(day_text(window.end))
                .push(" AND window_days = ")
                .bind(i64::from(window.days));
            delete.execute(&mut *tx).await?;
            insert_rows(
                &mut tx,
                "analytics_flakiness",
                FLAKINESS_COLUMNS,
                FLAKINESS_COLUMN_COUNT,
                rows,
                |sql, row| row.bind(sql, workspace_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Daily metric rows, newest day first (then by scope and subject), with the total count.
    pub async fn list_daily_metrics(
        &self,
        workspace_id: &str,
        filter: &MetricFilter,
    ) -> Result<Page<DailyMetric>> {
        fetch_page(
            &self.pool,
            &format!("SELECT {DAILY_COLUMNS} FROM analytics_daily"),
            "SELECT COUNT(*) FROM analytics_daily",
            |sql: &mut Sql| filter.push_where(sql, workspace_id, filter.scope),
            "ORDER BY day DESC, CASE scope WHEN 'all' THEN 0 WHEN 'suite' THEN 1 ELSE 2 END, subject",
            page_bounds(filter.limit, filter.offset),
            DailyMetric::from_row,
        )
        .await
    }

    /// Totals over the rows of one scope `filter` selects: every execution by default, a suite's
    /// or a flow's when `filter` names one (paging is ignored).
    pub async fn metric_summary(
        &self,
        workspace_id: &str,
        filter: &MetricFilter,
    ) -> Result<MetricSummary> {
        // Sums are cast: PostgreSQL's SUM(bigint) is numeric, which the Any driver cannot read.
        let mut sql = Sql::new("SELECT COUNT(DISTINCT day) AS days");
        for col in [
            "total_executions",
            "passed_executions",
            "failed_executions",
            "cancelled_executions",
            "timed_executions",
            "total_duration_ms",
            "total_steps",
            "passed_steps",
            "failed_steps",
            "skipped_steps",
            "flaky_steps",
        ] {
            sql.push(", CAST(COALESCE(SUM(")
                .push(col)
                .push("), 0) AS BIGINT) AS ")
                .push(col);
        }
        sql.push(" FROM analytics_daily");
        filter.push_where(&mut sql, workspace_id, Some(filter.single_scope()));
        let row = sql.fetch_optional(&self.pool).await?;
        let Some(row) = row else {
            return Ok(MetricSummary::default());
        };
        let passed = row.int("passed_executions")?;
        let failed = row.int("failed_executions")?;
        let duration = row.int("total_duration_ms")?;
        let timed = row.int("timed_executions")?;
        Ok(MetricSummary {
            days: row.int("days")?,
            total_executions: row.int("total_executions")?,
            passed_executions: passed,
            failed_executions: failed,
            cancelled_executions: row.int("cancelled_executions")?,
            pass_rate: rate(passed, passed + failed),
            avg_duration_ms: mean(duration, timed),
            total_steps: row.int("total_steps")?,
            passed_steps: row.int("passed_steps")?,
            failed_steps: row.int("failed_steps")?,
            skipped_steps: row.int("skipped_steps")?,
            flaky_steps: row.int("flaky_steps")?,
        })
    }

    /// One point per day, week or month of the rows of one scope `filter` selects (see
    /// [`Store::metric_summary`]), oldest first; periods without executions have no point.
    pub async fn metric_trends(
        &self,
        workspace_id: &str,
        filter: &MetricFilter,
        period: TrendPeriod,
    ) -> Result<Vec<TrendPoint>> {
        let mut sql = Sql::new(
            "SELECT day, total_executions, passed_executions, failed_executions, cancelled_executions, timed_executions, total_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms, flaky_steps FROM analytics_daily",
        );
        filter.push_where(&mut sql, workspace_id, Some(filter.single_scope()));
        sql.push(" ORDER BY day");
        // A flow or suite has one row per day; several only if its name matches more than one.
        // (point, summed duration, timed executions) per period.
        let mut points: BTreeMap<NaiveDate, (TrendPoint, i64, i64)> = BTreeMap::new();
        let mut last_day: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
        let mut shared_days = Vec::new();
        for row in sql.fetch_all(&self.pool).await? {
            let day = parse_day("day", &row.text("day")?)?;
            let start = period.start_of(day);
            let (point, duration, timed) = points.entry(start).or_insert_with(|| {
                (
                    TrendPoint {
                        date: start,
                        days: 0,
                        executions: 0,
                        passed: 0,
                        failed: 0,
                        cancelled: 0,
                        pass_rate: 0.0,
                        avg_duration_ms: None,
                        p50_duration_ms: None,
                        p95_duration_ms: None,
                        p99_duration_ms: None,
                        flaky_steps: 0,
                    },
                    0,
                    0,
                )
            });
            if last_day.insert(start, day) == Some(day) {
                // Percentiles of two rows cannot be merged.
                shared_days.push(start);
            } else {
                point.days += 1;
            }
            point.executions += row.int("total_executions")?;
            point.passed += row.int("passed_executions")?;
            point.failed += row.int("failed_executions")?;
            point.cancelled += row.int("cancelled_executions")?;
            point.flaky_steps += row.int("flaky_steps")?;
            *duration += row.int("total_duration_ms")?;
            *timed += row.int("timed_executions")?;
            if period == TrendPeriod::Day && point.p50_duration_ms.is_none() {
                point.p50_duration_ms = row.opt_int("p50_duration_ms")?;
                point.p95_duration_ms = row.opt_int("p95_duration_ms")?;
                point.p99_duration_ms = row.opt_int("p99_duration_ms")?;
            }
        }
        Ok(points
            .into_values()
            .map(|(mut point, duration, timed)| {
                if shared_days.contains(&point.date) {
                    point.p50_duration_ms = None;
                    point.p95_duration_ms = None;
                    point.p99_duration_ms = None;
                }
                point.pass_rate = rate(point.passed, point.passed + point.failed);
                point.avg_duration_ms = mean(duration, timed);
                point
            })
            .collect())
    }

    /// Step performance rows, newest day first, slowest first within a day, with the total
    /// count.
    pub async fn list_step_performance(
        &self,
        workspace_id: &str,
        filter: &StepFilter,
    ) -> Result<Page<StepPerformance>> {
        fetch_page(
            &self.pool,
            &format!("SELECT {STEP_COLUMNS} FROM analytics_steps"),
            "SELECT COUNT(*) FROM analytics_steps",
            |sql: &mut Sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(from) = filter.from {
                    sql.push(" AND day >= ").bind(day_text(from));
                }
                if let Some(to) = filter.to {
                    sql.push(" AND day <= ").bind(day_text(to));
                }
                if let Some(flow) = &filter.flow {
                    sql.push(" AND (flow_key = ")
                        .bind(flow.as_str())
                        .push(" OR flow_name = ")
                        .bind(flow.as_str())
                        .push(")");
                }
                if let Some(step_id) = &filter.step_id {
                    sql.push(" AND step_id = ").bind(step_id.as_str());
                }
                if let Some(action) = &filter.action {
                    sql.push(" AND action = ").bind(action.as_str());
                }
            },
            "ORDER BY day DESC, avg_duration_ms DESC, flow_name, step_id, action",
            page_bounds(filter.limit, filter.offset),
            StepPerformance::from_row,
        )
        .await
    }

    /// The last day of the newest flakiness window computed, and its length in days.
    pub async fn latest_flakiness_window(
        &self,
        workspace_id: &str,
    ) -> Result<Option<FlakinessWindow>> {
        self.flakiness_window(workspace_id, None).await
    }

    /// The window computed last whose last day is `end` (any day when `None`).
    async fn flakiness_window(
        &self,
        workspace_id: &str,
        end: Option<NaiveDate>,
    ) -> Result<Option<FlakinessWindow>> {
        let mut sql = Sql::new(
            "SELECT window_start, window_end, window_days FROM analytics_flakiness WHERE workspace_id = ",
        );
        sql.bind(workspace_id);
        if let Some(end) = end {
            sql.push(" AND window_end = ").bind(day_text(end));
        }
        sql.push(" ORDER BY window_end DESC, computed_at DESC LIMIT 1");
        match sql.fetch_optional(&self.pool).await? {
            Some(row) => Ok(Some(FlakinessWindow {
                start: parse_day("window_start", &row.text("window_start")?)?,
                end: parse_day("window_end", &row.text("window_end")?)?,
                days: window_days(&row)?,
            })),
            None => Ok(None),
        }
    }

    /// Flakiness rows: of one window (the newest unless `filter.window_end` names one), highest
    /// score first (then by flow name); or, when `filter.flow` names a flow, that flow's rows of
    /// every window, newest first.
    pub async fn list_flakiness(
        &self,
        workspace_id: &str,
        filter: &FlakinessFilter,
    ) -> Result<Page<FlakinessRecord>> {
        let bounds = page_bounds(filter.limit, filter.offset);
        // One window: windows of other lengths ending the same day would list each flow twice.
        let window = match &filter.flow {
            Some(_) => None,
            None => match self
                .flakiness_window(workspace_id, filter.window_end)
                .await?
            {
                Some(window) => Some(window),
                None => {
                    return Ok(Page {
                        items: Vec::new(),
                        total: 0,
                        total_capped: false,
                        limit: bounds.0,
                        offset: bounds.1,
                    });
                }
            },
        };
        let order = if filter.flow.is_some() {
            "ORDER BY window_end DESC, window_days, flow_key"
        } else {
            "ORDER BY flakiness_score DESC, flow_name, flow_key"
        };
        fetch_page(
            &self.pool,
            &format!("SELECT {FLAKINESS_COLUMNS} FROM analytics_flakiness"),
            "SELECT COUNT(*) FROM analytics_flakiness",
            |sql: &mut Sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(window) = window {
                    sql.push(" AND window_end = ")
                        .bind(day_text(window.end))
                        .push(" AND window_days = ")
                        .bind(i64::from(window.days));
                }
                if let Some(flow) = &filter.flow {
                    sql.push(" AND (flow_key = ")
                        .bind(flow.as_str())
                        .push(" OR flow_name = ")
                        .bind(flow.as_str())
                        .push(")");
                }
                if !filter.stabilities.is_empty() {
                    sql.push(" AND stability");
                    push_in(sql, filter.stabilities.iter().map(String::as_str));
                }
                if let Some(min) = filter.min_score {
                    sql.push(" AND flakiness_score >= ").bind(min);
                }
            },
            order,
            bounds,
            FlakinessRecord::from_row,
        )
        .await
    }

    /// Records the start of an aggregation of the days `from..=to`.
    pub async fn start_analytics_run(
        &self,
        workspace_id: &str,
        from: NaiveDate,
        to: NaiveDate,
        trigger: Trigger,
    ) -> Result<AnalyticsRun> {
        let id = new_id();
        let mut sql = Sql::new("INSERT INTO analytics_runs (");
        sql.push(RUN_COLUMNS)
            .push(") VALUES (")
            .bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(day_text(from))
            .push(", ")
            .bind(day_text(to))
            .push(", ")
            .bind(trigger.as_str())
            .push(", 'running', 0, 0, NULL, ")
            .bind(now_ms())
            .push(", NULL) RETURNING ")
            .push(RUN_COLUMNS);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::Corrupt("an inserted aggregation run was not returned".into()))?;
        AnalyticsRun::from_row(&row)
    }

    /// Records how an aggregation ended: the executions and steps it read, or why it failed.
    pub async fn finish_analytics_run(
        &self,
        id: &str,
        outcome: std::result::Result<(i64, i64), String>,
    ) -> Result<AnalyticsRun> {
        let mut sql = Sql::new("UPDATE analytics_runs SET status = ");
        match &outcome {
            Ok((executions, steps)) => sql
                .bind(AnalyticsRunStatus::Completed.as_str())
                .push(", executions = ")
                .bind(*executions)
                .push(", steps = ")
                .bind(*steps),
            Err(error) => sql
                .bind(AnalyticsRunStatus::Failed.as_str())
                .push(", error = ")
                .bind(error.as_str()),
        };
        sql.push(", finished_at = ")
            .bind(now_ms())
            .push(" WHERE id = ")
            .bind(id)
            .push(" RETURNING ")
            .push(RUN_COLUMNS);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("aggregation run", id))?;
        AnalyticsRun::from_row(&row)
    }

    /// Aggregation runs of a workspace, newest first.
    pub async fn list_analytics_runs(
        &self,
        workspace_id: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<AnalyticsRun>> {
        fetch_page(
            &self.pool,
            &format!("SELECT {RUN_COLUMNS} FROM analytics_runs"),
            "SELECT COUNT(*) FROM analytics_runs",
            |sql: &mut Sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
            },
            "ORDER BY started_at DESC, id DESC",
            page_bounds(limit, offset),
            AnalyticsRun::from_row,
        )
        .await
    }

    /// Marks every aggregation (of every workspace) still `running` that started before `before`
    /// as `failed` with `error`; returns how many.
    pub async fn fail_unfinished_analytics_runs(
        &self,
        before: DateTime<Utc>,
        error: &str,
    ) -> Result<u64> {
        let mut sql = Sql::new("UPDATE analytics_runs SET status = 'failed', error = ");
        sql.bind(error)
            .push(", finished_at = ")
            .bind(now_ms())
            .push(" WHERE status = 'running' AND started_at < ")
            .bind(before.timestamp_millis());
        sql.execute(&self.pool).await
    }

    /// The last day covered by a completed aggregation of the workspace, if any.
    pub async fn last_aggregated_day(&self, workspace_id: &str) -> Result<Option<NaiveDate>> {
        let mut sql = Sql::new(
            "SELECT MAX(to_day) AS last FROM analytics_runs WHERE status = 'completed' AND workspace_id = ",
        );
        sql.bind(workspace_id);
        match sql.fetch_optional(&self.pool).await? {
            Some(row) => row
                .opt_text("last")?
                .map(|day| parse_day("to_day", &day))
                .transpose(),
            None => Ok(None),
        }
    }
}

/// Inserts `rows` into `table` in multi-row batches that stay under the bound-values limit.
async fn insert_rows<T>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &str,
    column_count: usize,
    rows: &[T],
    bind: impl Fn(&mut Sql, &T),
) -> Result<()> {
    for chunk in rows.chunks((MAX_BOUND_VALUES / column_count).max(1)) {
        let mut sql = Sql::many("INSERT INTO ", conn);
        sql.push(table).push(" (").push(columns).push(") VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            bind(&mut sql, row);
            sql.push(")");
        }
        debug_assert_eq!(sql.bound(), chunk.len() * column_count);
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The days `from..=to`, in order.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |day| *day <= to)
}

/// The number of days `from..=to` (0 when `from` is after `to`).
pub fn day_count(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn days_and_milliseconds() {
        assert_eq!(day_start_ms(day("1970-01-02")), DAY_MS);
        assert_eq!(day_of_ms(DAY_MS - 1), day("1970-01-01"));
        assert_eq!(day_of_ms(DAY_MS), day("1970-01-02"));
        assert_eq!(
            days_between(day("2025-02-27"), day("2025-03-01")).count(),
            3
        );
        assert_eq!(day_count(day("2025-01-01"), day("2025-01-01")), 1);
    }

    #[test]
    fn periods_start_on_monday_and_the_first() {
        // 2025-01-01 is a Wednesday.
        assert_eq!(
            TrendPeriod::Week.start_of(day("2025-01-01")),
            day("2024-12-30")
        );
        assert_eq!(
            TrendPeriod::Week.start_of(day("2024-12-30")),
            day("2024-12-30")
        );
        assert_eq!(
            TrendPeriod::Month.start_of(day("2025-02-28")),
            day("2025-02-01")
        );
        assert_eq!(
            TrendPeriod::Day.start_of(day("2025-02-28")),
            day("2025-02-28")
        );
    }

    #[test]
    fn windows_end_on_their_last_day() {
        let w = FlakinessWindow::ending(day("2025-01-14"), 14);
        assert_eq!(
            (w.start, w.end, w.days),
            (day("2025-01-01"), day("2025-01-14"), 14)
        );
        assert_eq!(FlakinessWindow::ending(day("2025-01-14"), 0).days, 1);
    }

    #[test]
    fn rates_round_to_two_decimals() {
        assert_eq!(rate(1, 3), 33.33);
        assert_eq!(rate(2, 3), 66.67);
        assert_eq!(rate(0, 0), 0.0);
    }
}
