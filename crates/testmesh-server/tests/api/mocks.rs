//! Mock servers over the API and their traffic through `/mocks/{id}`: lifecycle, endpoints applied
//! live, the stored (masked, capped) journal, state, faults, and restore after a restart.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testmesh_server::MockConfig;
use testmesh_test::TestDb;

use crate::common::{TestServer, test_options};

on_both_backends!(
    mock_servers_live_through_the_api,
    mock_traffic_errors_faults_and_limits,
    the_stored_journal_is_masked_and_capped,
    running_mocks_are_restored_after_a_restart,
    flow_started_mocks_are_linked_to_their_execution_and_stopped_at_its_end,
);

fn users_mock() -> Value {
    json!({
        "name": "users",
        "state": {"counter": 0},
        "endpoints": [
            {
                "id": "get-user",
                "path": "/users/:id",
                "method": "GET",
                "response": {"status": 200, "body": {"id": "{{path.id}}", "seen": "{{state.counter}}"}},
            },
            {
                "id": "count",
                "path": "/count",
                "method": "POST",
                "response": {
                    "status": 201,
                    "body": {"counter": "{{state.counter}}"},
                    "state_changes": [{"action": "increment", "path": "counter"}],
                },
            },
        ],
    })
}

/// A call to a mock (no API key), as status and JSON body.
async fn call(server: &TestServer, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server.client.request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("call the mock");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Polls the stored journal until `want` holds (entries are written in the background).
async fn journal(
    server: &TestServer,
    id: &str,
    query: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let reply = server
            .get(&format!("/api/v1/mock-servers/{id}/requests{query}"))
            .await
            .expect(200);
        if want(&reply.json) {
            return reply.json;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the journal never got there: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn mock_servers_live_through_the_api(db: &TestDb) {
    let server = TestServer::start(db).await;
    // Definition errors name the field.
    let mut bad = users_mock();
    bad["endpoints"][1]["match"] = json!({"path_pattern": "(unclosed"});
    let reply = server
        .post("/api/v1/mock-servers", &bad)
        .await
        .expect_error(422, "invalid_mock");
    assert_eq!(
        reply.json["details"]["errors"][0]["path"], "endpoints[1].match.path_pattern",
        "{}",
        reply.text
    );
    server
        .post("/api/v1/mock-servers", &json!({"endpoints": []}))
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/mock-servers",
            &json!({"name": "x", "endpoints": [{"path": "/f", "response": {"body_from_file": "/etc/passwd"}}]}),
        )
        .await
        .expect_error(422, "invalid_mock");
    // No key, no API.
    let anonymous = server
        .client
        .get(format!("{}/api/v1/mock-servers", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let created = server
        .post("/api/v1/mock-servers", &users_mock())
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    let base = created.json["base_url"].as_str().unwrap().to_string();
    assert_eq!(base, format!("{}/mocks/{id}", server.base));
    assert_eq!(created.json["status"], "running");
    assert_eq!(created.json["running"], true);
    assert_eq!(created.json["endpoint_count"], 2);
    assert_eq!(created.json["endpoints"][0]["id"], "get-user");
    server
        .post("/api/v1/mock-servers", &json!({"id": id, "name": "again"}))
        .await
        .expect_error(409, "conflict");

    let list = server
        .get("/api/v1/mock-servers?status=running")
        .await
        .expect(200);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["servers"][0]["endpoint_count"], 2);
    server
        .get("/api/v1/mock-servers?status=nope")
        .await
        .expect_error(400, "invalid_parameter");

    // Traffic, templated and stateful.
    assert_eq!(
        call(&server, "GET", &format!("{base}/users/7"), None).await,
        (200, json!({"id": "7", "seen": 0}))
    );
    // State changes apply before the body is rendered.
    assert_eq!(
        call(&server, "POST", &format!("{base}/count"), None).await,
        (201, json!({"counter": 1}))
    );
    let state = server
        .get(&format!("/api/v1/mock-servers/{id}/state"))
        .await
        .expect(200);
    assert_eq!(state.json["states"][0]["key"], "counter");

    // Unmatched → one click makes it an endpoint.
    let (status, body) = call(&server, "GET", &format!("{base}/orders/9?x=1"), None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no endpoint matched");
    let unmatched = journal(&server, &id, "?matched=false", |j| j["total"] == 1).await;
    let request = &unmatched["requests"][0];
    assert_eq!(request["path"], "/orders/9");
    assert_eq!(request["query"], json!({"x": "1"}));
    assert!(request["near_misses"].is_array(), "{request}");
    let rid = request["id"].as_str().unwrap();
    let one = server
        .get(&format!("/api/v1/mock-servers/{id}/requests/{rid}"))
        .await
        .expect(200);
    assert_eq!(one.json["matched"], false);
    let endpoint = server
        .post(
            &format!("/api/v1/mock-servers/{id}/requests/{rid}/endpoint"),
            &json!({}),
        )
        .await
        .expect(201);
    assert_eq!(
        (
            endpoint.json["method"].as_str(),
            endpoint.json["path"].as_str()
        ),
        (Some("GET"), Some("/orders/9"))
    );
    assert_eq!(
        call(&server, "GET", &format!("{base}/orders/9"), None).await,
        (200, json!({}))
    );
    let matched = journal(&server, &id, "?matched=true", |j| j["total"] == 3).await;
    assert_eq!(matched["requests"][0]["path"], "/orders/9", "newest first");

    // Endpoint edits apply to the running mock at once.
    let added = server
        .post(
            &format!("/api/v1/mock-servers/{id}/endpoints"),
            &json!({"path": "/health", "response": {"status": 204}}),
        )
        .await
        .expect(201);
    let eid = added.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        call(&server, "GET", &format!("{base}/health"), None)
            .await
            .0,
        204
    );
    server
        .put(
            &format!("/api/v1/mock-servers/{id}/endpoints/{eid}"),
            &json!({"path": "/health", "response": {"status": 200, "body": {"ok": true}}}),
        )
        .await
        .expect(200);
    assert_eq!(
        call(&server, "GET", &format!("{base}/health"), None).await,
        (200, json!({"ok": true}))
    );
    let bad_endpoint = server
        .post(
            &format!("/api/v1/mock-servers/{id}/endpoints"),
            &json!({"path": "/x", "response": {"body": "{{nope.x}}"}}),
        )
        .await
        .expect_error(422, "invalid_mock");
    assert!(
        bad_endpoint.json["details"]["errors"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("response"),
        "{}",
        bad_endpoint.text
    );
    server
        .delete(&format!("/api/v1/mock-servers/{id}/endpoints/{eid}"))
        .await
        .expect(204);
    assert_eq!(
        call(&server, "GET", &format!("{base}/health"), None)
            .await
            .0,
        404
    );
    server
        .delete(&format!("/api/v1/mock-servers/{id}/endpoints/{eid}"))
        .await
        .expect_error(404, "not_found");
    let endpoints = server
        .get(&format!("/api/v1/mock-servers/{id}/endpoints"))
        .await
        .expect(200);
    assert_eq!(endpoints.json["total"], 3);

    // State: set a key (seen at once), delete one, reset.
    server
        .put(
            &format!("/api/v1/mock-servers/{id}/state/counter"),
            &json!({"value": 41}),
        )
        .await
        .expect(200);
    assert_eq!(
        call(&server, "POST", &format!("{base}/count"), None).await,
        (201, json!({"counter": 42}))
    );
    server
        .put(
            &format!("/api/v1/mock-servers/{id}/state/extra"),
            &json!({"state_value": {"a": 1}}),
        )
        .await
        .expect(200);
    server
        .put(
            &format!("/api/v1/mock-servers/{id}/state/extra"),
            &json!({}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .delete(&format!("/api/v1/mock-servers/{id}/state/extra"))
        .await
        .expect(204);
    server
        .delete(&format!("/api/v1/mock-servers/{id}/state/extra"))
        .await
        .expect_error(404, "not_found");
    let reset = server
        .post(
            &format!("/api/v1/mock-servers/{id}/state/reset"),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        reset.json["states"],
        json!([{"key": "counter", "value": 0, "updated_at": reset.json["states"][0]["updated_at"]}])
    );
    assert_eq!(
        call(&server, "GET", &format!("{base}/users/1"), None)
            .await
            .1["seen"],
        0
    );

    // Stop, then start again (the original could not restart a stopped mock).
    let stopped = server
        .post(&format!("/api/v1/mock-servers/{id}/stop"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        (
            stopped.json["status"].as_str(),
            stopped.json["running"].as_bool()
        ),
        (Some("stopped"), Some(false))
    );
    assert_eq!(
        call(&server, "GET", &format!("{base}/users/1"), None).await,
        (404, json!({"error": "mock server not found or stopped"}))
    );
    let started = server
        .post(&format!("/api/v1/mock-servers/{id}/start"), &json!({}))
        .await
        .expect(200);
    assert_eq!(started.json["status"], "running");
    assert_eq!(
        call(&server, "GET", &format!("{base}/orders/9"), None).await,
        (200, json!({}))
    );
    server
        .post(&format!("/api/v1/mock-servers/{id}/start"), &json!({}))
        .await
        .expect_error(409, "already_running");

    // Replace the definition: the running mock serves the new endpoints at once.
    let mut replaced = users_mock();
    replaced["endpoints"] = json!([{"path": "/v2", "response": {"body": {"v": 2}}}]);
    let put = server
        .put(&format!("/api/v1/mock-servers/{id}"), &replaced)
        .await
        .expect(200);
    assert_eq!(put.json["endpoint_count"], 1);
    assert_eq!(
        call(&server, "GET", &format!("{base}/v2"), None).await,
        (200, json!({"v": 2}))
    );
    assert_eq!(
        call(&server, "GET", &format!("{base}/orders/9"), None)
            .await
            .0,
        404
    );

    // Clear the journal, then delete the mock.
    server
        .delete(&format!("/api/v1/mock-servers/{id}/requests"))
        .await
        .expect(204);
    let empty = server
        .get(&format!("/api/v1/mock-servers/{id}/requests"))
        .await
        .expect(200);
    assert_eq!(empty.json["total"], 0);
    server
        .delete(&format!("/api/v1/mock-servers/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/mock-servers/{id}"))
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        call(&server, "GET", &format!("{base}/v2"), None).await.0,
        404
    );
    server
        .get("/api/v1/mock-servers/not-a-uuid")
        .await
        .expect_error(404, "not_found");
}

async fn mock_traffic_errors_faults_and_limits(db: &TestDb) {
    let server = TestServer::start(db).await;
    // A1 errors.
    assert_eq!(
        call(
            &server,
            "GET",
            &format!("{}/mocks/nope/x", server.base),
            None
        )
        .await,
        (404, json!({"error": "invalid server ID"}))
    );
    assert_eq!(
        call(
            &server,
            "GET",
            &format!(
                "{}/mocks/bb000000-0000-0000-0000-000000000009/x",
                server.base
            ),
            None
        )
        .await,
        (404, json!({"error": "mock server not found or stopped"}))
    );
    let definition = json!({
        "id": "bb000000-0000-0000-0000-000000000001",
        "name": "faults",
        "max_body_bytes": 3_000_000,
        "endpoints": [
            {"path": "/hang", "response": {"hang": true}},
            {"path": "/close", "response": {"close_connection": true}},
            {"path": "/upload", "method": "POST", "response": {"status": 202}},
            {"path": "/", "response": {"body": {"root": true}}},
        ],
    });
    let created = server
        .post("/api/v1/mock-servers", &definition)
        .await
        .expect(201);
    let base = created.json["base_url"].as_str().unwrap().to_string();
    assert!(
        base.ends_with("/mocks/bb000000-0000-0000-0000-000000000001"),
        "{base}"
    );
    // The root of a mock, with and without the slash; a query the API would refuse is fine here.
    assert_eq!(
        call(&server, "GET", &base, None).await.1,
        json!({"root": true})
    );
    assert_eq!(
        call(&server, "GET", &format!("{base}/?anything=1"), None)
            .await
            .1,
        json!({"root": true})
    );
    // Hang: no answer until the client gives up.
    let hung = server
        .client
        .get(format!("{base}/hang"))
        .timeout(Duration::from_millis(400))
        .send()
        .await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    // Close: the connection drops without a (complete) answer.
    let closed = match server.client.get(format!("{base}/close")).send().await {
        Ok(response) => response.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(closed, "close_connection answered");
    // Bodies are capped by the mock (3 MB here), not by the API's 1 MiB.
    let big = vec![b'a'; 2 * 1024 * 1024];
    let response = server
        .client
        .post(format!("{base}/upload"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let huge = vec![b'a'; 3_500_000];
    let response = server
        .client
        .post(format!("{base}/upload"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // The mock keeps serving.
    assert_eq!(call(&server, "GET", &base, None).await.0, 200);
    server.stop().await;
}

async fn the_stored_journal_is_masked_and_capped(db: &TestDb) {
    let options = testmesh_server::ServerOptions {
        mocks: MockConfig {
            journal_cap: 5,
            ..MockConfig::default()
        },
        ..test_options(db)
    };
    let server = TestServer::start_with(db, options).await;
    let created = server
        .post(
            "/api/v1/mock-servers",
            &json!({"name": "secrets", "endpoints": [{"path": "/x", "method": "*"}]}),
        )
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    let base = created.json["base_url"].as_str().unwrap().to_string();
    let response = server
        .client
        .get(format!("{base}/x"))
        .header("Authorization", "Bearer hunter2")
        .header("Cookie", "session=abc")
        .header("X-Api-Key", "k-123")
        .header("X-Trace", "visible")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let stored = journal(&server, &id, "", |j| j["total"] == 1).await;
    let headers = &stored["requests"][0]["headers"];
    assert_eq!(headers["authorization"], "********");
    assert_eq!(headers["cookie"], "********");
    assert_eq!(headers["x-api-key"], "********");
    assert_eq!(headers["x-trace"], "visible");
    assert!(!stored.to_string().contains("hunter2"));
    // The in-memory journal keeps the real value, for verification.
    let row = server
        .store
        .get_mock_request(&id, stored["requests"][0]["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(row.headers["authorization"], "********");
    for i in 0..12 {
        let (status, _) = call(&server, "POST", &format!("{base}/x"), Some(json!({"i": i}))).await;
        assert_eq!(status, 200);
    }
    // At most the cap, the newest kept (entries of the same millisecond go together).
    let newest = json!({"i": 11}).to_string();
    let capped = journal(&server, &id, "", |j| {
        let bodies: Vec<&str> = j["requests"]
            .as_array()
            .map(|r| r.iter().filter_map(|e| e["body"].as_str()).collect())
            .unwrap_or_default();
        // The page's rows, not `total`: the count is a separate query and may see an earlier
        // state than the rows do.
        let rows = j["requests"].as_array().map_or(0, Vec::len);
        (1..=5).contains(&rows) && bodies.contains(&newest.as_str())
    })
    .await;
    for entry in capped["requests"].as_array().unwrap() {
        let body: Value = serde_json::from_str(entry["body"].as_str().unwrap()).unwrap();
        assert!(
            body["i"].as_i64().unwrap() >= 7,
            "an old entry was kept: {body}"
        );
    }
}

async fn running_mocks_are_restored_after_a_restart(db: &TestDb) {
    let server = TestServer::start(db).await;
    let created = server
        .post("/api/v1/mock-servers", &users_mock())
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    let base = created.json["base_url"].as_str().unwrap().to_string();
    for _ in 0..3 {
        call(&server, "POST", &format!("{base}/count"), None).await;
    }
    let stopped = server
        .post(
            "/api/v1/mock-servers",
            &json!({"name": "stopped", "endpoints": []}),
        )
        .await
        .expect(201);
    let stopped_id = stopped.json["id"].as_str().unwrap().to_string();
    server
        .post(
            &format!("/api/v1/mock-servers/{stopped_id}/stop"),
            &json!({}),
        )
        .await
        .expect(200);
    // A running mock whose stored definition no longer loads.
    let broken = server
        .post(
            "/api/v1/mock-servers",
            &json!({"name": "broken", "endpoints": [{"path": "/b"}]}),
        )
        .await
        .expect(201);
    let broken_id = broken.json["id"].as_str().unwrap().to_string();
    let endpoints = server.store.mock_endpoints(&broken_id).await.unwrap();
    server
        .store
        .update_mock_endpoint(
            &broken_id,
            &endpoints[0].id,
            &json!({"path": "/b", "match": {"path_pattern": "("}}),
        )
        .await
        .unwrap();
    server.stop().await;

    let server = TestServer::start(db).await;
    let base = base.replace(base.split("/mocks/").next().unwrap(), &server.base);
    // Serves again, with the state it had.
    assert_eq!(
        call(&server, "POST", &format!("{base}/count"), None).await,
        (201, json!({"counter": 4}))
    );
    let got = server
        .get(&format!("/api/v1/mock-servers/{id}"))
        .await
        .expect(200);
    assert_eq!(got.json["running"], true);
    let stopped = server
        .get(&format!("/api/v1/mock-servers/{stopped_id}"))
        .await
        .expect(200);
    assert_eq!(
        (
            stopped.json["status"].as_str(),
            stopped.json["running"].as_bool()
        ),
        (Some("stopped"), Some(false))
    );
    let broken = server
        .get(&format!("/api/v1/mock-servers/{broken_id}"))
        .await
        .expect(200);
    assert_eq!(broken.json["status"], "failed");
    assert!(
        broken.json["error"]
            .as_str()
            .unwrap()
            .contains("path_pattern"),
        "{}",
        broken.text
    );
    // The journal of the first run is still there.
    let stored = journal(&server, &id, "", |j| j["total"].as_i64() >= Some(4)).await;
    assert_eq!(stored["requests"][0]["response_code"], 201);
}

/// What the mock flow actions do on the server's hub: a mock started for an execution gets a row
/// linked to it, its endpoint changes and journal are stored, and it stops when the execution ends.
async fn flow_started_mocks_are_linked_to_their_execution_and_stopped_at_its_end(db: &TestDb) {
    let store = db.open().await;
    let key = store
        .create_api_key(crate::common::WS, "t", None)
        .await
        .unwrap()
        .plain;
    let flow = store
        .create_flow(
            crate::common::WS,
            &crate::common::flow_yaml("f", None, &[]),
            None,
        )
        .await
        .unwrap();
    let execution = store
        .enqueue_execution(&testmesh_store::RunContext::for_flow(
            crate::common::WS,
            &flow.flow.id,
            None,
            testmesh_store::Trigger::Api,
        ))
        .await
        .unwrap();
    let server = testmesh_server::Server::bind_with_store(store.clone(), test_options(db))
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    let mocks = server.mocks().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let definition = testmesh_mock::load::mock_from_json(&json!({
        "name": "from-a-flow",
        "endpoints": [{"path": "/a", "response": {"body": {"a": 1}}}],
    }))
    .unwrap();
    let mock = mocks
        .hub()
        .start_with(
            definition,
            testmesh_mock::StartOptions {
                execution_id: Some(execution.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let url = mock.base_url().unwrap().to_string();
    assert!(url.starts_with(&format!("{base}/mocks/")), "{url}");
    mock.add_endpoints(vec![testmesh_mock::EndpointDef::new("GET", "/b")])
        .unwrap();
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/b"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    mocks.flush().await;
    let id = mock.id().to_string();
    let row = store.find_mock_server(&id).await.unwrap();
    assert_eq!(row.execution_id.as_deref(), Some(execution.id.as_str()));
    assert_eq!(row.status, testmesh_store::MockStatus::Running);
    assert_eq!(store.mock_endpoints(&id).await.unwrap().len(), 2);
    let listed = client
        .get(format!(
            "{base}/api/v1/mock-servers?execution_id={}",
            execution.id
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(
        store
            .list_mock_requests(&id, None, None, None)
            .await
            .unwrap()
            .total,
        1
    );

    mocks.execution_ended(&execution.id).await;
    mocks.flush().await;
    assert_eq!(
        client
            .get(format!("{url}/b"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let row = store.find_mock_server(&id).await.unwrap();
    assert_eq!(row.status, testmesh_store::MockStatus::Stopped);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
