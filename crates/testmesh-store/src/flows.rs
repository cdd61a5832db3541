//! Flows and their versions. Every save parses and validates the YAML, keeps the text and the parsed
//! definition as a new version, and never changes an old one. Deletion is soft.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;

use crate::crypto::sha256_hex;
use crate::db::{RowExt, Sql, fetch_page, new_id, now_ms, page_bounds, push_any_tag, to_json_text};
use crate::error::{Error, FlowDiagnostic, Result};
use crate::{Page, Store};

/// A flow's current state, without its YAML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowSummary {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// Name, unique among the workspace's live flows.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Suite.
    pub suite: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The file it was loaded from, for flows recorded by CLI runs.
    pub source_path: Option<String>,
    /// The current version number (1 for a new flow).
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the current version was saved.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted (soft delete), if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A flow with the YAML and definition of its current version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFlow {
    /// The flow's fields.
    #[serde(flatten)]
    pub flow: FlowSummary,
    /// The YAML as saved.
    pub yaml: String,
    /// The parsed definition as JSON.
    pub definition: Value,
}

/// One saved version of a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowVersion {
    /// The flow.
    pub flow_id: String,
    /// Version number, from 1.
    pub version: i64,
    /// The YAML as saved.
    pub yaml: String,
    /// The parsed definition as JSON.
    pub definition: Value,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

/// Filters for [`Store::list_flows`]. Every value is bound as a parameter.
#[derive(Debug, Clone, Default)]
pub struct FlowFilter {
    /// Only flows of this suite.
    pub suite: Option<String>,
    /// Only flows with any of these tags.
    pub tags: Vec<String>,
    /// Only flows whose name contains this text (case-insensitive).
    pub search: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// What the store keeps from a parsed flow.
pub(crate) struct Parsed {
    name: String,
    description: Option<String>,
    suite: Option<String>,
    tags: String,
    definition: String,
}

/// Parses and validates flow YAML; invalid YAML is an [`Error::Invalid`] with every finding.
pub(crate) fn parse(yaml: &str) -> Result<Parsed> {
    // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
    if let Some(at) = yaml.find('\0') {
        let before = &yaml[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        return Err(nul_error(line, column));
    }
    let loaded = testmesh_flow::load_str(yaml);
    let flow = match (loaded.is_ok(), loaded.flow.as_ref()) {
        (true, Some(flow)) => flow,
        _ => {
            let diagnostics: Vec<FlowDiagnostic> = loaded
                .diagnostics
                .iter()
                .map(FlowDiagnostic::from)
                .collect();
            let first = diagnostics
                .iter()
                .find(|d| d.severity == "error")
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .unwrap_or_else(|| "not a flow".to_string());
            return Err(Error::Invalid {
                message: format!("invalid flow: {first}"),
                diagnostics,
            });
        }
    };
    if flow.name.trim().is_empty() {
        let span = flow.name_span.unwrap_or_default();
        return Err(Error::Invalid {
            message: "a stored flow needs a non-empty `name`".into(),
            diagnostics: vec![FlowDiagnostic {
                severity: "error",
                code: "missing-name",
                message: "a stored flow needs a non-empty `name`".into(),
                line: span.line.max(1),
                column: span.col.max(1),
                help: Some("add `name: <a unique name>` at the top of the flow".into()),
            }],
        });
    }
    let stored_text = [
        Some(flow.name.as_str()),
        flow.description.as_deref(),
        flow.suite.as_deref(),
    ];
    if stored_text.into_iter().flatten().any(|t| t.contains('\0')) {
        let span = flow.name_span.unwrap_or_default();
        return Err(nul_error(span.line.max(1), span.col.max(1)));
    }
    let tags: Vec<&str> = flow.tags.iter().map(|t| t.value.as_str()).collect();
    Ok(Parsed {
        name: flow.name.clone(),
        description: flow.description.clone(),
        suite: flow.suite.clone(),
        tags: to_json_text(&tags),
        definition: to_json_text(&flow.definition()),
    })
}

fn nul_error(line: usize, column: usize) -> Error {
    let message = "a stored flow cannot contain NUL characters (\\0)";
    Error::Invalid {
        message: format!("invalid flow: {line}:{column}: {message}"),
        diagnostics: vec![FlowDiagnostic {
            severity: "error",
            code: "nul-character",
            message: message.into(),
            line,
            column,
            help: Some("remove the NUL character or the `\\0` escape".into()),
        }],
    }
}

const SUMMARY_COLUMNS: &str = "f.id, f.workspace_id, f.name, f.description, f.suite, f.tags, f.source_path, f.version, f.created_at, f.updated_at, f.deleted_at";

impl FlowSummary {
    fn from_row(row: &AnyRow) -> Result<FlowSummary> {
        Ok(FlowSummary {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            name: row.text("name")?,
            description: row.opt_text("description")?,
            suite: row.opt_text("suite")?,
            tags: row.string_list("tags")?,
            source_path: row.opt_text("source_path")?,
            version: row.int("version")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            deleted_at: row.opt_time("deleted_at")?,
        })
    }
}

impl FlowVersion {
    fn from_row(row: &AnyRow) -> Result<FlowVersion> {
        Ok(FlowVersion {
            flow_id: row.text("flow_id")?,
            version: row.int("version")?,
            yaml: row.text("yaml")?,
            definition: row.json("definition")?,
            created_at: row.time("created_at")?,
        })
    }
}

fn name_taken(name: &str) -> Error {
    Error::Conflict(format!("a flow named `{name}` already exists"))
}

/// Inserts one version row.
async fn insert_version(
    conn: &mut sqlx::AnyConnection,
    flow_id: &str,
    version: i64,
    yaml: &str,
    parsed: &Parsed,
    now: i64,
) -> Result<()> {
    let mut sql = Sql::new(
        "INSERT INTO flow_versions (flow_id, version, yaml, yaml_sha256, definition, created_at) VALUES (",
    );
    sql.bind(flow_id)
        .push(", ")
        .bind(version)
        .push(", ")
        .bind(yaml)
        .push(", ")
        .bind(sha256_hex(yaml))
        .push(", ")
        .bind(parsed.definition.as_str())
        .push(", ")
        .bind(now)
        .push(")");
    sql.execute(conn).await?;
    Ok(())
}

/// Fails with `NotFound` unless the workspace exists (`executor`: a pool or a transaction's
/// connection).
pub(crate) async fn ensure_workspace_in<'c, E>(executor: E, workspace_id: &str) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let mut sql = Sql::new("SELECT COUNT(*) FROM workspaces WHERE id = ");
    sql.bind(workspace_id);
    if sql.count(executor).await? == 0 {
        return Err(Error::not_found("workspace", workspace_id));
    }
    Ok(())
}

impl Store {
    /// Fails with `NotFound` unless the workspace exists.
    pub(crate) async fn ensure_workspace(&self, workspace_id: &str) -> Result<()> {
        ensure_workspace_in(&self.pool, workspace_id).await
    }

