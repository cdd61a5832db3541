//! Aggregation: turns stored executions and steps into the analytics tables — daily metrics per
//! workspace, suite and flow (each over all environments and per environment) with exact
//! percentiles, step performance per day, flow, step and action, and each flow's flakiness over the
//! window ending with the last day aggregated.
//!
//! The executions are read one day at a time (one ordered scan each); their steps a block of up
//! to 31 days at a time, grouped by the database with every duration kept, plus the few failed or
//! retried steps one by one. Memory is bounded by a day's executions and a block's durations, not
//! by the range. Everything is computed here and written back in one transaction that replaces
//! the days (and the window), so aggregating a day twice leaves the same rows.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use testmesh_store::{
    AnalyticsWrite, DailyMetric, ExecutionFact, ExecutionStatus, FactFilter, FlakinessRecord,
    FlakinessWindow, MetricScope, StepGroup, StepPerformance, Store, Trigger, days_between, rate,
    round2,
};

use crate::error::ReportError;
use crate::flakiness::{self, DEFAULT_WINDOW_DAYS, Flakiness, Run, RunOutcome};
use crate::model::Stability;
use crate::percentile::percentiles;

/// Distinct error messages kept per step and day (the most frequent).
pub const MAX_STEP_ERRORS: usize = 5;
/// Distinct error messages counted per step and day; later new ones are not counted, so a
/// message with an id in it cannot grow a day's memory without bound.
const COUNTED_STEP_ERRORS: usize = 64;
/// Runs kept in a flow's flakiness history (newest), for sparklines.
pub const HISTORY_RUNS: usize = 30;
/// Days whose steps are read with one query: memory grows with a block's steps, and each block is
/// one pass over the steps table (PostgreSQL scans it whole for more than a few days).
const STEP_BLOCK_DAYS: u64 = 31;

/// What one aggregation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateSummary {
    /// The workspace aggregated.
    pub workspace_id: String,
    /// First day (inclusive).
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Days aggregated.
    pub days: u32,
    /// Executions of those days read.
    pub executions: u64,
    /// The steps those executions recorded (nested and skipped ones included).
    pub steps: u64,
    /// Daily metric rows written.
    pub daily_rows: u64,
    /// Step performance rows written.
    pub step_rows: u64,
    /// The flakiness window scored (ending with `to`).
    pub window: FlakinessWindow,
    /// Flows scored (flows with a passed or failed run in the window).
    pub flows_scored: u64,
    /// Of those, flows classified flaky.
    pub flaky_flows: u64,
    /// Of those, flows classified broken.
    pub broken_flows: u64,
    /// Wall time, in milliseconds.
    pub elapsed_ms: u64,
}

/// Where an aggregation is: reported after each day read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The day just read.
    pub day: NaiveDate,
    /// Days read so far (the window's days before `from` included).
    pub done: u32,
    /// Days to read.
    pub total: u32,
    /// Executions read so far.
    pub executions: u64,
}

/// How to aggregate (see [`aggregate_with`]).
pub struct AggregateOptions<'a> {
    /// Record the aggregation in the store's runs with this trigger (`None`: do not record).
    pub trigger: Option<Trigger>,
    /// Record the aggregation in this run, already started with
    /// [`Store::start_analytics_run`] (the API answers with it before the work is done).
    pub run_id: Option<String>,
    /// Days of the flakiness window (default [`DEFAULT_WINDOW_DAYS`]).
    pub window_days: u32,
    /// Called after each day read.
    pub progress: Option<&'a mut (dyn FnMut(Progress) + Send)>,
}

impl Default for AggregateOptions<'_> {
    fn default() -> Self {
        AggregateOptions {
            trigger: None,
            run_id: None,
            window_days: DEFAULT_WINDOW_DAYS,
            progress: None,
        }
    }
}

