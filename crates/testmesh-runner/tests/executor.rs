//! The executor's semantics, through flows that use only built-in actions (log, delay, assert,
//! transform) and control flow: phases, skipping, retries, timeouts, error handling, loops, events.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use testmesh_flow::interpolate::VariableSources;
use testmesh_flow::model::Phase;
use testmesh_runner::{
    Event, EventSink, FlowLibrary, FlowRecord, FlowStatus, NoEvents, RunOptions, Runner, Secrets,
    StepRecord, StepStatus, actions,
};

fn runner() -> Runner {
    Runner::new(
        actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    )
}

async fn run(yaml: &str) -> FlowRecord {
    run_with(&runner(), yaml, &RunOptions::default()).await
}

async fn run_with(runner: &Runner, yaml: &str, options: &RunOptions) -> FlowRecord {
    let loaded = testmesh_flow::load_str(yaml);
    assert!(loaded.is_ok(), "flow has errors: {:#?}", loaded.diagnostics);
    runner.run(&loaded.flow.unwrap(), None, options).await
}

fn step<'a>(record: &'a FlowRecord, id: &str) -> &'a StepRecord {
    record
        .all_steps()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id} in {:#?}", record.steps))
}

fn statuses(record: &FlowRecord) -> Vec<(String, StepStatus)> {
    record
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.status))
        .collect()
}

