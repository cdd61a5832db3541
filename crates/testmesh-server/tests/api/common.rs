//! A server per test on a loopback port, a client that checks every answer against the server's
//! own OpenAPI document, a Server-Sent Events reader, and a simulated worker.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use indexmap::IndexMap;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use testmesh_runner::{FlowRecord, FlowStatus, StepRecord, StepStatus};
use testmesh_server::{ApiConfig, Server, ServerOptions};
use testmesh_store::{DEFAULT_WORKSPACE_ID, Store};
use testmesh_test::TestDb;
use tokio::sync::oneshot;

pub const WS: &str = DEFAULT_WORKSPACE_ID;

/// Strings that would change a query if they were formatted into SQL.
pub const SQL_LOOKING: &[&str] = &[
    "' OR '1'='1",
    "x'; DROP TABLE executions; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "smoke\") OR (1=1",
    "1; SELECT pg_sleep(1)",
];

/// Flow YAML with a name, an optional suite and tags, and one log step.
pub fn flow_yaml(name: &str, suite: Option<&str>, tags: &[&str]) -> String {
    let mut yaml = format!("name: {name}\n");
    if let Some(suite) = suite {
        yaml.push_str(&format!("suite: {suite}\n"));
    }
    if !tags.is_empty() {
        yaml.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    }
    yaml.push_str("steps:\n  - id: hello\n    action: log\n    config:\n      message: hi\n");
    yaml
}

/// An answer: status, headers and body (as text and, when it is JSON, parsed).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// The header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// Asserts an error answer: status and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Reply {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json["code"], code, "body: {}", self.text);
        assert!(self.json["error"].is_string(), "body: {}", self.text);
        self
    }
}

/// A running server on its own database, with an API key for the default workspace.
pub struct TestServer {
    pub base: String,
    pub store: Store,
    pub key: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    validators: HashMap<String, jsonschema::Validator>,
    document: Value,
}

/// Timings short enough for tests.
pub fn test_options(db: &TestDb) -> ServerOptions {
    ServerOptions {
        port: 0,
        store: db.options(),
        api: ApiConfig {
            event_poll: Duration::from_millis(30),
            keep_alive: Duration::from_millis(300),
            ..ApiConfig::default()
        },
        scheduler_interval: Duration::from_millis(100),
        ..ServerOptions::new(db.url.clone())
    }
}

impl TestServer {
    /// Options without the scheduler, for tests that look at schedules without their runs.
    pub fn no_scheduler(db: &TestDb) -> ServerOptions {
        ServerOptions {
            scheduler: false,
            ..test_options(db)
        }
    }

    pub async fn start(db: &TestDb) -> TestServer {
        TestServer::start_with(db, test_options(db)).await
    }

    pub async fn start_with(db: &TestDb, options: ServerOptions) -> TestServer {
        let store = db.open().await;
        let key = store
            .create_api_key(WS, "tests", None)
            .await
            .expect("create a key")
            .plain;
        let server = Server::bind_with_store(store.clone(), options)
            .await
            .expect("bind");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut server = TestServer {
            base,
            store,
            key,
            client,
            stop: Some(stop),
            task: Some(task),
            validators: HashMap::new(),
            document: Value::Null,
        };
        server.load_document().await;
        server
    }

