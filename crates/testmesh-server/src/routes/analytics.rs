//! Analytics: daily metrics with their summary, trends per day, week or month, flakiness per flow
//! (the newest window, or one flow's history), step performance, and aggregation — on request
//! (`POST /api/v1/analytics/aggregate`, run in the background) and every night inside
//! `testmesh serve` ([`schedule`]).
//!
//! Aggregations run one at a time per process: a second request waits for the first.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use testmesh_report::aggregate::{AggregateOptions, aggregate_with};
use testmesh_store::{
    FlakinessFilter, MetricFilter, MetricScope, STABILITIES, StepFilter, Store, TrendPeriod,
    Trigger, day_count,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Input, LIMIT, OFFSET, Param, ParamKind, Query};

/// The longest range one aggregation request may cover.
pub(crate) const MAX_AGGREGATE_DAYS: i64 = 366;
/// Days a scheduled aggregation catches up at most when earlier nights were missed.
pub(crate) const MAX_CATCH_UP_DAYS: u64 = 7;
/// Days a range covers when neither end is given.
const DEFAULT_DAYS: u64 = 30;

/// One aggregation at a time in this process: they read every execution of their days.
static AGGREGATIONS: Semaphore = Semaphore::const_new(1);

const FROM: Param = Param {
    name: "from",
    description: "first day, YYYY-MM-DD (UTC); default 29 days before `to`",
    kind: ParamKind::Text,
};
const TO: Param = Param {
    name: "to",
    description: "last day, YYYY-MM-DD (UTC); default today",
    kind: ParamKind::Text,
};
const START_DATE: Param = Param {
    name: "start_date",
    description: "the original's name for `from`",
    kind: ParamKind::Text,
};
const END_DATE: Param = Param {
    name: "end_date",
    description: "the original's name for `to`",
    kind: ParamKind::Text,
};
const ENVIRONMENT: Param = Param {
    name: "environment",
    description: "rows of this environment (`default`: runs without one); default: over all environments",
    kind: ParamKind::Text,
};
const SUITE: Param = Param {
    name: "suite",
    description: "rows of this suite (`default`: flows without one) and of its flows",
    kind: ParamKind::Text,
};
const FLOW: Param = Param {
    name: "flow_id",
    description: "a flow's id (or its name, for runs of flows not stored)",
    kind: ParamKind::Text,
};
const SCOPES: &[&str] = &["all", "suite", "flow"];
const PERIODS: &[&str] = &["day", "week", "month"];

const METRICS_QUERY: &[Param] = &[
    FROM,
    TO,
    START_DATE,
    END_DATE,
    ENVIRONMENT,
    Param {
        name: "scope",
        description: "only rows of this scope (default: every scope)",
        kind: ParamKind::Enum(SCOPES),
    },
    SUITE,
    FLOW,
    LIMIT,
    OFFSET,
];

const TRENDS_QUERY: &[Param] = &[
    Param {
        name: "group_by",
        description: "one point per day (default), ISO week or month",
        kind: ParamKind::Enum(PERIODS),
    },
    FROM,
    TO,
    START_DATE,
    END_DATE,
    ENVIRONMENT,
    SUITE,
    FLOW,
];

const FLAKINESS_QUERY: &[Param] = &[
    FLOW,
    Param {
        name: "stability",
        description: "only flows of these stabilities (repeatable): stable, flaky, broken, unknown",
        kind: ParamKind::Repeated,
    },
    Param {
        name: "min_score",
        description: "only scores at or above this (0–100)",
        kind: ParamKind::Text,
    },
    Param {
        name: "window_end",
        description: "the window ending this day (YYYY-MM-DD); default the newest computed",
        kind: ParamKind::Text,
    },
    LIMIT,
    OFFSET,
];

const STEPS_QUERY: &[Param] = &[
    FLOW,
    Param {
        name: "step_id",
        description: "only this step",
        kind: ParamKind::Text,
    },
    Param {
        name: "action",
        description: "only steps of this action, e.g. http_request",
        kind: ParamKind::Text,
    },
    FROM,
    TO,
    START_DATE,
    END_DATE,
    LIMIT,
    OFFSET,
];

