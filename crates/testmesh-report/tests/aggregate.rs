//! Aggregation and report assembly over generated histories whose metrics, percentiles and
//! flakiness scores are known in advance, each test on SQLite and on PostgreSQL (without
//! `TESTMESH_TEST_POSTGRES_URL` the PostgreSQL variants fail under `CI` and skip locally).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

#[macro_use]
extern crate testmesh_test;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use indexmap::IndexMap;
use serde_json::json;
use testmesh_report::ReportError;
use testmesh_report::aggregate::{
    AggregateOptions, Progress, aggregate, aggregate_with, score_window,
};
use testmesh_report::collect::{ReportRequest, collect};
use testmesh_report::model::{ReportFilters, Stability};
use testmesh_runner::{ErrorKind, FlowRecord, FlowStatus, StepError, StepRecord, StepStatus};
use testmesh_store::{
    AnalyticsRunStatus, Backend, DailyMetric, FlakinessFilter, FlakinessRecord, FlakinessWindow,
    MetricFilter, MetricScope, RunContext, StepFilter, StepPerformance, Store, Trigger,
    day_start_ms,
};
use testmesh_test::TestDb;

const WS: &str = testmesh_store::DEFAULT_WORKSPACE_ID;

on_both_backends!(
    daily_metrics_and_percentiles_are_exact,
    aggregating_again_gives_the_same_rows,
    flakiness_edge_cases_score_as_documented,
    aggregation_runs_are_recorded_with_progress,
    reports_hold_every_section,
    reports_honour_their_filters,
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Milliseconds since the epoch at `minute` minutes into `text`'s day.
fn at(text: &str, minute: i64) -> i64 {
    day_start_ms(day(text)) + minute * 60_000
}

/// A step that ran.
fn step(id: &str, action: &str, ms: u64) -> StepRecord {
    let mut step = StepRecord::skipped(id, Some(id), action, "not run");
    step.status = StepStatus::Passed;
    step.skip_reason = None;
    step.attempts = 1;
    step.duration = Duration::from_millis(ms);
    step
}

/// A step that failed with an assertion error, its request and response recorded.
fn failed_step(id: &str, action: &str, ms: u64, message: &str) -> StepRecord {
    let mut step = step(id, action, ms);
    step.status = StepStatus::Failed;
    step.error = Some(StepError::new(ErrorKind::Assertion, message));
    step.request = Some(json!({"method": "POST", "url": "http://127.0.0.1:1/pay"}));
    step.response = Some(json!({"status": 500}));
    step
}

/// A step that failed first, then passed on its second attempt.
fn retried_step(id: &str, action: &str, ms: u64) -> StepRecord {
    let mut step = step(id, action, ms);
    step.flaky = true;
    step.attempts = 2;
    step
}

/// A run to record.
struct Run<'a> {
    flow: &'a str,
    suite: Option<&'a str>,
    environment: Option<&'a str>,
    status: FlowStatus,
    cancelled: bool,
    duration_ms: u64,
    created_ms: i64,
    steps: Vec<StepRecord>,
}

impl<'a> Run<'a> {
    fn new(flow: &'a str, status: FlowStatus, duration_ms: u64, created_ms: i64) -> Run<'a> {
        Run {
            flow,
            suite: None,
            environment: None,
            status,
            cancelled: false,
            duration_ms,
            created_ms,
            steps: vec![step("only", "log", 1)],
        }
    }

    fn suite(self, suite: &'a str) -> Run<'a> {
        Run {
            suite: Some(suite),
            ..self
        }
    }

    fn env(self, environment: &'a str) -> Run<'a> {
        Run {
            environment: Some(environment),
            ..self
        }
    }

    fn steps(self, steps: Vec<StepRecord>) -> Run<'a> {
        Run { steps, ..self }
    }

    fn cancelled(self) -> Run<'a> {
        Run {
            cancelled: true,
            ..self
        }
    }
}

/// Records a run of a stored flow and moves its creation time to `created_ms`.
async fn record(store: &Store, run: Run<'_>) -> String {
    let mut yaml = format!("name: {}\n", run.flow);
    if let Some(suite) = run.suite {
        yaml.push_str(&format!("suite: {suite}\n"));
    }
    yaml.push_str("steps:\n  - id: only\n    action: log\n    config: {message: hi}\n");
    let (flow_id, version) = store.upsert_flow_by_name(WS, &yaml, None).await.unwrap();
    let error = (run.status == FlowStatus::Failed).then(|| {
        run.steps.iter().find_map(|s| s.error.as_ref()).map_or_else(
            || format!("[main] flow '{}' failed", run.flow),
            |e| format!("[main] step 'x' (http_request): {}", e.message),
        )
    });
    let record = FlowRecord {
        execution_id: uuid::Uuid::new_v4().to_string(),
        name: run.flow.to_string(),
        path: None,
        suite: run.suite.map(str::to_string),
        tags: Vec::new(),
        status: run.status,
        started_at: DateTime::from_timestamp_millis(run.created_ms).unwrap(),
        duration: Duration::from_millis(run.duration_ms),
        steps: run.steps,
        error,
        cancelled: run.cancelled,
        outputs: IndexMap::new(),
    };
    let context = RunContext {
        environment: run.environment.map(str::to_string),
        ..RunContext::for_flow(WS, &flow_id, Some(version), Trigger::Cli)
    };
    let id = store.record_run(&record, &context).await.unwrap();
    sqlx::query("UPDATE executions SET created_at = $1 WHERE id = $2")
        .bind(run.created_ms)
        .bind(&id)
        .execute(store.pool())
        .await
        .unwrap();
    id
}

/// The nearest-rank percentile, written out independently of the crate's.
fn nearest_rank(values: &[i64], p: u32) -> i64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    // ceil(p·n / 100) in integers.
    let rank = (p as usize * n).div_ceil(100).max(1);
    sorted[rank - 1]
}

