//! Contracts over the API: import (string or object, V2 and V4), export as Pact V4, interactions,
//! verification against a real provider, breaking changes and can-i-deploy.

use serde_json::{Value, json};
use testmesh_test::TestDb;
use testmesh_test::{Target, TargetOptions};

use crate::common::TestServer;

on_both_backends!(
    contracts_import_export_and_browse,
    bad_pacts_and_parameters_are_refused,
    contracts_are_verified_against_a_provider_and_gate_deployment,
    breaking_changes_are_computed_once_per_pair,
);

/// A V4 pact of `web` → `users` asking `GET /hit/<name>` of the test target.
fn pact(version: Option<&str>, names: &[&str]) -> Value {
    let mut metadata = json!({"pactSpecification": {"version": "4.0"}});
    if let Some(v) = version {
        metadata["consumerVersion"] = json!(v);
    }
    json!({
        "consumer": {"name": "web"},
        "provider": {"name": "users"},
        "interactions": names.iter().map(|n| json!({
            "type": "Synchronous/HTTP",
            "description": format!("hit {n}"),
            "providerStates": [{"name": "a target"}],
            "request": {"method": "GET", "path": format!("/hit/{n}")},
            "response": {
                "status": 200,
                "body": {"content": {"name": n, "count": 1}, "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": {"$.count": {"combine": "AND", "matchers": [{"match": "integer"}]}}}
            }
        })).collect::<Vec<_>>(),
        "metadata": metadata,
    })
}

/// The same kind of pact in the Pact V2 shape.
fn v2_pact() -> Value {
    json!({
        "consumer": {"name": "mobile"},
        "provider": {"name": "users"},
        "interactions": [{
            "description": "get a user",
            "providerState": "user 1 exists",
            "request": {"method": "GET", "path": "/users/1"},
            "response": {"status": 200, "body": {"id": 1}, "matchingRules": {"$.body.id": {"match": "type"}}}
        }],
        "metadata": {"pactSpecification": {"version": "2.0.0"}}
    })
}

