//! Cancelling a running flow: the step in flight finishes, the steps left are skipped as
//! `cancelled`, teardown runs, and the record says the run was cancelled — against a real HTTP
//! server on 127.0.0.1 with a slow endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::{serve, step};
use testmesh_runner::{
    CancellationToken, FlowLibrary, FlowRecord, FlowStatus, NoEvents, RunOptions, Runner, Secrets,
    StepStatus, actions,
};
use tokio::sync::Notify;

/// Counts requests per path; `/slow/{ms}` announces itself, then answers after `ms` milliseconds.
#[derive(Default)]
struct Target {
    hits: Mutex<HashMap<String, usize>>,
    slow_started: Notify,
}

impl Target {
    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn start() -> (String, Arc<Target>) {
    let target = Arc::new(Target::default());
    let app = Router::new()
        .route(
            "/hit/{name}",
            get(
                |State(t): State<Arc<Target>>, Path(name): Path<String>| async move {
                    *t.hits.lock().unwrap().entry(name).or_default() += 1;
                    "ok"
                },
            ),
        )
        .route(
            "/slow/{ms}",
            get(
                |State(t): State<Arc<Target>>, Path(ms): Path<u64>| async move {
                    *t.hits.lock().unwrap().entry("slow".into()).or_default() += 1;
                    t.slow_started.notify_one();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "late"
                },
            ),
        )
        .with_state(target.clone());
    (format!("http://{}", serve(app).await), target)
}

fn runner() -> Runner {
    Runner::new(
        actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    )
}

/// Runs `yaml` (BASE replaced by the target's URL) and cancels it once the slow endpoint was hit.
async fn run_cancelled_during_slow_step(yaml: &str) -> (FlowRecord, Arc<Target>) {
    let (base, target) = start().await;
    let loaded = testmesh_flow::load_str(&yaml.replace("BASE", &base));
    assert!(loaded.is_ok(), "{:#?}", loaded.diagnostics);
    let flow = loaded.flow.unwrap();
    let cancel = CancellationToken::new();
    let options = RunOptions {
        cancel: Some(cancel.clone()),
        ..RunOptions::default()
    };
    let waiter = target.clone();
    tokio::spawn(async move {
        waiter.slow_started.notified().await;
        cancel.cancel();
    });
    let record = tokio::time::timeout(Duration::from_secs(30), runner().run(&flow, None, &options))
        .await
        .expect("a cancelled run ends");
    (record, target)
}

#[tokio::test]
async fn cancel_skips_the_rest_and_runs_teardown() {
    let (record, target) = run_cancelled_during_slow_step(
        r#"
name: cancel me
setup:
  - {id: login, action: http_request, config: {method: GET, url: BASE/hit/setup}}
steps:
  - {id: slow, action: http_request, config: {method: GET, url: BASE/slow/300}, assert: [status == 200]}
  - {id: next, action: http_request, config: {method: GET, url: BASE/hit/next}}
  - id: each
    action: for_each
    config:
      items: [1, 2]
      steps:
        - {id: inner, action: http_request, config: {method: GET, url: "BASE/hit/inner"}}
teardown:
  - {id: cleanup, action: http_request, config: {method: GET, url: BASE/hit/teardown}}
"#,
    )
    .await;
    // The step in flight finished and passed; nothing after it was sent.
    assert_eq!(step(&record, "slow").status, StepStatus::Passed);
    for id in ["next", "each"] {
        let s = step(&record, id);
        assert_eq!(s.status, StepStatus::Skipped, "{id}");
        assert_eq!(s.skip_reason.as_deref(), Some("cancelled"), "{id}");
    }
    assert_eq!(target.hits("next"), 0);
    assert_eq!(target.hits("inner"), 0);
    // Setup ran before, teardown ran after.
    assert_eq!(step(&record, "login").status, StepStatus::Passed);
    assert_eq!(step(&record, "cleanup").status, StepStatus::Passed);
    assert_eq!(target.hits("setup"), 1);
    assert_eq!(target.hits("teardown"), 1);
    assert!(record.cancelled);
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(record.error.as_deref(), Some("cancelled"));
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["cancelled"], true);
}

