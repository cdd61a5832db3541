//! `testmesh contract verify` and `testmesh contract diff` as users run them: exit codes, output
//! and reports, against a real provider on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use axum::routing::{get, post};
use axum::{Json, Router};
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json};

fn testmesh() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A provider on its own thread: `GET /users/{id}` answers a user (the id as a string when
/// `broken`), `POST /_state` records state changes.
fn provider(broken: bool) -> (String, Arc<Mutex<Vec<Value>>>) {
    let states = Arc::new(Mutex::new(Vec::new()));
    let recorded = states.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new()
                .route(
                    "/users/{id}",
                    get(
                        move |axum::extract::Path(id): axum::extract::Path<String>| async move {
                            let id = if broken {
                                json!(id)
                            } else {
                                json!(id.parse::<i64>().unwrap())
                            };
                            Json(json!({"id": id, "name": "Alice"}))
                        },
                    ),
                )
                .route(
                    "/_state",
                    post(move |Json(body): Json<Value>| async move {
                        recorded.lock().unwrap().push(body);
                        Json(json!({"id": 42}))
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (format!("http://{}", rx.recv().unwrap()), states)
}

fn pact(response_rules: Value, pending: bool) -> Value {
    json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": [{
            "type": "Synchronous/HTTP", "description": "get a user", "pending": pending,
            "providerStates": [{"name": "a user exists", "params": {"id": 42}}],
            "request": {"method": "GET", "path": "/users/1",
                        "generators": {"path": {"type": "ProviderState", "expression": "/users/${id}"}}},
            "response": {"status": 200,
                         "body": {"content": {"id": 42, "name": "Alice"}, "contentType": "application/json", "encoded": false},
                         "matchingRules": {"body": response_rules}}
        }],
        "metadata": {"pactSpecification": {"version": "4.0"}}
    })
}

fn write(dir: &tempfile::TempDir, name: &str, value: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, value).unwrap();
    path
}

fn integer_id() -> Value {
    json!({"$.id": {"matchers": [{"match": "integer"}]}})
}

#[test]
fn verify_passes_against_a_correct_provider_and_writes_junit() {
    let (base, states) = provider(false);
    let dir = tempfile::tempdir().unwrap();
    let pact_path = write(
        &dir,
        "web-users.json",
        &pact(integer_id(), false).to_string(),
    );
    let junit = dir.path().join("reports/pact.xml");
    testmesh()
        .args(["contract", "verify"])
        .arg(&pact_path)
        .args(["--provider-base-url", &base])
        .args(["--state-change-url", &format!("{base}/_state")])
        .arg("--state-change-teardown")
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(0)
        .stdout(contains("✓ get a user (given a user exists)"))
        .stdout(contains("1 interaction against"))
        .stdout(contains("1 passed"));
    assert_eq!(
        *states.lock().unwrap(),
        vec![
            json!({"state": "a user exists", "params": {"id": 42}, "action": "setup"}),
            json!({"state": "a user exists", "params": {"id": 42}, "action": "teardown"}),
        ]
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"get a user (given a user exists)\""),
        "{xml}"
    );
}

