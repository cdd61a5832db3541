//! Executions: queue runs (answered at once, pending), list with filters, detail with steps, cancel.
//! The live events are in `events.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_store::{Execution, ExecutionDetail, ExecutionFilter, ExecutionStatus, Trigger};

use super::{Endpoint, Reply};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input, LIMIT, OFFSET, Param, ParamKind, Query};
use crate::selection::{self, Run, Selection};

const STATUSES: &[&str] = &["pending", "running", "completed", "failed", "cancelled"];
const TRIGGERS: &[&str] = &["cli", "api", "schedule"];

const LIST_QUERY: &[Param] = &[
    Param {
        name: "flow_id",
        description: "only executions of this flow",
        kind: ParamKind::Text,
    },
    Param {
        name: "suite",
        description: "only executions of this suite",
        kind: ParamKind::Text,
    },
    Param {
        name: "tag",
        description: "only executions with any of these tags (repeatable; `tags` works too)",
        kind: ParamKind::Repeated,
    },
    Param {
        name: "tags",
        description: "the same as `tag`",
        kind: ParamKind::Repeated,
    },
    Param {
        name: "status",
        description: "only executions with this status",
        kind: ParamKind::Enum(STATUSES),
    },
    Param {
        name: "trigger",
        description: "only executions started this way",
        kind: ParamKind::Enum(TRIGGERS),
    },
    Param {
        name: "from",
        description: "only executions created at or after this time (RFC 3339)",
        kind: ParamKind::Time,
    },
    Param {
        name: "to",
        description: "only executions created before this time (RFC 3339)",
        kind: ParamKind::Time,
    },
    LIMIT,
    OFFSET,
];

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/executions", "runFlows", run)
            .doc("executions", "Run a flow or a set of flows")
            .describe("Select with exactly one of `flow_id`, `flow_ids`, or `suite` and/or `tags` (flows with any of the tags). One pending execution per flow is queued, all or none, and returned at once; a worker runs them. `environment` is an environment id or name (the workspace default when absent).")
            .json_body("RunRequest")
            .ok(201, "RunResponse")
            .error(422, "invalid body, unknown flow or environment, or nothing selected"),
        Endpoint::get("/api/v1/executions", "listExecutions", list)
            .doc("executions", "List executions, newest first")
            .query(LIST_QUERY)
            .ok(200, "ExecutionList"),
        Endpoint::get("/api/v1/executions/{id}", "getExecution", get)
            .doc("executions", "An execution with its steps")
            .ok(200, "ExecutionDetail"),
        Endpoint::post("/api/v1/executions/{id}/cancel", "cancelExecution", cancel)
            .doc("executions", "Cancel an execution")
            .describe("A pending execution is cancelled at once; a running one is flagged, and its worker stops after the current step and stores it as cancelled.")
            .ok(200, "Execution")
            .error(409, "the execution already finished"),
        Endpoint::get("/api/v1/executions/{id}/events", "executionEvents", super::events::stream)
            .doc("executions", "Live events of an execution (Server-Sent Events)")
            .describe("Each event has `id: <seq>`, `event: <kind>` and `data: <ExecutionEvent JSON>`. Past events are sent first (after `Last-Event-ID` when given), then new ones as they are recorded. When the execution has finished and every event is sent, a last event `end` (without id, data `{\"status\": …}`) is sent and the stream closes. Comments keep idle connections alive.")
            .headers(super::events::HEADERS)
            .reply(200, "the event stream", Reply::EventStream("ExecutionEvent"))
            .error(400, "invalid Last-Event-ID"),
    ]
}

/// The body of `POST /executions`.
#[derive(Deserialize)]
struct RunRequest {
    flow_id: Option<String>,
    flow_ids: Option<Vec<String>>,
    suite: Option<String>,
    tags: Option<Vec<String>>,
    environment: Option<String>,
    variables: Option<Value>,
}

impl Input for RunRequest {
    const SCHEMA: &'static str = "RunRequest";
}

impl RunRequest {
    fn selection(&self) -> ApiResult<Selection> {
        let by_query = self.suite.is_some() || self.tags.as_ref().is_some_and(|t| !t.is_empty());
        match (&self.flow_id, &self.flow_ids, by_query) {
            (Some(id), None, false) => Ok(Selection::Flows(vec![id.clone()])),
            (None, Some(ids), false) => Ok(Selection::Flows(ids.clone())),
            (None, None, true) => Ok(Selection::Query {
                suite: self.suite.clone(),
                tags: self.tags.clone().unwrap_or_default(),
            }),
            (None, None, false) => Err(ApiError::unprocessable(
                "no_flows_selected",
                "select the flows to run with `flow_id`, `flow_ids`, or `suite` and/or `tags`",
            )),
            _ => Err(ApiError::unprocessable(
                "ambiguous_selection",
                "use only one of `flow_id`, `flow_ids`, or `suite`/`tags`",
            )),
        }
    }
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<RunRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let selection = request.selection()?;
    let executions = selection::enqueue(
        &state.store,
        Run {
            workspace_id: caller.workspace(),
            selection: &selection,
            environment: request.environment.as_deref(),
            variables: request.variables.clone().unwrap_or_else(|| json!({})),
            trigger: Trigger::Api,
            schedule_id: None,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "executions": executions })),
    ))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = ExecutionFilter {
        flow_id: query.one("flow_id")?.map(str::to_string),
        suite: query.one("suite")?.map(str::to_string),
        status: query
            .choice("status", STATUSES)?
            .and_then(ExecutionStatus::parse),
        trigger: query.choice("trigger", TRIGGERS)?.and_then(Trigger::parse),
        tags: query.all(&["tag", "tags"]),
        created_after: query.time("from")?,
        created_before: query.time("to")?,
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_executions(caller.workspace(), &filter)
        .await?;
    Ok(Json(json!({
        "executions": page.items,
        "total": page.total,
        "total_capped": page.total_capped,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<ExecutionDetail>> {
    Ok(Json(
        state
            .store
            .get_execution_detail(caller.workspace(), &id)
            .await?,
    ))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Execution>> {
    Ok(Json(
        state.store.request_cancel(caller.workspace(), &id).await?,
    ))
}
