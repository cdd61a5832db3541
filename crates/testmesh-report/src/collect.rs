//! Assembling a report: everything [`ReportData`] holds, read from the stored executions and
//! steps of a period under the report's filters.
//!
//! A report reads the history itself rather than the aggregated tables: its filters (statuses,
//! environments, several suites or flows at once) select executions the daily rows cannot
//! separate, and percentiles over a period cannot be merged from daily ones. It uses the same
//! computations as aggregation (exact percentiles, flakiness over the window ending with the
//! report's last day), so both agree on the same executions; a report does not need an
//! aggregation to have run.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use testmesh_store::{
    ExecutionFact, ExecutionStatus, ExecutionStep, FactFilter, FlakinessWindow, Store, rate,
};

use crate::aggregate::{DurationStats, FlowRuns, outcome};
use crate::categories::categorize;
use crate::error::ReportError;
use crate::flakiness::{DEFAULT_WINDOW_DAYS, Flakiness, RunOutcome};
use crate::model::{
    DailyPoint, ExecutionBrief, FailureCategory, FailureDetail, FlakyFlow, FlowSummary,
    REPORT_SCHEMA_VERSION, ReportData, ReportFilters, ReportMeta, Stability, StepDetail, StepStat,
    Summary,
};

/// The title of a report that names none.
pub const DEFAULT_TITLE: &str = "TestMesh report";
/// Flows listed in [`ReportData::flaky_flows`] at most.
pub const MAX_FLAKY_FLOWS: usize = 20;
/// Steps listed in [`ReportData::slowest_steps`] at most.
pub const MAX_SLOWEST_STEPS: usize = 20;
/// Failures listed per flow in [`FlowSummary::recent_failures`] at most.
pub const MAX_RECENT_FAILURES: usize = 10;
/// Statuses in a flow's history at most.
pub const MAX_HISTORY: usize = 30;
/// Flow names listed per failure category at most.
pub const MAX_CATEGORY_FLOWS: usize = 10;
/// Failed executions a report lists with their steps unless told otherwise.
pub const DEFAULT_FAILURE_DETAIL_LIMIT: usize = 100;

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    /// Title ([`DEFAULT_TITLE`] when `None`).
    #[serde(default)]
    pub title: Option<String>,
    /// First day (inclusive, UTC).
    pub from: NaiveDate,
    /// Last day (inclusive, UTC).
    pub to: NaiveDate,
    /// Suites, flows, statuses and environments to keep (empty lists keep everything).
    #[serde(default)]
    pub filters: ReportFilters,
    /// Failed executions listed with their steps at most.
    #[serde(default = "default_failure_detail_limit")]
    pub failure_detail_limit: usize,
}

fn default_failure_detail_limit() -> usize {
    DEFAULT_FAILURE_DETAIL_LIMIT
}

impl ReportRequest {
    /// Every execution of the days `from..=to`, with the default title and limit.
    pub fn new(from: NaiveDate, to: NaiveDate) -> ReportRequest {
        ReportRequest {
            title: None,
            from,
            to,
            filters: ReportFilters::default(),
            failure_detail_limit: DEFAULT_FAILURE_DETAIL_LIMIT,
        }
    }
}

/// The statuses a report filter takes; `passed` is read as `completed`.
pub const STATUS_FILTER_VALUES: &str = "completed (or passed), failed or cancelled";

/// Parses the statuses of a filter.
pub fn parse_statuses(names: &[String]) -> Result<Vec<ExecutionStatus>, ReportError> {
    names
        .iter()
        .map(|name| match name.as_str() {
            "completed" | "passed" => Ok(ExecutionStatus::Completed),
            "failed" => Ok(ExecutionStatus::Failed),
            "cancelled" => Ok(ExecutionStatus::Cancelled),
            other => Err(ReportError::InvalidFilter {
                field: "statuses",
                value: other.to_string(),
                expected: STATUS_FILTER_VALUES,
            }),
        })
        .collect()
}