    /// Saves a new flow from YAML (version 1). `Invalid` with diagnostics when the YAML is not a
    /// valid flow; `Conflict` when a live flow of the workspace has the same name.
    pub async fn create_flow(
        &self,
        workspace_id: &str,
        yaml: &str,
        source_path: Option<&str>,
    ) -> Result<StoredFlow> {
        let parsed = parse(yaml)?;
        self.ensure_workspace(workspace_id).await?;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        insert_flow(&mut tx, workspace_id, &id, yaml, &parsed, source_path)
            .await
            .map_err(|e| match e {
                Error::Conflict(_) => name_taken(&parsed.name),
                e => e,
            })?;
        tx.commit().await?;
        self.get_flow(workspace_id, &id).await
    }

    /// A live flow with its current YAML.
    pub async fn get_flow(&self, workspace_id: &str, id: &str) -> Result<StoredFlow> {
        self.find_flow(workspace_id, "f.id = ", id).await
    }

    /// A live flow by name.
    pub async fn get_flow_by_name(&self, workspace_id: &str, name: &str) -> Result<StoredFlow> {
        self.find_flow(workspace_id, "f.name = ", name).await
    }

    async fn find_flow(&self, workspace_id: &str, column: &str, value: &str) -> Result<StoredFlow> {
        let mut sql = Sql::new("SELECT ");
        sql.push(SUMMARY_COLUMNS)
            .push(", v.yaml, v.definition FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version WHERE f.deleted_at IS NULL AND f.workspace_id = ")
            .bind(workspace_id)
            .push(" AND ")
            .push(column)
            .bind(value);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("flow", value))?;
        Ok(StoredFlow {
            flow: FlowSummary::from_row(&row)?,
            yaml: row.text("yaml")?,
            definition: row.json("definition")?,
        })
    }

