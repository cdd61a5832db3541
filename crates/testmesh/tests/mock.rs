//! Mock servers through the `testmesh` binary: flows that start them, `testmesh mock serve` (hot
//! reload, OpenAPI), `mock record` and `mock validate`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use testmesh_test::Running;

fn testmesh() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/testmesh-flows")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn the_fixture_mock_flow_passes_end_to_end() {
    testmesh()
        .args(["run", "--no-store"])
        .arg(fixtures().join("mock-server-example.yaml"))
        .assert()
        .code(0)
        .stdout(contains("1 passed, 0 failed"))
        .stdout(contains("✓ Stop mock API server"));
}

#[test]
fn the_contract_fixture_passes_end_to_end() {
    // A mock provider, consumer steps against it, a contract generated from them and verified
    // against the same mock.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.json");
    testmesh()
        .args(["run", "--no-store"])
        .arg(fixtures().join("contract-simple-example.yaml"))
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .assert()
        .code(0)
        .stdout(contains("✓ Generate Pact contract contract_generate"))
        .stdout(contains("✓ Verify provider contract_verify"))
        .stdout(contains("✓ Stop mock provider mock_server_stop"))
        .stdout(contains("1 passed, 0 failed"));
    let text = std::fs::read_to_string(&report).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = json
        .pointer("/flows/0/steps")
        .or_else(|| json.pointer("/executions/0/steps"));
    let text = steps.map_or(text.clone(), |s| s.to_string());
    assert!(text.contains("\"status\":\"generated\""), "{text}");
    assert!(text.contains("All 3 interactions passed"), "{text}");
}

#[test]
fn the_mock_examples_run_and_validate() {
    testmesh()
        .args(["run", "--no-store"])
        .arg(examples().join("mocks"))
        .assert()
        .code(0)
        .stdout(contains("users-api.yaml: a mock file, not a flow; skipped"))
        .stdout(contains("1 passed, 0 failed"));
    testmesh()
        .args(["mock", "validate"])
        .arg(examples().join("mocks/users-api.yaml"))
        .assert()
        .code(0)
        .stdout(contains("1 mock(s), 6 endpoint(s)"));
}

