//! The flow actions of mock servers: `mock_server_start`, `mock_server_stop`,
//! `mock_server_configure` (alias `mock_server_update`), `mock_server_verify` and
//! `mock_server_reset_state`, served by one shared [`MockHub`].
//!
//! Mocks a flow starts stop when that flow run ends (its per-run state is dropped) unless the start
//! step says `keep_running: true`. Servers are named by id or by name in the other actions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use testmesh_flow::Action;
use testmesh_flow::ActionKind;
use testmesh_flow::model::actions::{
    MockServerConfigureConfig, MockServerStartConfig, MockServerVerifyConfig,
};
use testmesh_runner::{
    ActionCx, ActionFuture, ErrorKind, FlowState, Handler, Outcome, Registry, StepError,
};
use uuid::Uuid;

use crate::definition::{EndpointDef, MockDefinition};
use crate::error::{HubError, LoadError};
use crate::hub::{MockHub, StartOptions};
use crate::journal::{Expectation, JournalEntry, VerifyReport};
use crate::load;
use crate::mock::Mock;

/// Registers the mock-server actions, all served by `hub`.
pub fn register(registry: &mut Registry, hub: Arc<MockHub>) {
    registry.register(ActionKind::MockServerStart, Start { hub: hub.clone() });
    registry.register(ActionKind::MockServerStop, Stop { hub: hub.clone() });
    registry.register(
        ActionKind::MockServerConfigure,
        Configure { hub: hub.clone() },
    );
    registry.register(ActionKind::MockServerVerify, Verify { hub: hub.clone() });
    registry.register(ActionKind::MockServerResetState, ResetState { hub });
}

/// The mocks one flow run started (without `keep_running`); dropping it (when the run ends and its
/// [`testmesh_runner::FlowState`] goes) stops them without blocking.
struct FlowMocks {
    hub: Arc<MockHub>,
    ids: Mutex<Vec<Uuid>>,
}

impl FlowMocks {
    fn ids(&self) -> std::sync::MutexGuard<'_, Vec<Uuid>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FlowMocks {
    fn drop(&mut self) {
        for id in self.ids().drain(..) {
            // Already stopped by a step: nothing to do.
            let _ = self.hub.stop_now(id);
        }
    }
}

/// Every mock a flow run started, stopped or not, in start order: what `contract_generate` reads
/// (a stopped mock's journal stays readable).
#[derive(Default)]
struct StartedMocks(Mutex<Vec<Arc<Mock>>>);

impl StartedMocks {
    fn push(&self, mock: Arc<Mock>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(mock);
    }
}

/// The mocks this flow run started with `mock_server_start` (running or stopped since), in start
/// order.
pub fn mocks_started_in(state: &FlowState) -> Vec<Arc<Mock>> {
    state.get::<StartedMocks>().map_or_else(Vec::new, |s| {
        s.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    })
}

fn flow_mocks(hub: &Arc<MockHub>, cx: &ActionCx) -> Arc<FlowMocks> {
    cx.flow_state.get_or_init(|| FlowMocks {
        hub: hub.clone(),
        ids: Mutex::new(Vec::new()),
    })
}

fn wrong_action(name: &str) -> StepError {
    StepError::config(format!("the {name} handler got another action"))
}

/// A definition error as step text: every problem on its own line, named by field path.
fn definition_error(context: &str, error: &LoadError) -> StepError {
    let mut text = format!("{context}:");
    for e in &error.errors {
        text.push_str("\n  ");
        text.push_str(&e.to_string());
    }
    StepError::config(text)
}

