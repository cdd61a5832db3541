//! Mock servers hosted by the server: one [`MockHub`] mounted at `http://<addr>/mocks` (with an
//! optional port pool for mocks that ask for their own listener), the store rows behind each mock,
//! restoring running mocks at boot, and the operations the API and the dashboard share.

mod persist;
pub(crate) mod traffic;

use std::ops::RangeInclusive;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use testmesh_mock::{HubConfig, HubError, LoadError, MockDefinition, MockHub, MockObserver};
use testmesh_store::{MockEndpoint, MockServer, MockStatus, NewMockServer, Store};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use persist::StoreObserver;

pub(crate) use persist::split;

/// How the server hosts mocks.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Ports for mocks that ask for a dedicated listener (`port: 0`); without a pool the
    /// operating system picks one.
    pub ports: Option<RangeInclusive<u16>>,
    /// Journal entries kept in the store per mock (default 10,000; the oldest go first).
    pub journal_cap: i64,
    /// Journal entries and state changes queued for the store before new ones are dropped
    /// (default 10,000).
    pub queue: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            ports: None,
            journal_cap: 10_000,
            queue: 10_000,
        }
    }
}

/// The server's mocks: the hub that serves them and the store that remembers them.
pub struct MockHost {
    store: Store,
    hub: Arc<MockHub>,
    observer: Arc<StoreObserver>,
}

impl std::fmt::Debug for MockHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockHost").field("hub", &self.hub).finish()
    }
}

/// 422 naming each field of a definition that is wrong.
pub(crate) fn definition_error(error: &LoadError) -> ApiError {
    let errors: Vec<Value> = error
        .errors
        .iter()
        .map(|e| {
            let mut item = json!({"path": e.path, "message": e.message});
            if let Some(span) = &e.span {
                item["line"] = json!(span.line);
                item["column"] = json!(span.col);
            }
            item
        })
        .collect();
    let first = error
        .errors
        .first()
        .map(|e| {
            if e.path.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.path, e.message)
            }
        })
        .unwrap_or_else(|| "invalid mock definition".into());
    ApiError::unprocessable("invalid_mock", format!("invalid mock definition: {first}"))
        .with_details(json!({ "errors": errors }))
}

fn hub_error(error: HubError) -> ApiError {
    match error {
        HubError::Definition(e) => definition_error(&e),
        HubError::AlreadyRunning(id) => ApiError::new(
            StatusCode::CONFLICT,
            "already_running",
            format!("mock server {id} is already running"),
        ),
        HubError::NotRunning(id) => ApiError::new(
            StatusCode::CONFLICT,
            "not_running",
            format!("mock server {id} is not running"),
        ),
        HubError::PortsExhausted { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_free_port",
            error.to_string(),
        ),
        other => ApiError::unprocessable("cannot_start", other.to_string()),
    }
}

/// Keys that read or write files on the server: not accepted from API clients, who would
/// otherwise read any file the server can (`body_from_file`) or write one (`save_to`).
const FILE_KEYS: [&str; 4] = ["body_from_file", "save_to", "cert", "key"];