/// Aggregates the days `from..=to` (UTC) of a workspace and scores flakiness over the
/// [`DEFAULT_WINDOW_DAYS`] days ending with `to`; replaces the rows of those days and of that
/// window. Not recorded in the store's aggregation runs (see [`aggregate_with`]).
pub async fn aggregate(
    store: &Store,
    workspace_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<AggregateSummary, ReportError> {
    aggregate_with(store, workspace_id, from, to, AggregateOptions::default()).await
}

/// [`aggregate`] with options: a progress callback, the window's length, and recording the run
/// (started, then completed or failed with its error) in the store.
pub async fn aggregate_with(
    store: &Store,
    workspace_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    mut options: AggregateOptions<'_>,
) -> Result<AggregateSummary, ReportError> {
    if from > to {
        return Err(ReportError::InvalidRange { from, to });
    }
    let run_id = match (options.run_id.take(), options.trigger) {
        (Some(id), _) => id,
        (None, Some(trigger)) => {
            store
                .start_analytics_run(workspace_id, from, to, trigger)
                .await?
                .id
        }
        (None, None) => return run(store, workspace_id, from, to, options).await,
    };
    let result = run(store, workspace_id, from, to, options).await;
    let outcome = match &result {
        Ok(summary) => Ok((
            i64::try_from(summary.executions).unwrap_or(i64::MAX),
            i64::try_from(summary.steps).unwrap_or(i64::MAX),
        )),
        Err(e) => Err(e.to_string()),
    };
    store.finish_analytics_run(&run_id, outcome).await?;
    result
}

async fn run(
    store: &Store,
    workspace_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    mut options: AggregateOptions<'_>,
) -> Result<AggregateSummary, ReportError> {
    let started = Instant::now();
    let computed_at = Utc::now();
    let window = FlakinessWindow::ending(to, options.window_days);
    let scan_from = from.min(window.start);
    let total = u32::try_from(testmesh_store::day_count(scan_from, to)).unwrap_or(u32::MAX);
    let mut daily = Vec::new();
    let mut steps = Vec::new();
    let mut flows: HashMap<String, FlowRuns> = HashMap::new();
    let (mut executions, mut step_count, mut read) = (0u64, 0u64, 0u64);
    let mut block: Option<StepBlock> = None;
    for (done, day) in days_between(scan_from, to).enumerate() {
        let mut facts = Vec::new();
        store
            .for_each_execution_fact(workspace_id, &FactFilter::days(day, day), |f| facts.push(f))
            .await?;
        read += facts.len() as u64;
        if day >= window.start {
            for fact in &facts {
                if let Some(outcome) = outcome(fact.status) {
                    flows
                        .entry(fact.flow_key().to_string())
                        .or_insert_with(|| FlowRuns::new(fact))
                        .push(fact, outcome);
                }
            }
        }
        if day >= from {
            executions += facts.len() as u64;
            if block.as_ref().is_none_or(|b| day > b.end) {
                let end = day
                    .checked_add_days(chrono::Days::new(STEP_BLOCK_DAYS - 1))
                    .map_or(to, |end| end.min(to));
                block = Some(StepBlock::read(store, workspace_id, day, end).await?);
            }
            let Some(block) = block.as_mut() else {
                continue;
            };
            let day_rows = DayRows::compute(day, &facts, block, computed_at);
            step_count += day_rows.steps_read;
            daily.extend(day_rows.daily);
            steps.extend(day_rows.steps);
        }
        if let Some(progress) = options.progress.as_mut() {
            progress(Progress {
                day,
                done: u32::try_from(done + 1).unwrap_or(u32::MAX),
                total,
                executions: read,
            });
        }
    }
    let mut scored: Vec<FlakinessRecord> = flows
        .values()
        .map(|runs| runs.record(window, computed_at))
        .collect();
    scored.sort_by(|a, b| a.flow_key.cmp(&b.flow_key));
    let count = |name: &str| scored.iter().filter(|r| r.stability == name).count() as u64;
    let summary = AggregateSummary {
        workspace_id: workspace_id.to_string(),
        from,
        to,
        days: u32::try_from(testmesh_store::day_count(from, to)).unwrap_or(u32::MAX),
        executions,
        steps: step_count,
        daily_rows: daily.len() as u64,
        step_rows: steps.len() as u64,
        window,
        flows_scored: scored.len() as u64,
        flaky_flows: count(Stability::Flaky.as_str()),
        broken_flows: count(Stability::Broken.as_str()),
        elapsed_ms: 0,
    };
    store
        .replace_analytics(
            workspace_id,
            &AnalyticsWrite {
                from,
                to,
                daily: &daily,
                steps: &steps,
                flakiness: Some((window, &scored)),
            },
        )
        .await?;
    Ok(AggregateSummary {
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..summary
    })
}

/// The outcome flakiness scores: passed or failed (cancelled runs are not scored).
pub(crate) fn outcome(status: ExecutionStatus) -> Option<RunOutcome> {
    match status {
        ExecutionStatus::Completed => Some(RunOutcome::Passed),
        ExecutionStatus::Failed => Some(RunOutcome::Failed),
        _ => None,
    }
}

/// One flow's passed and failed runs in a window, oldest first, with what identifies their
/// inputs (`"<flow_version>|<environment>"`, empty parts when unknown).
#[derive(Debug, Clone)]
pub(crate) struct FlowRuns {
    pub(crate) flow_key: String,
    pub(crate) flow_id: Option<String>,
    pub(crate) flow_name: String,
    pub(crate) suite: Option<String>,
    inputs: Vec<String>,
    runs: Vec<(RunOutcome, usize)>,
    pub(crate) last_run_at: DateTime<Utc>,
}

impl FlowRuns {
    pub(crate) fn new(fact: &ExecutionFact) -> FlowRuns {
        FlowRuns {
            flow_key: fact.flow_key().to_string(),
            flow_id: fact.flow_id.clone(),
            flow_name: fact.flow_name.clone(),
            suite: Some(fact.suite_name().to_string()),
            inputs: Vec::new(),
            runs: Vec::new(),
            last_run_at: fact.created_at,
        }
    }

    /// Adds a run; facts come oldest first, so the name and suite end up the newest run's.
    pub(crate) fn push(&mut self, fact: &ExecutionFact, outcome: RunOutcome) {
        let inputs = format!(
            "{}|{}",
            fact.flow_version.map(|v| v.to_string()).unwrap_or_default(),
            fact.environment.as_deref().unwrap_or_default()
        );
        let index = match self.inputs.iter().position(|i| *i == inputs) {
            Some(i) => i,
            None => {
                self.inputs.push(inputs);
                self.inputs.len() - 1
            }
        };
        self.runs.push((outcome, index));
        self.flow_name.clone_from(&fact.flow_name);
        self.suite = Some(fact.suite_name().to_string());
        self.last_run_at = fact.created_at;
    }

    /// The flow's flakiness over its runs.
    pub(crate) fn score(&self) -> Flakiness {
        let runs: Vec<Run<'_>> = self
            .runs
            .iter()
            .map(|(outcome, i)| Run {
                outcome: *outcome,
                inputs: self.inputs.get(*i).map_or("", String::as_str),
            })
            .collect();
        flakiness::score(&runs)
    }

    /// The newest [`HISTORY_RUNS`] outcomes, oldest first.
    pub(crate) fn history(&self) -> impl Iterator<Item = RunOutcome> + '_ {
        let skip = self.runs.len().saturating_sub(HISTORY_RUNS);
        self.runs.iter().skip(skip).map(|(outcome, _)| *outcome)
    }

    fn record(&self, window: FlakinessWindow, computed_at: DateTime<Utc>) -> FlakinessRecord {
        let f = self.score();
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        FlakinessRecord {
            flow_key: self.flow_key.clone(),
            flow_id: self.flow_id.clone(),
            flow_name: self.flow_name.clone(),
            suite: self.suite.clone(),
            window_start: window.start,
            window_end: window.end,
            window_days: window.days,
            flakiness_score: f.score,
            stability: f.stability.as_str().to_string(),
            total_runs: int(f.runs),
            passed_runs: int(f.passed),
            failed_runs: int(f.failed),
            flaky_failures: int(f.flaky_failures),
            transitions: int(f.transitions),
            consecutive_failures: int(f.consecutive_failures),
            consecutive_successes: int(f.consecutive_successes),
            history: self
                .history()
                .map(|o| match o {
                    RunOutcome::Passed => 'P',
                    RunOutcome::Failed => 'F',
                })
                .collect(),
            last_run_at: self.last_run_at,
            computed_at,
        }
    }
}

