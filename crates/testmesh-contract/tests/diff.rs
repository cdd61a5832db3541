//! Breaking-change detection: one test per rule, each on a minimal pair of pacts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use serde_json::{Value, json};
use testmesh_contract::diff::{DiffError, Severity};
use testmesh_contract::{Change, diff_pacts, pact_from_json};

fn http(description: &str, request: Value, response: Value) -> Value {
    json!({"type": "Synchronous/HTTP", "description": description,
           "request": request, "response": response})
}

fn pact(interactions: Vec<Value>) -> Value {
    json!({"consumer": {"name": "web"}, "provider": {"name": "api"},
           "interactions": interactions,
           "metadata": {"pactSpecification": {"version": "4.0"}}})
}

fn body(content: Value) -> Value {
    json!({"content": content, "contentType": "application/json", "encoded": false})
}

fn get_user(response_body: Value, rules: Value) -> Value {
    http(
        "get a user",
        json!({"method": "GET", "path": "/users/1"}),
        json!({"status": 200, "headers": {"Content-Type": ["application/json"], "ETag": ["x"]},
               "body": body(response_body), "matchingRules": {"body": rules}}),
    )
}

fn create_user(request_body: Value, rules: Value) -> Value {
    http(
        "create a user",
        json!({"method": "POST", "path": "/users", "headers": {"Content-Type": ["application/json"]},
               "body": body(request_body), "matchingRules": {"body": rules}}),
        json!({"status": 201}),
    )
}

fn diff(old: Vec<Value>, new: Vec<Value>) -> Vec<Change> {
    let old = pact_from_json(&pact(old)).unwrap();
    let new = pact_from_json(&pact(new)).unwrap();
    diff_pacts(&old, &new).unwrap().changes
}

fn rules(changes: &[Change]) -> Vec<(&'static str, Severity, String)> {
    changes
        .iter()
        .map(|c| (c.rule, c.severity, c.location()))
        .collect()
}

#[test]
fn interactions_removed_and_added() {
    let user = get_user(json!({"id": 1}), json!({}));
    let other = http(
        "list users",
        json!({"method": "GET", "path": "/users"}),
        json!({"status": 200}),
    );
    let report = diff_pacts(
        &pact_from_json(&pact(vec![user.clone()])).unwrap(),
        &pact_from_json(&pact(vec![other])).unwrap(),
    )
    .unwrap();
    assert_eq!(
        rules(&report.changes),
        vec![
            (
                "interaction_removed",
                Severity::Breaking,
                "interaction".into()
            ),
            ("interaction_added", Severity::Info, "interaction".into()),
        ]
    );
    assert_eq!(
        report.changes[0].to_string(),
        "[breaking] get a user: interaction: GET /users/1 was removed"
    );
    assert!(report.has_breaking());
    assert_eq!(report.summary.breaking, 1);
    assert!(diff(vec![user.clone()], vec![user]).is_empty());
}

#[test]
fn response_field_removed_added_and_type_changed() {
    let changes = diff(
        vec![get_user(
            json!({"id": 1, "name": "A", "address": {"city": "X", "zip": "1"}}),
            json!({}),
        )],
        vec![get_user(
            json!({"id": "1", "address": {"city": "X"}, "email": "a@b"}),
            json!({}),
        )],
    );
    assert_eq!(
        rules(&changes),
        vec![
            (
                "type_changed",
                Severity::Breaking,
                "response.body $.id".into()
            ),
            (
                "response_field_removed",
                Severity::Breaking,
                "response.body $.name".into()
            ),
            (
                "response_field_removed",
                Severity::Breaking,
                "response.body $.address.zip".into()
            ),
            (
                "response_field_added",
                Severity::Info,
                "response.body $.email".into()
            ),
        ]
    );
    assert_eq!(changes[0].message, "type changed from number to string");
}

#[test]
fn array_items_compare_on_their_first_element() {
    let changes = diff(
        vec![get_user(json!({"items": [{"price": 1.5}]}), json!({}))],
        vec![get_user(json!({"items": [{"price": "1.5"}]}), json!({}))],
    );
    assert_eq!(changes[0].location(), "response.body $.items[*].price");
    assert_eq!(changes[0].severity, Severity::Breaking);
}