async fn daily(store: &Store, filter: MetricFilter) -> Vec<DailyMetric> {
    store
        .list_daily_metrics(
            WS,
            &MetricFilter {
                limit: Some(1000),
                ..filter
            },
        )
        .await
        .unwrap()
        .items
}

fn only<T: std::fmt::Debug>(mut rows: Vec<T>) -> T {
    assert_eq!(rows.len(), 1, "{rows:#?}");
    rows.remove(0)
}

/// One day of checkout (suite shop, staging) and login (no suite, no environment) runs, plus runs
/// on the days around it.
async fn seed_day(store: &Store) {
    for i in 1..=20u64 {
        let failed = i == 5 || i == 15;
        let pay = if failed {
            failed_step(
                "pay",
                "http_request",
                i * 5,
                &format!(
                    "assertion failed:\n  - status == 200: expected status == 200, but status is {}",
                    if i == 5 { 500 } else { 502 }
                ),
            )
        } else {
            step("pay", "http_request", i * 5)
        };
        let open = if i == 3 {
            retried_step("open", "http_request", 5)
        } else {
            step("open", "http_request", 5)
        };
        let status = if failed {
            FlowStatus::Failed
        } else {
            FlowStatus::Passed
        };
        record(
            store,
            Run::new("checkout", status, i * 10, at("2025-03-10", i as i64))
                .suite("shop")
                .env("staging")
                .steps(vec![open, pay]),
        )
        .await;
    }
    record(
        store,
        Run::new("checkout", FlowStatus::Passed, 5_000, at("2025-03-10", 30))
            .suite("shop")
            .env("staging")
            .steps(vec![step("open", "http_request", 5)])
            .cancelled(),
    )
    .await;
    for i in 1..=10u64 {
        record(
            store,
            Run::new(
                "login",
                FlowStatus::Passed,
                i * 100,
                at("2025-03-10", 100 + i as i64),
            )
            .steps(vec![step("auth", "log", 1)]),
        )
        .await;
    }
    // The days around it.
    record(
        store,
        Run::new("checkout", FlowStatus::Failed, 7, at("2025-03-09", 1439)).suite("shop"),
    )
    .await;
    record(
        store,
        Run::new("login", FlowStatus::Passed, 9, at("2025-03-11", 0)),
    )
    .await;
}

