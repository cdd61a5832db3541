//! Imports and coverage analyses: one row per import of an OpenAPI document, a Postman collection,
//! a Pact file or a HAR file (failed ones too, with the error), one per coverage analysis; the HTTP
//! calls recorded in stored executions (what `coverage --from-history` matches against a spec);
//! and the current YAML of a workspace's flows in bulk (what a coverage analysis reads).
//!
//! Inputs are kept when they are at most [`MAX_STORED_INPUT_BYTES`]; a larger input is not stored,
//! its size and SHA-256 still are, and `source_stored` / `spec_stored` say which happened.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::crypto::sha256_hex;
use crate::db::{
    Backend, RowExt, Sql, delete_owned, fetch_owned, fetch_page, ms, new_id, now_ms, page_bounds,
    to_json_text,
};
use crate::error::{Error, Result};
use crate::{Page, Store};

/// Inputs up to this size are stored with their record; larger ones are recorded by size and
/// SHA-256 only.
pub const MAX_STORED_INPUT_BYTES: usize = 5 * 1024 * 1024;

/// How many recorded HTTP calls [`Store::http_calls`] returns at most (the newest ones).
pub const MAX_HTTP_CALLS: i64 = 50_000;

/// How many flows [`Store::flow_sources`] returns at most.
pub const MAX_FLOW_SOURCES: i64 = 10_000;

/// The longest source or spec name kept (longer ones are cut, on a character boundary).
const MAX_NAME_CHARS: usize = 300;

/// What an import read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportSource {
    /// An OpenAPI 3.x document (or Swagger 2.0).
    #[serde(rename = "openapi")]
    OpenApi,
    /// A Postman collection.
    Postman,
    /// A Pact file.
    Pact,
    /// An HTTP Archive.
    Har,
}

impl ImportSource {
    /// Every source type.
    pub const ALL: [ImportSource; 4] = [
        ImportSource::OpenApi,
        ImportSource::Postman,
        ImportSource::Pact,
        ImportSource::Har,
    ];

    /// The stored name: `openapi`, `postman`, `pact` or `har`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportSource::OpenApi => "openapi",
            ImportSource::Postman => "postman",
            ImportSource::Pact => "pact",
            ImportSource::Har => "har",
        }
    }

    /// Parses a stored or user-given name (`swagger` is OpenAPI).
    pub fn parse(name: &str) -> Option<ImportSource> {
        match name {
            "swagger" => Some(ImportSource::OpenApi),
            other => ImportSource::ALL.into_iter().find(|s| s.as_str() == other),
        }
    }
}

/// How an import or an analysis ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AiStatus {
    /// It produced its result.
    Completed,
    /// It failed; `error` says why.
    Failed,
}

impl AiStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AiStatus::Completed => "completed",
            AiStatus::Failed => "failed",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<AiStatus> {
        match name {
            "completed" => Some(AiStatus::Completed),
            "failed" => Some(AiStatus::Failed),
            _ => None,
        }
    }
}

/// An import to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImport {
    /// What was read.
    pub source_type: ImportSource,
    /// The file name, or the name given with the request.
    pub source_name: String,
    /// The input as given (stored when at most [`MAX_STORED_INPUT_BYTES`]).
    pub source_content: String,
    /// How it ended.
    pub status: AiStatus,
    /// Flows generated.
    pub flows_generated: i64,
    /// Ids of the flows saved from it.
    pub flow_ids: Vec<String>,
    /// Items not imported.
    pub skipped: i64,
    /// Why it failed (or which flows could not be saved).
    pub error: Option<String>,
    /// The import's summary without the flows' YAML.
    pub metadata: Value,
}

