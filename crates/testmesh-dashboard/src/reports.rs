//! Report pages: the list of generated reports (status, period, size, expiry) with a form to
//! generate one (format, period, suite and flow filters), downloads and deletion. Generation runs
//! in the background as through the API; the list refreshes itself while a report is pending.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;
use testmesh_report::model::ReportFilters;
use testmesh_report::stored::{self, ReportConfig, Submission};
use testmesh_store::{NewReport, Report, ReportFilter, ReportFormat, ReportStatus};

use crate::DashboardState;
use crate::pages::{PageError, PageResult, render, store_error};
use crate::session::Session;
use crate::views::ago;

struct ReportRow {
    id: String,
    name: String,
    format: &'static str,
    status: &'static str,
    period: String,
    size: String,
    created: String,
    expires: String,
    error: String,
    ready: bool,
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        Some(b) => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn row(report: &Report) -> ReportRow {
    let now = Utc::now();
    ReportRow {
        id: report.id.clone(),
        name: report.name.clone(),
        format: report.format.as_str(),
        status: report.status.as_str(),
        period: if report.from_date == report.to_date {
            report.from_date.to_string()
        } else {
            format!("{} – {}", report.from_date, report.to_date)
        },
        size: size(report.file_size),
        created: ago(report.created_at, now),
        expires: report
            .expires_at
            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        error: report.error.clone().unwrap_or_default(),
        ready: report.status == ReportStatus::Completed,
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    nav: &'static str,
    key_name: String,
    reports: Vec<ReportRow>,
    busy: bool,
    form: GenerateForm,
    error: Option<String>,
    enabled: bool,
}

/// The generate form, as posted (and shown again with an error).
#[derive(Deserialize, Clone)]
pub(crate) struct GenerateForm {
    #[serde(default)]
    name: String,
    #[serde(default = "default_format")]
    format: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    flow: String,
}

fn default_format() -> String {
    "html".into()
}

impl Default for GenerateForm {
    fn default() -> Self {
        let to = Utc::now().date_naive();
        let from = to.checked_sub_days(Days::new(29)).unwrap_or(to);
        GenerateForm {
            name: String::new(),
            format: default_format(),
            from: from.to_string(),
            to: to.to_string(),
            suite: String::new(),
            flow: String::new(),
        }
    }
}

async fn list_page(
    state: &DashboardState,
    session: Session,
    form: GenerateForm,
    error: Option<String>,
) -> PageResult {
    let page = state
        .store
        .list_reports(
            &session.workspace_id,
            &ReportFilter {
                limit: Some(100),
                ..ReportFilter::default()
            },
        )
        .await
        .map_err(store_error)?;
    let reports: Vec<ReportRow> = page.items.iter().map(row).collect();
    render(&ReportsPage {
        nav: "reports",
        key_name: session.key_name,
        busy: reports
            .iter()
            .any(|r| matches!(r.status, "pending" | "generating")),
        reports,
        form,
        error,
        enabled: state.reports.is_some(),
    })
}

pub(crate) async fn list(State(state): State<DashboardState>, session: Session) -> PageResult {
    list_page(&state, session, GenerateForm::default(), None).await
}

fn day(text: &str, field: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{field}: `{}` is not a date (YYYY-MM-DD)", text.trim()))
}

fn words(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The report the form asks for, or what is wrong with it.
fn new_report(form: &GenerateForm, config: &ReportConfig) -> Result<NewReport, String> {
    let format = ReportFormat::parse(&form.format)
        .ok_or_else(|| format!("Format: `{}` is not html, json or junit", form.format))?;
    let submission = Submission {
        name: Some(form.name.clone()),
        from: Some(day(&form.from, "From")?),
        to: Some(day(&form.to, "To")?),
        filters: ReportFilters {
            suites: words(&form.suite),
            flows: words(&form.flow),
            ..ReportFilters::default()
        },
        ttl: None,
    };
    submission.into_new_report(format, config, "api")
}

pub(crate) async fn generate(
    State(state): State<DashboardState>,
    session: Session,
    Form(form): Form<GenerateForm>,
) -> PageResult {
    let Some(config) = state.reports.clone() else {
        return Err(PageError::Failed(
            "this server keeps no reports (it was started without a report directory)".into(),
        ));
    };
    let input = match new_report(&form, &config) {
        Ok(input) => input,
        Err(message) => {
            let mut page = list_page(&state, session, form, Some(message)).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
    };
    let report = state
        .store
        .create_report(&session.workspace_id, &input)
        .await
        .map_err(store_error)?;
    stored::spawn(state.store.clone(), config, report);
    Ok(Redirect::to("/reports").into_response())
}

/// The report's file, as an attachment named after the report.
pub(crate) async fn download(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let report = state
        .store
        .get_report(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    let config = state.reports.as_ref().ok_or(PageError::NotFound)?;
    let bytes = stored::read(config, &report)
        .await
        .ok_or(PageError::NotFound)?;
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

pub(crate) async fn delete(
    State(state): State<DashboardState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult {
    let report = state
        .store
        .delete_report(&session.workspace_id, &id)
        .await
        .map_err(store_error)?;
    if let Some(config) = &state.reports {
        stored::remove_file_of(&config.dir, &report).await;
    }
    Ok(Redirect::to("/reports").into_response())
}
