//! Verification over real HTTP: a local axum provider (correct and broken variants) and a
//! state-change endpoint that records every call.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use testmesh_contract::verify::{Outcome, VerifyEvent};
use testmesh_contract::{
    InteractionFilter, PactSource, VerifyOptions, pact_from_json, verify_pacts,
};

#[derive(Clone, Default)]
struct Recorder {
    states: Arc<Mutex<Vec<Value>>>,
    seen: Arc<Mutex<Vec<String>>>,
    broken: bool,
}

impl Recorder {
    fn states(&self) -> Vec<Value> {
        self.states.lock().unwrap().clone()
    }
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn close(mut response: Response) -> Response {
    // Every response closes its connection, so a stopped provider is really gone.
    response
        .headers_mut()
        .insert("connection", "close".parse().unwrap());
    response
}

async fn user(State(r): State<Recorder>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    r.seen.lock().unwrap().push(format!(
        "GET /users/{id} x-request-id={}",
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    ));
    let id_value = if r.broken {
        json!(id)
    } else {
        json!(id.parse::<i64>().unwrap_or(-1))
    };
    Json(json!({"id": id_value, "name": "Alice", "tags": ["a", "b"]})).into_response()
}

async fn create_item(
    State(r): State<Recorder>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    r.seen.lock().unwrap().push(format!(
        "POST /items {body} auth={}",
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    ));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer good") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "no"}))).into_response();
    }
    let status = if r.broken {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(json!({"id": 7, "name": body["name"]}))).into_response()
}

async fn message(State(r): State<Recorder>, Json(ask): Json<Value>) -> Response {
    r.seen.lock().unwrap().push(format!("MESSAGE {ask}"));
    let total = if r.broken { json!("12.5") } else { json!(12.5) };
    let metadata = base64_encode(&json!({"topic": "orders"}).to_string());
    (
        [("pact-message-metadata", metadata)],
        Json(json!({"orderId": 1, "total": total})),
    )
        .into_response()
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(3)).await;
    Json(json!({})).into_response()
}

fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts the provider; returns its base URL and the server task (abort it to stop the provider).
async fn provider(recorder: Recorder) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/items", post(create_item))
        .route("/messages", post(message))
        .route("/slow", get(slow))
        .layer(axum::middleware::map_response(close))
        .with_state(recorder);
    serve(app).await
}

async fn serve(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), task)
}

/// The state-change endpoint: records each call; `a user exists` answers the user's id; `broken
/// state` answers 500; `the provider crashes` stops the provider.
async fn state_server(
    recorder: Recorder,
    provider_task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
) -> String {
    let handler = {
        let recorder = recorder.clone();
        move |Query(query): Query<Vec<(String, String)>>, body: String| {
            let recorder = recorder.clone();
            let provider_task = provider_task.clone();
            async move {
                let call: Value = if body.is_empty() {
                    json!({"query": query})
                } else {
                    serde_json::from_str(&body).unwrap()
                };
                recorder.states.lock().unwrap().push(call.clone());
                let state = call["state"].as_str().unwrap_or_else(|| {
                    query
                        .iter()
                        .find(|(k, _)| k == "state")
                        .map_or("", |(_, v)| v.as_str())
                });
                match state {
                    "a user exists" => Json(json!({"userId": 42})).into_response(),
                    "broken state" => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "no such state").into_response()
                    }
                    "the provider crashes" => {
                        if let Some(task) = provider_task.lock().unwrap().take() {
                            task.abort();
                        }
                        StatusCode::OK.into_response()
                    }
                    _ => StatusCode::OK.into_response(),
                }
            }
        }
    };
    let (url, _) = serve(Router::new().route("/_state", post(handler))).await;
    format!("{url}/_state")
}