/// The days to aggregate (default yesterday).
#[derive(Deserialize)]
pub(super) struct AggregateInput {
    #[serde(alias = "start_date")]
    from: Option<NaiveDate>,
    #[serde(alias = "end_date")]
    to: Option<NaiveDate>,
}

impl Input for AggregateInput {
    const SCHEMA: &'static str = "AnalyticsAggregateInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    const TAG: &str = "analytics";
    vec![
        Endpoint::get("/api/v1/analytics/metrics", "analyticsMetrics", metrics)
            .doc(TAG, "Daily metrics, newest day first, with totals over the period")
            .describe("Rows per UTC day and scope: `all` (every execution), `suite` and `flow`, over all environments unless `environment` names one. Percentiles are exact (nearest rank). `summary` totals the `all` rows of the period — or the suite's, or the flow's, when `suite` or `flow_id` is given; its average is exact (sums over counts). Rows exist for aggregated days only: `testmesh serve` aggregates every night, `POST /api/v1/analytics/aggregate` on request. `start_date`/`end_date` are accepted for `from`/`to`.")
            .query(METRICS_QUERY)
            .ok(200, "AnalyticsMetrics")
            .error(400, "a malformed day or parameter"),
        Endpoint::get("/api/v1/analytics/trends", "analyticsTrends", trends)
            .doc(TAG, "Pass rate, executions and durations per day, week or month, oldest first")
            .describe("Sums of the daily rows of one scope (every execution by default; a suite's or a flow's with `suite` or `flow_id`). Weeks start on Monday and points are dated by their first day. Percentiles are given for days only (those of several days cannot be merged from daily rows; a report over the period has them).")
            .query(TRENDS_QUERY)
            .ok(200, "AnalyticsTrends")
            .error(400, "a malformed day or parameter"),
        Endpoint::get("/api/v1/analytics/flakiness", "analyticsFlakiness", flakiness)
            .doc(TAG, "Flows by flakiness over the newest window, or one flow's history")
            .describe("Without `flow_id`: every flow scored in the newest window computed (or the one ending `window_end`), highest score first. With `flow_id`: that flow's rows of every window, newest first. The score (0–100), the stability and the formula are in docs/analytics.md; `history` is the newest runs, oldest first (`P` passed, `F` failed).")
            .query(FLAKINESS_QUERY)
            .ok(200, "AnalyticsFlakiness")
            .error(400, "a malformed day, score or stability"),
        Endpoint::get("/api/v1/analytics/steps", "analyticsSteps", steps)
            .doc(TAG, "Step performance per day, flow, step and action; newest day first, slowest first")
            .query(STEPS_QUERY)
            .ok(200, "AnalyticsSteps")
            .error(400, "a malformed day or parameter"),
        Endpoint::post("/api/v1/analytics/aggregate", "aggregateAnalytics", aggregate)
            .doc(TAG, "Aggregate a range of days in the background")
            .describe("Answers 202 with the aggregation run (`running`); it computes daily metrics, step performance and each flow's flakiness over the 14 days ending `to`, replacing the rows of those days, then the run is `completed` (or `failed`, with `error`): see `GET /api/v1/analytics/runs`. `from`/`to` are UTC days (default yesterday; at most 366 days; not after today); `start_date`/`end_date` are accepted. Aggregations run one at a time.")
            .json_body("AnalyticsAggregateInput")
            .ok(202, "AnalyticsAggregateAccepted")
            .error(422, "`to` is before `from`, after today, or more than 366 days after it"),
        Endpoint::get("/api/v1/analytics/runs", "listAnalyticsRuns", runs)
            .doc(TAG, "Aggregation runs, newest first")
            .query(&[LIMIT, OFFSET])
            .ok(200, "AnalyticsRunList"),
    ]
}

fn to_json<T: serde::Serialize>(value: &T) -> ApiResult<Value> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(&e))
}

