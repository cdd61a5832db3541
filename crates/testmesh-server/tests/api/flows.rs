//! Flows over the API: CRUD, versions, validation findings with positions, lists and filters.

use reqwest::Method;
use serde_json::json;
use testmesh_test::TestDb;

use crate::common::{SQL_LOOKING, TestServer, flow_yaml};

on_both_backends!(
    flows_are_created_read_updated_and_deleted_with_versions,
    invalid_flows_get_every_finding_with_its_position,
    flow_lists_filter_and_paginate_with_totals,
);

async fn flows_are_created_read_updated_and_deleted_with_versions(db: &TestDb) {
    let server = TestServer::start(db).await;
    // As JSON…
    let created = server
        .post(
            "/api/v1/flows",
            &json!({"yaml": flow_yaml("orders", Some("shop"), &["smoke"])}),
        )
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/flows/{id}").as_str())
    );
    assert_eq!(created.json["name"], "orders");
    assert_eq!(created.json["suite"], "shop");
    assert_eq!(created.json["tags"], json!(["smoke"]));
    assert_eq!(created.json["version"], 1);
    assert_eq!(created.json["definition"]["steps"][0]["action"], "log");
    // …or as YAML.
    let yaml = server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml; charset=utf-8",
            flow_yaml("users", None, &[]),
        )
        .await
        .expect(201);
    assert_eq!(yaml.json["name"], "users");

    let got = server.get(&format!("/api/v1/flows/{id}")).await.expect(200);
    assert_eq!(
        got.json["yaml"],
        flow_yaml("orders", Some("shop"), &["smoke"])
    );
    // Ids are not case-sensitive UUIDs.
    server
        .get(&format!("/api/v1/flows/{}", id.to_uppercase()))
        .await
        .expect(200);

    // A second save is version 2; name, suite and tags follow the YAML.
    let updated = server
        .put(
            &format!("/api/v1/flows/{id}"),
            &json!({"yaml": flow_yaml("orders-v2", Some("shop"), &["nightly"])}),
        )
        .await
        .expect(200);
    assert_eq!(updated.json["version"], 2);
    assert_eq!(updated.json["name"], "orders-v2");
    let versions = server
        .get(&format!("/api/v1/flows/{id}/versions"))
        .await
        .expect(200);
    let numbers: Vec<i64> = versions.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let v1 = server
        .get(&format!("/api/v1/flows/{id}/versions/1"))
        .await
        .expect(200);
    assert_eq!(
        v1.json["yaml"],
        flow_yaml("orders", Some("shop"), &["smoke"])
    );
    for missing in ["3", "0", "-1", "x", "1.5", "99999999999999999999"] {
        server
            .get(&format!("/api/v1/flows/{id}/versions/{missing}"))
            .await
            .expect_error(404, "not_found");
    }

    // Names are unique among live flows.
    server
        .put(
            &format!("/api/v1/flows/{id}"),
            &json!({"yaml": flow_yaml("users", None, &[])}),
        )
        .await
        .expect_error(409, "conflict");
    server
        .post(
            "/api/v1/flows",
            &json!({"yaml": flow_yaml("users", None, &[])}),
        )
        .await
        .expect_error(409, "conflict");

    // Soft delete: gone from reads and lists, the name is free again, versions stay.
    server
        .delete(&format!("/api/v1/flows/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/flows/{id}"))
        .await
        .expect_error(404, "not_found");
    server
        .delete(&format!("/api/v1/flows/{id}"))
        .await
        .expect_error(404, "not_found");
    server
        .put(
            &format!("/api/v1/flows/{id}"),
            &json!({"yaml": flow_yaml("orders-v2", None, &[])}),
        )
        .await
        .expect_error(404, "not_found");
    let list = server.get("/api/v1/flows").await.expect(200);
    assert_eq!(list.json["total"], 1);
    server
        .get(&format!("/api/v1/flows/{id}/versions"))
        .await
        .expect(200);
    server
        .post(
            "/api/v1/flows",
            &json!({"yaml": flow_yaml("orders-v2", None, &[])}),
        )
        .await
        .expect(201);
}