#[tokio::test]
async fn phases_run_in_order_and_teardown_always_runs() {
    let record = run(r#"
name: phases
setup:
  - {id: s, action: log, config: {message: setup}}
steps:
  - {id: a, action: log, config: {message: "one"}}
  - {id: b, action: assert, config: {data: {x: 1}, assertions: ["x == 2"]}}
  - {id: c, action: log, config: {message: never}}
on_error:
  - {id: handler, action: log, config: {message: "handling"}}
teardown:
  - {id: t, action: log, config: {message: cleanup}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(
        statuses(&record),
        vec![
            ("s".into(), StepStatus::Passed),
            ("a".into(), StepStatus::Passed),
            ("b".into(), StepStatus::Failed),
            ("c".into(), StepStatus::Skipped),
            ("handler".into(), StepStatus::Passed),
            ("t".into(), StepStatus::Passed),
        ]
    );
    let error = record.error.as_deref().unwrap();
    assert!(
        error.starts_with("[main] step 'b' (assert): assertion failed:"),
        "{error}"
    );
    assert_eq!(
        step(&record, "c").skip_reason.as_deref(),
        Some("an earlier step failed")
    );
    // Each top-level record says its phase (the store and the JSON report show it).
    let phases: Vec<_> = record
        .steps
        .iter()
        .map(|s| s.phase.map(Phase::name))
        .collect();
    assert_eq!(
        phases,
        [
            Some("setup"),
            Some("main"),
            Some("main"),
            Some("main"),
            Some("on_error"),
            Some("teardown")
        ]
    );
}

#[tokio::test]
async fn setup_failure_skips_main_but_not_teardown() {
    let record = run(r#"
name: setup fails
setup:
  - {id: s, action: assert, config: {data: {ok: false}, assertions: ["ok"]}}
steps:
  - {id: a, action: log, config: {message: never}}
teardown:
  - {id: t, action: log, config: {message: cleanup}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(step(&record, "a").status, StepStatus::Skipped);
    assert_eq!(
        step(&record, "a").skip_reason.as_deref(),
        Some("setup failed")
    );
    assert_eq!(step(&record, "t").status, StepStatus::Passed);
    assert_eq!(
        step(&record, "a").phase,
        Some(Phase::Main),
        "skipped, still main"
    );
    assert!(record.error.unwrap().starts_with("[setup] step 's'"));
}

#[tokio::test]
async fn when_and_disabled_skip_and_are_recorded() {
    let record = run(r#"
name: skipping
env: {MODE: fast}
steps:
  - {id: a, action: log, config: {message: x}, when: "MODE == 'slow'"}
  - {id: b, action: log, config: {message: x}, disabled: true}
  - {id: c, action: log, config: {message: x}, when: "MODE == 'fast'"}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed);
    assert_eq!(step(&record, "a").status, StepStatus::Skipped);
    assert_eq!(
        step(&record, "a").skip_reason.as_deref(),
        Some("`when: MODE == 'slow'` is false")
    );
    assert_eq!(step(&record, "b").skip_reason.as_deref(), Some("disabled"));
    assert_eq!(step(&record, "c").status, StepStatus::Passed);
}

#[tokio::test]
async fn on_error_continue_records_and_goes_on() {
    let record = run(r#"
name: continue
steps:
  - {id: a, action: assert, config: {data: {n: 1}, assertions: ["n == 2"]}, on_error: continue}
  - {id: b, action: log, config: {message: after}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed);
    let a = step(&record, "a");
    assert_eq!(a.status, StepStatus::Failed);
    assert!(a.continued);
    assert_eq!(step(&record, "b").status, StepStatus::Passed);
}

#[tokio::test]
async fn error_steps_run_only_on_failure_and_see_the_error() {
    let record = run(r#"
name: error steps
steps:
  - id: a
    action: assert
    config: {data: {n: 1}, assertions: ["n == 2"]}
    on_error: continue
    error_steps:
      - {id: explain, action: log, config: {message: "failed: ${error.step}"}}
  - id: b
    action: log
    config: {message: fine}
    error_steps:
      - {id: never, action: log, config: {message: no}}
"#)
    .await;
    let explain = step(&record, "explain");
    assert_eq!(explain.status, StepStatus::Passed);
    assert_eq!(explain.result.as_ref().unwrap()["message"], "failed: a");
    assert!(record.all_steps().iter().all(|s| s.id != "never"));
}

#[tokio::test]
async fn fail_fast_false_runs_every_main_step() {
    let record = run(r#"
name: no fail fast
config: {fail_fast: false}
steps:
  - {id: a, action: assert, config: {data: {n: 1}, assertions: ["n == 2"]}}
  - {id: b, action: log, config: {message: still runs}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(step(&record, "b").status, StepStatus::Passed);
}

#[tokio::test]
async fn step_timeouts_are_enforced() {
    let record = run(r#"
name: timeout
steps:
  - {id: slow, action: delay, config: {duration: 5s}, timeout: 50ms}
"#)
    .await;
    let slow = step(&record, "slow");
    assert_eq!(slow.status, StepStatus::Failed);
    assert_eq!(slow.error.as_ref().unwrap().message, "timed out after 50ms");
    assert!(record.duration < Duration::from_secs(2));
}

#[tokio::test]
async fn on_timeout_continue_lets_the_flow_pass() {
    let record = run(r#"
name: timeout continue
steps:
  - {id: slow, action: delay, config: {duration: 5s}, timeout: 20ms, on_timeout: continue}
  - {id: next, action: log, config: {message: ok}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed);
    assert!(step(&record, "slow").continued);
}

#[tokio::test]
async fn the_flow_timeout_stops_main_steps_but_teardown_runs() {
    let record = run(r#"
name: flow timeout
config: {timeout: 100ms}
steps:
  - {id: a, action: delay, config: {duration: 5s}}
  - {id: b, action: log, config: {message: never}}
teardown:
  - {id: t, action: log, config: {message: cleanup}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(
        step(&record, "a").error.as_ref().unwrap().message,
        "the flow's time limit ran out"
    );
    assert_eq!(step(&record, "b").status, StepStatus::Skipped);
    assert_eq!(step(&record, "t").status, StepStatus::Passed);
    assert!(record.duration < Duration::from_secs(2));
}

#[tokio::test]
async fn retries_follow_the_policy_and_mark_flaky_passes() {
    // A counter in a transform makes the first two attempts fail: attempts see a fresh RANDOM_INT,
    // so use the attempt-independent route instead: retry an always-failing step and count attempts.
    let record = run(r#"
name: retry
steps:
  - id: a
    action: assert
    config: {data: {n: 1}, assertions: ["n == 2"]}
    retry: {max_attempts: 3, delay: 10ms, backoff: exponential}
"#)
    .await;
    let a = step(&record, "a");
    assert_eq!(a.attempts, 3);
    assert!(
        a.error
            .as_ref()
            .unwrap()
            .message
            .starts_with("failed after 3 attempts: assertion failed")
    );
    assert!(!a.flaky);
}

#[tokio::test]
async fn retry_on_filters_which_failures_are_retried() {
    let record = run(r#"
name: retry_on
steps:
  - id: not_timeout
    action: assert
    config: {data: {n: 1}, assertions: ["n == 2"]}
    retry: {max_attempts: 3, retry_on: [timeout]}
    on_error: continue
  - id: timeouts
    action: delay
    config: {duration: 1s}
    timeout: 10ms
    retry: {max_attempts: 2, retry_on: timeout}
    on_error: continue
  - id: never
    action: delay
    config: {duration: 1s}
    timeout: 10ms
    retry: {max_attempts: 3, retry_on_not: [timeout]}
"#)
    .await;
    assert_eq!(step(&record, "not_timeout").attempts, 1);
    assert_eq!(step(&record, "timeouts").attempts, 2);
    assert_eq!(step(&record, "never").attempts, 1);
}

#[tokio::test]
async fn flow_default_retry_applies_unless_a_step_opts_out() {
    let record = run(r#"
name: default retry
config: {retry: {max_attempts: 2}, fail_fast: false}
steps:
  - {id: a, action: assert, config: {data: {n: 1}, assertions: ["n == 2"]}}
  - {id: b, action: assert, config: {data: {n: 1}, assertions: ["n == 2"]}, retry: {enabled: false}}
"#)
    .await;
    assert_eq!(step(&record, "a").attempts, 2);
    assert_eq!(step(&record, "b").attempts, 1);
}

#[tokio::test]
async fn outputs_and_references_flow_between_steps() {
    let record = run(r#"
name: outputs
env: {GREETING: hello}
steps:
  - id: shape
    action: transform
    config:
      input: {user: {id: 7, name: Ada}, items: [{sku: a, qty: 2}, {sku: b, qty: 0}]}
      transforms: {uid: $.user.id, label: literal}
      operations:
        - {type: filter, input: items, expression: "qty > 0", save_as: in_stock}
        - {type: map, field: sku, save_as: skus}
        - {type: join, separator: "+", save_as: joined}
        - {type: format, input: {n: 3}, template: "n={{n}}", save_as: text}
    output:
      uid: uid
      first_sku: skus[0]
  - id: use
    action: log
    config: {message: "${GREETING} ${uid} ${shape.joined} ${first_sku} ${shape.text}"}
    assert:
      - message == "hello 7 a a n=3"
      - shape.uid == 7
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed, "{:#?}", record.steps);
    assert_eq!(step(&record, "shape").outputs["uid"], json!(7));
    assert_eq!(record.outputs["first_sku"], json!("a"));
}

#[tokio::test]
async fn undefined_references_fail_the_step_with_their_name() {
    let record = run(r#"
name: undefined
steps:
  - {id: a, action: log, config: {message: "${NOT_SET}"}}
"#)
    .await;
    let message = &step(&record, "a").error.as_ref().unwrap().message;
    assert!(message.contains("${NOT_SET}"), "{message}");
    assert_eq!(step(&record, "a").attempts, 1);
}

#[tokio::test]
async fn condition_runs_the_chosen_branch() {
    let record = run(r#"
name: condition
env: {N: 5}
steps:
  - id: check
    action: condition
    config:
      condition: "N > 3"
      then: [{id: big, action: log, config: {message: big}}]
      else: [{id: small, action: log, config: {message: small}}]
  - {id: after, action: log, config: {message: "${big.message}"}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed, "{:#?}", record.steps);
    assert_eq!(
        step(&record, "check").result.as_ref().unwrap()["branch"],
        "then"
    );
    assert!(record.all_steps().iter().all(|s| s.id != "small"));
    assert_eq!(
        step(&record, "after").result.as_ref().unwrap()["message"],
        "big"
    );
}

#[tokio::test]
async fn for_each_over_items_range_and_glob() {
    let dir = std::env::temp_dir().join(format!("tm-glob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.json"), "{}").unwrap();
    std::fs::write(dir.join("b.json"), "{}").unwrap();
    let yaml = format!(
        r#"
name: loops
steps:
  - id: items
    action: for_each
    config:
      items: [{{n: 1}}, {{n: 2}}]
      item_name: row
      index_name: i
      steps: [{{id: each, action: assert, config: {{data: {{v: "${{row.n}}", i: "${{i}}"}}, assertions: ["v == i + 1"]}}}}]
  - id: range
    action: for_each
    config: {{range: {{start: 1, end: 9, step: 3}}, steps: [{{id: r, action: log, config: {{message: "${{item}}"}}}}]}}
  - id: files
    action: for_each
    config: {{items_from_glob: "{}/*.json", steps: [{{id: f, action: log, config: {{message: "${{item}}"}}}}]}}
  - id: capped
    action: for_each
    config: {{items: [1, 2, 3, 4], max_iterations: 2, steps: [{{id: c, action: log, config: {{message: x}}}}]}}
"#,
        dir.display()
    );
    let record = run(&yaml).await;
    assert_eq!(record.status, FlowStatus::Passed, "{:#?}", record.steps);
    assert_eq!(
        step(&record, "items").result.as_ref().unwrap()["items_processed"],
        2
    );
    let range = step(&record, "range").result.as_ref().unwrap();
    assert_eq!(
        range["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["item"].clone())
            .collect::<Vec<_>>(),
        vec![json!(1), json!(4), json!(7)]
    );
    assert_eq!(
        step(&record, "files").result.as_ref().unwrap()["items_processed"],
        2
    );
    assert_eq!(
        step(&record, "capped").result.as_ref().unwrap()["items_processed"],
        2
    );
    assert_eq!(step(&record, "items").children[1].id, "items[1]");
}

#[tokio::test]
async fn for_each_failures_stop_unless_continue_on_error() {
    let record = run(r#"
name: loop failures
steps:
  - id: strict
    action: for_each
    config: {items: [1, 2, 3], steps: [{id: s, action: assert, config: {data: {v: "${item}"}, assertions: ["v != 2"]}}]}
    on_error: continue
  - id: lenient
    action: for_each
    config: {items: [1, 2, 3], continue_on_error: true, steps: [{id: l, action: assert, config: {data: {v: "${item}"}, assertions: ["v != 2"]}}]}
"#)
    .await;
    let strict = step(&record, "strict");
    assert_eq!(strict.status, StepStatus::Failed);
    assert_eq!(strict.children.len(), 2);
    assert!(
        strict
            .error
            .as_ref()
            .unwrap()
            .message
            .starts_with("iteration 1 failed")
    );
    let lenient = step(&record, "lenient");
    assert_eq!(lenient.status, StepStatus::Passed);
    assert_eq!(lenient.result.as_ref().unwrap()["failed"], 1);
    assert_eq!(lenient.children.len(), 3);
}

#[tokio::test]
async fn parallel_iterations_and_steps_run_concurrently() {
    let started = std::time::Instant::now();
    let record = run(r#"
name: parallel
steps:
  - id: loop
    action: for_each
    config: {items: [1, 2, 3, 4], parallel: true, max_concurrent: 4, steps: [{id: w, action: delay, config: {duration: 200ms}}]}
  - id: both
    action: parallel
    config:
      steps:
        - {id: p1, action: delay, config: {duration: 200ms}}
        - {id: p2, action: delay, config: {duration: 200ms}}
  - {id: after, action: log, config: {message: "${p1.duration} ${p2.duration}"}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Passed, "{:#?}", record.steps);
    // Sequentially this is 1.2s; concurrently about 0.4s. The bound is generous on purpose.
    assert!(
        started.elapsed() < Duration::from_millis(1100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        step(&record, "after").result.as_ref().unwrap()["message"],
        "200ms 200ms"
    );
}

#[tokio::test]
async fn parallel_fail_fast_cancels_the_rest() {
    let record = run(r#"
name: parallel fail fast
steps:
  - id: both
    action: parallel
    config:
      fail_fast: true
      steps:
        - {id: bad, action: assert, config: {data: {n: 1}, assertions: ["n == 2"]}}
        - {id: slow, action: delay, config: {duration: 5s}}
"#)
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    assert_eq!(step(&record, "slow").status, StepStatus::Skipped);
    assert!(record.duration < Duration::from_secs(2));
}

#[tokio::test]
async fn wait_until_rechecks_until_true_or_times_out() {
    let record = run(r#"
name: wait until
steps:
  - id: eventually
    action: wait_until
    config:
      condition: "tick.items_processed >= 1"
      max_duration: 2s
      interval: 10ms
      steps: [{id: tick, action: for_each, config: {items: [1], steps: [{id: x, action: log, config: {message: t}}]}}]
  - id: never
    action: wait_until
    config: {condition: "false", max_duration: 60ms, interval: 20ms}
    on_error: continue
"#)
    .await;
    assert_eq!(step(&record, "eventually").status, StepStatus::Passed);
    let never = step(&record, "never");
    assert_eq!(never.status, StepStatus::Failed);
    assert!(
        never
            .error
            .as_ref()
            .unwrap()
            .message
            .starts_with("`false` did not become true within 60ms")
    );
}

#[tokio::test]
async fn run_flow_calls_a_flow_by_path_and_detects_cycles() {
    let dir = std::env::temp_dir().join(format!("tm-run-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("child.yaml"),
        "name: child\nsteps:\n  - id: greet\n    action: log\n    config: {message: \"hi ${who}\"}\n    output: {said: message}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("loop.yaml"),
        "name: loop\nsteps:\n  - {id: again, action: run_flow, config: {flow: loop.yaml}}\n",
    )
    .unwrap();
    let parent = dir.join("parent.yaml");
    std::fs::write(
        &parent,
        "name: parent\nsteps:\n  - {id: call, action: run_flow, config: {flow: child.yaml, input: {who: Ada}}}\n  - {id: use, action: log, config: {message: \"${call.output.said}\"}, assert: [\"message == 'hi Ada'\"]}\n  - {id: cycle, action: run_flow, config: {flow: loop.yaml}}\n",
    )
    .unwrap();
    let flow = testmesh_flow::load_file(&parent).unwrap().1.flow.unwrap();
    let record = runner()
        .run(&flow, Some(&parent), &RunOptions::default())
        .await;
    assert_eq!(step(&record, "call").status, StepStatus::Passed);
    assert_eq!(
        step(&record, "use").status,
        StepStatus::Passed,
        "{:#?}",
        record.steps
    );
    let cycle = step(&record, "cycle")
        .error
        .as_ref()
        .unwrap()
        .message
        .clone();
    assert!(cycle.contains("run_flow cycle"), "{cycle}");
}

#[tokio::test]
async fn command_line_variables_win_over_flow_env() {
    let options = RunOptions {
        variables: VariableSources {
            cli_vars: [("BASE".to_string(), json!("from-cli"))]
                .into_iter()
                .collect(),
            ..VariableSources::default()
        },
        ..RunOptions::default()
    };
    let record = run_with(&runner(), "name: v\nenv: {BASE: from-env}\nsteps:\n  - {id: a, action: log, config: {message: \"${BASE}\"}}\n", &options).await;
    assert_eq!(
        step(&record, "a").result.as_ref().unwrap()["message"],
        "from-cli"
    );
}

#[tokio::test]
async fn secrets_are_masked_in_records() {
    let runner = Runner::new(
        actions::builtin(),
        Arc::new(NoEvents),
        Secrets::new(["hunter22".to_string()]),
        FlowLibrary::default(),
    );
    let record = run_with(
        &runner,
        "name: s\nenv: {PASSWORD: hunter22}\nsteps:\n  - {id: a, action: log, config: {message: \"pw=${PASSWORD}\"}, output: {pw: message}}\n  - {id: b, action: assert, config: {data: {p: \"${PASSWORD}\"}, assertions: [\"p == 'x'\"]}}\n",
        &RunOptions::default(),
    )
    .await;
    let text = serde_json::to_string(&record).unwrap();
    assert!(!text.contains("hunter22"), "{text}");
    assert!(text.contains("pw=****"));
}

#[derive(Default)]
struct Collect(Mutex<Vec<String>>);

impl EventSink for Collect {
    fn on_event(&self, event: Event<'_>) {
        let line = match event {
            Event::FlowStarted {
                name, total_steps, ..
            } => format!("flow {name} {total_steps}"),
            Event::StepStarted { step_id, depth, .. } => format!("start {step_id} {depth}"),
            Event::StepFinished { record, depth, .. } => {
                format!("end {} {depth} {:?}", record.id, record.status)
            }
            Event::FlowFinished { record } => format!("done {:?}", record.status),
        };
        self.0.lock().unwrap().push(line);
    }
}

#[tokio::test]
async fn events_report_every_step_in_order() {
    let events = Arc::new(Collect::default());
    let runner = Runner::new(
        actions::builtin(),
        events.clone(),
        Secrets::default(),
        FlowLibrary::default(),
    );
    run_with(
        &runner,
        "name: e\nsteps:\n  - {id: a, action: log, config: {message: x}}\n  - id: c\n    action: condition\n    config: {condition: 'true', then: [{id: inner, action: log, config: {message: y}}]}\n  - {id: off, action: log, config: {message: z}, disabled: true}\n",
        &RunOptions::default(),
    )
    .await;
    assert_eq!(
        *events.0.lock().unwrap(),
        vec![
            "flow e 3",
            "start a 0",
            "end a 0 Passed",
            "start c 0",
            "start inner 1",
            "end inner 1 Passed",
            "end c 0 Passed",
            "start off 0",
            "end off 0 Skipped",
            "done Passed",
        ]
    );
}

#[tokio::test]
async fn steps_skipped_without_running_get_a_finished_event() {
    let events = Arc::new(Collect::default());
    let runner = Runner::new(
        actions::builtin(),
        events.clone(),
        Secrets::default(),
        FlowLibrary::default(),
    );
    run_with(
        &runner,
        "name: f\nsetup:\n  - {id: s, action: assert, config: {data: {x: 1}, assertions: [\"x == 2\"]}}\nsteps:\n  - {id: m, action: log, config: {message: x}}\nteardown:\n  - {id: t, action: log, config: {message: bye}}\n",
        &RunOptions::default(),
    )
    .await;
    assert_eq!(
        *events.0.lock().unwrap(),
        vec![
            "flow f 3",
            "start s 0",
            "end s 0 Failed",
            "end m 0 Skipped",
            "start t 0",
            "end t 0 Passed",
            "done Failed",
        ]
    );
}

#[tokio::test]
async fn unsupported_actions_fail_clearly() {
    let record = run(
        "name: u\nsteps:\n  - {id: k, action: kafka_consumer, config: {brokers: [x], topic: t}}\n",
    )
    .await;
    let error = step(&record, "k").error.as_ref().unwrap();
    assert_eq!(
        error.message,
        "the `kafka_consumer` action is not available in this version of TestMesh"
    );
    assert_eq!(step(&record, "k").attempts, 1);
}

#[tokio::test]
async fn when_naming_a_step_that_never_ran_skips() {
    let record = run(r#"
name: teardown when
steps:
  - {id: made, action: assert, config: {data: {ok: false}, assertions: ["ok"]}}
  - {id: never, action: log, config: {message: x}, output: {created: message}}
teardown:
  - {id: cleanup, action: log, config: {message: x}, when: "never.message == 'x'"}
"#)
    .await;
    let cleanup = step(&record, "cleanup");
    assert_eq!(cleanup.status, StepStatus::Skipped);
    assert!(
        cleanup
            .skip_reason
            .as_deref()
            .unwrap()
            .starts_with("`when: never.message == 'x'` cannot hold: unknown name"),
        "{cleanup:?}"
    );
    assert!(record.error.unwrap().starts_with("[main] step 'made'"));
}

#[tokio::test]
async fn steps_needing_a_step_that_did_not_pass_are_skipped() {
    let record = run(r#"
name: dependency
setup:
  - {id: start, action: assert, config: {data: {ok: false}, assertions: ["ok"]}, output: {server: data}}
steps:
  - {id: main_step, action: log, config: {message: never}}
teardown:
  - {id: stop, action: log, config: {message: "stopping ${start.result}"}}
  - {id: stop_alias, action: log, config: {message: "stopping ${server}"}}
  - {id: unrelated, action: log, config: {message: "${NOT_DEFINED}"}}
"#)
    .await;
    assert_eq!(step(&record, "stop").status, StepStatus::Skipped);
    assert_eq!(
        step(&record, "stop").skip_reason.as_deref(),
        Some("needs `start`, which did not pass")
    );
    assert_eq!(
        step(&record, "stop_alias").skip_reason.as_deref(),
        Some("needs `start`, which did not pass")
    );
    // An undefined variable that no step produces is still a failure.
    assert_eq!(step(&record, "unrelated").status, StepStatus::Failed);
}

#[tokio::test]
async fn run_flow_reads_input_files_and_can_start_clean() {
    let dir = std::env::temp_dir().join(format!("tm-run-flow-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("child.yaml"), "name: child\nsteps:\n  - {id: echo, action: log, config: {message: \"${who:nobody} ${REGION:none}\"}, output: {said: message}}\n").unwrap();
    std::fs::write(dir.join("input.yaml"), "who: Grace\n").unwrap();
    let parent = dir.join("parent.yaml");
    std::fs::write(
        &parent,
        "name: parent\nenv: {REGION: eu}\nsteps:\n  - {id: file, action: run_flow, config: {flow: child.yaml, input_file: input.yaml}}\n  - {id: clean, action: run_flow, config: {flow: child, inherit_env: false}}\n",
    )
    .unwrap();
    let mut library = FlowLibrary::default();
    let child = testmesh_flow::load_file(&dir.join("child.yaml"))
        .unwrap()
        .1
        .flow
        .unwrap();
    library.add(&dir.join("child.yaml"), Arc::new(child));
    let runner = Runner::new(
        actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        library,
    );
    let flow = testmesh_flow::load_file(&parent).unwrap().1.flow.unwrap();
    let record = runner
        .run(&flow, Some(&parent), &RunOptions::default())
        .await;
    assert_eq!(record.status, FlowStatus::Passed, "{:#?}", record.steps);
    assert_eq!(
        step(&record, "file").result.as_ref().unwrap()["output"]["said"],
        "Grace eu"
    );
    // By name among the loaded flows, without the caller's variables.
    assert_eq!(
        step(&record, "clean").result.as_ref().unwrap()["output"]["said"],
        "nobody none"
    );
    assert_eq!(
        step(&record, "clean").result.as_ref().unwrap()["status"],
        "passed"
    );
}

#[tokio::test]
async fn config_errors_name_where_in_the_config_they_are() {
    let record = run(r#"
name: located
steps:
  - {id: a, action: transform, config: {input: {items: [{name: x}, {name: "${MISSING_NAME}"}]}, transforms: {n: $.items}}}
"#)
    .await;
    let message = &step(&record, "a").error.as_ref().unwrap().message;
    assert!(
        message.starts_with(
            "in config: at `input.items[1].name`: undefined reference `${MISSING_NAME}`"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_called_flow_is_part_of_its_step_not_a_flow_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("child.yaml"),
        "name: child\nsteps:\n  - {id: hello, action: log, config: {message: hi}}\n",
    )
    .unwrap();
    let parent = dir.path().join("parent.yaml");
    std::fs::write(
        &parent,
        "name: parent\nsteps:\n  - {id: call, action: run_flow, config: {flow: child.yaml}}\n",
    )
    .unwrap();
    let events = Arc::new(Collect::default());
    let runner = Runner::new(
        actions::builtin(),
        events.clone(),
        Secrets::default(),
        FlowLibrary::default(),
    );
    let flow = testmesh_flow::load_str(&std::fs::read_to_string(&parent).unwrap())
        .flow
        .unwrap();
    let record = runner
        .run(&flow, Some(&parent), &RunOptions::default())
        .await;
    assert_eq!(record.status, FlowStatus::Passed);
    let lines = events.0.lock().unwrap().clone();
    let flows: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("flow ") || l.starts_with("done "))
        .collect();
    assert_eq!(flows, ["flow parent 1", "done Passed"], "{lines:?}");
}