fn bad_parameter(message: String) -> ApiError {
    ApiError::bad_request("invalid_parameter", message)
}

/// A day parameter, under its name or the original's alias (not both).
fn day(query: &Query, name: &str, alias: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    let mut found = None;
    for key in std::iter::once(name).chain(alias) {
        if let Some(text) = query.one(key)? {
            if found.is_some() {
                return Err(bad_parameter(format!(
                    "give `{name}` or `{}`, not both",
                    alias.unwrap_or(name)
                )));
            }
            let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                bad_parameter(format!(
                    "`{key}` must be a day like 2025-01-31 (YYYY-MM-DD, UTC), not `{text}`"
                ))
            })?;
            found = Some(parsed);
        }
    }
    Ok(found)
}

/// `from`..=`to` from the query: `to` defaults to today, `from` to 29 days before `to`.
fn period(query: &Query) -> ApiResult<(NaiveDate, NaiveDate)> {
    let to = day(query, "to", Some("end_date"))?.unwrap_or_else(|| Utc::now().date_naive());
    let from = day(query, "from", Some("start_date"))?.unwrap_or_else(|| {
        to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
            .unwrap_or(to)
    });
    if from > to {
        return Err(bad_parameter(format!(
            "`to` ({to}) is before `from` ({from})"
        )));
    }
    Ok((from, to))
}

/// The filter of the metric routes.
fn metric_filter(query: &Query) -> ApiResult<(MetricFilter, NaiveDate, NaiveDate)> {
    let (from, to) = period(query)?;
    let filter = MetricFilter {
        from: Some(from),
        to: Some(to),
        scope: None,
        suite: query.one("suite")?.map(str::to_string),
        flow: query.one("flow_id")?.map(str::to_string),
        environment: query.one("environment")?.map(str::to_string),
        limit: None,
        offset: None,
    };
    Ok((filter, from, to))
}

async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let (filter, from, to) = metric_filter(&query)?;
    let filter = MetricFilter {
        scope: query.choice("scope", SCOPES)?.and_then(MetricScope::parse),
        limit: Some(limit),
        offset: Some(offset),
        ..filter
    };
    let page = state
        .store
        .list_daily_metrics(caller.workspace(), &filter)
        .await?;
    let summary = state
        .store
        .metric_summary(caller.workspace(), &filter)
        .await?;
    Ok(Json(json!({
        "metrics": to_json(&page.items)?,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "from": from,
        "to": to,
        "summary": to_json(&summary)?,
    })))
}

async fn trends(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let group_by = query.choice("group_by", PERIODS)?.unwrap_or("day");
    let period = TrendPeriod::parse(group_by).unwrap_or(TrendPeriod::Day);
    let (filter, from, to) = metric_filter(&query)?;
    let trends = state
        .store
        .metric_trends(caller.workspace(), &filter, period)
        .await?;
    Ok(Json(json!({
        "trends": to_json(&trends)?,
        "group_by": group_by,
        "from": from,
        "to": to,
    })))
}

async fn flakiness(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let stabilities = query.all(&["stability"]);
    if let Some(bad) = stabilities
        .iter()
        .find(|s| !STABILITIES.contains(&s.as_str()))
    {
        return Err(bad_parameter(format!(
            "`stability` must be one of {}, not `{bad}`",
            STABILITIES.join(", ")
        )));
    }
    let min_score = match query.one("min_score")? {
        Some(text) => match text.parse::<f64>() {
            Ok(score) if (0.0..=100.0).contains(&score) => Some(score),
            _ => {
                return Err(bad_parameter(format!(
                    "`min_score` must be a number from 0 to 100, not `{text}`"
                )));
            }
        },
        None => None,
    };
    let filter = FlakinessFilter {
        window_end: day(&query, "window_end", None)?,
        flow: query.one("flow_id")?.map(str::to_string),
        stabilities,
        min_score,
        limit: Some(limit),
        offset: Some(offset),
    };
    let workspace = caller.workspace();
    let page = state.store.list_flakiness(workspace, &filter).await?;
    let window = if filter.flow.is_some() {
        None
    } else if filter.window_end.is_some() {
        page.items
            .first()
            .map(|r| json!({"start": r.window_start, "end": r.window_end, "days": r.window_days}))
    } else {
        state
            .store
            .latest_flakiness_window(workspace)
            .await?
            .map(|w| json!({"start": w.start, "end": w.end, "days": w.days}))
    };
    Ok(Json(json!({
        "flaky_flows": to_json(&page.items)?,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "window": window,
    })))
}

