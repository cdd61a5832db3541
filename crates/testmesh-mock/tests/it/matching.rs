use serde_json::json;

use crate::common::*;

const MOCK: &str = r#"
name: matching
endpoints:
  - path: /users/:id
    method: GET
    match:
      headers: {X-Api-Key: "regex:^k-"}
    response: {body: {id: "{{path.id}}", by: colon}}
  - path: /orgs/{org}/repos/{repo}
    response: {body: {org: "{{path.org}}", repo: "{{path.repo}}"}}
  - path: /files/*
    response: {body_text: wildcard}
  - path: /any-method
    method: "*"
    response: {body_text: "{{request.method}}"}
  - path: /pattern
    match: {path_pattern: "^/items/(?P<n>[0-9]+)$"}
    response: {body: {n: "{{path.n}}"}}
  - path: /search
    match: {query: {q: alice, page: "regex:^[0-9]+$"}}
    response: {body_text: found}
  - path: /legacy-query
    match: {query_params: {q: bob}}
    response: {body_text: legacy}
  - path: /exact
    method: POST
    match: {body_equals: {a: 1, b: [1, 2]}}
    response: {body_text: exact-json}
  - path: /exact
    method: POST
    match: {body_equals: "plain text"}
    response: {body_text: exact-text}
  - path: /partial
    method: POST
    match: {body: {user: {name: Alice}, items: [{sku: a}, {tags: [x]}]}}
    response: {body_text: partial}
  - path: /legacy-partial
    method: POST
    match: {body_json: {kind: x}}
    response: {body_text: legacy-partial}
  - path: /pattern-body
    method: POST
    match: {body_pattern: "^\\{\"op\""}
    response: {body_text: body-pattern}
  - path: /expr
    method: POST
    match: {body_matches: ["body.items.length > 1", "headers['x-mode'] == 'fast'"]}
    response: {body_text: expr}
"#;

#[tokio::test]
async fn every_matching_rule_over_http() {
    let (_hub, mock) = start(MOCK).await;
    let c = client();
    let (s, b) = send(c.get(url(&mock, "/users/42")).header("x-api-key", "k-1")).await;
    assert_eq!((s, b), (200, json!({"id": "42", "by": "colon"})));
    // Header names are case-insensitive; values are regexes here.
    let (s, _) = send(c.get(url(&mock, "/users/42")).header("X-API-KEY", "k-2")).await;
    assert_eq!(s, 200);
    let (s, b) = send(c.get(url(&mock, "/users/42")).header("x-api-key", "nope")).await;
    assert_eq!(s, 404);
    assert_eq!(b["closest"][0]["endpoint"], "GET /users/:id");
    assert_eq!(
        b["closest"][0]["reasons"][0],
        "header X-Api-Key: expected regex ^k-, got nope"
    );
    let (s, b) = get(&mock, "/users/42").await;
    assert_eq!(s, 404);
    assert_eq!(
        b["closest"][0]["reasons"][0],
        "header X-Api-Key: expected regex ^k-, got none"
    );
    assert_eq!(
        get(&mock, "/orgs/acme/repos/mesh").await.1,
        json!({"org": "acme", "repo": "mesh"})
    );
    assert_eq!(get(&mock, "/files/a/b/c.txt").await.1, json!("wildcard"));
    let (_, b) = send(c.delete(url(&mock, "/any-method"))).await;
    assert_eq!(b, json!("DELETE"));
    assert_eq!(get(&mock, "/items/7").await.1, json!({"n": "7"}));
    assert_eq!(get(&mock, "/items/x").await.0, 404);
    assert_eq!(get(&mock, "/search?q=alice&page=2").await.1, json!("found"));
    assert_eq!(get(&mock, "/search?q=alice&page=x").await.0, 404);
    assert_eq!(get(&mock, "/search?q=bob&page=1").await.0, 404);
    assert_eq!(get(&mock, "/legacy-query?q=bob").await.1, json!("legacy"));
    let (_, b) = send(
        c.post(url(&mock, "/exact"))
            .json(&json!({"b": [1, 2], "a": 1.0})),
    )
    .await;
    assert_eq!(b, json!("exact-json"));
    let (_, b) = send(c.post(url(&mock, "/exact")).body("plain text")).await;
    assert_eq!(b, json!("exact-text"));
    let (s, _) = send(
        c.post(url(&mock, "/exact"))
            .json(&json!({"a": 1, "b": [1, 2], "c": 3})),
    )
    .await;
    assert_eq!(s, 404);
    let body = json!({"user": {"name": "Alice", "age": 3}, "items": [{"sku": "a", "q": 1}, {"tags": ["x"], "sku": "b"}]});
    assert_eq!(
        send(c.post(url(&mock, "/partial")).json(&body)).await.1,
        json!("partial")
    );
    let wrong = json!({"user": {"name": "Alice"}, "items": [{"sku": "a"}, {"tags": ["y"]}]});
    let (s, b) = send(c.post(url(&mock, "/partial")).json(&wrong)).await;
    assert_eq!(s, 404);
    assert_eq!(
        b["closest"][0]["reasons"][0],
        r#"body.items[1].tags[0]: expected "x", got "y""#
    );
    assert_eq!(
        send(
            c.post(url(&mock, "/legacy-partial"))
                .json(&json!({"kind": "x", "more": 1}))
        )
        .await
        .1,
        json!("legacy-partial")
    );
    assert_eq!(
        send(c.post(url(&mock, "/pattern-body")).body(r#"{"op": 1}"#))
            .await
            .1,
        json!("body-pattern")
    );
    let (_, b) = send(
        c.post(url(&mock, "/expr"))
            .header("x-mode", "fast")
            .json(&json!({"items": [1, 2]})),
    )
    .await;
    assert_eq!(b, json!("expr"));
    let (s, b) = send(
        c.post(url(&mock, "/expr"))
            .header("x-mode", "fast")
            .json(&json!({"items": [1]})),
    )
    .await;
    assert_eq!(s, 404);
    assert!(
        b["closest"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("body.items.length > 1"),
        "{b}"
    );
}

#[tokio::test]
async fn malformed_json_with_a_body_match_is_no_match() {
    let (_hub, mock) = start(MOCK).await;
    let (s, b) = send(client().post(url(&mock, "/partial")).body("{not json")).await;
    assert_eq!(s, 404);
    assert_eq!(
        b["closest"][0]["reasons"][0],
        "body: expected JSON, got a body that is not JSON"
    );
    // The mock keeps serving.
    assert_eq!(get(&mock, "/files/x").await.0, 200);
}

#[tokio::test]
async fn priority_then_definition_order() {
    let (_hub, mock) = start(
        r#"
name: priority
endpoints:
  - {path: "/things/*", response: {body_text: first-wildcard}}
  - {path: "/things/*", response: {body_text: second-wildcard}}
  - {path: "/things/special", priority: 10, response: {body_text: special}}
  - {path: "/things/:id", priority: 5, response: {body_text: param}}
"#,
    )
    .await;
    assert_eq!(get(&mock, "/things/special").await.1, json!("special"));
    assert_eq!(get(&mock, "/things/other").await.1, json!("param"));
    assert_eq!(get(&mock, "/things/a/b").await.1, json!("first-wildcard"));
    // Endpoints added while serving are sorted in by priority (the original appended them).
    let ids = mock
        .add_endpoints(vec![
            testmesh_mock::load::endpoint_from_json(
                &json!({"path": "/things/a/b", "priority": 1, "response": {"body_text": "added"}}),
            )
            .unwrap(),
        ])
        .unwrap();
    assert_eq!(get(&mock, "/things/a/b").await.1, json!("added"));
    assert!(mock.remove_endpoint(&ids[0]));
    assert_eq!(get(&mock, "/things/a/b").await.1, json!("first-wildcard"));
}

#[tokio::test]
async fn upsert_by_method_and_path_while_serving() {
    let (_hub, mock) =
        start("name: up\nendpoints:\n  - {path: /v, response: {body_text: one}}\n").await;
    let id = mock.endpoints()[0].id.clone().unwrap();
    let (new_id, replaced) = mock
        .upsert_endpoint(
            testmesh_mock::load::endpoint_from_json(
                &json!({"path": "/v", "response": {"body_text": "two"}}),
            )
            .unwrap(),
        )
        .unwrap();
    assert!(replaced);
    assert_eq!(new_id, id);
    assert_eq!(get(&mock, "/v").await.1, json!("two"));
    let (_, replaced) = mock
        .upsert_endpoint(
            testmesh_mock::load::endpoint_from_json(&json!({"path": "/w", "method": "post"}))
                .unwrap(),
        )
        .unwrap();
    assert!(!replaced);
    assert_eq!(mock.endpoints().len(), 2);
    assert_eq!(mock.endpoints()[1].method, "POST");
}
