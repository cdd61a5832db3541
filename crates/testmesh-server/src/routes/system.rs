//! Health, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::metrics;

/// `GET /health`: 200 when the database answers, 503 otherwise.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    match state.store.schema_version().await {
        Ok(_) => Json(json!({"status": "ok", "database": "connected"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = metrics::render(&state.store, &state.metrics)
        .await
        .map_err(ApiError::from)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /api/v1/openapi.json`.
pub(super) async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(state.openapi.as_ref().clone())
}
