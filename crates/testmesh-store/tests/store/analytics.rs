//! Analytics storage: reading facts with filters, replacing a range of days (idempotent, one
//! transaction), and the queries of the API over the rows (filters, paging, summaries, trends,
//! flakiness windows), plus the record of aggregation runs.

use chrono::{DateTime, NaiveDate, Utc};
use testmesh_runner::{FlowStatus, StepStatus};
use testmesh_store::{
    AnalyticsRunStatus, AnalyticsWrite, DailyMetric, Error, ExecutionStatus, FactFilter,
    FlakinessFilter, FlakinessRecord, FlakinessWindow, MetricFilter, MetricScope, RunContext,
    StepFilter, StepPerformance, Store, TrendPeriod, Trigger, day_start_ms,
};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml, record, step};

on_both_backends!(
    facts_are_read_by_day_with_filters,
    step_facts_follow_their_executions,
    replacing_days_is_idempotent_and_scoped,
    metrics_are_listed_summed_and_trended,
    step_performance_is_filtered_and_paged,
    flakiness_lists_the_newest_window_or_a_flows_history,
    aggregation_runs_are_recorded,
    sql_looking_analytics_filters_match_nothing,
    postgres_reporting_views_read_the_rows,
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn at(text: &str, hour_ms: i64) -> i64 {
    day_start_ms(day(text)) + hour_ms
}

/// Records a run of `name` (stored flow `suite`) with `environment`, created at `created_ms`.
async fn run_at(
    store: &Store,
    name: &str,
    suite: Option<&str>,
    environment: Option<&str>,
    status: FlowStatus,
    created_ms: i64,
) -> String {
    let (flow_id, version) = store
        .upsert_flow_by_name(WS, &flow_yaml(name, suite, &[]), None)
        .await
        .unwrap();
    let steps = vec![
        step("login", "http_request", StepStatus::Passed),
        step(
            "check",
            "assert",
            if status == FlowStatus::Passed {
                StepStatus::Passed
            } else {
                StepStatus::Failed
            },
        ),
    ];
    let mut record = record(name, status, steps);
    record.suite = suite.map(str::to_string);
    let context = RunContext {
        environment: environment.map(str::to_string),
        ..RunContext::for_flow(WS, &flow_id, Some(version), Trigger::Cli)
    };
    let id = store.record_run(&record, &context).await.unwrap();
    backdate(store, &id, created_ms).await;
    id
}

/// Moves an execution's creation time (runs are recorded "now").
async fn backdate(store: &Store, id: &str, created_ms: i64) {
    sqlx::query("UPDATE executions SET created_at = $1 WHERE id = $2")
        .bind(created_ms)
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

async fn facts(store: &Store, filter: &FactFilter) -> Vec<(String, ExecutionStatus, i64)> {
    let mut out = Vec::new();
    let n = store
        .for_each_execution_fact(WS, filter, |f| {
            out.push((
                f.flow_name.clone(),
                f.status,
                f.created_at.timestamp_millis(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(n as usize, out.len());
    out
}

async fn facts_are_read_by_day_with_filters(db: &TestDb) {
    let store = db.open().await;
    run_at(
        &store,
        "a",
        Some("shop"),
        Some("staging"),
        FlowStatus::Passed,
        at("2025-03-01", 5),
    )
    .await;
    run_at(
        &store,
        "b",
        None,
        None,
        FlowStatus::Failed,
        at("2025-03-01", 2),
    )
    .await;
    run_at(
        &store,
        "a",
        Some("shop"),
        None,
        FlowStatus::Failed,
        at("2025-03-02", 0),
    )
    .await;
    // The last millisecond of the day counts on it, the next one on the day after.
    run_at(
        &store,
        "c",
        Some("shop"),
        Some("prod"),
        FlowStatus::Passed,
        at("2025-03-03", -1),
    )
    .await;
    run_at(
        &store,
        "c",
        Some("shop"),
        Some("prod"),
        FlowStatus::Passed,
        at("2025-03-03", 0),
    )
    .await;
    // Unfinished executions are never facts.
    let flow = store.get_flow_by_name(WS, "a").await.unwrap();
    let queued = store
        .enqueue_execution(&RunContext::for_flow(WS, &flow.flow.id, None, Trigger::Api))
        .await
        .unwrap();
    backdate(&store, &queued.id, at("2025-03-01", 9)).await;

    let one = facts(
        &store,
        &FactFilter::days(day("2025-03-01"), day("2025-03-01")),
    )
    .await;
    assert_eq!(
        one,
        vec![
            (
                "b".to_string(),
                ExecutionStatus::Failed,
                at("2025-03-01", 2)
            ),
            (
                "a".to_string(),
                ExecutionStatus::Completed,
                at("2025-03-01", 5)
            ),
        ],
        "oldest first, pending runs left out"
    );
    let all = FactFilter::days(day("2025-03-01"), day("2025-03-03"));
    assert_eq!(facts(&store, &all).await.len(), 5);
    let two = FactFilter::days(day("2025-03-02"), day("2025-03-02"));
    let names: Vec<String> = facts(&store, &two).await.into_iter().map(|f| f.0).collect();
    assert_eq!(names, ["a", "c"]);

    // Suites and environments: `default` also means "none given".
    let default_suite = FactFilter {
        suites: vec!["default".into()],
        ..all.clone()
    };
    let names: Vec<String> = facts(&store, &default_suite)
        .await
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(names, ["b"]);
    let default_env = FactFilter {
        environments: vec!["default".into(), "staging".into()],
        ..all.clone()
    };
    assert_eq!(facts(&store, &default_env).await.len(), 3);
    let prod = FactFilter {
        environments: vec!["prod".into()],
        ..all.clone()
    };
    assert_eq!(facts(&store, &prod).await.len(), 2);
    // Flows by name or by id; statuses.
    let by_id = FactFilter {
        flows: vec![flow.flow.id.clone(), "b".into()],
        ..all.clone()
    };
    assert_eq!(facts(&store, &by_id).await.len(), 3);
    let failed = FactFilter {
        statuses: vec![ExecutionStatus::Failed],
        ..all.clone()
    };
    assert_eq!(facts(&store, &failed).await.len(), 2);
    let pending_only = FactFilter {
        statuses: vec![ExecutionStatus::Pending],
        ..all.clone()
    };
    assert!(facts(&store, &pending_only).await.is_empty());

    // The fact carries what aggregation needs.
    let mut got = Vec::new();
    store
        .for_each_execution_fact(WS, &prod, |f| got.push(f))
        .await
        .unwrap();
    let f = &got[0];
    assert_eq!(f.flow_key(), f.flow_id.as_deref().unwrap());
    assert_eq!((f.suite_name(), f.environment_name()), ("shop", "prod"));
    assert_eq!(f.flow_version, Some(1));
    assert_eq!(
        (f.total_steps, f.passed_steps, f.duration_ms),
        (2, 2, Some(345))
    );
    let mut none = Vec::new();
    store
        .for_each_execution_fact(WS, &default_suite, |f| none.push(f))
        .await
        .unwrap();
    assert_eq!(
        (none[0].suite_name(), none[0].environment_name()),
        ("default", "default")
    );
}

async fn step_facts_follow_their_executions(db: &TestDb) {
    let store = db.open().await;
    let passed = run_at(
        &store,
        "a",
        None,
        None,
        FlowStatus::Passed,
        at("2025-03-01", 0),
    )
    .await;
    let failed = run_at(
        &store,
        "a",
        None,
        None,
        FlowStatus::Failed,
        at("2025-03-01", 1),
    )
    .await;
    run_at(
        &store,
        "a",
        None,
        None,
        FlowStatus::Failed,
        at("2025-03-02", 1),
    )
    .await;
    let mut seen = Vec::new();
    let n = store
        .for_each_step_fact(
            WS,
            &FactFilter::days(day("2025-03-01"), day("2025-03-01")),
            |s| {
                seen.push((
                    s.execution_id.to_string(),
                    s.seq,
                    s.step_id.to_string(),
                    s.action.to_string(),
                    s.status.to_string(),
                    s.duration_ms,
                    s.error_kind.map(str::to_string),
                    s.error_message.map(str::to_string),
                ))
            },
        )
        .await
        .unwrap();
    assert_eq!(n, 4);
    seen.sort();
    let mut expected = vec![
        (
            passed.clone(),
            0,
            "login".to_string(),
            "http_request".to_string(),
            "passed".to_string(),
            12,
            None,
            None,
        ),
        (
            passed.clone(),
            1,
            "check".into(),
            "assert".into(),
            "passed".into(),
            12,
            None,
            None,
        ),
        (
            failed.clone(),
            0,
            "login".into(),
            "http_request".into(),
            "passed".into(),
            12,
            None,
            None,
        ),
        (
            failed.clone(),
            1,
            "check".into(),
            "assert".into(),
            "failed".into(),
            12,
            Some("assertion".to_string()),
            Some("status == 200 was false".to_string()),
        ),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    let failed_only = FactFilter {
        statuses: vec![ExecutionStatus::Failed],
        ..FactFilter::days(day("2025-03-01"), day("2025-03-02"))
    };
    let n = store
        .for_each_step_fact(WS, &failed_only, |_| {})
        .await
        .unwrap();
    assert_eq!(n, 4, "two failed runs of two steps");

    // Only the steps that failed (or passed on a retry).
    let mut notable = Vec::new();
    let both_days = FactFilter::days(day("2025-03-01"), day("2025-03-02"));
    store
        .for_each_notable_step(WS, &both_days, |s| {
            notable.push((
                s.execution_id.to_string(),
                s.step_id.to_string(),
                s.status.to_string(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(notable.len(), 2);
    assert!(notable.contains(&(failed.clone(), "check".to_string(), "failed".to_string())));

    // Grouped by flow, step and action, with every duration.
    let per_day = store.step_groups(WS, &both_days, true).await.unwrap();
    let mut days: Vec<(Option<NaiveDate>, String, i64)> = per_day
        .iter()
        .map(|g| (g.day, g.step_id.clone(), g.runs))
        .collect();
    days.sort();
    assert_eq!(
        days,
        [
            (Some(day("2025-03-01")), "check".to_string(), 2),
            (Some(day("2025-03-01")), "login".into(), 2),
            (Some(day("2025-03-02")), "check".into(), 1),
            (Some(day("2025-03-02")), "login".into(), 1),
        ]
    );
    let mut groups = store.step_groups(WS, &both_days, false).await.unwrap();
    assert!(groups.iter().all(|g| g.day.is_none()));
    groups.sort_by(|a, b| a.step_id.cmp(&b.step_id));
    let flow_id = store.get_flow_by_name(WS, "a").await.unwrap().flow.id;
    let shape: Vec<(String, String, String, i64, i64, Vec<i64>)> = groups
        .into_iter()
        .map(|g| {
            (
                g.flow_key,
                g.step_id,
                g.action,
                g.runs,
                g.errors,
                g.durations,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (
                flow_id.clone(),
                "check".to_string(),
                "assert".to_string(),
                3,
                2,
                vec![12, 12, 12]
            ),
            (
                flow_id,
                "login".into(),
                "http_request".into(),
                3,
                0,
                vec![12, 12, 12]
            ),
        ]
    );
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn metric(
    d: &str,
    scope: MetricScope,
    subject: &str,
    env: Option<&str>,
    passed: i64,
    failed: i64,
) -> DailyMetric {
    DailyMetric {
        day: day(d),
        scope,
        subject: subject.to_string(),
        environment: env.map(str::to_string),
        flow_id: (scope == MetricScope::Flow).then(|| subject.to_string()),
        flow_name: (scope == MetricScope::Flow).then(|| format!("flow {subject}")),
        suite: match scope {
            MetricScope::All => None,
            MetricScope::Suite => Some(subject.to_string()),
            MetricScope::Flow => Some("shop".to_string()),
        },
        flows: 1,
        total_executions: passed + failed + 1,
        passed_executions: passed,
        failed_executions: failed,
        cancelled_executions: 1,
        pass_rate: 0.0,
        timed_executions: passed + failed,
        total_duration_ms: (passed + failed) * 100,
        avg_duration_ms: (passed + failed > 0).then_some(100.0),
        min_duration_ms: Some(90),
        max_duration_ms: Some(110),
        p50_duration_ms: Some(100),
        p95_duration_ms: Some(105 + passed),
        p99_duration_ms: Some(110),
        total_steps: 10,
        passed_steps: 8,
        failed_steps: 1,
        skipped_steps: 1,
        flaky_steps: 2,
        computed_at: time(at("2025-03-10", 0)),
    }
}

fn step_row(
    d: &str,
    flow: &str,
    step_id: &str,
    action: &str,
    avg: f64,
    errors: i64,
) -> StepPerformance {
    StepPerformance {
        day: day(d),
        flow_key: flow.to_string(),
        flow_id: Some(flow.to_string()),
        flow_name: format!("flow {flow}"),
        step_id: step_id.to_string(),
        step_action: action.to_string(),
        total_executions: 10,
        error_count: errors,
        flaky_count: 0,
        error_rate: errors as f64 * 10.0,
        total_duration_ms: (avg * 10.0) as i64,
        avg_duration_ms: avg,
        min_duration_ms: 1,
        max_duration_ms: 500,
        p50_duration_ms: 20,
        p95_duration_ms: 400,
        p99_duration_ms: 500,
        errors: (0..errors.min(5)).map(|i| format!("error {i}")).collect(),
        computed_at: time(at("2025-03-10", 0)),
    }
}

fn flaky_row(flow: &str, end: &str, days: u32, score: f64, stability: &str) -> FlakinessRecord {
    let window = FlakinessWindow::ending(day(end), days);
    FlakinessRecord {
        flow_key: flow.to_string(),
        flow_id: None,
        flow_name: flow.to_string(),
        suite: None,
        window_start: window.start,
        window_end: window.end,
        window_days: window.days,
        flakiness_score: score,
        stability: stability.to_string(),
        total_runs: 4,
        passed_runs: 2,
        failed_runs: 2,
        flaky_failures: 1,
        transitions: 3,
        consecutive_failures: 0,
        consecutive_successes: 1,
        history: "PFFP".into(),
        last_run_at: time(at(end, 5)),
        computed_at: time(at(end, 10)),
    }
}

async fn count(store: &Store, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
}

async fn replacing_days_is_idempotent_and_scoped(db: &TestDb) {
    let store = db.open().await;
    let daily = vec![
        metric("2025-03-01", MetricScope::All, "", None, 3, 1),
        metric("2025-03-01", MetricScope::All, "", Some("prod"), 3, 1),
        metric("2025-03-02", MetricScope::All, "", None, 5, 0),
    ];
    let steps = vec![step_row(
        "2025-03-01",
        "f1",
        "login",
        "http_request",
        30.5,
        2,
    )];
    let flaky = vec![flaky_row("f1", "2025-03-02", 14, 42.5, "flaky")];
    let window = FlakinessWindow::ending(day("2025-03-02"), 14);
    let write = AnalyticsWrite {
        from: day("2025-03-01"),
        to: day("2025-03-02"),
        daily: &daily,
        steps: &steps,
        flakiness: Some((window, &flaky)),
    };
    store.replace_analytics(WS, &write).await.unwrap();
    store.replace_analytics(WS, &write).await.unwrap();
    assert_eq!(
        count(&store, "analytics_daily").await,
        3,
        "the second write replaced the first"
    );
    assert_eq!(count(&store, "analytics_steps").await, 1);
    assert_eq!(count(&store, "analytics_flakiness").await, 1);

    // Round trip.
    let page = store
        .list_daily_metrics(WS, &MetricFilter::default())
        .await
        .unwrap();
    assert_eq!(page.total, 2, "rows over all environments by default");
    let mut expected = daily[2].clone();
    expected.pass_rate = 100.0;
    assert_eq!(page.items[0], expected);
    assert_eq!(page.items[1].pass_rate, 75.0);
    let steps_back = store
        .list_step_performance(WS, &StepFilter::default())
        .await
        .unwrap();
    assert_eq!(steps_back.items, steps);
    let flaky_back = store
        .list_flakiness(WS, &FlakinessFilter::default())
        .await
        .unwrap();
    assert_eq!(flaky_back.items, flaky);

    // Replacing one day leaves the others; an empty day is cleared.
    let replaced = vec![metric("2025-03-02", MetricScope::All, "", None, 1, 1)];
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-02"),
                to: day("2025-03-02"),
                daily: &replaced,
                steps: &[],
                flakiness: None,
            },
        )
        .await
        .unwrap();
    let page = store
        .list_daily_metrics(WS, &MetricFilter::default())
        .await
        .unwrap();
    let passed: Vec<(NaiveDate, i64)> = page
        .items
        .iter()
        .map(|m| (m.day, m.passed_executions))
        .collect();
    assert_eq!(passed, [(day("2025-03-02"), 1), (day("2025-03-01"), 3)]);
    assert_eq!(
        count(&store, "analytics_flakiness").await,
        1,
        "no window given: kept"
    );
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-01"),
                to: day("2025-03-01"),
                daily: &[],
                steps: &[],
                flakiness: Some((window, &[])),
            },
        )
        .await
        .unwrap();
    assert_eq!(count(&store, "analytics_daily").await, 1);
    assert_eq!(count(&store, "analytics_steps").await, 0);
    assert_eq!(count(&store, "analytics_flakiness").await, 0);

    // Rows outside the days replaced are refused, and nothing is written.
    let outside = store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-05"),
                to: day("2025-03-05"),
                daily: &daily,
                steps: &[],
                flakiness: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&outside, Error::Invalid { message, .. } if message.contains("2025-03-01")),
        "{outside}"
    );
    let backwards = store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-05"),
                to: day("2025-03-04"),
                daily: &[],
                steps: &[],
                flakiness: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(backwards, Error::Invalid { .. }));
    // A flakiness row of another window than the one replaced is refused; the transaction rolls
    // back, so the day's rows are still there.
    let other = vec![flaky_row("f1", "2025-03-01", 14, 1.0, "stable")];
    let err = store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-02"),
                to: day("2025-03-02"),
                daily: &[],
                steps: &[],
                flakiness: Some((window, &other)),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert_eq!(count(&store, "analytics_daily").await, 1);

    // Many rows go in batches under the bound-values limit.
    let many: Vec<DailyMetric> = (0..3000)
        .map(|i| {
            metric(
                "2025-04-01",
                MetricScope::Flow,
                &format!("flow-{i:04}"),
                None,
                1,
                0,
            )
        })
        .collect();
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-04-01"),
                to: day("2025-04-01"),
                daily: &many,
                steps: &[],
                flakiness: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(count(&store, "analytics_daily").await, 3001);
}

async fn write_fixture(store: &Store) {
    let mut daily = Vec::new();
    for (d, passed, failed) in [
        ("2025-02-26", 4, 0), // Wednesday of the week before
        ("2025-03-03", 3, 1), // Monday
        ("2025-03-04", 2, 2),
        ("2025-03-09", 1, 0), // Sunday
    ] {
        daily.push(metric(d, MetricScope::All, "", None, passed, failed));
        daily.push(metric(d, MetricScope::All, "", Some("prod"), passed, 0));
        daily.push(metric(d, MetricScope::Suite, "shop", None, passed, failed));
        daily.push(metric(d, MetricScope::Flow, "f1", None, passed, failed));
        daily.push(metric(d, MetricScope::Flow, "f2", None, 1, 0));
    }
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-02-26"),
                to: day("2025-03-09"),
                daily: &daily,
                steps: &[],
                flakiness: None,
            },
        )
        .await
        .unwrap();
}

async fn metrics_are_listed_summed_and_trended(db: &TestDb) {
    let store = db.open().await;
    write_fixture(&store).await;
    let list = |filter: MetricFilter| {
        let store = store.clone();
        async move { store.list_daily_metrics(WS, &filter).await.unwrap() }
    };
    let all = list(MetricFilter::default()).await;
    assert_eq!(all.total, 16, "every scope over all environments");
    assert_eq!((all.limit, all.offset, all.items.len()), (20, 0, 16));
    assert_eq!(all.items[0].day, day("2025-03-09"), "newest first");
    let scopes: Vec<MetricScope> = all.items[..4].iter().map(|m| m.scope).collect();
    assert_eq!(
        scopes,
        [
            MetricScope::All,
            MetricScope::Suite,
            MetricScope::Flow,
            MetricScope::Flow
        ]
    );
    let page = list(MetricFilter {
        limit: Some(5),
        offset: Some(4),
        ..MetricFilter::default()
    })
    .await;
    assert_eq!((page.total, page.items.len()), (16, 5));
    assert_eq!(page.items[0].day, day("2025-03-04"));
    let flows = list(MetricFilter {
        scope: Some(MetricScope::Flow),
        from: Some(day("2025-03-03")),
        to: Some(day("2025-03-04")),
        ..MetricFilter::default()
    })
    .await;
    assert_eq!(flows.total, 4);
    let f1 = list(MetricFilter {
        flow: Some("flow f1".into()),
        ..MetricFilter::default()
    })
    .await;
    assert_eq!(f1.total, 4, "a flow by name");
    assert!(f1.items.iter().all(|m| m.subject == "f1"));
    let by_id = list(MetricFilter {
        flow: Some("f2".into()),
        ..MetricFilter::default()
    })
    .await;
    assert_eq!(by_id.total, 4, "a flow by id");
    let prod = list(MetricFilter {
        environment: Some("prod".into()),
        ..MetricFilter::default()
    })
    .await;
    assert_eq!(prod.total, 4);
    assert!(
        prod.items
            .iter()
            .all(|m| m.environment.as_deref() == Some("prod"))
    );

    // Summary: the `all` rows (or the flow's, the suite's), sums and exact averages.
    let summary = store
        .metric_summary(
            WS,
            &MetricFilter {
                from: Some(day("2025-03-01")),
                ..MetricFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(summary.days, 3);
    assert_eq!(
        (
            summary.total_executions,
            summary.passed_executions,
            summary.failed_executions,
            summary.cancelled_executions
        ),
        (12, 6, 3, 3)
    );
    assert_eq!(summary.pass_rate, 66.67);
    assert_eq!(summary.avg_duration_ms, Some(100.0));
    assert_eq!((summary.total_steps, summary.flaky_steps), (30, 6));
    let flow = store
        .metric_summary(
            WS,
            &MetricFilter {
                flow: Some("f2".into()),
                ..MetricFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((flow.passed_executions, flow.failed_executions), (4, 0));
    let empty = store
        .metric_summary(
            WS,
            &MetricFilter {
                from: Some(day("2030-01-01")),
                ..MetricFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            empty.total_executions,
            empty.pass_rate,
            empty.avg_duration_ms
        ),
        (0, 0.0, None)
    );

    // Trends: per day with percentiles, per ISO week and month without.
    let days = store
        .metric_trends(WS, &MetricFilter::default(), TrendPeriod::Day)
        .await
        .unwrap();
    assert_eq!(days.len(), 4);
    assert_eq!(
        (days[1].date, days[1].executions, days[1].pass_rate),
        (day("2025-03-03"), 5, 75.0)
    );
    assert_eq!(days[1].p95_duration_ms, Some(108));
    let weeks = store
        .metric_trends(WS, &MetricFilter::default(), TrendPeriod::Week)
        .await
        .unwrap();
    let shape: Vec<(NaiveDate, i64, i64, i64)> = weeks
        .iter()
        .map(|w| (w.date, w.days, w.passed, w.failed))
        .collect();
    assert_eq!(
        shape,
        [(day("2025-02-24"), 1, 4, 0), (day("2025-03-03"), 3, 6, 3)]
    );
    assert_eq!(weeks[1].p95_duration_ms, None);
    assert_eq!(weeks[1].avg_duration_ms, Some(100.0));
    let months = store
        .metric_trends(WS, &MetricFilter::default(), TrendPeriod::Month)
        .await
        .unwrap();
    let shape: Vec<(NaiveDate, i64)> = months.iter().map(|m| (m.date, m.executions)).collect();
    assert_eq!(shape, [(day("2025-02-01"), 5), (day("2025-03-01"), 12)]);
    let suite = store
        .metric_trends(
            WS,
            &MetricFilter {
                suite: Some("shop".into()),
                ..MetricFilter::default()
            },
            TrendPeriod::Month,
        )
        .await
        .unwrap();
    assert_eq!(suite.len(), 2);
}

async fn step_performance_is_filtered_and_paged(db: &TestDb) {
    let store = db.open().await;
    let rows = vec![
        step_row("2025-03-01", "f1", "login", "http_request", 30.0, 0),
        step_row("2025-03-01", "f1", "check", "assert", 1.0, 3),
        step_row("2025-03-01", "f2", "query", "database_query", 80.0, 7),
        step_row("2025-03-02", "f1", "login", "http_request", 45.0, 1),
    ];
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-01"),
                to: day("2025-03-02"),
                daily: &[],
                steps: &rows,
                flakiness: None,
            },
        )
        .await
        .unwrap();
    let list = |filter: StepFilter| {
        let store = store.clone();
        async move {
            let page = store.list_step_performance(WS, &filter).await.unwrap();
            let keys: Vec<(String, String)> = page
                .items
                .iter()
                .map(|s| (s.day.to_string(), s.step_id.clone()))
                .collect();
            (page.total, keys)
        }
    };
    let (total, keys) = list(StepFilter::default()).await;
    assert_eq!(total, 4);
    assert_eq!(
        keys,
        [
            ("2025-03-02".to_string(), "login".to_string()),
            ("2025-03-01".into(), "query".into()),
            ("2025-03-01".into(), "login".into()),
            ("2025-03-01".into(), "check".into()),
        ],
        "newest day first, slowest first"
    );
    assert_eq!(
        list(StepFilter {
            flow: Some("f1".into()),
            ..Default::default()
        })
        .await
        .0,
        3
    );
    assert_eq!(
        list(StepFilter {
            flow: Some("flow f2".into()),
            ..Default::default()
        })
        .await
        .0,
        1
    );
    assert_eq!(
        list(StepFilter {
            action: Some("http_request".into()),
            ..Default::default()
        })
        .await
        .0,
        2
    );
    assert_eq!(
        list(StepFilter {
            step_id: Some("check".into()),
            ..Default::default()
        })
        .await
        .0,
        1
    );
    assert_eq!(
        list(StepFilter {
            from: Some(day("2025-03-02")),
            ..Default::default()
        })
        .await
        .0,
        1
    );
    let (total, keys) = list(StepFilter {
        limit: Some(2),
        offset: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!((total, keys.len()), (4, 2));
    let page = store
        .list_step_performance(
            WS,
            &StepFilter {
                step_id: Some("query".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.items[0].errors,
        ["error 0", "error 1", "error 2", "error 3", "error 4"]
    );
}

async fn flakiness_lists_the_newest_window_or_a_flows_history(db: &TestDb) {
    let store = db.open().await;
    assert!(store.latest_flakiness_window(WS).await.unwrap().is_none());
    assert_eq!(
        store
            .list_flakiness(WS, &FlakinessFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    for (end, rows) in [
        (
            "2025-03-01",
            vec![flaky_row("a", "2025-03-01", 14, 50.0, "flaky")],
        ),
        (
            "2025-03-02",
            vec![
                flaky_row("a", "2025-03-02", 14, 20.0, "flaky"),
                flaky_row("b", "2025-03-02", 14, 0.0, "broken"),
                flaky_row("c", "2025-03-02", 14, 0.0, "stable"),
                flaky_row("d", "2025-03-02", 14, 64.25, "flaky"),
            ],
        ),
    ] {
        store
            .replace_analytics(
                WS,
                &AnalyticsWrite {
                    from: day(end),
                    to: day(end),
                    daily: &[],
                    steps: &[],
                    flakiness: Some((FlakinessWindow::ending(day(end), 14), &rows)),
                },
            )
            .await
            .unwrap();
    }
    let window = store.latest_flakiness_window(WS).await.unwrap().unwrap();
    assert_eq!(
        (window.start, window.end, window.days),
        (day("2025-02-17"), day("2025-03-02"), 14)
    );
    let names = |page: testmesh_store::Page<FlakinessRecord>| {
        page.items
            .into_iter()
            .map(|r| (r.flow_name, r.window_end.to_string()))
            .collect::<Vec<_>>()
    };
    let latest = store
        .list_flakiness(WS, &FlakinessFilter::default())
        .await
        .unwrap();
    assert_eq!(latest.total, 4);
    assert_eq!(
        names(latest),
        [
            ("d".to_string(), "2025-03-02".to_string()),
            ("a".into(), "2025-03-02".into()),
            ("b".into(), "2025-03-02".into()),
            ("c".into(), "2025-03-02".into()),
        ],
        "highest score first, then by name"
    );
    let flaky = store
        .list_flakiness(
            WS,
            &FlakinessFilter {
                stabilities: vec!["flaky".into(), "broken".into()],
                min_score: Some(10.0),
                ..FlakinessFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        names(flaky),
        [
            ("d".to_string(), "2025-03-02".to_string()),
            ("a".into(), "2025-03-02".into())
        ]
    );
    let older = store
        .list_flakiness(
            WS,
            &FlakinessFilter {
                window_end: Some(day("2025-03-01")),
                ..FlakinessFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(names(older), [("a".to_string(), "2025-03-01".to_string())]);
    let history = store
        .list_flakiness(
            WS,
            &FlakinessFilter {
                flow: Some("a".into()),
                ..FlakinessFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        names(history),
        [
            ("a".to_string(), "2025-03-02".to_string()),
            ("a".into(), "2025-03-01".into())
        ],
        "a flow's windows, newest first"
    );
}

async fn aggregation_runs_are_recorded(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.last_aggregated_day(WS).await.unwrap(), None);
    let first = store
        .start_analytics_run(WS, day("2025-03-01"), day("2025-03-02"), Trigger::Cli)
        .await
        .unwrap();
    assert_eq!(first.status, AnalyticsRunStatus::Running);
    assert_eq!(
        (first.from, first.to),
        (day("2025-03-01"), day("2025-03-02"))
    );
    let done = store
        .finish_analytics_run(&first.id, Ok((10, 50)))
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.executions, done.steps),
        (AnalyticsRunStatus::Completed, 10, 50)
    );
    assert!(done.finished_at.is_some());
    let second = store
        .start_analytics_run(WS, day("2025-03-05"), day("2025-03-05"), Trigger::Schedule)
        .await
        .unwrap();
    let failed = store
        .finish_analytics_run(&second.id, Err("database is locked".into()))
        .await
        .unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (AnalyticsRunStatus::Failed, Some("database is locked"))
    );
    assert_eq!(
        store.last_aggregated_day(WS).await.unwrap(),
        Some(day("2025-03-02")),
        "failed runs do not count"
    );
    let runs = store.list_analytics_runs(WS, None, None).await.unwrap();
    assert_eq!(runs.total, 2);
    assert_eq!(
        runs.items[0].triggered_by,
        Trigger::Schedule,
        "newest first"
    );
    assert!(matches!(
        store.finish_analytics_run("no-such-run", Ok((0, 0))).await,
        Err(Error::NotFound { .. })
    ));
}

async fn sql_looking_analytics_filters_match_nothing(db: &TestDb) {
    let store = db.open().await;
    write_fixture(&store).await;
    run_at(
        &store,
        "a",
        None,
        None,
        FlowStatus::Passed,
        at("2025-03-01", 0),
    )
    .await;
    for evil in SQL_LOOKING {
        let filter = FactFilter {
            suites: vec![evil.to_string()],
            ..FactFilter::days(day("2025-03-01"), day("2025-03-01"))
        };
        assert!(facts(&store, &filter).await.is_empty(), "{evil}");
        let filter = FactFilter {
            environments: vec![evil.to_string()],
            flows: vec![evil.to_string()],
            ..FactFilter::days(day("2025-03-01"), day("2025-03-01"))
        };
        assert!(facts(&store, &filter).await.is_empty(), "{evil}");
        let metrics = store
            .list_daily_metrics(
                WS,
                &MetricFilter {
                    flow: Some(evil.to_string()),
                    ..MetricFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(metrics.total, 0, "{evil}");
        let metrics = store
            .list_daily_metrics(
                WS,
                &MetricFilter {
                    environment: Some(evil.to_string()),
                    suite: Some(evil.to_string()),
                    ..MetricFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(metrics.total, 0, "{evil}");
        let steps = store
            .list_step_performance(
                WS,
                &StepFilter {
                    flow: Some(evil.to_string()),
                    action: Some(evil.to_string()),
                    ..StepFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(steps.total, 0, "{evil}");
        let flaky = store
            .list_flakiness(
                WS,
                &FlakinessFilter {
                    flow: Some(evil.to_string()),
                    stabilities: vec![evil.to_string()],
                    ..FlakinessFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(flaky.total, 0, "{evil}");
    }
    assert_eq!(
        count(&store, "analytics_daily").await,
        20,
        "nothing was changed"
    );
}

/// PostgreSQL only: the original's `reporting.*` names read our rows.
async fn postgres_reporting_views_read_the_rows(db: &TestDb) {
    let store = db.open().await;
    if store.backend() != testmesh_store::Backend::Postgres {
        return;
    }
    write_fixture(&store).await;
    let steps = vec![step_row(
        "2025-03-01",
        "f1",
        "login",
        "http_request",
        30.0,
        2,
    )];
    let flaky = vec![flaky_row("f1", "2025-03-02", 14, 42.5, "flaky")];
    store
        .replace_analytics(
            WS,
            &AnalyticsWrite {
                from: day("2025-03-01"),
                to: day("2025-03-02"),
                daily: &[],
                steps: &steps,
                flakiness: Some((FlakinessWindow::ending(day("2025-03-02"), 14), &flaky)),
            },
        )
        .await
        .unwrap();
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(total_executions) AS BIGINT), CAST(MAX(pass_rate) AS TEXT) FROM reporting.daily_metrics WHERE scope = 'all' AND environment IS NULL AND date >= '2025-03-01'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<i64, _>(0), 3);
    assert_eq!(row.get::<i64, _>(1), 12);
    assert_eq!(row.get::<String, _>(2), "100.00");
    let row = sqlx::query(
        "SELECT step_action, CAST(error_rate AS TEXT), CAST(array_length(error_messages, 1) AS BIGINT) FROM reporting.step_performance",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), "http_request");
    assert_eq!(row.get::<String, _>(1), "20.00");
    assert_eq!(row.get::<i64, _>(2), 2);
    let row = sqlx::query(
        "SELECT CAST(flakiness_score AS TEXT), CAST(is_flaky AS TEXT), CAST(window_start_date AS TEXT) FROM reporting.flakiness_metrics",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), "42.50");
    assert_eq!(row.get::<String, _>(1), "true");
    assert_eq!(row.get::<String, _>(2), "2025-02-17");
}
