//! Benchmark (not a test): how many step results per second the store records.
//!
//!   cargo run --release -p testmesh-store --example ingest -- URL [RUNS] [STEPS]
//!
//! Records RUNS finished runs of STEPS steps each (default 200 × 50) into the store at URL
//! (`sqlite://…` or `postgres://…`; use an empty database), four writers at a time as a server with
//! workers would, and prints runs/s and steps/s. Each step looks like a passed HTTP step of a lean
//! run: status, timings, two evaluated assertions, an output.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark may panic

use std::time::{Duration, Instant};

use chrono::Utc;
use indexmap::IndexMap;
use serde_json::json;
use testmesh_flow::model::Phase;
use testmesh_runner::{AssertionRecord, FlowRecord, FlowStatus, StepRecord, StepStatus};
use testmesh_store::{DEFAULT_WORKSPACE_ID, RunContext, Store, Trigger};

fn step(i: usize) -> StepRecord {
    let mut outputs = IndexMap::new();
    outputs.insert("id".to_string(), json!(i));
    StepRecord {
        id: format!("step_{i}"),
        phase: Some(Phase::Main),
        name: None,
        action: "http_request".into(),
        status: StepStatus::Passed,
        attempts: 1,
        flaky: false,
        started_at: Utc::now(),
        duration: Duration::from_millis(3),
        request: None,
        response: None,
        result: None,
        outputs,
        assertions: ["status == 200", "body.id == 1"]
            .into_iter()
            .map(|expression| AssertionRecord {
                expression: expression.into(),
                passed: true,
                message: None,
                actual: None,
                expected: None,
            })
            .collect(),
        error: None,
        skip_reason: None,
        continued: false,
        children: Vec::new(),
    }
}

fn run(steps: usize) -> FlowRecord {
    FlowRecord {
        execution_id: uuid::Uuid::new_v4().to_string(),
        name: "ingest".into(),
        path: None,
        suite: Some("bench".into()),
        tags: vec!["bench".into()],
        status: FlowStatus::Passed,
        started_at: Utc::now(),
        duration: Duration::from_millis(150),
        steps: (0..steps).map(step).collect(),
        error: None,
        cancelled: false,
        outputs: IndexMap::new(),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: ingest URL [RUNS] [STEPS]");
    let runs: usize = args.next().map_or(200, |a| a.parse().expect("RUNS"));
    let steps: usize = args.next().map_or(50, |a| a.parse().expect("STEPS"));
    let store = Store::open(&url).await.expect("open the store");
    let records: Vec<FlowRecord> = (0..runs).map(|_| run(steps)).collect();
    let started = Instant::now();
    let writers = 4;
    let mut tasks = Vec::new();
    for chunk in records.chunks(runs.div_ceil(writers).max(1)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for record in &chunk {
                store
                    .record_run(
                        record,
                        &RunContext {
                            trigger: Trigger::Cli,
                            ..RunContext::default()
                        },
                    )
                    .await
                    .expect("record");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let recorded = store
        .list_executions(DEFAULT_WORKSPACE_ID, &Default::default())
        .await
        .unwrap();
    assert!(recorded.total_capped || recorded.total >= runs as i64);
    println!(
        "{:?}: {runs} runs x {steps} steps in {seconds:.2}s: {:.0} runs/s, {:.0} steps/s",
        store.backend(),
        runs as f64 / seconds,
        (runs * steps) as f64 / seconds
    );
}
