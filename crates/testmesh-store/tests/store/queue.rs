//! The queue: atomic claims under concurrency, heartbeats, exactly-once completion, expired leases,
//! release and cancellation of running executions.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Duration as TimeDelta, Utc};
use testmesh_runner::{FlowStatus, StepStatus};
use testmesh_store::{Error, ExecutionFilter, ExecutionStatus, RunContext, Store, Trigger};

use crate::common::{TestDb, WS, flow_yaml, record, step};

on_both_backends!(
    concurrent_claimers_complete_each_execution_once,
    expired_leases_are_reclaimed_and_the_old_worker_cannot_complete,
    repeatedly_lost_executions_fail,
    release_and_cancel_running_executions,
);

const LEASE: Duration = Duration::from_secs(60);

async fn enqueue(store: &Store, n: usize) -> (String, Vec<String>) {
    let flow = store
        .create_flow(WS, &flow_yaml("queued", Some("q"), &[]), None)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        let context = RunContext::for_flow(WS, &flow.flow.id, None, Trigger::Api);
        ids.push(store.enqueue_execution(&context).await.unwrap().id);
    }
    (flow.flow.id, ids)
}

fn passed_run() -> testmesh_runner::FlowRecord {
    record(
        "queued",
        FlowStatus::Passed,
        vec![step("hello", "log", StepStatus::Passed)],
    )
}

async fn concurrent_claimers_complete_each_execution_once(db: &TestDb) {
    let store = db.open().await;
    let (_, ids) = enqueue(&store, 50).await;
    assert_eq!(store.queue_depth().await.unwrap(), 50);
    let mut workers = Vec::new();
    for w in 0..4 {
        // Each claimer has its own pool, as separate worker processes would.
        let store = db.open().await;
        workers.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut done = Vec::new();
            while let Some(claimed) = store.claim_next(&worker, LEASE).await.unwrap() {
                assert_eq!(claimed.execution.status, ExecutionStatus::Running);
                assert_eq!(
                    claimed.execution.worker_id.as_deref(),
                    Some(worker.as_str())
                );
                assert!(claimed.yaml.contains("name: queued"));
                let beat = store
                    .heartbeat(&claimed.execution.id, &worker, LEASE)
                    .await
                    .unwrap();
                assert!(!beat.cancel_requested);
                let finished = store
                    .complete_claimed(&claimed.execution.id, &worker, &passed_run())
                    .await
                    .unwrap();
                assert_eq!(finished.status, ExecutionStatus::Completed);
                done.push(claimed.execution.id);
            }
            done
        }));
    }
    let mut claimed = Vec::new();
    let mut per_worker = Vec::new();
    for worker in workers {
        let done = worker.await.unwrap();
        per_worker.push(done.len());
        claimed.extend(done);
    }
    eprintln!("executions completed per worker: {per_worker:?}");
    assert_eq!(claimed.len(), 50, "every execution claimed once");
    let unique: HashSet<&String> = claimed.iter().collect();
    assert_eq!(unique.len(), 50, "no execution claimed twice");
    assert_eq!(unique, ids.iter().collect());

    let page = store
        .list_executions(
            WS,
            &ExecutionFilter {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 50);
    for e in &page.items {
        assert_eq!(e.status, ExecutionStatus::Completed);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.total_steps, 1);
        assert!(e.started_at.is_some() && e.finished_at.is_some());
        assert_eq!(e.lease_expires_at, None);
    }
    let steps: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM execution_steps")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        steps.0, 50,
        "one step row per execution: nothing written twice"
    );
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