    /// The ids of every live flow of `suite` (when given) with any of `tags` (when given), by name:
    /// what a run request or a schedule selecting by suite and tags runs.
    pub async fn selected_flow_ids(
        &self,
        workspace_id: &str,
        suite: Option<&str>,
        tags: &[String],
    ) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        loop {
            let filter = FlowFilter {
                suite: suite.map(str::to_string),
                tags: tags.to_vec(),
                search: None,
                limit: Some(1000),
                offset: Some(ids.len() as i64),
            };
            let page = self.list_flows(workspace_id, &filter).await?;
            let got = page.items.len();
            ids.extend(page.items.into_iter().map(|f| f.id));
            if got == 0 || ids.len() as i64 >= page.total {
                return Ok(ids);
            }
        }
    }

    /// Live flows matching the filter, by name, with the total count.
    pub async fn list_flows(
        &self,
        workspace_id: &str,
        filter: &FlowFilter,
    ) -> Result<Page<FlowSummary>> {
        fetch_page(
            &self.pool,
            &format!("SELECT {SUMMARY_COLUMNS} FROM flows f"),
            "SELECT COUNT(*) FROM flows f",
            |sql: &mut Sql| {
                sql.push(" WHERE f.deleted_at IS NULL AND f.workspace_id = ")
                    .bind(workspace_id);
                if let Some(suite) = &filter.suite {
                    sql.push(" AND f.suite = ").bind(suite.as_str());
                }
                if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
                    sql.push(" AND LOWER(f.name) LIKE ")
                        .bind(crate::db::like_contains(&search.to_lowercase()))
                        .push(" ESCAPE '!'");
                }
                push_any_tag(sql, "f.tags", &filter.tags);
            },
            "ORDER BY f.name, f.id",
            page_bounds(filter.limit, filter.offset),
            FlowSummary::from_row,
        )
        .await
    }

    /// Saves new YAML for a live flow as its next version (name, suite, tags follow the YAML).
    pub async fn update_flow(
        &self,
        workspace_id: &str,
        id: &str,
        yaml: &str,
    ) -> Result<StoredFlow> {
        let parsed = parse(yaml)?;
        let mut tx = self.begin_write().await?;
        bump_version(&mut tx, workspace_id, id, yaml, &parsed, None)
            .await
            .map_err(|e| match e {
                Error::Conflict(_) => name_taken(&parsed.name),
                e => e,
            })?;
        tx.commit().await?;
        self.get_flow(workspace_id, id).await
    }

    /// Soft-deletes a live flow: it leaves lists and frees its name; versions and executions stay.
    pub async fn delete_flow(&self, workspace_id: &str, id: &str) -> Result<()> {
        let mut sql = Sql::new("UPDATE flows SET deleted_at = ");
        sql.bind(now_ms())
            .push(" WHERE deleted_at IS NULL AND workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("flow", id));
        }
        Ok(())
    }

    /// Every version of a flow (deleted flows too: their executions refer to them), newest first.
    pub async fn list_flow_versions(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Vec<FlowVersion>> {
        let mut sql = Sql::new(
            "SELECT v.flow_id, v.version, v.yaml, v.definition, v.created_at FROM flow_versions v JOIN flows f ON f.id = v.flow_id WHERE f.workspace_id = ",
        );
        sql.bind(workspace_id)
            .push(" AND f.id = ")
            .bind(id)
            .push(" ORDER BY v.version DESC");
        let rows = sql.fetch_all(&self.pool).await?;
        if rows.is_empty() {
            return Err(Error::not_found("flow", id));
        }
        rows.iter().map(FlowVersion::from_row).collect()
    }

    /// One version of a flow.
    pub async fn get_flow_version(
        &self,
        workspace_id: &str,
        id: &str,
        version: i64,
    ) -> Result<FlowVersion> {
        let mut sql = Sql::new(
            "SELECT v.flow_id, v.version, v.yaml, v.definition, v.created_at FROM flow_versions v JOIN flows f ON f.id = v.flow_id WHERE f.workspace_id = ",
        );
        sql.bind(workspace_id)
            .push(" AND f.id = ")
            .bind(id)
            .push(" AND v.version = ")
            .bind(version);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("flow version", format!("{id}@{version}")))?;
        FlowVersion::from_row(&row)
    }

    /// Stores `yaml` as the live flow of its name: a new flow, the same version when its current
    /// text is `yaml`, or its next version. Returns `(flow_id, version)`. (CLI runs store their
    /// flows with their runs, through [`Store::record_file_runs`].)
    pub async fn upsert_flow_by_name(
        &self,
        workspace_id: &str,
        yaml: &str,
        source_path: Option<&str>,
    ) -> Result<(String, i64)> {
        let parsed = parse(yaml)?;
        self.ensure_workspace(workspace_id).await?;
        retry_on_conflict(|| async {
            let mut tx = self.begin_write().await?;
            let stored = upsert_in(&mut tx, workspace_id, yaml, &parsed, source_path).await?;
            tx.commit().await?;
            Ok(stored)
        })
        .await
    }
}

