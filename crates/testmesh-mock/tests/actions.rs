//! The mock-server flow actions, run by the real executor over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use testmesh_mock::{HubConfig, MockHub};
use testmesh_runner::{
    FlowLibrary, FlowRecord, FlowStatus, NoEvents, RunOptions, Runner, Secrets, StepStatus, actions,
};

fn hub() -> Arc<MockHub> {
    Arc::new(MockHub::new(HubConfig::default()))
}

fn runner(hub: &Arc<MockHub>) -> Runner {
    let mut registry = actions::builtin();
    testmesh_mock::actions::register(&mut registry, hub.clone());
    Runner::new(
        registry,
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    )
}

async fn run_at(hub: &Arc<MockHub>, yaml: &str, path: Option<&Path>) -> FlowRecord {
    let loaded = testmesh_flow::load_str(yaml);
    let errors: Vec<String> = loaded.errors().map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "flow does not load: {errors:#?}");
    runner(hub)
        .run(&loaded.flow.unwrap(), path, &RunOptions::default())
        .await
}

async fn run(hub: &Arc<MockHub>, yaml: &str) -> FlowRecord {
    run_at(hub, yaml, None).await
}

fn failures(record: &FlowRecord) -> String {
    record
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .map(|s| {
            format!(
                "{}: {}",
                s.id,
                s.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_passed(record: &FlowRecord) {
    assert_eq!(
        record.status,
        FlowStatus::Passed,
        "{}\n{:?}",
        failures(record),
        record.error
    );
}

fn step<'a>(record: &'a FlowRecord, id: &str) -> &'a testmesh_runner::StepRecord {
    record.steps.iter().find(|s| s.id == id).unwrap()
}

/// Waits until nothing listens on `port` any more.
async fn wait_closed(port: u16) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn start_call_configure_verify_reset_and_stop_by_name() {
    let hub = hub();
    let record = run(
        &hub,
        r#"
name: mock actions
steps:
  - id: users
    action: mock_server_start
    config:
      state: {visits: 0}
      endpoints:
        - path: /users/:id
          method: GET
          response:
            status: 200
            body: {id: "{{path.id}}", visits: "{{state.visits}}"}
            state_changes: [{action: increment, path: visits}]
        - path: /users
          method: POST
          response: {status: 201, body: {name: "{{request.body.name}}"}}
  - id: get
    action: http_request
    config: {method: GET, url: "${users.base_url}/users/7"}
    assert: [status == 200, body.id == "7", body.visits == 1]
  - id: create
    action: http_request
    config:
      method: POST
      url: "${users.base_url}/users"
      headers: {X-Team: blue}
      body: {name: Alice}
    assert: [status == 201, body.name == "Alice"]
  - id: change
    action: mock_server_configure
    config:
      server: users
      endpoints:
        - path: /users/:id
          method: GET
          response: {status: 410, body: {gone: true}}
        - path: /health
          response: {body: {ok: true}}
    assert: [endpoints_added == 1, endpoints_replaced == 1, endpoints == 3]
  - id: gone
    action: http_request
    config: {method: GET, url: "${users.base_url}/users/7"}
    assert: [status == 410]
  - id: health
    action: http_request
    config: {method: GET, url: "${users.base_url}/health"}
    assert: [status == 200, body.ok == true]
  - id: verify
    action: mock_server_verify
    config:
      server_id: "${users.server_id}"
      assertions:
        - {method: GET, path: "/users/:id", count: 2}
        - {method: POST, path: /users, count_min: 1, headers: {X-Team: blue}, body_matches: ['body.name == "Alice"']}
        - {path: /nothing, count_max: 0}
    assert: [passed == true, checked == 3]
  - id: verify_inline
    action: mock_server_verify
    config: {server: users, method: GET, path: /health, count: 1}
  - id: reset
    action: mock_server_reset_state
    config: {server: users}
    assert: [state.visits == 0]
  - id: replace_state
    action: mock_server_reset_state
    config: {server: users, state: {visits: 41, mode: x}}
    assert: [state.visits == 41, state.mode == "x"]
  - id: stop
    action: mock_server_stop
    config: {server: users}
    assert: [status == "stopped", name == "users"]
"#,
    )
    .await;
    assert_passed(&record);
    // The name defaults to the step id; the server is gone after the stop.
    let result = step(&record, "users").result.clone().unwrap();
    assert_eq!(result["name"], "users");
    assert_eq!(result["status"], "running");
    assert!(
        result["base_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(hub.list().is_empty());
    assert!(wait_closed(result["port"].as_u64().unwrap() as u16).await);
}

#[tokio::test]
async fn replace_true_replaces_every_endpoint_and_update_upserts_one() {
    let hub = hub();
    let record = run(
        &hub,
        r#"
name: replace
steps:
  - id: m
    action: mock_server_start
    config:
      name: replace-me
      endpoints:
        - {path: /a, response: {body: {v: a}}}
        - {path: /b, response: {body: {v: b}}}
  - id: replace
    action: mock_server_configure
    config:
      server: replace-me
      replace: true
      endpoints: [{path: /c, response: {body: {v: c}}}]
    assert: [endpoints == 1]
  - id: a_gone
    action: http_request
    config: {method: GET, url: "${m.base_url}/a"}
    assert: [status == 404]
  - id: update
    action: mock_server_update
    config:
      server: replace-me
      endpoint: {path: /c, response: {status: 202, body: {v: c2}}}
    assert: [endpoints_replaced == 1, endpoints == 1]
  - id: c
    action: http_request
    config: {method: GET, url: "${m.base_url}/c"}
    assert: [status == 202, body.v == "c2"]
"#,
    )
    .await;
    assert_passed(&record);
}

#[tokio::test]
async fn a_failed_verify_shows_expected_actual_and_near_misses() {
    let hub = hub();
    let record = run(
        &hub,
        r#"
name: verify fails
steps:
  - id: api
    action: mock_server_start
    config:
      endpoints:
        - {path: /orders, method: POST, response: {status: 201}}
  - id: post
    action: http_request
    config:
      method: POST
      url: "${api.base_url}/orders"
      headers: {X-Api-Key: wrong}
      body: {qty: 1}
  - id: verify
    action: mock_server_verify
    config:
      server: api
      method: POST
      path: /orders
      count: 2
      headers: {X-Api-Key: k-1}
      body_matches: ["body.qty > 5"]
"#,
    )
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    let verify = step(&record, "verify");
    let error = verify.error.as_ref().unwrap();
    assert_eq!(error.kind, testmesh_runner::ErrorKind::Assertion);
    let text = &error.message;
    for needle in [
        "1 of 1 mock assertion(s) failed on mock server `api`",
        "expected: exactly 2 POST /orders request(s) with header X-Api-Key: k-1, `body.qty > 5`",
        "actual:   0",
        "near misses",
        "header x-api-key: expected k-1, got wrong",
        "`body.qty > 5` is false",
        "requests received (1 in all)",
        "POST /orders → 201",
    ] {
        assert!(
            text.to_lowercase().contains(&needle.to_lowercase()),
            "missing {needle:?} in:\n{text}"
        );
    }
}

#[tokio::test]
async fn mocks_stop_when_the_flow_ends_unless_kept_running() {
    let hub = hub();
    let record = run(
        &hub,
        r#"
name: lifetime
steps:
  - id: short
    action: mock_server_start
    config: {endpoints: [{path: /x, response: {body: {ok: true}}}]}
  - id: long
    action: mock_server_start
    config:
      keep_running: true
      endpoints: [{path: /x, response: {body: {ok: true}}}]
  - id: call
    action: http_request
    config: {method: GET, url: "${short.base_url}/x"}
    assert: [status == 200]
"#,
    )
    .await;
    assert_passed(&record);
    let port = |id: &str| {
        step(&record, id).result.as_ref().unwrap()["port"]
            .as_u64()
            .unwrap() as u16
    };
    assert!(
        wait_closed(port("short")).await,
        "the flow's mock still listens after the flow ended"
    );
    assert!(hub.find_by_name("short").is_none());
    let long = hub.find_by_name("long").expect("keep_running mock is gone");
    let body = reqwest::get(format!("{}/x", long.base_url().unwrap()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, r#"{"ok":true}"#);
    hub.stop(long.id()).await.unwrap();
    // A port freed at the flow's end can be bound again at once.
    std::net::TcpListener::bind(("127.0.0.1", port("short"))).unwrap();
}

#[tokio::test]
async fn bad_configs_fail_the_step_with_the_field_named() {
    let hub = hub();
    let record = run(
        &hub,
        r#"
name: bad regex
steps:
  - id: bad
    action: mock_server_start
    config:
      endpoints:
        - path: /x
          match: {path_pattern: "^/x(["}
"#,
    )
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    let message = &step(&record, "bad").error.as_ref().unwrap().message;
    assert!(
        message.contains("endpoints[0].match.path_pattern"),
        "{message}"
    );
    assert!(hub.list().is_empty());

    let record = run(
        &hub,
        r#"
name: bad key and unknown server
steps:
  - id: typo
    action: mock_server_start
    config:
      endpoints: [{path: /x, respons: {status: 200}}]
    continue_on_error: true
"#,
    )
    .await;
    let message = &step(&record, "typo").error.as_ref().unwrap().message;
    assert!(message.contains("endpoints[0]"), "{message}");
    assert!(message.contains("respons"), "{message}");

    let record = run(
        &hub,
        r#"
name: stop twice
steps:
  - id: m
    action: mock_server_start
    config: {endpoints: []}
  - id: stop
    action: mock_server_stop
    config: {server_id: "${m.server_id}"}
  - id: again
    action: mock_server_stop
    config: {server_id: "${m.server_id}"}
"#,
    )
    .await;
    assert_eq!(step(&record, "stop").status, StepStatus::Passed);
    let message = &step(&record, "again").error.as_ref().unwrap().message;
    assert!(message.contains("no running mock server"), "{message}");

    let record = run(
        &hub,
        r#"
name: bad assertion
steps:
  - id: m
    action: mock_server_start
    config: {endpoints: []}
  - id: verify
    action: mock_server_verify
    config: {server: m, assertions: [{path: /x, cont: 1}]}
"#,
    )
    .await;
    let message = &step(&record, "verify").error.as_ref().unwrap().message;
    assert!(message.contains("assertions[0].cont"), "{message}");
    assert!(message.contains("did you mean `count`"), "{message}");
}

#[tokio::test]
async fn from_file_resolves_against_the_flow_and_inline_settings_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::write(
        dir.path().join("mocks/api.yaml"),
        "name: file-api\nstate: {n: 5}\nendpoints:\n  - path: /n\n    response: {body: {n: \"{{state.n}}\"}}\n",
    )
    .unwrap();
    let flow = dir.path().join("flow.yaml");
    let yaml = r#"
name: from file
steps:
  - id: m
    action: mock_server_start
    config:
      from_file: mocks/api.yaml
      state: {n: 9}
      endpoints: [{path: /extra, response: {status: 204}}]
    assert: [name == "file-api", endpoints == 2]
  - id: n
    action: http_request
    config: {method: GET, url: "${m.base_url}/n"}
    assert: [body.n == 9]
  - id: extra
    action: http_request
    config: {method: GET, url: "${m.base_url}/extra"}
    assert: [status == 204]
"#;
    std::fs::write(&flow, yaml).unwrap();
    let hub = hub();
    let record = run_at(&hub, yaml, Some(&flow)).await;
    assert_passed(&record);
}

#[tokio::test]
async fn the_fixture_flow_passes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/testmesh-flows/mock-server-example.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is not here", path.display());
        return;
    };
    let hub = hub();
    let record = run_at(&hub, &text, Some(&path)).await;
    assert_passed(&record);
    assert!(hub.list().is_empty());
}