#[test]
fn verify_exits_1_with_expected_vs_actual_against_a_broken_provider() {
    let (base, _) = provider(true);
    let dir = tempfile::tempdir().unwrap();
    let pact_path = write(
        &dir,
        "web-users.json",
        &pact(integer_id(), false).to_string(),
    );
    testmesh()
        .args(["contract", "verify"])
        .arg(&pact_path)
        .args(["--provider-base-url", &base])
        .args(["--state-change-url", &format!("{base}/_state")])
        .assert()
        .code(1)
        .stdout(contains("✗ get a user"))
        .stdout(contains("$.id: expected an integer, got string \"42\""))
        .stdout(contains(format!("request:  GET {base}/users/42")))
        .stdout(contains("0 passed, 1 failed"));

    // A pending interaction reports the same failure without failing the run.
    let pending = write(&dir, "pending.json", &pact(integer_id(), true).to_string());
    testmesh()
        .args(["contract", "verify"])
        .arg(&pending)
        .args(["--provider-base-url", &base])
        .args(["--state-change-url", &format!("{base}/_state")])
        .assert()
        .code(0)
        .stdout(contains("pending, does not fail the run"))
        .stdout(contains("1 pending"));

    // --json: the whole report, nothing else on stdout.
    let output = testmesh()
        .args(["contract", "verify"])
        .arg(&pact_path)
        .args(["--provider-base-url", &base, "--json"])
        .args(["--state-change-url", &format!("{base}/_state")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(
        report["pacts"][0]["interactions"][0]["mismatches"][0]["path"],
        "$.id"
    );
}

#[test]
fn verify_reports_an_unreachable_state_change_url_per_interaction() {
    let (base, _) = provider(false);
    let dir = tempfile::tempdir().unwrap();
    let pact_path = write(
        &dir,
        "web-users.json",
        &pact(integer_id(), false).to_string(),
    );
    testmesh()
        .args(["contract", "verify"])
        .arg(&pact_path)
        .args(["--provider-base-url", &base])
        .args(["--state-change-url", "http://127.0.0.1:9/_state"])
        .assert()
        .code(1)
        .stdout(contains("provider state 'a user exists' setup failed"))
        .stdout(contains("Connection refused"))
        .stdout(contains("1 error"));
}

#[test]
fn verify_rejects_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let malformed = write(
        &dir,
        "broken.json",
        "{\"consumer\": {\"name\": \"web\"},\n  \"provider\": \n}",
    );
    testmesh()
        .args(["contract", "verify"])
        .arg(&malformed)
        .args(["--provider-base-url", "http://localhost:1"])
        .assert()
        .code(2)
        .stderr(contains("broken.json:3:1: malformed JSON: expected value"))
        .stderr(contains("^ here"));
    let invalid = write(
        &dir,
        "invalid.json",
        &json!({"consumer": {"name": "web"}, "provider": {"name": "users"},
                "interactions": [{"type": "Synchronous/HTTP", "description": "x",
                                  "request": {"method": 1, "path": "/"}, "response": {"status": 200}}]})
        .to_string(),
    );
    testmesh()
        .args(["contract", "verify"])
        .arg(&invalid)
        .args(["--provider-base-url", "http://localhost:1"])
        .assert()
        .code(2)
        .stderr(contains(
            "invalid.json: invalid pact: interactions[0].request.method: expected a string",
        ));
    let good = write(&dir, "good.json", &pact(integer_id(), false).to_string());
    testmesh()
        .args(["contract", "verify"])
        .arg(&good)
        .args(["--provider-base-url", "localhost:8080"])
        .assert()
        .code(2)
        .stderr(contains("provider base URL: invalid URL 'localhost:8080'"));
    testmesh()
        .args(["contract", "verify"])
        .arg(&good)
        .args([
            "--provider-base-url",
            "http://localhost:1",
            "--filter-description",
            "(",
        ])
        .assert()
        .code(2)
        .stderr(contains("--filter-description"));
    testmesh()
        .args(["contract", "verify"])
        .arg(dir.path().join("missing.json"))
        .args(["--provider-base-url", "http://localhost:1"])
        .assert()
        .code(2)
        .stderr(contains("cannot read"));
}

#[test]
fn diff_exits_1_on_breaking_changes_and_0_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(&dir, "old.json", &pact(integer_id(), false).to_string());
    let mut changed = pact(integer_id(), false);
    changed["interactions"][0]["response"]["body"]["content"] =
        json!({"id": 42, "fullName": "Alice"});
    let new = write(&dir, "new.json", &changed.to_string());
    testmesh()
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(contains(
            "✗ breaking response.body $.name: field removed (was string)",
        ))
        .stdout(contains(
            "· info     response.body $.fullName: new field (string)",
        ))
        .stdout(contains("2 changes: 1 breaking, 0 warnings, 1 info"));
    testmesh()
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&old)
        .assert()
        .code(0)
        .stdout(contains("no changes"));
    let output = testmesh()
        .args(["contract", "diff", "--json"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["diff"]["summary"]["breaking"], 1);
    assert_eq!(
        document["diff"]["changes"][0]["rule"],
        "response_field_removed"
    );
    assert_eq!(document["diff"]["changes"][0]["path"], "$.name");

    let mut other = pact(integer_id(), false);
    other["provider"]["name"] = json!("orders");
    let other = write(&dir, "other.json", &other.to_string());
    testmesh()
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&other)
        .assert()
        .code(2)
        .stderr(contains("different parties"));
}