/// How reports name a status: `passed`, `failed` or `cancelled`.
pub fn status_word(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Completed => "passed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Cancelled => "cancelled",
        ExecutionStatus::Pending => "pending",
        ExecutionStatus::Running => "running",
    }
}

fn outcome_word(outcome: RunOutcome) -> String {
    match outcome {
        RunOutcome::Passed => "passed".into(),
        RunOutcome::Failed => "failed".into(),
    }
}

/// What the step scan keeps of one execution: its first failed step and the steps that passed on
/// a retry.
#[derive(Debug, Default)]
struct StepNotes {
    /// (seq, step id, error kind, error message) of the failed step with the lowest seq.
    first_failed: Option<(i64, String, Option<String>, Option<String>)>,
    /// (seq, step id) of flaky steps.
    retried: Vec<(i64, String)>,
}

/// Assembles the report `request` describes from the workspace's history.
pub async fn collect(
    store: &Store,
    workspace_id: &str,
    request: &ReportRequest,
) -> Result<ReportData, ReportError> {
    if request.from > request.to {
        return Err(ReportError::InvalidRange {
            from: request.from,
            to: request.to,
        });
    }
    let filters = &request.filters;
    let filter = FactFilter {
        from: request.from,
        to: request.to,
        suites: filters.suites.clone(),
        flows: filters.flows.clone(),
        statuses: parse_statuses(&filters.statuses)?,
        environments: filters.environments.clone(),
    };
    let mut facts: Vec<ExecutionFact> = Vec::new();
    store
        .for_each_execution_fact(workspace_id, &filter, |f| facts.push(f))
        .await?;

    // The steps that failed or passed on a retry: what briefs and failures need.
    let index: HashMap<&str, usize> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect();
    let mut notes: HashMap<usize, StepNotes> = HashMap::new();
    let mut flaky_steps = 0u64;
    store
        .for_each_notable_step(workspace_id, &filter, |step| {
            let Some(&i) = index.get(step.execution_id) else {
                return;
            };
            let note = notes.entry(i).or_default();
            if step.flaky {
                flaky_steps += 1;
                note.retried.push((step.seq, step.step_id.to_string()));
            }
            if step.status == "failed" && note.first_failed.as_ref().is_none_or(|f| step.seq < f.0)
            {
                note.first_failed = Some((
                    step.seq,
                    step.step_id.to_string(),
                    step.error_kind.map(str::to_string),
                    step.error_message.map(str::to_string),
                ));
            }
        })
        .await?;
    // Every step that ran, grouped by the database, for the slowest steps.
    let step_groups = store.step_groups(workspace_id, &filter, false).await?;
    for note in notes.values_mut() {
        note.retried.sort();
    }

    // Flakiness over the window ending with the report's last day, under the same selection
    // (every passed and failed run: a status filter does not change how flaky a flow is).
    let window = FlakinessWindow::ending(request.to, DEFAULT_WINDOW_DAYS);
    let mut window_runs: HashMap<String, FlowRuns> = HashMap::new();
    store
        .for_each_execution_fact(
            workspace_id,
            &FactFilter {
                from: window.start,
                to: window.end,
                statuses: vec![ExecutionStatus::Completed, ExecutionStatus::Failed],
                ..filter.clone()
            },
            |fact| {
                if let Some(outcome) = outcome(fact.status) {
                    window_runs
                        .entry(fact.flow_key().to_string())
                        .or_insert_with(|| FlowRuns::new(&fact))
                        .push(&fact, outcome);
                }
            },
        )
        .await?;
    let scores: HashMap<&str, (Flakiness, &FlowRuns)> = window_runs
        .iter()
        .map(|(key, runs)| (key.as_str(), (runs.score(), runs)))
        .collect();

    let brief = |i: usize| -> ExecutionBrief {
        let fact = &facts[i];
        let note = notes.get(&i);
        ExecutionBrief {
            execution_id: fact.id.clone(),
            created_at: fact.created_at,
            status: status_word(fact.status).to_string(),
            duration_ms: fact.duration_ms.unwrap_or(0),
            environment: fact.environment.clone(),
            error: fact.error.clone(),
            failed_step: note
                .and_then(|n| n.first_failed.as_ref())
                .map(|f| f.1.clone()),
            retried_steps: note
                .map(|n| n.retried.iter().map(|(_, id)| id.clone()).collect())
                .unwrap_or_default(),
        }
    };

    // Flows, by name (then key).
    let mut by_flow: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, fact) in facts.iter().enumerate() {
        by_flow.entry(fact.flow_key()).or_default().push(i);
    }
    let mut flows: Vec<FlowSummary> = by_flow
        .iter()
        .filter_map(|(key, runs)| {
            let newest = *runs.last()?;
            let fact = &facts[newest];
            let mut durations = timed_durations(runs.iter().map(|&i| &facts[i]));
            let stats = DurationStats::of(&mut durations);
            let (passed, failed) = counts(runs.iter().map(|&i| &facts[i]));
            let (score, stability) = scores
                .get(key)
                .map_or((0.0, Stability::Unknown), |(f, _)| (f.score, f.stability));
            let recent_failures = runs
                .iter()
                .rev()
                .skip(1)
                .filter(|&&i| facts[i].status == ExecutionStatus::Failed)
                .take(MAX_RECENT_FAILURES)
                .map(|&i| brief(i))
                .collect();
            let history = runs
                .iter()
                .skip(runs.len().saturating_sub(MAX_HISTORY))
                .map(|&i| status_word(facts[i].status).to_string())
                .collect();
            Some(FlowSummary {
                flow_id: fact.flow_id.clone(),
                flow_name: fact.flow_name.clone(),
                suite: fact.suite_name().to_string(),
                executions: runs.len() as u64,
                passed,
                failed,
                pass_rate: rate(passed as i64, (passed + failed) as i64),
                avg_duration_ms: stats.as_ref().map_or(0.0, |s| s.avg),
                p95_duration_ms: stats.as_ref().map_or(0, |s| s.p95),
                flakiness_score: score,
                stability,
                last: brief(newest),
                recent_failures,
                history,
            })
        })
        .collect();
    flows.sort_by(|a, b| (&a.flow_name, &a.flow_id).cmp(&(&b.flow_name, &b.flow_id)));

    // Flaky and broken flows of the selection.
    let mut flaky_flows: Vec<FlakyFlow> = by_flow
        .keys()
        .filter_map(|key| scores.get(key))
        .filter(|(f, _)| f.score > 0.0 || f.stability == Stability::Broken)
        .map(|(f, runs)| FlakyFlow {
            flow_id: runs.flow_id.clone(),
            flow_name: runs.flow_name.clone(),
            score: f.score,
            stability: f.stability,
            runs: f.runs,
            passed: f.passed,
            failed: f.failed,
            flaky_failures: f.flaky_failures,
            transitions: f.transitions,
            consecutive_failures: f.consecutive_failures,
            consecutive_successes: f.consecutive_successes,
            history: runs.history().map(outcome_word).collect(),
        })
        .collect();
    flaky_flows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.flow_name.cmp(&b.flow_name))
            .then_with(|| a.flow_id.cmp(&b.flow_id))
    });
    let stability_count =
        |wanted: Stability| flows.iter().filter(|f| f.stability == wanted).count() as u64;

    // Summary and days.
    let mut durations = timed_durations(facts.iter());
    let stats = DurationStats::of(&mut durations);
    let (passed, failed) = counts(facts.iter());
    let summary = Summary {
        executions: facts.len() as u64,
        passed,
        failed,
        cancelled: facts.len() as u64 - passed - failed,
        pass_rate: rate(passed as i64, (passed + failed) as i64),
        avg_duration_ms: stats.as_ref().map_or(0.0, |s| s.avg),
        p50_duration_ms: stats.as_ref().map_or(0, |s| s.p50),
        p95_duration_ms: stats.as_ref().map_or(0, |s| s.p95),
        p99_duration_ms: stats.as_ref().map_or(0, |s| s.p99),
        flows: flows.len() as u64,
        flaky_flows: stability_count(Stability::Flaky),
        broken_flows: stability_count(Stability::Broken),
        steps: facts
            .iter()
            .map(|f| u64::try_from(f.total_steps).unwrap_or(0))
            .sum(),
        flaky_steps,
    };
    let mut by_day: BTreeMap<NaiveDate, Vec<&ExecutionFact>> = BTreeMap::new();
    for fact in &facts {
        by_day
            .entry(fact.created_at.date_naive())
            .or_default()
            .push(fact);
    }
    let daily = by_day
        .into_iter()
        .map(|(date, day)| {
            let mut durations = timed_durations(day.iter().copied());
            let stats = DurationStats::of(&mut durations);
            let (passed, failed) = counts(day.iter().copied());
            DailyPoint {
                date,
                executions: day.len() as u64,
                passed,
                failed,
                pass_rate: rate(passed as i64, (passed + failed) as i64),
                avg_duration_ms: stats.as_ref().map_or(0.0, |s| s.avg),
                p50_duration_ms: stats.as_ref().map_or(0, |s| s.p50),
                p95_duration_ms: stats.as_ref().map_or(0, |s| s.p95),
                p99_duration_ms: stats.as_ref().map_or(0, |s| s.p99),
            }
        })
        .collect();

    // Failure categories: each failed execution by the cause of its first failed step (or its
    // own error when no step failed).
    let cause_of = |i: usize| {
        let fact = &facts[i];
        let step = notes.get(&i).and_then(|n| n.first_failed.as_ref());
        let (message, kind) = match step {
            Some((_, _, kind, Some(message))) if !message.trim().is_empty() => {
                (message.clone(), kind.clone())
            }
            _ => (
                fact.error
                    .clone()
                    .unwrap_or_else(|| "failed without an error message".to_string()),
                None,
            ),
        };
        let cause = categorize(&message, kind.as_deref());
        (cause, message)
    };
    struct Category {
        count: u64,
        flows: BTreeSet<String>,
        example: String,
        last_seen: DateTime<Utc>,
    }
    let mut categories: HashMap<(&'static str, String), Category> = HashMap::new();
    let failed_runs: Vec<usize> = (0..facts.len())
        .filter(|&i| facts[i].status == ExecutionStatus::Failed)
        .collect();
    let mut signatures: HashMap<usize, String> = HashMap::new();
    for &i in &failed_runs {
        let (cause, message) = cause_of(i);
        signatures.insert(i, cause.signature.clone());
        let category = categories
            .entry((cause.kind, cause.signature))
            .or_insert_with(|| Category {
                count: 0,
                flows: BTreeSet::new(),
                example: String::new(),
                last_seen: facts[i].created_at,
            });
        category.count += 1;
        category.flows.insert(facts[i].flow_name.clone());
        // Facts are oldest first: the last one seen is the newest.
        category.example = message;
        category.last_seen = facts[i].created_at;
    }
    let mut failure_categories: Vec<FailureCategory> = categories
        .into_iter()
        .map(|((kind, signature), c)| FailureCategory {
            kind: kind.to_string(),
            signature,
            count: c.count,
            flows: c.flows.into_iter().take(MAX_CATEGORY_FLOWS).collect(),
            example: c.example,
            last_seen: c.last_seen,
        })
        .collect();
    failure_categories.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.signature.cmp(&b.signature))
            .then_with(|| a.kind.cmp(&b.kind))
    });

    // Slowest steps.
    let names: HashMap<&str, &str> = by_flow
        .iter()
        .filter_map(|(key, runs)| Some((*key, facts[*runs.last()?].flow_name.as_str())))
        .collect();
    let mut slowest_steps = Vec::with_capacity(step_groups.len());
    for mut group in step_groups {
        let Some(stats) = DurationStats::of(&mut group.durations) else {
            continue;
        };
        let executions = u64::try_from(group.runs).unwrap_or(0);
        let errors = u64::try_from(group.errors).unwrap_or(0);
        slowest_steps.push(StepStat {
            flow_name: names
                .get(group.flow_key.as_str())
                .map_or_else(|| group.flow_key.clone(), |n| n.to_string()),
            step_id: group.step_id,
            action: group.action,
            executions,
            avg_duration_ms: stats.avg,
            p95_duration_ms: stats.p95,
            max_duration_ms: stats.max,
            errors,
            error_rate: rate(group.errors, group.runs),
        });
    }
    slowest_steps.sort_by(|a, b| {
        b.avg_duration_ms
            .total_cmp(&a.avg_duration_ms)
            .then_with(|| {
                (&a.flow_name, &a.step_id, &a.action).cmp(&(&b.flow_name, &b.step_id, &b.action))
            })
    });
    slowest_steps.truncate(MAX_SLOWEST_STEPS);

    // The newest failures with their steps.
    let mut failures = Vec::new();
    for &i in failed_runs.iter().rev().take(request.failure_detail_limit) {
        let fact = &facts[i];
        let detail = match store.get_execution_detail(workspace_id, &fact.id).await {
            Ok(detail) => detail,
            // Deleted since it was read: the report holds what still exists.
            Err(testmesh_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        failures.push(FailureDetail {
            execution: brief(i),
            flow_name: fact.flow_name.clone(),
            suite: fact.suite_name().to_string(),
            category: signatures.get(&i).cloned().unwrap_or_default(),
            steps: detail.steps.into_iter().map(step_detail).collect(),
        });
    }

    Ok(ReportData {
        schema_version: REPORT_SCHEMA_VERSION,
        meta: ReportMeta {
            title: request
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_TITLE.to_string()),
            generated_at: Utc::now(),
            from: request.from,
            to: request.to,
            filters: request.filters.clone(),
            failure_detail_limit: request.failure_detail_limit,
        },
        summary,
        daily,
        flows,
        flaky_flows: flaky_flows.into_iter().take(MAX_FLAKY_FLOWS).collect(),
        failure_categories,
        slowest_steps,
        failures,
    })
}

