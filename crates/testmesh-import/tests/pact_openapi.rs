//! A pact checked against an OpenAPI document: missing routes and methods, invalid requests,
//! undocumented statuses and response bodies that break the documented schema.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use serde_json::{Value, json};
use testmesh_contract::diff::Severity;
use testmesh_contract::pact_from_json;
use testmesh_import::openapi::OpenApi;
use testmesh_import::pact::check_pact_against_openapi;

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Users, version: "1"}
servers: [{url: "http://localhost/v1"}]
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a user
          content:
            application/json:
              schema:
                type: object
                required: [id, name]
                properties:
                  id: {type: integer}
                  name: {type: string}
                  role: {type: string, enum: [admin, member]}
        "404": {description: not found}
  /users:
    post:
      operationId: createUser
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
      responses:
        "201": {description: created}
        default: {description: problem}
"#;

fn http(description: &str, request: Value, response: Value) -> Value {
    json!({"type": "Synchronous/HTTP", "description": description,
           "request": request, "response": response})
}

fn check(interactions: Vec<Value>) -> Vec<(String, Severity, String, String)> {
    let pact = pact_from_json(&json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}}
    }))
    .unwrap();
    let api = OpenApi::parse(SPEC, "users.yaml").unwrap();
    check_pact_against_openapi(&pact, &api)
        .unwrap()
        .into_iter()
        .map(|c| (c.rule.to_string(), c.severity, c.path, c.message))
        .collect()
}

fn json_body(content: Value) -> Value {
    json!({"content": content, "contentType": "application/json", "encoded": false})
}

#[test]
fn a_documented_interaction_passes_with_or_without_the_base_path() {
    let good = |path: &str| {
        http(
            "get a user",
            json!({"method": "GET", "path": path}),
            json!({"status": 200, "headers": {"Content-Type": ["application/json"]},
                   "body": json_body(json!({"id": 1, "name": "Alice", "role": "admin"}))}),
        )
    };
    assert_eq!(check(vec![good("/users/1"), good("/v1/users/1")]), vec![]);
}

#[test]
fn missing_routes_and_methods_are_breaking() {
    let found = check(vec![
        http(
            "list orders",
            json!({"method": "GET", "path": "/orders"}),
            json!({"status": 200}),
        ),
        http(
            "delete a user",
            json!({"method": "DELETE", "path": "/users/1"}),
            json!({"status": 204}),
        ),
    ]);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].0, "openapi_route_missing");
    assert_eq!(found[0].1, Severity::Breaking);
    assert_eq!(
        found[0].3,
        "no operation of the OpenAPI document matches GET /orders"
    );
    assert_eq!(found[1].0, "openapi_method_missing");
    assert!(found[1].3.contains("allowed: GET"), "{}", found[1].3);
}

#[test]
fn invalid_requests_and_response_bodies_are_breaking() {
    let found = check(vec![
        http(
            "get a user by name",
            json!({"method": "GET", "path": "/users/alice"}),
            json!({"status": 200}),
        ),
        http(
            "create a user",
            json!({"method": "POST", "path": "/users",
                   "headers": {"Content-Type": ["application/json"]},
                   "body": json_body(json!({"nick": "a"}))}),
            json!({"status": 201}),
        ),
        http(
            "get a user",
            json!({"method": "GET", "path": "/users/1"}),
            json!({"status": 200, "headers": {"Content-Type": ["application/json"]},
                   "body": json_body(json!({"id": "1", "role": "owner"}))}),
        ),
    ]);
    let rules: Vec<(&str, &str)> = found
        .iter()
        .map(|(r, _, p, _)| (r.as_str(), p.as_str()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("openapi_request_invalid", "path.id"),
            ("openapi_request_invalid", "body/name"),
            ("openapi_response_invalid", "$"),
            ("openapi_response_invalid", "$.id"),
            ("openapi_response_invalid", "$.role"),
        ]
    );
    assert!(found.iter().all(|f| f.1 == Severity::Breaking));
    assert!(
        found[3].3.contains("getUser's schema for 200"),
        "{}",
        found[3].3
    );
}

#[test]
fn undocumented_statuses() {
    let found = check(vec![
        http(
            "get a user that is gone",
            json!({"method": "GET", "path": "/users/1"}),
            json!({"status": 410}),
        ),
        http(
            "create a duplicate user",
            json!({"method": "POST", "path": "/users",
                   "headers": {"Content-Type": ["application/json"]},
                   "body": json_body(json!({"name": "a"}))}),
            json!({"status": 409}),
        ),
    ]);
    assert_eq!(found[0].0, "openapi_status_undocumented");
    assert_eq!(found[0].1, Severity::Breaking);
    assert_eq!(
        found[0].3,
        "getUser does not document status 410 (documented: 200, 404)"
    );
    assert_eq!(found[1].0, "openapi_status_default");
    assert_eq!(found[1].1, Severity::Info);
}