/// Runs `attempt` up to three times while it fails with `Conflict`: two writers storing the same
/// new flow at once race to insert it, and the loser's retry finds the winner's.
pub(crate) async fn retry_on_conflict<T, F>(mut attempt: impl FnMut() -> F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Err(Error::Conflict(_)) if attempts < 3 => continue,
            other => return other,
        }
    }
}

/// Stores `yaml` as the live flow of its name (inside the caller's transaction): a new flow, the
/// same version when its current text is `yaml`, or its next version. Returns the id and version.
pub(crate) async fn upsert_in(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    yaml: &str,
    parsed: &Parsed,
    source_path: Option<&str>,
) -> Result<(String, i64)> {
    let mut sql = Sql::new(
        "SELECT f.id, f.version, v.yaml FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version WHERE f.deleted_at IS NULL AND f.workspace_id = ",
    );
    sql.bind(workspace_id)
        .push(" AND f.name = ")
        .bind(parsed.name.as_str());
    match sql.fetch_optional(&mut *conn).await? {
        None => {
            let id = new_id();
            insert_flow(conn, workspace_id, &id, yaml, parsed, source_path).await?;
            Ok((id, 1))
        }
        Some(row) if row.text("yaml")? == yaml => Ok((row.text("id")?, row.int("version")?)),
        Some(row) => {
            let id = row.text("id")?;
            let version = bump_version(conn, workspace_id, &id, yaml, parsed, source_path).await?;
            Ok((id, version))
        }
    }
}

/// Inserts a flow row and its first version.
async fn insert_flow(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    id: &str,
    yaml: &str,
    parsed: &Parsed,
    source_path: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    let mut sql = Sql::new(
        "INSERT INTO flows (id, workspace_id, name, description, suite, tags, source_path, version, created_at, updated_at) VALUES (",
    );
    sql.bind(id)
        .push(", ")
        .bind(workspace_id)
        .push(", ")
        .bind(parsed.name.as_str())
        .push(", ")
        .bind(parsed.description.as_deref())
        .push(", ")
        .bind(parsed.suite.as_deref())
        .push(", ")
        .bind(parsed.tags.as_str())
        .push(", ")
        .bind(source_path)
        .push(", 1, ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(")");
    sql.execute(&mut *conn).await?;
    insert_version(conn, id, 1, yaml, parsed, now).await
}

/// Moves a live flow to its next version; returns the new version number.
async fn bump_version(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    id: &str,
    yaml: &str,
    parsed: &Parsed,
    source_path: Option<&str>,
) -> Result<i64> {
    let now = now_ms();
    let mut sql = Sql::new("UPDATE flows SET version = version + 1, name = ");
    sql.bind(parsed.name.as_str())
        .push(", description = ")
        .bind(parsed.description.as_deref())
        .push(", suite = ")
        .bind(parsed.suite.as_deref())
        .push(", tags = ")
        .bind(parsed.tags.as_str())
        .push(", source_path = COALESCE(")
        .bind(source_path)
        .push(", source_path), updated_at = ")
        .bind(now)
        .push(" WHERE deleted_at IS NULL AND workspace_id = ")
        .bind(workspace_id)
        .push(" AND id = ")
        .bind(id)
        .push(" RETURNING version");
    let row = sql
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::not_found("flow", id))?;
    let version = row.int("version")?;
    insert_version(conn, id, version, yaml, parsed, now).await?;
    Ok(version)
}