async fn steps(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let (from, to) = period(&query)?;
    let filter = StepFilter {
        from: Some(from),
        to: Some(to),
        flow: query.one("flow_id")?.map(str::to_string),
        step_id: query.one("step_id")?.map(str::to_string),
        action: query.one("action")?.map(str::to_string),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_step_performance(caller.workspace(), &filter)
        .await?;
    Ok(Json(json!({
        "steps": to_json(&page.items)?,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "from": from,
        "to": to,
    })))
}

async fn aggregate(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<AggregateInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let to = input.to.unwrap_or(yesterday);
    let from = input.from.unwrap_or(to);
    if from > to {
        return Err(ApiError::unprocessable(
            "invalid_period",
            format!("`to` ({to}) is before `from` ({from})"),
        ));
    }
    if to > today {
        return Err(ApiError::unprocessable(
            "invalid_period",
            format!("`to` ({to}) is after today ({today}): nothing ran then yet"),
        ));
    }
    if day_count(from, to) > MAX_AGGREGATE_DAYS {
        return Err(ApiError::unprocessable(
            "invalid_period",
            format!(
                "{from} to {to} is {} days: aggregate at most {MAX_AGGREGATE_DAYS} days per request",
                day_count(from, to)
            ),
        ));
    }
    let workspace = caller.workspace().to_string();
    let run = state
        .store
        .start_analytics_run(&workspace, from, to, Trigger::Api)
        .await?;
    let store = state.store.clone();
    let id = run.id.clone();
    tokio::spawn(async move {
        let task = {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let _turn = AGGREGATIONS.acquire().await;
                let options = AggregateOptions {
                    run_id: Some(id),
                    ..AggregateOptions::default()
                };
                match aggregate_with(&store, &workspace, from, to, options).await {
                    Ok(s) => {
                        tracing::info!(workspace = %workspace, %from, %to, executions = s.executions, elapsed_ms = s.elapsed_ms, "analytics: aggregated")
                    }
                    Err(e) => {
                        tracing::warn!(workspace = %workspace, %from, %to, error = %e, "analytics: aggregation failed")
                    }
                }
            })
        };
        // A panic must not leave the run `running` forever.
        if let Err(e) = task.await {
            let _ = store
                .finish_analytics_run(&id, Err(format!("aggregation stopped: {e}")))
                .await;
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "run": to_json(&run)? }))))
}

