//! Imports and coverage over the API: each format previewed, flows saved and run by a worker
//! against a live target, their recorded calls counted by a coverage analysis, bad input answered
//! with its place, and every import and analysis recorded.

use std::time::Duration;

use serde_json::{Value, json};
use testmesh_test::{Target, TargetOptions};
use testmesh_worker::{Worker, WorkerOptions};
use tokio_util::sync::CancellationToken;

use crate::common::TestServer;

on_both_backends!(
    each_format_is_previewed_and_recorded,
    saved_flows_run_and_count_towards_coverage,
    bad_imports_name_their_place,
    coverage_input_is_checked,
);

/// An OpenAPI document of the test target: `GET /hit/{name}` and `POST /echo`.
fn target_spec(base_url: &str) -> String {
    format!(
        r#"openapi: 3.0.3
info:
  title: Hits
  version: "1.0"
servers:
  - url: {base_url}
paths:
  /hit/{{name}}:
    get:
      operationId: getHit
      summary: Count a hit
      parameters:
        - name: name
          in: path
          required: true
          schema:
            type: string
          example: pets
      responses:
        "200":
          description: the count so far
          content:
            application/json:
              schema:
                type: object
                required: [name, count]
                properties:
                  name:
                    type: string
                  count:
                    type: integer
  /echo:
    post:
      operationId: echo
      summary: Echo a message
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                msg:
                  type: string
                  example: hi
      responses:
        "200":
          description: the message back
"#
    )
}

fn postman_collection() -> Value {
    json!({
        "info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [
            {"name": "List products", "request": {"method": "GET", "url": {"raw": "{{baseUrl}}/products", "host": ["{{baseUrl}}"], "path": ["products"]}}},
            {"name": "Create product", "request": {"method": "POST", "header": [{"key": "Content-Type", "value": "application/json"}],
              "body": {"mode": "raw", "raw": "{\"name\": \"pen\"}"}, "url": {"raw": "{{baseUrl}}/products", "host": ["{{baseUrl}}"], "path": ["products"]}},
             "event": [{"listen": "test", "script": {"exec": ["pm.test('made', function () { pm.response.to.have.status(201); });", "postman.setNextRequest(null);"]}}]}
        ],
        "variable": [{"key": "baseUrl", "value": "http://127.0.0.1:9"}]
    })
}

fn pact() -> Value {
    json!({
        "consumer": {"name": "web"},
        "provider": {"name": "users"},
        "interactions": [{
            "description": "a request for user 1",
            "providerState": "user 1 exists",
            "request": {"method": "GET", "path": "/users/1"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": 1, "name": "Ann"}}
        }],
        "metadata": {"pactSpecification": {"version": "2.0.0"}}
    })
}

fn har() -> String {
    json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [
        {"startedDateTime": "2025-01-01T00:00:00Z", "time": 5,
         "request": {"method": "GET", "url": "https://api.shop.test/products?page=1", "httpVersion": "HTTP/1.1", "headers": [], "queryString": [{"name": "page", "value": "1"}], "cookies": [], "headersSize": -1, "bodySize": 0},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [], "content": {"size": 2, "mimeType": "application/json", "text": "[]"}, "redirectURL": "", "headersSize": -1, "bodySize": 2},
         "cache": {}, "timings": {"send": 1, "wait": 3, "receive": 1}},
        {"startedDateTime": "2025-01-01T00:00:01Z", "time": 5,
         "request": {"method": "GET", "url": "https://cdn.other.test/app.js", "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [{"name": "Content-Type", "value": "application/javascript"}], "cookies": [], "content": {"size": 2, "mimeType": "application/javascript", "text": "x"}, "redirectURL": "", "headersSize": -1, "bodySize": 2},
         "cache": {}, "timings": {"send": 1, "wait": 3, "receive": 1}}
    ]}})
    .to_string()
}

/// Asserts every generated flow loads with no error and no warning, as `testmesh validate` reads it.
#[track_caller]
fn assert_clean_flows(reply: &Value) {
    let flows = reply["flows"].as_array().expect("flows");
    assert!(!flows.is_empty(), "{reply}");
    for flow in flows {
        let yaml = flow["yaml"].as_str().expect("yaml");
        let loaded = testmesh_flow::load_str(yaml);
        let findings: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| format!("{}:{} {}", d.span.line, d.span.col, d.message))
            .collect();
        assert!(findings.is_empty(), "{findings:?}\n{yaml}");
        assert!(flow["steps"].as_u64().unwrap_or(0) >= 1, "{flow}");
    }
}

