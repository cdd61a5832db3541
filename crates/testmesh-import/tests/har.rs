//! HTTP archives imported as flows: noise filtering, headers, bodies, origins, credentials and
//! returned values turned into variables, bad input — and a recorded login chain replayed by the
//! real runner against a local server that issues fresh tokens and ids.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use testmesh_import::har::{self, HarOptions};
use testmesh_import::{GeneratedFlow, Import, Source};
use testmesh_runner::{FlowRecord, FlowStatus};

mod common;

use common::assert_clean;

fn import(name: &str, options: &HarOptions) -> Import {
    let import = har::import(&common::source(&format!("har/{name}")), options).unwrap();
    assert_clean(&import);
    import
}

fn doc(flow: &GeneratedFlow) -> Value {
    testmesh_flow::yaml::parse(&flow.yaml).unwrap().to_json()
}

fn steps(doc: &Value) -> &Vec<Value> {
    doc["steps"].as_array().unwrap()
}

fn step<'a>(doc: &'a Value, id: &str) -> &'a Value {
    steps(doc)
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {doc:#}"))
}

const CHAIN: &str = "Shop – Sign in and order";

#[test]
fn a_page_of_noise_and_api_calls_keeps_the_api_calls_in_time_order() {
    let import = import("shop.har", &HarOptions::default());
    assert_eq!(import.title, CHAIN);
    let names: Vec<_> = import.flows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, [CHAIN, "Shop – Orders"]);
    let chain = doc(&import.flows[0]);
    let calls: Vec<_> = steps(&chain)
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // `GET /api/config` comes first: it was sent first, though listed after the login.
    assert_eq!(
        calls,
        [
            "GET /login",
            "GET /api/config",
            "POST /api/login",
            "GET /api/users/{user_id}",
            "GET /v1/recommendations",
            "POST /api/orders",
            "GET /api/orders/{order_id}",
            "POST /api/orders/{order_id}/notes",
            "POST /logout",
        ]
    );
    // One line per kind of noise, with a count and examples.
    let skipped: Vec<(&str, &str)> = import
        .skipped
        .iter()
        .map(|s| (s.item.split(" (").next().unwrap(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped.iter().map(|s| s.0).collect::<Vec<_>>(),
        [
            "2 non-HTTP entries",
            "1 CORS preflight",
            "3 analytics/tracking calls",
            "5 static assets",
            "1 entry without a response",
        ]
    );
    assert!(
        import.skipped[3]
            .item
            .contains("entries[1] GET https://app.example.com/static/js/main.4f3a2b.js")
    );
    assert!(skipped[2].1.contains("analytics"));

    // The most common origin is BASE_URL; the other one gets a variable of its own.
    assert_eq!(
        chain["env"],
        json!({"BASE_URL": "https://app.example.com", "API_EXAMPLE_COM_URL": "https://api.example.com"})
    );
    assert_eq!(
        step(&chain, "get_api_config")["config"]["url"],
        "${BASE_URL}/api/config"
    );
    assert!(
        step(&chain, "get_v1_recommendations")["config"]["url"]
            .as_str()
            .unwrap()
            .starts_with("${API_EXAMPLE_COM_URL}/v1/recommendations?")
    );

    // Browser headers are gone; the API's own stay.
    let login = step(&chain, "post_api_login");
    assert_eq!(
        login["config"]["headers"],
        json!({"accept": "application/json", "content-type": "application/json"})
    );
    assert!(step(&chain, "get_login")["config"].get("headers").is_none());
    for flow in &import.flows {
        for noise in [
            "user-agent",
            "sec-ch-ua",
            "sec-fetch",
            "referer",
            "origin:",
            "cookie:",
            ":authority",
            "accept-encoding",
            "if-none-match",
        ] {
            assert!(!flow.yaml.contains(noise), "{noise} in\n{}", flow.yaml);
        }
    }
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == CHAIN && u.what.contains("`Cookie` headers are not replayed"))
    );

    // Recorded statuses, a light check on JSON bodies (never their volatile values).
    assert_eq!(
        login["assert"],
        json!(["status == 200", "body.token exists", "body.user exists"])
    );
    assert_eq!(
        step(&chain, "get_api_config")["assert"],
        json!([
            "status == 200",
            "body.features exists",
            "body.version exists"
        ])
    );
    // A redirect is checked as recorded, not followed.
    let logout = step(&chain, "post_logout");
    assert_eq!(logout["config"]["follow_redirects"], false);
    assert_eq!(logout["assert"], json!(["status == 302"]));
    // A 304 (the cache header is dropped) accepts 200 as well.
    let orders = doc(&import.flows[1]);
    assert_eq!(
        step(&orders, "get_api_orders_2")["assert"],
        json!(["status in [200, 304]"])
    );
    assert_eq!(
        step(&orders, "get_api_orders")["assert"],
        json!(["status == 200", "body is array"])
    );
}