#[test]
fn mock_validate_and_serve_report_bad_files_at_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\nendpoints:\n  - path: /x\n    match:\n      path_pattern: \"^/x([\"\n",
    )
    .unwrap();
    let shown = format!("{}:5:", bad.display());
    testmesh()
        .args(["mock", "validate"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains(shown.as_str()))
        .stderr(contains("endpoints[0].match.path_pattern"));
    testmesh()
        .args(["mock", "serve", "--no-watch"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains(shown.as_str()))
        .stderr(contains("nothing is served"));
    // `testmesh validate` recognises mock files and checks them as mocks.
    testmesh()
        .arg("validate")
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(contains("endpoints[0].match.path_pattern"));
    testmesh()
        .args(["mock", "serve", "--openapi"])
        .arg(dir.path().join("missing.yaml"))
        .assert()
        .code(2)
        .stderr(contains("missing.yaml"));
}

#[test]
fn mock_help_teaches() {
    testmesh()
        .args(["mock", "serve", "--help"])
        .assert()
        .code(0)
        .stdout(
            contains("--openapi")
                .and(contains("Examples:"))
                .and(contains("--no-watch")),
        );
    testmesh()
        .args(["mock", "record", "--help"])
        .assert()
        .code(0)
        .stdout(contains("--target").and(contains("--save-to")));
}

/// `testmesh ARGS` started in `cwd`, its output read line by line.
fn start(args: &[&str], cwd: &Path) -> Running {
    Running::start(env!("CARGO_BIN_EXE_testmesh"), args, cwd)
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn mock_serve_reloads_changed_files_in_place_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api.yaml");
    let write = |text: &str| std::fs::write(&file, text).unwrap();
    write(
        "mocks:\n  - name: one\n    endpoints:\n      - {path: /v, response: {body: {v: 1}}}\n  - name: two\n    endpoints: []\n",
    );
    let mut serve = start(&["mock", "serve", "api.yaml"], dir.path());
    let one = serve.url_of("one");
    let two = serve.url_of("two");
    assert_ne!(one, two);
    serve.wait_for("Watching 1 file(s)");
    assert_eq!(get(&format!("{one}/v")).await, (200, r#"{"v":1}"#.into()));

    // Changed endpoints are served on the same port.
    tokio::time::sleep(Duration::from_millis(1100)).await; // a different mtime on coarse clocks
    write(
        "mocks:\n  - name: one\n    endpoints:\n      - {path: /v, response: {body: {v: 2}}}\n  - name: two\n    endpoints: []\n",
    );
    serve.wait_for("reloaded api.yaml: one now has 1 endpoint(s)");
    assert_eq!(get(&format!("{one}/v")).await, (200, r#"{"v":2}"#.into()));

    // A file that no longer loads is reported; the mocks keep serving.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    write("mocks:\n  - name: one\n    endpoints:\n      - {path: /v, respnse: {}}\n");
    let error = serve.wait_for("api.yaml:4:");
    assert!(error.contains("respnse"), "{error}");
    serve.wait_for("not reloaded");
    assert_eq!(get(&format!("{one}/v")).await, (200, r#"{"v":2}"#.into()));

    let (code, output) = serve.terminate();
    assert_eq!(code, 0, "{}", output.join("\n"));
    assert!(output.iter().any(|l| l == "Stopped."));
    assert!(reqwest::get(format!("{one}/v")).await.is_err());
}

#[tokio::test]
async fn mock_serve_openapi_answers_examples_and_rejects_invalid_requests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pets.yaml"),
        r#"openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "http://example.com/v1"}]
paths:
  /pets/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              example: {id: 1, name: Rex}
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties: {name: {type: string}}
      responses:
        "201": {description: created}
"#,
    )
    .unwrap();
    let mut serve = start(&["mock", "serve", "--openapi", "pets.yaml"], dir.path());
    let base = serve.url_of("pets");
    assert_eq!(
        get(&format!("{base}/v1/pets/1")).await,
        (200, r#"{"id":1,"name":"Rex"}"#.into())
    );
    let (status, body) = get(&format!("{base}/v1/pets/abc")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("id"), "{body}");
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/pets"))
        .header("content-type", "application/json")
        .body(r#"{"nom": "Rex"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body = response.text().await.unwrap();
    assert!(body.contains("name"), "{body}");
    let (code, _) = serve.terminate();
    assert_eq!(code, 0);
}

#[tokio::test]
async fn mock_record_saves_exchanges_that_serve_plays_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("real.yaml"),
        "name: real\nendpoints:\n  - {path: /users/1, response: {body: {id: 1, name: Alice}}}\n",
    )
    .unwrap();
    let mut real = start(&["mock", "serve", "--no-watch", "real.yaml"], dir.path());
    let target = real.url_of("real");

    let mut record = start(
        &[
            "mock",
            "record",
            "--target",
            &target,
            "--save-to",
            "recorded.yaml",
        ],
        dir.path(),
    );
    let line = record.wait_for("Recording");
    let at = line
        .split_whitespace()
        .filter(|w| w.starts_with("http"))
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(
        get(&format!("{at}/users/1")).await,
        (200, r#"{"id":1,"name":"Alice"}"#.into())
    );
    record.wait_for("saved   GET /users/1 → 200");
    let (code, output) = record.terminate();
    assert_eq!(code, 0, "{}", output.join("\n"));
    assert!(output.iter().any(|l| l.contains("1 exchange(s) saved")));
    let _ = real.terminate();

    let mut playback = start(
        &["mock", "serve", "--no-watch", "recorded.yaml"],
        dir.path(),
    );
    let base = playback.url_of("recording");
    let (status, body) = get(&format!("{base}/users/1")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"id": 1, "name": "Alice"})
    );
    let _ = playback.terminate();
}