/// Sorts durations and returns (sum, mean, min, max, p50, p95, p99); `None` when empty.
pub(crate) struct DurationStats {
    pub(crate) sum: i64,
    pub(crate) avg: f64,
    pub(crate) min: i64,
    pub(crate) max: i64,
    pub(crate) p50: i64,
    pub(crate) p95: i64,
    pub(crate) p99: i64,
}

impl DurationStats {
    /// Sorts `durations` in place and computes the statistics; `None` when empty.
    pub(crate) fn of(durations: &mut [i64]) -> Option<DurationStats> {
        durations.sort_unstable();
        let p = percentiles(durations)?;
        let sum = durations.iter().fold(0i64, |acc, d| acc.saturating_add(*d));
        Some(DurationStats {
            sum,
            avg: round2(sum as f64 / durations.len() as f64),
            min: *durations.first()?,
            max: *durations.last()?,
            p50: p.p50,
            p95: p.p95,
            p99: p.p99,
        })
    }
}

/// The executions of one scope (all, a suite or a flow) and environment on one day.
#[derive(Default)]
struct ExecGroup<'f> {
    flow_id: Option<&'f str>,
    flow_name: Option<&'f str>,
    suite: Option<&'f str>,
    flows: HashSet<&'f str>,
    total: i64,
    passed: i64,
    failed: i64,
    cancelled: i64,
    durations: Vec<i64>,
    total_steps: i64,
    passed_steps: i64,
    failed_steps: i64,
    skipped_steps: i64,
    flaky_steps: i64,
}

