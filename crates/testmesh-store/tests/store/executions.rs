//! Recorded runs: the round trip of nested steps, masked values, lists with filters, cancellation.

use chrono::{Duration as TimeDelta, Utc};
use serde_json::json;
use testmesh_runner::{FlowRecord, FlowStatus, StepStatus};
use testmesh_store::{
    Error, Execution, ExecutionFilter, ExecutionStatus, FileRun, RunContext, Store, Trigger,
};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml, record, rich_record, rich_yaml, step};

/// (seq, parent_seq, depth, step_id, phase) of a stored step.
type StepShape<'a> = (i64, Option<i64>, i64, &'a str, Option<&'a str>);

on_both_backends!(
    record_run_round_trips_nested_steps,
    record_run_without_a_stored_flow,
    short_ids_tell_apart_runs_made_together,
    file_runs_store_their_flow_once_per_text,
    file_runs_are_written_together_and_one_bad_run_spoils_only_itself,
    new_flows_of_one_batch_see_each_other,
    record_run_of_a_missing_flow_version_writes_nothing,
    large_runs_are_written_in_batches,
    execution_lists_filter_order_and_paginate,
    sql_looking_execution_filters_match_nothing,
    cancelling_pending_and_finished_executions,
    events_are_appended_in_order_and_read_after_a_position,
    batch_enqueue_is_all_or_nothing,
    step_durations_form_a_histogram_per_action,
    big_histories_are_counted_up_to_a_cap,
);

