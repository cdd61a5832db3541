//! The TestMesh web dashboard: server-rendered pages over the store — overview, flows (YAML,
//! validation, versions, run with an environment), runs (live while running, steps with assertions,
//! requests and responses), environments, schedules, mock servers (live request log), contracts (import, interactions,
//! verifications, breaking changes, Pact download), reports (generate, download), imports (OpenAPI,
//! Postman, Pact and HAR to flows, previewed first) and coverage analyses. Log in with an API key. Assets are compiled
//! into the binary; the only script follows a running execution.

pub mod ai;
mod analytics;
mod contracts;
mod imports;
mod live;
mod mocks;
mod pages;
mod reports;
mod session;
mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path};
use axum::handler::Handler;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use testmesh_store::Store;
use tokio_util::sync::CancellationToken;

pub use mocks::{ControlError, ControlFuture, FieldError, MockControl};
pub use session::{Session, Sessions};

/// What the pages need: the store, the sessions of this server, and its shutdown signal.
#[derive(Clone)]
pub struct DashboardState {
    /// Where everything is read from.
    pub store: Store,
    /// Signed-in browsers.
    pub sessions: Sessions,
    /// Cancelled when the server stops: live streams end then, so shutdown never waits for a run.
    pub shutdown: CancellationToken,
    /// The server's mock servers; without it the mock pages say the server hosts none.
    pub mocks: Option<std::sync::Arc<dyn MockControl>>,
    /// Where reports are written; without it reports can be listed but not generated.
    pub reports: Option<testmesh_report::stored::ReportConfig>,
}

impl DashboardState {
    /// A dashboard over `store` with no one signed in, whose live streams end when `shutdown` is
    /// cancelled.
    pub fn new(store: Store, shutdown: CancellationToken) -> Self {
        DashboardState {
            store,
            sessions: Sessions::default(),
            shutdown,
            mocks: None,
            reports: None,
        }
    }

    /// The same dashboard generating reports into `config`'s directory.
    pub fn with_reports(mut self, config: testmesh_report::stored::ReportConfig) -> Self {
        self.reports = Some(config);
        self
    }

    /// The same dashboard with pages for the mock servers `control` hosts.
    pub fn with_mocks(mut self, control: std::sync::Arc<dyn MockControl>) -> Self {
        self.mocks = Some(control);
        self
    }
}

/// The dashboard's routes, to be served at the root of the site (the API lives under `/api`).
pub fn router(state: DashboardState) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/flows", get(pages::flows))
        .route("/flows/{id}", get(pages::flow))
        .route("/flows/{id}/run", post(pages::run_flow))
        .route("/executions", get(pages::executions))
        .route("/executions/{id}", get(pages::execution))
        .route("/executions/{id}/steps", get(pages::steps))
        .route("/executions/{id}/live", get(live::live))
        .route("/executions/{id}/cancel", post(pages::cancel))
        .route("/environments", get(pages::environments))
        .route("/schedules", get(pages::schedules))
        .route("/mock-servers", get(mocks::list).post(mocks::create))
        .route("/mock-servers/{id}", get(mocks::show))
        .route("/mock-servers/{id}/log", get(mocks::log))
        .route("/mock-servers/{id}/start", post(mocks::start))
        .route("/mock-servers/{id}/stop", post(mocks::stop))
        .route("/mock-servers/{id}/state", post(mocks::put_state))
        .route("/mock-servers/{id}/state/reset", post(mocks::reset_state))
        .route(
            "/mock-servers/{id}/requests/{request_id}/endpoint",
            post(mocks::endpoint_from_request),
        )
        .route("/contracts", get(contracts::list).post(contracts::import))
        .route("/contracts/{id}", get(contracts::show))
        .route("/contracts/{id}/pact", get(contracts::download))
        .route("/contracts/{id}/verify", post(contracts::verify))
        .route("/analytics", get(analytics::overview))
        .route("/analytics/trends", get(analytics::trends))
        .route("/reports", get(reports::list).post(reports::generate))
        .route("/reports/{id}/download", get(reports::download))
        .route("/reports/{id}/delete", post(reports::delete))
        .route(
            "/import",
            get(imports::import_form).post(imports::import_upload.layer(large())),
        )
        .route("/import/{id}", get(imports::import_preview))
        .route(
            "/import/{id}/create",
            post(imports::import_create.layer(large())),
        )
        .route(
            "/coverage",
            get(imports::coverage_form).post(imports::coverage_analyze.layer(large())),
        )
        .route("/coverage/{id}", get(imports::coverage_detail))
        .route("/coverage/{id}/report", get(imports::coverage_report))
        .route("/assets/{file}", get(asset))
        .layer(axum::middleware::from_fn(refuse_nul))
        .with_state(state)
}

/// The body limit of the import and coverage forms.
fn large() -> DefaultBodyLimit {
    DefaultBodyLimit::max(imports::MAX_FORM_BYTES)
}

/// Addresses with a NUL character (`%00`) are no page: databases refuse NUL in text, so it must not
/// reach a query.
async fn refuse_nul(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = request.uri();
    let nul = |part: &str| part.to_ascii_lowercase().contains("%00") || part.contains('\0');
    if nul(uri.path()) || uri.query().is_some_and(nul) {
        return pages::not_found();
    }
    next.run(request).await
}

/// The page for addresses the dashboard does not have (for the server's fallback).
pub fn not_found() -> Response {
    pages::not_found()
}

/// The embedded stylesheet and script.
async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (include_str!("../assets/app.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return pages::not_found(),
    };
    (
        [(CONTENT_TYPE, kind), (CACHE_CONTROL, "public, max-age=300")],
        body,
    )
        .into_response()
}