impl<'f> ExecGroup<'f> {
    fn add(&mut self, fact: &'f ExecutionFact, flaky_steps: i64) {
        self.flows.insert(fact.flow_key());
        self.total += 1;
        match fact.status {
            ExecutionStatus::Completed => self.passed += 1,
            ExecutionStatus::Failed => self.failed += 1,
            _ => self.cancelled += 1,
        }
        if matches!(
            fact.status,
            ExecutionStatus::Completed | ExecutionStatus::Failed
        ) && let Some(d) = fact.duration_ms
        {
            self.durations.push(d);
        }
        self.total_steps += fact.total_steps;
        self.passed_steps += fact.passed_steps;
        self.failed_steps += fact.failed_steps;
        self.skipped_steps += fact.skipped_steps;
        self.flaky_steps += flaky_steps;
    }

    fn row(mut self, day: NaiveDate, key: GroupKey<'f>, computed_at: DateTime<Utc>) -> DailyMetric {
        let stats = DurationStats::of(&mut self.durations);
        let (scope, subject, environment) = key;
        DailyMetric {
            day,
            scope,
            subject: subject.to_string(),
            environment: environment.map(str::to_string),
            flow_id: self.flow_id.map(str::to_string),
            flow_name: self.flow_name.map(str::to_string),
            suite: self.suite.map(str::to_string),
            flows: self.flows.len() as i64,
            total_executions: self.total,
            passed_executions: self.passed,
            failed_executions: self.failed,
            cancelled_executions: self.cancelled,
            pass_rate: rate(self.passed, self.passed + self.failed),
            timed_executions: self.durations.len() as i64,
            total_duration_ms: stats.as_ref().map_or(0, |s| s.sum),
            avg_duration_ms: stats.as_ref().map(|s| s.avg),
            min_duration_ms: stats.as_ref().map(|s| s.min),
            max_duration_ms: stats.as_ref().map(|s| s.max),
            p50_duration_ms: stats.as_ref().map(|s| s.p50),
            p95_duration_ms: stats.as_ref().map(|s| s.p95),
            p99_duration_ms: stats.as_ref().map(|s| s.p99),
            total_steps: self.total_steps,
            passed_steps: self.passed_steps,
            failed_steps: self.failed_steps,
            skipped_steps: self.skipped_steps,
            flaky_steps: self.flaky_steps,
            computed_at,
        }
    }
}

