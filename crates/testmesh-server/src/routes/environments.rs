//! Environments: named variable sets; secret values are encrypted at rest and always read masked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_store::{Environment, EnvironmentInput};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Body, Id, Input};

impl Input for EnvironmentInput {
    const SCHEMA: &'static str = "EnvironmentInput";
}

/// `{name}`.
#[derive(Deserialize)]
pub(super) struct NameInput {
    pub(super) name: String,
}

impl Input for NameInput {
    const SCHEMA: &'static str = "NameInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/environments", "createEnvironment", create)
            .doc("environments", "Create an environment")
            .describe(
                "Variables marked `is_secret` are encrypted at rest and read back as `********`.",
            )
            .json_body("EnvironmentInput")
            .ok(201, "Environment")
            .error(409, "the name is taken"),
        Endpoint::get("/api/v1/environments", "listEnvironments", list)
            .doc("environments", "List environments by name")
            .ok(200, "EnvironmentList"),
        Endpoint::get(
            "/api/v1/environments/default",
            "getDefaultEnvironment",
            get_default,
        )
        .doc("environments", "The workspace's default environment")
        .ok(200, "Environment")
        .error(404, "no environment is the default"),
        Endpoint::get("/api/v1/environments/{id}", "getEnvironment", get)
            .doc("environments", "An environment (secrets masked)")
            .ok(200, "Environment"),
        Endpoint::put("/api/v1/environments/{id}", "updateEnvironment", update)
            .doc("environments", "Replace an environment")
            .describe("A secret sent back as `********` keeps its stored value.")
            .json_body("EnvironmentInput")
            .ok(200, "Environment")
            .error(409, "the name is taken"),
        Endpoint::delete("/api/v1/environments/{id}", "deleteEnvironment", delete)
            .doc("environments", "Delete an environment")
            .no_content(),
        Endpoint::post(
            "/api/v1/environments/{id}/default",
            "setDefaultEnvironment",
            set_default,
        )
        .doc(
            "environments",
            "Make an environment the workspace's default",
        )
        .ok(200, "Environment"),
        Endpoint::post(
            "/api/v1/environments/{id}/duplicate",
            "duplicateEnvironment",
            duplicate,
        )
        .doc(
            "environments",
            "Copy an environment under a new name (secrets included)",
        )
        .json_body("NameInput")
        .ok(201, "Environment")
        .error(409, "the name is taken"),
    ]
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<EnvironmentInput>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    let env = state
        .store
        .create_environment(caller.workspace(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(env)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let environments = state.store.list_environments(caller.workspace()).await?;
    Ok(Json(
        json!({ "total": environments.len(), "environments": environments }),
    ))
}

async fn get_default(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        state.store.default_environment(caller.workspace()).await?,
    ))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        state.store.get_environment(caller.workspace(), &id).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<EnvironmentInput>,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        state
            .store
            .update_environment(caller.workspace(), &id, &input)
            .await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_environment(caller.workspace(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_default(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        state
            .store
            .set_default_environment(caller.workspace(), &id)
            .await?,
    ))
}

async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<NameInput>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    let env = state
        .store
        .duplicate_environment(caller.workspace(), &id, &input.name)
        .await?;
    Ok((StatusCode::CREATED, Json(env)))
}