/// A recorded import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRecord {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// What was read.
    pub source_type: ImportSource,
    /// The file name, or the name given with the request.
    pub source_name: String,
    /// The input: filled by [`Store::get_import`] when it was stored, `None` in lists.
    pub source_content: Option<String>,
    /// Whether the input was stored (it is not when larger than [`MAX_STORED_INPUT_BYTES`]).
    pub source_stored: bool,
    /// The input's size in bytes.
    pub source_size: i64,
    /// The input's SHA-256 (hex).
    pub source_sha256: String,
    /// How it ended.
    pub status: AiStatus,
    /// Flows generated.
    pub flows_generated: i64,
    /// Ids of the flows saved from it.
    pub flow_ids: Vec<String>,
    /// Items not imported.
    pub skipped: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The import's summary without the flows' YAML.
    pub metadata: Value,
    /// When it ran.
    pub created_at: DateTime<Utc>,
}

/// Which imports to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportFilter {
    /// Only imports of this type.
    pub source_type: Option<ImportSource>,
    /// Only imports that ended so.
    pub status: Option<AiStatus>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// A coverage analysis to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCoverage {
    /// The spec's kind (`openapi`).
    pub spec_type: String,
    /// The file name, the document's title, or the name given with the request.
    pub spec_name: String,
    /// The spec as given (stored when at most [`MAX_STORED_INPUT_BYTES`]).
    pub spec_content: String,
    /// How it ended.
    pub status: AiStatus,
    /// Operations in the spec.
    pub total_endpoints: i64,
    /// Operations covered.
    pub covered_endpoints: i64,
    /// Operations partly covered.
    pub partial_endpoints: i64,
    /// Covered operations in percent of all.
    pub coverage_percent: f64,
    /// The analysis as JSON: `covered`, `uncovered` and `partial` (`METHOD /path` each) and the
    /// details.
    pub results: Value,
    /// The analysis as a self-contained HTML page.
    pub html: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A recorded coverage analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRecord {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// The spec's kind (`openapi`).
    pub spec_type: String,
    /// The spec's name.
    pub spec_name: String,
    /// The spec: filled by [`Store::get_coverage`] when it was stored, `None` in lists.
    pub spec_content: Option<String>,
    /// Whether the spec was stored (it is not when larger than [`MAX_STORED_INPUT_BYTES`]).
    pub spec_stored: bool,
    /// The spec's size in bytes.
    pub spec_size: i64,
    /// The spec's SHA-256 (hex).
    pub spec_sha256: String,
    /// How it ended.
    pub status: AiStatus,
    /// Operations in the spec.
    pub total_endpoints: i64,
    /// Operations covered.
    pub covered_endpoints: i64,
    /// Operations partly covered.
    pub partial_endpoints: i64,
    /// Covered operations in percent of all.
    pub coverage_percent: f64,
    /// The analysis: filled by [`Store::get_coverage`], `None` in lists.
    pub results: Option<Value>,
    /// Whether it has an HTML page ([`Store::coverage_html`]).
    pub has_html: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// When it ran.
    pub created_at: DateTime<Utc>,
}

/// Which analyses to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageFilter {
    /// Only analyses that ended so.
    pub status: Option<AiStatus>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Which recorded HTTP calls [`Store::http_calls`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpCallFilter {
    /// Only calls of executions of these stored flows (all when empty).
    pub flow_ids: Vec<String>,
    /// Only calls of executions created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, the newest (default and at most [`MAX_HTTP_CALLS`]).
    pub limit: Option<i64>,
}

/// An HTTP request a stored execution sent, as its step recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedCall {
    /// The execution.
    pub execution_id: String,
    /// The stored flow run, if any.
    pub flow_id: Option<String>,
    /// The flow's name at the time of the run.
    pub flow_name: String,
    /// The step's id.
    pub step_id: String,
    /// The method sent.
    pub method: String,
    /// The URL sent (variables interpolated, secrets masked).
    pub url: String,
    /// The response status, when a response came.
    pub status: Option<u16>,
    /// When the step started.
    pub started_at: DateTime<Utc>,
}

