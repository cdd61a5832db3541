//! Mock server pages: the list with a create form (YAML or JSON), and each mock with its endpoints,
//! state (edit a key, reset), start/stop, and a live request log (it refreshes itself; matched or
//! unmatched; each request unfolds to its headers, body and near-miss reasons, and an unmatched one
//! becomes an endpoint in one click). Changes go through the server's [`MockControl`].

use std::future::Future;
use std::pin::Pin;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use testmesh_store::{MockEndpoint, MockRequest, MockServerFilter};

use crate::DashboardState;
use crate::pages::{PageError, PageResult, render, store_error};
use crate::session::Session;
use crate::views::{ago, compact, pretty};

/// A change's result, as the server's mock host answers it.
pub type ControlFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ControlError>> + Send + 'a>>;

/// Why a change was refused.
#[derive(Debug, Clone, Default)]
pub struct ControlError {
    /// What went wrong.
    pub message: String,
    /// Each bad field of a definition.
    pub errors: Vec<FieldError>,
}

/// One bad field of a definition.
#[derive(Debug, Clone, Default)]
pub struct FieldError {
    /// Its path, e.g. `endpoints[0].match.path_pattern`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Its line in the YAML or JSON text, when known.
    pub line: Option<usize>,
    /// Its column, when known.
    pub column: Option<usize>,
}

/// What the pages may change about mocks (the server's mock host implements it).
pub trait MockControl: Send + Sync + 'static {
    /// Stores a mock from its JSON definition and starts it; returns its id.
    fn create(&self, workspace: String, definition: Value) -> ControlFuture<'_, String>;
    /// Starts a stopped mock.
    fn start(&self, workspace: String, id: String) -> ControlFuture<'_, ()>;
    /// Stops a mock.
    fn stop(&self, workspace: String, id: String) -> ControlFuture<'_, ()>;
    /// Sets one state key.
    fn put_state(
        &self,
        workspace: String,
        id: String,
        key: String,
        value: Value,
    ) -> ControlFuture<'_, ()>;
    /// Goes back to the initial state.
    fn reset_state(&self, workspace: String, id: String) -> ControlFuture<'_, ()>;
    /// Adds an endpoint answering `200 {}` to a journaled request's method and path.
    fn endpoint_from_request(
        &self,
        workspace: String,
        id: String,
        request_id: String,
    ) -> ControlFuture<'_, ()>;
    /// True when the mock serves in this process.
    fn is_running(&self, id: &str) -> bool;
    /// Where the mock is reached on the server port.
    fn mounted_url(&self, id: &str) -> String;
}

fn control(state: &DashboardState) -> Result<&dyn MockControl, PageError> {
    state
        .mocks
        .as_deref()
        .ok_or_else(|| PageError::Failed("this server does not host mock servers".into()))
}

fn refused(error: ControlError) -> PageError {
    PageError::Failed(error.message)
}

struct MockRow {
    id: String,
    name: String,
    status: &'static str,
    url: String,
    endpoints: usize,
    requests: i64,
}

#[derive(Template)]
#[template(path = "mocks.html")]
struct MocksPage {
    nav: &'static str,
    key_name: String,
    mocks: Vec<MockRow>,
    definition: String,
    error: Option<String>,
    field_errors: Vec<FieldError>,
}

const EXAMPLE: &str = "name: users-api\nendpoints:\n  - path: /users/:id\n    method: GET\n    response:\n      status: 200\n      body: {id: \"{{path.id}}\", name: Alice}\n";

fn status_word(running: bool, stored: testmesh_store::MockStatus) -> &'static str {
    match (running, stored) {
        (true, _) => "running",
        (false, testmesh_store::MockStatus::Failed) => "failed",
        (false, testmesh_store::MockStatus::Starting) => "starting",
        (false, _) => "stopped",
    }
}

