//! Compatibility of hosted mocks with the original's seed: `testmesh serve` on PostgreSQL hosts the
//! four service mocks with the seed's fixed ids (defined in tests/fixtures/seed_mocks.yaml and
//! created through the API), the service URLs point at `/mocks/bb…0N` like the seed environment,
//! and `testmesh run` runs the seed flows 01–08 and 10 against them — including the SQL of flows 05
//! and 10 over the `mocks.*` views and flow 10's call to the mock-servers API. Every step passes.
//! (Flow 09 needs Kafka, which is not here.)
//!
//! Needs PostgreSQL (`TESTMESH_TEST_POSTGRES_URL`): fails under `CI` without it, skips otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testmesh_store::DEFAULT_WORKSPACE_ID as WS;
use testmesh_test::{TestDb, test_key_hex};

/// The tables of flow-format.md §11 the seed flows read and write (as in the runner's compat test).
const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT true)",
    "CREATE TABLE orders (external_id TEXT PRIMARY KEY)",
    "CREATE TABLE payment_audit (payment_id TEXT PRIMARY KEY, amount NUMERIC, recorded_at TIMESTAMPTZ)",
    "CREATE TABLE notification_log (order_id TEXT PRIMARY KEY, email_id TEXT, sms_id TEXT, sent_at TIMESTAMPTZ)",
    "INSERT INTO users VALUES ('user-001', 'alice@example.com', true)",
    "INSERT INTO orders VALUES ('order-001')",
];

const FLOWS: &[&str] = &[
    "01_user_registration_e2e.yaml",
    "02_place_order_flow.yaml",
    "03_payment_processing.yaml",
    "04_service_health_checks.yaml",
    "05_database_crud_verification.yaml",
    "06_user_search_pagination.yaml",
    "07_notification_event_flow.yaml",
    "08_ecommerce_checkout.yaml",
    "10_mock_request_audit.yaml",
];

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn testmesh(dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    command
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TESTMESH_ENCRYPTION_KEY", test_key_hex())
        .env_remove("TESTMESH_DATABASE_URL");
    command
}