fn hub_error(error: HubError) -> StepError {
    match error {
        HubError::Definition(e) => definition_error("invalid mock definition", &e),
        other => StepError::action(other.to_string()),
    }
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() || base.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// A running mock by id or name.
fn find(hub: &MockHub, server: &str) -> Result<Arc<Mock>, StepError> {
    let server = server.trim();
    let found = match Uuid::parse_str(server) {
        Ok(id) => hub.get(id),
        Err(_) => None,
    }
    .or_else(|| hub.find_by_name(server));
    found.ok_or_else(|| {
        let mut running: Vec<String> = hub
            .list()
            .iter()
            .map(|m| format!("{} ({})", m.name(), m.id()))
            .collect();
        running.sort();
        let list = if running.is_empty() {
            "no mock server is running".to_string()
        } else {
            format!("running: {}", running.join(", "))
        };
        StepError::action(format!(
            "no running mock server has the id or name `{server}` ({list})"
        ))
    })
}

/// `mock_server_start`.
struct Start {
    hub: Arc<MockHub>,
}

impl Handler for Start {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::MockServerStart(config) = action else {
                return Err(wrong_action("mock_server_start"));
            };
            let definition = start_definition(config, cx)?;
            let keep_running = config
                .keep_running
                .as_ref()
                .and_then(|k| k.literal().copied())
                .unwrap_or(false);
            let mock = self
                .hub
                .start_with(
                    definition,
                    StartOptions {
                        validator: None,
                        execution_id: Some(cx.execution_id.clone()),
                    },
                )
                .await
                .map_err(hub_error)?;
            cx.flow_state
                .get_or_init(StartedMocks::default)
                .push(mock.clone());
            if !keep_running {
                flow_mocks(&self.hub, cx).ids().push(mock.id());
            }
            Ok(Outcome::of(json!({
                "server_id": mock.id().to_string(),
                "name": mock.name(),
                "base_url": mock.base_url(),
                "port": mock.port(),
                "endpoints": mock.endpoints().len(),
                "keep_running": keep_running,
                "status": "running",
            })))
        })
    }
}

/// The definition a start step describes: its inline settings over its `from_file` mock (inline
/// endpoints are added after the file's).
fn start_definition(
    config: &MockServerStartConfig,
    cx: &ActionCx,
) -> Result<MockDefinition, StepError> {
    let from_file = match &config.from_file {
        Some(file) => {
            let path = resolve(&cx.flow_dir, file);
            let mocks = load::load_file(&path)
                .map_err(|e| definition_error(&format!("from_file {}", path.display()), &e))?;
            let names: Vec<&str> = mocks.iter().map(|m| m.name.as_str()).collect();
            let chosen = match (&config.name, mocks.len()) {
                (_, 1) => 0,
                (Some(name), _) => mocks.iter().position(|m| &m.name == name).ok_or_else(|| {
                    StepError::config(format!(
                        "from_file {} holds no mock named `{name}` (it has: {})",
                        path.display(),
                        names.join(", ")
                    ))
                })?,
                (None, n) => {
                    return Err(StepError::config(format!(
                        "from_file {} holds {n} mocks ({}); say which with `name`",
                        path.display(),
                        names.join(", ")
                    )));
                }
            };
            Some(mocks.into_iter().nth(chosen).ok_or_else(|| {
                StepError::config(format!("from_file {} holds no mock", path.display()))
            })?)
        }
        None => None,
    };

    let name = config
        .name
        .clone()
        .or_else(|| from_file.as_ref().map(|m| m.name.clone()))
        .unwrap_or_else(|| cx.step_id.clone());
    let mut inline = Map::new();
    inline.insert("name".into(), json!(name));
    let base_dir = from_file
        .as_ref()
        .and_then(|m| m.base_dir.clone())
        .unwrap_or_else(|| cx.flow_dir.clone());
    if !base_dir.as_os_str().is_empty() {
        inline.insert("base_dir".into(), json!(base_dir.to_string_lossy()));
    }
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            inline.insert(key.to_string(), v);
        }
    };
    set("id", config.server_id.clone().map(Value::from));
    set(
        "port",
        config
            .port
            .as_ref()
            .and_then(|p| p.literal().copied())
            .map(Value::from),
    );
    set("host", config.host.clone().map(Value::from));
    set("proxy", config.proxy.clone());
    set("mode", config.mode.clone().map(Value::from));
    set("save_to", config.save_to.clone().map(Value::from));
    set("state", config.state.clone());
    set("chaos_rules", config.chaos_rules.clone());
    set("tls", config.tls.clone());
    set("journal", config.journal.clone());
    set(
        "max_body_bytes",
        config
            .max_body_bytes
            .as_ref()
            .and_then(|p| p.literal().copied())
            .map(Value::from),
    );
    inline.insert("endpoints".into(), Value::Array(config.endpoints.clone()));
    let given: Vec<String> = inline.keys().cloned().collect();
    let inline = load::mock_from_json(&Value::Object(inline))
        .map_err(|e| definition_error("invalid mock definition", &e))?;
    let Some(mut base) = from_file else {
        return Ok(inline);
    };
    // Inline settings override the file's; endpoints add up.
    let has = |key: &str| given.iter().any(|k| k == key);
    base.name = inline.name;
    if has("id") {
        base.id = inline.id;
    }
    if has("port") {
        base.port = inline.port;
    }
    if has("host") {
        base.host = inline.host;
    }
    if has("proxy") {
        base.proxy = inline.proxy;
    }
    if has("mode") {
        base.mode = inline.mode;
    }
    if has("save_to") {
        base.save_to = inline.save_to;
    }
    if has("state") {
        base.state = inline.state;
    }
    if has("chaos_rules") {
        base.chaos_rules = inline.chaos_rules;
    }
    if has("tls") {
        base.tls = inline.tls;
    }
    if has("journal") {
        base.journal = inline.journal;
    }
    if has("max_body_bytes") {
        base.max_body_bytes = inline.max_body_bytes;
    }
    base.endpoints.extend(inline.endpoints);
    Ok(base)
}