async fn list_page(
    state: &DashboardState,
    session: Session,
    definition: String,
    error: Option<ControlError>,
) -> PageResult {
    let control = control(state)?;
    let page = state
        .store
        .list_mock_servers(
            &session.workspace_id,
            &MockServerFilter {
                limit: Some(200),
                ..MockServerFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let mut mocks = Vec::new();
    for row in page.items {
        let endpoints = state
            .store
            .mock_endpoints(&row.id)
            .await
            .map_err(store_error)?
            .len();
        let requests = state
            .store
            .list_mock_requests(&row.id, None, Some(1), None)
            .await
            .map_err(store_error)?
            .total;
        let running = control.is_running(&row.id);
        mocks.push(MockRow {
            url: if row.base_url.is_empty() {
                control.mounted_url(&row.id)
            } else {
                row.base_url.clone()
            },
            status: status_word(running, row.status),
            id: row.id,
            name: row.name,
            endpoints,
            requests,
        });
    }
    let (error, field_errors) = match error {
        Some(e) => (Some(e.message), e.errors),
        None => (None, Vec::new()),
    };
    render(&MocksPage {
        nav: "mocks",
        key_name: session.key_name,
        mocks,
        definition,
        error,
        field_errors,
    })
}

pub(crate) async fn list(State(state): State<DashboardState>, session: Session) -> PageResult {
    list_page(&state, session, EXAMPLE.to_string(), None).await
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    definition: String,
}

/// The definition as JSON: JSON text is read as is, anything else as a YAML mock file.
fn parse_definition(text: &str) -> Result<Value, ControlError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| ControlError {
            message: format!("malformed JSON: {e}"),
            errors: vec![FieldError {
                path: String::new(),
                message: e.to_string(),
                line: Some(e.line()),
                column: Some(e.column()),
            }],
        });
    }
    match testmesh_mock::load::load_str(text, None) {
        Ok(mut mocks) if mocks.len() == 1 => Ok(mocks.remove(0).to_json()),
        Ok(mocks) => Err(ControlError {
            message: format!("the text holds {} mocks; create one at a time", mocks.len()),
            errors: Vec::new(),
        }),
        Err(e) => Err(ControlError {
            message: "the definition has errors".into(),
            errors: e
                .errors
                .iter()
                .map(|d| FieldError {
                    path: d.path.clone(),
                    message: d.message.clone(),
                    line: d.span.map(|s| s.line),
                    column: d.span.map(|s| s.col),
                })
                .collect(),
        }),
    }
}

