//! A target app on loopback (plain HTTP and TLS) and helpers to run flows against it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use testmesh_runner::{FlowLibrary, FlowRecord, NoEvents, RunOptions, Runner, Secrets, StepRecord};

/// What the target app remembers: hit counters and the last token request.
#[derive(Default)]
pub struct Seen {
    hits: Mutex<HashMap<String, usize>>,
    pub token_forms: Mutex<Vec<String>>,
}

impl Seen {
    /// Counts a hit on `key` and returns the new count.
    fn hit(&self, key: &str) -> usize {
        let mut hits = self.hits.lock().unwrap();
        let count = hits.entry(key.to_string()).or_default();
        *count += 1;
        *count
    }

    /// How often `key` was hit.
    pub fn hits(&self, key: &str) -> usize {
        self.hits.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

/// The target app.
pub fn app(seen: Arc<Seen>) -> Router {
    Router::new()
        .route("/echo", any(echo))
        .route("/echo/{*rest}", any(echo))
        .route(
            "/items",
            get(|| async { Json(json!({"items": [{"id": 1}, {"id": 2}]})) }),
        )
        .route("/status/{code}", any(status))
        .route("/redirect/{n}", get(redirect))
        .route("/see-other", post(|| async { Redirect::to("/echo") }))
        .route(
            "/temporary",
            post(|| async { Redirect::temporary("/echo") }),
        )
        .route("/login", get(login))
        .route("/cookies", get(show_cookies))
        .route("/slow", get(slow))
        .route("/flaky", get(flaky))
        .route("/big", get(big))
        .route("/huge", get(huge))
        .route("/binary", get(binary))
        .route("/not-json", get(not_json))
        .route("/oauth/token", post(token))
        .route("/protected", get(protected))
        .route("/ready", get(ready))
        .with_state(seen)
}

/// Starts `router` on 127.0.0.1 (plain HTTP) and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    addr
}

/// Starts `router` on 127.0.0.1 and counts the connections it accepts.
pub async fn serve_counting(router: Router) -> (SocketAddr, Arc<AtomicUsize>) {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let listener = listener.tap_io(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    (addr, connections)
}

/// Starts the target app and returns its base URL and what it sees.
pub async fn start() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let addr = serve(app(seen.clone())).await;
    (format!("http://{addr}"), seen)
}

/// Starts `router` over TLS (HTTP/1.1 and HTTP/2 by ALPN) with `config`.
pub async fn serve_tls(router: Router, config: rustls::ServerConfig) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    let server = axum_server::from_tcp_rustls(listener, config).unwrap();
    tokio::spawn(async move {
        server.serve(router.into_make_service()).await.ok();
    });
    addr
}

/// A runner with the built-in actions.
pub fn runner() -> Runner {
    Runner::new(
        testmesh_runner::actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    )
}

/// Loads a flow from YAML (it must be valid) and runs it; `dir` is where it pretends to live.
pub async fn run_in(runner: &Runner, yaml: &str, dir: Option<&Path>) -> FlowRecord {
    let loaded = testmesh_flow::load_str(yaml);
    let errors: Vec<String> = loaded.errors().map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "invalid flow: {errors:?}\n{yaml}");
    let flow = loaded.flow.expect("a flow");
    let path = dir.map(|d| d.join("flow.yaml"));
    runner
        .run(&flow, path.as_deref(), &RunOptions::default())
        .await
}

/// Runs a flow on a fresh runner.
pub async fn run(yaml: &str) -> FlowRecord {
    run_in(&runner(), yaml, None).await
}

/// The record of step `id`.
pub fn step<'a>(record: &'a FlowRecord, id: &str) -> &'a StepRecord {
    record
        .all_steps()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step `{id}` in {record:#?}"))
}

/// The result of step `id`, which must have passed.
pub fn passed<'a>(record: &'a FlowRecord, id: &str) -> &'a Value {
    let s = step(record, id);
    assert_eq!(
        s.status,
        testmesh_runner::StepStatus::Passed,
        "step `{id}` did not pass: {:?}",
        s.error
    );
    s.result.as_ref().expect("a result")
}