#[test]
fn diff_checks_the_new_pact_against_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(&dir, "old.json", &pact(integer_id(), false).to_string());
    let spec = write(
        &dir,
        "users.yaml",
        "openapi: 3.0.3\ninfo: {title: Users, version: '1'}\npaths:\n  /users/{id}:\n    get:\n      operationId: getUser\n      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: object, required: [id], properties: {id: {type: string}}}\n",
    );
    testmesh()
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&old)
        .arg("--openapi")
        .arg(&spec)
        .assert()
        .code(1)
        .stdout(contains("checked against"))
        .stdout(contains("✗ breaking openapi $.id: the expected response does not match getUser's schema for 200"))
        .stdout(contains("[openapi_response_invalid]"));
    let bad_spec = write(&dir, "bad.yaml", "openapi: [\n");
    testmesh()
        .args(["contract", "diff"])
        .arg(&old)
        .arg(&old)
        .arg("--openapi")
        .arg(&bad_spec)
        .assert()
        .code(2)
        .stderr(contains("bad.yaml"));
}

#[test]
fn help_teaches_with_examples() {
    testmesh()
        .args(["contract", "verify", "--help"])
        .assert()
        .code(0)
        .stdout(contains("--state-change-url"))
        .stdout(contains("Examples:"))
        .stdout(contains("\"action\": \"setup\"").or(contains("\"action\":")));
    testmesh()
        .args(["contract", "diff", "--help"])
        .assert()
        .code(0)
        .stdout(contains("--openapi"))
        .stdout(contains(
            "Exit codes: 0 no breaking change, 1 breaking changes",
        ));
}

#[test]
fn generate_runs_consumer_flows_writes_a_pact_that_verifies_and_exits_1_on_a_failed_flow() {
    let (base, _) = provider(false);
    let dir = tempfile::tempdir().unwrap();
    let flow = write(
        &dir,
        "consumer.yaml",
        r#"
name: web consumer
steps:
  - id: alice
    name: get user 1
    action: http_request
    contract:
      provider_state: a user exists
      matching_rules:
        $.name: type
    config:
      method: GET
      url: "${BASE_URL}/users/1"
      headers: {Accept: application/json, Authorization: "Bearer ${TOKEN}"}
    assert: [status == 200]
  - id: again
    name: get user 1
    action: http_request
    contract: {provider_state: a user exists}
    config: {method: GET, url: "${BASE_URL}/users/1", headers: {Accept: application/json, Authorization: "Bearer ${TOKEN}"}}
"#,
    );
    let out = dir.path().join("pacts/web-users.json");
    testmesh()
        .args([
            "contract",
            "generate",
            "--consumer",
            "web",
            "--provider",
            "users",
        ])
        .arg(&flow)
        .args([
            "--var",
            &format!("BASE_URL={base}"),
            "--secret",
            "TOKEN=t0p-s3cret",
        ])
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(contains("wrote"))
        .stdout(contains("1 interaction(s) from 2 request(s)"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("t0p-s3cret"), "{text}");
    let pact: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(pact["metadata"]["pactSpecification"]["version"], "4.0");
    let interaction = &pact["interactions"][0];
    assert_eq!(interaction["type"], "Synchronous/HTTP");
    assert_eq!(interaction["description"], "get user 1");
    assert_eq!(interaction["providerStates"][0]["name"], "a user exists");
    assert_eq!(
        interaction["response"]["matchingRules"]["body"]["$.id"]["matchers"][0]["match"],
        "integer"
    );
    // Our own verifier passes it against the same provider, and fails a broken one.
    testmesh()
        .args(["contract", "verify"])
        .arg(&out)
        .args(["--provider-base-url", &base])
        .assert()
        .code(0);
    let (broken, _) = provider(true);
    testmesh()
        .args(["contract", "verify"])
        .arg(&out)
        .args(["--provider-base-url", &broken])
        .assert()
        .code(1)
        .stdout(contains("$.id"));

    // A failing flow writes nothing and exits 1.
    let failing = write(
        &dir,
        "failing.yaml",
        "name: failing\nsteps:\n  - action: http_request\n    config: {method: GET, url: \"${BASE_URL}/users/1\"}\n    assert: [status == 500]\n",
    );
    let out2 = dir.path().join("never.json");
    testmesh()
        .args([
            "contract",
            "generate",
            "--consumer",
            "web",
            "--provider",
            "users",
        ])
        .arg(&failing)
        .args(["--var", &format!("BASE_URL={base}"), "-o"])
        .arg(&out2)
        .assert()
        .code(1)
        .stderr(contains("no pact was written"));
    assert!(!out2.exists());
}