fn refuse_file_keys(value: &Value, path: &str) -> ApiResult<()> {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let tls_file = (k == "cert" || k == "key") && path.ends_with("tls");
                if (FILE_KEYS[..2].contains(&k.as_str()) || tls_file) && !v.is_null() {
                    return Err(ApiError::unprocessable(
                        "invalid_mock",
                        format!(
                            "invalid mock definition: {here}: files on the server cannot be used through the API; put the body in the definition"
                        ),
                    )
                    .with_details(json!({"errors": [{"path": here, "message": "not allowed through the API"}]})));
                }
                refuse_file_keys(v, &here)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refuse_file_keys(v, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads a definition given through the API or the dashboard.
pub(crate) fn read_definition(value: &Value) -> ApiResult<MockDefinition> {
    refuse_file_keys(value, "")?;
    let definition =
        testmesh_mock::load::mock_from_json(value).map_err(|e| definition_error(&e))?;
    if matches!(
        definition.mode,
        testmesh_mock::MockMode::Record | testmesh_mock::MockMode::Playback
    ) {
        return Err(ApiError::unprocessable(
            "invalid_mock",
            "invalid mock definition: mode: record and playback use files on the server; use `testmesh mock record` instead",
        )
        .with_details(json!({"errors": [{"path": "mode", "message": "not allowed through the API"}]})));
    }
    // Compile everything now, so a bad regex or template is a 422 before anything is stored.
    testmesh_mock::Mock::new(definition.clone(), testmesh_mock::MockOptions::default())
        .map_err(|e| definition_error(&e))?;
    Ok(definition)
}

/// Reads one endpoint given through the API.
pub(crate) fn read_endpoint(value: &Value) -> ApiResult<testmesh_mock::EndpointDef> {
    refuse_file_keys(value, "")?;
    let endpoint =
        testmesh_mock::load::endpoint_from_json(value).map_err(|e| definition_error(&e))?;
    // Compile it alone to report template and regex errors by field.
    let mut probe = MockDefinition::new("probe");
    probe.endpoints.push(endpoint.clone());
    testmesh_mock::Mock::new(probe, testmesh_mock::MockOptions::default()).map_err(|e| {
        let mut e = e;
        for err in &mut e.errors {
            err.path = err
                .path
                .strip_prefix("endpoints[0].")
                .or_else(|| err.path.strip_prefix("endpoints[0]"))
                .unwrap_or(&err.path)
                .to_string();
        }
        definition_error(&e)
    })?;
    Ok(endpoint)
}

/// A stored mock's definition: its settings, name and id with its stored endpoints.
fn stored_definition(
    server: &MockServer,
    endpoints: &[MockEndpoint],
) -> Result<MockDefinition, LoadError> {
    let mut settings = match &server.settings {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    settings.insert("id".into(), Value::String(server.id.clone()));
    settings.insert("name".into(), Value::String(server.name.clone()));
    settings.insert(
        "endpoints".into(),
        Value::Array(endpoints.iter().map(|e| e.definition.clone()).collect()),
    );
    testmesh_mock::load::mock_from_json(&Value::Object(settings))
}

impl MockHost {
    /// A host whose mocks are reached at `{mount}/{id}` (and on their own port when they ask).
    pub(crate) fn new(store: Store, mount: String, config: &MockConfig) -> MockHost {
        let (observer, _writer) =
            StoreObserver::start(store.clone(), config.queue, config.journal_cap);
        let hub = Arc::new(MockHub::new(HubConfig {
            ports: config.ports.clone(),
            mount: Some(mount),
            observer: Some(observer.clone() as Arc<dyn MockObserver>),
        }));
        MockHost {
            store,
            hub,
            observer,
        }
    }

    /// The hub serving the mocks (flow actions start mocks on it; they are then stored too).
    pub fn hub(&self) -> &Arc<MockHub> {
        &self.hub
    }

    /// Waits until every journal entry and change queued so far is in the store.
    pub async fn flush(&self) {
        self.observer.flush().await;
    }

    /// Journal entries and state changes dropped because the write queue was full.
    pub fn dropped(&self) -> u64 {
        self.observer.dropped()
    }

    /// Where a mock is reached on the server port.
    pub(crate) fn mounted_url(&self, id: &str) -> String {
        format!(
            "{}/{id}",
            self.hub.mount().unwrap_or_default().trim_end_matches('/')
        )
    }

    /// True when the mock is serving in this process.
    pub(crate) fn is_running(&self, id: &str) -> bool {
        Uuid::parse_str(id).is_ok_and(|id| self.hub.get(id).is_some())
    }

    pub(crate) fn running(&self, id: &str) -> Option<Arc<testmesh_mock::Mock>> {
        Uuid::parse_str(id).ok().and_then(|id| self.hub.get(id))
    }

    /// Starts every mock stored as running (at boot). A mock that no longer loads or cannot
    /// start is marked failed with the reason; flow-started mocks are marked stopped (their run
    /// is over).
    pub(crate) async fn restore(&self) {
        let rows = match self.store.running_mock_servers().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the mock servers to restore");
                return;
            }
        };
        for row in rows {
            if row.execution_id.is_some() {
                let _ = self
                    .store
                    .set_mock_server_status(&row.id, MockStatus::Stopped, None, None, None)
                    .await;
                continue;
            }
            match self.launch(&row).await {
                Ok(_) => tracing::info!(mock = %row.id, name = %row.name, "mock server restored"),
                Err(e) => {
                    tracing::warn!(mock = %row.id, error = %e.message, "cannot restore a mock server");
                    let _ = self
                        .store
                        .set_mock_server_status(
                            &row.id,
                            MockStatus::Failed,
                            None,
                            None,
                            Some(&e.message),
                        )
                        .await;
                }
            }
        }
    }

    /// Starts a stored mock with its stored endpoints and state; marks it running.
    async fn launch(&self, row: &MockServer) -> ApiResult<MockServer> {
        let endpoints = self.store.mock_endpoints(&row.id).await?;
        let definition = stored_definition(row, &endpoints).map_err(|e| definition_error(&e))?;
        let mock = self.hub.start(definition).await.map_err(hub_error)?;
        let stored = self.store.mock_state(&row.id).await?;
        if stored.is_empty() {
            self.store
                .replace_mock_state(&row.id, &mock.state())
                .await?;
        } else {
            mock.replace_state(stored.into_iter().map(|e| (e.key, e.value)).collect());
        }
        Ok(self
            .store
            .set_mock_server_status(
                &row.id,
                MockStatus::Running,
                mock.base_url(),
                mock.port(),
                None,
            )
            .await?)
    }

    /// Stores a new mock and starts it.
    pub(crate) async fn create(
        &self,
        workspace: &str,
        definition: MockDefinition,
    ) -> ApiResult<MockServer> {
        let id = definition.id.unwrap_or_else(Uuid::new_v4).to_string();
        if self.store.find_mock_server(&id).await.is_ok() || self.is_running(&id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("a mock server with the id {id} exists"),
            ));
        }
        let (settings, endpoints) = split(&definition);
        let input = NewMockServer {
            id: Some(id.clone()),
            name: definition.name.clone(),
            settings,
            endpoints,
            execution_id: None,
        };
        let row = self.store.create_mock_server(workspace, &input).await?;
        match self.launch(&row).await {
            Ok(row) => Ok(row),
            Err(e) => {
                // Nothing half-made stays behind.
                let _ = self.store.delete_mock_server(workspace, &id).await;
                Err(e)
            }
        }
    }

    /// Starts a stored mock again (a stopped or failed one).
    pub(crate) async fn start(&self, workspace: &str, id: &str) -> ApiResult<MockServer> {
        let row = self.store.get_mock_server(workspace, id).await?;
        if self.is_running(id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_running",
                format!("mock server {id} is already running"),
            ));
        }
        match self.launch(&row).await {
            Ok(row) => Ok(row),
            Err(e) => {
                let _ = self
                    .store
                    .set_mock_server_status(id, MockStatus::Failed, None, None, Some(&e.message))
                    .await;
                Err(e)
            }
        }
    }

    /// Stops a mock (a stopped one stays stopped).
    pub(crate) async fn stop(&self, workspace: &str, id: &str) -> ApiResult<MockServer> {
        self.store.get_mock_server(workspace, id).await?;
        if let Ok(uuid) = Uuid::parse_str(id) {
            let _ = self.hub.stop(uuid).await;
        }
        Ok(self
            .store
            .set_mock_server_status(id, MockStatus::Stopped, None, None, None)
            .await?)
    }

    /// Stops and deletes a mock with its endpoints, journal and state.
    pub(crate) async fn delete(&self, workspace: &str, id: &str) -> ApiResult<()> {
        self.store.get_mock_server(workspace, id).await?;
        if let Ok(uuid) = Uuid::parse_str(id) {
            let _ = self.hub.stop(uuid).await;
        }
        self.store.delete_mock_server(workspace, id).await?;
        Ok(())
    }

    /// Stops the mocks a flow of this execution started (the execution ended).
    pub async fn execution_ended(&self, execution_id: &str) {
        for mock in self.hub.list() {
            if mock.execution_id() == Some(execution_id) {
                let _ = self.hub.stop(mock.id()).await;
            }
        }
    }

    /// Stops flow-started mocks whose executions are no longer running (a missed end notice).
    pub async fn sweep_ended(&self) {
        for mock in self.hub.list() {
            let Some(execution) = mock.execution_id() else {
                continue;
            };
            let over = match self.store.find_execution(execution).await {
                Ok(e) => !matches!(
                    e.status,
                    testmesh_store::ExecutionStatus::Pending
                        | testmesh_store::ExecutionStatus::Running
                ),
                Err(testmesh_store::Error::NotFound { .. }) => false,
                Err(_) => false,
            };
            if over {
                let _ = self.hub.stop(mock.id()).await;
            }
        }
    }

    /// Replaces a mock's definition. A running mock with the same settings gets the new endpoints
    /// at once; one whose settings changed is restarted with them (its state kept).
    pub(crate) async fn update(
        &self,
        workspace: &str,
        id: &str,
        mut definition: MockDefinition,
    ) -> ApiResult<MockServer> {
        let row = self.store.get_mock_server(workspace, id).await?;
        if let Some(given) = definition.id
            && given.to_string() != id
        {
            return Err(ApiError::unprocessable(
                "invalid_mock",
                format!("invalid mock definition: id: `{given}` is not this mock's id ({id})"),
            )
            .with_details(json!({"errors": [{"path": "id", "message": "differs from the URL"}]})));
        }
        definition.id = Uuid::parse_str(id).ok();
        let (settings, endpoints) = split(&definition);
        let same_settings = settings == row.settings;
        self.store
            .update_mock_server(workspace, id, &definition.name, &settings)
            .await?;
        match self.running(id) {
            // New endpoints for a running mock reach the store through the observer.
            Some(mock) if same_settings && mock.name() == definition.name => {
                mock.set_endpoints(definition.endpoints)
                    .map_err(|e| definition_error(&e))?;
                self.flush().await;
            }
            Some(mock) => {
                self.store.replace_mock_endpoints(id, &endpoints).await?;
                let state = mock.state();
                let _ = self.hub.stop(mock.id()).await;
                self.store.replace_mock_state(id, &state).await?;
                return self.start(workspace, id).await;
            }
            None => {
                self.store.replace_mock_endpoints(id, &endpoints).await?;
            }
        }
        Ok(self.store.get_mock_server(workspace, id).await?)
    }

    /// Adds an endpoint (applied at once when the mock runs).
    ///
    /// A running mock is changed first and its change reaches the store through the observer, in
    /// order with every other change it makes; writing the store here too would race with that.
    pub(crate) async fn add_endpoint(
        &self,
        workspace: &str,
        id: &str,
        endpoint: testmesh_mock::EndpointDef,
    ) -> ApiResult<MockEndpoint> {
        self.store.get_mock_server(workspace, id).await?;
        if let Some(mock) = self.running(id) {
            let ids = mock
                .add_endpoints(vec![endpoint])
                .map_err(|e| definition_error(&e))?;
            let added = ids.first().cloned().unwrap_or_default();
            return self.saved_endpoint(id, &added).await;
        }
        let value = serde_json::to_value(&endpoint).unwrap_or(Value::Null);
        let mut added = self.store.add_mock_endpoints(id, &[value]).await?;
        added
            .pop()
            .ok_or_else(|| ApiError::internal(&"the endpoint was not stored"))
    }

    /// Replaces an endpoint (applied at once when the mock runs).
    pub(crate) async fn replace_endpoint(
        &self,
        workspace: &str,
        id: &str,
        endpoint_id: &str,
        endpoint: testmesh_mock::EndpointDef,
    ) -> ApiResult<MockEndpoint> {
        self.store.get_mock_server(workspace, id).await?;
        if let Some(mock) = self.running(id) {
            if !mock
                .replace_endpoint(endpoint_id, endpoint)
                .map_err(|e| definition_error(&e))?
            {
                return Err(testmesh_store::Error::NotFound {
                    what: "mock endpoint",
                    id: endpoint_id.to_string(),
                }
                .into());
            }
            return self.saved_endpoint(id, endpoint_id).await;
        }
        let value = serde_json::to_value(&endpoint).unwrap_or(Value::Null);
        Ok(self
            .store
            .update_mock_endpoint(id, endpoint_id, &value)
            .await?)
    }

    /// Deletes an endpoint (applied at once when the mock runs).
    pub(crate) async fn delete_endpoint(
        &self,
        workspace: &str,
        id: &str,
        endpoint_id: &str,
    ) -> ApiResult<()> {
        self.store.get_mock_server(workspace, id).await?;
        if let Some(mock) = self.running(id) {
            if !mock.remove_endpoint(endpoint_id) {
                return Err(testmesh_store::Error::NotFound {
                    what: "mock endpoint",
                    id: endpoint_id.to_string(),
                }
                .into());
            }
            self.flush().await;
            return Ok(());
        }
        self.store.delete_mock_endpoint(id, endpoint_id).await?;
        Ok(())
    }

    /// An endpoint as stored once the running mock's queued changes are written.
    async fn saved_endpoint(&self, id: &str, endpoint_id: &str) -> ApiResult<MockEndpoint> {
        self.flush().await;
        self.store
            .mock_endpoints(id)
            .await?
            .into_iter()
            .find(|e| e.id == endpoint_id)
            .ok_or_else(|| ApiError::internal(&"the endpoint was not stored"))
    }

    /// Adds an endpoint answering `200 {}` to exactly this journaled request's method and path.
    pub(crate) async fn endpoint_from_request(
        &self,
        workspace: &str,
        id: &str,
        request_id: &str,
    ) -> ApiResult<MockEndpoint> {
        self.store.get_mock_server(workspace, id).await?;
        let request = self.store.get_mock_request(id, request_id).await?;
        let mut value = json!({
            "method": request.method,
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {}},
        });
        // Path syntax (`:x`, `{x}`, `*`) in the request path would match more than this path.
        if request.path.contains([':', '{', '}', '*']) {
            value["path"] = json!(request.path);
            value["match"] = json!({"path_pattern": format!("^{}$", regex_escape(&request.path))});
        } else {
            value["path"] = json!(request.path);
        }
        let endpoint = read_endpoint(&value)?;
        self.add_endpoint(workspace, id, endpoint).await
    }

    /// Sets one state key in the store and, when it runs, in the mock.
    pub(crate) async fn put_state(
        &self,
        workspace: &str,
        id: &str,
        key: &str,
        value: Value,
    ) -> ApiResult<()> {
        self.store.get_mock_server(workspace, id).await?;
        self.store.put_mock_state(id, key, Some(&value)).await?;
        if let Some(mock) = self.running(id) {
            mock.set_state(key, Some(value));
        }
        Ok(())
    }

    /// Deletes one state key.
    pub(crate) async fn delete_state(&self, workspace: &str, id: &str, key: &str) -> ApiResult<()> {
        self.store.get_mock_server(workspace, id).await?;
        let exists = self
            .store
            .mock_state(id)
            .await?
            .iter()
            .any(|e| e.key == key)
            || self
                .running(id)
                .is_some_and(|m| m.state_value(key).is_some());
        if !exists {
            return Err(ApiError::not_found(format!(
                "mock state key not found: {key}"
            )));
        }
        self.store.put_mock_state(id, key, None).await?;
        if let Some(mock) = self.running(id) {
            mock.set_state(key, None);
        }
        Ok(())
    }

    /// Goes back to the definition's initial state.
    pub(crate) async fn reset_state(&self, workspace: &str, id: &str) -> ApiResult<()> {
        let row = self.store.get_mock_server(workspace, id).await?;
        let initial = match self.running(id) {
            Some(mock) => {
                mock.reset_state();
                mock.state()
            }
            None => {
                let endpoints = self.store.mock_endpoints(id).await?;
                let definition =
                    stored_definition(&row, &endpoints).map_err(|e| definition_error(&e))?;
                testmesh_mock::Mock::new(definition, testmesh_mock::MockOptions::default())
                    .map(|m| m.state())
                    .map_err(|e| definition_error(&e))?
            }
        };
        self.store.replace_mock_state(id, &initial).await?;
        Ok(())
    }

    /// Empties the journal (stored and in memory).
    pub(crate) async fn clear_requests(&self, workspace: &str, id: &str) -> ApiResult<u64> {
        self.store.get_mock_server(workspace, id).await?;
        // Entries still queued would reappear after the clear.
        self.flush().await;
        if let Some(mock) = self.running(id) {
            mock.clear_journal();
        }
        Ok(self.store.clear_mock_requests(id).await?)
    }
}