fn pact(extra: Vec<Value>) -> Value {
    let mut interactions = vec![
        json!({
            "type": "Synchronous/HTTP",
            "description": "get a user",
            "providerStates": [{"name": "a user exists", "params": {"name": "Alice"}}],
            "request": {
                "method": "GET", "path": "/users/1",
                "headers": {"X-Request-Id": ["example"]},
                "generators": {
                    "path": {"type": "ProviderState", "expression": "/users/${userId}"},
                    "header": {"X-Request-Id": {"type": "Uuid"}}
                }
            },
            "response": {
                "status": 200,
                "body": {"content": {"id": 1, "name": "Alice", "tags": ["x"]},
                         "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": {
                    "$.id": {"matchers": [{"match": "integer"}]},
                    "$.tags": {"matchers": [{"match": "type", "min": 1}]}
                }}
            }
        }),
        json!({
            "type": "Synchronous/HTTP",
            "description": "create an item",
            "request": {
                "method": "POST", "path": "/items",
                "headers": {"Content-Type": ["application/json"], "Authorization": ["Bearer from-pact"]},
                "body": {"content": {"name": "pen"}, "contentType": "application/json", "encoded": false}
            },
            "response": {
                "status": 201,
                "body": {"content": {"id": 1, "name": "pen"}, "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": {"$.id": {"matchers": [{"match": "type"}]}}}
            }
        }),
        json!({
            "type": "Asynchronous/Messages",
            "description": "an order created event",
            "providerStates": [{"name": "an order exists", "params": {"id": 1}}],
            "contents": {"content": {"orderId": 1, "total": 10.0}, "contentType": "application/json", "encoded": false},
            "metadata": {"topic": "orders"},
            "matchingRules": {"content": {"$.total": {"matchers": [{"match": "number"}]}}}
        }),
    ];
    interactions.extend(extra);
    json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}}
    })
}

fn sources(value: &Value) -> Vec<PactSource> {
    vec![PactSource {
        source: "pacts/web-users.json".into(),
        pact: pact_from_json(value).unwrap(),
    }]
}

struct Setup {
    recorder: Recorder,
    options: VerifyOptions,
}

async fn setup(broken: bool) -> Setup {
    let recorder = Recorder {
        broken,
        ..Recorder::default()
    };
    let (base, task) = provider(recorder.clone()).await;
    let state_url = state_server(recorder.clone(), Arc::new(Mutex::new(Some(task)))).await;
    let mut options = VerifyOptions::new(&base);
    options.state_change_url = Some(state_url);
    options.state_change_teardown = true;
    options.headers = vec![("Authorization".into(), "Bearer good".into())];
    options.message_url = Some(format!("{base}/messages"));
    Setup { recorder, options }
}

#[tokio::test]
async fn a_correct_provider_passes_with_states_set_up_and_torn_down_in_order() {
    let s = setup(false).await;
    let events = Mutex::new(Vec::new());
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|e| {
        events.lock().unwrap().push(match e {
            VerifyEvent::Started { total } => format!("started {total}"),
            VerifyEvent::InteractionStarted { description, .. } => format!("start {description}"),
            VerifyEvent::InteractionFinished { result, .. } => {
                format!("done {} {}", result.description, result.outcome.as_str())
            }
        });
    })
    .await
    .unwrap();
    for (_, r) in report.results() {
        assert_eq!(r.outcome, Outcome::Passed, "{r:#?}");
    }
    assert!(!report.failed());
    assert_eq!(report.summary.passed, 3);
    assert_eq!(
        events.into_inner().unwrap(),
        vec![
            "started 3",
            "start get a user",
            "done get a user passed",
            "start create an item",
            "done create an item passed",
            "start an order created event",
            "done an order created event passed",
        ]
    );
    // The reference's request shape; an interaction without states gets one call with "".
    assert_eq!(
        s.recorder.states(),
        vec![
            json!({"state": "a user exists", "params": {"name": "Alice"}, "action": "setup"}),
            json!({"state": "a user exists", "params": {"name": "Alice"}, "action": "teardown"}),
            json!({"state": "", "params": {}, "action": "setup"}),
            json!({"state": "", "params": {}, "action": "teardown"}),
            json!({"state": "an order exists", "params": {"id": 1}, "action": "setup"}),
            json!({"state": "an order exists", "params": {"id": 1}, "action": "teardown"}),
        ]
    );
    let seen = s.recorder.seen();
    // The path came from the state-change answer, the header from the Uuid generator.
    let (path, request_id) = seen[0].split_once(" x-request-id=").unwrap();
    assert_eq!(path, "GET /users/42");
    assert!(uuid::Uuid::parse_str(request_id).is_ok(), "{request_id}");
    // The custom header replaced the pact's.
    assert_eq!(seen[1], r#"POST /items {"name":"pen"} auth=Bearer good"#);
    assert_eq!(
        seen[2],
        r#"MESSAGE {"description":"an order created event","providerStates":[{"name":"an order exists","params":{"id":1}}]}"#
    );
    // Custom header values are masked in the report.
    let (_, created) = report.results().nth(1).unwrap();
    let sent = created.request.as_ref().unwrap();
    assert!(
        sent.headers
            .contains(&("authorization".into(), "****".into()))
    );
    assert!(!report.to_json_string().contains("Bearer good"));
}

