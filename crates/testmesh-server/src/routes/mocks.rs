//! Mock servers: create (and start) from a definition, list, read, replace, start, stop, delete;
//! endpoints (applied to a running mock at once); the request journal; the state. Traffic to the
//! mocks themselves goes to `/mocks/{id}/…` (see `mocks::traffic`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_store::{MockServer, MockServerFilter, MockStatus};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input, LIMIT, OFFSET, Param, ParamKind, PathParams, Query};
use crate::mocks::{read_definition, read_endpoint};

const STATUSES: &[&str] = &["starting", "running", "stopped", "failed"];

const LIST_QUERY: &[Param] = &[
    Param {
        name: "status",
        description: "only mock servers with this status",
        kind: ParamKind::Enum(STATUSES),
    },
    Param {
        name: "execution_id",
        description: "only mock servers started by this execution's flow",
        kind: ParamKind::Text,
    },
    LIMIT,
    OFFSET,
];

const REQUESTS_QUERY: &[Param] = &[
    Param {
        name: "matched",
        description: "only requests an endpoint answered (`true`) or none did (`false`)",
        kind: ParamKind::Enum(&["true", "false"]),
    },
    Param {
        name: "limit",
        description: "page size, 1–1000 (default 50)",
        kind: ParamKind::Int(1, 1000),
    },
    OFFSET,
];

/// A mock definition in its JSON form (checked by the mock engine, which names bad fields).
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct DefinitionInput(Value);

impl Input for DefinitionInput {
    const SCHEMA: &'static str = "MockDefinitionInput";
}

/// An endpoint definition in its JSON form.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct EndpointInput(Value);

impl Input for EndpointInput {
    const SCHEMA: &'static str = "MockEndpointInput";
}

/// `{value}` (or the original's `{state_value}`).
#[derive(Deserialize)]
pub(super) struct StateInput {
    value: Option<Value>,
    state_value: Option<Value>,
}