#[test]
fn returned_values_become_outputs_and_credentials_become_variables() {
    let import = import("shop.har", &HarOptions::default());
    let chain = doc(&import.flows[0]);
    let login = step(&chain, "post_api_login");
    // The password is a variable, never the recorded one.
    assert_eq!(
        login["config"]["body"],
        json!({"email": "alice@example.com", "password": "${PASSWORD}", "remember": true})
    );
    // What later requests send back is taken from the login's response.
    assert_eq!(
        login["output"],
        json!({"user_id": "$.user.id", "token": "$.token", "csrf_token": "$.csrfToken"})
    );
    let user = step(&chain, "get_api_users_user_id");
    assert_eq!(
        user["config"]["url"],
        "${BASE_URL}/api/users/${post_api_login.user_id}"
    );
    assert_eq!(
        user["config"]["headers"]["authorization"],
        "Bearer ${post_api_login.token}"
    );
    assert_eq!(
        step(&chain, "get_v1_recommendations")["config"]["url"],
        "${API_EXAMPLE_COM_URL}/v1/recommendations?userId=${post_api_login.user_id}&limit=3"
    );
    let create = step(&chain, "post_api_orders");
    assert_eq!(
        create["config"]["headers"]["x-csrf-token"],
        "${post_api_login.csrf_token}"
    );
    // In a JSON body the id keeps its type (a single reference); literal `${` is escaped.
    assert_eq!(
        create["config"]["body"],
        json!({"userId": "${post_api_login.user_id}", "items": [{"sku": "BK-001", "qty": 2}], "note": "Total $${price}"})
    );
    assert_eq!(create["output"], json!({"order_id": "$.id"}));
    assert_eq!(
        step(&chain, "get_api_orders_order_id")["config"]["url"],
        "${BASE_URL}/api/orders/${post_api_orders.order_id}?include=items&_=1714557603500"
    );
    assert_eq!(
        step(&chain, "post_api_orders_order_id_notes")["config"]["form"],
        json!({"note": "Leave at the door", "order": "${post_api_orders.order_id}"})
    );
    assert_eq!(
        step(&chain, "post_logout")["config"]["form"],
        json!({"_csrf": "${post_api_login.csrf_token}"})
    );
    // Values the client sent first (the e-mail) and small numbers elsewhere are left alone.
    assert_eq!(
        step(&chain, "get_api_config")["config"]["url"],
        "${BASE_URL}/api/config"
    );
    // Timestamps in query strings are pointed out.
    assert!(import.untranslated.iter().any(|u| {
        u.what
            .contains("query `_=1714557603500` looks like a timestamp")
    }));

    // A token no response of the page returned becomes AUTH_TOKEN, to be supplied.
    let orders = doc(&import.flows[1]);
    assert_eq!(
        step(&orders, "get_api_orders")["config"]["headers"]["authorization"],
        "Bearer ${AUTH_TOKEN}"
    );
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.item == "Shop – Orders" && u.what.contains("`AUTH_TOKEN`"))
    );
    // No recorded secret is written anywhere.
    for flow in &import.flows {
        for secret in ["hunter2", "recorded-signature", "s%3Arecorded"] {
            assert!(!flow.yaml.contains(secret), "{secret} in\n{}", flow.yaml);
        }
    }
}