/// `mock_server_stop`.
struct Stop {
    hub: Arc<MockHub>,
}

impl Handler for Stop {
    fn run<'a>(&'a self, action: &'a Action, cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::MockServerStop(config) = action else {
                return Err(wrong_action("mock_server_stop"));
            };
            let mock = find(&self.hub, &config.server_id)?;
            let mock = self.hub.stop(mock.id()).await.map_err(hub_error)?;
            flow_mocks(&self.hub, cx)
                .ids()
                .retain(|id| *id != mock.id());
            Ok(Outcome::of(json!({
                "server_id": mock.id().to_string(),
                "name": mock.name(),
                "requests": mock.request_count(),
                "status": "stopped",
            })))
        })
    }
}

/// `mock_server_configure` / `mock_server_update`.
struct Configure {
    hub: Arc<MockHub>,
}

impl Handler for Configure {
    fn run<'a>(&'a self, action: &'a Action, _cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::MockServerConfigure(config) = action else {
                return Err(wrong_action("mock_server_configure"));
            };
            let mock = find(&self.hub, &config.server_id)?;
            configure(&mock, config).map(Outcome::of)
        })
    }
}

fn configure(mock: &Mock, config: &MockServerConfigureConfig) -> Result<Value, StepError> {
    let replace = config
        .replace
        .as_ref()
        .and_then(|r| r.literal().copied())
        .unwrap_or(false);
    let mut raw = config.endpoints.clone();
    let key = if let Some(one) = &config.endpoint {
        if !raw.is_empty() {
            return Err(StepError::config(
                "give either `endpoint` (one) or `endpoints` (a list), not both",
            ));
        }
        raw.push(one.clone());
        "endpoint"
    } else {
        "endpoints"
    };
    if raw.is_empty() && !replace {
        return Err(StepError::config(
            "nothing to configure: give `endpoints` (a list) or `endpoint` (one)",
        ));
    }
    // Read through a whole definition so relative `body_from_file`s resolve like the mock's own.
    let mut wrapper = Map::new();
    wrapper.insert("name".into(), json!(mock.name()));
    if let Some(dir) = mock.definition().base_dir {
        wrapper.insert("base_dir".into(), json!(dir.to_string_lossy()));
    }
    wrapper.insert("endpoints".into(), Value::Array(raw));
    let defs = load::mock_from_json(&Value::Object(wrapper))
        .map_err(|mut e| {
            if key == "endpoint" {
                for d in &mut e.errors {
                    d.path = d.path.replacen("endpoints[0]", "endpoint", 1);
                }
            }
            definition_error("invalid endpoint", &e)
        })?
        .endpoints;
    let count = defs.len();
    let mut added = 0;
    let mut replaced = 0;
    let ids = if replace {
        let ids = mock
            .set_endpoints(defs)
            .map_err(|e| definition_error("invalid endpoint", &e))?;
        added = ids.len();
        ids
    } else {
        let mut ids = Vec::new();
        for def in defs {
            let (id, was_replaced) = upsert(mock, def)?;
            if was_replaced {
                replaced += 1;
            } else {
                added += 1;
            }
            ids.push(id);
        }
        ids
    };
    Ok(json!({
        "server_id": mock.id().to_string(),
        "name": mock.name(),
        "endpoints_added": added,
        "endpoints_replaced": replaced,
        "endpoint_ids": ids,
        "endpoints": if replace { count } else { mock.endpoints().len() },
        "status": "configured",
    }))
}

