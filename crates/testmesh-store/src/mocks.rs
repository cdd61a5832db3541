//! Mock servers: their definitions (settings and endpoints, kept as the mock engine's canonical
//! JSON), lifecycle status (running mocks are started again when the server restarts), the request
//! journal and per-mock state. The store does not interpret definitions: the server validates them
//! with the mock engine before they get here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

use crate::db::{
    RowExt, Sql, delete_owned, fetch_owned, fetch_page, ms, new_id, now_ms, page_bounds,
    to_json_text,
};
use crate::error::{Error, Result};
use crate::{Page, Store};

/// Where a mock server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MockStatus {
    /// Created, not serving yet.
    Starting,
    /// Serving; started again when the server restarts.
    Running,
    /// Stopped by a user, an API call or the end of the flow that started it.
    Stopped,
    /// Could not start (the reason is in `error`).
    Failed,
}

impl MockStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MockStatus::Starting => "starting",
            MockStatus::Running => "running",
            MockStatus::Stopped => "stopped",
            MockStatus::Failed => "failed",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(name: &str) -> Option<MockStatus> {
        match name {
            "starting" => Some(MockStatus::Starting),
            "running" => Some(MockStatus::Running),
            "stopped" => Some(MockStatus::Stopped),
            "failed" => Some(MockStatus::Failed),
            _ => None,
        }
    }
}

/// A stored mock server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockServer {
    /// Id (UUID); also the `/mocks/{id}` path segment.
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// The execution whose flow started it.
    pub execution_id: Option<String>,
    /// Name.
    pub name: String,
    /// Settings: the definition without its endpoints.
    pub settings: Value,
    /// Lifecycle status.
    pub status: MockStatus,
    /// Where it serves (empty until it first runs).
    pub base_url: String,
    /// Its dedicated listener's port, when it has one.
    pub port: Option<i64>,
    /// Why it failed to start.
    pub error: Option<String>,
    /// When it last started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it last stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A stored endpoint of a mock server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockEndpoint {
    /// Id; also the definition's `id`.
    pub id: String,
    /// The mock server.
    pub mock_server_id: String,
    /// Method (from the definition).
    pub method: String,
    /// Path (from the definition).
    pub path: String,
    /// Priority (from the definition).
    pub priority: i64,
    /// Definition order.
    pub position: i64,
    /// The endpoint definition, `id` included.
    pub definition: Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A mock server to create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMockServer {
    /// A fixed id (UUID); generated when `None`.
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Settings: the definition without its endpoints.
    pub settings: Value,
    /// Endpoint definitions, in order.
    pub endpoints: Vec<Value>,
    /// The execution whose flow starts it.
    pub execution_id: Option<String>,
}

