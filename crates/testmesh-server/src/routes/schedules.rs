//! Schedules: cron expressions that queue a flow, or the flows of a suite and/or tags, on time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use testmesh_store::{Schedule, ScheduleInput};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input};
use crate::scheduler;

impl Input for ScheduleInput {
    const SCHEMA: &'static str = "ScheduleInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/schedules", "createSchedule", create)
            .doc("schedules", "Create a schedule")
            .describe("Runs `flow_id`, or the flows of `suite` and/or `tags`, at every tick of `cron_expr` read in `timezone` (default UTC). `next_run_at` shows the next tick.")
            .json_body("ScheduleInput")
            .ok(201, "Schedule")
            .error(409, "the name is taken")
            .error(422, "invalid cron expression or time zone (`invalid_schedule`), unknown flow, or invalid body"),
        Endpoint::get("/api/v1/schedules", "listSchedules", list)
            .doc("schedules", "List schedules by name")
            .ok(200, "ScheduleList"),
        Endpoint::get("/api/v1/schedules/{id}", "getSchedule", get)
            .doc("schedules", "A schedule")
            .ok(200, "Schedule"),
        Endpoint::put("/api/v1/schedules/{id}", "updateSchedule", update)
            .doc("schedules", "Replace a schedule (the next tick is recomputed)")
            .json_body("ScheduleInput")
            .ok(200, "Schedule")
            .error(409, "the name is taken")
            .error(422, "invalid cron expression or time zone (`invalid_schedule`), unknown flow, or invalid body"),
        Endpoint::delete("/api/v1/schedules/{id}", "deleteSchedule", delete)
            .doc("schedules", "Delete a schedule (its past executions stay)")
            .no_content(),
        Endpoint::post("/api/v1/schedules/{id}/pause", "pauseSchedule", pause)
            .doc("schedules", "Pause a schedule (no next run until resumed)")
            .ok(200, "Schedule"),
        Endpoint::post("/api/v1/schedules/{id}/resume", "resumeSchedule", resume)
            .doc("schedules", "Resume a schedule from the next tick after now")
            .ok(200, "Schedule"),
        Endpoint::post("/api/v1/schedules/{id}/trigger", "triggerSchedule", trigger)
            .doc("schedules", "Queue the schedule's runs now, outside its cron ticks")
            .ok(201, "RunResponse")
            .error(422, "the schedule selects no flow, or its environment no longer exists"),
    ]
}

/// Invalid schedules get their own code, so clients can tell a bad cron expression from a bad body.
fn schedule_error(err: testmesh_store::Error) -> ApiError {
    let mut error = ApiError::reference(err);
    if error.code == "invalid" {
        error.code = "invalid_schedule";
    }
    error
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<ScheduleInput>,
) -> ApiResult<(StatusCode, Json<Schedule>)> {
    let schedule = state
        .store
        .create_schedule(caller.workspace(), &input)
        .await
        .map_err(schedule_error)?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let schedules = state.store.list_schedules(caller.workspace()).await?;
    Ok(Json(
        json!({ "total": schedules.len(), "schedules": schedules }),
    ))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(
        state.store.get_schedule(caller.workspace(), &id).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(input): Body<ScheduleInput>,
) -> ApiResult<Json<Schedule>> {
    // 404 for the schedule of the URL; a missing flow is the body's fault (422).
    state.store.get_schedule(caller.workspace(), &id).await?;
    let schedule = state
        .store
        .update_schedule(caller.workspace(), &id, &input)
        .await
        .map_err(schedule_error)?;
    Ok(Json(schedule))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_schedule(caller.workspace(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(
    state: &AppState,
    caller: &Caller,
    id: &str,
    enabled: bool,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(
        state
            .store
            .set_schedule_enabled(caller.workspace(), id, enabled)
            .await?,
    ))
}

async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Schedule>> {
    set_enabled(&state, &caller, &id, false).await
}

async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Schedule>> {
    set_enabled(&state, &caller, &id, true).await
}

async fn trigger(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let schedule = state.store.get_schedule(caller.workspace(), &id).await?;
    let executions = scheduler::enqueue_runs(&state.store, &schedule).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "executions": executions })),
    ))
}
