//! Control over running executions: cancellation through the store, a lease lost to another
//! worker, and graceful shutdown.

use chrono::{Duration as TimeDelta, Utc};
use std::time::Duration;
use testmesh_runner::{FlowRecord, FlowStatus};
use testmesh_store::ExecutionStatus;
use testmesh_test::{Target, TargetOptions, TestDb};
use testmesh_worker::Notice;

use crate::common::{
    Running, WS, create_flow, enqueue, event_names, events, events_now, options, wait_final,
};

on_both_backends!(
    cancelling_a_running_execution_skips_the_rest_and_runs_teardown,
    a_worker_that_lost_its_lease_writes_nothing,
    shutdown_releases_what_does_not_finish_in_the_grace_period,
);

/// A flow whose first main step takes `ms` on the target's slow route.
fn slow_flow(base: &str, ms: u64) -> String {
    format!(
        r#"name: slow
steps:
  - {{id: slow, action: http_request, config: {{method: GET, url: "{base}/slow/{ms}"}}}}
  - {{id: after, action: http_request, config: {{method: GET, url: "{base}/hit/after"}}}}
teardown:
  - {{id: cleanup, action: http_request, config: {{method: GET, url: "{base}/hit/teardown"}}}}
"#
    )
}

async fn cancelling_a_running_execution_skips_the_rest_and_runs_teardown(db: &TestDb) {
    let store = db.open().await;
    let target = Target::start(TargetOptions::default()).await;
    let flow = create_flow(&store, &slow_flow(&target.base_url, 1500)).await;
    let id = enqueue(&store, &flow).await.id;
    let running = Running::start(db.open().await, options(1));
    target.wait_for_slow().await;
    let flagged = store.request_cancel(WS, &id).await.unwrap();
    assert_eq!(flagged.status, ExecutionStatus::Running);
    assert!(flagged.cancel_requested);
    let execution = wait_final(&store, &id).await;
    running.stop().await;
    assert_eq!(execution.status, ExecutionStatus::Cancelled);
    assert_eq!(execution.error.as_deref(), Some("cancelled"));
    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    let steps: Vec<(&str, &str, Option<&str>)> = detail
        .steps
        .iter()
        .map(|s| {
            (
                s.step_id.as_str(),
                s.status.as_str(),
                s.skip_reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("slow", "passed", None),
            ("after", "skipped", Some("cancelled")),
            ("cleanup", "passed", None),
        ]
    );
    assert_eq!(target.hits("after"), 0);
    assert_eq!(target.hits("teardown"), 1);
    let names = event_names(&events(&store, &id).await);
    assert_eq!(
        names.last().map(String::as_str),
        Some("execution.cancelled")
    );
    assert!(
        names.contains(&"step.skipped:after".to_string()),
        "{names:?}"
    );
}

async fn a_worker_that_lost_its_lease_writes_nothing(db: &TestDb) {
    let store = db.open().await;
    let target = Target::start(TargetOptions::default()).await;
    let flow = create_flow(&store, &slow_flow(&target.base_url, 3000)).await;
    let id = enqueue(&store, &flow).await.id;
    // One slot: the worker cannot claim the execution again while it still runs it.
    let mut running = Running::start(db.open().await, options(1));
    target.wait_for_slow().await;
    // As if the lease had expired: the execution goes back to the queue, and another worker
    // claims it while the first one is still in its slow step.
    let reclaimed = store
        .reclaim_expired(Utc::now() + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(reclaimed, 1);
    // (PostgreSQL's SKIP LOCKED passes over the row while a heartbeat holds its lock: try again.)
    let mut other = None;
    for _ in 0..100 {
        other = store
            .claim_next("other-worker", Duration::from_secs(60))
            .await
            .unwrap();
        if other.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let other = other.expect("the execution is queued again");
    assert_eq!(other.execution.id, id);
    assert_eq!(other.execution.attempts, 2);
    let lost = running
        .notice(|n| match n {
            Notice::LeaseLost { execution_id } => Some(execution_id.clone()),
            _ => None,
        })
        .await;
    assert_eq!(lost, id);
    let events_then = events_now(&store, &id).await.len();
    // The other worker completes it; the first wrote no steps, no outcome and no more events.
    let record = FlowRecord {
        execution_id: id.clone(),
        name: "slow".into(),
        path: None,
        suite: None,
        tags: Vec::new(),
        status: FlowStatus::Passed,
        started_at: Utc::now(),
        duration: Duration::from_millis(5),
        steps: Vec::new(),
        error: None,
        cancelled: false,
        outputs: Default::default(),
    };
    store
        .complete_claimed(&id, "other-worker", &record)
        .await
        .unwrap();
    // Long enough for the first worker's slow request to have ended, had it kept running.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    running.stop().await;
    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    assert_eq!(detail.execution.status, ExecutionStatus::Completed);
    assert_eq!(detail.execution.worker_id.as_deref(), Some("other-worker"));
    assert!(detail.steps.is_empty(), "{:?}", detail.steps);
    assert_eq!(target.hits("after") + target.hits("teardown"), 0);
    let names = event_names(&events_now(&store, &id).await);
    assert_eq!(names.len(), events_then, "{names:?}");
    assert_eq!(names, ["execution.started", "step.started:slow"]);
}

async fn shutdown_releases_what_does_not_finish_in_the_grace_period(db: &TestDb) {
    let store = db.open().await;
    let target = Target::start(TargetOptions::default()).await;
    let slow = create_flow(&store, &slow_flow(&target.base_url, 10_000)).await;
    let quick = create_flow(
        &store,
        &format!(
            "name: quick\nsteps:\n  - {{id: q, action: http_request, config: {{method: GET, url: \"{}/slow/300\"}}}}\n",
            target.base_url
        ),
    )
    .await;
    let long = enqueue(&store, &slow).await.id;
    let mut running = Running::start(
        db.open().await,
        testmesh_worker::WorkerOptions {
            shutdown_grace: Duration::from_millis(1200),
            ..options(2)
        },
    );
    target.wait_for_slow().await;
    let short = enqueue(&store, &quick).await.id;
    running
        .notice(|n| {
            matches!(n, Notice::Claimed { execution_id, .. } if *execution_id == short)
                .then_some(())
        })
        .await;
    running.stop().await;
    // The quick one finished within the grace period; the slow one went back to the queue.
    let done = store.get_execution(WS, &short).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Completed);
    let released = store.get_execution(WS, &long).await.unwrap();
    assert_eq!(released.status, ExecutionStatus::Pending);
    assert_eq!(released.attempts, 1);
    assert!(released.worker_id.is_none());
    assert_eq!(target.hits("after"), 0);
    let detail = store.get_execution_detail(WS, &long).await.unwrap();
    assert!(detail.steps.is_empty());
    // Another worker runs it from the start.
    let again = store
        .claim_next("next-worker", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("released to the queue");
    assert_eq!((again.execution.id, again.execution.attempts), (long, 2));
}