#[test]
fn status_changes() {
    let with_status = |status: u16, rules: Value| {
        http(
            "get a user",
            json!({"method": "GET", "path": "/users/1"}),
            json!({"status": status, "matchingRules": rules}),
        )
    };
    let changes = diff(
        vec![with_status(200, json!({}))],
        vec![with_status(201, json!({}))],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "status_changed",
            Severity::Breaking,
            "response.status".into()
        )]
    );
    assert_eq!(changes[0].message, "status changed from 200 to 201");
    // A status matcher that still accepts the old status makes it information.
    let changes = diff(
        vec![with_status(200, json!({}))],
        vec![with_status(
            201,
            json!({"status": {"matchers": [{"match": "statusCode", "status": "success"}]}}),
        )],
    );
    assert_eq!(changes[0].severity, Severity::Info);
}

#[test]
fn headers_removed_added_and_changed() {
    let response = |headers: Value| {
        http(
            "get a user",
            json!({"method": "GET", "path": "/users/1", "headers": {"Accept": ["application/json"]}}),
            json!({"status": 200, "headers": headers}),
        )
    };
    let changes = diff(
        vec![response(
            json!({"ETag": ["x"], "Cache-Control": ["no-cache"]}),
        )],
        vec![response(
            json!({"Cache-Control": ["max-age=60"], "X-New": ["1"]}),
        )],
    );
    assert_eq!(
        rules(&changes),
        vec![
            (
                "response_header_removed",
                Severity::Breaking,
                "response.headers ETag".into()
            ),
            (
                "response_header_value_changed",
                Severity::Warning,
                "response.headers Cache-Control".into()
            ),
            (
                "response_header_added",
                Severity::Info,
                "response.headers X-New".into()
            ),
        ]
    );
    let request = |headers: Value| {
        http(
            "get a user",
            json!({"method": "GET", "path": "/users/1", "headers": headers}),
            json!({"status": 200}),
        )
    };
    let changes = diff(
        vec![request(json!({"Accept": ["application/json"]}))],
        vec![request(json!({"Authorization": ["Bearer x"]}))],
    );
    assert_eq!(
        rules(&changes),
        vec![
            (
                "request_header_added",
                Severity::Breaking,
                "request.headers Authorization".into()
            ),
            (
                "request_header_removed",
                Severity::Info,
                "request.headers Accept".into()
            ),
        ]
    );
}

#[test]
fn new_required_request_fields_and_query_parameters() {
    let changes = diff(
        vec![create_user(json!({"name": "A", "nick": "a"}), json!({}))],
        vec![create_user(json!({"name": "A", "email": "a@b"}), json!({}))],
    );
    assert_eq!(
        rules(&changes),
        vec![
            (
                "request_field_added",
                Severity::Breaking,
                "request.body $.email".into()
            ),
            (
                "request_field_removed",
                Severity::Info,
                "request.body $.nick".into()
            ),
        ]
    );
    assert!(changes[0].message.starts_with("new required request field"));
    let query = |q: Value| {
        http(
            "search",
            json!({"method": "GET", "path": "/users", "query": q}),
            json!({"status": 200}),
        )
    };
    let changes = diff(
        vec![query(json!({"q": ["a"]}))],
        vec![query(json!({"q": ["a"], "page": ["1"]}))],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "request_query_added",
            Severity::Breaking,
            "request.query page".into()
        )]
    );
}

#[test]
fn method_and_path_changes() {
    let one = |method: &str, path: &str| {
        http(
            "get a user",
            json!({"method": method, "path": path}),
            json!({"status": 200}),
        )
    };
    let changes = diff(vec![one("GET", "/users/1")], vec![one("POST", "/people/1")]);
    assert_eq!(
        rules(&changes),
        vec![
            (
                "request_method_changed",
                Severity::Breaking,
                "request.method".into()
            ),
            (
                "request_path_changed",
                Severity::Breaking,
                "request.path".into()
            ),
        ]
    );
}

#[test]
fn request_matchers_tightened_and_loosened() {
    let type_rule = json!({"$.age": {"matchers": [{"match": "type"}]}});
    let int_rule = json!({"$.age": {"matchers": [{"match": "integer"}]}});
    let changes = diff(
        vec![create_user(json!({"age": 3}), type_rule.clone())],
        vec![create_user(json!({"age": 3}), int_rule.clone())],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "request_matcher_tightened",
            Severity::Breaking,
            "request.body $.age".into()
        )]
    );
    assert_eq!(
        changes[0].message,
        "the request became stricter: matched by type, now by integer"
    );
    let changes = diff(
        vec![create_user(json!({"age": 3}), int_rule)],
        vec![create_user(json!({"age": 3}), type_rule)],
    );
    assert_eq!(changes[0].rule, "request_matcher_loosened");
    assert_eq!(changes[0].severity, Severity::Info);
}

