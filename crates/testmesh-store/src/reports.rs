//! Generated reports: one row per report with its period, filters, status and the name of its
//! file. The files themselves live in the server's report directory; the store only records them,
//! so deleting a report returns the row for the caller to remove the file.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::db::{
    RowExt, Sql, fetch_owned, fetch_page, ms, new_id, now_ms, page_bounds, to_json_text,
};
use crate::error::{Error, Result};
use crate::{Page, Store};

/// A report's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// One self-contained HTML file.
    Html,
    /// The report data as JSON.
    Json,
    /// JUnit XML.
    Junit,
}

impl ReportFormat {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Json => "json",
            ReportFormat::Junit => "junit",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<ReportFormat> {
        match name {
            "html" => Some(ReportFormat::Html),
            "json" => Some(ReportFormat::Json),
            "junit" => Some(ReportFormat::Junit),
            _ => None,
        }
    }

    /// The file extension of the format (`xml` for JUnit).
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Json => "json",
            ReportFormat::Junit => "xml",
        }
    }

    /// The media type the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Junit => "application/xml",
        }
    }
}

/// Where a report is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    /// Asked for, not started.
    Pending,
    /// Being generated.
    Generating,
    /// Its file is ready.
    Completed,
    /// Generation failed (`error` says why).
    Failed,
}

impl ReportStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Generating => "generating",
            ReportStatus::Completed => "completed",
            ReportStatus::Failed => "failed",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<ReportStatus> {
        match name {
            "pending" => Some(ReportStatus::Pending),
            "generating" => Some(ReportStatus::Generating),
            "completed" => Some(ReportStatus::Completed),
            "failed" => Some(ReportStatus::Failed),
            _ => None,
        }
    }
}

/// A report to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// Its name (shown in lists and used for the download's file name).
    pub name: String,
    /// Its format.
    pub format: ReportFormat,
    /// The filters it applies (`testmesh_report::model::ReportFilters` as JSON).
    pub filters: Value,
    /// First day covered.
    pub from: NaiveDate,
    /// Last day covered.
    pub to: NaiveDate,
    /// Who asked: `cli`, `api` or `schedule`.
    pub generated_by: String,
    /// When its file may be deleted; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A recorded report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Name.
    pub name: String,
    /// Format.
    pub format: ReportFormat,
    /// Status.
    pub status: ReportStatus,
    /// Filters applied.
    pub filters: Value,
    /// First day covered.
    pub from_date: NaiveDate,
    /// Last day covered.
    pub to_date: NaiveDate,
    /// The file's name in the report directory, once written.
    pub file_name: Option<String>,
    /// The file's size in bytes, once written.
    pub file_size: Option<i64>,
    /// Why generation failed.
    pub error: Option<String>,
    /// Who asked.
    pub generated_by: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When its file was written.
    pub generated_at: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Which reports to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only this format.
    pub format: Option<ReportFormat>,
    /// Only this status.
    pub status: Option<ReportStatus>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

const COLUMNS: &str = "SELECT id, workspace_id, name, format, status, filters, from_date, to_date, \
     file_name, file_size, error, generated_by, created_at, generated_at, expires_at";

fn day(row: &AnyRow, column: &str) -> Result<NaiveDate> {
    let text = row.text(column)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|e| Error::Corrupt(format!("reports.{column} '{text}': {e}")))
}

impl Report {
    fn from_row(row: &AnyRow) -> Result<Report> {
        let format = row.text("format")?;
        let status = row.text("status")?;
        Ok(Report {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            format: ReportFormat::parse(&format)
                .ok_or_else(|| Error::Corrupt(format!("unknown report format '{format}'")))?,
            status: ReportStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown report status '{status}'")))?,
            filters: row.json("filters")?,
            from_date: day(row, "from_date")?,
            to_date: day(row, "to_date")?,
            file_name: row.opt_text("file_name")?,
            file_size: row.opt_int("file_size")?,
            error: row.opt_text("error")?,
            generated_by: row.text("generated_by")?,
            created_at: row.time("created_at")?,
            generated_at: row.opt_time("generated_at")?,
            expires_at: row.opt_time("expires_at")?,
        })
    }
}