/// The durations of passed and failed executions (cancelled ones stopped early).
fn timed_durations<'a>(facts: impl Iterator<Item = &'a ExecutionFact>) -> Vec<i64> {
    facts
        .filter(|f| {
            matches!(
                f.status,
                ExecutionStatus::Completed | ExecutionStatus::Failed
            )
        })
        .filter_map(|f| f.duration_ms)
        .collect()
}

/// (passed, failed).
fn counts<'a>(facts: impl Iterator<Item = &'a ExecutionFact>) -> (u64, u64) {
    facts.fold((0, 0), |(p, f), fact| match fact.status {
        ExecutionStatus::Completed => (p + 1, f),
        ExecutionStatus::Failed => (p, f + 1),
        _ => (p, f),
    })
}

/// A stored step as a failure shows it: request and response only when it failed.
fn step_detail(step: ExecutionStep) -> StepDetail {
    let failed = step.status == "failed";
    StepDetail {
        step_id: step.step_id,
        name: step.name,
        action: step.action,
        depth: step.depth,
        status: step.status,
        duration_ms: step.duration_ms,
        attempts: step.attempts,
        flaky: step.flaky,
        error_kind: step.error_kind,
        error_message: step.error_message,
        assertions: step.assertions,
        request: if failed { step.request } else { None },
        response: if failed { step.response } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testmesh_store::round2;

    #[test]
    fn statuses_parse_with_a_clear_error() {
        let ok = parse_statuses(&["passed".into(), "failed".into(), "cancelled".into()]);
        assert!(matches!(
            ok.as_deref(),
            Ok([
                ExecutionStatus::Completed,
                ExecutionStatus::Failed,
                ExecutionStatus::Cancelled
            ])
        ));
        let err = parse_statuses(&["running".into()])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid statuses `running`: expected completed (or passed), failed or cancelled")
        );
    }

    #[test]
    fn averages_round_to_two_decimals() {
        assert_eq!(round2(10.0 / 3.0), 3.33);
    }
}