async fn daily_metrics_and_percentiles_are_exact(db: &TestDb) {
    let store = db.open().await;
    seed_day(&store).await;
    let summary = aggregate(&store, WS, day("2025-03-10"), day("2025-03-10"))
        .await
        .unwrap();
    assert_eq!(
        (summary.days, summary.executions, summary.steps),
        (1, 31, 51)
    );

    let checkout: Vec<i64> = (1..=20).map(|i| i * 10).collect();
    let login: Vec<i64> = (1..=10).map(|i| i * 100).collect();
    let all_durations: Vec<i64> = checkout.iter().chain(&login).copied().collect();

    let all = only(
        daily(
            &store,
            MetricFilter {
                scope: Some(MetricScope::All),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(all.day, day("2025-03-10"));
    assert_eq!(all.environment, None);
    assert_eq!(
        (
            all.total_executions,
            all.passed_executions,
            all.failed_executions,
            all.cancelled_executions
        ),
        (31, 28, 2, 1)
    );
    assert_eq!(all.flows, 2);
    assert_eq!(all.pass_rate, 93.33);
    let sum: i64 = all_durations.iter().sum();
    assert_eq!(
        all.total_duration_ms, sum,
        "the cancelled run's 5 s are left out"
    );
    assert_eq!(
        all.avg_duration_ms,
        Some(((sum as f64 / 30.0) * 100.0).round() / 100.0)
    );
    assert_eq!(
        (all.min_duration_ms, all.max_duration_ms),
        (Some(10), Some(1000))
    );
    assert_eq!(
        (
            all.p50_duration_ms,
            all.p95_duration_ms,
            all.p99_duration_ms
        ),
        (
            Some(nearest_rank(&all_durations, 50)),
            Some(nearest_rank(&all_durations, 95)),
            Some(nearest_rank(&all_durations, 99))
        )
    );
    assert_eq!(
        (
            all.p50_duration_ms,
            all.p95_duration_ms,
            all.p99_duration_ms
        ),
        (Some(140), Some(900), Some(1000))
    );
    assert_eq!(
        (
            all.total_steps,
            all.passed_steps,
            all.failed_steps,
            all.skipped_steps
        ),
        (51, 49, 2, 0)
    );
    assert_eq!(all.flaky_steps, 1);

    // Per environment: staging holds checkout, `default` the runs without one.
    let staging = only(
        daily(
            &store,
            MetricFilter {
                scope: Some(MetricScope::All),
                environment: Some("staging".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(
        (
            staging.total_executions,
            staging.passed_executions,
            staging.cancelled_executions
        ),
        (21, 18, 1)
    );
    assert_eq!(staging.p95_duration_ms, Some(nearest_rank(&checkout, 95)));
    let default_env = only(
        daily(
            &store,
            MetricFilter {
                scope: Some(MetricScope::All),
                environment: Some("default".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(default_env.total_executions, 10);
    assert_eq!(default_env.p50_duration_ms, Some(500));

    // Per suite and per flow.
    let suites = daily(
        &store,
        MetricFilter {
            scope: Some(MetricScope::Suite),
            ..Default::default()
        },
    )
    .await;
    let shape: Vec<(String, i64, i64)> = suites
        .iter()
        .map(|m| (m.subject.clone(), m.total_executions, m.flows))
        .collect();
    assert_eq!(
        shape,
        [("default".to_string(), 10, 1), ("shop".into(), 21, 1)]
    );
    let flow = store.get_flow_by_name(WS, "checkout").await.unwrap();
    let checkout_row = only(
        daily(
            &store,
            MetricFilter {
                flow: Some("checkout".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(checkout_row.subject, flow.flow.id);
    assert_eq!(checkout_row.flow_id.as_deref(), Some(flow.flow.id.as_str()));
    assert_eq!(checkout_row.flow_name.as_deref(), Some("checkout"));
    assert_eq!(checkout_row.suite.as_deref(), Some("shop"));
    assert_eq!(checkout_row.pass_rate, 90.0);
    assert_eq!(
        (
            checkout_row.p50_duration_ms,
            checkout_row.p95_duration_ms,
            checkout_row.p99_duration_ms
        ),
        (Some(100), Some(190), Some(200))
    );
    let login_row = only(
        daily(
            &store,
            MetricFilter {
                flow: Some("login".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(login_row.suite.as_deref(), Some("default"));
    // The six rows of each flow: scope × environment.
    let every_env = |env: &str| MetricFilter {
        environment: Some(env.into()),
        ..Default::default()
    };
    assert_eq!(daily(&store, every_env("staging")).await.len(), 3);
    assert_eq!(daily(&store, every_env("default")).await.len(), 3);
    assert_eq!(daily(&store, MetricFilter::default()).await.len(), 5);

    // Step performance.
    let steps = store
        .list_step_performance(
            WS,
            &StepFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let pay = steps.iter().find(|s| s.step_id == "pay").unwrap();
    assert_eq!(
        (pay.total_executions, pay.error_count, pay.error_rate),
        (20, 2, 10.0)
    );
    assert_eq!(
        (
            pay.min_duration_ms,
            pay.max_duration_ms,
            pay.avg_duration_ms
        ),
        (5, 100, 52.5)
    );
    assert_eq!(
        (
            pay.p50_duration_ms,
            pay.p95_duration_ms,
            pay.p99_duration_ms
        ),
        (50, 95, 100)
    );
    assert_eq!(
        pay.errors,
        [
            "assertion failed:\n  - status == 200: expected status == 200, but status is 500",
            "assertion failed:\n  - status == 200: expected status == 200, but status is 502"
        ]
    );
    assert_eq!(pay.step_action, "http_request");
    assert_eq!(pay.flow_name, "checkout");
    let open = steps.iter().find(|s| s.step_id == "open").unwrap();
    assert_eq!(
        (
            open.total_executions,
            open.flaky_count,
            open.p99_duration_ms
        ),
        (21, 1, 5)
    );
    let auth = steps.iter().find(|s| s.step_id == "auth").unwrap();
    assert_eq!(
        (auth.total_executions, auth.step_action.as_str()),
        (10, "log")
    );
    assert_eq!(steps.len(), 3);

    // PostgreSQL's percentile_disc over the same executions gives the same values.
    if store.backend() == Backend::Postgres {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms), percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms), percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM executions WHERE status IN ('completed', 'failed') AND created_at >= $1 AND created_at < $2",
        )
        .bind(day_start_ms(day("2025-03-10")))
        .bind(day_start_ms(day("2025-03-11")))
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            (
                row.get::<i64, _>(0),
                row.get::<i64, _>(1),
                row.get::<i64, _>(2)
            ),
            (140, 900, 1000)
        );
    }
}

/// Every analytics row, without the time it was computed.
async fn snapshot(store: &Store) -> (Vec<DailyMetric>, Vec<StepPerformance>, Vec<FlakinessRecord>) {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let mut metrics = Vec::new();
    for env in [None, Some("staging"), Some("default")] {
        metrics.extend(
            daily(
                &store.clone(),
                MetricFilter {
                    environment: env.map(str::to_string),
                    ..Default::default()
                },
            )
            .await
            .into_iter()
            .map(|m| DailyMetric {
                computed_at: epoch,
                ..m
            }),
        );
    }
    let steps = store
        .list_step_performance(
            WS,
            &StepFilter {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| StepPerformance {
            computed_at: epoch,
            ..s
        })
        .collect();
    let flaky = store
        .list_flakiness(
            WS,
            &FlakinessFilter {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| FlakinessRecord {
            computed_at: epoch,
            ..f
        })
        .collect();
    (metrics, steps, flaky)
}

async fn aggregating_again_gives_the_same_rows(db: &TestDb) {
    let store = db.open().await;
    seed_day(&store).await;
    // A flow whose only run that day was cancelled has no durations: no mean, no percentiles.
    record(
        &store,
        Run::new("export", FlowStatus::Passed, 9_000, at("2025-03-11", 5)).cancelled(),
    )
    .await;
    let first = aggregate(&store, WS, day("2025-03-09"), day("2025-03-11"))
        .await
        .unwrap();
    let rows = snapshot(&store).await;
    let second = aggregate(&store, WS, day("2025-03-09"), day("2025-03-11"))
        .await
        .unwrap();
    assert_eq!(
        snapshot(&store).await,
        rows,
        "the same rows, not twice as many"
    );
    assert_eq!(
        (first.executions, first.daily_rows),
        (second.executions, second.daily_rows)
    );
    assert_eq!(first.executions, 34);
    let export = only(
        daily(
            &store,
            MetricFilter {
                flow: Some("export".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(
        (
            export.timed_executions,
            export.avg_duration_ms,
            export.p95_duration_ms
        ),
        (0, None, None)
    );
    assert_eq!(export.cancelled_executions, 1);
    // Each of the three days has its `all` row over all environments.
    let days: Vec<NaiveDate> = daily(
        &store,
        MetricFilter {
            scope: Some(MetricScope::All),
            ..Default::default()
        },
    )
    .await
    .iter()
    .map(|m| m.day)
    .collect();
    assert_eq!(
        days,
        [day("2025-03-11"), day("2025-03-10"), day("2025-03-09")]
    );
    // Aggregating one day again replaces that day only.
    aggregate(&store, WS, day("2025-03-10"), day("2025-03-10"))
        .await
        .unwrap();
    assert_eq!(snapshot(&store).await.0, rows.0);
    // A range longer than one block of steps (31 days) gives the same daily and step rows.
    let long = aggregate(&store, WS, day("2025-02-01"), day("2025-03-11"))
        .await
        .unwrap();
    assert_eq!((long.days, long.executions), (39, 34));
    let again = snapshot(&store).await;
    assert_eq!((again.0, again.1), (rows.0.clone(), rows.1.clone()));
    // A day whose executions are gone loses its rows when aggregated again.
    sqlx::query("DELETE FROM executions WHERE created_at >= $1 AND created_at < $2")
        .bind(day_start_ms(day("2025-03-11")))
        .bind(day_start_ms(day("2025-03-12")))
        .execute(store.pool())
        .await
        .unwrap();
    aggregate(&store, WS, day("2025-03-11"), day("2025-03-11"))
        .await
        .unwrap();
    let days: Vec<NaiveDate> = daily(
        &store,
        MetricFilter {
            scope: Some(MetricScope::All),
            ..Default::default()
        },
    )
    .await
    .iter()
    .map(|m| m.day)
    .collect();
    assert_eq!(days, [day("2025-03-10"), day("2025-03-09")]);
    // A backwards range is refused before anything is read.
    let err = aggregate(&store, WS, day("2025-03-11"), day("2025-03-10"))
        .await
        .unwrap_err();
    assert!(matches!(err, ReportError::InvalidRange { .. }));
    assert!(err.is_input());
}

/// Records `pattern` (P passed, F failed, C cancelled) for `flow`, one run every `spacing`
/// minutes from the start of `first_day`, in `environment`.
async fn history(
    store: &Store,
    flow: &str,
    pattern: &str,
    first_day: &str,
    environment: Option<&str>,
) {
    for (i, c) in pattern.chars().enumerate() {
        let status = if c == 'F' {
            FlowStatus::Failed
        } else {
            FlowStatus::Passed
        };
        let mut run = Run::new(flow, status, 10, at(first_day, i as i64 * 90));
        if let Some(env) = environment {
            run = run.env(env);
        }
        if c == 'C' {
            run = run.cancelled();
        }
        record(store, run).await;
    }
}

async fn flakiness_edge_cases_score_as_documented(db: &TestDb) {
    let store = db.open().await;
    // The window is the 14 days ending 2025-03-14: 2025-03-01 to 2025-03-14.
    history(&store, "one run", "P", "2025-03-10", None).await;
    history(&store, "all pass", "PPPPPPPPPP", "2025-03-10", None).await;
    history(&store, "all fail", "FFFFF", "2025-03-10", None).await;
    history(&store, "alternating", &"PF".repeat(10), "2025-03-05", None).await;
    history(&store, "regression", "PPPPFFFF", "2025-03-08", None).await;
    history(&store, "pfp", "PFP", "2025-03-12", None).await;
    // Cancelled runs are not scored.
    history(&store, "pfp cancelled", "PCFCP", "2025-03-12", None).await;
    // Before the window: only the last pass counts.
    history(&store, "old failures", "FFFFFF", "2025-02-20", None).await;
    history(&store, "old failures", "P", "2025-03-13", None).await;
    // Staging passes, production fails, alternating: deterministic per environment.
    for i in 0..3 {
        record(
            &store,
            Run::new(
                "by environment",
                FlowStatus::Passed,
                10,
                at("2025-03-11", i * 20),
            )
            .env("staging"),
        )
        .await;
        record(
            &store,
            Run::new(
                "by environment",
                FlowStatus::Failed,
                10,
                at("2025-03-11", i * 20 + 10),
            )
            .env("production"),
        )
        .await;
    }

    let summary = aggregate(&store, WS, day("2025-03-14"), day("2025-03-14"))
        .await
        .unwrap();
    assert_eq!(
        summary.window,
        FlakinessWindow::ending(day("2025-03-14"), 14)
    );
    assert_eq!(summary.window.start, day("2025-03-01"));
    assert_eq!(summary.flows_scored, 9);
    assert_eq!((summary.flaky_flows, summary.broken_flows), (3, 2));
    let stored = store
        .list_flakiness(
            WS,
            &FlakinessFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let get = |name: &str| stored.iter().find(|r| r.flow_name == name).unwrap().clone();
    let check = |name: &str, score: f64, stability: &str, runs: i64, history: &str| {
        let r = get(name);
        assert_eq!(
            (
                r.flakiness_score,
                r.stability.as_str(),
                r.total_runs,
                r.history.as_str()
            ),
            (score, stability, runs, history),
            "{name}"
        );
        r
    };
    check("one run", 0.0, "unknown", 1, "P");
    check("all pass", 0.0, "stable", 10, "PPPPPPPPPP");
    let all_fail = check("all fail", 0.0, "broken", 5, "FFFFF");
    assert_eq!(
        (all_fail.consecutive_failures, all_fail.passed_runs),
        (5, 0)
    );
    let alternating = check("alternating", 82.40, "flaky", 20, &"PF".repeat(10));
    assert_eq!(
        (
            alternating.flaky_failures,
            alternating.transitions,
            alternating.consecutive_failures,
            alternating.consecutive_successes
        ),
        (9, 19, 1, 0)
    );
    let regression = check("regression", 0.0, "broken", 8, "PPPPFFFF");
    assert_eq!(
        (
            regression.flaky_failures,
            regression.transitions,
            regression.consecutive_failures
        ),
        (0, 1, 4)
    );
    check("pfp", 33.33, "flaky", 3, "PFP");
    check("pfp cancelled", 33.33, "flaky", 3, "PFP");
    check("old failures", 0.0, "unknown", 1, "P");
    let by_env = check("by environment", 0.0, "stable", 6, "PFPFPF");
    assert_eq!((by_env.flaky_failures, by_env.transitions), (0, 5));
    // Sorted by score: the three flaky flows first.
    let top: Vec<&str> = stored
        .iter()
        .take(3)
        .map(|r| r.flow_name.as_str())
        .collect();
    assert_eq!(top, ["alternating", "pfp", "pfp cancelled"]);
    assert_eq!(get("pfp").window_start, day("2025-03-01"));
    assert_eq!(
        get("pfp").last_run_at.timestamp_millis(),
        at("2025-03-12", 180)
    );

    // The live score (what `testmesh analytics flaky` shows) agrees with the stored one.
    let live = score_window(&store, WS, FlakinessWindow::ending(day("2025-03-14"), 14))
        .await
        .unwrap();
    let strip = |rows: Vec<FlakinessRecord>| -> Vec<(String, f64, String, String)> {
        rows.into_iter()
            .map(|r| (r.flow_name, r.flakiness_score, r.stability, r.history))
            .collect()
    };
    assert_eq!(strip(live), strip(stored.clone()));

    // A report's flows carry the same scores and stabilities.
    let report = collect(
        &store,
        WS,
        &ReportRequest::new(day("2025-03-01"), day("2025-03-14")),
    )
    .await
    .unwrap();
    let alternating = report
        .flows
        .iter()
        .find(|f| f.flow_name == "alternating")
        .unwrap();
    assert_eq!(
        (alternating.flakiness_score, alternating.stability),
        (82.40, Stability::Flaky)
    );
    let flaky_names: Vec<(&str, Stability)> = report
        .flaky_flows
        .iter()
        .map(|f| (f.flow_name.as_str(), f.stability))
        .collect();
    assert_eq!(
        flaky_names,
        [
            ("alternating", Stability::Flaky),
            ("pfp", Stability::Flaky),
            ("pfp cancelled", Stability::Flaky),
            ("all fail", Stability::Broken),
            ("regression", Stability::Broken),
        ],
        "score above zero or broken, highest score first, then by name"
    );
    assert_eq!(
        (report.summary.flaky_flows, report.summary.broken_flows),
        (3, 2)
    );
    assert_eq!(
        report.flaky_flows[1].history,
        ["passed", "failed", "passed"]
    );
}

async fn aggregation_runs_are_recorded_with_progress(db: &TestDb) {
    let store = db.open().await;
    seed_day(&store).await;
    let mut seen: Vec<Progress> = Vec::new();
    let mut on_progress = |p: Progress| seen.push(p);
    let summary = aggregate_with(
        &store,
        WS,
        day("2025-03-09"),
        day("2025-03-10"),
        AggregateOptions {
            trigger: Some(Trigger::Cli),
            window_days: 3,
            progress: Some(&mut on_progress),
            run_id: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        summary.window,
        FlakinessWindow::ending(day("2025-03-10"), 3)
    );
    // The window starts a day before the range: that day is read for flakiness only.
    let days: Vec<(NaiveDate, u32, u32)> = seen.iter().map(|p| (p.day, p.done, p.total)).collect();
    assert_eq!(
        days,
        [
            (day("2025-03-08"), 1, 3),
            (day("2025-03-09"), 2, 3),
            (day("2025-03-10"), 3, 3)
        ]
    );
    assert_eq!(seen.last().unwrap().executions, 32);
    let runs = store.list_analytics_runs(WS, None, None).await.unwrap();
    let run = only(runs.items);
    assert_eq!(
        (run.status, run.triggered_by, run.executions, run.steps),
        (AnalyticsRunStatus::Completed, Trigger::Cli, 32, 52)
    );
    assert_eq!(
        store.last_aggregated_day(WS).await.unwrap(),
        Some(day("2025-03-10"))
    );

    // A run started by the API before the work is recorded in place.
    let started = store
        .start_analytics_run(WS, day("2025-03-10"), day("2025-03-10"), Trigger::Api)
        .await
        .unwrap();
    aggregate_with(
        &store,
        WS,
        day("2025-03-10"),
        day("2025-03-10"),
        AggregateOptions {
            run_id: Some(started.id.clone()),
            ..AggregateOptions::default()
        },
    )
    .await
    .unwrap();
    let runs = store.list_analytics_runs(WS, None, None).await.unwrap();
    assert_eq!(runs.total, 2, "no third run recorded");
    let api = runs.items.iter().find(|r| r.id == started.id).unwrap();
    assert_eq!(api.status, AnalyticsRunStatus::Completed);

    // Another window length ending the same day: the list shows one window, the newest.
    let three_days = store
        .list_flakiness(WS, &FlakinessFilter::default())
        .await
        .unwrap();
    assert!(three_days.total > 0);
    assert!(
        three_days.items.iter().all(|r| r.window_days == 14),
        "the API's run used the default window"
    );
    let mut names: Vec<&str> = three_days
        .items
        .iter()
        .map(|r| r.flow_name.as_str())
        .collect();
    names.dedup();
    assert_eq!(names.len(), three_days.items.len(), "each flow once");

    // A run left `running` by a process that stopped is failed once it is old enough.
    let stuck = store
        .start_analytics_run(WS, day("2025-03-10"), day("2025-03-10"), Trigger::Cli)
        .await
        .unwrap();
    assert_eq!(
        store
            .fail_unfinished_analytics_runs(Utc::now() - chrono::Duration::hours(1), "abandoned")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .fail_unfinished_analytics_runs(Utc::now() + chrono::Duration::seconds(1), "abandoned")
            .await
            .unwrap(),
        1
    );
    let runs = store.list_analytics_runs(WS, None, None).await.unwrap();
    let stuck = runs.items.iter().find(|r| r.id == stuck.id).unwrap();
    assert_eq!(stuck.status, AnalyticsRunStatus::Failed);
    assert_eq!(stuck.error.as_deref(), Some("abandoned"));
}

async fn reports_hold_every_section(db: &TestDb) {
    let store = db.open().await;
    seed_day(&store).await;
    let mut request = ReportRequest::new(day("2025-03-09"), day("2025-03-10"));
    request.title = Some("Nightly".into());
    let report = collect(&store, WS, &request).await.unwrap();
    assert_eq!(report.meta.title, "Nightly");
    assert_eq!(
        (report.meta.from, report.meta.to),
        (day("2025-03-09"), day("2025-03-10"))
    );
    assert_eq!(report.meta.failure_detail_limit, 100);

    let s = &report.summary;
    assert_eq!(
        (s.executions, s.passed, s.failed, s.cancelled),
        (32, 28, 3, 1)
    );
    assert_eq!(s.pass_rate, 90.32);
    let mut durations: Vec<i64> = (1..=20)
        .map(|i| i * 10)
        .chain((1..=10).map(|i| i * 100))
        .collect();
    durations.push(7);
    assert_eq!(
        (s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms),
        (
            nearest_rank(&durations, 50),
            nearest_rank(&durations, 95),
            nearest_rank(&durations, 99)
        )
    );
    assert_eq!((s.flows, s.steps, s.flaky_steps), (2, 52, 1));

    let days: Vec<(NaiveDate, u64, u64)> = report
        .daily
        .iter()
        .map(|d| (d.date, d.executions, d.failed))
        .collect();
    assert_eq!(
        days,
        [(day("2025-03-09"), 1, 1), (day("2025-03-10"), 31, 2)]
    );
    assert_eq!(report.daily[1].p95_duration_ms, 900);

    let names: Vec<&str> = report.flows.iter().map(|f| f.flow_name.as_str()).collect();
    assert_eq!(names, ["checkout", "login"]);
    let checkout = &report.flows[0];
    assert_eq!(
        (checkout.executions, checkout.passed, checkout.failed),
        (22, 18, 3)
    );
    assert_eq!(checkout.suite, "shop");
    assert_eq!(
        checkout.last.status, "cancelled",
        "the newest run, whatever its status"
    );
    assert_eq!(checkout.last.environment.as_deref(), Some("staging"));
    let recent: Vec<Option<&str>> = checkout
        .recent_failures
        .iter()
        .map(|b| b.failed_step.as_deref())
        .collect();
    assert_eq!(
        recent,
        [Some("pay"), Some("pay"), None],
        "newest first; the 9th's run has no failed step"
    );
    assert_eq!(
        checkout.recent_failures[0].created_at.timestamp_millis(),
        at("2025-03-10", 15)
    );
    assert_eq!(checkout.history.len(), 22);
    assert_eq!(
        checkout.history.last().map(String::as_str),
        Some("cancelled")
    );
    assert_eq!(checkout.history.first().map(String::as_str), Some("failed"));

    // Failure categories: the two status errors share a cause; the flow error is another.
    let categories: Vec<(&str, u64)> = report
        .failure_categories
        .iter()
        .map(|c| (c.kind.as_str(), c.count))
        .collect();
    assert_eq!(categories.len(), 2, "{:#?}", report.failure_categories);
    assert_eq!(categories[0], ("status_mismatch", 2));
    let status = &report.failure_categories[0];
    assert_eq!(status.flows, ["checkout"]);
    assert_eq!(
        status.example,
        "assertion failed:\n  - status == 200: expected status == 200, but status is 502",
        "the newest message"
    );
    assert_eq!(status.last_seen.timestamp_millis(), at("2025-03-10", 15));

    // Slowest steps: by mean duration.
    let slowest: Vec<(&str, &str, u64, f64)> = report
        .slowest_steps
        .iter()
        .map(|s| {
            (
                s.flow_name.as_str(),
                s.step_id.as_str(),
                s.executions,
                s.avg_duration_ms,
            )
        })
        .collect();
    assert_eq!(
        slowest,
        [
            ("checkout", "pay", 20, 52.5),
            ("checkout", "open", 21, 5.0),
            ("checkout", "only", 1, 1.0),
            ("login", "auth", 10, 1.0)
        ]
    );
    assert_eq!(
        (
            report.slowest_steps[0].errors,
            report.slowest_steps[0].error_rate,
            report.slowest_steps[0].p95_duration_ms
        ),
        (2, 10.0, 95)
    );

    // Failures, newest first, with their steps: request and response only on the failed one.
    let failures: Vec<(i64, &str)> = report
        .failures
        .iter()
        .map(|f| {
            (
                f.execution.created_at.timestamp_millis(),
                f.category.as_str(),
            )
        })
        .collect();
    assert_eq!(failures.len(), 3);
    assert_eq!(failures[0].0, at("2025-03-10", 15));
    assert_eq!(failures[0].1, status.signature);
    let newest = &report.failures[0];
    assert_eq!(
        (newest.flow_name.as_str(), newest.suite.as_str()),
        ("checkout", "shop")
    );
    let steps: Vec<(&str, &str, bool)> = newest
        .steps
        .iter()
        .map(|s| (s.step_id.as_str(), s.status.as_str(), s.request.is_some()))
        .collect();
    assert_eq!(steps, [("open", "passed", false), ("pay", "failed", true)]);
    assert_eq!(newest.steps[1].error_kind.as_deref(), Some("assertion"));
    assert_eq!(newest.steps[1].response, Some(json!({"status": 500})));

    // The failure detail limit keeps the newest.
    request.failure_detail_limit = 1;
    let capped = collect(&store, WS, &request).await.unwrap();
    assert_eq!(capped.failures.len(), 1);
    assert_eq!(
        capped.failures[0].execution.execution_id,
        report.failures[0].execution.execution_id
    );

    // An empty period is an empty report, not an error.
    let empty = collect(
        &store,
        WS,
        &ReportRequest::new(day("2024-01-01"), day("2024-01-31")),
    )
    .await
    .unwrap();
    assert_eq!(
        (empty.summary.executions, empty.summary.pass_rate),
        (0, 0.0)
    );
    assert!(empty.flows.is_empty() && empty.daily.is_empty() && empty.failures.is_empty());
}

async fn reports_honour_their_filters(db: &TestDb) {
    let store = db.open().await;
    seed_day(&store).await;
    // A flow whose step passed on retry in its newest run.
    record(
        &store,
        Run::new("search", FlowStatus::Passed, 40, at("2025-03-10", 200))
            .suite("shop")
            .env("prod")
            .steps(vec![
                step("a", "log", 1),
                retried_step("query", "http_request", 30),
            ]),
    )
    .await;
    let request = |filters: ReportFilters| ReportRequest {
        filters,
        ..ReportRequest::new(day("2025-03-09"), day("2025-03-10"))
    };
    let flows_of = |report: &testmesh_report::ReportData| -> Vec<(String, u64)> {
        report
            .flows
            .iter()
            .map(|f| (f.flow_name.clone(), f.executions))
            .collect()
    };

    let shop = collect(
        &store,
        WS,
        &request(ReportFilters {
            suites: vec!["shop".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        flows_of(&shop),
        [("checkout".to_string(), 22), ("search".into(), 1)]
    );
    let search = shop.flows.iter().find(|f| f.flow_name == "search").unwrap();
    assert_eq!(search.last.retried_steps, ["query"]);
    assert_eq!(search.last.environment.as_deref(), Some("prod"));

    let default_suite = collect(
        &store,
        WS,
        &request(ReportFilters {
            suites: vec!["default".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(flows_of(&default_suite), [("login".to_string(), 10)]);

    let flow = store.get_flow_by_name(WS, "login").await.unwrap();
    let by_flow = collect(
        &store,
        WS,
        &request(ReportFilters {
            flows: vec![flow.flow.id.clone(), "search".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        flows_of(&by_flow),
        [("login".to_string(), 10), ("search".into(), 1)]
    );

    let failed = collect(
        &store,
        WS,
        &request(ReportFilters {
            statuses: vec!["failed".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!((failed.summary.executions, failed.summary.failed), (3, 3));
    assert_eq!(flows_of(&failed), [("checkout".to_string(), 3)]);
    assert_eq!(failed.failures.len(), 3);
    // A status filter does not change how flaky a flow is.
    let unfiltered = collect(&store, WS, &request(ReportFilters::default()))
        .await
        .unwrap();
    let score = |r: &testmesh_report::ReportData| {
        r.flows
            .iter()
            .find(|f| f.flow_name == "checkout")
            .map(|f| (f.flakiness_score, f.stability))
    };
    assert_eq!(score(&failed), score(&unfiltered));

    let passed = collect(
        &store,
        WS,
        &request(ReportFilters {
            statuses: vec!["passed".into(), "cancelled".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            passed.summary.executions,
            passed.summary.passed,
            passed.summary.cancelled
        ),
        (30, 29, 1)
    );

    let envs = collect(
        &store,
        WS,
        &request(ReportFilters {
            environments: vec!["default".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        flows_of(&envs),
        [("checkout".to_string(), 1), ("login".into(), 10)],
        "runs without an environment"
    );
    let prod = collect(
        &store,
        WS,
        &request(ReportFilters {
            environments: vec!["prod".into()],
            suites: vec!["shop".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(flows_of(&prod), [("search".to_string(), 1)]);
    assert_eq!(prod.meta.filters.environments, ["prod"]);

    let bad = collect(
        &store,
        WS,
        &request(ReportFilters {
            statuses: vec!["running".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            bad,
            ReportError::InvalidFilter {
                field: "statuses",
                ..
            }
        ),
        "{bad}"
    );
    assert!(bad.is_input());
    let backwards = collect(
        &store,
        WS,
        &ReportRequest::new(day("2025-03-10"), day("2025-03-09")),
    )
    .await
    .unwrap_err();
    assert!(matches!(backwards, ReportError::InvalidRange { .. }));
}