/// (scope, subject, environment — `None` for all environments).
type GroupKey<'f> = (MetricScope, &'f str, Option<&'f str>);

/// The error messages of one step (id and action) of one flow on one day, with how often each
/// was seen.
#[derive(Default)]
struct Messages(Vec<(String, u64)>);

impl Messages {
    fn add(&mut self, message: &str) {
        let counted = self.0.len();
        match self.0.iter_mut().find(|(m, _)| m == message) {
            Some((_, n)) => *n += 1,
            None if counted < COUNTED_STEP_ERRORS => self.0.push((message.to_string(), 1)),
            None => {}
        }
    }

    /// The most frequent messages (ties by text): the same whatever order the steps were read in.
    fn top(mut self) -> Vec<String> {
        self.0
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.0
            .into_iter()
            .take(MAX_STEP_ERRORS)
            .map(|(m, _)| m)
            .collect()
    }
}

/// The rows of one day.
struct DayRows {
    daily: Vec<DailyMetric>,
    steps: Vec<StepPerformance>,
    steps_read: u64,
}

/// The steps of a block of days, read with one grouped query and one scan of the failed and
/// retried steps: a query per day would make PostgreSQL scan every stored step once a day.
struct StepBlock {
    /// Its last day.
    end: NaiveDate,
    /// Step groups per day.
    groups: HashMap<NaiveDate, Vec<StepGroup>>,
    /// Error messages per day, flow key, step id and action.
    messages: HashMap<(NaiveDate, String, String, String), Messages>,
    /// Steps that passed on a retry, per execution.
    flaky: HashMap<String, i64>,
}

impl StepBlock {
    async fn read(
        store: &Store,
        workspace_id: &str,
        from: NaiveDate,
        end: NaiveDate,
    ) -> Result<StepBlock, ReportError> {
        let filter = FactFilter::days(from, end);
        let mut messages: HashMap<(NaiveDate, String, String, String), Messages> = HashMap::new();
        let mut flaky: HashMap<String, i64> = HashMap::new();
        store
            .for_each_notable_step(workspace_id, &filter, |step| {
                if step.flaky {
                    *flaky.entry(step.execution_id.to_string()).or_default() += 1;
                }
                if step.status == "failed"
                    && let Some(message) = step.error_message.filter(|m| !m.trim().is_empty())
                {
                    messages
                        .entry((
                            step.created_at.date_naive(),
                            step.flow_key.to_string(),
                            step.step_id.to_string(),
                            step.action.to_string(),
                        ))
                        .or_default()
                        .add(message);
                }
            })
            .await?;
        let mut groups: HashMap<NaiveDate, Vec<StepGroup>> = HashMap::new();
        for group in store.step_groups(workspace_id, &filter, true).await? {
            if let Some(day) = group.day {
                groups.entry(day).or_default().push(group);
            }
        }
        Ok(StepBlock {
            end,
            groups,
            messages,
            flaky,
        })
    }
}

