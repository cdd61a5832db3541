use serde_json::json;
use testmesh_mock::{MockDefinition, load};

fn yaml_error(text: &str) -> String {
    load::load_str(text, Some(std::path::Path::new("mocks/api.yaml")))
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let e = yaml_error("name: x\nendpoints:\n  - path: /a\n    response: {status: 200\n");
    assert!(e.starts_with("mocks/api.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn unknown_keys_are_errors_with_suggestions() {
    let e = yaml_error("name: x\nendpoints:\n  - path: /a\n    respnse: {status: 200}\n");
    assert_eq!(
        e,
        "mocks/api.yaml:4:5: endpoints[0].respnse: unknown key `respnse` in an endpoint (did you mean `response`?)"
    );
    let e = yaml_error("name: x\nendpoints:\n  - path: /a\n    response: {stauts: 200}\n");
    assert!(
        e.contains("endpoints[0].response.stauts: unknown key"),
        "{e}"
    );
    assert!(e.contains("did you mean `status`?"), "{e}");
}

#[test]
fn invalid_regex_template_and_expression_are_located() {
    let text = "name: x\nendpoints:\n  - path: /a\n  - path: /b\n  - path: /c\n    match:\n      path_pattern: \"^/users/(\"\n";
    let e = yaml_error(text);
    assert!(
        e.starts_with("mocks/api.yaml:7:21: endpoints[2].match.path_pattern: invalid regex"),
        "{e}"
    );
    let e = load::mock_from_json(&json!({
        "name": "x",
        "endpoints": [{}, {"path": "/b"}, {"path": "/c", "match": {"path_pattern": "^/users/("}}]
    }))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("endpoints[0]: an endpoint needs a `path`"),
        "{e}"
    );
    assert!(
        e.contains("endpoints[2].match.path_pattern: invalid regex \"^/users/(\""),
        "{e}"
    );
    let e = yaml_error(
        "name: x\nendpoints:\n  - path: /a\n    response:\n      body: {id: \"{{stat.id}}\"}\n",
    );
    assert!(
        e.starts_with(
            "mocks/api.yaml:5:13: endpoints[0].response.body.id: unknown template variable"
        ),
        "{e}"
    );
    assert!(e.contains("did you mean `state`?"), "{e}");
    let e = load::mock_from_json(&json!({"name": "x", "endpoints": [{"path": "/a", "response": {"status_code": 200, "body_json": {"a": "{{path.id"}}}]}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("endpoints[0].response.body_json.a: unclosed"),
        "{e}"
    );
    let e = load::mock_from_json(&json!({"name": "x", "endpoints": [{"path": "/a", "match": {"query_params": {"q": "regex:("}, "body_matches": "body.("}}]}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("endpoints[0].match.query_params.q: invalid regex"),
        "{e}"
    );
    assert!(
        e.contains("endpoints[0].match.body_matches[0]: invalid expression"),
        "{e}"
    );
}

#[test]
fn other_bad_input() {
    let e = load::mock_from_json(&json!({"name": "x", "endpoints": [{"path": "a", "method": "GE T"}], "chaos_rules": [{"probability": 0.7, "response": {}}, {"probability": 0.6, "response": {}}]}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("must start with `/`"), "{e}");
    assert!(e.contains("not an HTTP method"), "{e}");
    assert!(e.contains("more than 1"), "{e}");
    let e = load::mock_from_json(&json!({"name": "x", "mode": "record", "endpoints": []}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("record mode needs `proxy"), "{e}");
    let e = load::mock_from_json(&json!({"name": "x", "endpoints": [{"path": "/a", "response": {"body": 1, "body_text": "x"}}]}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot both be given"), "{e}");
    let e = load::mock_from_json(&json!({"name": "x", "endpoints": [{"path": "/a", "response": {"state_changes": [{"action": "incremnt", "path": "n"}]}}]}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `increment`?"), "{e}");
    let e = load::mock_from_json(&json!({"endpoints": []}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs a `name`"), "{e}");
}

#[test]
fn several_mocks_per_file_and_canonical_round_trip() {
    let mocks = load::load_str(
        r#"
mocks:
  - name: a
    port: 0
    tls: true
    state: {n: 1}
    journal: {max_entries: 10}
    chaos_rules: [{probability: 0.5, response: {status: 503, delay: {min: 1ms, max: 2s}}}]
    proxy: {target: "http://localhost:1"}
    endpoints:
      - id: e1
        path: /users/:id
        method: get
        priority: 3
        match: {query_params: {q: x}, headers: {X-A: "regex:^a"}, body_json: {k: [1, {z: true}]}, body_equals: "t", body_pattern: "^t", body_matches: ["true"]}
        responses:
          - when: "state.n == 1"
            status_code: 202
            body_text: "{{path.id}}"
        response: {status_code: 200, body_json: {x: "{{query.q}}"}, delay_ms: 150, headers: {X-H: v}, hang: false, close_connection: true,
                   state_changes: [{action: append, path: list, value: "{{path.id}}"}]}
        state: {state_key: c, initial_value: 0, update_rule: increment, update_value: 2}
  - name: b
    endpoints: []
"#,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mocks.len(), 2);
    let a = &mocks[0];
    assert_eq!(a.endpoints[0].method, "GET");
    assert_eq!(a.endpoints[0].match_.query["q"], "x");
    let canonical = a.to_json();
    assert_eq!(canonical["endpoints"][0]["response"]["delay"], "150ms");
    assert_eq!(
        canonical["endpoints"][0]["match"]["body"],
        json!({"k": [1, {"z": true}]})
    );
    assert_eq!(canonical["tls"], true);
    let back = load::mock_from_json(&canonical).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&back, a);
    let via_serde: MockDefinition = serde_json::from_value(canonical.clone()).unwrap();
    assert_eq!(&via_serde, a);
    // And through YAML text.
    let yaml = testmesh_flow::to_yaml(&canonical);
    assert_eq!(&load::load_str(&yaml, None).unwrap()[0], a);
}