/// `testmesh serve` on a free port over `database_url`, once it answers; its base URL.
async fn serve(dir: &tempfile::TempDir, database_url: &str) -> (Serve, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = Serve(
        testmesh(dir)
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--database-url",
                database_url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "testmesh serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (serve, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_flows_pass_against_hosted_mocks_with_the_seed_ids() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.open().await;
    let key = store
        .create_api_key(WS, "compat", None)
        .await
        .unwrap()
        .plain;
    store.close().await;
    let dir = tempfile::tempdir().unwrap();

    // The seed tables live in the store's database, beside the `mocks.*` views.
    let mut setup = String::from("name: seed tables\nsteps:\n");
    for statement in SCHEMA {
        setup.push_str(&format!(
            "  - {{action: database_query, config: {{connection: \"{}\", query: \"{statement}\"}}}}\n",
            db.url
        ));
    }
    std::fs::write(dir.path().join("setup.yaml"), setup).unwrap();
    let seeded = testmesh(&dir)
        .args(["run", "setup.yaml", "--no-store"])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stdout)
    );

    let (_serve, base) = serve(&dir, &db.url).await;

    // The four service mocks, created (and started) through the API.
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed_mocks.yaml");
    let client = reqwest::Client::new();
    for definition in testmesh_mock::load::load_file(&fixture).unwrap() {
        let response = client
            .post(format!("{base}/api/v1/mock-servers"))
            .header("X-API-Key", &key)
            .header("content-type", "application/json")
            .body(definition.to_json().to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            body["base_url"],
            format!("{base}/mocks/{}", body["id"].as_str().unwrap())
        );
    }
    // Traffic the audit flow (10) finds unmatched.
    let unmatched = client
        .get(format!(
            "{base}/mocks/bb000000-0000-0000-0000-000000000001/api/nothing-here"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unmatched.status(), 404);

    let flows =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/testmesh-flows");
    let service = |n: u8| format!("{base}/mocks/bb000000-0000-0000-0000-00000000000{n}");
    let vars = [
        ("USER_SERVICE_URL", service(1)),
        ("ORDER_SERVICE_URL", service(2)),
        ("PAYMENT_SERVICE_URL", service(3)),
        ("NOTIFICATION_SERVICE_URL", service(4)),
        ("DB_DSN", db.url.clone()),
        ("TESTMESH_API_URL", base.clone()),
        ("API_KEY", key.clone()),
    ];
    let mut failures = Vec::new();
    for flow in FLOWS {
        let mut command = testmesh(&dir);
        command.args(["run", "--no-store"]).arg(flows.join(flow));
        for (name, value) in &vars {
            command.arg("--var").arg(format!("{name}={value}"));
        }
        let output = command.output().unwrap();
        if !output.status.success() {
            failures.push(format!(
                "{flow} (exit {:?}):\n{}{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // The journal the flows produced is in the store and in the original's view shape.
    let requests = client
        .get(format!(
            "{base}/api/v1/mock-servers/bb000000-0000-0000-0000-000000000001/requests?matched=false"
        ))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let requests: Value = serde_json::from_str(&requests).unwrap();
    assert!(requests["total"].as_i64().unwrap() >= 1, "{requests}");
    // And the flows' own calls went through the mocks (the journal is written in the background).
    let started = Instant::now();
    loop {
        let matched = client
            .get(format!(
                "{base}/api/v1/mock-servers/bb000000-0000-0000-0000-000000000001/requests?matched=true"
            ))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let matched: Value = serde_json::from_str(&matched).unwrap();
        // 01: register and get; 02 and 08: login; 04: health; 06: list, search and get.
        if matched["total"].as_i64().unwrap() >= 8 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{matched}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A flow queued through the API runs on the server's worker: the mock it starts is served at
/// `/mocks/{id}` on the server, stored linked to the execution, and stopped when the run ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_run_by_the_server_host_their_mocks_on_it() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let key = store.create_api_key(WS, "mocks", None).await.unwrap().plain;
    store.close().await;
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(&dir, &db.url).await;
    let client = reqwest::Client::new();
    let api = |path: &str| format!("{base}/api/v1/{path}");
    let flow = r#"name: hosted mock
steps:
  - id: users
    action: mock_server_start
    config:
      endpoints:
        - path: /users/:id
          response: {body: {id: "{{path.id}}"}}
  - id: call
    action: http_request
    config: {method: GET, url: "${users.base_url}/users/7"}
    assert: [status == 200, body.id == "7"]
    output: {served_by: "$.body.id"}
  - id: where
    action: assert
    config:
      data: {url: "${users.base_url}"}
      assertions: ["url starts_with '__BASE__/mocks/'"]
  - id: verify
    action: mock_server_verify
    config: {server: users, path: /users/:id, count: 1}
"#
    .replace("__BASE__", &base);
    let created: Value = client
        .post(api("flows"))
        .header("X-API-Key", &key)
        .header("content-type", "application/yaml")
        .body(flow)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let queued: Value = client
        .post(api("executions"))
        .header("X-API-Key", &key)
        .header("content-type", "application/json")
        .body(serde_json::json!({"flow_id": created["id"]}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let execution = queued["executions"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}\n{queued}"))
        .to_string();
    let started = Instant::now();
    let detail = loop {
        let detail: Value = client
            .get(api(&format!("executions/{execution}")))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        if !matches!(detail["status"].as_str(), Some("pending" | "running")) {
            break detail;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(detail["status"], "completed", "{detail}");

    // Stored with its execution, and stopped once the run ended.
    let started = Instant::now();
    loop {
        let listed: Value = client
            .get(api(&format!("mock-servers?execution_id={execution}")))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        if listed["total"] == 1 && listed["servers"][0]["status"] == "stopped" {
            let id = listed["servers"][0]["id"].as_str().unwrap();
            let gone = client
                .get(format!("{base}/mocks/{id}/users/7"))
                .send()
                .await
                .unwrap();
            assert_eq!(gone.status(), 404);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{listed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