impl Input for StateInput {
    const SCHEMA: &'static str = "MockStateInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    const TAG: &str = "mock-servers";
    vec![
        Endpoint::get("/api/v1/mock-servers", "listMockServers", list)
            .doc(TAG, "List mock servers, newest first")
            .query(LIST_QUERY)
            .ok(200, "MockServerList"),
        Endpoint::post("/api/v1/mock-servers", "createMockServer", create)
            .doc(TAG, "Create a mock server and start it")
            .describe("The body is a mock definition (the YAML format's keys, as JSON). It is served at once at `base_url` (`/mocks/{id}` on this server, or its own port when it sets `port`). Definition errors answer 422 with each field's path in `details.errors`. Definitions cannot read or write files on the server (`body_from_file`, `save_to`, TLS files, record/playback).")
            .json_body("MockDefinitionInput")
            .ok(201, "MockServerDetail")
            .error(409, "a mock server with this id exists")
            .error(503, "no free port in the mock port range"),
        Endpoint::get("/api/v1/mock-servers/{id}", "getMockServer", get)
            .doc(TAG, "A mock server with its endpoints")
            .ok(200, "MockServerDetail"),
        Endpoint::put("/api/v1/mock-servers/{id}", "replaceMockServer", replace)
            .doc(TAG, "Replace a mock server's definition")
            .describe("A running mock gets the new endpoints at once (its state is kept); when other settings change it restarts with them.")
            .json_body("MockDefinitionInput")
            .ok(200, "MockServerDetail")
            .error(503, "no free port in the mock port range"),
        Endpoint::delete("/api/v1/mock-servers/{id}", "deleteMockServer", delete)
            .doc(TAG, "Stop and delete a mock server with its endpoints, journal and state")
            .no_content(),
        Endpoint::post("/api/v1/mock-servers/{id}/start", "startMockServer", start)
            .doc(TAG, "Start a stopped (or failed) mock server again")
            .describe("It serves its stored endpoints with its stored state.")
            .ok(200, "MockServerDetail")
            .error(409, "it is already running")
            .error(422, "its stored definition no longer loads (it is marked failed)")
            .error(503, "no free port in the mock port range"),
        Endpoint::post("/api/v1/mock-servers/{id}/stop", "stopMockServer", stop)
            .doc(TAG, "Stop a mock server")
            .describe("It stays stored (with its journal and state) and can be started again.")
            .ok(200, "MockServerDetail"),
        Endpoint::get("/api/v1/mock-servers/{id}/endpoints", "listMockEndpoints", list_endpoints)
            .doc(TAG, "A mock server's endpoints in matching order")
            .ok(200, "MockEndpointList"),
        Endpoint::post("/api/v1/mock-servers/{id}/endpoints", "addMockEndpoint", add_endpoint)
            .doc(TAG, "Add an endpoint (a running mock serves it at once)")
            .json_body("MockEndpointInput")
            .ok(201, "MockEndpoint"),
        Endpoint::put(
            "/api/v1/mock-servers/{id}/endpoints/{endpoint_id}",
            "replaceMockEndpoint",
            replace_endpoint,
        )
        .doc(TAG, "Replace an endpoint (a running mock serves it at once)")
        .json_body("MockEndpointInput")
        .ok(200, "MockEndpoint"),
        Endpoint::delete(
            "/api/v1/mock-servers/{id}/endpoints/{endpoint_id}",
            "deleteMockEndpoint",
            delete_endpoint,
        )
        .doc(TAG, "Delete an endpoint (a running mock stops serving it at once)")
        .no_content(),
        Endpoint::get("/api/v1/mock-servers/{id}/requests", "listMockRequests", list_requests)
            .doc(TAG, "The stored request journal, newest first")
            .describe("Every request the mock received, matched or not, with the endpoint that answered or, for unmatched ones, the closest endpoints and why they did not match. Secret headers (`Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`) are stored masked. Entries are written in batches shortly after the answer; the stored journal keeps the newest entries per mock up to the server's cap.")
            .query(REQUESTS_QUERY)
            .ok(200, "MockRequestList"),
        Endpoint::delete("/api/v1/mock-servers/{id}/requests", "clearMockRequests", clear_requests)
            .doc(TAG, "Clear the request journal (stored and in memory)")
            .no_content(),
        Endpoint::get(
            "/api/v1/mock-servers/{id}/requests/{request_id}",
            "getMockRequest",
            get_request,
        )
        .doc(TAG, "One journaled request")
        .ok(200, "MockRequest"),
        Endpoint::post(
            "/api/v1/mock-servers/{id}/requests/{request_id}/endpoint",
            "createMockEndpointFromRequest",
            endpoint_from_request,
        )
        .doc(TAG, "Create an endpoint from a journaled request")
        .describe("Adds an endpoint matching exactly this request's method and path that answers `200 {}` — edit it afterwards. A running mock serves it at once.")
        .ok(201, "MockEndpoint"),
        Endpoint::get("/api/v1/mock-servers/{id}/state", "getMockState", state)
            .doc(TAG, "A mock server's state, by key")
            .ok(200, "MockStateList"),
        Endpoint::put("/api/v1/mock-servers/{id}/state/{key}", "putMockState", put_state)
            .doc(TAG, "Set one state key (a running mock sees it at once)")
            .json_body("MockStateInput")
            .ok(200, "MockStateList"),
        Endpoint::delete("/api/v1/mock-servers/{id}/state/{key}", "deleteMockState", delete_state)
            .doc(TAG, "Delete one state key")
            .no_content(),
        Endpoint::post("/api/v1/mock-servers/{id}/state/reset", "resetMockState", reset_state)
            .doc(TAG, "Go back to the definition's initial state")
            .ok(200, "MockStateList"),
    ]
}

/// A row as the API shows it: with its endpoint count, whether it serves in this process, and its
/// address even before it first ran.
async fn summary(state: &AppState, row: MockServer) -> ApiResult<Value> {
    let endpoints = state.store.mock_endpoints(&row.id).await?.len();
    let running = state.mocks.is_running(&row.id);
    let base_url = if row.base_url.is_empty() {
        state.mocks.mounted_url(&row.id)
    } else {
        row.base_url.clone()
    };
    let mut value = serde_json::to_value(&row).map_err(|e| ApiError::internal(&e))?;
    value["base_url"] = json!(base_url);
    value["endpoint_count"] = json!(endpoints);
    value["running"] = json!(running);
    Ok(value)
}

