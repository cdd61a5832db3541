//! Flows: YAML in (validated, every finding with its line and column out), versions kept.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use testmesh_store::{FlowFilter, FlowVersion, StoredFlow};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{FlowYaml, Id, LIMIT, OFFSET, Param, ParamKind, PathParams, Query};

const LIST_QUERY: &[Param] = &[
    Param {
        name: "suite",
        description: "only flows of this suite",
        kind: ParamKind::Text,
    },
    Param {
        name: "tag",
        description: "only flows with any of these tags (repeatable; `tags` works too)",
        kind: ParamKind::Repeated,
    },
    Param {
        name: "tags",
        description: "the same as `tag`",
        kind: ParamKind::Repeated,
    },
    Param {
        name: "search",
        description: "only flows whose name contains this text (case-insensitive)",
        kind: ParamKind::Text,
    },
    LIMIT,
    OFFSET,
];

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/flows", "createFlow", create)
            .doc("flows", "Save a new flow")
            .describe("The body is the flow's YAML (`Content-Type: application/yaml`) or `{\"yaml\": \"…\"}`. Invalid YAML is refused with every finding, each with its line and column (`details.diagnostics`).")
            .body(super::BodyDoc::FlowYaml)
            .ok(201, "Flow")
            .error(409, "a live flow of the workspace has that name")
            .error(422, "invalid flow (`invalid_flow`, with `details.diagnostics`) or body"),
        Endpoint::get("/api/v1/flows", "listFlows", list)
            .doc("flows", "List flows")
            .query(LIST_QUERY)
            .ok(200, "FlowList"),
        Endpoint::get("/api/v1/flows/{id}", "getFlow", get)
            .doc("flows", "A flow with its current YAML")
            .ok(200, "Flow"),
        Endpoint::put("/api/v1/flows/{id}", "updateFlow", update)
            .doc("flows", "Save a new version of a flow")
            .describe("Name, suite and tags follow the new YAML. The old versions stay.")
            .body(super::BodyDoc::FlowYaml)
            .ok(200, "Flow")
            .error(409, "another live flow has the new name")
            .error(422, "invalid flow (`invalid_flow`, with `details.diagnostics`) or body"),
        Endpoint::delete("/api/v1/flows/{id}", "deleteFlow", delete)
            .doc("flows", "Delete a flow")
            .describe("Soft delete: the flow leaves lists and frees its name; its versions and executions stay.")
            .no_content(),
        Endpoint::get("/api/v1/flows/{id}/versions", "listFlowVersions", versions)
            .doc("flows", "Every version of a flow, newest first")
            .ok(200, "FlowVersionList"),
        Endpoint::get(
            "/api/v1/flows/{id}/versions/{version}",
            "getFlowVersion",
            version,
        )
        .doc("flows", "One version of a flow")
        .ok(200, "FlowVersion"),
    ]
}

fn created(flow: StoredFlow) -> Response {
    let mut response = (StatusCode::CREATED, Json(&flow)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/flows/{}", flow.flow.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    FlowYaml(yaml): FlowYaml,
) -> ApiResult<Response> {
    let flow = state
        .store
        .create_flow(caller.workspace(), &yaml, None)
        .await?;
    Ok(created(flow))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<serde_json::Value>> {
    let (limit, offset) = query.paging()?;
    let filter = FlowFilter {
        suite: query.one("suite")?.map(str::to_string),
        tags: query.all(&["tag", "tags"]),
        search: query.one("search")?.map(str::to_string),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state.store.list_flows(caller.workspace(), &filter).await?;
    Ok(Json(json!({
        "flows": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<StoredFlow>> {
    Ok(Json(state.store.get_flow(caller.workspace(), &id).await?))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    FlowYaml(yaml): FlowYaml,
) -> ApiResult<Json<StoredFlow>> {
    Ok(Json(
        state
            .store
            .update_flow(caller.workspace(), &id, &yaml)
            .await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_flow(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<serde_json::Value>> {
    let versions = state
        .store
        .list_flow_versions(caller.workspace(), &id)
        .await?;
    Ok(Json(
        json!({ "total": versions.len(), "versions": versions }),
    ))
}

async fn version(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    PathParams((_, version)): PathParams<(String, String)>,
) -> ApiResult<Json<FlowVersion>> {
    let number = version
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::not_found(format!("flow version not found: {version}")))?;
    Ok(Json(
        state
            .store
            .get_flow_version(caller.workspace(), &id, number)
            .await?,
    ))
}