/// Replaces the served endpoint with the same id, or else the same method, path and match
/// conditions; otherwise adds the endpoint.
fn upsert(mock: &Mock, mut def: EndpointDef) -> Result<(String, bool), StepError> {
    let current = mock.endpoints();
    let same = current.iter().find(|e| match &def.id {
        Some(id) => e.id.as_ref() == Some(id),
        None => e.method == def.method && e.path == def.path && e.match_ == def.match_,
    });
    let invalid = |e: LoadError| definition_error("invalid endpoint", &e);
    match same.and_then(|e| e.id.clone()) {
        Some(id) => {
            def.id = Some(id.clone());
            let found = mock.replace_endpoint(&id, def.clone()).map_err(invalid)?;
            if found {
                Ok((id, true))
            } else {
                // Removed meanwhile: add it.
                let ids = mock.add_endpoints(vec![def]).map_err(invalid)?;
                Ok((ids.into_iter().next().unwrap_or(id), false))
            }
        }
        None => {
            let ids = mock.add_endpoints(vec![def]).map_err(invalid)?;
            Ok((ids.into_iter().next().unwrap_or_default(), false))
        }
    }
}

/// `mock_server_verify`.
struct Verify {
    hub: Arc<MockHub>,
}

impl Handler for Verify {
    fn run<'a>(&'a self, action: &'a Action, _cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::MockServerVerify(config) = action else {
                return Err(wrong_action("mock_server_verify"));
            };
            let mock = find(&self.hub, &config.server_id)?;
            let expectations = expectations(config)?;
            let report = mock.verify(&expectations);
            if !report.passed {
                return Err(StepError::new(
                    ErrorKind::Assertion,
                    failure_text(&mock, &expectations, &report),
                ));
            }
            Ok(Outcome::of(json!({
                "server_id": mock.id().to_string(),
                "name": mock.name(),
                "passed": true,
                "checked": report.checked,
                "total_requests": mock.request_count(),
                "journal_dropped": report.journal_dropped,
            })))
        })
    }
}