async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let page = state
        .store
        .list_analytics_runs(caller.workspace(), Some(limit), Some(offset))
        .await?;
    Ok(Json(json!({
        "runs": to_json(&page.items)?,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

/// The next time of day `at` (UTC) strictly after `now`.
pub(crate) fn next_at(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today.checked_add_days(Days::new(1)).unwrap_or(today)
    }
}

/// Days every nightly aggregation does again, yesterday included: runs still going at 02:00 and
/// a day aggregated on demand while it was not over are counted on the following nights.
pub(crate) const REAGGREGATED_DAYS: u64 = 3;

/// The days a nightly aggregation on `today` covers for a workspace last aggregated up to
/// `last`: the [`REAGGREGATED_DAYS`] up to yesterday, and the days missed since `last` (at most
/// [`MAX_CATCH_UP_DAYS`] in all).
pub(crate) fn nightly_range(today: NaiveDate, last: Option<NaiveDate>) -> (NaiveDate, NaiveDate) {
    let yesterday = today.pred_opt().unwrap_or(today);
    let earliest = today
        .checked_sub_days(Days::new(MAX_CATCH_UP_DAYS))
        .unwrap_or(yesterday);
    let again = yesterday
        .checked_sub_days(Days::new(REAGGREGATED_DAYS - 1))
        .unwrap_or(yesterday);
    let missed = last.and_then(|l| l.succ_opt()).unwrap_or(again);
    (missed.min(again).max(earliest), yesterday)
}

/// An aggregation still `running` this long after it started was abandoned (its process
/// stopped): aggregating a million executions takes well under a minute.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::hours(6);

/// Aggregates every workspace each day at `at` (UTC) until `shutdown` is cancelled: yesterday,
/// plus the nights missed while no server ran (up to a week). Several servers on one database may
/// each run it: aggregation replaces rows, so the rows are right whoever runs last.
pub(crate) async fn schedule(store: Store, at: NaiveTime, shutdown: CancellationToken) {
    loop {
        let now = Utc::now();
        let next = next_at(now, at);
        let wait = (next - now).to_std().unwrap_or(Duration::from_secs(1));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        aggregate_nightly(&store, next.date_naive()).await;
    }
}

/// One night's aggregation of every workspace, after marking aggregations abandoned by a
/// stopped process as failed.
async fn aggregate_nightly(store: &Store, today: NaiveDate) {
    match store
        .fail_unfinished_analytics_runs(
            Utc::now() - ABANDONED_AFTER,
            "abandoned: its process stopped before it finished",
        )
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            runs = n,
            "analytics: marked abandoned aggregations as failed"
        ),
        Err(e) => tracing::warn!(error = %e, "analytics: cannot mark abandoned aggregations"),
    }
    let workspaces = match store.list_workspaces().await {
        Ok(workspaces) => workspaces,
        Err(e) => {
            tracing::warn!(error = %e, "analytics: cannot list workspaces to aggregate");
            return;
        }
    };
    for workspace in workspaces {
        let last = match store.last_aggregated_day(&workspace.id).await {
            Ok(last) => last,
            Err(e) => {
                tracing::warn!(workspace = %workspace.id, error = %e, "analytics: cannot read the last aggregation");
                continue;
            }
        };
        let (from, to) = nightly_range(today, last);
        let _turn = AGGREGATIONS.acquire().await;
        let options = AggregateOptions {
            trigger: Some(Trigger::Schedule),
            ..AggregateOptions::default()
        };
        match aggregate_with(store, &workspace.id, from, to, options).await {
            Ok(s) => {
                tracing::info!(workspace = %workspace.id, %from, %to, executions = s.executions, elapsed_ms = s.elapsed_ms, "analytics: nightly aggregation")
            }
            Err(e) => {
                tracing::warn!(workspace = %workspace.id, %from, %to, error = %e, "analytics: nightly aggregation failed")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON Schemas of these routes (registered with the others in `schemas.rs`).
// ---------------------------------------------------------------------------------------------

/// A closed object: every property listed, `required` ones must be present.
fn object(props: &[(&str, Value, bool)]) -> Value {
    let required: Vec<&str> = props.iter().filter(|p| p.2).map(|p| p.0).collect();
    let properties: Map<String, Value> = props
        .iter()
        .map(|(name, schema, _)| (name.to_string(), schema.clone()))
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// Every property required.
fn closed(props: &[(&str, Value)]) -> Value {
    let props: Vec<(&str, Value, bool)> = props
        .iter()
        .map(|(name, schema)| (*name, schema.clone(), true))
        .collect();
    object(&props)
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list_of(name: &str) -> Value {
    json!({"type": "array", "items": reference(name)})
}

/// The schemas of the analytics routes.
pub(crate) fn schemas() -> Vec<(&'static str, Value)> {
    let int = || json!({"type": "integer"});
    let opt_int = || json!({"type": ["integer", "null"]});
    let num = || json!({"type": "number"});
    let opt_num = || json!({"type": ["number", "null"]});
    let text = || json!({"type": "string"});
    let opt_text = || json!({"type": ["string", "null"]});
    let date = || json!({"type": "string", "format": "date"});
    let time = || json!({"type": "string", "format": "date-time"});
    let opt_time = || json!({"type": ["string", "null"], "format": "date-time"});
    let page = |plural: &str, item: &str| {
        vec![
            (plural.to_string(), list_of(item)),
            ("total".to_string(), int()),
            ("limit".to_string(), int()),
            ("offset".to_string(), int()),
        ]
    };
    let with_page = |plural: &str, item: &str, more: Vec<(&str, Value)>| {
        let mut props: Vec<(String, Value)> = page(plural, item);
        props.extend(more.into_iter().map(|(n, v)| (n.to_string(), v)));
        let borrowed: Vec<(&str, Value)> =
            props.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        closed(&borrowed)
    };
    let window = json!({"type": ["object", "null"], "properties": {"start": date(), "end": date(), "days": int()}, "required": ["start", "end", "days"], "additionalProperties": false});
    vec![
        (
            "AnalyticsDailyMetric",
            closed(&[
                ("day", date()),
                ("scope", json!({"enum": SCOPES})),
                ("subject", text()),
                ("environment", opt_text()),
                ("flow_id", opt_text()),
                ("flow_name", opt_text()),
                ("suite", opt_text()),
                ("flows", int()),
                ("total_executions", int()),
                ("passed_executions", int()),
                ("failed_executions", int()),
                ("cancelled_executions", int()),
                ("pass_rate", num()),
                ("timed_executions", int()),
                ("total_duration_ms", int()),
                ("avg_duration_ms", opt_num()),
                ("min_duration_ms", opt_int()),
                ("max_duration_ms", opt_int()),
                ("p50_duration_ms", opt_int()),
                ("p95_duration_ms", opt_int()),
                ("p99_duration_ms", opt_int()),
                ("total_steps", int()),
                ("passed_steps", int()),
                ("failed_steps", int()),
                ("skipped_steps", int()),
                ("flaky_steps", int()),
                ("computed_at", time()),
            ]),
        ),
        (
            "AnalyticsSummary",
            closed(&[
                ("days", int()),
                ("total_executions", int()),
                ("passed_executions", int()),
                ("failed_executions", int()),
                ("cancelled_executions", int()),
                ("pass_rate", num()),
                ("avg_duration_ms", opt_num()),
                ("total_steps", int()),
                ("passed_steps", int()),
                ("failed_steps", int()),
                ("skipped_steps", int()),
                ("flaky_steps", int()),
            ]),
        ),
        (
            "AnalyticsMetrics",
            with_page(
                "metrics",
                "AnalyticsDailyMetric",
                vec![
                    ("from", date()),
                    ("to", date()),
                    ("summary", reference("AnalyticsSummary")),
                ],
            ),
        ),
        (
            "AnalyticsTrendPoint",
            closed(&[
                ("date", date()),
                ("days", int()),
                ("executions", int()),
                ("passed", int()),
                ("failed", int()),
                ("cancelled", int()),
                ("pass_rate", num()),
                ("avg_duration_ms", opt_num()),
                ("p50_duration_ms", opt_int()),
                ("p95_duration_ms", opt_int()),
                ("p99_duration_ms", opt_int()),
                ("flaky_steps", int()),
            ]),
        ),
        (
            "AnalyticsTrends",
            closed(&[
                ("trends", list_of("AnalyticsTrendPoint")),
                ("group_by", json!({"enum": PERIODS})),
                ("from", date()),
                ("to", date()),
            ]),
        ),
        (
            "AnalyticsFlakinessRow",
            closed(&[
                ("flow_key", text()),
                ("flow_id", opt_text()),
                ("flow_name", text()),
                ("suite", opt_text()),
                ("window_start", date()),
                ("window_end", date()),
                ("window_days", int()),
                ("flakiness_score", num()),
                ("stability", json!({"enum": STABILITIES})),
                ("total_runs", int()),
                ("passed_runs", int()),
                ("failed_runs", int()),
                ("flaky_failures", int()),
                ("transitions", int()),
                ("consecutive_failures", int()),
                ("consecutive_successes", int()),
                ("history", json!({"type": "string", "pattern": "^[PF]*$"})),
                ("last_run_at", time()),
                ("computed_at", time()),
            ]),
        ),
        (
            "AnalyticsFlakiness",
            with_page(
                "flaky_flows",
                "AnalyticsFlakinessRow",
                vec![("window", window)],
            ),
        ),
        (
            "AnalyticsStep",
            closed(&[
                ("day", date()),
                ("flow_key", text()),
                ("flow_id", opt_text()),
                ("flow_name", text()),
                ("step_id", text()),
                ("step_action", text()),
                ("total_executions", int()),
                ("error_count", int()),
                ("flaky_count", int()),
                ("error_rate", num()),
                ("total_duration_ms", int()),
                ("avg_duration_ms", num()),
                ("min_duration_ms", int()),
                ("max_duration_ms", int()),
                ("p50_duration_ms", int()),
                ("p95_duration_ms", int()),
                ("p99_duration_ms", int()),
                (
                    "errors",
                    json!({"type": "array", "items": {"type": "string"}, "maxItems": 5}),
                ),
                ("computed_at", time()),
            ]),
        ),
        (
            "AnalyticsSteps",
            with_page(
                "steps",
                "AnalyticsStep",
                vec![("from", date()), ("to", date())],
            ),
        ),
        (
            "AnalyticsRun",
            closed(&[
                ("id", json!({"type": "string", "format": "uuid"})),
                ("workspace_id", text()),
                ("from", date()),
                ("to", date()),
                ("triggered_by", json!({"enum": ["cli", "api", "schedule"]})),
                (
                    "status",
                    json!({"enum": ["running", "completed", "failed"]}),
                ),
                ("executions", int()),
                ("steps", int()),
                ("error", opt_text()),
                ("started_at", time()),
                ("finished_at", opt_time()),
            ]),
        ),
        (
            "AnalyticsRunList",
            with_page("runs", "AnalyticsRun", Vec::new()),
        ),
        (
            "AnalyticsAggregateInput",
            object(&[
                (
                    "from",
                    json!({"type": "string", "format": "date", "description": "first day (UTC), default `to`"}),
                    false,
                ),
                (
                    "to",
                    json!({"type": "string", "format": "date", "description": "last day (UTC), default yesterday"}),
                    false,
                ),
                (
                    "start_date",
                    json!({"type": "string", "format": "date", "description": "the original's name for `from`"}),
                    false,
                ),
                (
                    "end_date",
                    json!({"type": "string", "format": "date", "description": "the original's name for `to`"}),
                    false,
                ),
            ]),
        ),
        (
            "AnalyticsAggregateAccepted",
            closed(&[("run", reference("AnalyticsRun"))]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow() {
        let two = NaiveTime::from_hms_opt(2, 0, 0).unwrap_or(NaiveTime::MIN);
        assert_eq!(
            next_at(at("2025-03-10T01:59:00Z"), two),
            at("2025-03-10T02:00:00Z")
        );
        assert_eq!(
            next_at(at("2025-03-10T02:00:00Z"), two),
            at("2025-03-11T02:00:00Z")
        );
        assert_eq!(
            next_at(at("2025-03-10T23:00:00Z"), two),
            at("2025-03-11T02:00:00Z")
        );
    }

    #[test]
    fn nights_redo_three_days_and_catch_up_at_most_a_week() {
        let today = day("2025-03-10");
        assert_eq!(
            nightly_range(today, None),
            (day("2025-03-07"), day("2025-03-09"))
        );
        // Aggregated yesterday already (perhaps before it was over): done again all the same.
        assert_eq!(
            nightly_range(today, Some(day("2025-03-09"))),
            (day("2025-03-07"), day("2025-03-09"))
        );
        assert_eq!(
            nightly_range(today, Some(day("2025-03-04"))),
            (day("2025-03-05"), day("2025-03-09"))
        );
        assert_eq!(
            nightly_range(today, Some(day("2025-01-01"))),
            (day("2025-03-03"), day("2025-03-09"))
        );
    }
}