pub(crate) async fn create(
    State(state): State<DashboardState>,
    session: Session,
    Form(form): Form<CreateForm>,
) -> PageResult {
    let control = control(&state)?;
    let result = match parse_definition(&form.definition) {
        Ok(value) => control.create(session.workspace_id.clone(), value).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/mock-servers/{id}")).into_response()),
        Err(e) => {
            let mut page = list_page(&state, session, form.definition, Some(e)).await?;
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}

struct EndpointRow {
    method: String,
    path: String,
    priority: i64,
    status: String,
}

fn endpoint_row(e: &MockEndpoint) -> EndpointRow {
    let status = e
        .definition
        .pointer("/response/status")
        .map(compact)
        .or_else(|| {
            e.definition
                .get("responses")
                .map(|_| "conditional".to_string())
        })
        .unwrap_or_else(|| "200".into());
    EndpointRow {
        method: e.method.clone(),
        path: e.path.clone(),
        priority: e.priority,
        status,
    }
}

#[derive(Template)]
#[template(path = "mock.html")]
struct MockPage {
    nav: &'static str,
    key_name: String,
    id: String,
    name: String,
    status: &'static str,
    running: bool,
    url: String,
    error: Option<String>,
    endpoints: Vec<EndpointRow>,
    state: Vec<(String, String)>,
    matched: String,
    log: LogFragment,
}

#[derive(Deserialize, Default)]
pub(crate) struct LogQuery {
    #[serde(default)]
    matched: String,
}

fn matched_filter(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

struct LogEntry {
    id: String,
    when: String,
    method: String,
    path: String,
    status: String,
    matched: bool,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
    near_misses: Vec<(String, Vec<String>)>,
}

fn log_entry(r: MockRequest, now: chrono::DateTime<Utc>) -> LogEntry {
    let headers = match &r.headers {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map(str::to_string).unwrap_or_else(|| compact(v)),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let near_misses = r
        .near_misses
        .as_ref()
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|m| {
                    let reasons = m["reasons"]
                        .as_array()
                        .map(|r| {
                            r.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        m["endpoint"].as_str().unwrap_or_default().to_string(),
                        reasons,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let body = r.body.unwrap_or_default();
    let body = serde_json::from_str::<Value>(&body)
        .map(|v| pretty(&v))
        .unwrap_or(body);
    LogEntry {
        when: ago(r.received_at, now),
        status: r
            .response_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "fault".into()),
        query: match &r.query {
            Value::Object(map) if !map.is_empty() => compact(&r.query),
            _ => String::new(),
        },
        id: r.id,
        method: r.method,
        path: r.path,
        matched: r.matched,
        headers,
        body,
        near_misses,
    }
}

#[derive(Template)]
#[template(path = "mock_log.html")]
pub(crate) struct LogFragment {
    id: String,
    entries: Vec<LogEntry>,
    total: i64,
}

async fn log_fragment(
    state: &DashboardState,
    id: &str,
    matched: &str,
) -> Result<LogFragment, PageError> {
    let page = state
        .store
        .list_mock_requests(id, matched_filter(matched), Some(100), None)
        .await
        .map_err(store_error)?;
    let now = Utc::now();
    Ok(LogFragment {
        id: id.to_string(),
        total: page.total,
        entries: page.items.into_iter().map(|r| log_entry(r, now)).collect(),
    })
}

pub(crate) async fn show(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> PageResult {
    let control = control(&state)?;
    let row = state
        .store
        .get_mock_server(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    let endpoints = state.store.mock_endpoints(&id).await.map_err(store_error)?;
    let stored_state = state.store.mock_state(&id).await.map_err(store_error)?;
    let running = control.is_running(&id);
    let matched = match matched_filter(&q.matched) {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
    .to_string();
    render(&MockPage {
        nav: "mocks",
        key_name: session.key_name,
        status: status_word(running, row.status),
        running,
        url: if row.base_url.is_empty() {
            control.mounted_url(&id)
        } else {
            row.base_url.clone()
        },
        error: row.error.clone(),
        name: row.name,
        endpoints: endpoints.iter().map(endpoint_row).collect(),
        state: stored_state
            .iter()
            .map(|e| (e.key.clone(), compact(&e.value)))
            .collect(),
        log: log_fragment(&state, &id, &matched).await?,
        matched,
        id,
    })
}

pub(crate) async fn log(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> PageResult {
    state
        .store
        .get_mock_server(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    render(&log_fragment(&state, &id, &q.matched).await?)
}

fn back(id: &str) -> Response {
    Redirect::to(&format!("/mock-servers/{id}")).into_response()
}

pub(crate) async fn start(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    control(&state)?
        .start(session.workspace_id, id.clone())
        .await
        .map_err(refused)?;
    Ok(back(&id))
}

pub(crate) async fn stop(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    control(&state)?
        .stop(session.workspace_id, id.clone())
        .await
        .map_err(refused)?;
    Ok(back(&id))
}

#[derive(Deserialize)]
pub(crate) struct StateForm {
    key: String,
    value: String,
}

pub(crate) async fn put_state(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<StateForm>,
) -> PageResult {
    let key = form.key.trim();
    if key.is_empty() {
        return Err(PageError::Failed("a state key needs a name".into()));
    }
    // JSON when it reads as JSON (`3`, `true`, `{"a":1}`), else the text itself.
    let value = serde_json::from_str(form.value.trim())
        .unwrap_or_else(|_| Value::String(form.value.clone()));
    control(&state)?
        .put_state(session.workspace_id, id.clone(), key.to_string(), value)
        .await
        .map_err(refused)?;
    Ok(back(&id))
}

pub(crate) async fn reset_state(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    control(&state)?
        .reset_state(session.workspace_id, id.clone())
        .await
        .map_err(refused)?;
    Ok(back(&id))
}

pub(crate) async fn endpoint_from_request(
    State(state): State<DashboardState>,
    session: Session,
    Path((id, request_id)): Path<(String, String)>,
) -> PageResult {
    control(&state)?
        .endpoint_from_request(session.workspace_id, id.clone(), request_id)
        .await
        .map_err(refused)?;
    Ok(back(&id))
}
