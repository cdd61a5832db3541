//! A small HTTP target on 127.0.0.1 that counts what it is sent.
//!
//! Routes: `GET /hit/{name}` (counted by name, answers `{"name": …, "count": n}`), `POST /echo`
//! (answers the JSON body and the request headers), `GET /slow/{ms}` (announces itself through
//! [`Target::wait_for_slow`], then answers after `ms` milliseconds). Every answer comes after a
//! random delay from [`TargetOptions::delay_ms`].

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Json;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// How the target behaves.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Each request waits a random number of milliseconds from this range first.
    pub delay_ms: Range<u64>,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions { delay_ms: 0..1 }
    }
}

/// A running target.
pub struct Target {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    options: TargetOptions,
    hits: Mutex<HashMap<String, usize>>,
    slow_started: Notify,
}

impl Target {
    /// Starts a target on a free loopback port on the current runtime.
    pub async fn start(options: TargetOptions) -> Arc<Target> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let target = Arc::new(Target {
            base_url: format!("http://{addr}"),
            options,
            hits: Mutex::new(HashMap::new()),
            slow_started: Notify::new(),
        });
        let app = Router::new()
            .route("/hit/{name}", get(hit))
            .route("/echo", post(echo))
            .route("/slow/{ms}", get(slow))
            .with_state(target.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        target
    }

    /// How many requests `/hit/{name}` got.
    pub fn hits(&self, name: &str) -> usize {
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests the target got in all.
    pub fn total_hits(&self) -> usize {
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Waits until a `/slow/…` request arrives (one that arrived before counts once).
    pub async fn wait_for_slow(&self) {
        self.slow_started.notified().await;
    }

    fn count(&self, name: &str) -> usize {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let n = hits.entry(name.to_string()).or_default();
        *n += 1;
        *n
    }

    async fn delay(&self) {
        let range = &self.options.delay_ms;
        if range.end > range.start + 1 {
            let ms = rand::random_range(range.clone());
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

async fn hit(State(target): State<Arc<Target>>, Path(name): Path<String>) -> Json<Value> {
    target.delay().await;
    let count = target.count(&name);
    Json(json!({"name": name, "count": count}))
}

async fn echo(
    State(target): State<Arc<Target>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    target.delay().await;
    target.count("echo");
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                json!(v.to_str().unwrap_or_default()),
            )
        })
        .collect();
    Json(json!({"body": body, "headers": headers}))
}

async fn slow(State(target): State<Arc<Target>>, Path(ms): Path<u64>) -> &'static str {
    target.count("slow");
    target.slow_started.notify_one();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "late"
}
