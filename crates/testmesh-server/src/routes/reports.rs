//! Reports over the stored history: generated in the background as HTML, JSON or JUnit XML,
//! listed, downloaded and deleted. Each expires (7 days by default) and is then deleted with its
//! file.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use testmesh_report::model::ReportFilters;
use testmesh_report::stored::{self, Submission};
use testmesh_store::{Report, ReportFilter, ReportFormat, ReportStatus};

use super::Endpoint;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Id, Input, LIMIT, OFFSET, Param, ParamKind, Query};

const FORMATS: &[&str] = &["html", "json", "junit"];
const STATUSES: &[&str] = &["pending", "generating", "completed", "failed"];

const LIST_QUERY: &[Param] = &[
    Param {
        name: "format",
        description: "only reports of this format",
        kind: ParamKind::Enum(FORMATS),
    },
    Param {
        name: "status",
        description: "only reports in this status",
        kind: ParamKind::Enum(STATUSES),
    },
    LIMIT,
    OFFSET,
];

/// What to report on.
#[derive(Deserialize)]
pub(super) struct GenerateInput {
    name: Option<String>,
    format: String,
    #[serde(alias = "start_date")]
    from: Option<NaiveDate>,
    #[serde(alias = "end_date")]
    to: Option<NaiveDate>,
    expires_in_days: Option<u64>,
    #[serde(default)]
    filters: FiltersInput,
}

/// The filters, with the original's `flow_ids` accepted for `flows`.
#[derive(Deserialize, Default)]
struct FiltersInput {
    #[serde(default)]
    suites: Vec<String>,
    #[serde(default, alias = "flow_ids")]
    flows: Vec<String>,
    #[serde(default)]
    statuses: Vec<String>,
    #[serde(default)]
    environments: Vec<String>,
}

impl Input for GenerateInput {
    const SCHEMA: &'static str = "ReportGenerateInput";
}

pub(super) fn endpoints() -> Vec<Endpoint> {
    const TAG: &str = "reports";
    vec![
        Endpoint::post("/api/v1/reports/generate", "generateReport", generate)
            .doc(TAG, "Generate a report over the stored executions")
            .describe("Answers 202 with the report (`pending`) and a `Location`; it is generated in the background — poll `GET /api/v1/reports/{id}` until `completed` (or `failed`, with `error`), then download it. `from`/`to` are UTC days (`YYYY-MM-DD`; default the last 30 days up to today); the original's `start_date`/`end_date` and `filters.flow_ids` are accepted. The report expires after `expires_in_days` (default 7) and is then deleted with its file.")
            .json_body("ReportGenerateInput")
            .ok(202, "Report")
            .error(422, "`to` is before `from`"),
        Endpoint::get("/api/v1/reports", "listReports", list)
            .doc(TAG, "List reports, newest first")
            .query(LIST_QUERY)
            .ok(200, "ReportList"),
        Endpoint::get("/api/v1/reports/{id}", "getReport", get)
            .doc(TAG, "A report's status and, once completed, its download URL")
            .ok(200, "Report"),
        Endpoint::get("/api/v1/reports/{id}/download", "downloadReport", download)
            .doc(TAG, "Download a completed report")
            .describe("`Content-Disposition: attachment; filename=\"<name>.html|json|xml\"`. 409 while the report is not completed; 410 when its file is gone.")
            .reply(200, "the report file", crate::routes::Reply::Text("text/html, application/json or application/xml"))
            .error(409, "the report is not completed")
            .error(410, "the report's file is gone"),
        Endpoint::delete("/api/v1/reports/{id}", "deleteReport", delete)
            .doc(TAG, "Delete a report and its file")
            .no_content(),
    ]
}

/// A report as the API shows it: the stored row and where to download it.
fn shown(report: &Report) -> ApiResult<Value> {
    let mut value = serde_json::to_value(report).map_err(|e| ApiError::internal(&e))?;
    let url = (report.status == ReportStatus::Completed)
        .then(|| format!("/api/v1/reports/{}/download", report.id));
    value["download_url"] = json!(url);
    Ok(value)
}

async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<GenerateInput>,
) -> ApiResult<Response> {
    let format = ReportFormat::parse(&input.format).ok_or_else(|| {
        ApiError::unprocessable("invalid_body", "`format` must be html, json or junit")
    })?;
    let submission = Submission {
        name: input.name,
        from: input.from,
        to: input.to,
        filters: ReportFilters {
            suites: input.filters.suites,
            flows: input.filters.flows,
            statuses: input.filters.statuses,
            environments: input.filters.environments,
        },
        ttl: input
            .expires_in_days
            .map(|days| std::time::Duration::from_secs(days * 24 * 3600)),
    };
    let new = submission
        .into_new_report(format, &state.reports, "api")
        .map_err(|message| ApiError::unprocessable("invalid_period", message))?;
    let report = state.store.create_report(caller.workspace(), &new).await?;
    let body = shown(&report)?;
    stored::spawn(
        state.store.clone(),
        (*state.reports).clone(),
        report.clone(),
    );
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/reports/{}", report.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = query.paging()?;
    let filter = ReportFilter {
        format: query
            .choice("format", FORMATS)?
            .and_then(ReportFormat::parse),
        status: query
            .choice("status", STATUSES)?
            .and_then(ReportStatus::parse),
        limit: Some(limit),
        offset: Some(offset),
    };
    let page = state
        .store
        .list_reports(caller.workspace(), &filter)
        .await?;
    let reports = page
        .items
        .iter()
        .map(shown)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({
        "reports": reports,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

async fn get(State(state): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Value>> {
    let report = state.store.get_report(caller.workspace(), &id).await?;
    Ok(Json(shown(&report)?))
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    let report = state.store.get_report(caller.workspace(), &id).await?;
    if report.status != ReportStatus::Completed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "report_not_ready",
            format!("the report is {}, not completed", report.status.as_str()),
        ));
    }
    let bytes = stored::read(&state.reports, &report).await.ok_or_else(|| {
        ApiError::new(
            StatusCode::GONE,
            "report_file_gone",
            "the report's file is no longer there; generate it again",
        )
    })?;
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(report.format.content_type()),
        )],
        bytes,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&stored::attachment(&report)) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let report = state.store.delete_report(caller.workspace(), &id).await?;
    stored::remove_file_of(&state.reports.dir, &report).await;
    Ok(StatusCode::NO_CONTENT)
}