#[test]
fn form_posts_multipart_text_bodies_and_pageless_recordings() {
    let import = import("forms.har", &HarOptions::default());
    assert_eq!(import.title, "forms");
    assert_eq!(import.flows.len(), 1);
    let flow = doc(&import.flows[0]);
    assert_eq!(flow["name"], "forms");
    assert_eq!(flow["env"], json!({"BASE_URL": "http://localhost:3000"}));
    let login = step(&flow, "post_session");
    assert_eq!(
        login["config"]["form"],
        json!({"username": "bob", "password": "${PASSWORD}", "remember_me": "on"})
    );
    assert_eq!(login["config"]["follow_redirects"], false);
    assert_eq!(login["assert"], json!(["status == 303"]));
    // Multipart: text fields kept, the content type (with the recorded boundary) dropped, files noted.
    let upload = step(&flow, "post_profile_avatar");
    assert_eq!(
        upload["config"]["multipart"],
        json!({"caption": "me at the beach"})
    );
    assert_eq!(
        upload["config"]["headers"],
        json!({"accept": "application/json"})
    );
    assert!(
        import
            .untranslated
            .iter()
            .any(|u| u.what.contains("multipart file field `file` (`me.png`)"))
    );
    // One recorded API key, sent twice, is one variable; a literal `{{` is kept literal.
    let search = step(&flow, "post_api_search");
    assert_eq!(
        search["config"]["url"],
        "${BASE_URL}/api/search?api_key=${API_KEY}"
    );
    assert_eq!(search["config"]["headers"]["x-api-key"], "${API_KEY}");
    assert_eq!(search["config"]["body"], "shoes size:42 { {brand}}");
    assert!(!import.flows[0].yaml.contains("live_51Hxyz"));
    // The response was base64 in the archive.
    assert_eq!(search["assert"], json!(["status == 200", "body is array"]));
    assert_eq!(
        step(&flow, "get_api_export_csv")["assert"],
        json!(["status == 200"])
    );
    assert_eq!(import.skipped.len(), 1);
    assert!(
        import.skipped[0]
            .item
            .starts_with("1 non-HTTP entry (entries[5] GET chrome-extension://")
    );
}

#[test]
fn keep_static_and_include_hosts() {
    let all = import(
        "shop.har",
        &HarOptions {
            keep_static: true,
            ..HarOptions::default()
        },
    );
    let chain = doc(&all.flows[0]);
    let names: Vec<_> = steps(&chain)
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"GET /static/js/main.4f3a2b.js"),
        "{names:?}"
    );
    assert!(
        names.contains(&"GET /static/media/logo.5d5d9eef.svg"),
        "{names:?}"
    );
    // The font's host is a third origin.
    assert!(
        chain["env"]["FONTS_GSTATIC_COM_URL"] == "https://fonts.gstatic.com",
        "{}",
        chain["env"]
    );
    assert!(all.skipped.iter().all(|s| !s.item.contains("static asset")));

    let api_only = import(
        "shop.har",
        &HarOptions {
            include_hosts: vec!["api.example.com".into()],
            ..HarOptions::default()
        },
    );
    assert_eq!(api_only.flows.len(), 1);
    let flow = doc(&api_only.flows[0]);
    assert_eq!(steps(&flow).len(), 1);
    assert_eq!(flow["env"], json!({"BASE_URL": "https://api.example.com"}));
    // Without the login, the token is a variable to supply.
    assert_eq!(
        steps(&flow)[0]["config"]["headers"]["authorization"],
        "Bearer ${AUTH_TOKEN}"
    );
    assert!(
        api_only
            .skipped
            .iter()
            .any(|s| s.item.starts_with("19 entries of other hosts")),
        "{:#?}",
        api_only.skipped
    );

    let wildcard = import(
        "shop.har",
        &HarOptions {
            include_hosts: vec!["*.example.com".into()],
            ..HarOptions::default()
        },
    );
    let default = import("shop.har", &HarOptions::default());
    assert_eq!(wildcard.step_count(), default.step_count());
    assert_eq!(all.step_count(), default.step_count() + 5);
}

