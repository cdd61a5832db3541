//! The demo API: a small, realistic service that `testmesh demo`, the examples, the tests and the
//! benchmarks run flows against — users with pagination, token auth, orders, payments, and an
//! asynchronous job to poll. State lives in memory; every server starts empty.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The password every demo user has.
pub const DEMO_PASSWORD: &str = "demo-password";
/// How long a job runs before it is done.
pub const JOB_DURATION: Duration = Duration::from_millis(300);

#[derive(Default)]
struct Store {
    users: BTreeMap<u64, Value>,
    tokens: BTreeMap<String, u64>,
    orders: BTreeMap<String, Value>,
    payments: BTreeMap<String, Value>,
    jobs: BTreeMap<String, Instant>,
    next_user: u64,
}

type Shared = Arc<Mutex<Store>>;

/// The demo API's routes over a fresh store with three users.
pub fn router() -> Router {
    let mut store = Store::default();
    for (name, email) in [
        ("Ada Lovelace", "ada@example.com"),
        ("Alan Turing", "alan@example.com"),
        ("Grace Hopper", "grace@example.com"),
    ] {
        store.next_user += 1;
        let id = store.next_user;
        store
            .users
            .insert(id, json!({"id": id, "name": name, "email": email}));
    }
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/auth/login", post(login))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}", get(get_user).delete(delete_user))
        .route("/api/orders", post(create_order))
        .route("/api/orders/{id}", get(get_order))
        .route("/api/payments", post(create_payment))
        .route("/api/jobs", post(start_job))
        .route("/api/jobs/{id}", get(job_status))
        .with_state(Arc::new(Mutex::new(store)))
}

/// A running demo server.
pub struct DemoServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    /// Starts the API on 127.0.0.1 and a free port, inside the current tokio runtime.
    pub async fn start() -> std::io::Result<DemoServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router()).await;
        });
        Ok(DemoServer { addr, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// The user id behind `Authorization: Bearer <token>`.
fn authorized(store: &Store, headers: &HeaderMap) -> Option<u64> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    store.tokens.get(token).copied()
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

async fn login(State(store): State<Shared>, Json(body): Json<Login>) -> Response {
    let mut store = lock(&store);
    let user = store
        .users
        .values()
        .find(|u| u["email"] == body.email.as_str())
        .and_then(|u| u["id"].as_u64());
    match user {
        Some(id) if body.password == DEMO_PASSWORD => {
            let token = uuid::Uuid::new_v4().simple().to_string();
            store.tokens.insert(token.clone(), id);
            Json(json!({"token": token, "user_id": id, "expires_in": 3600})).into_response()
        }
        _ => error(StatusCode::UNAUTHORIZED, "invalid email or password"),
    }
}

#[derive(Deserialize)]
struct Page {
    page: Option<usize>,
    per_page: Option<usize>,
    q: Option<String>,
}

async fn list_users(State(store): State<Shared>, Query(page): Query<Page>) -> Response {
    let store = lock(&store);
    let per_page = page.per_page.unwrap_or(10).clamp(1, 100);
    let number = page.page.unwrap_or(1).max(1);
    let matching: Vec<&Value> = store
        .users
        .values()
        .filter(|u| {
            page.q.as_deref().is_none_or(|q| {
                u["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().contains(&q.to_lowercase()))
            })
        })
        .collect();
    let items: Vec<&Value> = matching
        .iter()
        .skip((number - 1) * per_page)
        .take(per_page)
        .copied()
        .collect();
    Json(json!({
        "items": items,
        "total": matching.len(),
        "page": number,
        "per_page": per_page,
        "has_more": number * per_page < matching.len(),
    }))
    .into_response()
}

async fn create_user(State(store): State<Shared>, Json(body): Json<Value>) -> Response {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut errors = Vec::new();
    if name.trim().is_empty() {
        errors.push(json!({"field": "name", "message": "is required"}));
    }
    if !email.contains('@') {
        errors.push(json!({"field": "email", "message": "must be an email address"}));
    }
    if !errors.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "invalid user", "details": errors})),
        )
            .into_response();
    }
    let mut store = lock(&store);
    if store.users.values().any(|u| u["email"] == email) {
        return error(StatusCode::CONFLICT, "a user with this email exists");
    }
    store.next_user += 1;
    let id = store.next_user;
    let user = json!({"id": id, "name": name, "email": email});
    store.users.insert(id, user.clone());
    (StatusCode::CREATED, Json(user)).into_response()
}

async fn get_user(State(store): State<Shared>, Path(id): Path<u64>) -> Response {
    match lock(&store).users.get(&id) {
        Some(user) => Json(user.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "user not found"),
    }
}

async fn delete_user(State(store): State<Shared>, Path(id): Path<u64>) -> Response {
    match lock(&store).users.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "user not found"),
    }
}

async fn create_order(
    State(store): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut store = lock(&store);
    let Some(user_id) = authorized(&store, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    };
    let Some(items) = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "an order needs at least one item",
        );
    };
    let total: f64 = items
        .iter()
        .map(|i| i["qty"].as_f64().unwrap_or(0.0) * i["price"].as_f64().unwrap_or(0.0))
        .sum();
    let id = format!("ord_{}", uuid::Uuid::new_v4().simple());
    let order = json!({
        "id": id,
        "user_id": user_id,
        "status": "pending",
        "items": items,
        "total": (total * 100.0).round() / 100.0,
    });
    store.orders.insert(id, order.clone());
    (StatusCode::CREATED, Json(order)).into_response()
}

async fn get_order(
    State(store): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = lock(&store);
    if authorized(&store, &headers).is_none() {
        return error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    }
    match store.orders.get(&id) {
        Some(order) => Json(order.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "order not found"),
    }
}

async fn create_payment(
    State(store): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut store = lock(&store);
    if authorized(&store, &headers).is_none() {
        return error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    }
    let order_id = body
        .get("order_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let amount = body.get("amount").and_then(Value::as_f64);
    let Some(order) = store.orders.get_mut(&order_id) else {
        return error(StatusCode::NOT_FOUND, "order not found");
    };
    if amount != order["total"].as_f64() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the amount does not match the order total",
        );
    }
    order["status"] = json!("paid");
    let id = format!("pay_{}", uuid::Uuid::new_v4().simple());
    let payment = json!({"id": id, "order_id": order_id, "amount": amount, "status": "succeeded"});
    store.payments.insert(id, payment.clone());
    Json(payment).into_response()
}

async fn start_job(State(store): State<Shared>) -> Response {
    let id = format!("job_{}", uuid::Uuid::new_v4().simple());
    lock(&store).jobs.insert(id.clone(), Instant::now());
    (
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "status": "running"})),
    )
        .into_response()
}

async fn job_status(State(store): State<Shared>, Path(id): Path<String>) -> Response {
    match lock(&store).jobs.get(&id) {
        Some(started) if started.elapsed() >= JOB_DURATION => {
            Json(json!({"id": id, "status": "done", "result": {"processed": 42}})).into_response()
        }
        Some(_) => Json(json!({"id": id, "status": "running"})).into_response(),
        None => error(StatusCode::NOT_FOUND, "job not found"),
    }
}