impl Store {
    /// Records a report to generate (`pending`).
    pub async fn create_report(&self, workspace_id: &str, input: &NewReport) -> Result<Report> {
        if input.name.trim().is_empty() {
            return Err(Error::invalid("a report needs a name"));
        }
        if input.from > input.to {
            return Err(Error::invalid(format!(
                "a report's period must not end ({}) before it starts ({})",
                input.to, input.from
            )));
        }
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO reports (id, workspace_id, name, format, status, filters, from_date, \
             to_date, generated_by, created_at, expires_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.name.trim())
            .push(", ")
            .bind(input.format.as_str())
            .push(", 'pending', ")
            .bind(to_json_text(&input.filters))
            .push(", ")
            .bind(input.from.format("%Y-%m-%d").to_string())
            .push(", ")
            .bind(input.to.format("%Y-%m-%d").to_string())
            .push(", ")
            .bind(input.generated_by.as_str())
            .push(", ")
            .bind(now_ms())
            .push(", ")
            .bind(input.expires_at.map(ms))
            .push(")");
        sql.execute(&self.pool).await?;
        self.get_report(workspace_id, &id).await
    }

    /// Marks a report as being generated.
    pub async fn start_report(&self, workspace_id: &str, id: &str) -> Result<Report> {
        let sql = Sql::new("UPDATE reports SET status = 'generating', error = NULL");
        self.update_report(workspace_id, id, sql).await
    }

    /// Records a report's written file: it is `completed`.
    pub async fn complete_report(
        &self,
        workspace_id: &str,
        id: &str,
        file_name: &str,
        file_size: i64,
    ) -> Result<Report> {
        let mut sql =
            Sql::new("UPDATE reports SET status = 'completed', error = NULL, file_name = ");
        sql.bind(file_name)
            .push(", file_size = ")
            .bind(file_size)
            .push(", generated_at = ")
            .bind(now_ms());
        self.update_report(workspace_id, id, sql).await
    }

    /// Records why a report could not be generated: it is `failed`.
    pub async fn fail_report(&self, workspace_id: &str, id: &str, error: &str) -> Result<Report> {
        let mut sql = Sql::new("UPDATE reports SET status = 'failed', error = ");
        sql.bind(error);
        self.update_report(workspace_id, id, sql).await
    }

    async fn update_report(&self, workspace_id: &str, id: &str, mut update: Sql) -> Result<Report> {
        update
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if update.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("report", id));
        }
        self.get_report(workspace_id, id).await
    }

    /// A report of a workspace.
    pub async fn get_report(&self, workspace_id: &str, id: &str) -> Result<Report> {
        let select = format!("{COLUMNS} FROM reports");
        let row = fetch_owned(&self.pool, &select, "report", workspace_id, id).await?;
        Report::from_row(&row)
    }

    /// The reports of a workspace, newest first.
    pub async fn list_reports(
        &self,
        workspace_id: &str,
        filter: &ReportFilter,
    ) -> Result<Page<Report>> {
        fetch_page(
            &self.pool,
            &format!("{COLUMNS} FROM reports"),
            "SELECT COUNT(*) FROM reports",
            |sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(format) = filter.format {
                    sql.push(" AND format = ").bind(format.as_str());
                }
                if let Some(status) = filter.status {
                    sql.push(" AND status = ").bind(status.as_str());
                }
            },
            "ORDER BY created_at DESC, id DESC",
            page_bounds(filter.limit, filter.offset),
            Report::from_row,
        )
        .await
    }

    /// Deletes a report's row and returns it (its file is the caller's to remove).
    pub async fn delete_report(&self, workspace_id: &str, id: &str) -> Result<Report> {
        let report = self.get_report(workspace_id, id).await?;
        crate::db::delete_owned(&self.pool, "reports", "report", workspace_id, id).await?;
        Ok(report)
    }

    /// Marks every report (of every workspace) still `pending` or `generating` and asked for
    /// before `before` as `failed` with `error`; returns how many.
    pub async fn fail_unfinished_reports(&self, before: DateTime<Utc>, error: &str) -> Result<u64> {
        let mut sql = Sql::new("UPDATE reports SET status = 'failed', error = ");
        sql.bind(error)
            .push(" WHERE status IN ('pending', 'generating') AND created_at < ")
            .bind(ms(before));
        sql.execute(&self.pool).await
    }

    /// Reports of every workspace whose `expires_at` is at or before `now`, oldest first, at most
    /// `limit` of them.
    pub async fn expired_reports(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Report>> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" FROM reports WHERE expires_at IS NOT NULL AND expires_at <= ")
            .bind(ms(now))
            .push(" ORDER BY expires_at, id LIMIT ")
            .bind(limit.max(1));
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(Report::from_row)
            .collect()
    }
}
