//! Queued executions run to completion: steps stored, events in order, environments applied with
//! their secrets masked, and executions that cannot run failed with the reason.

use serde_json::json;
use testmesh_store::{EnvironmentInput, ExecutionStatus, RunContext, Trigger, Variable};
use testmesh_test::{Target, TargetOptions, TestDb};

use crate::common::{Running, WS, create_flow, enqueue, event_names, events, options, wait_final};

on_both_backends!(
    queued_executions_complete_with_steps_and_events,
    environment_secrets_are_used_and_masked,
    executions_that_cannot_run_fail_with_the_reason,
);

async fn queued_executions_complete_with_steps_and_events(db: &TestDb) {
    let store = db.open().await;
    let target = Target::start(TargetOptions { delay_ms: 0..20 }).await;
    let flow = create_flow(
        &store,
        &format!(
            r#"name: two calls
suite: smoke
steps:
  - id: first
    name: First call
    action: http_request
    config: {{method: GET, url: "{base}/hit/first"}}
    assert: [status == 200, body.count >= 1]
  - id: second
    action: http_request
    config: {{method: GET, url: "{base}/hit/second"}}
    assert: [status == 200]
"#,
            base = target.base_url
        ),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(enqueue(&store, &flow).await.id);
    }
    let running = Running::start(db.open().await, options(3));
    for id in &ids {
        let execution = wait_final(&store, id).await;
        assert_eq!(
            execution.status,
            ExecutionStatus::Completed,
            "{execution:?}"
        );
        assert_eq!(execution.attempts, 1);
        assert_eq!(
            (execution.total_steps, execution.passed_steps),
            (2, 2),
            "{execution:?}"
        );
        assert_eq!(
            execution.worker_id.as_deref(),
            Some(running.worker.id()),
            "the worker that ran it is recorded"
        );
        assert!(execution.lease_expires_at.is_none());
        let detail = store.get_execution_detail(WS, id).await.unwrap();
        let steps: Vec<(&str, &str)> = detail
            .steps
            .iter()
            .map(|s| (s.step_id.as_str(), s.status.as_str()))
            .collect();
        assert_eq!(steps, [("first", "passed"), ("second", "passed")]);
        assert_eq!(detail.steps[0].phase.as_deref(), Some("main"));
        assert_eq!(
            detail.steps[0].response.as_ref().unwrap()["status"],
            json!(200)
        );

        let events = events(&store, id).await;
        assert_eq!(
            event_names(&events),
            [
                "execution.started",
                "step.started:first",
                "step.completed:first",
                "step.started:second",
                "step.completed:second",
                "execution.completed",
            ]
        );
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
        assert_eq!(
            events[0].data,
            json!({"flow_name": "two calls", "total_steps": 2, "attempt": 1})
        );
        assert_eq!(events[1].data["step_name"], "First call");
        assert_eq!(events[1].data["phase"], "main");
        assert_eq!(events[1].data["action"], "http_request");
        assert_eq!(events[2].data["status"], "passed");
        assert!(events[2].data["duration_ms"].is_u64());
        let done = &events[5].data;
        assert_eq!(
            (
                &done["passed_steps"],
                &done["failed_steps"],
                &done["total_steps"]
            ),
            (&json!(2), &json!(0), &json!(2))
        );
    }
    assert_eq!(target.hits("first"), 6);
    assert_eq!(target.hits("second"), 6);
    running.stop().await;
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}

/// Variables, lowest first: the flow's `env:`, the environment (enabled variables only), the run's
/// own. Secret values reach the target and are masked in everything stored.
async fn environment_secrets_are_used_and_masked(db: &TestDb) {
    let store = db.open().await;
    let target = Target::start(TargetOptions::default()).await;
    let secret = "s3cr3t-token-4711";
    let variable = |key: &str, value: &str, is_secret: bool, enabled: bool| Variable {
        key: key.into(),
        value: value.into(),
        description: None,
        is_secret,
        enabled,
    };
    store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "staging".into(),
                variables: vec![
                    variable("BASE", &target.base_url, false, true),
                    variable("TOKEN", secret, true, true),
                    variable("GREETING", "from the environment", false, true),
                    variable("COLOR", "blue", false, true),
                    variable("OFF", "should not be used", false, false),
                ],
                ..EnvironmentInput::default()
            },
        )
        .await
        .unwrap();
    let flow = create_flow(
        &store,
        r#"name: uses secrets
env: {GREETING: from the flow, COLOR: red, SHAPE: round}
steps:
  - id: send
    action: http_request
    config:
      method: POST
      url: ${BASE}/echo
      headers: {X-Token: "${TOKEN}"}
      body: {token: "${TOKEN}", greeting: "${GREETING}", color: "${COLOR}", shape: "${SHAPE}", off: "${OFF:unset}"}
    assert:
      - status == 200
      - body.body.greeting == 'from the run'
      - body.body.color == 'blue'
      - body.body.shape == 'round'
      - body.body.off == 'unset'
    output:
      token: body.body.token
"#,
    )
    .await;
    let context = RunContext {
        environment: Some("staging".into()),
        variables: json!({"GREETING": "from the run"}),
        ..RunContext::for_flow(WS, &flow, None, Trigger::Api)
    };
    let id = store.enqueue_execution(&context).await.unwrap().id;
    let running = Running::start(db.open().await, options(1));
    let execution = wait_final(&store, &id).await;
    running.stop().await;
    assert_eq!(
        execution.status,
        ExecutionStatus::Completed,
        "{:?}",
        execution.error
    );
    assert_eq!(target.hits("echo"), 1);
    let detail = store.get_execution_detail(WS, &id).await.unwrap();
    let send = &detail.steps[0];
    // The target got the real value (it echoed it back), and what is stored is masked.
    let response = send.response.as_ref().unwrap();
    assert_eq!(response["body"]["body"]["token"], "****");
    assert_eq!(response["body"]["headers"]["x-token"], "****");
    assert_eq!(send.outputs.as_ref().unwrap()["token"], "****");
    let stored = serde_json::to_string(&detail).unwrap();
    assert!(!stored.contains(secret), "{stored}");
    let logged = serde_json::to_string(&events(&store, &id).await).unwrap();
    assert!(!logged.contains(secret), "{logged}");
}

async fn executions_that_cannot_run_fail_with_the_reason(db: &TestDb) {
    let store = db.open().await;
    let flow = create_flow(
        &store,
        "name: lonely\nsteps:\n  - {id: a, action: log, config: {message: hi}}\n",
    )
    .await;
    let context = RunContext {
        environment: Some("nowhere".into()),
        ..RunContext::for_flow(WS, &flow, None, Trigger::Api)
    };
    let id = store.enqueue_execution(&context).await.unwrap().id;
    let running = Running::start(db.open().await, options(1));
    let execution = wait_final(&store, &id).await;
    running.stop().await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(
        execution.error.as_deref(),
        Some("environment `nowhere` does not exist")
    );
    assert_eq!(execution.total_steps, 0);
    let events = events(&store, &id).await;
    assert_eq!(event_names(&events), ["execution.failed"]);
    assert_eq!(
        events[0].data["error"],
        "environment `nowhere` does not exist"
    );
}