async fn contracts_import_export_and_browse(db: &TestDb) {
    let server = TestServer::start(db).await;
    // The pact object itself, version from the query.
    let created = server
        .post(
            "/api/v1/contracts/import?version=1.0.0",
            &pact(None, &["a", "b"]),
        )
        .await
        .expect(201);
    let id = created.json["contract"]["id"].as_str().unwrap().to_string();
    assert_eq!(created.json["contract"]["version"], "1.0.0");
    assert_eq!(created.json["contract"]["interaction_count"], 2);
    assert_eq!(created.json["contract"]["source"], "imported");
    assert_eq!(created.json["interactions"][0]["method"], "GET");
    assert_eq!(created.json["interactions"][1]["path"], "/hit/b");
    assert_eq!(
        created.json["interactions"][0]["provider_states"],
        json!(["a target"])
    );

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // `{pact_json}` with a V2 file; version from nowhere → imported-<secs>.
    let v2 = server
        .post(
            "/api/v1/contracts/import",
            &json!({"pact_json": v2_pact().to_string()}),
        )
        .await
        .expect(201);
    assert!(
        v2.json["contract"]["version"]
            .as_str()
            .unwrap()
            .starts_with("imported-")
    );
    assert_eq!(v2.json["contract"]["spec_version"], "2.0");
    let v2_id = v2.json["contract"]["id"].as_str().unwrap().to_string();
    // Exported as genuine V4, whatever it was imported as.
    let file = server
        .get(&format!("/api/v1/contracts/{v2_id}/pact"))
        .await
        .expect(200);
    assert_eq!(
        file.header("content-disposition"),
        Some("attachment; filename=\"mobile-users.json\"")
    );
    assert_eq!(file.json["metadata"]["pactSpecification"]["version"], "4.0");
    let interaction = &file.json["interactions"][0];
    assert_eq!(interaction["type"], "Synchronous/HTTP");
    assert_eq!(interaction["providerStates"][0]["name"], "user 1 exists");
    assert_eq!(interaction["response"]["body"]["content"], json!({"id": 1}));
    assert!(interaction["response"]["matchingRules"]["body"]["$.id"].is_object());
    assert!(interaction.get("providerState").is_none());
    // The export imports back as the same contract.
    testmesh_contract::pact_from_json(&file.json).unwrap();

    // Metadata version; same version again replaces. (Times are in milliseconds: newest first
    // needs them apart.)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let meta = server
        .post("/api/v1/contracts/import", &pact(Some("2.0.0"), &["a"]))
        .await
        .expect(201);
    assert_eq!(meta.json["contract"]["version"], "2.0.0");
    let again = server
        .post(
            "/api/v1/contracts/import",
            &pact(Some("2.0.0"), &["a", "c"]),
        )
        .await
        .expect(201);
    assert_eq!(again.json["contract"]["id"], meta.json["contract"]["id"]);
    assert_eq!(again.json["contract"]["interaction_count"], 2);

    let list = server.get("/api/v1/contracts").await.expect(200);
    assert_eq!(list.json["total"], 3);
    assert_eq!(list.json["contracts"][0]["version"], "2.0.0");
    let web = server
        .get("/api/v1/contracts?consumer=web&limit=1")
        .await
        .expect(200);
    assert_eq!(
        (
            web.json["total"].clone(),
            web.json["contracts"].as_array().unwrap().len()
        ),
        (json!(2), 1)
    );
    let versions = server
        .get("/api/v1/contracts/versions?consumer=web&provider=users")
        .await
        .expect(200);
    assert_eq!(versions.json["total"], 2);
    assert_eq!(versions.json["versions"][1]["version"], "1.0.0");

    // Interactions: list, by key, by position, unknown.
    let page = server
        .get(&format!(
            "/api/v1/contracts/{id}/interactions?limit=1&offset=1"
        ))
        .await
        .expect(200);
    assert_eq!(page.json["total"], 2);
    assert_eq!(page.json["interactions"][0]["description"], "hit b");
    let key = page.json["interactions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = server
        .get(&format!("/api/v1/contracts/{id}/interactions/{key}"))
        .await
        .expect(200);
    assert_eq!(one.json["interaction"]["description"], "hit b");
    assert_eq!(one.json["summary"]["index"], 1);
    let first = server
        .get(&format!("/api/v1/contracts/{id}/interactions/0"))
        .await
        .expect(200);
    assert_eq!(first.json["interaction"]["description"], "hit a");
    server
        .get(&format!("/api/v1/contracts/{id}/interactions/nope"))
        .await
        .expect_error(404, "not_found");

    // Delete.
    server
        .delete(&format!("/api/v1/contracts/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/contracts/{id}"))
        .await
        .expect_error(404, "not_found");
    server
        .get(&format!("/api/v1/contracts/{id}/pact"))
        .await
        .expect_error(404, "not_found");
    server
        .get("/api/v1/contracts/not-a-uuid")
        .await
        .expect_error(404, "not_found");
}

async fn bad_pacts_and_parameters_are_refused(db: &TestDb) {
    let server = TestServer::start(db).await;
    // A shape error names its JSON path.
    let mut bad = pact(None, &["a"]);
    bad["interactions"][0]["request"]["method"] = json!(5);
    let reply = server
        .post("/api/v1/contracts/import", &bad)
        .await
        .expect_error(422, "invalid_pact");
    assert_eq!(
        reply.json["details"]["path"], "interactions[0].request.method",
        "{}",
        reply.text
    );
    // An unknown matcher, in a string.
    let mut unknown = pact(None, &["a"]);
    unknown["interactions"][0]["response"]["matchingRules"]["body"]["$.count"]["matchers"][0]["match"] =
        json!("telepathy");
    let reply = server
        .post(
            "/api/v1/contracts/import",
            &json!({"pact_json": unknown.to_string()}),
        )
        .await
        .expect_error(422, "invalid_pact");
    assert!(reply.text.contains("telepathy"), "{}", reply.text);
    assert!(
        reply.json["details"]["path"]
            .as_str()
            .unwrap()
            .contains("interactions[0]")
    );
    // Malformed JSON in `pact_json`: line and column.
    let reply = server
        .post(
            "/api/v1/contracts/import",
            &json!({"pact_json": "{\n  \"consumer\": "}),
        )
        .await
        .expect_error(422, "invalid_pact");
    assert_eq!(reply.json["details"]["line"], 2);
    server
        .post("/api/v1/contracts/import", &json!({"pact_json": 5}))
        .await
        .expect_error(422, "invalid_pact");
    server
        .post(
            "/api/v1/contracts/import",
            &json!({"consumer": {"name": "x"}}),
        )
        .await
        .expect_error(422, "invalid_pact");
    server
        .raw(
            reqwest::Method::POST,
            "/api/v1/contracts/import",
            "application/json",
            "{not json",
        )
        .await
        .expect_error(400, "malformed_json");
    // Parameters.
    server
        .get("/api/v1/contracts/versions?consumer=web")
        .await
        .expect_error(400, "missing_parameter");
    server
        .get("/api/v1/contracts?consumr=web")
        .await
        .expect_error(400, "unknown_parameter");
    server
        .get("/api/v1/can-i-deploy?pacticipant=web")
        .await
        .expect_error(400, "missing_parameter");
    // Bodies.
    server
        .post(
            "/api/v1/contracts/breaking-changes",
            &json!({"old_contract_id": "x"}),
        )
        .await
        .expect_error(422, "invalid_body");
    let none = uuid::Uuid::new_v4().to_string();
    server
        .post(
            "/api/v1/contracts/breaking-changes",
            &json!({"old_contract_id": none, "new_contract_id": none}),
        )
        .await
        .expect_error(422, "unknown_reference");
    // Every route wants a key.
    for path in [
        "/api/v1/contracts",
        "/api/v1/can-i-deploy?pacticipant=a&version=1",
    ] {
        let reply = server
            .client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 401, "{path}");
    }
    let reply = server
        .client
        .post(format!("{}/api/v1/contracts/import", server.base))
        .header("content-type", "application/json")
        .body(pact(None, &["a"]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
}

async fn contracts_are_verified_against_a_provider_and_gate_deployment(db: &TestDb) {
    let server = TestServer::start(db).await;
    let target = Target::start(TargetOptions::default()).await;
    let id = server
        .post("/api/v1/contracts/import?version=1", &pact(None, &["a"]))
        .await
        .expect(201)
        .json["contract"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Unknown pacticipant, then known but not verified.
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=nobody&version=1")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], false);
    assert!(
        verdict.json["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown pacticipant")
    );
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=web&version=1")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], false);
    assert!(
        verdict.json["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("never verified")
    );

    // Verified and passed.
    let passed = server
        .post(
            &format!("/api/v1/contracts/{id}/verify"),
            &json!({"provider_base_url": target.base_url, "provider_version": "p1"}),
        )
        .await
        .expect(201);
    assert_eq!(passed.json["status"], "passed", "{}", passed.text);
    assert_eq!(
        (passed.json["total"].clone(), passed.json["passed"].clone()),
        (json!(1), json!(1))
    );
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=web&version=1")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], true, "{}", verdict.text);
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=users&version=p1")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], true, "{}", verdict.text);

    // A provider that answers differently: failed, with the mismatch in the report.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut wrong = pact(None, &["a"]);
    wrong["interactions"][0]["response"]["status"] = json!(201);
    let wrong_id = server
        .post("/api/v1/contracts/import?version=2", &wrong)
        .await
        .expect(201)
        .json["contract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = server
        .post(
            &format!("/api/v1/contracts/{wrong_id}/verify"),
            &json!({"provider_base_url": target.base_url, "provider_version": "p1"}),
        )
        .await
        .expect(201);
    assert_eq!(failed.json["status"], "failed");
    assert!(failed.text.contains("201"), "{}", failed.text);
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=web&version=2")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], false);
    assert!(
        verdict.json["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("failed")
    );
    // The provider is now blocked by web's latest contract.
    let verdict = server
        .get("/api/v1/can-i-deploy?pacticipant=users&version=p1")
        .await
        .expect(200);
    assert_eq!(verdict.json["deployable"], false);

    // A provider that is down: a stored `error` verification.
    let down = server
        .post(
            &format!("/api/v1/contracts/{id}/verify"),
            &json!({"provider_base_url": "http://127.0.0.1:1", "provider_version": "p2", "timeout_seconds": 2}),
        )
        .await
        .expect(201);
    assert_eq!(down.json["status"], "error");
    // An unusable URL: nothing stored.
    server
        .post(
            &format!("/api/v1/contracts/{id}/verify"),
            &json!({"provider_base_url": "ftp://x", "provider_version": "p3"}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            &format!("/api/v1/contracts/{id}/verify"),
            &json!({"provider_base_url": target.base_url}),
        )
        .await
        .expect_error(422, "invalid_body");

    let list = server
        .get(&format!("/api/v1/contracts/{id}/verifications"))
        .await
        .expect(200);
    assert_eq!(list.json["total"], 2);
    assert_eq!(list.json["verifications"][0]["provider_version"], "p2");
    let passed_only = server
        .get(&format!(
            "/api/v1/contracts/{id}/verifications?status=passed"
        ))
        .await
        .expect(200);
    assert_eq!(passed_only.json["total"], 1);
    let p1 = server
        .get(&format!(
            "/api/v1/contracts/{id}/verifications?provider_version=p1"
        ))
        .await
        .expect(200);
    assert_eq!(p1.json["total"], 1);
    server
        .get(&format!(
            "/api/v1/contracts/{id}/verifications?status=maybe"
        ))
        .await
        .expect_error(400, "invalid_parameter");
    // The list shows the last verification.
    let got = server
        .get(&format!("/api/v1/contracts/{id}"))
        .await
        .expect(200);
    assert_eq!(got.json["contract"]["last_verification"]["status"], "error");
}

async fn breaking_changes_are_computed_once_per_pair(db: &TestDb) {
    let server = TestServer::start(db).await;
    let import = |body: Value, version: &'static str| {
        let server = &server;
        async move {
            server
                .post(
                    &format!("/api/v1/contracts/import?version={version}"),
                    &body,
                )
                .await
                .expect(201)
                .json["contract"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let old = import(pact(None, &["a", "b"]), "1").await;
    let new = import(pact(None, &["a"]), "2").await;
    let other = import(v2_pact(), "1").await;
    let body = json!({"old_contract_id": old, "new_contract_id": new});
    let first = server
        .post("/api/v1/contracts/breaking-changes", &body)
        .await
        .expect(200);
    assert!(
        first.json["summary"]["breaking"].as_u64().unwrap() >= 1,
        "{}",
        first.text
    );
    assert_eq!(first.json["changes"][0]["interaction"], "hit b");
    let total = first.json["summary"]["total"].clone();
    // Again: replaced, not accumulated.
    server
        .post("/api/v1/contracts/breaking-changes", &body)
        .await
        .expect(200);
    let stored = server
        .get(&format!("/api/v1/contracts/{new}/breaking-changes"))
        .await
        .expect(200);
    assert_eq!(stored.json["total"], total);
    let stored_old = server
        .get(&format!("/api/v1/contracts/{old}/breaking-changes"))
        .await
        .expect(200);
    assert_eq!(stored_old.json["total"], total);
    // Different parties.
    let reply = server
        .post(
            "/api/v1/contracts/breaking-changes",
            &json!({"old_contract_id": old, "new_contract_id": other}),
        )
        .await
        .expect_error(422, "invalid");
    assert!(reply.text.contains("different parties"), "{}", reply.text);
}