/// The recorded calls, and whether older ones were left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedCalls {
    /// The calls, newest execution first.
    pub calls: Vec<RecordedCall>,
    /// More calls matched than the limit let through: the oldest were left out.
    pub truncated: bool,
}

/// Which flows [`Store::flow_sources`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowSourceFilter {
    /// Only these flows (ids; all live flows when empty).
    pub ids: Vec<String>,
    /// Only flows of this suite.
    pub suite: Option<String>,
}

/// A live flow's current YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowSource {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Suite.
    pub suite: Option<String>,
    /// The current version's YAML.
    pub yaml: String,
}

/// What is kept of an input: the text when small enough, its size and hash always.
struct KeptInput {
    content: Option<String>,
    size: i64,
    sha256: String,
}

fn keep(text: &str) -> KeptInput {
    KeptInput {
        // PostgreSQL text cannot hold NUL: such an input is recorded like a too large one.
        content: (text.len() <= MAX_STORED_INPUT_BYTES && !text.contains('\0'))
            .then(|| text.to_string()),
        size: i64::try_from(text.len()).unwrap_or(i64::MAX),
        sha256: sha256_hex(text),
    }
}

/// A name to store: trimmed, NUL removed, at most [`MAX_NAME_CHARS`] characters; `fallback` when
/// empty.
fn clean_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .filter(|c| *c != '\0')
        .take(MAX_NAME_CHARS)
        .collect();
    if cleaned.trim().is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

/// Error text to store (PostgreSQL text cannot hold NUL).
fn clean_text(text: &Option<String>) -> Option<String> {
    text.as_ref().map(|t| t.replace('\0', ""))
}

const IMPORT_COLUMNS: &str = "SELECT id, workspace_id, source_type, source_name, \
     CAST(CASE WHEN source_content IS NULL THEN 0 ELSE 1 END AS BIGINT) AS source_stored, source_size, \
     source_sha256, status, flows_generated, flow_ids, skipped, error, metadata, created_at";

const COVERAGE_COLUMNS: &str = "SELECT id, workspace_id, spec_type, spec_name, \
     CAST(CASE WHEN spec_content IS NULL THEN 0 ELSE 1 END AS BIGINT) AS spec_stored, spec_size, spec_sha256, \
     status, total_endpoints, covered_endpoints, partial_endpoints, coverage_percent, error, \
     CAST(CASE WHEN report_html IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_html, created_at";