async fn record_run_round_trips_nested_steps(db: &TestDb) {
    let store = db.open().await;
    let (flow_id, version) = store
        .upsert_flow_by_name(WS, &rich_yaml("rich"), None)
        .await
        .unwrap();
    let record = rich_record("rich");
    let context = RunContext {
        environment: Some("staging".into()),
        variables: json!({"API_TOKEN": "********", "REGION": "eu"}),
        ..RunContext::for_flow(WS, &flow_id, Some(version), Trigger::Cli)
    };
    let id = store.record_run(&record, &context).await.unwrap();
    assert_eq!(id, record.execution_id, "the run's id is kept");

    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    let e = &detail.execution;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.trigger, Trigger::Cli);
    assert_eq!(e.flow_id.as_deref(), Some(flow_id.as_str()));
    assert_eq!(e.flow_version, Some(1));
    assert_eq!(e.flow_name, "rich");
    assert_eq!(e.suite.as_deref(), Some("checkout"));
    assert_eq!(e.tags, vec!["smoke", "api"]);
    assert_eq!(e.environment.as_deref(), Some("staging"));
    assert_eq!(e.variables["API_TOKEN"], "********");
    assert_eq!(e.duration_ms, Some(345));
    assert_eq!(
        e.started_at.map(|t| t.timestamp_millis()),
        Some(record.started_at.timestamp_millis())
    );
    assert_eq!(
        e.finished_at.map(|t| t.timestamp_millis()),
        Some(record.started_at.timestamp_millis() + 345)
    );
    assert_eq!(
        (
            e.total_steps,
            e.passed_steps,
            e.failed_steps,
            e.skipped_steps
        ),
        (8, 6, 1, 1)
    );
    assert_eq!(
        e.error.as_deref(),
        Some("[main] step 'b' (http_request): boom")
    );
    assert_eq!(e.attempts, 1);

    // Depth first: every nested step right after its parent.
    let shape: Vec<StepShape> = detail
        .steps
        .iter()
        .map(|s| {
            (
                s.seq,
                s.parent_seq,
                s.depth,
                s.step_id.as_str(),
                s.phase.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (0, None, 0, "login", Some("setup")),
            (1, None, 0, "each", Some("main")),
            (2, Some(1), 1, "each[0]", Some("main")),
            (3, Some(2), 2, "inner", Some("main")),
            (4, Some(1), 1, "each[1]", Some("main")),
            (5, None, 0, "check", Some("main")),
            (6, None, 0, "later", Some("main")),
            (7, None, 0, "cleanup", Some("teardown")),
        ]
    );
    let login = &detail.steps[0];
    assert_eq!(login.action, "http_request");
    assert_eq!(login.status, "passed");
    assert_eq!(
        (login.attempts, login.flaky, login.duration_ms),
        (2, true, 12)
    );
    assert_eq!(
        login.request.as_ref().unwrap()["headers"]["Authorization"],
        "********"
    );
    assert_eq!(
        login.request.as_ref().unwrap()["body"]["password"],
        "********"
    );
    assert_eq!(
        login.response.as_ref().unwrap()["headers"]["set-cookie"],
        "********"
    );
    assert_eq!(login.outputs.as_ref().unwrap()["token"], "********");
    assert_eq!(login.result, Some(json!({"status": 200})));
    assert_eq!(
        login.assertions.as_ref().unwrap()[0]["expression"],
        "status == 200"
    );
    let check = &detail.steps[5];
    assert_eq!(check.status, "failed");
    assert_eq!(check.error_kind.as_deref(), Some("assertion"));
    assert_eq!(
        check.error_message.as_deref(),
        Some("status == 200 was false")
    );
    assert_eq!(check.assertions.as_ref().unwrap()[0]["actual"], 2);
    assert_eq!(check.assertions.as_ref().unwrap()[0]["expected"], 3);
    let later = &detail.steps[6];
    assert_eq!(later.status, "skipped");
    assert_eq!(later.skip_reason.as_deref(), Some("an earlier step failed"));
    assert_eq!(
        (later.request.as_ref(), later.outputs.as_ref()),
        (None, None)
    );

    // No stored text holds anything but the masked values.
    let raw: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT request FROM execution_steps WHERE execution_id = $1")
            .bind(id.as_str())
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(
        raw.iter()
            .flat_map(|r| r.0.as_deref())
            .any(|t| t.contains("********"))
    );

    // Recording the same run twice is a conflict, and writes nothing more.
    assert!(matches!(
        store.record_run(&record, &context).await,
        Err(Error::Conflict(_))
    ));
    // An unknown flow writes nothing either.
    let mut other = rich_record("rich");
    other.execution_id = uuid::Uuid::new_v4().to_string();
    let unknown = RunContext::for_flow(WS, "missing", None, Trigger::Cli);
    assert!(matches!(
        store.record_run(&other, &unknown).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.get_execution(WS, &other.execution_id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn record_run_without_a_stored_flow(db: &TestDb) {
    let store = db.open().await;
    let mut run = record(
        "adhoc",
        FlowStatus::Passed,
        vec![step("a", "log", StepStatus::Passed)],
    );
    run.execution_id = "not-a-uuid".into();
    let id = store
        .record_run(&run, &RunContext::default())
        .await
        .unwrap();
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "a fresh id replaces a non-UUID one"
    );
    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    assert_eq!(detail.execution.status, ExecutionStatus::Completed);
    assert_eq!(detail.execution.flow_id, None);
    assert_eq!(detail.steps.len(), 1);
    assert_eq!(
        detail.steps[0].phase.as_deref(),
        Some("main"),
        "the phase comes from the record"
    );
    let nowhere = RunContext {
        workspace_id: "no-such-workspace".into(),
        ..RunContext::default()
    };
    let mut again = run.clone();
    again.execution_id = uuid::Uuid::new_v4().to_string();
    assert!(matches!(
        store.record_run(&again, &nowhere).await,
        Err(Error::NotFound {
            what: "workspace",
            ..
        })
    ));
}

async fn large_runs_are_written_in_batches(db: &TestDb) {
    let store = db.open().await;
    // 3000 steps take many insert statements (and more values than one statement may bind).
    let steps = (0..3000)
        .map(|i| step(&format!("s{i}"), "log", StepStatus::Passed))
        .collect();
    let run = record("big", FlowStatus::Passed, steps);
    let id = store
        .record_run(&run, &RunContext::default())
        .await
        .unwrap();
    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    assert_eq!(detail.steps.len(), 3000);
    assert_eq!(detail.execution.total_steps, 3000);
    assert_eq!(detail.steps[2999].step_id, "s2999");
    assert_eq!(detail.steps[2999].seq, 2999);
}

async fn execution_lists_filter_order_and_paginate(db: &TestDb) {
    let store = db.open().await;
    let flow_a = store
        .create_flow(WS, &flow_yaml("a", Some("checkout"), &["smoke"]), None)
        .await
        .unwrap();
    let flow_b = store
        .create_flow(WS, &flow_yaml("b", Some("search"), &["nightly"]), None)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let status = if i % 3 == 0 {
            FlowStatus::Failed
        } else {
            FlowStatus::Passed
        };
        let mut run = record("a", status, vec![step("hello", "log", StepStatus::Passed)]);
        run.suite = Some("checkout".into());
        run.tags = vec!["smoke".into()];
        let context = RunContext::for_flow(WS, &flow_a.flow.id, None, Trigger::Cli);
        ids.push(store.record_run(&run, &context).await.unwrap());
    }
    for _ in 0..3 {
        let context = RunContext::for_flow(WS, &flow_b.flow.id, None, Trigger::Api);
        ids.push(store.enqueue_execution(&context).await.unwrap().id);
    }
    let list = |f: ExecutionFilter| {
        let store = &store;
        async move { store.list_executions(WS, &f).await.unwrap() }
    };
    let all = list(ExecutionFilter::default()).await;
    assert_eq!(all.total, 9);
    // Newest first; equal times fall back to id order, so pages never overlap or skip rows.
    let order: Vec<(i64, String)> = all
        .items
        .iter()
        .map(|e| (e.created_at.timestamp_millis(), e.id.clone()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted);
    let mut paged = Vec::new();
    for offset in (0..9).step_by(4) {
        let page = list(ExecutionFilter {
            limit: Some(4),
            offset: Some(offset),
            ..Default::default()
        })
        .await;
        assert_eq!(page.total, 9);
        paged.extend(page.items.into_iter().map(|e| e.id));
    }
    assert_eq!(
        paged,
        all.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );

    let by_flow = list(ExecutionFilter {
        flow_id: Some(flow_b.flow.id.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_flow.total, 3);
    assert!(
        by_flow
            .items
            .iter()
            .all(|e| e.status == ExecutionStatus::Pending)
    );
    assert_eq!(by_flow.items[0].suite.as_deref(), Some("search"));
    assert_eq!(by_flow.items[0].tags, vec!["nightly"]);
    let failed = list(ExecutionFilter {
        status: Some(ExecutionStatus::Failed),
        ..Default::default()
    })
    .await;
    assert_eq!(failed.total, 2);
    let suite = list(ExecutionFilter {
        suite: Some("checkout".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(suite.total, 6);
    let tagged = list(ExecutionFilter {
        tags: vec!["nightly".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(tagged.total, 3);
    let api = list(ExecutionFilter {
        trigger: Some(Trigger::Api),
        ..Default::default()
    })
    .await;
    assert_eq!(api.total, 3);
    let completed_checkout = list(ExecutionFilter {
        suite: Some("checkout".into()),
        status: Some(ExecutionStatus::Completed),
        ..Default::default()
    })
    .await;
    assert_eq!(completed_checkout.total, 4);
    let now = Utc::now();
    let recent = list(ExecutionFilter {
        created_after: Some(now - TimeDelta::minutes(5)),
        created_before: Some(now + TimeDelta::minutes(5)),
        ..Default::default()
    })
    .await;
    assert_eq!(recent.total, 9);
    let future = list(ExecutionFilter {
        created_after: Some(now + TimeDelta::hours(1)),
        ..Default::default()
    })
    .await;
    assert_eq!(future.total, 0);
    let past = list(ExecutionFilter {
        created_before: Some(now - TimeDelta::hours(1)),
        ..Default::default()
    })
    .await;
    assert_eq!(past.total, 0);

    // Counts for /metrics and the queue depth.
    let counts = store.execution_counts(Some(WS)).await.unwrap();
    let count = |s| counts.iter().find(|c| c.status == s).unwrap().count;
    assert_eq!(
        (
            count(ExecutionStatus::Completed),
            count(ExecutionStatus::Failed),
            count(ExecutionStatus::Pending),
            count(ExecutionStatus::Running)
        ),
        (4, 2, 3, 0)
    );
    assert_eq!(store.queue_depth().await.unwrap(), 3);
    // Other workspaces see none of it.
    let team = store.create_workspace("Team", "team").await.unwrap();
    assert_eq!(
        store
            .list_executions(&team.id, &ExecutionFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        store.get_execution(&team.id, &ids[0]).await,
        Err(Error::NotFound { .. })
    ));
}

async fn sql_looking_execution_filters_match_nothing(db: &TestDb) {
    let store = db.open().await;
    let run = record(
        "a",
        FlowStatus::Passed,
        vec![step("x", "log", StepStatus::Passed)],
    );
    store
        .record_run(&run, &RunContext::default())
        .await
        .unwrap();
    for bad in SQL_LOOKING {
        let filters = [
            ExecutionFilter {
                flow_id: Some(bad.to_string()),
                ..Default::default()
            },
            ExecutionFilter {
                suite: Some(bad.to_string()),
                ..Default::default()
            },
            ExecutionFilter {
                tags: vec![bad.to_string()],
                ..Default::default()
            },
        ];
        for filter in filters {
            let page = store
                .list_executions(WS, &filter)
                .await
                .unwrap_or_else(|e| panic!("{bad}: {e}"));
            assert_eq!(page.total, 0, "{bad} in {filter:?}");
        }
        assert_eq!(
            store
                .list_executions(bad, &ExecutionFilter::default())
                .await
                .unwrap()
                .total,
            0
        );
        assert!(matches!(
            store.get_execution_detail(WS, bad).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            store.request_cancel(WS, bad).await,
            Err(Error::NotFound { .. })
        ));
    }
    assert_eq!(
        store
            .list_executions(WS, &ExecutionFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
}

async fn cancelling_pending_and_finished_executions(db: &TestDb) {
    let store = db.open().await;
    let flow = store
        .create_flow(WS, &flow_yaml("c", None, &[]), None)
        .await
        .unwrap();
    let context = RunContext::for_flow(WS, &flow.flow.id, None, Trigger::Api);
    let pending = store.enqueue_execution(&context).await.unwrap();
    let cancelled = store.request_cancel(WS, &pending.id).await.unwrap();
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert!(matches!(
        store.request_cancel(WS, &pending.id).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(store.queue_depth().await.unwrap(), 0);
    assert!(
        store
            .claim_next("w", std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    // Enqueueing needs a stored flow of the workspace.
    assert!(matches!(
        store.enqueue_execution(&RunContext::default()).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store
            .enqueue_execution(&RunContext::for_flow(WS, "missing", None, Trigger::Api))
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .enqueue_execution(&RunContext::for_flow(
                WS,
                &flow.flow.id,
                Some(9),
                Trigger::Api
            ))
            .await,
        Err(Error::NotFound { .. })
    ));
}

async fn events_are_appended_in_order_and_read_after_a_position(db: &TestDb) {
    let store = db.open().await;
    let flow = store
        .create_flow(WS, &flow_yaml("events", None, &[]), None)
        .await
        .unwrap();
    let context = RunContext::for_flow(WS, &flow.flow.id, None, Trigger::Api);
    let execution = store.enqueue_execution(&context).await.unwrap();
    let id = execution.id.as_str();
    assert_eq!(store.append_events(id, &[]).await.unwrap(), 0);
    let last = store
        .append_events(
            id,
            &[
                ("execution.started", json!({"flow_name": "events"})),
                ("step.started", json!({"step_id": "a"})),
            ],
        )
        .await
        .unwrap();
    assert_eq!(last, 2);
    let last = store
        .append_events(id, &[("step.completed", json!({"step_id": "a"}))])
        .await
        .unwrap();
    assert_eq!(last, 3);
    let all = store.events_after(id, 0, 100).await.unwrap();
    let kinds: Vec<(i64, &str)> = all.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (1, "execution.started"),
            (2, "step.started"),
            (3, "step.completed")
        ]
    );
    assert_eq!(all[0].data, json!({"flow_name": "events"}));
    let later = store.events_after(id, 2, 100).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(store.events_after(id, 0, 1).await.unwrap().len(), 1);
    for text in SQL_LOOKING {
        assert!(store.events_after(text, 0, 10).await.unwrap().is_empty());
    }
    // Events belong to an execution that exists.
    assert!(
        store
            .append_events("no-such-execution", &[("x", json!({}))])
            .await
            .is_err()
    );
}

async fn batch_enqueue_is_all_or_nothing(db: &TestDb) {
    let store = db.open().await;
    let a = store
        .create_flow(WS, &flow_yaml("a", None, &[]), None)
        .await
        .unwrap();
    let b = store
        .create_flow(WS, &flow_yaml("b", None, &[]), None)
        .await
        .unwrap();
    let context = |id: &str| RunContext::for_flow(WS, id, None, Trigger::Api);
    let queued = store
        .enqueue_executions(&[context(&a.flow.id), context(&b.flow.id)])
        .await
        .unwrap();
    let names: Vec<&str> = queued.iter().map(|e| e.flow_name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(queued.iter().all(|e| e.status == ExecutionStatus::Pending));

    // A missing flow in the middle: nothing of the batch is queued, and the error names it.
    let missing = uuid::Uuid::new_v4().to_string();
    let err = store
        .enqueue_executions(&[context(&a.flow.id), context(&missing), context(&b.flow.id)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { what: "flow", id } if *id == missing),
        "{err}"
    );
    let mut version = context(&a.flow.id);
    version.flow_version = Some(7);
    let err = store.enqueue_executions(&[version]).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                what: "flow version",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.queue_depth().await.unwrap(), 2);
}

/// (action, buckets, count, sum in ms).
type HistogramShape<'a> = (&'a str, Vec<(i64, i64)>, i64, i64);

async fn step_durations_form_a_histogram_per_action(db: &TestDb) {
    let store = db.open().await;
    assert!(
        store
            .step_duration_histogram(&[10, 100])
            .await
            .unwrap()
            .is_empty()
    );
    let mut fast = step("fast", "log", StepStatus::Passed);
    fast.duration = std::time::Duration::from_millis(5);
    let mut slow = step("slow", "http_request", StepStatus::Failed);
    slow.duration = std::time::Duration::from_millis(50);
    let mut slower = step("slower", "http_request", StepStatus::Passed);
    slower.duration = std::time::Duration::from_millis(500);
    let skipped = step("later", "log", StepStatus::Skipped);
    let run = record(
        "timed",
        FlowStatus::Failed,
        vec![fast, slow, slower, skipped],
    );
    store
        .record_run(&run, &RunContext::default())
        .await
        .unwrap();

    let histogram = store.step_duration_histogram(&[10, 100]).await.unwrap();
    let shape: Vec<HistogramShape> = histogram
        .iter()
        .map(|h| (h.action.as_str(), h.buckets.clone(), h.count, h.sum_ms))
        .collect();
    assert_eq!(
        shape,
        [
            ("http_request", vec![(10, 0), (100, 1)], 2, 550),
            ("log", vec![(10, 1), (100, 1)], 1, 5),
        ],
        "skipped steps did not run and are not counted"
    );
}

async fn big_histories_are_counted_up_to_a_cap(db: &TestDb) {
    let store = db.open().await;
    let flow = store
        .create_flow(WS, &flow_yaml("many", None, &[]), None)
        .await
        .unwrap();
    let context = RunContext::for_flow(WS, &flow.flow.id, None, Trigger::Api);
    let contexts = vec![context; testmesh_store::MAX_COUNTED as usize + 1];
    store.enqueue_executions(&contexts).await.unwrap();
    let page = store
        .list_executions(WS, &ExecutionFilter::default())
        .await
        .unwrap();
    assert_eq!(page.total, testmesh_store::MAX_COUNTED);
    assert!(page.total_capped, "counting stops at the cap");
    assert_eq!(page.items.len(), 20);
    let one = store
        .list_executions(
            WS,
            &ExecutionFilter {
                status: Some(ExecutionStatus::Completed),
                ..ExecutionFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((one.total, one.total_capped), (0, false));
}

/// Records a run of `name` from the file `text` and returns its execution.
async fn file_run(store: &Store, name: &str, text: &str, path: Option<&str>) -> Execution {
    let record = rich_record(name);
    let run = FileRun {
        record: &record,
        yaml: text,
        source_path: path,
    };
    let ids = store
        .record_file_runs(&[run], &RunContext::default())
        .await
        .unwrap();
    store.get_execution(WS, &ids[0]).await.unwrap()
}

/// Runs of `records` from the files `texts`, in pairs, all read from `source_path`.
fn file_runs<'a>(
    records: &'a [FlowRecord],
    texts: impl IntoIterator<Item = &'a str>,
    source_path: Option<&'a str>,
) -> Vec<FileRun<'a>> {
    records
        .iter()
        .zip(texts)
        .map(|(record, yaml)| FileRun {
            record,
            yaml,
            source_path,
        })
        .collect()
}

async fn short_ids_tell_apart_runs_made_together(db: &TestDb) {
    let store = db.open().await;
    // Run ids are UUIDv7, as the runner makes them: runs of one minute share their leading digits.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut run = record("together", FlowStatus::Passed, vec![]);
        run.execution_id = uuid::Uuid::now_v7().to_string();
        ids.push(
            store
                .record_run(&run, &RunContext::default())
                .await
                .unwrap(),
        );
    }
    let mut shown = Vec::new();
    for id in &ids {
        let run = store.get_execution(WS, id).await.unwrap();
        assert!(id.ends_with(&run.short_id()), "{id}");
        shown.push(run.short_id());
    }
    assert_eq!(shown[0].len(), 8);
    shown.sort();
    shown.dedup();
    assert_eq!(shown.len(), 3, "{ids:?}");
}

async fn file_runs_store_their_flow_once_per_text(db: &TestDb) {
    let store = db.open().await;
    let yaml = rich_yaml("filed");
    let first = file_run(&store, "filed", &yaml, Some("flows/filed.yaml")).await;
    let flow = store.get_flow_by_name(WS, "filed").await.unwrap();
    assert_eq!(first.flow_id.as_deref(), Some(flow.flow.id.as_str()));
    assert_eq!(first.flow_version, Some(1));
    assert_eq!(flow.flow.source_path.as_deref(), Some("flows/filed.yaml"));

    // The same text again: the same flow and version, no new version.
    let again = file_run(&store, "filed", &yaml, None).await;
    assert_eq!(
        (again.flow_id.as_deref(), again.flow_version),
        (Some(flow.flow.id.as_str()), Some(1))
    );
    let steps = store
        .get_execution_detail(WS, &again.id)
        .await
        .unwrap()
        .steps;
    assert_eq!(steps.len(), 8, "every step, nested ones too");

    // An edited file is a new version of the flow of that name.
    let edited = yaml.replace("message: bye", "message: goodbye");
    let third = file_run(&store, "filed", &edited, None).await;
    assert_eq!(
        (third.flow_id.as_deref(), third.flow_version),
        (Some(flow.flow.id.as_str()), Some(2))
    );
    let current = store.get_flow_by_name(WS, "filed").await.unwrap();
    assert_eq!(current.flow.version, 2);

    // Text that is not a flow, or that the database cannot hold, is recorded without a flow.
    for text in ["steps: [oops", "name: with\0nul\nsteps: []\n"] {
        let run = file_run(&store, "loose", text, None).await;
        assert_eq!(run.flow_id, None, "{text:?}");
        assert_eq!(run.flow_name, "loose");
    }
}

async fn file_runs_are_written_together_and_one_bad_run_spoils_only_itself(db: &TestDb) {
    let store = db.open().await;
    let (known, edited, fresh) = (rich_yaml("known"), rich_yaml("edited"), rich_yaml("fresh"));
    file_run(&store, "known", &known, None).await;
    file_run(&store, "edited", &edited, None).await;
    let edited = edited.replace("message: bye", "message: goodbye");
    let records: Vec<_> = ["known", "edited", "fresh", "loose", "known"]
        .into_iter()
        .map(rich_record)
        .collect();
    let texts = [known.as_str(), &edited, &fresh, "steps: [oops", &known];
    let runs = file_runs(&records, texts, None);
    let ids = store
        .record_file_runs(&runs, &RunContext::default())
        .await
        .unwrap();
    assert_eq!(ids.len(), 5, "an id per run, in order");
    let mut seen = Vec::new();
    for (id, record) in ids.iter().zip(&records) {
        let run = store.get_execution(WS, id).await.unwrap();
        assert_eq!(run.flow_name, record.name);
        seen.push(run.flow_version);
    }
    // Unchanged, a new version, a new flow, not a flow, unchanged.
    assert_eq!(seen, [Some(1), Some(2), Some(1), None, Some(1)]);
    let detail = store.get_execution_detail(WS, &ids[4]).await.unwrap();
    assert_eq!(detail.steps.len(), 8, "every step of a batched run");

    // A run that cannot be written (its id is taken) fails alone: the others of its batch are
    // recorded one at a time, and the error names it.
    let taken = records[0].clone();
    let mut good = rich_record("known");
    good.execution_id = uuid::Uuid::now_v7().to_string();
    let mut after = rich_record("known");
    after.execution_id = uuid::Uuid::now_v7().to_string();
    let runs = [
        FileRun {
            record: &good,
            yaml: &known,
            source_path: None,
        },
        FileRun {
            record: &taken,
            yaml: &known,
            source_path: None,
        },
        FileRun {
            record: &after,
            yaml: &known,
            source_path: None,
        },
    ];
    let error = store
        .record_file_runs(&runs, &RunContext::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains(&ids[0]), "{error}");
    store.get_execution(WS, &good.execution_id).await.unwrap();
    store.get_execution(WS, &after.execution_id).await.unwrap();
}

async fn new_flows_of_one_batch_see_each_other(db: &TestDb) {
    let store = db.open().await;
    // A first run of a suite: every text is new, and the batch stores the flows as it goes.
    let first = rich_yaml("twice");
    let second = first.replace("message: bye", "message: goodbye");
    let records: Vec<_> = ["twice", "twice", "twice", "other"]
        .into_iter()
        .map(rich_record)
        .collect();
    let other = rich_yaml("other");
    let texts = [first.as_str(), &second, &second, &other];
    let runs = file_runs(&records, texts, Some("flows/twice.yaml"));
    let ids = store
        .record_file_runs(&runs, &RunContext::default())
        .await
        .unwrap();
    let mut seen = Vec::new();
    for id in &ids {
        let run = store.get_execution(WS, id).await.unwrap();
        seen.push((run.flow_name, run.flow_version));
    }
    // One flow of a name: a changed text is its next version, the same text the same version.
    let twice = |v| ("twice".to_string(), Some(v));
    assert_eq!(
        seen,
        [twice(1), twice(2), twice(2), ("other".into(), Some(1))]
    );
    let flow = store.get_flow_by_name(WS, "twice").await.unwrap();
    assert_eq!(flow.flow.version, 2);
    assert_eq!(flow.flow.source_path.as_deref(), Some("flows/twice.yaml"));

    // A workspace that does not exist is named, and nothing of the batch is kept.
    let elsewhere = RunContext {
        workspace_id: "no-such-workspace".into(),
        ..RunContext::default()
    };
    let fresh: Vec<_> = ["a", "b"].into_iter().map(rich_record).collect();
    let texts = [rich_yaml("a"), rich_yaml("b")];
    let runs = file_runs(&fresh, texts.iter().map(String::as_str), None);
    let error = store.record_file_runs(&runs, &elsewhere).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::NotFound {
                what: "workspace",
                ..
            }
        ),
        "{error}"
    );
    for record in &fresh {
        assert!(store.find_execution(&record.execution_id).await.is_err());
    }
}

async fn record_run_of_a_missing_flow_version_writes_nothing(db: &TestDb) {
    let store = db.open().await;
    let (flow_id, _) = store
        .upsert_flow_by_name(WS, &rich_yaml("versioned"), None)
        .await
        .unwrap();
    let record = rich_record("versioned");
    let missing = RunContext::for_flow(WS, &flow_id, Some(7), Trigger::Api);
    assert!(matches!(
        store.record_run(&record, &missing).await,
        Err(Error::NotFound {
            what: "flow version",
            ..
        })
    ));
    let elsewhere = RunContext::for_flow(WS, "no-such-flow", None, Trigger::Api);
    assert!(matches!(
        store.record_run(&record, &elsewhere).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        matches!(
            store.get_execution(WS, &record.execution_id).await,
            Err(Error::NotFound { .. })
        ),
        "nothing was written"
    );
    // The version that exists takes the same record.
    let current = RunContext::for_flow(WS, &flow_id, None, Trigger::Api);
    let id = store.record_run(&record, &current).await.unwrap();
    assert_eq!(
        store.get_execution(WS, &id).await.unwrap().flow_version,
        Some(1)
    );
}