async fn invalid_flows_get_every_finding_with_its_position(db: &TestDb) {
    let server = TestServer::start(db).await;
    let before = server.counts().await;
    // Two problems: an http_request without url (line 6) and a step without action (line 7).
    let bad = "name: bad\nsteps:\n  - id: a\n    action: http_request\n    config:\n      method: GET\n  - id: b\n";
    for reply in [
        server.post("/api/v1/flows", &json!({"yaml": bad})).await,
        server
            .raw(Method::POST, "/api/v1/flows", "text/yaml", bad)
            .await,
    ] {
        let reply = reply.expect_error(422, "invalid_flow");
        let findings = reply.json["details"]["diagnostics"].as_array().unwrap();
        let errors: Vec<(i64, i64, &str)> = findings
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| {
                (
                    d["line"].as_i64().unwrap(),
                    d["column"].as_i64().unwrap(),
                    d["message"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(errors.len() >= 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|(l, c, m)| (*l, *c) == (6, 7) && m.contains("url")),
            "{errors:?}"
        );
        assert!(errors.iter().any(|(l, _, _)| *l == 7), "{errors:?}");
        assert!(reply.json["error"].as_str().unwrap().contains("6:7"));
    }
    // YAML syntax errors have positions too; so does a NUL character.
    let reply = server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml",
            "name: x\nsteps: [\n",
        )
        .await
        .expect_error(422, "invalid_flow");
    assert!(
        reply.json["details"]["diagnostics"][0]["line"]
            .as_i64()
            .unwrap()
            >= 2
    );
    server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml",
            "name: \"a\\0b\"\nsteps:\n  - action: log\n    config: {message: hi}\n",
        )
        .await
        .expect_error(422, "invalid_flow");
    // An update with invalid YAML keeps the flow as it was.
    let id = server.create_flow("good", None, &[]).await;
    server
        .put(&format!("/api/v1/flows/{id}"), &json!({"yaml": bad}))
        .await
        .expect_error(422, "invalid_flow");
    let flow = server.get(&format!("/api/v1/flows/{id}")).await.expect(200);
    assert_eq!(flow.json["version"], 1);
    let after = server.counts().await;
    assert_eq!(after[0], before[0] + 1, "only the good flow was saved");
}

async fn flow_lists_filter_and_paginate_with_totals(db: &TestDb) {
    let server = TestServer::start(db).await;
    for i in 0..25 {
        let suite = if i % 2 == 0 { "even" } else { "odd" };
        let tags: &[&str] = if i % 5 == 0 {
            &["smoke", "api"]
        } else {
            &["api"]
        };
        server
            .create_flow(&format!("flow-{i:02}"), Some(suite), tags)
            .await;
    }
    let server = &server;
    let page = |query: &str| {
        let path = format!("/api/v1/flows?{query}");
        async move { server.get(&path).await.expect(200).json }
    };
    let first = page("").await;
    assert_eq!(
        (
            first["total"].clone(),
            first["limit"].clone(),
            first["offset"].clone()
        ),
        (json!(25), json!(20), json!(0))
    );
    assert_eq!(first["flows"].as_array().unwrap().len(), 20);
    assert_eq!(first["flows"][0]["name"], "flow-00");
    let second = page("limit=10&offset=20").await;
    let names: Vec<&str> = second["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["flow-20", "flow-21", "flow-22", "flow-23", "flow-24"]
    );
    assert_eq!(second["total"], 25);
    assert_eq!(page("offset=100").await["flows"], json!([]));

    assert_eq!(page("suite=even").await["total"], 13);
    assert_eq!(page("tag=smoke").await["total"], 5);
    assert_eq!(page("tag=smoke&suite=odd").await["total"], 2);
    assert_eq!(page("tags=smoke&tags=nothing").await["total"], 5);
    assert_eq!(page("search=FLOW-1").await["total"], 10);
    assert_eq!(page("search=-0&limit=2").await["total"], 10);

    // SQL-looking text in every filter matches nothing and breaks nothing.
    for text in SQL_LOOKING {
        let q: String = url_encode(text);
        for filter in ["suite", "tag", "tags", "search"] {
            // `%` and `_` are literal characters, not wildcards: no flow has them.
            let result = page(&format!("{filter}={q}")).await;
            assert_eq!(result["total"], 0, "{filter}={text}");
        }
    }
    assert_eq!(server.counts().await[0], 25);

    // Bad paging and unknown parameters are 400s.
    for query in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "offset=-1",
        "suite=a&suite=b",
        "sort=name",
        "tag[]=x",
    ] {
        server
            .get(&format!("/api/v1/flows?{query}"))
            .await
            .expect_error(
                400,
                if query.starts_with("sort") || query.starts_with("tag[") {
                    "unknown_parameter"
                } else {
                    "invalid_parameter"
                },
            );
    }
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
