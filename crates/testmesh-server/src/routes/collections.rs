//! Collections: folders of flows, nested through `parent_id`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_store::{Collection, NewCollection};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input, Param, ParamKind, PathParams, Query, parse_id};

impl Input for NewCollection {
    const SCHEMA: &'static str = "CollectionInput";
}

/// `{flow_id, sort_order?}`.
#[derive(Deserialize)]
struct CollectionFlowInput {
    flow_id: String,
    #[serde(default)]
    sort_order: i64,
}

impl Input for CollectionFlowInput {
    const SCHEMA: &'static str = "CollectionFlowInput";
}

const LIST_QUERY: &[Param] = &[Param {
    name: "search",
    description: "only collections whose name contains this text (case-insensitive)",
    kind: ParamKind::Text,
}];

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/collections", "createCollection", create)
            .doc("collections", "Create a collection")
            .json_body("CollectionInput")
            .ok(201, "Collection")
            .error(422, "invalid body or unknown parent"),
        Endpoint::get("/api/v1/collections", "listCollections", list)
            .doc(
                "collections",
                "List collections: top-level first, then children by parent, in sort order",
            )
            .query(LIST_QUERY)
            .ok(200, "CollectionList"),
        Endpoint::get("/api/v1/collections/{id}", "getCollection", get)
            .doc("collections", "A collection")
            .ok(200, "Collection"),
        Endpoint::put("/api/v1/collections/{id}", "updateCollection", update)
            .doc(
                "collections",
                "Replace a collection (a new `parent_id` moves it)",
            )
            .json_body("CollectionInput")
            .ok(200, "Collection")
            .error(422, "invalid body, unknown parent, or a move under itself"),
        Endpoint::delete("/api/v1/collections/{id}", "deleteCollection", delete)
            .doc(
                "collections",
                "Delete a collection and its sub-collections (the flows stay)",
            )
            .no_content(),
        Endpoint::get(
            "/api/v1/collections/{id}/flows",
            "listCollectionFlows",
            flows,
        )
        .doc("collections", "The flows of a collection, in sort order")
        .ok(200, "CollectionFlowList"),
        Endpoint::post(
            "/api/v1/collections/{id}/flows",
            "addCollectionFlow",
            add_flow,
        )
        .doc(
            "collections",
            "Put a flow in a collection (or move it within)",
        )
        .json_body("CollectionFlowInput")
        .ok(200, "CollectionFlowList")
        .error(422, "invalid body or unknown flow"),
        Endpoint::delete(
            "/api/v1/collections/{id}/flows/{flow_id}",
            "removeCollectionFlow",
            remove_flow,
        )
        .doc("collections", "Take a flow out of a collection")
        .no_content(),
    ]
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<NewCollection>,
) -> ApiResult<(StatusCode, Json<Collection>)> {
    let collection = state
        .store
        .create_collection(caller.workspace(), &input)
        .await
        .map_err(ApiError::reference)?;
    Ok((StatusCode::CREATED, Json(collection)))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let collections = state
        .store
        .list_collections(caller.workspace(), query.one("search")?)
        .await?;
    Ok(Json(
        json!({ "total": collections.len(), "collections": collections }),
    ))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Collection>> {
    Ok(Json(
        state.store.get_collection(caller.workspace(), &id).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<NewCollection>,
) -> ApiResult<Json<Collection>> {
    // 404 for the collection of the URL; a missing parent is the body's fault (422).
    state.store.get_collection(caller.workspace(), &id).await?;
    let collection = state
        .store
        .update_collection(caller.workspace(), &id, &input)
        .await
        .map_err(ApiError::reference)?;
    Ok(Json(collection))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_collection(caller.workspace(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn flow_list(state: &AppState, workspace: &str, id: &str) -> ApiResult<Json<Value>> {
    let flows = state.store.collection_flows(workspace, id).await?;
    Ok(Json(json!({ "total": flows.len(), "flows": flows })))
}

async fn flows(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    flow_list(&state, caller.workspace(), &id).await
}

async fn add_flow(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<CollectionFlowInput>,
) -> ApiResult<Json<Value>> {
    state.store.get_collection(caller.workspace(), &id).await?;
    state
        .store
        .add_flow_to_collection(caller.workspace(), &id, &input.flow_id, input.sort_order)
        .await
        .map_err(ApiError::reference)?;
    flow_list(&state, caller.workspace(), &id).await
}

async fn remove_flow(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    PathParams((_, flow_id)): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    let flow_id = parse_id(&flow_id)?;
    state
        .store
        .remove_flow_from_collection(caller.workspace(), &id, &flow_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
