//! `ANY /mocks/{id}/…`: traffic of systems under test to a running mock. No API key (the callers
//! are the systems being tested), no query-parameter check, and the body limit is the mock's own
//! (`max_body_bytes`), not the API's.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use testmesh_mock::{Fault, MockBody, MockOutcome};

use crate::AppState;

fn not_found(message: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
}

/// Dispatches a request under `/mocks/{id}` to the running mock.
pub(crate) async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let rest = path.strip_prefix("/mocks/").unwrap_or_default();
    let raw_id = rest.split('/').next().unwrap_or_default().to_string();
    let Ok(id) = uuid::Uuid::try_parse(&raw_id) else {
        return not_found("invalid server ID");
    };
    let Some(mock) = state.mocks.hub().get(id) else {
        return not_found("mock server not found or stopped");
    };
    let remote = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let prefix = format!("/mocks/{raw_id}");
    match mock.handle_http(request, &prefix, remote).await {
        MockOutcome::Response(r) => {
            let mut response = Response::new(Body::new(MockBody::full(r.body)));
            *response.status_mut() = r.status;
            *response.headers_mut() = r.headers;
            if r.status == StatusCode::PAYLOAD_TOO_LARGE {
                // The rest of the body was not read: the connection cannot carry another request.
                response.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            response
        }
        MockOutcome::Fault(Fault::Hang) => {
            // Never answer; the client gives up (its connection is then dropped with this
            // future). At shutdown the connection is closed rather than waited for.
            state.shutdown.cancelled().await;
            Response::new(Body::new(MockBody::fail()))
        }
        MockOutcome::Fault(Fault::CloseConnection) => {
            // A body that fails at once makes the server drop the connection.
            Response::new(Body::new(MockBody::fail()))
        }
    }
}
