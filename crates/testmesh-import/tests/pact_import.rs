//! Pacts (V2, V3, V4) imported as flows: the flows load cleanly, carry the pact's requests,
//! provider states and generators, accept exactly the responses the pact's matching rules accept,
//! and run with the real runner against a local provider (passing when it honours the pact,
//! failing when it breaks a matched type). Bad pacts fail with a location.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Query};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use testmesh_contract::{
    Body, HttpResponse, InteractionKind, Multimap, match_response, parse_pact,
};
use testmesh_flow::{Flow, Step};
use testmesh_import::pact_import::import;
use testmesh_import::{Import, ImportError, Source};
use testmesh_runner::{
    FlowRecord, FlowStatus, NoEvents, RunOptions, Runner, Secrets, StepStatus, actions,
};

fn fixture(name: &str) -> Import {
    let path = format!("{}/tests/fixtures/pact/{name}", env!("CARGO_MANIFEST_DIR"));
    let source = Source::load(Path::new(&path)).unwrap();
    import(&source).unwrap()
}

/// The flow, which must load with no errors and no warnings.
fn load_clean(yaml: &str) -> Flow {
    let loaded = testmesh_flow::load_str(yaml);
    let findings: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| format!("{:?} line {}: {}", d.severity, d.span.line, d.message))
        .collect();
    assert!(findings.is_empty(), "{findings:#?}\n{yaml}");
    loaded.flow.unwrap()
}

fn only_flow(import: &Import) -> (Flow, &str) {
    assert_eq!(import.flows.len(), 1, "{:#?}", import.skipped);
    let yaml = import.flows[0].yaml.as_str();
    (load_clean(yaml), yaml)
}

fn step<'f>(flow: &'f Flow, id: &str) -> &'f Step {
    flow.steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

fn config(step: &Step) -> Value {
    step.config.to_json()
}

fn assertions(step: &Step) -> Vec<String> {
    step.assert
        .iter()
        .map(|a| a.expr.source().to_string())
        .collect()
}

#[test]
fn v2_pact_becomes_one_flow_with_the_requests_and_their_expectations() {
    let import = fixture("v2.json");
    assert_eq!(import.title, "Web App → Animal Service");
    assert!(import.skipped.is_empty() && import.untranslated.is_empty());
    let (flow, yaml) = only_flow(&import);
    assert!(yaml.starts_with("# Imported from the pact "), "{yaml}");
    assert!(yaml.contains("#   - there are alligators\n"), "{yaml}");
    assert_eq!(flow.name, "Web App → Animal Service");
    assert_eq!(flow.env["BASE_URL"], json!("http://localhost:8080"));
    let tags: Vec<&str> = flow.tags.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(tags, ["pact", "web-app", "animal-service"]);

    let list = step(&flow, "a_request_for_alligators");
    assert_eq!(
        list.description.as_deref(),
        Some("Given there are alligators.")
    );
    assert_eq!(
        config(list),
        json!({"method": "GET", "url": "${BASE_URL}/alligators",
               "headers": {"Accept": "application/json"},
               "params": {"limit": "2", "sort": "name"}})
    );
    let asserts = assertions(list);
    assert_eq!(asserts[0], "status == 200");
    assert!(
        asserts.contains(&r"headers['x-request-id'] matches '^(?:[a-z]+-\\d+)$'".to_string()),
        "{asserts:#?}"
    );
    assert!(
        asserts[3].starts_with("body matches_schema {"),
        "{asserts:#?}"
    );

    // Text from the pact is sent as written, never read as a flow reference.
    let create = step(&flow, "a_request_to_create_an_alligator");
    assert_eq!(
        config(create)["body"],
        json!({"name": "Ally $${not a variable}", "age": 1})
    );
}