/// The error of step `id`, which must have failed.
pub fn failed<'a>(record: &'a FlowRecord, id: &str) -> &'a testmesh_runner::StepError {
    let s = step(record, id);
    assert_eq!(
        s.status,
        testmesh_runner::StepStatus::Failed,
        "step `{id}` did not fail: {:?}",
        s.result
    );
    s.error.as_ref().expect("an error")
}

/// A header the echo endpoint received (the echo lists headers as pairs, so masking of
/// credential header names in records does not hide them from tests).
pub fn echoed_header<'a>(result: &'a Value, name: &str) -> Option<&'a str> {
    result["body"]["headers"]
        .as_array()?
        .iter()
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].as_str())
}

/// A port on 127.0.0.1 that nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let pairs: Vec<Value> = headers
        .iter()
        .map(|(k, v)| json!([k.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or_default(),
        "headers": pairs,
        "body": String::from_utf8_lossy(&body),
    }))
}

async fn status(UrlPath(code): UrlPath<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap();
    (status, Json(json!({"status": code}))).into_response()
}

async fn redirect(UrlPath(n): UrlPath<u32>) -> Response {
    if n == 0 {
        return Json(json!({"done": true})).into_response();
    }
    (
        StatusCode::FOUND,
        [(LOCATION, format!("/redirect/{}", n - 1))],
    )
        .into_response()
}

/// Sets a session cookie and redirects to `/cookies`, which shows it came back.
async fn login() -> Response {
    (
        StatusCode::FOUND,
        [
            (SET_COOKIE, "session=abc123; Path=/; HttpOnly".to_string()),
            (LOCATION, "/cookies".to_string()),
        ],
    )
        .into_response()
}

async fn show_cookies(headers: HeaderMap) -> Json<Value> {
    let cookie = headers
        .get(COOKIE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Json(json!({"received": cookie}))
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

async fn flaky(State(seen): State<Arc<Seen>>) -> Response {
    if seen.hit("flaky") <= 2 {
        (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
    } else {
        Json(json!({"ok": true})).into_response()
    }
}

pub const BIG_BYTES: usize = 50 * 1024 * 1024;

async fn big() -> Response {
    ([(CONTENT_TYPE, "text/plain")], vec![b'a'; BIG_BYTES]).into_response()
}

/// 101 MiB in 1 MiB chunks, without a content length: only streaming can notice the size.
async fn huge() -> Response {
    let chunks = (0..101).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'z'; 1024 * 1024])));
    Body::from_stream(futures::stream::iter(chunks)).into_response()
}

async fn binary() -> Response {
    (
        [(CONTENT_TYPE, "application/octet-stream")],
        vec![0xffu8, 0xfe, 0x00, 0x01],
    )
        .into_response()
}

async fn not_json() -> Response {
    ([(CONTENT_TYPE, "application/json")], "{\"items\": [oops").into_response()
}

async fn token(State(seen): State<Arc<Seen>>, body: String) -> Json<Value> {
    seen.token_forms.lock().unwrap().push(body);
    let n = seen.hit("token");
    Json(json!({"access_token": format!("tok-{n}"), "token_type": "bearer", "expires_in": 3600}))
}

async fn protected(headers: HeaderMap) -> Response {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some("Bearer tok-1") => Json(json!({"access": "granted"})).into_response(),
        other => (StatusCode::UNAUTHORIZED, format!("got {other:?}")).into_response(),
    }
}

/// 503 for the first `after` polls, then a JSON body saying it is ready.
async fn ready(State(seen): State<Arc<Seen>>, Query(q): Query<HashMap<String, usize>>) -> Response {
    let after = q.get("after").copied().unwrap_or(0);
    if seen.hit("ready") <= after {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response();
    }
    Json(json!({"status": "ready", "data": {"items": [{"state": "up", "count": 3}]}}))
        .into_response()
}