#[tokio::test]
async fn cancel_stops_nested_steps_retries_and_waits() {
    let (record, target) = run_cancelled_during_slow_step(
        r#"
name: nested
steps:
  - id: each
    action: for_each
    config:
      range: {start: 1, end: 50}
      steps:
        - {id: inner, action: http_request, config: {method: GET, url: "BASE/slow/200"}}
  - id: retried
    action: http_request
    config: {method: GET, url: BASE/hit/retried}
    assert: [status == 500]
    retry: {max_attempts: 5, delay: 10s}
  - id: wait
    action: wait_until
    config:
      condition: "false"
      max_duration: 10m
      interval: 1m
      steps:
        - {id: poll, action: http_request, config: {method: GET, url: BASE/hit/poll}}
teardown:
  - {id: cleanup, action: http_request, config: {method: GET, url: BASE/hit/teardown}}
"#,
    )
    .await;
    // The loop stopped after the iteration in flight.
    assert_eq!(target.hits("slow"), 1);
    let each = step(&record, "each");
    assert_eq!(each.children.len(), 1, "{each:#?}");
    assert_eq!(
        step(&record, "retried").skip_reason.as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        step(&record, "wait").skip_reason.as_deref(),
        Some("cancelled")
    );
    assert_eq!(target.hits("retried") + target.hits("poll"), 0);
    assert_eq!(target.hits("teardown"), 1);
    assert!(record.cancelled);
}

#[tokio::test]
async fn a_cancel_during_a_retry_delay_or_a_wait_ends_the_step() {
    for (id, steps) in [
        (
            "retried",
            "  - {id: retried, action: http_request, config: {method: GET, url: BASE/slow/10}, assert: [status == 500], retry: {max_attempts: 5, delay: 10m}}\n",
        ),
        (
            "wait",
            "  - id: wait\n    action: wait_until\n    config:\n      condition: \"false\"\n      max_duration: 1h\n      interval: 10m\n      steps:\n        - {id: poll, action: http_request, config: {method: GET, url: BASE/slow/10}}\n",
        ),
    ] {
        let yaml = format!(
            "name: waits\nsteps:\n{steps}  - {{id: after, action: http_request, config: {{method: GET, url: BASE/hit/after}}}}\n"
        );
        // Bounded by the helper's 30 s timeout: without the cancellation this would take minutes.
        let (record, target) = run_cancelled_during_slow_step(&yaml).await;
        let s = step(&record, id);
        assert_eq!(s.status, StepStatus::Failed, "{s:#?}");
        assert_eq!(target.hits("slow"), 1, "{id}: no second attempt or check");
        // (The failure stops the phase first.)
        assert_eq!(
            step(&record, "after").skip_reason.as_deref(),
            Some("an earlier step failed")
        );
        assert_eq!(target.hits("after"), 0);
        assert!(record.cancelled);
        // The step's own failure is the flow's error; the cancellation is in the flag.
        assert!(
            record.error.as_deref().is_some_and(|e| e.contains(id)),
            "{:?}",
            record.error
        );
    }
}

#[tokio::test]
async fn a_run_without_cancel_is_unaffected_and_takes_the_given_id_and_secrets() {
    let (base, target) = start().await;
    let yaml = format!(
        "name: plain\nenv: {{TOKEN: tok-very-secret}}\nsteps:\n  - {{id: a, action: http_request, config: {{method: GET, url: \"{base}/hit/a?t=${{TOKEN}}\"}}}}\n"
    );
    let flow = testmesh_flow::load_str(&yaml).flow.unwrap();
    let options = RunOptions {
        cancel: Some(CancellationToken::new()),
        execution_id: Some("exec-1".into()),
        secrets: Secrets::new(["tok-very-secret".to_string()]),
        ..RunOptions::default()
    };
    let record = runner().run(&flow, None, &options).await;
    assert_eq!(record.status, FlowStatus::Passed);
    assert!(!record.cancelled);
    assert_eq!(record.execution_id, "exec-1");
    assert_eq!(target.hits("a"), 1);
    let text = serde_json::to_string(&record).unwrap();
    assert!(!text.contains("tok-very-secret"), "{text}");
    assert!(!text.contains("\"cancelled\""), "{text}");
}