    /// Reads the OpenAPI document and compiles a validator per schema.
    async fn load_document(&mut self) {
        let reply = self.get("/api/v1/openapi.json").await.expect(200);
        let document = reply.json;
        assert_eq!(document["openapi"], "3.1.0");
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas")
            .clone();
        for name in schemas.keys() {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": {"schemas": schemas},
            });
            let validator = jsonschema::validator_for(&root).expect("schema compiles");
            self.validators.insert(name.clone(), validator);
        }
        self.document = document;
    }

    /// The document's operation for a concrete path: static segments win over `{params}`.
    fn operation(&self, method: &Method, path: &str) -> Option<(String, &Value)> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.document["paths"].as_object()?;
        let mut best: Option<(usize, &String)> = None;
        for template in paths.keys() {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let matches = parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| t.starts_with('{') || t == s);
            if matches {
                let statics = parts.iter().filter(|t| !t.starts_with('{')).count();
                if best.is_none_or(|(n, _)| statics > n) {
                    best = Some((statics, template));
                }
            }
        }
        let (_, template) = best?;
        let op = self.document["paths"][template].get(method.as_str().to_ascii_lowercase())?;
        Some((template.clone(), op))
    }

    /// Checks an answer against the document: the status is documented for the operation and a
    /// JSON body matches its schema. Unknown routes and wrong methods answer the Error schema.
    fn check_documented(&self, method: &Method, path: &str, reply: &Reply) {
        assert_ne!(reply.status, 500, "{method} {path}: {}", reply.text);
        let schema = match self.operation(method, path) {
            Some((template, op)) => {
                let response = op["responses"]
                    .get(reply.status.to_string())
                    .unwrap_or_else(|| {
                        panic!(
                            "{method} {template} answered {}, which is not documented",
                            reply.status
                        )
                    });
                match response.pointer("/content/application~1json/schema/$ref") {
                    Some(r) => r
                        .as_str()
                        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string()),
                    None => {
                        if reply.status != 204 && response.get("content").is_none() {
                            panic!(
                                "{method} {template} {} has no documented body",
                                reply.status
                            );
                        }
                        None
                    }
                }
            }
            None => {
                assert!(
                    reply.status < 500,
                    "{method} {path} answered {}: {}",
                    reply.status,
                    reply.text
                );
                Some("Error".to_string())
            }
        };
        if let Some(name) = schema {
            let validator = &self.validators[&name];
            let errors: Vec<String> = validator
                .iter_errors(&reply.json)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{method} {path} ({}) does not match {name}: {errors:?}\n{}",
                reply.status,
                reply.text
            );
        }
    }

    /// A request with the test key.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    /// Sends a request and checks the answer against the document.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        builder: reqwest::RequestBuilder,
    ) -> Reply {
        let response = builder.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reply = Reply {
            status,
            headers,
            text,
            json,
        };
        if !self.document.is_null() {
            self.check_documented(&method, path, &reply);
        }
        reply
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, self.request(Method::GET, path))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, self.request(Method::DELETE, path))
            .await
    }

    pub async fn json(&self, method: Method, path: &str, body: &Value) -> Reply {
        let builder = self
            .request(method.clone(), path)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(method, path, builder).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::PUT, path, body).await
    }

    /// A raw body with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let builder = self
            .request(method.clone(), path)
            .header("content-type", content_type)
            .body(body);
        self.send(method, path, builder).await
    }

    /// Saves a flow and returns its id.
    pub async fn create_flow(&self, name: &str, suite: Option<&str>, tags: &[&str]) -> String {
        let reply = self
            .post(
                "/api/v1/flows",
                &json!({"yaml": flow_yaml(name, suite, tags)}),
            )
            .await
            .expect(201);
        reply.json["id"].as_str().expect("id").to_string()
    }

    /// Rows a rejected request must not have added: flows, executions, environments,
    /// collections, schedules, API keys.
    pub async fn counts(&self) -> [usize; 6] {
        let s = &self.store;
        [
            s.list_flows(WS, &Default::default())
                .await
                .expect("flows")
                .total as usize,
            s.list_executions(WS, &Default::default())
                .await
                .expect("executions")
                .total as usize,
            s.list_environments(WS).await.expect("environments").len(),
            s.list_collections(WS, None)
                .await
                .expect("collections")
                .len(),
            s.list_schedules(WS).await.expect("schedules").len(),
            s.list_api_keys(WS).await.expect("keys").len(),
        ]
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the server stops within 10 s")
                .expect("the server task");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// Reads a `text/event-stream` answer event by event; comments are counted, not returned.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
    pub comments: usize,
}

impl SseReader {
    pub async fn open(server: &TestServer, path: &str, last_event_id: Option<&str>) -> SseReader {
        let mut builder = server.request(Method::GET, path);
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", HeaderValue::from_str(id).expect("header"));
        }
        let response = builder.send().await.expect("connect");
        assert_eq!(response.status(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        SseReader {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, or `None` when the stream ended. Fails after 10 s without one.
    pub async fn next(&mut self) -> Option<SseEvent> {
        tokio::time::timeout(Duration::from_secs(10), self.next_inner())
            .await
            .expect("an event within 10 s")
    }

    async fn next_inner(&mut self) -> Option<SseEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                let mut fields = 0;
                for line in block.lines().filter(|l| !l.is_empty()) {
                    if line.starts_with(':') {
                        self.comments += 1;
                        continue;
                    }
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    fields += 1;
                    match name {
                        "id" => event.id = Some(value.to_string()),
                        "event" => event.event = Some(value.to_string()),
                        "data" => {
                            if !event.data.is_empty() {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                        }
                        _ => {}
                    }
                }
                if fields > 0 {
                    return Some(event);
                }
            }
            match self.response.chunk().await.expect("read the stream") {
                Some(bytes) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                None => return None,
            }
        }
    }
}

/// A passed or failed run record with one step.
pub fn record(name: &str, status: FlowStatus) -> FlowRecord {
    let mut step = StepRecord::skipped("hello", Some("hello"), "log", "not run");
    step.status = match status {
        FlowStatus::Passed => StepStatus::Passed,
        _ => StepStatus::Failed,
    };
    step.attempts = 1;
    step.duration = Duration::from_millis(12);
    step.skip_reason = None;
    FlowRecord {
        execution_id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        path: None,
        suite: None,
        tags: Vec::new(),
        status,
        started_at: Utc::now(),
        duration: Duration::from_millis(20),
        steps: vec![step],
        error: (status == FlowStatus::Failed).then(|| "[main] step 'hello' (log): boom".into()),
        cancelled: false,
        outputs: IndexMap::new(),
    }
}

/// Plays a worker: claims the next pending execution and completes it with `status`, appending
/// the given events first. Returns the execution id.
pub async fn work_one(store: &Store, status: FlowStatus, events: &[(&str, Value)]) -> String {
    let claimed = store
        .claim_next("test-worker", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("a pending execution");
    let id = claimed.execution.id.clone();
    if !events.is_empty() {
        store.append_events(&id, events).await.expect("append");
    }
    store
        .complete_claimed(
            &id,
            "test-worker",
            &record(&claimed.execution.flow_name, status),
        )
        .await
        .expect("complete");
    id
}
