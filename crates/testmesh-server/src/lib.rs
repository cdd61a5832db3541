//! The TestMesh server: a REST API over the store (flows, executions with live events over SSE,
//! environments, collections, schedules, API keys, mocks, contracts, reports, analytics, imports and
//! coverage), Prometheus metrics, its own OpenAPI 3.1 document, and the scheduler that enqueues runs
//! on time.
//!
//! The server does not run flows: it queues executions in the store, and workers (in the same
//! process or elsewhere) claim and run them and append their events, which the server streams.
//!
//! ```no_run
//! # async fn demo() -> Result<(), testmesh_server::ServeError> {
//! use testmesh_server::{Server, ServerOptions};
//! let options = ServerOptions::new("sqlite://.testmesh/testmesh.db");
//! let server = Server::bind(options).await?;
//! println!("listening on http://{}", server.local_addr());
//! // Serves until the future completes: pass a signal, or a token's `cancelled_owned()`.
//! server.run(std::future::pending()).await
//! # }
//! ```

mod auth;
mod error;
mod extract;
mod metrics;
mod mocks;
mod openapi;
mod rate_limit;
mod routes;
mod scheduler;
mod schemas;
mod selection;
mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::Value;
use testmesh_store::Store;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{Any, CorsLayer};

pub use error::{ApiError, ApiResult};
pub use mocks::{MockConfig, MockHost};
pub use server::{DEFAULT_PORT, ServeError, Server, ServerOptions, serve};
pub use testmesh_report::stored::ReportConfig;

use extract::{Param, Query};
use metrics::HttpMetrics;
use openapi::Schemas;
use rate_limit::RateLimiter;

/// Limits and timings of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Requests per minute for keys without their own limit (default 600).
    pub default_rate_limit_per_minute: u32,
    /// Largest request body accepted, in bytes (default 1 MiB; larger bodies get 413).
    pub max_body_bytes: usize,
    /// How often a live event stream looks for new events (default 150 ms).
    pub event_poll: Duration,
    /// How often an idle event stream sends a keep-alive comment (default 15 s).
    pub keep_alive: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_rate_limit_per_minute: 600,
            max_body_bytes: 1024 * 1024,
            event_poll: Duration::from_millis(150),
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// What the handlers share: the store, the limits, the rate limiter, the request counters and the
/// OpenAPI document with its compiled request schemas. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Store,
    config: Arc<ApiConfig>,
    limiter: Arc<RateLimiter>,
    metrics: Arc<HttpMetrics>,
    openapi: Arc<Value>,
    schemas: Arc<Schemas>,
    shutdown: CancellationToken,
    mocks: Arc<MockHost>,
    reports: Arc<ReportConfig>,
}

impl AppState {
    /// State over `store` with `config`, hosting mocks with `mocks`. Fails only if the built-in
    /// schemas do not compile.
    pub fn new(
        store: Store,
        config: ApiConfig,
        mocks: Arc<MockHost>,
    ) -> Result<AppState, ServeError> {
        let document = openapi::document(&routes::endpoints());
        let schemas = Schemas::compile(&document).map_err(ServeError::Schema)?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            limiter: Arc::new(RateLimiter::new()),
            metrics: Arc::new(HttpMetrics::new()),
            openapi: Arc::new(document),
            schemas: Arc::new(schemas),
            shutdown: CancellationToken::new(),
            mocks,
            reports: Arc::new(ReportConfig::default()),
        })
    }

    /// Where generated reports are written and how long they are kept.
    pub fn with_reports(mut self, reports: ReportConfig) -> AppState {
        self.reports = Arc::new(reports);
        self
    }

    /// The mock servers it hosts.
    pub fn mocks(&self) -> &Arc<MockHost> {
        &self.mocks
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Cancelled when the server shuts down: live event streams end then, so a graceful shutdown
    /// does not wait for clients that would never hang up.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }
}

/// The API's router: every route of the route table, JSON errors for unknown routes (404) and
/// wrong methods (405), API-key authentication and rate limits on every route but `/health`,
/// the body size limit, request counting and CORS (any origin; no cookies are used).
pub fn router(state: AppState) -> Router {
    let mut public = Router::new();
    let mut private = Router::new();
    for endpoint in routes::endpoints() {
        let handler = endpoint
            .handler
            .layer(middleware::from_fn_with_state(endpoint.query, check_query));
        if endpoint.public {
            public = public.route(endpoint.path, handler);
        } else {
            private = private.route(endpoint.path, handler);
        }
    }
    let public = public.method_not_allowed_fallback(method_not_allowed);
    let private = private
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::LOCATION,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
        ]);
    let max_body = state.config.max_body_bytes;
    // Traffic to mocks: no key, no query check, and the mock's own body limit.
    let mocks = Router::new()
        .route("/mocks/{id}", routing::any(mocks::traffic::serve))
        .route("/mocks/{id}/", routing::any(mocks::traffic::serve))
        .route("/mocks/{id}/{*path}", routing::any(mocks::traffic::serve))
        .layer(DefaultBodyLimit::disable());
    public
        .merge(private)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(cors)
        .merge(mocks)
        .with_state(state)
}

/// Middleware of each route: refuses query parameters the route does not document.
async fn check_query(
    State(known): State<&'static [Param]>,
    request: Request,
    next: Next,
) -> Response {
    let checked =
        Query::parse(request.uri().query().unwrap_or_default()).and_then(|q| q.allow(known));
    match checked {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn route_not_found(request: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "route_not_found",
        format!(
            "no route {} {}; the routes are listed in /api/v1/openapi.json",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}; the `Allow` header lists the methods that are",
            request.method(),
            request.uri().path()
        ),
    )
}