#[test]
fn v3_provider_states_become_variables_that_generators_and_assertions_use() {
    let import = fixture("v3.json");
    let (flow, yaml) = only_flow(&import);
    assert!(
        yaml.contains("#   - an order exists (orderId: 1042, customer: \"ann@example.com\")"),
        "{yaml}"
    );
    // Parameters of different values get their own names.
    let env: Vec<(&str, &Value)> = flow.env.iter().map(|(k, v)| (k.as_str(), v)).collect();
    assert_eq!(
        env,
        [
            ("BASE_URL", &json!("http://localhost:8080")),
            ("orderId", &json!(1042)),
            ("customer", &json!("ann@example.com")),
            ("orderId_2", &json!(7)),
        ]
    );
    let get = step(&flow, "get_an_existing_order");
    assert_eq!(
        get.description.as_deref(),
        Some("Given an order exists (orderId: 1042, customer: \"ann@example.com\").")
    );
    assert_eq!(config(get)["url"], json!("${BASE_URL}/orders/${orderId}"));
    let asserts = assertions(get);
    assert!(asserts.contains(&"body.id == ${orderId}".to_string()));
    assert!(asserts.contains(&"body.customer == ${customer}".to_string()));

    let cancel = step(&flow, "cancel_an_order");
    let cancel_config = config(cancel);
    assert_eq!(
        cancel_config["url"],
        json!("${BASE_URL}/orders/${orderId_2}/cancel")
    );
    assert_eq!(
        cancel_config["body"],
        json!({"orderId": "${orderId_2}", "requestId": "${UUID}", "note": "n/a"})
    );
    assert_eq!(
        cancel_config["params"],
        json!({"reason": "changed mind", "notify": ["true", "false"]})
    );
    assert_eq!(import.untranslated.len(), 1, "{:#?}", import.untranslated);
    assert!(import.untranslated[0].what.contains("RandomString"));

    let missing = step(&flow, "a_missing_order");
    assert_eq!(
        assertions(missing),
        [
            "status == 404",
            r"headers['content-type'] matches '(?i)^text/plain\\s*(;.*)?$'",
            "body == 'no such order'"
        ]
    );
}

#[test]
fn v4_message_and_plugin_interactions_are_skipped_and_pending_ones_do_not_fail_the_flow() {
    let import = fixture("v4.json");
    let skipped: Vec<(&str, &str)> = import
        .skipped
        .iter()
        .map(|s| (s.item.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:#?}");
    assert!(skipped[0].0.contains("Asynchronous/Messages") && skipped[0].1.contains("message"));
    assert!(skipped[1].0.contains("Synchronous/Messages"));
    assert!(skipped[2].1.contains("plugin protobuf"), "{skipped:#?}");
    let (flow, yaml) = only_flow(&import);
    assert!(yaml.contains("# Not imported:\n"), "{yaml}");
    assert_eq!(flow.steps.len(), 2);
    let list = step(&flow, "list_accounts");
    assert_eq!(assertions(list)[0], "status >= 200 and status < 300");
    let pending = step(&flow, "delete_an_account_pending");
    assert_eq!(
        pending.on_error,
        testmesh_flow::model::step::OnFailure::Continue
    );
}

#[test]
fn a_pact_with_only_messages_yields_no_flow() {
    let source = Source::parse(
        r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
            "messages": [{"description": "an event", "contents": {"id": 1}}],
            "metadata": {"pactSpecification": {"version": "3.0.0"}}}"#,
        "m.json",
    )
    .unwrap();
    let import = import(&source).unwrap();
    assert!(import.flows.is_empty());
    assert_eq!(import.skipped.len(), 1);
}

/// A response as the runner's step result shows it.
struct Actual {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Value,
}

fn flow_accepts(step: &Step, env: &Map<String, Value>, actual: &Actual) -> Result<(), String> {
    let mut scope = env.clone();
    scope.insert("status".into(), json!(actual.status));
    scope.insert(
        "headers".into(),
        Value::Object(
            actual
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
                .collect(),
        ),
    );
    scope.insert("body".into(), actual.body.clone());
    for assertion in &step.assert {
        assertion.expr.check(&scope).map_err(|f| f.message)?;
    }
    Ok(())
}

fn pact_accepts(expected: &HttpResponse, actual: &Actual) -> Result<(), String> {
    let mut headers = Multimap::new();
    for (k, v) in &actual.headers {
        headers.insert((*k).to_string(), vec![(*v).to_string()]);
    }
    let response = HttpResponse {
        status: actual.status,
        headers,
        body: Body::json(&actual.body),
        ..HttpResponse::default()
    };
    let mismatches = match_response(expected, &response);
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(mismatches
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "))
    }
}

/// For each actual response: the flow's assertions and the pact's matching engine agree, and
/// agree with the expected verdict.
fn agree(fixture_name: &str, interaction: usize, step_id: &str, cases: &[(bool, Actual)]) {
    let path = format!(
        "{}/tests/fixtures/pact/{fixture_name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let pact = parse_pact(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let InteractionKind::Http { response, .. } = &pact.interactions[interaction].kind else {
        panic!("not HTTP")
    };
    let imported = fixture(fixture_name);
    let (flow, _) = only_flow(&imported);
    let env: Map<String, Value> = flow
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let step = step(&flow, step_id);
    for (i, (accepted, actual)) in cases.iter().enumerate() {
        let by_flow = flow_accepts(step, &env, actual);
        let by_pact = pact_accepts(response, actual);
        assert_eq!(
            by_flow.is_ok(),
            *accepted,
            "case {i}: flow says {by_flow:?} for {}",
            actual.body
        );
        assert_eq!(
            by_pact.is_ok(),
            *accepted,
            "case {i}: pact says {by_pact:?} for {}",
            actual.body
        );
    }
}

fn json_response(status: u16, body: Value) -> Actual {
    Actual {
        status,
        headers: vec![("Content-Type", "application/json")],
        body,
    }
}

#[test]
fn v4_rules_accept_and_reject_what_the_pact_does() {
    let ok = |body: Value| (true, json_response(200, body));
    let bad = |body: Value| (false, json_response(200, body));
    agree(
        "v4.json",
        0,
        "list_accounts",
        &[
            ok(json!({"accounts": [{"id": "a1", "balance": 10, "tags": {"tier": "gold"}}]})),
            ok(json!({"accounts": [
                {"id": "a2", "balance": null, "tags": {}},
                {"id": "a33", "balance": -4, "tags": {"tier": "x", "region": "eu"}, "more": true}
            ], "next": null})),
            bad(json!({"accounts": []})),
            bad(json!({})),
            bad(json!({"accounts": [{"id": "b1", "balance": 1, "tags": {}}]})),
            bad(json!({"accounts": [{"id": "a1", "balance": 1.5, "tags": {}}]})),
            bad(json!({"accounts": [{"id": "a1", "balance": "10", "tags": {}}]})),
            bad(json!({"accounts": [{"id": "a1", "balance": 1, "tags": {"Tier": "gold"}}]})),
            bad(json!({"accounts": [{"id": "a1", "balance": 1, "tags": {"tier": 5}}]})),
            bad(json!({"accounts": [{"id": "a1", "tags": {}}]})),
            (
                true,
                json_response(
                    201,
                    json!({"accounts": [{"id": "a1", "balance": 1, "tags": {}}]}),
                ),
            ),
            (
                false,
                json_response(
                    404,
                    json!({"accounts": [{"id": "a1", "balance": 1, "tags": {}}]}),
                ),
            ),
        ],
    );
}

#[test]
fn v2_rules_accept_and_reject_what_the_pact_does() {
    let with = |request_id: &'static str, body: Value| Actual {
        status: 200,
        headers: vec![
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-Request-Id", request_id),
        ],
        body,
    };
    let gators = |total: Value| json!({"alligators": [{"name": "Al", "age": 1, "nickname": null}], "total": total});
    agree(
        "v2.json",
        0,
        "a_request_for_alligators",
        &[
            (true, with("xyz-9", gators(json!(1)))),
            (true, with("xyz-9", gators(json!("12")))),
            (false, with("xyz-9", gators(json!("twelve")))),
            (false, with("XYZ-9", gators(json!(1)))),
            (
                true,
                with(
                    "a-1",
                    json!({"alligators": [
                        {"name": "A", "age": 1, "nickname": null},
                        {"name": "B", "age": 2, "nickname": "bee"},
                        {"name": "C", "age": 3, "nickname": null}
                    ], "total": 3}),
                ),
            ),
            (
                false,
                with(
                    "a-1",
                    json!({"alligators": [{"name": 5, "age": 1, "nickname": null}], "total": 1}),
                ),
            ),
            (false, with("a-1", json!({"alligators": [], "total": 0}))),
        ],
    );
}