/// The inline assertion (when any of its keys is given, or when there is no list) then the list.
fn expectations(config: &MockServerVerifyConfig) -> Result<Vec<Expectation>, StepError> {
    let number = |n: &Option<testmesh_flow::decode::Tpl<u64>>| {
        n.as_ref()
            .and_then(|t| t.literal().copied())
            .map(Value::from)
    };
    let mut inline = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            inline.insert(key.to_string(), v);
        }
    };
    put("path", config.path.clone().map(Value::from));
    put("method", config.method.clone().map(Value::from));
    put("count", number(&config.count));
    put("count_min", number(&config.count_min));
    put("count_max", number(&config.count_max));
    put("body_matches", config.body_matches.clone());
    if !config.headers.is_empty() {
        put(
            "headers",
            Some(Value::Object(
                config
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
        );
    }
    let mut out = Vec::new();
    if !inline.is_empty() || config.assertions.is_empty() {
        out.push(
            Expectation::from_json(&Value::Object(inline))
                .map_err(|e| definition_error("invalid assertion", &e))?,
        );
    }
    if !config.assertions.is_empty() {
        let list = Expectation::list_from_json(&Value::Array(config.assertions.clone())).map_err(
            |mut e| {
                for d in &mut e.errors {
                    d.path = format!("assertions{}", d.path);
                }
                definition_error("invalid assertion", &e)
            },
        )?;
        out.extend(list);
    }
    Ok(out)
}

fn entry_line(entry: &JournalEntry) -> String {
    let status = entry.status.map_or_else(
        || entry.fault.unwrap_or("no answer").to_string(),
        |s| s.to_string(),
    );
    let query = if entry.query.is_empty() {
        String::new()
    } else {
        let pairs: Vec<String> = entry
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("?{}", pairs.join("&"))
    };
    format!(
        "{} {} {}{} → {status}",
        entry.time.format("%H:%M:%S%.3f"),
        entry.method,
        entry.path,
        query
    )
}

/// Expected vs actual for each failed assertion, the near misses with why they did not count, and
/// the newest requests the mock received.
fn failure_text(mock: &Mock, expectations: &[Expectation], report: &VerifyReport) -> String {
    let journal = mock.journal();
    let by_id = |id: Uuid| journal.iter().find(|e| e.id == id);
    let mut text = format!(
        "{} of {} mock assertion(s) failed on mock server `{}`:",
        report.violations.len(),
        report.checked,
        mock.name()
    );
    for v in &report.violations {
        text.push_str(&format!(
            "\n  [{}] {}\n      expected: {} {} request(s)",
            v.index, v.request, v.expected, v.request
        ));
        if let Some(exp) = expectations.get(v.index) {
            let mut conditions = Vec::new();
            for (k, val) in &exp.headers {
                conditions.push(format!("header {k}: {val}"));
            }
            for b in &exp.body_matches {
                conditions.push(format!("`{b}`"));
            }
            if !conditions.is_empty() {
                text.push_str(&format!(" with {}", conditions.join(", ")));
            }
        }
        text.push_str(&format!("\n      actual:   {}", v.actual));
        if !v.near_misses.is_empty() {
            text.push_str("\n      near misses (right method and path, conditions failed):");
            for miss in &v.near_misses {
                let line =
                    by_id(miss.entry_id).map_or_else(|| miss.entry_id.to_string(), entry_line);
                text.push_str(&format!("\n        {line}: {}", miss.reasons.join("; ")));
            }
        }
    }
    const SHOWN: usize = 10;
    if journal.is_empty() {
        text.push_str("\n  the mock received no requests");
    } else {
        text.push_str(&format!(
            "\n  requests received ({} in all{}):",
            mock.request_count(),
            if journal.len() > SHOWN {
                format!(", newest {SHOWN} shown")
            } else {
                String::new()
            }
        ));
        for entry in journal.iter().skip(journal.len().saturating_sub(SHOWN)) {
            text.push_str(&format!("\n    {}", entry_line(entry)));
        }
    }
    if report.journal_dropped > 0 {
        text.push_str(&format!(
            "\n  note: {} older request(s) left the journal (journal.max_entries); counts may be low",
            report.journal_dropped
        ));
    }
    text
}

/// `mock_server_reset_state`.
struct ResetState {
    hub: Arc<MockHub>,
}

impl Handler for ResetState {
    fn run<'a>(&'a self, action: &'a Action, _cx: &'a ActionCx) -> ActionFuture<'a> {
        Box::pin(async move {
            let Action::MockServerResetState(config) = action else {
                return Err(wrong_action("mock_server_reset_state"));
            };
            let mock = find(&self.hub, &config.server_id)?;
            match &config.state {
                Some(state) => {
                    mock.replace_state(state.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                }
                None => mock.reset_state(),
            }
            Ok(Outcome::of(json!({
                "server_id": mock.id().to_string(),
                "name": mock.name(),
                "state": Value::Object(mock.state()),
                "status": "reset",
            })))
        })
    }
}