/// One request a mock server received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockRequest {
    /// Id (UUID).
    pub id: String,
    /// The mock server.
    pub mock_server_id: String,
    /// The endpoint that answered; `None` when no endpoint matched.
    pub endpoint_id: Option<String>,
    /// Method.
    pub method: String,
    /// Path, relative to the mock.
    pub path: String,
    /// Query parameters: name → value, or a list when repeated.
    pub query: Value,
    /// Headers: name → value, or a list when repeated.
    pub headers: Value,
    /// Body text (possibly truncated).
    pub body: Option<String>,
    /// Whether an endpoint matched.
    pub matched: bool,
    /// The status answered; `None` for faults (hang, dropped connection).
    pub response_code: Option<i64>,
    /// How long answering took, in microseconds.
    pub duration_us: Option<i64>,
    /// For unmatched requests: the closest endpoints and why they did not match.
    pub near_misses: Option<Value>,
    /// The client's address.
    pub remote: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// One key of a mock server's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockStateEntry {
    /// Key.
    pub key: String,
    /// Value.
    pub value: Value,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Which mock servers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockServerFilter {
    /// Only this status.
    pub status: Option<MockStatus>,
    /// Only those started by this execution.
    pub execution_id: Option<String>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

const SERVER_COLUMNS: &str = "SELECT id, workspace_id, execution_id, name, settings, status, base_url, port, error, started_at, stopped_at, created_at, updated_at FROM mock_servers";
const ENDPOINT_COLUMNS: &str = "SELECT id, mock_server_id, method, path, priority, position, definition, created_at, updated_at FROM mock_endpoints";
const REQUEST_COLUMNS: &str = "SELECT id, mock_server_id, endpoint_id, method, path, query, headers, body, matched, response_code, duration_us, near_misses, remote, received_at FROM mock_requests";
const REQUEST_COLUMN_COUNT: usize = 14;
/// Bound values per statement (PostgreSQL allows 65,535; SQLite 32,766).
const MAX_BOUND_VALUES: usize = 32_000;

impl MockServer {
    fn from_row(row: &AnyRow) -> Result<MockServer> {
        let status = row.text("status")?;
        Ok(MockServer {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            execution_id: row.opt_text("execution_id")?,
            name: row.text("name")?,
            settings: row.json("settings")?,
            status: MockStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown mock server status {status}")))?,
            base_url: row.text("base_url")?,
            port: row.opt_int("port")?,
            error: row.opt_text("error")?,
            started_at: row.opt_time("started_at")?,
            stopped_at: row.opt_time("stopped_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl MockEndpoint {
    fn from_row(row: &AnyRow) -> Result<MockEndpoint> {
        Ok(MockEndpoint {
            id: row.text("id")?,
            mock_server_id: row.text("mock_server_id")?,
            method: row.text("method")?,
            path: row.text("path")?,
            priority: row.int("priority")?,
            position: row.int("position")?,
            definition: row.json("definition")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl MockRequest {
    fn from_row(row: &AnyRow) -> Result<MockRequest> {
        Ok(MockRequest {
            id: row.text("id")?,
            mock_server_id: row.text("mock_server_id")?,
            endpoint_id: row.opt_text("endpoint_id")?,
            method: row.text("method")?,
            path: row.text("path")?,
            query: row.json("query")?,
            headers: row.json("headers")?,
            body: row.opt_text("body")?,
            matched: row.flag("matched")?,
            response_code: row.opt_int("response_code")?,
            duration_us: row.opt_int("duration_us")?,
            near_misses: row.opt_json("near_misses")?,
            remote: row.opt_text("remote")?,
            received_at: row.time("received_at")?,
        })
    }
}

/// The columns an endpoint definition fills: method (default GET), path, priority.
fn endpoint_columns(definition: &Value) -> (String, String, i64) {
    let method = definition
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let path = definition
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let priority = definition
        .get("priority")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    (method, path, priority)
}

/// The definition with its `id`: the one it names, else a new one written into it.
fn with_id(definition: &Value) -> Result<(String, Value)> {
    let Value::Object(object) = definition else {
        return Err(Error::invalid("an endpoint definition must be an object"));
    };
    let mut object = object.clone();
    let id = match object.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => new_id(),
    };
    object.insert("id".into(), Value::String(id.clone()));
    Ok((id, Value::Object(object)))
}

async fn insert_endpoints(
    conn: &mut sqlx::AnyConnection,
    server_id: &str,
    first_position: i64,
    definitions: &[Value],
) -> Result<Vec<String>> {
    let now = now_ms();
    let mut ids = Vec::with_capacity(definitions.len());
    for (i, definition) in definitions.iter().enumerate() {
        let (id, definition) = with_id(definition)?;
        let (method, path, priority) = endpoint_columns(&definition);
        let mut sql = Sql::new(
            "INSERT INTO mock_endpoints (id, mock_server_id, method, path, priority, position, definition, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(server_id)
            .push(", ")
            .bind(method)
            .push(", ")
            .bind(path)
            .push(", ")
            .bind(priority)
            .push(", ")
            .bind(first_position + i as i64)
            .push(", ")
            .bind(to_json_text(&definition))
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *conn).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Updates the row of endpoint `id` from its definition (and its position, when given); returns
/// the rows changed (0 when there is no such endpoint).
async fn update_endpoint_row(
    conn: &mut sqlx::AnyConnection,
    server_id: &str,
    id: &str,
    definition: &Value,
    position: Option<i64>,
) -> Result<u64> {
    let (method, path, priority) = endpoint_columns(definition);
    let mut sql = Sql::new("UPDATE mock_endpoints SET method = ");
    sql.bind(method)
        .push(", path = ")
        .bind(path)
        .push(", priority = ")
        .bind(priority)
        .push(", definition = ")
        .bind(to_json_text(definition))
        .push(", updated_at = ")
        .bind(now_ms());
    if let Some(position) = position {
        sql.push(", position = ").bind(position);
    }
    sql.push(" WHERE mock_server_id = ")
        .bind(server_id)
        .push(" AND id = ")
        .bind(id);
    sql.execute(conn).await
}

impl Store {
    /// Creates a mock server (status `starting`) with its endpoints, in one transaction.
    pub async fn create_mock_server(
        &self,
        workspace_id: &str,
        input: &NewMockServer,
    ) -> Result<MockServer> {
        if input.name.trim().is_empty() {
            return Err(Error::invalid("a mock server needs a name"));
        }
        self.ensure_workspace(workspace_id).await?;
        let id = match &input.id {
            Some(id) => uuid::Uuid::parse_str(id)
                .map_err(|_| Error::invalid(format!("mock server id `{id}` is not a UUID")))?
                .to_string(),
            None => new_id(),
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO mock_servers (id, workspace_id, execution_id, name, settings, status, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str())
            .push(", ")
            .bind(workspace_id)
            .push(", ")
            .bind(input.execution_id.as_deref())
            .push(", ")
            .bind(input.name.as_str())
            .push(", ")
            .bind(to_json_text(&input.settings))
            .push(", ")
            .bind(MockStatus::Starting.as_str())
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        insert_endpoints(&mut tx, &id, 0, &input.endpoints).await?;
        tx.commit().await?;
        self.get_mock_server(workspace_id, &id).await
    }

    /// A mock server of a workspace.
    pub async fn get_mock_server(&self, workspace_id: &str, id: &str) -> Result<MockServer> {
        MockServer::from_row(
            &fetch_owned(&self.pool, SERVER_COLUMNS, "mock server", workspace_id, id).await?,
        )
    }

    /// A mock server of any workspace (for `/mocks/{id}` traffic, which carries no key).
    pub async fn find_mock_server(&self, id: &str) -> Result<MockServer> {
        let mut sql = Sql::new(SERVER_COLUMNS);
        sql.push(" WHERE id = ").bind(id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("mock server", id))?;
        MockServer::from_row(&row)
    }

    /// The mock servers of a workspace, newest first.
    pub async fn list_mock_servers(
        &self,
        workspace_id: &str,
        filter: &MockServerFilter,
    ) -> Result<Page<MockServer>> {
        fetch_page(
            &self.pool,
            SERVER_COLUMNS,
            "SELECT COUNT(*) FROM mock_servers",
            |sql: &mut Sql| {
                sql.push(" WHERE workspace_id = ").bind(workspace_id);
                if let Some(status) = filter.status {
                    sql.push(" AND status = ").bind(status.as_str());
                }
                if let Some(execution_id) = &filter.execution_id {
                    sql.push(" AND execution_id = ").bind(execution_id.as_str());
                }
            },
            "ORDER BY created_at DESC, id DESC",
            page_bounds(filter.limit, filter.offset),
            MockServer::from_row,
        )
        .await
    }

    /// Every mock server marked running, in every workspace, oldest first: what a restarted
    /// server starts again.
    pub async fn running_mock_servers(&self) -> Result<Vec<MockServer>> {
        let mut sql = Sql::new(SERVER_COLUMNS);
        sql.push(" WHERE status = ")
            .bind(MockStatus::Running.as_str())
            .push(" ORDER BY created_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(MockServer::from_row)
            .collect()
    }

    /// Records a status change: `running` sets `started_at`, `base_url` and `port` and clears the
    /// error; `stopped` sets `stopped_at`; `failed` keeps `error`.
    pub async fn set_mock_server_status(
        &self,
        id: &str,
        status: MockStatus,
        base_url: Option<&str>,
        port: Option<u16>,
        error: Option<&str>,
    ) -> Result<MockServer> {
        let now = now_ms();
        let mut sql = Sql::new("UPDATE mock_servers SET status = ");
        sql.bind(status.as_str())
            .push(", updated_at = ")
            .bind(now)
            .push(", error = ")
            .bind(error);
        match status {
            MockStatus::Running => {
                sql.push(", started_at = ")
                    .bind(now)
                    .push(", stopped_at = NULL, base_url = ")
                    .bind(base_url.unwrap_or_default())
                    .push(", port = ")
                    .bind(port.map(i64::from));
            }
            MockStatus::Stopped | MockStatus::Failed => {
                sql.push(", stopped_at = ").bind(now);
            }
            MockStatus::Starting => {}
        }
        sql.push(" WHERE id = ").bind(id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("mock server", id));
        }
        self.find_mock_server(id).await
    }

    /// Renames a mock server and replaces its settings.
    pub async fn update_mock_server(
        &self,
        workspace_id: &str,
        id: &str,
        name: &str,
        settings: &Value,
    ) -> Result<MockServer> {
        if name.trim().is_empty() {
            return Err(Error::invalid("a mock server needs a name"));
        }
        let mut sql = Sql::new("UPDATE mock_servers SET name = ");
        sql.bind(name)
            .push(", settings = ")
            .bind(to_json_text(settings))
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("mock server", id));
        }
        self.get_mock_server(workspace_id, id).await
    }

    /// Deletes a mock server with its endpoints, journal and state.
    pub async fn delete_mock_server(&self, workspace_id: &str, id: &str) -> Result<()> {
        delete_owned(&self.pool, "mock_servers", "mock server", workspace_id, id).await
    }

    /// The endpoints of a mock server, in matching order (priority, then definition order).
    pub async fn mock_endpoints(&self, server_id: &str) -> Result<Vec<MockEndpoint>> {
        let mut sql = Sql::new(ENDPOINT_COLUMNS);
        sql.push(" WHERE mock_server_id = ")
            .bind(server_id)
            .push(" ORDER BY priority DESC, position, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(MockEndpoint::from_row)
            .collect()
    }

    /// Appends endpoints to a mock server; returns them as stored (ids filled in).
    pub async fn add_mock_endpoints(
        &self,
        server_id: &str,
        definitions: &[Value],
    ) -> Result<Vec<MockEndpoint>> {
        let mut tx = self.begin_write().await?;
        let mut next = Sql::new(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM mock_endpoints WHERE mock_server_id = ",
        );
        next.bind(server_id);
        let first = next.count(&mut *tx).await?;
        let ids = insert_endpoints(&mut tx, server_id, first, definitions).await?;
        tx.commit().await?;
        self.endpoints_by_id(server_id, &ids).await
    }

    /// Replaces every endpoint of a mock server.
    pub async fn replace_mock_endpoints(
        &self,
        server_id: &str,
        definitions: &[Value],
    ) -> Result<Vec<MockEndpoint>> {
        // Rows are updated in place by id, not deleted and inserted again: a concurrent edit of
        // one endpoint (the API while a running mock's endpoints are being saved) must still find
        // its row.
        let mut tx = self.begin_write().await?;
        let mut kept = Vec::with_capacity(definitions.len());
        for (position, definition) in definitions.iter().enumerate() {
            let (id, definition) = with_id(definition)?;
            let position = position as i64;
            if update_endpoint_row(&mut tx, server_id, &id, &definition, Some(position)).await? == 0
            {
                insert_endpoints(&mut tx, server_id, position, &[definition]).await?;
            }
            kept.push(id);
        }
        let mut stale = Sql::new("DELETE FROM mock_endpoints WHERE mock_server_id = ");
        stale.bind(server_id);
        if !kept.is_empty() {
            stale.push(" AND id NOT IN (");
            for (i, id) in kept.iter().enumerate() {
                if i > 0 {
                    stale.push(", ");
                }
                stale.bind(id.as_str());
            }
            stale.push(")");
        }
        stale.execute(&mut *tx).await?;
        tx.commit().await?;
        self.mock_endpoints(server_id).await
    }

    /// Replaces one endpoint's definition (its id and position stay).
    pub async fn update_mock_endpoint(
        &self,
        server_id: &str,
        endpoint_id: &str,
        definition: &Value,
    ) -> Result<MockEndpoint> {
        let (_, mut definition) = with_id(definition)?;
        if let Value::Object(object) = &mut definition {
            object.insert("id".into(), Value::String(endpoint_id.to_string()));
        }
        let mut conn = self.pool.acquire().await?;
        if update_endpoint_row(&mut conn, server_id, endpoint_id, &definition, None).await? == 0 {
            return Err(Error::not_found("mock endpoint", endpoint_id));
        }
        drop(conn);
        self.endpoints_by_id(server_id, &[endpoint_id.to_string()])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("mock endpoint", endpoint_id))
    }

    /// Deletes one endpoint.
    pub async fn delete_mock_endpoint(&self, server_id: &str, endpoint_id: &str) -> Result<()> {
        let mut sql = Sql::new("DELETE FROM mock_endpoints WHERE mock_server_id = ");
        sql.bind(server_id).push(" AND id = ").bind(endpoint_id);
        if sql.execute(&self.pool).await? == 0 {
            return Err(Error::not_found("mock endpoint", endpoint_id));
        }
        Ok(())
    }

    async fn endpoints_by_id(&self, server_id: &str, ids: &[String]) -> Result<Vec<MockEndpoint>> {
        let all = self.mock_endpoints(server_id).await?;
        Ok(ids
            .iter()
            .filter_map(|id| all.iter().find(|e| &e.id == id).cloned())
            .collect())
    }

    /// Appends requests to the journal, in multi-row batches.
    pub async fn record_mock_requests(&self, requests: &[MockRequest]) -> Result<()> {
        if requests.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in requests.chunks(MAX_BOUND_VALUES / REQUEST_COLUMN_COUNT) {
            let mut sql = Sql::many(
                "INSERT INTO mock_requests (id, mock_server_id, endpoint_id, method, path, query, headers, body, matched, response_code, duration_us, near_misses, remote, received_at) VALUES ",
                &tx,
            );
            for (i, r) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" })
                    .bind(r.id.as_str())
                    .push(", ")
                    .bind(r.mock_server_id.as_str())
                    .push(", ")
                    .bind(r.endpoint_id.as_deref())
                    .push(", ")
                    .bind(r.method.as_str())
                    .push(", ")
                    .bind(r.path.as_str())
                    .push(", ")
                    .bind(to_json_text(&r.query))
                    .push(", ")
                    .bind(to_json_text(&r.headers))
                    .push(", ")
                    .bind(r.body.as_deref())
                    .push(", ")
                    .bind(i64::from(r.matched))
                    .push(", ")
                    .bind(r.response_code)
                    .push(", ")
                    .bind(r.duration_us)
                    .push(", ")
                    .bind(r.near_misses.as_ref().map(to_json_text))
                    .push(", ")
                    .bind(r.remote.as_deref())
                    .push(", ")
                    .bind(ms(r.received_at))
                    .push(")");
            }
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of a mock server's journal, newest first; `matched` filters matched or unmatched.
    pub async fn list_mock_requests(
        &self,
        server_id: &str,
        matched: Option<bool>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Page<MockRequest>> {
        fetch_page(
            &self.pool,
            REQUEST_COLUMNS,
            "SELECT COUNT(*) FROM mock_requests",
            |sql: &mut Sql| {
                sql.push(" WHERE mock_server_id = ").bind(server_id);
                if let Some(matched) = matched {
                    sql.push(" AND matched = ").bind(i64::from(matched));
                }
            },
            "ORDER BY received_at DESC, id DESC",
            page_bounds(Some(limit.unwrap_or(50)), offset),
            MockRequest::from_row,
        )
        .await
    }

    /// One journal entry.
    pub async fn get_mock_request(&self, server_id: &str, id: &str) -> Result<MockRequest> {
        let mut sql = Sql::new(REQUEST_COLUMNS);
        sql.push(" WHERE mock_server_id = ")
            .bind(server_id)
            .push(" AND id = ")
            .bind(id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("mock request", id))?;
        MockRequest::from_row(&row)
    }

    /// Empties a mock server's journal; returns how many entries went.
    pub async fn clear_mock_requests(&self, server_id: &str) -> Result<u64> {
        let mut sql = Sql::new("DELETE FROM mock_requests WHERE mock_server_id = ");
        sql.bind(server_id);
        sql.execute(&self.pool).await
    }

    /// Keeps only the newest `keep` journal entries of a mock server; returns how many went. The
    /// stored journal is bounded like the in-memory one: a busy mock cannot fill the disk.
    pub async fn prune_mock_requests(&self, server_id: &str, keep: i64) -> Result<u64> {
        let mut cutoff = Sql::new("SELECT received_at FROM mock_requests WHERE mock_server_id = ");
        cutoff
            .bind(server_id)
            .push(" ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ")
            .bind(keep.max(0));
        let Some(row) = cutoff.fetch_optional(&self.pool).await? else {
            return Ok(0);
        };
        let before = row.int("received_at")?;
        let mut sql = Sql::new("DELETE FROM mock_requests WHERE mock_server_id = ");
        sql.bind(server_id)
            .push(" AND received_at <= ")
            .bind(before);
        sql.execute(&self.pool).await
    }

    /// A mock server's state, by key.
    pub async fn mock_state(&self, server_id: &str) -> Result<Vec<MockStateEntry>> {
        let mut sql = Sql::new(
            "SELECT state_key, state_value, updated_at FROM mock_state WHERE mock_server_id = ",
        );
        sql.bind(server_id).push(" ORDER BY state_key");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(MockStateEntry {
                    key: row.text("state_key")?,
                    value: row.json("state_value")?,
                    updated_at: row.time("updated_at")?,
                })
            })
            .collect()
    }

    /// Sets one state key (insert or update); `None` deletes it.
    pub async fn put_mock_state(
        &self,
        server_id: &str,
        key: &str,
        value: Option<&Value>,
    ) -> Result<()> {
        let Some(value) = value else {
            let mut sql = Sql::new("DELETE FROM mock_state WHERE mock_server_id = ");
            sql.bind(server_id).push(" AND state_key = ").bind(key);
            sql.execute(&self.pool).await?;
            return Ok(());
        };
        let mut sql = Sql::new(
            "INSERT INTO mock_state (mock_server_id, state_key, state_value, updated_at) VALUES (",
        );
        sql.bind(server_id)
            .push(", ")
            .bind(key)
            .push(", ")
            .bind(to_json_text(value))
            .push(", ")
            .bind(now_ms())
            .push(") ON CONFLICT (mock_server_id, state_key) DO UPDATE SET state_value = excluded.state_value, updated_at = excluded.updated_at");
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Replaces a mock server's whole state.
    pub async fn replace_mock_state(
        &self,
        server_id: &str,
        state: &Map<String, Value>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut clear = Sql::new("DELETE FROM mock_state WHERE mock_server_id = ");
        clear.bind(server_id);
        clear.execute(&mut *tx).await?;
        for (key, value) in state {
            let mut sql = Sql::new(
                "INSERT INTO mock_state (mock_server_id, state_key, state_value, updated_at) VALUES (",
            );
            sql.bind(server_id)
                .push(", ")
                .bind(key.as_str())
                .push(", ")
                .bind(to_json_text(value))
                .push(", ")
                .bind(now)
                .push(")");
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