async fn detail(state: &AppState, row: MockServer) -> ApiResult<Value> {
    let endpoints = state.store.mock_endpoints(&row.id).await?;
    let mut value = summary(state, row).await?;
    value["endpoints"] = serde_json::to_value(&endpoints).map_err(|e| ApiError::internal(&e))?;
    Ok(value)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = MockServerFilter {
        status: query
            .choice("status", STATUSES)?
            .and_then(MockStatus::parse),
        execution_id: query.one("execution_id")?.map(str::to_string),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_mock_servers(caller.workspace(), &filter)
        .await?;
    let mut servers = Vec::with_capacity(page.items.len());
    for row in page.items {
        servers.push(summary(&state, row).await?);
    }
    Ok(Json(json!({
        "servers": servers,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(DefinitionInput(body)): Body<DefinitionInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let definition = read_definition(&body)?;
    let row = state.mocks.create(caller.workspace(), definition).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, row).await?)))
}

async fn get(State(state): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Value>> {
    let row = state.store.get_mock_server(caller.workspace(), &id).await?;
    Ok(Json(detail(&state, row).await?))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(DefinitionInput(body)): Body<DefinitionInput>,
) -> ApiResult<Json<Value>> {
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let definition = read_definition(&body)?;
    let row = state
        .mocks
        .update(caller.workspace(), &id, definition)
        .await?;
    Ok(Json(detail(&state, row).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.mocks.delete(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let row = state.mocks.start(caller.workspace(), &id).await?;
    Ok(Json(detail(&state, row).await?))
}

async fn stop(State(state): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Value>> {
    let row = state.mocks.stop(caller.workspace(), &id).await?;
    Ok(Json(detail(&state, row).await?))
}

async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let endpoints = state.store.mock_endpoints(&id).await?;
    Ok(Json(
        json!({"total": endpoints.len(), "endpoints": endpoints}),
    ))
}

async fn add_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(EndpointInput(body)): Body<EndpointInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let endpoint = read_endpoint(&body)?;
    let stored = state
        .mocks
        .add_endpoint(caller.workspace(), &id, endpoint)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(stored))))
}

#[derive(Deserialize)]
struct EndpointPath {
    id: String,
    endpoint_id: String,
}

/// `{id}` and a second segment; the id must be a UUID.
fn ids(id: &str) -> ApiResult<String> {
    crate::extract::parse_id(id)
}

async fn replace_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<EndpointPath>,
    Body(EndpointInput(body)): Body<EndpointInput>,
) -> ApiResult<Json<Value>> {
    let id = ids(&path.id)?;
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let endpoint = read_endpoint(&body)?;
    let stored = state
        .mocks
        .replace_endpoint(caller.workspace(), &id, &path.endpoint_id, endpoint)
        .await?;
    Ok(Json(json!(stored)))
}

async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<EndpointPath>,
) -> ApiResult<StatusCode> {
    let id = ids(&path.id)?;
    state
        .mocks
        .delete_endpoint(caller.workspace(), &id, &path.endpoint_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    query: Query,
) -> ApiResult<Json<Value>> {
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let matched = query
        .choice("matched", &["true", "false"])?
        .map(|m| m == "true");
    let limit = query.int("limit", 1, 1000)?.unwrap_or(50);
    let offset = query.int("offset", 0, i64::MAX)?.unwrap_or(0);
    let page = state
        .store
        .list_mock_requests(&id, matched, Some(limit), Some(offset))
        .await?;
    Ok(Json(json!({
        "requests": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

#[derive(Deserialize)]
struct RequestPath {
    id: String,
    request_id: String,
}

async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<RequestPath>,
) -> ApiResult<Json<Value>> {
    let id = ids(&path.id)?;
    state.store.get_mock_server(caller.workspace(), &id).await?;
    let request = state.store.get_mock_request(&id, &path.request_id).await?;
    Ok(Json(json!(request)))
}

async fn clear_requests(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.mocks.clear_requests(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn endpoint_from_request(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<RequestPath>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = ids(&path.id)?;
    let stored = state
        .mocks
        .endpoint_from_request(caller.workspace(), &id, &path.request_id)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(stored))))
}

async fn state_list(state: &AppState, id: &str) -> ApiResult<Json<Value>> {
    let states = state.store.mock_state(id).await?;
    Ok(Json(json!({"total": states.len(), "states": states})))
}

async fn state(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    state.store.get_mock_server(caller.workspace(), &id).await?;
    state_list(&state, &id).await
}

#[derive(Deserialize)]
struct StatePath {
    id: String,
    key: String,
}

async fn put_state(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<StatePath>,
    Body(input): Body<StateInput>,
) -> ApiResult<Json<Value>> {
    let id = ids(&path.id)?;
    let value = input
        .value
        .or(input.state_value)
        .ok_or_else(|| ApiError::unprocessable("invalid_body", "give the key's `value`"))?;
    state
        .mocks
        .put_state(caller.workspace(), &id, &path.key, value)
        .await?;
    state_list(&state, &id).await
}

async fn delete_state(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<StatePath>,
) -> ApiResult<StatusCode> {
    let id = ids(&path.id)?;
    state
        .mocks
        .delete_state(caller.workspace(), &id, &path.key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_state(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    state.mocks.reset_state(caller.workspace(), &id).await?;
    state_list(&state, &id).await
}