impl ImportRecord {
    fn from_row(row: &AnyRow) -> Result<ImportRecord> {
        let source_type = row.text("source_type")?;
        let status = row.text("status")?;
        Ok(ImportRecord {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            source_type: ImportSource::parse(&source_type)
                .ok_or_else(|| Error::Corrupt(format!("unknown import type '{source_type}'")))?,
            source_name: row.text("source_name")?,
            source_content: None,
            source_stored: row.flag("source_stored")?,
            source_size: row.int("source_size")?,
            source_sha256: row.text("source_sha256")?,
            status: AiStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown import status '{status}'")))?,
            flows_generated: row.int("flows_generated")?,
            flow_ids: row.string_list("flow_ids")?,
            skipped: row.int("skipped")?,
            error: row.opt_text("error")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl CoverageRecord {
    fn from_row(row: &AnyRow) -> Result<CoverageRecord> {
        let status = row.text("status")?;
        Ok(CoverageRecord {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            spec_type: row.text("spec_type")?,
            spec_name: row.text("spec_name")?,
            spec_content: None,
            spec_stored: row.flag("spec_stored")?,
            spec_size: row.int("spec_size")?,
            spec_sha256: row.text("spec_sha256")?,
            status: AiStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown coverage status '{status}'")))?,
            total_endpoints: row.int("total_endpoints")?,
            covered_endpoints: row.int("covered_endpoints")?,
            partial_endpoints: row.int("partial_endpoints")?,
            coverage_percent: row.try_get::<f64, _>("coverage_percent")?,
            results: None,
            has_html: row.flag("has_html")?,
            error: row.opt_text("error")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Store {
    /// Records an import (completed or failed).
    pub async fn record_import(
        &self,
        workspace_id: &str,
        input: &NewImport,
    ) -> Result<ImportRecord> {
        self.ensure_workspace(workspace_id).await?;
        let kept = keep(&input.source_content);
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO import_history (id, workspace_id, source_type, source_name, \
             source_content, source_size, source_sha256, status, flows_generated, flow_ids, \
             skipped, error, metadata, created_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.source_type.as_str())
            .push(", ")
            .bind(clean_name(&input.source_name, input.source_type.as_str()))
            .push(", ")
            .bind(kept.content)
            .push(", ")
            .bind(kept.size)
            .push(", ")
            .bind(kept.sha256)
            .push(", ")
            .bind(input.status.as_str())
            .push(", ")
            .bind(input.flows_generated.max(0))
            .push(", ")
            .bind(to_json_text(&input.flow_ids))
            .push(", ")
            .bind(input.skipped.max(0))
            .push(", ")
            .bind(clean_text(&input.error))
            .push(", ")
            .bind(to_json_text(&input.metadata))
            .push(", ")
            .bind(now_ms())
            .push(")");
        sql.execute(&self.pool).await?;
        self.get_import(workspace_id, &id).await
    }

    /// Records the flows saved from an import after it was recorded (the dashboard saves the
    /// flows the user picks in a second step).
    pub async fn set_import_flows(
        &self,
        workspace_id: &str,
        id: &str,
        flow_ids: &[String],
        error: Option<&str>,
    ) -> Result<ImportRecord> {
        let mut sql = Sql::new("UPDATE import_history SET flow_ids = ");
        sql.bind(to_json_text(flow_ids))
            .push(", error = ")
            .bind(error.map(|e| e.replace('\0', "")))
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("import", id));
        }
        self.get_import(workspace_id, id).await
    }

    /// An import of a workspace, with its input when it was stored.
    pub async fn get_import(&self, workspace_id: &str, id: &str) -> Result<ImportRecord> {
        let select = format!("{IMPORT_COLUMNS}, source_content FROM import_history");
        let row = fetch_owned(&self.pool, &select, "import", workspace_id, id).await?;
        let mut record = ImportRecord::from_row(&row)?;
        record.source_content = row.opt_text("source_content")?;
        Ok(record)
    }

    /// The imports of a workspace, newest first (without their inputs).
    pub async fn list_imports(
        &self,
        workspace_id: &str,
        filter: &ImportFilter,
    ) -> Result<Page<ImportRecord>> {
        fetch_page(
            &self.pool,
            &format!("{IMPORT_COLUMNS} FROM import_history"),
            "SELECT COUNT(*) FROM import_history",
            |sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(source_type) = filter.source_type {
                    sql.push(" AND source_type = ").bind(source_type.as_str());
                }
                if let Some(status) = filter.status {
                    sql.push(" AND status = ").bind(status.as_str());
                }
            },
            "ORDER BY created_at DESC, id DESC",
            page_bounds(filter.limit, filter.offset),
            ImportRecord::from_row,
        )
        .await
    }

    /// Deletes an import's record (the flows saved from it stay).
    pub async fn delete_import(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "import_history", "import", workspace_id, id).await
    }

    /// Records a coverage analysis (completed or failed).
    pub async fn record_coverage(
        &self,
        workspace_id: &str,
        input: &NewCoverage,
    ) -> Result<CoverageRecord> {
        if input.spec_type != "openapi" {
            return Err(Error::invalid(format!(
                "coverage is analysed against OpenAPI documents, not `{}`",
                input.spec_type
            )));
        }
        self.ensure_workspace(workspace_id).await?;
        let kept = keep(&input.spec_content);
        let percent = if input.coverage_percent.is_finite() {
            input.coverage_percent.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO coverage_analysis (id, workspace_id, spec_type, spec_name, spec_content, \
             spec_size, spec_sha256, status, total_endpoints, covered_endpoints, \
             partial_endpoints, coverage_percent, results, report_html, error, created_at) \
             VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.spec_type.as_str())
            .push(", ")
            .bind(clean_name(&input.spec_name, "openapi"))
            .push(", ")
            .bind(kept.content)
            .push(", ")
            .bind(kept.size)
            .push(", ")
            .bind(kept.sha256)
            .push(", ")
            .bind(input.status.as_str())
            .push(", ")
            .bind(input.total_endpoints.max(0))
            .push(", ")
            .bind(input.covered_endpoints.max(0))
            .push(", ")
            .bind(input.partial_endpoints.max(0))
            .push(", ")
            .bind(percent)
            .push(", ")
            .bind(to_json_text(&input.results))
            .push(", ")
            .bind(clean_text(&input.html))
            .push(", ")
            .bind(clean_text(&input.error))
            .push(", ")
            .bind(now_ms())
            .push(")");
        sql.execute(&self.pool).await?;
        self.get_coverage(workspace_id, &id).await
    }

    /// A coverage analysis of a workspace, with its results and its spec when it was stored.
    pub async fn get_coverage(&self, workspace_id: &str, id: &str) -> Result<CoverageRecord> {
        let select = format!("{COVERAGE_COLUMNS}, spec_content, results FROM coverage_analysis");
        let row = fetch_owned(&self.pool, &select, "coverage analysis", workspace_id, id).await?;
        let mut record = CoverageRecord::from_row(&row)?;
        record.spec_content = row.opt_text("spec_content")?;
        record.results = Some(row.json("results")?);
        Ok(record)
    }

    /// The HTML page of a coverage analysis; `None` when it has none (it failed).
    pub async fn coverage_html(&self, workspace_id: &str, id: &str) -> Result<Option<String>> {
        let row = fetch_owned(
            &self.pool,
            "SELECT report_html FROM coverage_analysis",
            "coverage analysis",
            workspace_id,
            id,
        )
        .await?;
        row.opt_text("report_html")
    }

    /// The coverage analyses of a workspace, newest first (without specs and results).
    pub async fn list_coverage(
        &self,
        workspace_id: &str,
        filter: &CoverageFilter,
    ) -> Result<Page<CoverageRecord>> {
        fetch_page(
            &self.pool,
            &format!("{COVERAGE_COLUMNS} FROM coverage_analysis"),
            "SELECT COUNT(*) FROM coverage_analysis",
            |sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(status) = filter.status {
                    sql.push(" AND status = ").bind(status.as_str());
                }
            },
            "ORDER BY created_at DESC, id DESC",
            page_bounds(filter.limit, filter.offset),
            CoverageRecord::from_row,
        )
        .await
    }

    /// Deletes a coverage analysis.
    pub async fn delete_coverage(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(
            &self.pool,
            "coverage_analysis",
            "coverage analysis",
            workspace_id,
            id,
        )
        .await
    }

    /// The HTTP requests recorded by the steps of a workspace's stored executions (`http_request`
    /// steps whose request was recorded), newest execution first, each execution's steps in
    /// order: method, URL and response status, read from the recorded JSON by the database.
    pub async fn http_calls(
        &self,
        workspace_id: &str,
        filter: &HttpCallFilter,
    ) -> Result<RecordedCalls> {
        let limit = filter
            .limit
            .unwrap_or(MAX_HTTP_CALLS)
            .clamp(1, MAX_HTTP_CALLS);
        // On SQLite `+` keeps the planner off the steps' action index: walking the executions
        // newest first and stopping at the limit beats sorting every HTTP step of the history.
        let (action, method, url, status) = match self.backend {
            Backend::Sqlite => (
                "+s.action",
                "CAST(json_extract(s.request, '$.method') AS TEXT)",
                "CAST(json_extract(s.request, '$.url') AS TEXT)",
                "CAST(json_extract(s.response, '$.status') AS TEXT)",
            ),
            Backend::Postgres => (
                "s.action",
                "(s.request::jsonb ->> 'method')",
                "(s.request::jsonb ->> 'url')",
                "(s.response::jsonb ->> 'status')",
            ),
        };
        let mut sql = Sql::new("SELECT e.id AS execution_id, e.flow_id, e.flow_name, s.step_id, ");
        sql.push(method)
            .push(" AS method, ")
            .push(url)
            .push(" AS url, ")
            .push(status)
            .push(
                " AS status, s.started_at FROM executions e \
                 JOIN execution_steps s ON s.execution_id = e.id \
                 WHERE e.workspace_id = ",
            )
            .bind(workspace_id)
            .push(" AND ")
            .push(action)
            .push(" IN ('http_request', 'http') AND s.request IS NOT NULL");
        if !filter.flow_ids.is_empty() {
            sql.push(" AND e.flow_id IN (");
            for (i, id) in filter.flow_ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(id.as_str());
            }
            sql.push(")");
        }
        if let Some(since) = filter.since {
            sql.push(" AND e.created_at >= ").bind(ms(since));
        }
        // One more than asked: whether older calls were left out.
        sql.push(" ORDER BY e.created_at DESC, e.id DESC, s.seq LIMIT ")
            .bind(limit + 1);
        let rows = sql.fetch_all(&self.pool).await?;
        let truncated = rows.len() as i64 > limit;
        let mut calls = Vec::with_capacity(rows.len().min(limit as usize));
        for row in rows.iter().take(limit as usize) {
            let (Some(method), Some(url)) = (row.opt_text("method")?, row.opt_text("url")?) else {
                continue;
            };
            calls.push(RecordedCall {
                execution_id: row.text("execution_id")?,
                flow_id: row.opt_text("flow_id")?,
                flow_name: row.text("flow_name")?,
                step_id: row.text("step_id")?,
                method,
                url,
                status: row
                    .opt_text("status")?
                    .and_then(|s| s.trim().parse::<u16>().ok()),
                started_at: row.time("started_at")?,
            });
        }
        Ok(RecordedCalls { calls, truncated })
    }

    /// The current YAML of a workspace's live flows, by name: all of them, the ones named by
    /// id, or a suite's; at most [`MAX_FLOW_SOURCES`]. Ids that name no live flow of the
    /// workspace are `NotFound`.
    pub async fn flow_sources(
        &self,
        workspace_id: &str,
        filter: &FlowSourceFilter,
    ) -> Result<Vec<FlowSource>> {
        let mut sql = Sql::new(
            "SELECT f.id, f.name, f.suite, v.yaml FROM flows f JOIN flow_versions v \
             ON v.flow_id = f.id AND v.version = f.version \
             WHERE f.deleted_at IS NULL AND f.workspace_id = ",
        );
        sql.bind(workspace_id);
        if !filter.ids.is_empty() {
            sql.push(" AND f.id IN (");
            for (i, id) in filter.ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(id.as_str());
            }
            sql.push(")");
        }
        if let Some(suite) = &filter.suite {
            sql.push(" AND f.suite = ").bind(suite.as_str());
        }
        sql.push(" ORDER BY f.name, f.id LIMIT ")
            .bind(MAX_FLOW_SOURCES);
        let flows = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(FlowSource {
                    id: row.text("id")?,
                    name: row.text("name")?,
                    suite: row.opt_text("suite")?,
                    yaml: row.text("yaml")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(missing) = filter
            .ids
            .iter()
            .find(|id| !flows.iter().any(|f| &f.id == *id))
        {
            return Err(Error::not_found("flow", missing.clone()));
        }
        Ok(flows)
    }
}