/// Escapes regex metacharacters.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The dashboard's view of a refused change.
fn control_error(error: ApiError) -> testmesh_dashboard::ControlError {
    let errors = error
        .details
        .as_ref()
        .and_then(|d| d["errors"].as_array())
        .map(|list| {
            list.iter()
                .map(|e| testmesh_dashboard::FieldError {
                    path: e["path"].as_str().unwrap_or_default().to_string(),
                    message: e["message"].as_str().unwrap_or_default().to_string(),
                    line: e["line"].as_u64().map(|n| n as usize),
                    column: e["column"].as_u64().map(|n| n as usize),
                })
                .collect()
        })
        .unwrap_or_default();
    testmesh_dashboard::ControlError {
        message: error.message,
        errors,
    }
}

impl testmesh_dashboard::MockControl for MockHost {
    fn create(
        &self,
        workspace: String,
        definition: Value,
    ) -> testmesh_dashboard::ControlFuture<'_, String> {
        Box::pin(async move {
            let definition = read_definition(&definition).map_err(control_error)?;
            self.create(&workspace, definition)
                .await
                .map(|row| row.id)
                .map_err(control_error)
        })
    }

    fn start(&self, workspace: String, id: String) -> testmesh_dashboard::ControlFuture<'_, ()> {
        Box::pin(async move {
            MockHost::start(self, &workspace, &id)
                .await
                .map(|_| ())
                .map_err(control_error)
        })
    }

    fn stop(&self, workspace: String, id: String) -> testmesh_dashboard::ControlFuture<'_, ()> {
        Box::pin(async move {
            MockHost::stop(self, &workspace, &id)
                .await
                .map(|_| ())
                .map_err(control_error)
        })
    }

    fn put_state(
        &self,
        workspace: String,
        id: String,
        key: String,
        value: Value,
    ) -> testmesh_dashboard::ControlFuture<'_, ()> {
        Box::pin(async move {
            MockHost::put_state(self, &workspace, &id, &key, value)
                .await
                .map_err(control_error)
        })
    }

    fn reset_state(
        &self,
        workspace: String,
        id: String,
    ) -> testmesh_dashboard::ControlFuture<'_, ()> {
        Box::pin(async move {
            MockHost::reset_state(self, &workspace, &id)
                .await
                .map_err(control_error)
        })
    }

    fn endpoint_from_request(
        &self,
        workspace: String,
        id: String,
        request_id: String,
    ) -> testmesh_dashboard::ControlFuture<'_, ()> {
        Box::pin(async move {
            MockHost::endpoint_from_request(self, &workspace, &id, &request_id)
                .await
                .map(|_| ())
                .map_err(control_error)
        })
    }

    fn is_running(&self, id: &str) -> bool {
        MockHost::is_running(self, id)
    }

    fn mounted_url(&self, id: &str) -> String {
        MockHost::mounted_url(self, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_refused() {
        assert!(
            refuse_file_keys(
                &json!({"endpoints": [{"response": {"body_from_file": "/etc/passwd"}}]}),
                ""
            )
            .is_err()
        );
        assert!(refuse_file_keys(&json!({"tls": {"cert": "a.pem", "key": "a.key"}}), "").is_err());
        assert!(
            refuse_file_keys(
                &json!({"tls": true, "endpoints": [{"match": {"headers": {"key": "x"}}}]}),
                ""
            )
            .is_ok()
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(regex_escape("/a/:id/{x}*"), "/a/:id/\\{x\\}\\*");
    }
}