async fn each_format_is_previewed_and_recorded(db: &testmesh_test::TestDb) {
    let server = TestServer::start(db).await;
    let before = server.counts().await;

    let openapi = server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"spec": target_spec("http://127.0.0.1:9"), "source_name": "hits.yaml"}),
        )
        .await
        .expect(200);
    assert_eq!(openapi.json["source_type"], "openapi");
    assert_eq!(openapi.json["title"], "Hits");
    assert_eq!(openapi.json["created"], 0);
    assert_clean_flows(&openapi.json);
    assert!(
        openapi.json["flows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["flow_id"].is_null()),
        "a preview saves nothing"
    );

    let postman = server
        .post(
            "/api/v1/ai/import/postman",
            &json!({"collection": postman_collection()}),
        )
        .await
        .expect(200);
    assert_eq!(postman.json["title"], "Shop");
    assert_clean_flows(&postman.json);
    let untranslated = postman.json["untranslated"].as_array().unwrap();
    assert!(
        !untranslated.is_empty(),
        "the test script is listed as not translated: {}",
        postman.text
    );

    let pact = server
        .post("/api/v1/ai/import/pact", &json!({"content": pact()}))
        .await
        .expect(200);
    assert_clean_flows(&pact.json);
    assert!(pact.text.contains("/users/1"), "{}", pact.text);

    let har = server
        .post(
            "/api/v1/ai/import/har",
            &json!({"har": har(), "options": {"include_hosts": ["api.shop.test"]}}),
        )
        .await
        .expect(200);
    assert_clean_flows(&har.json);
    let yaml = har.json["flows"][0]["yaml"].as_str().unwrap();
    assert!(
        yaml.contains("BASE_URL: https://api.shop.test") && yaml.contains("/products?page=1"),
        "{yaml}"
    );
    assert!(!yaml.contains("app.js"), "other hosts are left out");
    assert!(
        har.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["item"].as_str().unwrap_or_default().contains("app.js")),
        "what is left out is said: {}",
        har.text
    );

    assert_eq!(server.counts().await, before, "previews save no flow");

    // Every import is in the history, newest first, without its input in lists.
    let history = server.get("/api/v1/ai/import-history").await.expect(200);
    assert_eq!(history.json["total"], 4);
    let kinds: Vec<&str> = history.json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["har", "pact", "postman", "openapi"]);
    assert!(
        history.json["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["source_content"].is_null() && i["status"] == "completed")
    );
    let only = server
        .get("/api/v1/ai/import-history?source_type=openapi&limit=1")
        .await
        .expect(200);
    assert_eq!(only.json["total"], 1);
    let id = only.json["imports"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(id, openapi.json["history_id"]);
    let one = server
        .get(&format!("/api/v1/ai/import-history/{id}"))
        .await
        .expect(200);
    assert_eq!(one.json["source_name"], "hits.yaml");
    assert_eq!(
        one.json["source_content"],
        target_spec("http://127.0.0.1:9")
    );
    assert_eq!(
        one.json["flows_generated"],
        openapi.json["flows"].as_array().unwrap().len()
    );
    assert_eq!(one.json["metadata"]["title"], "Hits");
    assert!(
        !one.text.contains("action: http_request"),
        "the history keeps no YAML"
    );
    server
        .get("/api/v1/ai/import-history?source_type=graphql")
        .await
        .expect_error(400, "invalid_parameter");

    // Another workspace sees nothing.
    let other = server
        .store
        .create_workspace("Other", "other")
        .await
        .unwrap();
    let key = server
        .store
        .create_api_key(&other.id, "other", None)
        .await
        .unwrap()
        .plain;
    let response = server
        .client
        .get(format!("{}/api/v1/ai/import-history/{id}", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    server
        .delete(&format!("/api/v1/ai/import-history/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/ai/import-history/{id}"))
        .await
        .expect_error(404, "not_found");
}

/// Waits until execution `id` is final and returns it.
async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..400 {
        let reply = server
            .get(&format!("/api/v1/executions/{id}"))
            .await
            .expect(200);
        if ["completed", "failed", "cancelled"].contains(&reply.json["status"].as_str().unwrap()) {
            return reply.json;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("execution {id} did not finish");
}

async fn saved_flows_run_and_count_towards_coverage(db: &testmesh_test::TestDb) {
    let server = TestServer::start(db).await;
    let target = Target::start(TargetOptions::default()).await;
    let collection = server
        .post("/api/v1/collections", &json!({"name": "Imported"}))
        .await
        .expect(201);
    let collection_id = collection.json["id"].as_str().unwrap().to_string();

    let import = server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({
                "content": target_spec(&target.base_url),
                "create_flows": true,
                "suite": "imported",
                "collection_id": collection_id,
            }),
        )
        .await
        .expect(200);
    let flows = import.json["flows"].as_array().unwrap().clone();
    assert_eq!(import.json["created"], flows.len());
    assert_eq!(import.json["errors"], json!([]));
    let ids: Vec<String> = flows
        .iter()
        .map(|f| f["flow_id"].as_str().expect("saved").to_string())
        .collect();

    // Saved exactly as POST /flows saves: listed, in the suite, in the collection.
    let listed = server
        .get("/api/v1/flows?suite=imported&limit=100")
        .await
        .expect(200);
    assert_eq!(listed.json["total"], ids.len());
    let members = server
        .get(&format!("/api/v1/collections/{collection_id}/flows"))
        .await
        .expect(200);
    assert_eq!(
        members.json["flows"].as_array().map(Vec::len),
        Some(ids.len()),
        "{}",
        members.text
    );
    let history = server
        .get(&format!(
            "/api/v1/ai/import-history/{}",
            import.json["history_id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let mut recorded: Vec<String> =
        serde_json::from_value(history.json["flow_ids"].clone()).unwrap();
    let mut expected = ids.clone();
    recorded.sort();
    expected.sort();
    assert_eq!(recorded, expected);

    // The saved flows run: a worker runs each against the target and they pass.
    let worker = Worker::new(
        server.store.clone(),
        WorkerOptions {
            poll: Duration::from_millis(20),
            scheduler: false,
            ..WorkerOptions::default()
        },
    );
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop.cancelled_owned()).await }
    });
    let queued = server
        .post(
            "/api/v1/executions",
            &json!({"flow_ids": ids, "variables": {"BASE_URL": target.base_url}}),
        )
        .await
        .expect(201);
    for execution in queued.json["executions"].as_array().unwrap() {
        let done = finished(&server, execution["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "completed", "{done:#}");
    }
    assert!(target.hits("pets") >= 1, "the flows reached the target");

    // A flow whose URL only a run knows: static analysis cannot match it, its recorded call can.
    let dynamic = server
        .post(
            "/api/v1/flows",
            &json!({"yaml": "name: dynamic hit\nsteps:\n  - id: hit\n    action: http_request\n    config:\n      method: GET\n      url: ${HIT_URL}\n"}),
        )
        .await
        .expect(201);
    let dynamic_id = dynamic.json["id"].as_str().unwrap().to_string();
    let queued = server
        .post(
            "/api/v1/executions",
            &json!({"flow_id": dynamic_id, "variables": {"HIT_URL": format!("{}/hit/dyn", target.base_url)}}),
        )
        .await
        .expect(201);
    let done = finished(
        &server,
        queued.json["executions"][0]["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done:#}");
    stop.cancel();
    running.await.unwrap().unwrap();

    let spec = target_spec(&target.base_url);
    let static_only = server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "flow_ids": [dynamic_id]}),
        )
        .await
        .expect(201);
    assert_eq!(static_only.json["total_endpoints"], 2);
    assert_eq!(
        static_only.json["covered_endpoints"], 0,
        "{}",
        static_only.text
    );
    assert_eq!(
        static_only.json["unmatched"][0]["url"], "${HIT_URL}",
        "a URL that is only a variable matches nothing: {}",
        static_only.text
    );
    let with_history = server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "flow_ids": [dynamic_id], "from_history": true, "spec_name": "hits"}),
        )
        .await
        .expect(201);
    assert_eq!(
        with_history.json["covered_endpoints"], 1,
        "{}",
        with_history.text
    );
    let hit = &with_history.json["operations"][0];
    assert_eq!(hit["path"], "/hit/{name}");
    assert_eq!(hit["covered_by"][0]["source"], "history");
    assert_eq!(
        hit["covered_statuses"],
        json!(["200"]),
        "the observed status counts"
    );
    assert_eq!(with_history.json["spec_name"], "hits");
    assert_eq!(with_history.json["read"]["history_calls"], 1);
    let everything = server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "base_url": target.base_url}),
        )
        .await
        .expect(201);
    assert_eq!(
        everything.json["covered_endpoints"], 2,
        "{}",
        everything.text
    );
    assert_eq!(everything.json["uncovered"], json!([]));
    assert_eq!(everything.json["read"]["flows"], 3);
    assert_eq!(
        everything.json["spec_name"], "Hits 1.0",
        "the title and version name it by default"
    );

    // Stored: listed (under both names), read back with results, as an HTML page.
    let list = server.get("/api/v1/ai/coverage").await.expect(200);
    assert_eq!(list.json["total"], 3);
    assert!(list.json["analyses"][0]["results"].is_null());
    let alias = server.get("/api/v1/ai/coverage-analysis").await.expect(200);
    assert_eq!(alias.json["total"], 3);
    let id = with_history.json["id"].as_str().unwrap();
    let one = server
        .get(&format!("/api/v1/ai/coverage-analysis/{id}"))
        .await
        .expect(200);
    assert_eq!(one.json["covered_endpoints"], 1);
    assert_eq!(one.json["total_endpoints"], 2);
    let brief = |list: &str| -> Vec<String> {
        one.json["results"][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{} {}",
                    o["method"].as_str().unwrap(),
                    o["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(brief("covered"), ["GET /hit/{name}"], "{}", one.text);
    assert_eq!(brief("uncovered"), ["POST /echo"]);
    assert_eq!(one.json["results"]["request"]["from_history"], true);
    assert_eq!(one.json["spec_content"], spec);
    let html = server
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/ai/coverage/{id}?format=html"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.text()
            .await
            .unwrap()
            .to_ascii_lowercase()
            .contains("<!doctype html")
    );
    server
        .delete(&format!("/api/v1/ai/coverage/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/ai/coverage/{id}"))
        .await
        .expect_error(404, "not_found");

    // Importing again: the names are taken, which is said per flow; the rest of the answer stands.
    let again = server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": target_spec(&target.base_url), "create_flows": true, "suite": "imported"}),
        )
        .await
        .expect(200);
    assert_eq!(again.json["created"], 0);
    assert_eq!(
        again.json["errors"].as_array().map(Vec::len),
        Some(ids.len())
    );
    assert!(again.text.contains("already"), "{}", again.text);
    let recorded = server
        .get(&format!(
            "/api/v1/ai/import-history/{}",
            again.json["history_id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(recorded.json["flow_ids"], json!([]));
    assert!(recorded.json["error"].is_string());
}

async fn bad_imports_name_their_place(db: &testmesh_test::TestDb) {
    let server = TestServer::start(db).await;
    let before = server.counts().await;

    // A YAML syntax error: 400 with the line and column, recorded as a failed import.
    let broken = server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": "openapi: 3.0.3\ninfo: {title: x\npaths: {}\n", "source_name": "broken.yaml"}),
        )
        .await
        .expect_error(400, "invalid_input");
    assert!(
        broken.json["error"]
            .as_str()
            .unwrap()
            .starts_with("broken.yaml:"),
        "{}",
        broken.text
    );
    assert_eq!(broken.json["details"]["file"], "broken.yaml");
    assert!(
        broken.json["details"]["line"].as_u64().unwrap() >= 2,
        "{}",
        broken.text
    );
    assert!(broken.json["details"]["column"].is_u64());
    let history_id = broken.json["details"]["history_id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = server
        .get(&format!("/api/v1/ai/import-history/{history_id}"))
        .await
        .expect(200);
    assert_eq!(failed.json["status"], "failed");
    assert_eq!(failed.json["error"], broken.json["error"]);
    assert_eq!(failed.json["flows_generated"], 0);

    // A well-formed document of the wrong shape: the JSON pointer of the place.
    let shape = server
        .post(
            "/api/v1/ai/import/pact",
            &json!({"content": {"interactions": []}}),
        )
        .await
        .expect_error(400, "invalid_input");
    assert!(
        shape.json["details"]["pointer"].is_string(),
        "{}",
        shape.text
    );
    let postman = server
        .post("/api/v1/ai/import/postman", &json!({"content": "[1, 2"}))
        .await
        .expect_error(400, "invalid_input");
    assert_eq!(postman.json["details"]["file"], "postman");

    let failures = server
        .get("/api/v1/ai/import-history?status=failed")
        .await
        .expect(200);
    assert_eq!(failures.json["total"], 3);

    // Request errors are refused before anything runs, and record nothing.
    server
        .post("/api/v1/ai/import/openapi", &json!({"collection": {}}))
        .await
        .expect_error(422, "invalid_body");
    server
        .post("/api/v1/ai/import/openapi", &json!({"source_name": "x"}))
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": "x", "spec": "y"}),
        )
        .await
        .expect_error(422, "invalid_body");
    let other_format = server
        .post(
            "/api/v1/ai/import/postman",
            &json!({"content": postman_collection(), "options": {"keep_static": true}}),
        )
        .await
        .expect_error(422, "invalid_body");
    assert!(other_format.text.contains("HAR"), "{}", other_format.text);
    server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": "x", "options": {"group_by": "path"}}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": "x", "unknown": 1}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/ai/import/openapi",
            &json!({"content": target_spec("http://x"), "create_flows": true, "collection_id": uuid::Uuid::new_v4().to_string()}),
        )
        .await
        .expect_error(422, "unknown_reference");
    server
        .raw(
            reqwest::Method::POST,
            "/api/v1/ai/import/openapi",
            "application/yaml",
            target_spec("http://x"),
        )
        .await
        .expect_error(415, "unsupported_media_type");
    assert_eq!(
        server
            .get("/api/v1/ai/import-history")
            .await
            .expect(200)
            .json["total"],
        3,
        "refused requests record nothing"
    );

    // Inputs above the API's usual 1 MiB are read; above 16 MiB they are refused with the limit,
    // and recorded by size and hash.
    let padding = "x".repeat(1_500_000);
    let big = target_spec("http://x").replace(
        "  title: Hits\n",
        &format!("  title: Hits\n  description: {padding}\n"),
    );
    server
        .post("/api/v1/ai/import/openapi", &json!({"content": big}))
        .await
        .expect(200);
    let huge = "y".repeat(17 * 1024 * 1024);
    let too_big = server
        .post("/api/v1/ai/import/har", &json!({"content": huge}))
        .await
        .expect_error(413, "input_too_large");
    assert!(
        too_big.json["error"].as_str().unwrap().contains("16777216"),
        "{}",
        too_big.text
    );
    let recorded = server
        .get(&format!(
            "/api/v1/ai/import-history/{}",
            too_big.json["details"]["history_id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(recorded.json["source_stored"], false);
    assert_eq!(recorded.json["source_size"], 17 * 1024 * 1024);
    let over_body = "z".repeat(33 * 1024 * 1024);
    server
        .post("/api/v1/ai/import/har", &json!({"content": over_body}))
        .await
        .expect_error(413, "body_too_large");

    assert_eq!(server.counts().await, before, "no flow was saved");
}

async fn coverage_input_is_checked(db: &testmesh_test::TestDb) {
    let server = TestServer::start(db).await;
    let flow = server.create_flow("plain", Some("smoke"), &[]).await;

    let broken = server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": "openapi: 3.0.3\npaths: [\n", "spec_name": "api.yaml"}),
        )
        .await
        .expect_error(400, "invalid_spec");
    assert!(
        broken.json["error"]
            .as_str()
            .unwrap()
            .starts_with("api.yaml:"),
        "{}",
        broken.text
    );
    assert!(broken.json["details"]["line"].is_u64());
    let id = broken.json["details"]["analysis_id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = server
        .get(&format!("/api/v1/ai/coverage/{id}"))
        .await
        .expect(200);
    assert_eq!(failed.json["status"], "failed");
    assert_eq!(failed.json["html_url"], Value::Null);
    server
        .get(&format!("/api/v1/ai/coverage/{id}?format=html"))
        .await
        .expect_error(409, "no_report");
    server
        .get(&format!("/api/v1/ai/coverage/{id}?format=pdf"))
        .await
        .expect_error(400, "invalid_parameter");
    let failures = server
        .get("/api/v1/ai/coverage?status=failed")
        .await
        .expect(200);
    assert_eq!(failures.json["total"], 1);

    let spec = target_spec("http://x");
    server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "flow_ids": [flow], "suite": "smoke"}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "flow_ids": [uuid::Uuid::new_v4().to_string()]}),
        )
        .await
        .expect_error(422, "unknown_reference");
    server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": spec, "flow_ids": ["' OR 1=1 --"]}),
        )
        .await
        .expect_error(422, "unknown_reference");
    server
        .post("/api/v1/ai/coverage/analyze", &json!({"spec_name": "x"}))
        .await
        .expect_error(422, "invalid_body");

    // A suite's flows, the document given as JSON: nothing calls the API, everything is uncovered.
    let as_json = json!({"openapi": "3.0.3", "info": {"title": "Tiny", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}});
    let tiny = server
        .post(
            "/api/v1/ai/coverage/analyze",
            &json!({"spec": as_json, "suite": "smoke"}),
        )
        .await
        .expect(201);
    assert_eq!(tiny.json["total_endpoints"], 1);
    assert_eq!(tiny.json["covered_endpoints"], 0);
    assert_eq!(tiny.json["read"]["flows"], 1);
    assert_eq!(tiny.json["coverage_percent"], 0.0);
    assert_eq!(tiny.json["spec_name"], "Tiny 1", "{}", tiny.text);
    assert!(
        tiny.header("location")
            .unwrap()
            .ends_with(tiny.json["id"].as_str().unwrap())
    );
    assert_eq!(
        server.get("/api/v1/ai/coverage").await.expect(200).json["total"],
        2
    );
}