#[tokio::test]
async fn a_broken_provider_fails_with_precise_mismatches_and_valid_junit() {
    let s = setup(true).await;
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|_| {})
        .await
        .unwrap();
    assert!(report.failed());
    let results: Vec<_> = report.results().map(|(_, r)| r.clone()).collect();
    assert!(results.iter().all(|r| r.outcome == Outcome::Failed));
    assert_eq!(
        results[0].mismatches[0].text,
        "$.id: expected an integer, got string \"42\""
    );
    assert_eq!(results[1].mismatches[0].kind, "status");
    assert_eq!(results[2].mismatches[0].path, "$.total");
    assert_eq!(report.summary.failed, 3);

    let xml = report.to_junit().unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    assert_eq!(
        cases[0].attribute("name"),
        Some("get a user (given a user exists)")
    );
    let failure = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure.attribute("message").unwrap().contains("$.id"));

    let json: Value = serde_json::from_str(&report.to_json_string()).unwrap();
    assert_eq!(json["summary"]["failed"], 3);
    assert_eq!(json["pacts"][0]["interactions"][0]["outcome"], "failed");
    assert_eq!(
        json["pacts"][0]["interactions"][0]["mismatches"][0]["path"],
        "$.id"
    );
}

#[tokio::test]
async fn a_failing_pending_interaction_does_not_fail_the_run() {
    let s = setup(false).await;
    let pending = json!({
        "type": "Synchronous/HTTP", "description": "a future endpoint", "pending": true,
        "request": {"method": "GET", "path": "/not-yet"},
        "response": {"status": 200}
    });
    let report = verify_pacts(&sources(&pact(vec![pending])), &s.options, &|_| {})
        .await
        .unwrap();
    let (_, last) = report.results().last().unwrap();
    assert_eq!(last.outcome, Outcome::Pending);
    assert_eq!(last.mismatches[0].text, "status: expected 200, got 404");
    assert!(!report.failed());
    assert_eq!(report.summary.pending, 1);
    let xml = report.to_junit().unwrap();
    assert!(
        xml.contains("pending: status: expected 200, got 404"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_provider_that_goes_down_mid_run_errors_the_remaining_interactions() {
    let s = setup(false).await;
    let crash = json!({
        "type": "Synchronous/HTTP", "description": "after the crash",
        "providerStates": [{"name": "the provider crashes"}],
        "request": {"method": "GET", "path": "/users/3"},
        "response": {"status": 200}
    });
    let later = json!({
        "type": "Synchronous/HTTP", "description": "still reported",
        "request": {"method": "GET", "path": "/users/4"},
        "response": {"status": 200}
    });
    let report = verify_pacts(&sources(&pact(vec![crash, later])), &s.options, &|_| {})
        .await
        .unwrap();
    let outcomes: Vec<_> = report.results().map(|(_, r)| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Passed,
            Outcome::Passed,
            Outcome::Passed,
            Outcome::Error,
            Outcome::Error
        ]
    );
    let (_, last) = report.results().last().unwrap();
    let error = last.error.as_deref().unwrap();
    assert!(
        error.starts_with("request to the provider failed:"),
        "{error}"
    );
    assert!(error.to_lowercase().contains("connect"), "{error}");
    assert!(report.failed());
    assert_eq!(report.summary.errors, 2);
}

#[tokio::test]
async fn state_change_failures_error_the_interaction() {
    let s = setup(false).await;
    let broken = json!({
        "type": "Synchronous/HTTP", "description": "needs a broken state",
        "providerStates": [{"name": "broken state"}],
        "request": {"method": "GET", "path": "/users/1"},
        "response": {"status": 200}
    });
    let value = pact(vec![broken]);
    let report = verify_pacts(&sources(&value), &s.options, &|_| {})
        .await
        .unwrap();
    let (_, last) = report.results().last().unwrap();
    assert_eq!(last.outcome, Outcome::Error);
    assert_eq!(
        last.error.as_deref(),
        Some(
            "provider state 'broken state' setup failed: the state-change URL answered 500: no such state"
        )
    );
    assert!(
        last.request.is_none(),
        "nothing is sent after a failed setup"
    );

    // An unreachable state-change URL: every interaction errors, naming the cause.
    let mut options = s.options.clone();
    options.state_change_url = Some("http://127.0.0.1:9/_state".into());
    let report = verify_pacts(&sources(&value), &options, &|_| {})
        .await
        .unwrap();
    for (_, r) in report.results() {
        assert_eq!(r.outcome, Outcome::Error);
        let error = r.error.as_deref().unwrap();
        assert!(error.starts_with("provider state "), "{error}");
        assert!(
            error.contains("failed: error sending request for url (http://127.0.0.1:9/_state)"),
            "{error}"
        );
        assert!(error.contains("Connection refused"), "{error}");
    }
}

#[tokio::test]
async fn state_changes_can_be_sent_as_query_parameters() {
    let mut s = setup(false).await;
    s.options.state_change_as_query = true;
    s.options.state_change_teardown = false;
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|_| {})
        .await
        .unwrap();
    assert!(!report.failed());
    assert_eq!(
        s.recorder.states()[0],
        json!({"query": [["state", "a user exists"], ["action", "setup"], ["name", "Alice"]]})
    );
    assert_eq!(s.recorder.states().len(), 3, "no teardown calls");
}

#[tokio::test]
async fn filters_timeouts_and_bad_options() {
    let mut s = setup(false).await;
    s.options.filter = InteractionFilter {
        description: Some(regex::Regex::new("^create").unwrap()),
        ..InteractionFilter::default()
    };
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.summary.total, 1);
    assert_eq!(report.summary.filtered_out, 2);

    s.options.filter = InteractionFilter {
        state: Some(String::new()),
        ..InteractionFilter::default()
    };
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|_| {})
        .await
        .unwrap();
    let names: Vec<_> = report
        .results()
        .map(|(_, r)| r.description.clone())
        .collect();
    assert_eq!(names, vec!["create an item"]);

    s.options.filter = InteractionFilter {
        consumers: vec!["someone-else".into()],
        ..InteractionFilter::default()
    };
    let report = verify_pacts(&sources(&pact(vec![])), &s.options, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.summary.total, 0);

    // A slow provider: the per-request timeout turns into an error for that interaction.
    let slow = json!({
        "type": "Synchronous/HTTP", "description": "slow",
        "request": {"method": "GET", "path": "/slow"}, "response": {"status": 200}
    });
    s.options.filter = InteractionFilter {
        description: Some(regex::Regex::new("^slow$").unwrap()),
        ..InteractionFilter::default()
    };
    s.options.timeout = Duration::from_millis(300);
    let report = verify_pacts(&sources(&pact(vec![slow])), &s.options, &|_| {})
        .await
        .unwrap();
    let (_, r) = report.results().next().unwrap();
    assert_eq!(r.outcome, Outcome::Error);
    assert!(r.error.as_deref().unwrap().contains("timed out"), "{r:?}");

    let mut bad = VerifyOptions::new("ftp://example");
    let err = verify_pacts(&[], &bad, &|_| {}).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "provider base URL: invalid URL 'ftp://example': only http and https are supported"
    );
    bad = VerifyOptions::new("http://localhost");
    bad.headers = vec![("Bad Header".into(), "x".into())];
    assert!(
        verify_pacts(&[], &bad, &|_| {})
            .await
            .unwrap_err()
            .to_string()
            .starts_with("header 'Bad Header':")
    );
}