fn error(text: &str) -> String {
    match Source::parse(text, "r.har").and_then(|s| har::import(&s, &HarOptions::default())) {
        Ok(import) => panic!("imported: {import:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_input_fails_with_its_location() {
    let e = error("{\"log\": {\"entries\": [\n  {\"request\": }\n]}}");
    assert!(e.starts_with("r.har:2:15: invalid JSON"), "{e}");
    assert!(error("[]").contains("a HAR file is a JSON object"));
    let e = error(r#"{"entries": []}"#);
    assert!(e.contains("#/log") && e.contains("not a HAR file"), "{e}");
    let e = error(r#"{"log": {"version": "2.0", "entries": []}}"#);
    assert!(
        e.starts_with("r.har:1:21: #/log/version: unsupported HAR version `2.0`"),
        "{e}"
    );
    let e = error(r#"{"log": {"version": "1.2", "entries": {}}}"#);
    assert!(
        e.contains("#/log/entries") && e.contains("must be a list"),
        "{e}"
    );
    let e = error(
        "{\"log\": {\"entries\": [\n  {\"request\": {\"method\": \"GET\", \"url\": \"https://a/x\"}, \"response\": {\"status\": 200}},\n  {\"request\": {\"method\": \"GET\"}, \"response\": {\"status\": 200}}\n]}}",
    );
    assert!(
        e.starts_with("r.har:3:15: #/log/entries/1/request/url: an entry needs `request.url`"),
        "{e}"
    );
    let e = error(
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://a/x", "headers": {"a": "b"}}}]}}"#,
    );
    assert!(
        e.contains("#/log/entries/0/request/headers") && e.contains("must be a list"),
        "{e}"
    );
    let e = error(
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://a/x"}, "response": {"status": "ok"}}]}}"#,
    );
    assert!(e.contains("#/log/entries/0/response/status"), "{e}");
    let e = error(r#"{"log": {"pages": [{"title": "no id"}], "entries": []}}"#);
    assert!(e.contains("#/log/pages/0/id"), "{e}");
}

#[test]
fn empty_archives_import_nothing_and_say_why() {
    let s = Source::parse(
        r#"{"log": {"version": "1.2", "creator": {"name": "x"}, "entries": []}}"#,
        "empty.har",
    )
    .unwrap();
    let import = har::import(&s, &HarOptions::default()).unwrap();
    assert!(import.flows.is_empty());
    assert_eq!(import.skipped[0].reason, "the archive has no entries");
    // Nothing but noise.
    let s = Source::parse(
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://www.google-analytics.com/collect"}, "response": {"status": 200}}]}}"#,
        "noise.har",
    )
    .unwrap();
    let import = har::import(&s, &HarOptions::default()).unwrap();
    assert!(import.flows.is_empty());
    assert!(
        import
            .skipped
            .iter()
            .any(|s| s.reason.contains("no API requests are left"))
    );
}

// ---------------------------------------------------------------------------------------------
// A server behaving like the recorded one, but issuing fresh tokens, ids and CSRF values.

#[derive(Default)]
struct Shop {
    session: Mutex<Option<Session>>,
    orders: Mutex<HashMap<String, Value>>,
    /// Requests refused, for the failure message.
    refused: Mutex<Vec<String>>,
}

#[derive(Clone)]
struct Session {
    token: String,
    user_id: u64,
    csrf: String,
    cookie: String,
}

fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(1);
    h.finish()
}

type S = Arc<Shop>;

impl Shop {
    /// The session when the request carries its bearer token.
    fn authorized(&self, headers: &HeaderMap, what: &str) -> Option<Session> {
        let session = self.session.lock().unwrap().clone();
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match session {
            Some(s) if token == Some(s.token.as_str()) => Some(s),
            _ => {
                self.refused
                    .lock()
                    .unwrap()
                    .push(format!("{what}: bad token {token:?}"));
                None
            }
        }
    }

    fn refuse(&self, what: String) -> Response {
        self.refused.lock().unwrap().push(what);
        StatusCode::BAD_REQUEST.into_response()
    }
}

async fn login(State(shop): State<S>, Json(body): Json<Value>) -> Response {
    if body["email"] != "alice@example.com" || body["password"] != "hunter2" {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let session = Session {
        token: format!("fresh.{:x}.{:x}", random(), random()),
        user_id: 100_000 + random() % 900_000,
        csrf: format!("csrf{:x}", random()),
        cookie: format!("{:x}", random()),
    };
    *shop.session.lock().unwrap() = Some(session.clone());
    (
        [(
            header::SET_COOKIE,
            format!("session={}; Path=/; HttpOnly", session.cookie),
        )],
        Json(json!({
            "token": session.token,
            "user": {"id": session.user_id, "email": "alice@example.com", "name": "Alice"},
            "csrfToken": session.csrf,
            "expiresIn": 3600
        })),
    )
        .into_response()
}

async fn user(State(shop): State<S>, headers: HeaderMap, UrlPath(id): UrlPath<String>) -> Response {
    let Some(session) = shop.authorized(&headers, "GET user") else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if id != session.user_id.to_string() {
        return shop.refuse(format!("GET user: id {id}, expected {}", session.user_id));
    }
    Json(json!({"id": session.user_id, "name": "Alice", "email": "alice@example.com", "plan": "pro"})).into_response()
}

async fn recommendations(
    State(shop): State<S>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(session) = shop.authorized(&headers, "recommendations") else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if q.get("userId") != Some(&session.user_id.to_string())
        || q.get("limit").map(String::as_str) != Some("3")
    {
        return shop.refuse(format!("recommendations: {q:?}"));
    }
    Json(json!({"items": [{"sku": "BK-009", "title": "Persuasion"}]})).into_response()
}

async fn create_order(
    State(shop): State<S>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(session) = shop.authorized(&headers, "POST order") else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if csrf != Some(session.csrf.as_str())
        || !cookie.contains(&format!("session={}", session.cookie))
        || body["userId"] != json!(session.user_id)
        || body["note"] != "Total ${price}"
    {
        return shop.refuse(format!(
            "POST order: csrf {csrf:?}, cookie {cookie:?}, body {body}"
        ));
    }
    let id = format!("ord_{:x}", random());
    let order = json!({"id": id, "status": "pending", "total": 42.5, "items": body["items"]});
    shop.orders.lock().unwrap().insert(id, order.clone());
    (StatusCode::CREATED, Json(order)).into_response()
}

async fn order(
    State(shop): State<S>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if shop.authorized(&headers, "GET order").is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match shop.orders.lock().unwrap().get(&id) {
        Some(order) => Json(order.clone()).into_response(),
        None => shop.refuse(format!("GET order: unknown {id}")),
    }
}

async fn note(
    State(shop): State<S>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    if shop.authorized(&headers, "POST note").is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let form = String::from_utf8_lossy(&body).to_string();
    if form != format!("note=Leave+at+the+door&order={id}")
        || !shop.orders.lock().unwrap().contains_key(&id)
    {
        return shop.refuse(format!("POST note: {form}"));
    }
    (StatusCode::CREATED, Json(json!({"ok": true}))).into_response()
}

async fn logout(State(shop): State<S>, body: Bytes) -> Response {
    let csrf = shop
        .session
        .lock()
        .unwrap()
        .as_ref()
        .map(|s| s.csrf.clone())
        .unwrap_or_default();
    if String::from_utf8_lossy(&body) != format!("_csrf={csrf}") {
        return shop.refuse(format!("logout: {}", String::from_utf8_lossy(&body)));
    }
    (StatusCode::FOUND, [(header::LOCATION, "/login")]).into_response()
}

async fn serve(shop: S) -> String {
    let router = Router::new()
        .route(
            "/login",
            get(|| async { Html("<!doctype html><div id=root></div>") }),
        )
        .route(
            "/api/config",
            get(|| async { Json(json!({"features": {"darkMode": false}, "version": "2.4.0"})) }),
        )
        .route("/api/login", post(login))
        .route("/api/users/{id}", get(user))
        .route("/v1/recommendations", get(recommendations))
        .route("/api/orders", post(create_order))
        .route("/api/orders/{id}", get(order))
        .route("/api/orders/{id}/notes", post(note))
        .route("/logout", post(logout))
        .with_state(shop);
    common::serve(router).await
}

async fn replay(flow: &GeneratedFlow, vars: &[(&str, &str)]) -> FlowRecord {
    let vars: Vec<(&str, Value)> = vars.iter().map(|(k, v)| (*k, json!(v))).collect();
    common::run(&common::load_clean(&flow.yaml), &vars).await
}

#[tokio::test]
async fn the_recorded_login_chain_replays_with_fresh_tokens_and_ids() {
    let shop = Arc::new(Shop::default());
    let base = serve(shop.clone()).await;
    let import = import("shop.har", &HarOptions::default());
    let flow = &import.flows[0];
    let record = replay(
        flow,
        &[
            ("BASE_URL", &base),
            ("API_EXAMPLE_COM_URL", &base),
            ("PASSWORD", "hunter2"),
        ],
    )
    .await;
    let refused = shop.refused.lock().unwrap().clone();
    let failed: Vec<_> = record
        .steps
        .iter()
        .filter(|s| s.status != testmesh_runner::StepStatus::Passed)
        .map(|s| format!("{}: {:?}", s.id, s.error))
        .collect();
    assert_eq!(
        record.status,
        FlowStatus::Passed,
        "{failed:#?}\nrefused: {refused:#?}"
    );
    assert_eq!(record.steps.len(), 9);
    assert!(refused.is_empty(), "{refused:?}");
    // The ids in the requests were this run's, not the recorded ones.
    let session = shop.session.lock().unwrap().clone().unwrap();
    let user = record
        .steps
        .iter()
        .find(|s| s.id == "get_api_users_user_id")
        .unwrap();
    assert_eq!(
        user.request.as_ref().unwrap()["url"],
        format!("{base}/api/users/{}", session.user_id)
    );
    let order_id = shop.orders.lock().unwrap().keys().next().cloned().unwrap();
    let read = record
        .steps
        .iter()
        .find(|s| s.id == "get_api_orders_order_id")
        .unwrap();
    assert!(
        read.request.as_ref().unwrap()["url"]
            .as_str()
            .unwrap()
            .contains(&order_id)
    );
}

#[tokio::test]
async fn a_replay_fails_when_the_server_answers_differently() {
    let shop = Arc::new(Shop::default());
    let base = serve(shop.clone()).await;
    let import = import("shop.har", &HarOptions::default());
    // A wrong password: the login is refused and the recorded `status == 200` catches it.
    let record = replay(
        &import.flows[0],
        &[
            ("BASE_URL", &base),
            ("API_EXAMPLE_COM_URL", &base),
            ("PASSWORD", "wrong"),
        ],
    )
    .await;
    assert_eq!(record.status, FlowStatus::Failed);
    let login = record
        .steps
        .iter()
        .find(|s| s.id == "post_api_login")
        .unwrap();
    assert_eq!(login.status, testmesh_runner::StepStatus::Failed);
    let error = format!("{:?}", login.error);
    assert!(
        error.contains("status == 200") && error.contains("401"),
        "{error}"
    );
}

#[test]
fn thousands_of_returned_values_are_followed_into_texts_quickly() {
    let uuid = |list: usize, item: usize| format!("{list:08x}-0000-4000-8000-{item:012x}");
    let mut entries = Vec::new();
    for list in 0..200 {
        let items: Vec<Value> = (0..400)
            .map(|i| json!({"id": uuid(list, i), "n": i}))
            .collect();
        entries.push(json!({
            "startedDateTime": format!("2024-05-01T10:{:02}:{:02}.000Z", list / 60, list % 60),
            "request": {"method": "GET", "url": format!("https://api.example.com/lists/{list}"), "headers": []},
            "response": {"status": 200, "content": {"mimeType": "application/json", "text": json!({"items": items}).to_string()}}
        }));
    }
    let wanted = uuid(150, 7);
    entries.push(json!({
        "startedDateTime": "2024-05-01T11:00:00.000Z",
        "request": {
            "method": "POST",
            "url": "https://api.example.com/links",
            "headers": [{"name": "X-Trace", "value": format!("trace {}", uuid(3, 399))}],
            "postData": {"mimeType": "text/plain", "text": format!("link={wanted}; again {wanted}")}
        },
        "response": {"status": 204, "content": {"mimeType": "text/plain", "text": ""}}
    }));
    let har = json!({"log": {"version": "1.2", "entries": entries}}).to_string();
    let started = std::time::Instant::now();
    let import = har::import(
        &Source::parse(&har, "big.har").unwrap(),
        &HarOptions::default(),
    )
    .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
    assert_clean(&import);
    let flow = doc(&import.flows[0]);
    let post = step(&flow, "post_links");
    // Output names are unique in the flow: the header's value was named first.
    assert_eq!(
        post["config"]["headers"]["X-Trace"],
        "trace ${get_lists_3.item_id}"
    );
    assert_eq!(
        post["config"]["body"],
        "link=${get_lists_150.item_id_2}; again ${get_lists_150.item_id_2}"
    );
    assert_eq!(
        step(&flow, "get_lists_150")["output"],
        json!({"item_id_2": "$.items[7].id"})
    );
    assert_eq!(
        step(&flow, "get_lists_3")["output"],
        json!({"item_id": "$.items[399].id"})
    );
}
