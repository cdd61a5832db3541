//! The pages: each handler reads the store for the signed-in workspace and renders a template.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Duration as TimeDelta, Utc};
use serde::Deserialize;
use testmesh_store::{
    Execution, ExecutionFilter, ExecutionStatus, FlowDiagnostic, FlowFilter, Page, RunContext,
    Trigger,
};

use crate::DashboardState;
use crate::session::{self, Session, url_escape};
use crate::views::{RunRow, StepView, ago, exact, millis, status_filter, status_text};

/// Rows per page of the flow and run lists.
const PAGE_SIZE: i64 = 25;

/// Recent runs read to find each flow's last run and the failing flows.
const RECENT: i64 = 200;

/// A handler's result: a page, a redirect, or an error page.
pub(crate) type PageResult = Result<Response, PageError>;

/// Why a page cannot be shown.
pub(crate) enum PageError {
    /// Unknown, or of another workspace: 404.
    NotFound,
    /// The server or its database failed: 500 with the message.
    Failed(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound => not_found(),
            PageError::Failed(message) => error_page(&message),
        }
    }
}

pub(crate) fn render(page: &impl Template) -> PageResult {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::Failed(format!("the page could not be rendered: {e}")))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn page_with_status(status: StatusCode, title: &str, message: &str) -> Response {
    let html = ErrorPage { title, message }
        .render()
        .unwrap_or_else(|_| message.to_string());
    (status, Html(html)).into_response()
}

/// A 500 page for a failure of the server or its database.
pub(crate) fn error_page(message: &str) -> Response {
    page_with_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        message,
    )
}

/// The 404 page.
pub(crate) fn not_found() -> Response {
    page_with_status(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address, or it belongs to another workspace.",
    )
}

/// Maps a store error to the page users see.
pub(crate) fn store_error(error: testmesh_store::Error) -> PageError {
    match error {
        testmesh_store::Error::NotFound { .. } => PageError::NotFound,
        other => PageError::Failed(other.to_string()),
    }
}

fn runs(page: &Page<Execution>) -> Vec<RunRow> {
    let now = Utc::now();
    page.items.iter().map(|run| RunRow::of(run, now)).collect()
}

/// A count as shown: `10000+` when counting stopped there.
fn count_text((total, capped): (i64, bool)) -> String {
    if capped {
        format!("{total}+")
    } else {
        total.to_string()
    }
}

/// Links to the newer and older pages of a list, and the range shown.
struct Pager {
    prev: Option<String>,
    next: Option<String>,
    range: String,
}

impl Pager {
    /// `capped`: more rows match than `total` (counting stopped), so a full page may have older ones.
    fn of(
        base: &str,
        params: &[(&str, &str)],
        offset: i64,
        shown: usize,
        total: i64,
        capped: bool,
    ) -> Pager {
        let link = |offset: i64| {
            let mut query: Vec<String> = params
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k}={}", url_escape(v)))
                .collect();
            if offset > 0 {
                query.push(format!("offset={offset}"));
            }
            if query.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", query.join("&"))
            }
        };
        let end = offset + shown as i64;
        Pager {
            prev: (offset > 0).then(|| link((offset - PAGE_SIZE).max(0))),
            next: (end < total || (capped && shown as i64 == PAGE_SIZE)).then(|| link(end)),
            range: match (shown, capped) {
                (0, _) => String::new(),
                (_, true) => format!("{}–{end} of {total}+", offset + 1),
                (_, false) => format!("{}–{end} of {total}", offset + 1),
            },
        }
    }
}

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: &'static str,
    key_name: String,
    runs_week: String,
    pass_rate: String,
    pass_class: &'static str,
    queued: i64,
    failing: Vec<FailingFlow>,
    strip: Vec<StripCell>,
    strip_width: usize,
    runs: Vec<RunRow>,
    empty: &'static str,
}

struct FailingFlow {
    name: String,
    flow_id: Option<String>,
    run_id: String,
    when: String,
    when_exact: String,
    error: String,
}

struct StripCell {
    id: String,
    x: usize,
    status: &'static str,
    title: String,
}