fn invalid(text: &str) -> String {
    let source = Source::parse(text, "bad.json").unwrap();
    match import(&source) {
        Err(e @ ImportError::Invalid { .. }) => e.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn bad_pacts_fail_with_the_location_of_the_problem() {
    let bad_regex = invalid(
        r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
  "interactions": [{"description": "d", "request": {"method": "GET", "path": "/"},
    "response": {"status": 200, "body": {"a": "x"},
      "matchingRules": {"body": {"$.a": {"matchers": [{"match": "regex", "regex": "(unclosed"}]}}}}}],
  "metadata": {"pactSpecification": {"version": "3.0.0"}}}"#,
    );
    assert!(bad_regex.starts_with("bad.json:4:"), "{bad_regex}");
    assert!(
        bad_regex.contains("invalid regular expression '(unclosed'"),
        "{bad_regex}"
    );
    assert!(
        bad_regex.contains("#/interactions/0/response/matchingRules/body/$.a/matchers/0"),
        "{bad_regex}"
    );

    let unknown = invalid(
        r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
  "interactions": [{"type": "Synchronous/HTTP", "description": "d",
    "request": {"method": "GET", "path": "/"},
    "response": {"status": 200, "matchingRules": {"header": {"X": {"matchers": [{"match": "fuzzy"}]}}}}}]}"#,
    );
    assert!(
        unknown.contains("unknown matcher type 'fuzzy'"),
        "{unknown}"
    );
    assert!(unknown.starts_with("bad.json:4:"), "{unknown}");

    let no_method = invalid(
        r#"{"consumer": {"name": "c"}, "provider": {"name": "p"},
  "interactions": [{"description": "d", "request": {"method": 5, "path": "/"}, "response": {"status": 200}}]}"#,
    );
    assert!(
        no_method.starts_with("bad.json:2:") && no_method.ends_with("expected a string"),
        "{no_method}"
    );

    let not_a_pact = invalid(r#"{"openapi": "3.0.0", "paths": {}}"#);
    assert!(not_a_pact.contains("not a pact"), "{not_a_pact}");
    let syntax = Source::parse("{\"consumer\": ", "bad.json").err().unwrap();
    assert!(
        matches!(syntax, ImportError::Syntax { line: 1, .. }),
        "{syntax}"
    );
}