impl DayRows {
    fn compute(
        day: NaiveDate,
        facts: &[ExecutionFact],
        block: &mut StepBlock,
        computed_at: DateTime<Utc>,
    ) -> DayRows {
        let flaky_per_execution: Vec<i64> = facts
            .iter()
            .map(|f| block.flaky.get(&f.id).copied().unwrap_or(0))
            .collect();
        let groups = block.groups.remove(&day).unwrap_or_default();

        let mut exec_groups: HashMap<GroupKey<'_>, ExecGroup<'_>> = HashMap::new();
        // The newest run of a flow names it: facts are oldest first.
        let mut newest: HashMap<&str, &ExecutionFact> = HashMap::new();
        for (fact, flaky) in facts.iter().zip(&flaky_per_execution) {
            let suite = fact.suite_name();
            let environment = fact.environment_name();
            let flow = fact.flow_key();
            newest.insert(flow, fact);
            for env in [None, Some(environment)] {
                for key in [
                    (MetricScope::All, "", env),
                    (MetricScope::Suite, suite, env),
                    (MetricScope::Flow, flow, env),
                ] {
                    let group = exec_groups.entry(key).or_default();
                    group.add(fact, *flaky);
                    match key.0 {
                        MetricScope::All => {}
                        MetricScope::Suite => group.suite = Some(suite),
                        MetricScope::Flow => {
                            group.flow_id = fact.flow_id.as_deref();
                            group.flow_name = Some(&fact.flow_name);
                            group.suite = Some(suite);
                        }
                    }
                }
            }
        }
        let mut daily: Vec<DailyMetric> = exec_groups
            .into_iter()
            .map(|(key, group)| group.row(day, key, computed_at))
            .collect();
        daily.sort_by(|a, b| {
            (a.scope, &a.subject, &a.environment).cmp(&(b.scope, &b.subject, &b.environment))
        });

        let mut steps = Vec::with_capacity(groups.len());
        for mut group in groups {
            // A flow first recorded after its day's executions were read waits for the next run.
            let Some((flow, fact)) = newest.get_key_value(group.flow_key.as_str()) else {
                continue;
            };
            let Some(stats) = DurationStats::of(&mut group.durations) else {
                continue;
            };
            let errors = block
                .messages
                .remove(&(
                    day,
                    (*flow).to_string(),
                    group.step_id.clone(),
                    group.action.clone(),
                ))
                .map(Messages::top)
                .unwrap_or_default();
            steps.push(StepPerformance {
                day,
                flow_key: group.flow_key,
                flow_id: fact.flow_id.clone(),
                flow_name: fact.flow_name.clone(),
                step_id: group.step_id,
                step_action: group.action,
                total_executions: group.runs,
                error_count: group.errors,
                flaky_count: group.flaky,
                error_rate: rate(group.errors, group.runs),
                total_duration_ms: stats.sum,
                avg_duration_ms: stats.avg,
                min_duration_ms: stats.min,
                max_duration_ms: stats.max,
                p50_duration_ms: stats.p50,
                p95_duration_ms: stats.p95,
                p99_duration_ms: stats.p99,
                errors,
                computed_at,
            });
        }
        steps.sort_by(|a, b| {
            (&a.flow_key, &a.step_id, &a.step_action).cmp(&(
                &b.flow_key,
                &b.step_id,
                &b.step_action,
            ))
        });
        DayRows {
            daily,
            steps,
            steps_read: facts
                .iter()
                .map(|f| u64::try_from(f.total_steps).unwrap_or(0))
                .sum(),
        }
    }
}

/// Scores the flakiness of every flow with a passed or failed run in `window`, reading the runs
/// live (nothing is written): what `testmesh analytics flaky` shows. Highest score first, then by
/// flow name.
pub async fn score_window(
    store: &Store,
    workspace_id: &str,
    window: FlakinessWindow,
) -> Result<Vec<FlakinessRecord>, ReportError> {
    let mut flows: HashMap<String, FlowRuns> = HashMap::new();
    store
        .for_each_execution_fact(
            workspace_id,
            &FactFilter {
                statuses: vec![ExecutionStatus::Completed, ExecutionStatus::Failed],
                ..FactFilter::days(window.start, window.end)
            },
            |fact| {
                if let Some(outcome) = outcome(fact.status) {
                    flows
                        .entry(fact.flow_key().to_string())
                        .or_insert_with(|| FlowRuns::new(&fact))
                        .push(&fact, outcome);
                }
            },
        )
        .await?;
    let now = Utc::now();
    let mut records: Vec<FlakinessRecord> = flows
        .values()
        .map(|runs| runs.record(window, now))
        .collect();
    records.sort_by(|a, b| {
        b.flakiness_score
            .total_cmp(&a.flakiness_score)
            .then_with(|| a.flow_name.cmp(&b.flow_name))
            .then_with(|| a.flow_key.cmp(&b.flow_key))
    });
    Ok(records)
}
