//! API keys of the caller's workspace: create (the key is shown once), list, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_store::ApiKey;

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Body, Id, Input};

/// `{name, rate_limit_per_minute?}`.
#[derive(Deserialize)]
struct ApiKeyInput {
    name: String,
    rate_limit_per_minute: Option<i64>,
}

impl Input for ApiKeyInput {
    const SCHEMA: &'static str = "ApiKeyInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/api-keys", "createApiKey", create)
            .doc("api-keys", "Create an API key for the caller's workspace")
            .describe("The answer's `key` is the only time the key is shown: the server keeps only its SHA-256.")
            .json_body("ApiKeyInput")
            .ok(201, "CreatedApiKey"),
        Endpoint::get("/api/v1/api-keys", "listApiKeys", list)
            .doc("api-keys", "List the workspace's API keys, revoked ones included (never the keys themselves)")
            .ok(200, "ApiKeyList"),
        Endpoint::delete("/api/v1/api-keys/{id}", "revokeApiKey", revoke)
            .doc("api-keys", "Revoke an API key")
            .describe("The key stops working at once. Revoking again changes nothing. Answers the revoked key.")
            .ok(200, "ApiKey"),
    ]
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<ApiKeyInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = state
        .store
        .create_api_key(caller.workspace(), &input.name, input.rate_limit_per_minute)
        .await?;
    let mut body = json!(created.key);
    if let Some(map) = body.as_object_mut() {
        map.insert("key".into(), Value::String(created.plain));
    }
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let keys = state.store.list_api_keys(caller.workspace()).await?;
    Ok(Json(json!({ "total": keys.len(), "api_keys": keys })))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(
        state.store.revoke_api_key(caller.workspace(), &id).await?,
    ))
}