// ---- Running the generated flow against a local provider ----

/// The orders provider of `v3.json`; `broken` answers the order id as a string.
fn orders_provider(broken: bool) -> Router {
    Router::new()
        .route(
            "/orders/{id}",
            get(
                move |axum::extract::Path(id): axum::extract::Path<String>| async move {
                    match id.as_str() {
                        "1042" => Json(json!({
                            "id": if broken { json!("1042") } else { json!(1042) },
                            "customer": "ann@example.com",
                            "status": "PAID",
                            "placed_at": "2025-01-02T03:04:05+01:00",
                            "delivery_date": "2025-01-04",
                            "total": 99,
                            "version": "2.0.1",
                            "lines": [{"sku": "B", "qty": 1}, {"sku": "C", "qty": 3}],
                            "meta": {"source": "app", "region": "eu"},
                            "extra": "ignored"
                        }))
                        .into_response(),
                        _ => (
                            StatusCode::NOT_FOUND,
                            [(header::CONTENT_TYPE, "text/plain")],
                            "no such order",
                        )
                            .into_response(),
                    }
                },
            ),
        )
        .route(
            "/orders/{id}/cancel",
            post(
                |axum::extract::Path(id): axum::extract::Path<String>,
                 Query(query): Query<Vec<(String, String)>>,
                 Json(body): Json<Value>| async move {
                    // The request the pact describes, with generated values in place.
                    let request_id = body["requestId"].as_str().unwrap_or_default();
                    let expected_query = [
                        ("reason".to_string(), "changed mind".to_string()),
                        ("notify".to_string(), "true".to_string()),
                        ("notify".to_string(), "false".to_string()),
                    ];
                    if id != "7"
                        || body["orderId"] != json!(7)
                        || request_id.len() != 36
                        || request_id == "00000000-0000-0000-0000-000000000000"
                        || query != expected_query
                    {
                        return (
                            StatusCode::BAD_REQUEST,
                            Json(json!({"got": body, "query": query})),
                        )
                            .into_response();
                    }
                    (StatusCode::ACCEPTED, Json(json!({"cancelled": true}))).into_response()
                },
            ),
        )
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}")
}

async fn run_against(base_url: &str, flow: &Flow) -> FlowRecord {
    let runner = Runner::new(
        actions::builtin(),
        Arc::new(NoEvents),
        Secrets::new(Vec::<String>::new()),
        testmesh_runner::FlowLibrary::default(),
    );
    let mut options = RunOptions::default();
    options
        .variables
        .cli_vars
        .insert("BASE_URL".into(), json!(base_url));
    runner.run(flow, None, &options).await
}

fn failures(record: &FlowRecord) -> Vec<String> {
    record
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .map(|s| {
            format!(
                "{}: {}",
                s.id,
                s.error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_flow_passes_against_a_provider_that_honours_the_pact() {
    let base_url = serve(orders_provider(false)).await;
    let imported = fixture("v3.json");
    let (flow, _) = only_flow(&imported);
    let record = run_against(&base_url, &flow).await;
    assert_eq!(
        record.status,
        FlowStatus::Passed,
        "{:#?}",
        failures(&record)
    );
    assert_eq!(record.steps.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_flow_fails_when_the_provider_breaks_a_matched_type() {
    let base_url = serve(orders_provider(true)).await;
    let imported = fixture("v3.json");
    let (flow, _) = only_flow(&imported);
    let record = run_against(&base_url, &flow).await;
    assert_eq!(record.status, FlowStatus::Failed);
    let failed = failures(&record);
    // fail_fast is off: the other interactions still ran and passed.
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].starts_with("get_an_existing_order: "),
        "{failed:#?}"
    );
    assert!(failed[0].contains("/id"), "{failed:#?}");
    assert_eq!(
        record
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Passed)
            .count(),
        2
    );
}