pub(crate) async fn overview(State(state): State<DashboardState>, session: Session) -> PageResult {
    let ws = session.workspace_id.as_str();
    let store = &state.store;
    let now = Utc::now();
    let recent = store
        .list_executions(
            ws,
            &ExecutionFilter {
                limit: Some(RECENT),
                ..ExecutionFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let week = |status: Option<ExecutionStatus>| ExecutionFilter {
        status,
        created_after: Some(now - TimeDelta::days(7)),
        limit: Some(1),
        ..ExecutionFilter::default()
    };
    let count = |filter: ExecutionFilter| async move {
        store
            .list_executions(ws, &filter)
            .await
            .map(|p| (p.total, p.total_capped))
            .map_err(store_error)
    };
    let runs_week = count_text(count(week(None)).await?);
    let (passed, _) = count(week(Some(ExecutionStatus::Completed))).await?;
    let (failed, _) = count(week(Some(ExecutionStatus::Failed))).await?;
    let (queued, _) = count(ExecutionFilter {
        status: Some(ExecutionStatus::Pending),
        limit: Some(1),
        ..ExecutionFilter::default()
    })
    .await?;
    let (pass_rate, pass_class) = match passed + failed {
        0 => ("–".to_string(), ""),
        n => {
            let rate = passed as f64 * 100.0 / n as f64;
            let class = match rate {
                r if r >= 95.0 => "good",
                r if r >= 80.0 => "warn",
                _ => "bad",
            };
            (format!("{rate:.1}%"), class)
        }
    };

    // A flow is failing when its latest finished run failed.
    let mut seen = HashMap::new();
    let mut failing = Vec::new();
    for run in recent.items.iter().filter(|r| {
        matches!(
            r.status,
            ExecutionStatus::Completed | ExecutionStatus::Failed
        )
    }) {
        let key = run.flow_id.clone().unwrap_or_else(|| run.flow_name.clone());
        if seen.insert(key, ()).is_none() && run.status == ExecutionStatus::Failed {
            let at = run.started_at.unwrap_or(run.created_at);
            failing.push(FailingFlow {
                name: run.flow_name.clone(),
                flow_id: run.flow_id.clone(),
                run_id: run.id.clone(),
                when: ago(at, now),
                when_exact: exact(at),
                error: run.error.clone().unwrap_or_default(),
            });
        }
    }
    let strip: Vec<StripCell> = recent
        .items
        .iter()
        .take(40)
        .rev()
        .enumerate()
        .map(|(i, run)| StripCell {
            id: run.id.clone(),
            x: i * 12,
            status: status_text(run.status),
            title: format!(
                "{} — {} — {}",
                run.flow_name,
                status_text(run.status),
                exact(run.started_at.unwrap_or(run.created_at))
            ),
        })
        .collect();
    let all = runs(&recent);
    render(&OverviewPage {
        nav: "overview",
        key_name: session.key_name,
        runs_week,
        pass_rate,
        pass_class,
        queued,
        failing,
        strip_width: (strip.len() * 12).max(12),
        strip,
        runs: all.into_iter().take(10).collect(),
        empty: "No runs yet. Every `testmesh run` pointed at this database, and every run started here, appears in this list.",
    })
}

// ---------------------------------------------------------------- flows

#[derive(Deserialize, Default)]
pub(crate) struct FlowsQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    offset: i64,
}

#[derive(Template)]
#[template(path = "flows.html")]
struct FlowsPage {
    nav: &'static str,
    key_name: String,
    flows: Vec<FlowRow>,
    total: i64,
    search: String,
    suite: String,
    tag: String,
    filtered: bool,
    prev: Option<String>,
    next: Option<String>,
    range: String,
}

struct FlowRow {
    id: String,
    name: String,
    path: Option<String>,
    suite: String,
    tags: Vec<String>,
    version: i64,
    updated: String,
    updated_exact: String,
    last_status: Option<&'static str>,
    last_run: String,
}

pub(crate) async fn flows(
    State(state): State<DashboardState>,
    session: Session,
    Query(q): Query<FlowsQuery>,
) -> PageResult {
    let ws = session.workspace_id.as_str();
    let offset = q.offset.max(0);
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let page = state
        .store
        .list_flows(
            ws,
            &FlowFilter {
                suite: non_empty(&q.suite),
                tags: non_empty(&q.tag).into_iter().collect(),
                search: non_empty(&q.search),
                limit: Some(PAGE_SIZE),
                offset: Some(offset),
            },
        )
        .await
        .map_err(store_error)?;
    let recent = state
        .store
        .list_executions(
            ws,
            &ExecutionFilter {
                limit: Some(RECENT),
                ..ExecutionFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let mut last: HashMap<&str, &Execution> = HashMap::new();
    for run in &recent.items {
        if let Some(id) = run.flow_id.as_deref() {
            last.entry(id).or_insert(run);
        }
    }
    let now = Utc::now();
    let rows = page
        .items
        .iter()
        .map(|f| {
            let run = last.get(f.id.as_str());
            FlowRow {
                id: f.id.clone(),
                name: f.name.clone(),
                path: f.source_path.clone(),
                suite: f.suite.clone().unwrap_or_default(),
                tags: f.tags.clone(),
                version: f.version,
                updated: ago(f.updated_at, now),
                updated_exact: exact(f.updated_at),
                last_status: run.map(|r| status_text(r.status)),
                last_run: run.map(|r| r.id.clone()).unwrap_or_default(),
            }
        })
        .collect::<Vec<_>>();
    let pager = Pager::of(
        "/flows",
        &[("search", &q.search), ("suite", &q.suite), ("tag", &q.tag)],
        offset,
        rows.len(),
        page.total,
        page.total_capped,
    );
    render(&FlowsPage {
        nav: "flows",
        key_name: session.key_name,
        flows: rows,
        total: page.total,
        filtered: !(q.search.is_empty() && q.suite.is_empty() && q.tag.is_empty()),
        search: q.search,
        suite: q.suite,
        tag: q.tag,
        prev: pager.prev,
        next: pager.next,
        range: pager.range,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct FlowQuery {
    version: Option<i64>,
}

#[derive(Template)]
#[template(path = "flow.html")]
struct FlowPage {
    nav: &'static str,
    key_name: String,
    id: String,
    name: String,
    description: Option<String>,
    suite: Option<String>,
    tags: Vec<String>,
    path: Option<String>,
    version: i64,
    shown_version: i64,
    yaml_lines: Vec<(usize, String)>,
    findings: Vec<FlowDiagnostic>,
    versions: Vec<(i64, String)>,
    environments: Vec<(String, bool)>,
    runs: Vec<RunRow>,
    empty: &'static str,
}

pub(crate) async fn flow(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<FlowQuery>,
) -> PageResult {
    let ws = session.workspace_id.as_str();
    let store = &state.store;
    let flow = store.get_flow(ws, &id).await.map_err(store_error)?;
    let (shown_version, yaml) = match q.version {
        Some(v) if v != flow.flow.version => {
            let version = store
                .get_flow_version(ws, &id, v)
                .await
                .map_err(store_error)?;
            (v, version.yaml)
        }
        _ => (flow.flow.version, flow.yaml.clone()),
    };
    let findings = testmesh_flow::load_str(&yaml)
        .diagnostics
        .iter()
        .map(FlowDiagnostic::from)
        .collect();
    let versions = store
        .list_flow_versions(ws, &id)
        .await
        .map_err(store_error)?
        .iter()
        .map(|v| (v.version, exact(v.created_at)))
        .collect();
    let environments = store
        .list_environments(ws)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|e| (e.name, e.is_default))
        .collect();
    let recent = store
        .list_executions(
            ws,
            &ExecutionFilter {
                flow_id: Some(id.clone()),
                limit: Some(10),
                ..ExecutionFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    render(&FlowPage {
        nav: "flows",
        key_name: session.key_name,
        id,
        name: flow.flow.name,
        description: flow.flow.description,
        suite: flow.flow.suite,
        tags: flow.flow.tags,
        path: flow.flow.source_path,
        version: flow.flow.version,
        shown_version,
        yaml_lines: yaml
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_string()))
            .collect(),
        findings,
        versions,
        environments,
        runs: runs(&recent),
        empty: "This flow has not run yet.",
    })
}

#[derive(Deserialize)]
pub(crate) struct RunForm {
    #[serde(default)]
    environment: String,
}

pub(crate) async fn run_flow(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<RunForm>,
) -> PageResult {
    let ws = session.workspace_id.as_str();
    let environment = form.environment.trim();
    let context = RunContext {
        environment: (!environment.is_empty()).then(|| environment.to_string()),
        ..RunContext::for_flow(ws, &id, None, Trigger::Api)
    };
    let execution = state
        .store
        .enqueue_execution(&context)
        .await
        .map_err(store_error)?;
    Ok(Redirect::to(&format!("/executions/{}", execution.id)).into_response())
}

// ---------------------------------------------------------------- executions

#[derive(Deserialize, Default)]
pub(crate) struct ExecutionsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    flow_id: String,
    #[serde(default)]
    offset: i64,
}

#[derive(Template)]
#[template(path = "executions.html")]
struct ExecutionsPage {
    nav: &'static str,
    key_name: String,
    runs: Vec<RunRow>,
    total: String,
    statuses: Vec<(&'static str, bool)>,
    suite: String,
    flow_id: String,
    filtered: bool,
    empty: &'static str,
    prev: Option<String>,
    next: Option<String>,
    range: String,
}

pub(crate) async fn executions(
    State(state): State<DashboardState>,
    session: Session,
    Query(q): Query<ExecutionsQuery>,
) -> PageResult {
    let ws = session.workspace_id.as_str();
    let offset = q.offset.max(0);
    let page = state
        .store
        .list_executions(
            ws,
            &ExecutionFilter {
                status: status_filter(&q.status),
                suite: (!q.suite.trim().is_empty()).then(|| q.suite.trim().to_string()),
                flow_id: (!q.flow_id.is_empty()).then(|| q.flow_id.clone()),
                limit: Some(PAGE_SIZE),
                offset: Some(offset),
                ..ExecutionFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let rows = runs(&page);
    let pager = Pager::of(
        "/executions",
        &[
            ("status", &q.status),
            ("suite", &q.suite),
            ("flow_id", &q.flow_id),
        ],
        offset,
        rows.len(),
        page.total,
        page.total_capped,
    );
    let filtered = !(q.status.is_empty() && q.suite.is_empty() && q.flow_id.is_empty());
    render(&ExecutionsPage {
        nav: "executions",
        key_name: session.key_name,
        runs: rows,
        total: count_text((page.total, page.total_capped)),
        statuses: ["passed", "failed", "running", "queued", "cancelled"]
            .into_iter()
            .map(|s| (s, s == q.status))
            .collect(),
        suite: q.suite,
        flow_id: q.flow_id,
        empty: if filtered {
            "No run matches these filters."
        } else {
            "No runs yet."
        },
        filtered,
        prev: pager.prev,
        next: pager.next,
        range: pager.range,
    })
}

#[derive(Template)]
#[template(path = "execution.html")]
struct ExecutionPage {
    nav: &'static str,
    key_name: String,
    id: String,
    short_id: String,
    flow_name: String,
    flow_id: Option<String>,
    status: &'static str,
    trigger: &'static str,
    environment: Option<String>,
    started: String,
    started_exact: String,
    duration: Option<String>,
    attempts: i64,
    error: Option<String>,
    live: bool,
    steps: Vec<StepView>,
}

#[derive(Template)]
#[template(path = "steps.html")]
struct StepsFragment {
    status: &'static str,
    steps: Vec<StepView>,
}

pub(crate) async fn execution(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let detail = state
        .store
        .get_execution_detail(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    let run = detail.execution;
    let at = run.started_at.unwrap_or(run.created_at);
    render(&ExecutionPage {
        nav: "executions",
        key_name: session.key_name,
        short_id: run.short_id(),
        flow_name: run.flow_name,
        flow_id: run.flow_id,
        status: status_text(run.status),
        trigger: run.trigger.as_str(),
        environment: run.environment,
        started: ago(at, Utc::now()),
        started_exact: exact(at),
        duration: run.duration_ms.map(millis),
        attempts: run.attempts,
        error: run.error,
        live: !run.status.is_final(),
        steps: detail.steps.iter().map(StepView::of).collect(),
        id: run.id,
    })
}

/// The steps of a run alone: what the live view swaps in as the run goes on.
pub(crate) async fn steps(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let detail = state
        .store
        .get_execution_detail(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    render(&StepsFragment {
        status: status_text(detail.execution.status),
        steps: detail.steps.iter().map(StepView::of).collect(),
    })
}

pub(crate) async fn cancel(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    match state.store.request_cancel(&session.workspace_id, &id).await {
        // Already finished: show it as it is.
        Ok(_) | Err(testmesh_store::Error::Conflict(_)) => {
            Ok(Redirect::to(&format!("/executions/{id}")).into_response())
        }
        Err(e) => Err(store_error(e)),
    }
}

// ---------------------------------------------------------------- environments, schedules

#[derive(Template)]
#[template(path = "environments.html")]
struct EnvironmentsPage {
    nav: &'static str,
    key_name: String,
    environments: Vec<testmesh_store::Environment>,
}

pub(crate) async fn environments(
    State(state): State<DashboardState>,
    session: Session,
) -> PageResult {
    let environments = state
        .store
        .list_environments(&session.workspace_id)
        .await
        .map_err(store_error)?;
    render(&EnvironmentsPage {
        nav: "environments",
        key_name: session.key_name,
        environments,
    })
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    nav: &'static str,
    key_name: String,
    schedules: Vec<ScheduleRow>,
}

struct ScheduleRow {
    name: String,
    flow_id: Option<String>,
    target: String,
    cron: String,
    timezone: String,
    enabled: bool,
    next: String,
    last: String,
}

pub(crate) async fn schedules(State(state): State<DashboardState>, session: Session) -> PageResult {
    let ws = session.workspace_id.as_str();
    let list = state.store.list_schedules(ws).await.map_err(store_error)?;
    let mut names = HashMap::new();
    for schedule in &list {
        if let Some(id) = &schedule.flow_id
            && !names.contains_key(id)
        {
            let name = match state.store.get_flow(ws, id).await {
                Ok(flow) => flow.flow.name,
                Err(_) => "(deleted flow)".to_string(),
            };
            names.insert(id.clone(), name);
        }
    }
    let when = |t: Option<chrono::DateTime<Utc>>| t.map_or_else(|| "–".to_string(), exact);
    let schedules = list
        .into_iter()
        .map(|s| ScheduleRow {
            target: match &s.flow_id {
                Some(id) => names.get(id).cloned().unwrap_or_default(),
                None => {
                    let mut parts = Vec::new();
                    if let Some(suite) = &s.suite {
                        parts.push(format!("suite {suite}"));
                    }
                    if !s.tags.is_empty() {
                        parts.push(format!("tags {}", s.tags.join(", ")));
                    }
                    parts.join(" · ")
                }
            },
            next: when(s.next_run_at),
            last: when(s.last_run_at),
            name: s.name,
            flow_id: s.flow_id,
            cron: s.cron_expr,
            timezone: s.timezone,
            enabled: s.enabled,
        })
        .collect();
    render(&SchedulesPage {
        nav: "schedules",
        key_name: session.key_name,
        schedules,
    })
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    next: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// Only paths of this site are followed after logging in (no `//host`, no `https://…`).
fn local_path(next: &str) -> &str {
    // Browsers drop tabs and newlines from URLs: `/\t/host` would become `//host`.
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        next
    } else {
        "/"
    }
}

pub(crate) async fn login_form(Query(q): Query<LoginQuery>) -> PageResult {
    render(&LoginPage {
        error: None,
        next: local_path(&q.next).to_string(),
    })
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<DashboardState>,
    Form(form): Form<LoginForm>,
) -> PageResult {
    let next = local_path(&form.next).to_string();
    // A key never holds a NUL (databases refuse it in text): not a key.
    let key = if form.key.contains('\0') {
        ""
    } else {
        form.key.trim()
    };
    match state.store.verify_api_key(key).await {
        Ok(Some(key)) => {
            let token = state.sessions.start(&key.workspace_id, &key.id, &key.name);
            Ok(([(SET_COOKIE, session::cookie(&token))], Redirect::to(&next)).into_response())
        }
        Ok(None) => {
            let page = LoginPage {
                error: Some("This API key is not valid (unknown or revoked).".into()),
                next,
            };
            let html = page
                .render()
                .map_err(|e| PageError::Failed(format!("the page could not be rendered: {e}")))?;
            Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response())
        }
        Err(e) => Err(PageError::Failed(e.to_string())),
    }
}

pub(crate) async fn logout(
    State(state): State<DashboardState>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Some(token) = session::token(&parts) {
        state.sessions.end(&token);
    }
    ([(SET_COOKIE, session::cookie(""))], Redirect::to("/login")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path("/flows?x=1"), "/flows?x=1");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("/\t/evil.example"), "/");
        assert_eq!(local_path("/\n/evil.example"), "/");
        assert_eq!(local_path(""), "/");
    }

    #[test]
    fn pagers_link_newer_and_older_pages() {
        let p = Pager::of("/executions", &[("status", "failed")], 25, 25, 60, false);
        assert_eq!(p.prev.as_deref(), Some("/executions?status=failed"));
        assert_eq!(
            p.next.as_deref(),
            Some("/executions?status=failed&offset=50")
        );
        assert_eq!(p.range, "26–50 of 60");
        let last = Pager::of("/flows", &[], 50, 10, 60, false);
        assert_eq!(last.next, None);
        // Counting stopped at 10,000: a full page still links to older runs.
        let capped = Pager::of("/executions", &[], 9_975, 25, 10_000, true);
        assert_eq!(capped.next.as_deref(), Some("/executions?offset=10000"));
        assert_eq!(capped.range, "9976–10000 of 10000+");
    }
}
