//! `testmesh contract import|export|list|can-i-deploy` and `verify --contract` over a local SQLite
//! store, through the real binary, against a real provider on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::Path;

use assert_cmd::Command;
use axum::routing::get;
use axum::{Json, Router};
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json};

fn testmesh(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1")
        .env_remove("TESTMESH_DATABASE_URL")
        .current_dir(dir);
    cmd
}

/// A provider answering `GET /users/1` with `{"id": 1}`.
fn provider() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new().route("/users/1", get(|| async { Json(json!({"id": 1})) }));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// A V2 pact of `web` → `users` expecting `GET /users/1` to answer `status`.
fn pact(status: u16) -> Value {
    json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": [{
            "description": "get a user", "providerState": "user 1 exists",
            "request": {"method": "GET", "path": "/users/1"},
            "response": {"status": status, "body": {"id": 1}}
        }],
        "metadata": {"pactSpecification": {"version": "2.0.0"}}
    })
}

fn imported_id(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    text.trim().rsplit(' ').next().unwrap().to_string()
}

#[test]
fn contracts_are_imported_exported_verified_and_gate_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let base = provider();
    std::fs::write(dir.path().join("good.json"), pact(200).to_string()).unwrap();
    std::fs::write(dir.path().join("bad.json"), pact(201).to_string()).unwrap();
    let mut broken = pact(200);
    broken["interactions"][0]["request"]["method"] = json!(5);
    std::fs::write(dir.path().join("broken.json"), broken.to_string()).unwrap();

    // A malformed pact: exit 2, its path named, nothing stored.
    testmesh(dir.path())
        .args([
            "contract",
            "import",
            "good.json",
            "broken.json",
            "--version",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(contains("interactions[0].request.method"));
    testmesh(dir.path())
        .args(["contract", "list"])
        .assert()
        .success()
        .stdout(contains("no contracts stored"));

    let out = testmesh(dir.path())
        .args(["contract", "import", "good.json", "--version", "1"])
        .assert()
        .success()
        .stdout(contains("web → users 1 (1 interactions)"))
        .get_output()
        .stdout
        .clone();
    let good = imported_id(&out);
    let out = testmesh(dir.path())
        .args(["contract", "import", "bad.json", "--version", "2"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let bad = imported_id(&out);

    testmesh(dir.path())
        .args(["contract", "list"])
        .assert()
        .success()
        .stdout(contains("CONSUMER").and(contains("unverified")));

    // Export: genuine V4, imported from V2.
    testmesh(dir.path())
        .args(["contract", "export", &good, "-o", "out/web-users.json"])
        .assert()
        .success();
    let exported: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/web-users.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(exported["metadata"]["pactSpecification"]["version"], "4.0");
    assert_eq!(exported["interactions"][0]["type"], "Synchronous/HTTP");
    assert_eq!(
        exported["interactions"][0]["providerStates"][0]["name"],
        "user 1 exists"
    );
    testmesh(dir.path())
        .args(["contract", "export", "00000000-0000-0000-0000-00000000abcd"])
        .assert()
        .code(2)
        .stderr(contains("not found"));

    // Not verified yet; unknown pacticipant.
    testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "web",
            "--version",
            "1",
        ])
        .assert()
        .code(1)
        .stdout(contains("never verified").and(contains("can I deploy web 1? no")));
    testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "nobody",
            "--version",
            "1",
        ])
        .assert()
        .code(1)
        .stdout(contains("unknown pacticipant"));

    // Verify the stored contracts; the results are stored.
    testmesh(dir.path())
        .args([
            "contract",
            "verify",
            "--contract",
            &good,
            "--provider-version",
            "p1",
            "--provider-base-url",
            &base,
        ])
        .assert()
        .success()
        .stderr(contains("stored verification"));
    testmesh(dir.path())
        .args([
            "contract",
            "verify",
            "--contract",
            &bad,
            "--provider-version",
            "p1",
            "--provider-base-url",
            &base,
        ])
        .assert()
        .code(1);
    testmesh(dir.path())
        .args([
            "contract",
            "verify",
            "--contract",
            &good,
            "--provider-base-url",
            &base,
        ])
        .assert()
        .code(2);

    testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "web",
            "--version",
            "1",
        ])
        .assert()
        .success()
        .stdout(contains("verified against users p1").and(contains("? yes")));
    testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "web",
            "--version",
            "1",
            "--provider-version",
            "p2",
        ])
        .assert()
        .code(1)
        .stdout(contains("not verified against users p2"));
    let out = testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "web",
            "--version",
            "2",
            "--json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let verdict: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(verdict["deployable"], false);
    assert!(
        verdict["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("failed")
    );
    // The provider: web's latest contract (version 2) failed against p1.
    testmesh(dir.path())
        .args([
            "contract",
            "can-i-deploy",
            "--pacticipant",
            "users",
            "--version",
            "p1",
        ])
        .assert()
        .code(1);
    testmesh(dir.path())
        .args(["contract", "list", "--json"])
        .assert()
        .success()
        .stdout(contains("\"status\": \"failed\""));
}
