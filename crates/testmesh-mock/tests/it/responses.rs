use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn every_template_variable() {
    let (_hub, mock) = start(
        r#"
name: templates
endpoints:
  - path: /t/:id
    method: POST
    response:
      status: 201
      headers: {X-Echo: "{{headers.X-In}}", X-Id: "id-{{path.id}}"}
      body:
        path: "{{path.id}}"
        go_path: "{{.path.id}}"
        query: "{{query.q}}"
        go_query: "{{.query.q}}"
        header: "{{headers.X-In}}"
        header_alias: "{{header.x-in}}"
        go_header: "{{.headers.X-In}}"
        name: "{{request.body.name}}"
        go_body: "{{.body.name}}"
        nested: "{{request.body.tags[1]}}"
        whole: "{{request.body}}"
        method: "{{request.method}}"
        req_path: "{{request.path}}"
        ip: "{{request.ip}}"
        uuid: "{{random.uuid}}"
        int: "{{random.int}}"
        ranged: "{{random.int(3,4)}}"
        string: "{{random.string(12)}}"
        timestamp: "{{timestamp}}"
        unix: "{{timestamp_unix}}"
        count: "{{request_count}}"
        text: "user {{request.body.name}} #{{request_count}}"
        missing: "{{query.nope}}"
        missing_in_text: "[{{query.nope}}]"
        number: "{{request.body.n}}"
"#,
    )
    .await;
    let c = client();
    let send_one = || {
        c.post(url(&mock, "/t/42?q=alice"))
            .header("x-in", "hello")
            .json(&json!({"name": "Bob", "tags": ["a", "b"], "n": 2.5}))
    };
    let response = send_one().send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-echo"], "hello");
    assert_eq!(response.headers()["x-id"], "id-42");
    assert_eq!(response.headers()["content-type"], "application/json");
    let b: Value = response.json().await.unwrap();
    for (key, want) in [
        ("path", json!("42")),
        ("go_path", json!("42")),
        ("query", json!("alice")),
        ("go_query", json!("alice")),
        ("header", json!("hello")),
        ("header_alias", json!("hello")),
        ("go_header", json!("hello")),
        ("name", json!("Bob")),
        ("go_body", json!("Bob")),
        ("nested", json!("b")),
        (
            "whole",
            json!({"name": "Bob", "tags": ["a", "b"], "n": 2.5}),
        ),
        ("method", json!("POST")),
        ("req_path", json!("/t/42")),
        ("ip", json!("127.0.0.1")),
        ("count", json!(1)),
        ("text", json!("user Bob #1")),
        ("missing", Value::Null),
        ("missing_in_text", json!("[]")),
        ("number", json!(2.5)),
    ] {
        assert_eq!(b[key], want, "{key}");
    }
    assert!(uuid::Uuid::parse_str(b["uuid"].as_str().unwrap()).is_ok());
    assert!(b["int"].is_i64());
    assert!([json!(3), json!(4)].contains(&b["ranged"]));
    assert_eq!(b["string"].as_str().unwrap().len(), 12);
    assert!(chrono::DateTime::parse_from_rfc3339(b["timestamp"].as_str().unwrap()).is_ok());
    assert!(b["unix"].as_i64().unwrap() > 1_700_000_000);
    let b: Value = send_one().send().await.unwrap().json().await.unwrap();
    assert_eq!(b["count"], json!(2));
}