#[test]
fn response_matchers_loosened_and_tightened() {
    let changes = diff(
        vec![get_user(
            json!({"id": 1}),
            json!({"$.id": {"matchers": [{"match": "integer"}]}}),
        )],
        vec![get_user(
            json!({"id": 1}),
            json!({"$.id": {"matchers": [{"match": "type"}]}}),
        )],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "response_matcher_loosened",
            Severity::Warning,
            "response.body $.id".into()
        )]
    );
    let changes = diff(
        vec![get_user(
            json!({"id": 1}),
            json!({"$.id": {"matchers": [{"match": "type"}]}}),
        )],
        vec![get_user(json!({"id": 1}), json!({}))],
    );
    assert_eq!(changes[0].rule, "response_matcher_tightened");
    assert_eq!(changes[0].severity, Severity::Info);
}

#[test]
fn enums_narrowed_and_widened_through_regex_matchers() {
    let status_rule =
        |re: &str| json!({"$.status": {"matchers": [{"match": "regex", "regex": re}]}});
    let changes = diff(
        vec![create_user(
            json!({"status": "active"}),
            status_rule("^(active|inactive|banned)$"),
        )],
        vec![create_user(
            json!({"status": "active"}),
            status_rule("^(active|inactive)$"),
        )],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "request_values_narrowed",
            Severity::Breaking,
            "request.body $.status".into()
        )]
    );
    assert_eq!(
        changes[0].message,
        "allowed values narrowed: banned no longer accepted"
    );
    let changes = diff(
        vec![get_user(
            json!({"status": "active"}),
            status_rule("active|inactive"),
        )],
        vec![get_user(
            json!({"status": "active"}),
            status_rule("active|inactive|deleted"),
        )],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "response_values_widened",
            Severity::Warning,
            "response.body $.status".into()
        )]
    );
    // Regexes that are not enums: the old example decides.
    let changes = diff(
        vec![create_user(
            json!({"code": "ab12"}),
            json!({"$.code": {"matchers": [{"match": "regex", "regex": "[a-z0-9]+"}]}}),
        )],
        vec![create_user(
            json!({"code": "12"}),
            json!({"$.code": {"matchers": [{"match": "regex", "regex": "\\d+"}]}}),
        )],
    );
    assert_eq!(changes[0].rule, "request_values_narrowed");
    assert!(
        changes[0]
            .message
            .contains("the old example 'ab12' no longer matches")
    );
}

#[test]
fn array_size_rules_and_body_removal() {
    let items = |rule: Value| get_user(json!({"items": [1]}), json!({"$.items": rule}));
    let changes = diff(
        vec![items(json!({"matchers": [{"match": "type", "min": 1}]}))],
        vec![items(json!({"matchers": [{"match": "type", "min": 0}]}))],
    );
    assert_eq!(
        rules(&changes),
        vec![(
            "array_size_changed",
            Severity::Warning,
            "response.body $.items".into()
        )]
    );
    let no_body = http(
        "get a user",
        json!({"method": "GET", "path": "/users/1"}),
        json!({"status": 200}),
    );
    let changes = diff(vec![get_user(json!({"id": 1}), json!({}))], vec![no_body]);
    assert!(
        changes
            .iter()
            .any(|c| c.rule == "response_body_removed" && c.severity == Severity::Breaking)
    );
}

#[test]
fn messages_compare_like_responses() {
    let message = |content: Value, metadata: Value| {
        json!({"type": "Asynchronous/Messages", "description": "order created",
               "contents": body(content), "metadata": metadata})
    };
    let changes = diff(
        vec![message(
            json!({"id": 1, "total": 2}),
            json!({"topic": "orders"}),
        )],
        vec![message(json!({"id": 1}), json!({}))],
    );
    assert_eq!(
        rules(&changes),
        vec![
            (
                "response_field_removed",
                Severity::Breaking,
                "message.contents $.total".into()
            ),
            (
                "response_header_removed",
                Severity::Breaking,
                "message.metadata topic".into()
            ),
        ]
    );
}

#[test]
fn pacts_between_other_parties_are_refused() {
    let old = pact_from_json(&pact(vec![])).unwrap();
    let mut new = old.clone();
    new.provider.name = "other".into();
    assert!(matches!(
        diff_pacts(&old, &new),
        Err(DiffError::DifferentParties { .. })
    ));
}