async fn expired_leases_are_reclaimed_and_the_old_worker_cannot_complete(db: &TestDb) {
    let store = db.open().await;
    let (_, ids) = enqueue(&store, 1).await;
    let first = store
        .claim_next("w1", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.execution.id, ids[0]);
    assert_eq!(first.execution.attempts, 1);
    assert!(
        store.claim_next("w2", LEASE).await.unwrap().is_none(),
        "a claimed row is not handed out"
    );
    // Not expired yet at the time of the claim: nothing to reclaim then.
    assert_eq!(
        store
            .reclaim_expired(Utc::now() - TimeDelta::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .reclaim_expired(Utc::now() + TimeDelta::seconds(1))
            .await
            .unwrap(),
        1
    );
    let pending = store.get_execution(WS, &ids[0]).await.unwrap();
    assert_eq!(
        (pending.status, pending.attempts, pending.worker_id),
        (ExecutionStatus::Pending, 1, None)
    );

    let second = store.claim_next("w2", LEASE).await.unwrap().unwrap();
    assert_eq!(second.execution.id, ids[0]);
    assert_eq!(second.execution.attempts, 2);
    // The first worker lost its lease: no heartbeat, no completion, nothing written.
    assert!(matches!(
        store.heartbeat(&ids[0], "w1", LEASE).await,
        Err(Error::LeaseLost { .. })
    ));
    let late = record(
        "queued",
        FlowStatus::Failed,
        vec![step("x", "log", StepStatus::Failed)],
    );
    assert!(matches!(
        store.complete_claimed(&ids[0], "w1", &late).await,
        Err(Error::LeaseLost { .. })
    ));
    assert!(
        store
            .get_execution_detail(WS, &ids[0])
            .await
            .unwrap()
            .steps
            .is_empty()
    );

    let done = store
        .complete_claimed(&ids[0], "w2", &passed_run())
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.attempts),
        (ExecutionStatus::Completed, 2)
    );
    let detail = store.get_execution_detail(WS, &ids[0]).await.unwrap();
    assert_eq!(detail.steps.len(), 1);
    assert_eq!(detail.steps[0].step_id, "hello");
    assert_eq!(detail.steps[0].phase.as_deref(), Some("main"));
    // Completing twice is refused as well.
    assert!(matches!(
        store.complete_claimed(&ids[0], "w2", &passed_run()).await,
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(
        store
            .reclaim_expired(Utc::now() + TimeDelta::days(1))
            .await
            .unwrap(),
        0
    );
}

async fn repeatedly_lost_executions_fail(db: &TestDb) {
    let store = db.open().await;
    let (_, ids) = enqueue(&store, 1).await;
    for attempt in 1..=5 {
        let claimed = store
            .claim_next("crashy", Duration::ZERO)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.execution.attempts, attempt);
        store
            .reclaim_expired(Utc::now() + TimeDelta::seconds(1))
            .await
            .unwrap();
    }
    let e = store.get_execution(WS, &ids[0]).await.unwrap();
    assert_eq!((e.status, e.attempts), (ExecutionStatus::Failed, 5));
    assert!(e.error.unwrap().contains("worker was lost"));
    assert!(store.claim_next("w", LEASE).await.unwrap().is_none());
}

async fn release_and_cancel_running_executions(db: &TestDb) {
    let store = db.open().await;
    let (_, ids) = enqueue(&store, 2).await;
    // Claims come oldest first (ids break ties), so a released execution is the next one again.
    let claimed = store.claim_next("w1", LEASE).await.unwrap().unwrap();
    let x = claimed.execution.id.clone();
    let y = ids.iter().find(|id| **id != x).unwrap().clone();
    assert!(matches!(
        store.release(&x, "someone-else").await,
        Err(Error::LeaseLost { .. })
    ));
    store.release(&x, "w1").await.unwrap();
    assert_eq!(
        store.get_execution(WS, &x).await.unwrap().status,
        ExecutionStatus::Pending
    );
    assert!(matches!(
        store.release(&x, "w1").await,
        Err(Error::LeaseLost { .. })
    ));

    let again = store.claim_next("w2", LEASE).await.unwrap().unwrap();
    assert_eq!(again.execution.id, x);
    let flagged = store.request_cancel(WS, &x).await.unwrap();
    assert_eq!(
        (flagged.status, flagged.cancel_requested),
        (ExecutionStatus::Running, true)
    );
    let beat = store.heartbeat(&x, "w2", LEASE).await.unwrap();
    assert!(beat.cancel_requested);
    assert!(beat.lease_expires_at > Utc::now());
    let run = record(
        "queued",
        FlowStatus::Failed,
        vec![step("hello", "log", StepStatus::Failed)],
    );
    let done = store.complete_claimed(&x, "w2", &run).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Cancelled);
    assert_eq!(done.failed_steps, 1);
    assert!(matches!(
        store.request_cancel(WS, &x).await,
        Err(Error::Conflict(_))
    ));

    let second = store.claim_next("w2", LEASE).await.unwrap().unwrap();
    assert_eq!(second.execution.id, y);
    // Releasing a run whose cancellation was asked for finishes it as cancelled.
    store.request_cancel(WS, &y).await.unwrap();
    store.release(&y, "w2").await.unwrap();
    let released = store.get_execution(WS, &y).await.unwrap();
    assert_eq!(released.status, ExecutionStatus::Cancelled);
    assert!(released.finished_at.is_some());
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}