#[tokio::test]
async fn each_state_change_and_state_in_templates() {
    let (_hub, mock) = start(
        r#"
name: state
state: {counter: 0, flag: false, items: [], gone: 1}
endpoints:
  - path: /inc
    method: POST
    response:
      body: {counter: "{{state.counter}}"}
      state_changes: [{action: increment, path: counter}]
  - path: /dec
    method: POST
    response:
      body: {counter: "{{state.counter}}"}
      state_changes: [{action: decrement, path: counter, value: 5}]
  - path: /set/:v
    method: POST
    response:
      body: {last: "{{state.last.value}}"}
      state_changes: [{action: set, path: last.value, value: "{{path.v}}"}]
  - path: /append
    method: POST
    response:
      body: {items: "{{state.items}}"}
      state_changes: [{action: append, path: items, value: "{{request.body}}"}]
  - path: /toggle
    method: POST
    response:
      body: {flag: "{{state.flag}}"}
      state_changes: [{action: toggle, path: flag}]
  - path: /delete
    method: POST
    response:
      body: {gone: "{{state.gone}}", all: "{{state}}"}
      state_changes: [{action: delete, path: gone}]
"#,
    )
    .await;
    let c = client();
    let post = |p: &str| c.post(url(&mock, p));
    assert_eq!(send(post("/inc")).await.1, json!({"counter": 1}));
    assert_eq!(send(post("/inc")).await.1, json!({"counter": 2}));
    assert_eq!(send(post("/dec")).await.1, json!({"counter": -3}));
    assert_eq!(send(post("/set/abc")).await.1, json!({"last": "abc"}));
    assert_eq!(
        send(post("/append").json(&json!({"id": 1}))).await.1,
        json!({"items": [{"id": 1}]})
    );
    assert_eq!(send(post("/toggle")).await.1, json!({"flag": true}));
    assert_eq!(send(post("/toggle")).await.1, json!({"flag": false}));
    let (_, b) = send(post("/delete")).await;
    assert_eq!(b["gone"], Value::Null);
    assert!(b["all"].get("gone").is_none());
    assert_eq!(mock.state_value("counter"), Some(json!(-3)));
    mock.reset_state();
    assert_eq!(mock.state_value("counter"), Some(json!(0)));
    assert_eq!(mock.state_value("gone"), Some(json!(1)));
    mock.set_state("counter", Some(json!(41)));
    assert_eq!(send(post("/inc")).await.1, json!({"counter": 42}));
}

#[tokio::test]
async fn conditional_responses() {
    let (_hub, mock) = start(
        r#"
name: conditional
state: {logged_in: false}
endpoints:
  - path: /login
    method: POST
    response:
      status: 204
      state_changes: [{action: set, path: logged_in, value: true}]
  - path: /me
    responses:
      - when: "state.logged_in == true"
        body: {ok: true}
      - when: "query.as == 'admin'"
        status: 403
        body: {error: admins log in first}
      - status: 401
        body: {error: log in}
  - path: /only-when
    responses:
      - when: "headers['x-v'] == '2'"
        body_text: v2
    response: {body_text: default}
"#,
    )
    .await;
    assert_eq!(get(&mock, "/me").await, (401, json!({"error": "log in"})));
    assert_eq!(get(&mock, "/me?as=admin").await.0, 403);
    assert_eq!(send(client().post(url(&mock, "/login"))).await.0, 204);
    assert_eq!(get(&mock, "/me").await, (200, json!({"ok": true})));
    assert_eq!(get(&mock, "/only-when").await.1, json!("default"));
    assert_eq!(
        send(client().get(url(&mock, "/only-when")).header("x-v", "2"))
            .await
            .1,
        json!("v2")
    );
}

#[tokio::test]
async fn original_keys_file_bodies_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("user.json"), r#"{"from": "file"}"#).unwrap();
    let file = dir.path().join("mock.yaml");
    std::fs::write(
        &file,
        r#"
name: original
endpoints:
  - path: /file
    response: {body_from_file: user.json, headers: {X-Source: disk}}
  - path: /legacy
    response: {status_code: 202, body_json: {a: 1}, delay_ms: 1, headers: {Content-Type: application/vnd.x+json}}
  - path: /text
    response: {body_text: "hello {{query.name}}"}
  - path: /literal
    response: {body: {raw: "{{not a template"}, template: false}
"#,
    )
    .unwrap();
    let hub = testmesh_mock::MockHub::new(Default::default());
    let mock = hub
        .start(testmesh_mock::load::load_file(&file).unwrap().remove(0))
        .await
        .unwrap();
    let r = client().get(url(&mock, "/file")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-source"], "disk");
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"from": "file"}));
    let r = client().get(url(&mock, "/legacy")).send().await.unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["content-type"], "application/vnd.x+json");
    let r = client()
        .get(url(&mock, "/text?name=Ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "hello Ann");
    assert_eq!(
        get(&mock, "/literal").await.1,
        json!({"raw": "{{not a template"})
    );
}
