//! One running mock: compiled endpoints (swappable while serving), state, journal, and `handle`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use rand::RngExt;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::compile::{self, BodyTemplate, CompiledEndpoint, CompiledResponse, HeaderTemplate};
use crate::definition::*;
use crate::error::{DefinitionError, LoadError};
use crate::journal::{self, Expectation, Journal, JournalEntry, NearMiss, VerifyReport};
use crate::matcher::{check_partial, is_subset};
use crate::outcome::*;
use crate::proxy::Proxy;
use crate::record::Recorder;
use crate::request::{Incoming, MockRequest};
use crate::state;
use crate::template::RenderCx;

/// How many near-miss endpoints an unmatched request is answered with.
const CLOSEST: usize = 3;

/// Extras a mock is built with.
#[derive(Clone, Default)]
pub struct MockOptions {
    /// Checks each request before matching (OpenAPI validation).
    pub validator: Option<Arc<dyn RequestValidator>>,
    /// Told about every request and state change.
    pub observer: Option<Arc<dyn MockObserver>>,
    /// The execution whose flow started the mock (it stops when that execution ends).
    pub execution_id: Option<String>,
}

struct Endpoints {
    /// Definitions in definition order, with their compiled form.
    defs: Vec<(EndpointDef, Arc<CompiledEndpoint>)>,
    /// Endpoints recorded in the playback file (after the defined ones).
    playback: Vec<Arc<CompiledEndpoint>>,
}

/// A running mock server (without its transport: see [`crate::MockHub`] for listeners).
pub struct Mock {
    id: Uuid,
    definition: MockDefinition,
    base_url: OnceLock<String>,
    port: OnceLock<u16>,
    certificate: OnceLock<String>,
    endpoints: Mutex<Endpoints>,
    /// What requests are matched against: priority DESC, then definition order.
    published: RwLock<Arc<[Arc<CompiledEndpoint>]>>,
    chaos: Vec<(f64, CompiledResponse)>,
    initial_state: Map<String, Value>,
    state: Mutex<Map<String, Value>>,
    journal: Mutex<Journal>,
    proxy: Option<Proxy>,
    recorder: Option<Recorder>,
    options: MockOptions,
    requests: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Mock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mock")
            .field("id", &self.id)
            .field("name", &self.definition.name)
            .field("base_url", &self.base_url.get())
            .finish()
    }
}

fn resolve(base: Option<&Path>, file: &str) -> PathBuf {
    match base {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    }
}

impl Mock {
    /// Builds a mock from a definition: compiles every endpoint and chaos rule, loads the playback
    /// file or opens the recording. The id is the definition's, or a new random one.
    pub fn new(mut definition: MockDefinition, options: MockOptions) -> Result<Mock, LoadError> {
        let id = definition.id.unwrap_or_else(Uuid::new_v4);
        definition.id = Some(id);
        let base = definition.base_dir.clone();
        let mut errors = Vec::new();
        for e in &mut definition.endpoints {
            e.id.get_or_insert_with(|| Uuid::new_v4().to_string());
        }
        let mut defs = Vec::new();
        for (i, e) in definition.endpoints.iter().enumerate() {
            match compile::compile_endpoint(e, base.as_deref(), i) {
                Ok(c) => defs.push((e.clone(), Arc::new(c))),
                Err(errs) => errors.extend(errs.into_iter().map(|(p, m)| {
                    DefinitionError::at(compile::join(&format!("endpoints[{i}]"), &p), m)
                })),
            }
        }
        if let Some(dup) = duplicate_id(definition.endpoints.iter()) {
            errors.push(DefinitionError::at(
                "endpoints",
                format!("two endpoints have the id `{dup}`"),
            ));
        }
        let mut chaos = Vec::new();
        for (i, rule) in definition.chaos_rules.iter().enumerate() {
            match compile::compile_response(&rule.response, base.as_deref()) {
                Ok(c) => chaos.push((rule.probability, c)),
                Err(errs) => errors.extend(errs.into_iter().map(|(p, m)| {
                    DefinitionError::at(compile::join(&format!("chaos_rules[{i}].response"), &p), m)
                })),
            }
        }
        let mut playback = Vec::new();
        if definition.mode == MockMode::Playback
            && let Some(file) = &definition.save_to
        {
            let path = resolve(base.as_deref(), file);
            match crate::load::load_file(&path) {
                Ok(mocks) => {
                    let dir = path.parent().map(Path::to_path_buf);
                    for (i, e) in mocks.into_iter().flat_map(|m| m.endpoints).enumerate() {
                        match compile::compile_endpoint(&e, dir.as_deref(), i) {
                            Ok(c) => playback.push(Arc::new(c)),
                            Err(errs) => errors.extend(errs.into_iter().map(|(p, m)| {
                                DefinitionError::at(compile::join(&format!("save_to[{i}]"), &p), m)
                            })),
                        }
                    }
                }
                Err(e) => errors.extend(e.errors),
            }
        }
        let proxy = match &definition.proxy {
            Some(p) if p.pass_through || definition.mode == MockMode::Record => {
                match Proxy::new(&p.target) {
                    Ok(proxy) => Some(proxy),
                    Err(e) => {
                        errors.push(DefinitionError::at("proxy.target", e));
                        None
                    }
                }
            }
            _ => None,
        };
        let recorder = match (&definition.mode, &definition.save_to) {
            (MockMode::Record, Some(file)) => {
                match Recorder::open(resolve(base.as_deref(), file), &definition.name) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        errors.push(DefinitionError::at("save_to", e));
                        None
                    }
                }
            }
            _ => None,
        };
        if !errors.is_empty() {
            return Err(LoadError { errors });
        }
        let mut initial_state = definition.state.clone();
        for (_, c) in &defs {
            seed_legacy(&mut initial_state, c);
        }
        for c in &playback {
            seed_legacy(&mut initial_state, c);
        }
        let mock = Mock {
            id,
            journal: Mutex::new(Journal::new(definition.journal.max_entries)),
            state: Mutex::new(initial_state.clone()),
            initial_state,
            definition,
            base_url: OnceLock::new(),
            port: OnceLock::new(),
            certificate: OnceLock::new(),
            endpoints: Mutex::new(Endpoints { defs, playback }),
            published: RwLock::new(Arc::from(Vec::new())),
            chaos,
            proxy,
            recorder,
            options,
            requests: AtomicU64::new(0),
        };
        mock.publish(&lock(&mock.endpoints));
        Ok(mock)
    }

    /// The mock's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The execution whose flow started the mock.
    pub fn execution_id(&self) -> Option<&str> {
        self.options.execution_id.as_deref()
    }

    /// The mock's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Where clients reach it (`http://127.0.0.1:PORT` or `{mount}/{id}`); set by the hub.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.get().map(String::as_str)
    }

    /// The dedicated listener's port, when it has one.
    pub fn port(&self) -> Option<u16> {
        self.port.get().copied()
    }

    /// The listener's TLS certificate in PEM (clients of a self-signed mock trust this).
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.get().map(String::as_str)
    }

    pub(crate) fn set_certificate(&self, pem: String) {
        let _ = self.certificate.set(pem);
    }

    pub(crate) fn set_address(&self, base_url: String, port: Option<u16>) {
        let _ = self.base_url.set(base_url);
        if let Some(p) = port {
            let _ = self.port.set(p);
        }
    }

    /// The settings the mock was started with (the endpoints as they are now, ids filled in).
    pub fn definition(&self) -> MockDefinition {
        let mut def = self.definition.clone();
        def.endpoints = self.endpoints();
        def
    }

    /// The endpoints as they are now, in definition order.
    pub fn endpoints(&self) -> Vec<EndpointDef> {
        lock(&self.endpoints)
            .defs
            .iter()
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// The largest request body accepted.
    pub fn max_body_bytes(&self) -> u64 {
        self.definition.max_body_bytes
    }

    fn publish(&self, endpoints: &Endpoints) {
        let mut list: Vec<Arc<CompiledEndpoint>> =
            endpoints.defs.iter().map(|(_, c)| c.clone()).collect();
        // A stable sort keeps definition order among equal priorities.
        list.sort_by_key(|c| std::cmp::Reverse(c.priority));
        list.extend(endpoints.playback.iter().cloned());
        *self.published.write().unwrap_or_else(|e| e.into_inner()) = Arc::from(list);
    }

    fn snapshot(&self) -> Arc<[Arc<CompiledEndpoint>]> {
        self.published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn compile_new(
        &self,
        defs: Vec<EndpointDef>,
        prefix: &str,
    ) -> Result<Vec<(EndpointDef, Arc<CompiledEndpoint>)>, LoadError> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, mut def) in defs.into_iter().enumerate() {
            def.id.get_or_insert_with(|| Uuid::new_v4().to_string());
            match compile::compile_endpoint(&def, self.definition.base_dir.as_deref(), i) {
                Ok(c) => out.push((def, Arc::new(c))),
                Err(errs) => errors.extend(errs.into_iter().map(|(p, m)| {
                    DefinitionError::at(compile::join(&format!("{prefix}[{i}]"), &p), m)
                })),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(LoadError { errors })
        }
    }

    fn install(
        &self,
        change: impl FnOnce(&mut Vec<(EndpointDef, Arc<CompiledEndpoint>)>) -> Result<(), LoadError>,
    ) -> Result<(), LoadError> {
        let mut endpoints = lock(&self.endpoints);
        let mut defs = endpoints.defs.clone();
        change(&mut defs)?;
        if let Some(dup) = duplicate_id(defs.iter().map(|(d, _)| d)) {
            return Err(LoadError::single(DefinitionError::at(
                "endpoints",
                format!("two endpoints have the id `{dup}`"),
            )));
        }
        {
            let mut state = lock(&self.state);
            for (_, c) in &defs {
                seed_legacy(&mut state, c);
            }
        }
        endpoints.defs = defs;
        self.publish(&endpoints);
        drop(endpoints);
        if let Some(o) = &self.options.observer {
            o.on_endpoints_changed(self);
        }
        Ok(())
    }

    /// Appends endpoints (kept sorted by priority for matching); returns their ids.
    pub fn add_endpoints(&self, defs: Vec<EndpointDef>) -> Result<Vec<String>, LoadError> {
        let compiled = self.compile_new(defs, "endpoints")?;
        let ids = compiled.iter().map(|(_, c)| c.id.to_string()).collect();
        self.install(|list| {
            list.extend(compiled);
            Ok(())
        })?;
        Ok(ids)
    }

    /// Replaces every endpoint.
    pub fn set_endpoints(&self, defs: Vec<EndpointDef>) -> Result<Vec<String>, LoadError> {
        let compiled = self.compile_new(defs, "endpoints")?;
        let ids = compiled.iter().map(|(_, c)| c.id.to_string()).collect();
        self.install(|list| {
            *list = compiled;
            Ok(())
        })?;
        Ok(ids)
    }

    /// Adds an endpoint or replaces the one with the same id (when given) or else the same method
    /// and path (keeping that endpoint's id). Returns its id and whether one was replaced.
    pub fn upsert_endpoint(&self, mut def: EndpointDef) -> Result<(String, bool), LoadError> {
        let mut replaced = false;
        let mut id = String::new();
        self.install(|list| {
            let by_id = def
                .id
                .as_ref()
                .and_then(|id| list.iter().position(|(d, _)| d.id.as_ref() == Some(id)));
            let position = by_id.or_else(|| {
                list.iter().position(|(d, _)| {
                    d.method == def.method
                        && d.path == def.path
                        && d.match_.path_pattern == def.match_.path_pattern
                })
            });
            if let Some(i) = position
                && def.id.is_none()
            {
                def.id = list[i].0.id.clone();
            }
            let mut compiled = self.compile_new(vec![def.clone()], "endpoint")?;
            let entry = compiled.remove(0);
            id = entry.1.id.to_string();
            match position {
                Some(i) => {
                    list[i] = entry;
                    replaced = true;
                }
                None => list.push(entry),
            }
            Ok(())
        })?;
        Ok((id, replaced))
    }

    /// Replaces the endpoint with this id; `false` when there is none.
    pub fn replace_endpoint(&self, id: &str, mut def: EndpointDef) -> Result<bool, LoadError> {
        def.id = Some(id.to_string());
        let compiled = self.compile_new(vec![def], "endpoint")?;
        let mut found = false;
        self.install(|list| {
            if let Some(slot) = list.iter_mut().find(|(d, _)| d.id.as_deref() == Some(id)) {
                *slot = compiled.into_iter().next().ok_or_else(|| {
                    LoadError::single(DefinitionError::at("endpoint", "nothing compiled"))
                })?;
                found = true;
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Removes the endpoint with this id; `false` when there is none.
    pub fn remove_endpoint(&self, id: &str) -> bool {
        let mut found = false;
        let _ = self.install(|list| {
            let before = list.len();
            list.retain(|(d, _)| d.id.as_deref() != Some(id));
            found = list.len() != before;
            Ok(())
        });
        found
    }

    /// The current state.
    pub fn state(&self) -> Map<String, Value> {
        lock(&self.state).clone()
    }

    /// One state key.
    pub fn state_value(&self, key: &str) -> Option<Value> {
        lock(&self.state).get(key).cloned()
    }

    /// Sets one state key (`None` deletes it).
    pub fn set_state(&self, key: &str, value: Option<Value>) {
        {
            let mut state = lock(&self.state);
            match &value {
                Some(v) => {
                    state.insert(key.to_string(), v.clone());
                }
                None => {
                    state.remove(key);
                }
            }
        }
        if let Some(o) = &self.options.observer {
            o.on_state(self.id, key, value.as_ref());
        }
    }

    /// Replaces the whole state.
    pub fn replace_state(&self, new: Map<String, Value>) {
        let old = std::mem::replace(&mut *lock(&self.state), new.clone());
        if let Some(o) = &self.options.observer {
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                o.on_state(self.id, key, None);
            }
            for (key, value) in &new {
                o.on_state(self.id, key, Some(value));
            }
        }
    }

    /// Goes back to the initial state (the definition's `state` and `initial_value`s).
    pub fn reset_state(&self) {
        self.replace_state(self.initial_state.clone());
    }

    /// The journal, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.journal).entries().cloned().collect()
    }

    /// The newest `limit` journal entries, newest first.
    pub fn recent_requests(&self, limit: usize) -> Vec<JournalEntry> {
        lock(&self.journal)
            .entries()
            .rev()
            .take(limit)
            .cloned()
            .collect()
    }

    /// One journal entry.
    pub fn journal_entry(&self, id: Uuid) -> Option<JournalEntry> {
        lock(&self.journal).entries().find(|e| e.id == id).cloned()
    }

    /// Entries dropped because of the journal cap.
    pub fn journal_dropped(&self) -> u64 {
        lock(&self.journal).dropped()
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        lock(&self.journal).clear();
    }

    /// Requests handled since start.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Checks expectations against the journal.
    pub fn verify(&self, expectations: &[Expectation]) -> VerifyReport {
        let journal = lock(&self.journal);
        journal::verify(journal.entries(), expectations, journal.dropped())
    }

    /// Answers one request. Never panics on input: every problem becomes a response.
    pub async fn handle(&self, request: MockRequest) -> MockOutcome {
        let started = Instant::now();
        let time = Utc::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut note = Note::default();
        let outcome = self.respond(&request, &mut note).await;
        self.log(&request, time, started, &outcome, note);
        outcome
    }

    async fn respond(&self, request: &MockRequest, note: &mut Note) -> MockOutcome {
        if request.body.len() as u64 > self.definition.max_body_bytes {
            note.outcome = "too_large";
            return payload_too_large(self.definition.max_body_bytes);
        }
        if let Some(v) = &self.options.validator
            && let Err(rejection) = v.validate(request)
        {
            note.outcome = "rejected";
            let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
            return MockOutcome::Response(MockResponse::json(
                status,
                &json!({"error": "request does not match the OpenAPI document", "errors": rejection.errors}),
            ));
        }
        if self.definition.mode == MockMode::Record {
            return self.record(request, note).await;
        }
        let endpoints = self.snapshot();
        let mut incoming = Incoming::new(request);
        let mut env = None;
        let mut found = None;
        for endpoint in endpoints.iter() {
            if self.check(endpoint, &mut incoming, &mut env, None) {
                found = Some(endpoint);
                break;
            }
        }
        let chaos = self.draw_chaos();
        let Some(endpoint) = found else {
            if chaos.is_none() {
                if let Some(proxy) = &self.proxy {
                    note.outcome = "proxy";
                    return match proxy.forward(request, false).await {
                        Ok(r) => MockOutcome::Response(r),
                        Err(e) => bad_gateway(&e),
                    };
                }
                note.outcome = "unmatched";
                note.near_misses = self.near_misses(&endpoints, request);
                return not_found(request, &note.near_misses);
            }
            return self.answer_chaos(chaos, incoming, note).await;
        };
        note.endpoint_id = Some(endpoint.id.to_string());
        if chaos.is_some() {
            return self.answer_chaos(chaos, incoming, note).await;
        }
        let count = endpoint.hits.fetch_add(1, Ordering::Relaxed) + 1;
        let (outcome, delay, fault) = {
            let mut state = lock(&self.state);
            if let Some(legacy) = &endpoint.legacy {
                if !state.contains_key(&legacy.key) {
                    state.insert(legacy.key.clone(), legacy.initial.clone());
                }
                if let Some(change) = &legacy.change {
                    let operand = render_operand(change, &incoming, &state, count);
                    if let Some(key) = state::apply_change(&mut state, change, operand) {
                        note.changed.push((key.clone(), state.get(&key).cloned()));
                    }
                }
            }
            let chosen = choose(endpoint, &incoming, &state);
            match chosen {
                Some(response) => {
                    for change in &response.changes {
                        let operand = render_operand(change, &incoming, &state, count);
                        if let Some(key) = state::apply_change(&mut state, change, operand) {
                            note.changed.push((key.clone(), state.get(&key).cloned()));
                        }
                    }
                    let cx = RenderCx {
                        incoming: &incoming,
                        state: &state,
                        request_count: count,
                    };
                    (render(response, &cx), response.delay, fault_of(response))
                }
                None => (
                    MockOutcome::Response(MockResponse::json(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({
                            "error": "no conditional response applies and the endpoint has no default `response`",
                            "endpoint": endpoint.label,
                        }),
                    )),
                    None,
                    None,
                ),
            }
        };
        wait(delay).await;
        match fault {
            Some(f) => MockOutcome::Fault(f),
            None => outcome,
        }
    }

    async fn answer_chaos(
        &self,
        chaos: Option<&CompiledResponse>,
        incoming: Incoming<'_>,
        note: &mut Note,
    ) -> MockOutcome {
        let Some(response) = chaos else {
            return not_found(incoming.req, &[]);
        };
        note.outcome = "chaos";
        let outcome = {
            let mut state = lock(&self.state);
            for change in &response.changes {
                let operand = render_operand(change, &incoming, &state, 0);
                if let Some(key) = state::apply_change(&mut state, change, operand) {
                    note.changed.push((key.clone(), state.get(&key).cloned()));
                }
            }
            let cx = RenderCx {
                incoming: &incoming,
                state: &state,
                request_count: 0,
            };
            render(response, &cx)
        };
        wait(response.delay).await;
        match fault_of(response) {
            Some(f) => MockOutcome::Fault(f),
            None => outcome,
        }
    }

    fn draw_chaos(&self) -> Option<&CompiledResponse> {
        if self.chaos.is_empty() {
            return None;
        }
        let draw: f64 = rand::rng().random_range(0.0..1.0);
        let mut cumulative = 0.0;
        for (p, response) in &self.chaos {
            cumulative += p;
            if draw < cumulative {
                return Some(response);
            }
        }
        None
    }

    async fn record(&self, request: &MockRequest, note: &mut Note) -> MockOutcome {
        note.outcome = "record";
        let Some(proxy) = &self.proxy else {
            return bad_gateway("record mode has no proxy target");
        };
        match proxy.forward(request, true).await {
            Ok(response) => {
                if let Some(recorder) = &self.recorder
                    && let Err(e) = recorder.record(request, &response)
                {
                    tracing::warn!(mock = %self.id, "{e}");
                }
                MockOutcome::Response(response)
            }
            Err(e) => bad_gateway(&e),
        }
    }

    /// Whether `endpoint` matches. With `why`, every failed condition is explained instead of
    /// stopping at the first.
    fn check(
        &self,
        endpoint: &CompiledEndpoint,
        incoming: &mut Incoming,
        env: &mut Option<Map<String, Value>>,
        mut why: Option<&mut Vec<String>>,
    ) -> bool {
        macro_rules! fail {
            ($reason:expr) => {
                match why.as_deref_mut() {
                    Some(w) => w.push($reason),
                    None => return false,
                }
            };
        }
        let req = incoming.req;
        incoming.params.clear();
        if let Some(m) = &endpoint.method
            && *m != req.method
        {
            fail!(format!("method: expected {m}, got {}", req.method));
        }
        if !endpoint.path.matches(&req.path, &mut incoming.params) {
            fail!(endpoint.path.explain(&req.path));
        }
        for q in &endpoint.query {
            if !q.is_match(incoming) {
                fail!(q.check(incoming).err().unwrap_or_default());
            }
        }
        for h in &endpoint.headers {
            if !h.is_match(incoming) {
                fail!(h.check(incoming).err().unwrap_or_default());
            }
        }
        if let Some(b) = &endpoint.body_equals
            && !b.is_match(incoming)
        {
            fail!(b.check(incoming).err().unwrap_or_default());
        }
        if let Some(want) = &endpoint.body_partial
            && !incoming.json().is_some_and(|got| is_subset(want, got))
        {
            fail!(check_partial(want, incoming).err().unwrap_or_default());
        }
        if let Some((re, shown)) = &endpoint.body_pattern
            && !re.is_match(&req.body)
        {
            fail!(format!("body: does not match regex {shown}"));
        }
        if !endpoint.body_matches.is_empty() {
            let env = env.get_or_insert_with(|| incoming.env(&lock(&self.state)));
            // Path parameters differ per endpoint.
            let params: Map<String, Value> = incoming
                .params
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                .collect();
            env.insert("path".into(), Value::Object(params));
            for e in &endpoint.body_matches {
                match e.eval_bool(&*env) {
                    Ok(true) => {}
                    Ok(false) => fail!(format!("body_matches `{}` is false", e.source())),
                    Err(err) => fail!(format!("body_matches `{}`: {err}", e.source())),
                }
            }
        }
        why.is_none_or(|w| w.is_empty())
    }

    fn near_misses(
        &self,
        endpoints: &[Arc<CompiledEndpoint>],
        request: &MockRequest,
    ) -> Vec<NearMiss> {
        let mut incoming = Incoming::new(request);
        let mut env = None;
        let mut scored: Vec<(usize, usize, NearMiss)> = Vec::new();
        for (order, endpoint) in endpoints.iter().enumerate() {
            let mut reasons = Vec::new();
            self.check(endpoint, &mut incoming, &mut env, Some(&mut reasons));
            if reasons.is_empty() {
                continue;
            }
            // A wrong path weighs more than any other difference.
            let score =
                reasons.len() + reasons.iter().filter(|r| r.starts_with("path:")).count() * 10;
            scored.push((
                score,
                order,
                NearMiss {
                    endpoint: endpoint.label.clone(),
                    endpoint_id: endpoint.id.to_string(),
                    reasons,
                },
            ));
        }
        scored.sort_by_key(|(score, order, _)| (*score, *order));
        scored
            .into_iter()
            .take(CLOSEST)
            .map(|(_, _, m)| m)
            .collect()
    }

    pub(crate) fn journal_oversized(&self, request: &MockRequest) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let note = Note {
            outcome: "too_large",
            ..Note::default()
        };
        let outcome = payload_too_large(self.definition.max_body_bytes);
        self.log(request, Utc::now(), Instant::now(), &outcome, note);
    }

    fn log(
        &self,
        request: &MockRequest,
        time: chrono::DateTime<Utc>,
        started: Instant,
        outcome: &MockOutcome,
        note: Note,
    ) {
        let cap = self.definition.journal.max_body_bytes;
        let (body, body_truncated) = if request.body.len() > cap {
            let cut = &request.body[..cap];
            (String::from_utf8_lossy(cut).into_owned(), true)
        } else {
            (request.body_text().into_owned(), false)
        };
        let (response_body, response_body_truncated) = match outcome {
            MockOutcome::Response(r) => {
                let cut = &r.body[..r.body.len().min(cap)];
                let text = match std::str::from_utf8(cut) {
                    Ok(text) => text.to_string(),
                    // Cut through a character: keep the whole ones.
                    Err(e) if e.error_len().is_none() => {
                        String::from_utf8_lossy(&cut[..e.valid_up_to()]).into_owned()
                    }
                    Err(_) => base64::engine::general_purpose::STANDARD.encode(cut),
                };
                (text, r.body.len() > cap)
            }
            MockOutcome::Fault(_) => (String::new(), false),
        };
        let entry = JournalEntry {
            id: Uuid::new_v4(),
            time,
            method: request.method.to_string(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
            body_truncated,
            remote: request.remote.map(|a| a.to_string()),
            endpoint_id: note.endpoint_id,
            status: outcome.status(),
            response_headers: match outcome {
                MockOutcome::Response(r) => r
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                MockOutcome::Fault(_) => Vec::new(),
            },
            response_body,
            response_body_truncated,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            outcome: note.outcome,
            fault: match outcome {
                MockOutcome::Fault(f) => Some(f.as_str()),
                MockOutcome::Response(_) => None,
            },
            near_misses: note.near_misses,
        };
        if let Some(o) = &self.options.observer {
            o.on_request(self.id, &entry);
            for (key, value) in &note.changed {
                o.on_state(self.id, key, value.as_ref());
            }
        }
        lock(&self.journal).push(entry);
    }
}

/// What `respond` found out, for the journal.
struct Note {
    endpoint_id: Option<String>,
    outcome: &'static str,
    near_misses: Vec<NearMiss>,
    changed: Vec<(String, Option<Value>)>,
}

impl Default for Note {
    fn default() -> Self {
        Note {
            endpoint_id: None,
            outcome: "endpoint",
            near_misses: Vec::new(),
            changed: Vec::new(),
        }
    }
}

fn duplicate_id<'a>(defs: impl Iterator<Item = &'a EndpointDef>) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for d in defs {
        if let Some(id) = &d.id
            && !seen.insert(id.as_str())
        {
            return Some(id.clone());
        }
    }
    None
}

fn seed_legacy(state: &mut Map<String, Value>, endpoint: &CompiledEndpoint) {
    if let Some(l) = &endpoint.legacy
        && !state.contains_key(&l.key)
    {
        state.insert(l.key.clone(), l.initial.clone());
    }
}

fn render_operand(
    change: &compile::CompiledChange,
    incoming: &Incoming,
    state: &Map<String, Value>,
    count: u64,
) -> Option<Value> {
    let cx = RenderCx {
        incoming,
        state,
        request_count: count,
    };
    change.value.as_ref().map(|v| v.render(&cx))
}

/// The first conditional response whose `when` holds, else the default.
fn choose<'e>(
    endpoint: &'e CompiledEndpoint,
    incoming: &Incoming,
    state: &Map<String, Value>,
) -> Option<&'e CompiledResponse> {
    if !endpoint.responses.is_empty() {
        let mut env = None;
        for (when, response) in &endpoint.responses {
            match when {
                None => return Some(response),
                Some(expr) => {
                    let env = env.get_or_insert_with(|| incoming.env(state));
                    if expr.eval_bool(&*env).unwrap_or(false) {
                        return Some(response);
                    }
                }
            }
        }
    }
    endpoint.default.as_ref()
}

fn fault_of(response: &CompiledResponse) -> Option<Fault> {
    if response.hang {
        Some(Fault::Hang)
    } else if response.close {
        Some(Fault::CloseConnection)
    } else {
        None
    }
}

async fn wait(delay: Option<DelayDef>) {
    let duration = match delay {
        None => return,
        Some(DelayDef::Fixed(d)) => d,
        Some(DelayDef::Range { min, max }) => {
            let lo = min.as_nanos() as u64;
            let hi = (max.as_nanos() as u64).max(lo);
            Duration::from_nanos(rand::rng().random_range(lo..=hi))
        }
    };
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

fn render(response: &CompiledResponse, cx: &RenderCx) -> MockOutcome {
    let mut headers = HeaderMap::with_capacity(response.headers.len() + 1);
    for (name, value) in &response.headers {
        match value {
            HeaderTemplate::Static(v) => {
                headers.append(name.clone(), v.clone());
            }
            HeaderTemplate::Template(t) => {
                let text = t.render(cx);
                let value = HeaderValue::from_str(&text).unwrap_or_else(|_| {
                    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                    HeaderValue::from_str(&clean).unwrap_or(HeaderValue::from_static(""))
                });
                headers.append(name.clone(), value);
            }
        }
    }
    if let Some(ct) = &response.content_type {
        headers.insert(header::CONTENT_TYPE, ct.clone());
    }
    let body = match &response.body {
        BodyTemplate::Static(b) => b.clone(),
        BodyTemplate::Text(t) => Bytes::from(t.render(cx)),
        BodyTemplate::Json(t) => {
            let mut out = Vec::with_capacity(256);
            t.write_json(cx, &mut out);
            Bytes::from(out)
        }
    };
    MockOutcome::Response(MockResponse {
        status: response.status,
        headers,
        body,
    })
}

/// The 413 answer for a body above `max` bytes.
pub(crate) fn payload_too_large(max: u64) -> MockOutcome {
    MockOutcome::Response(MockResponse::json(
        StatusCode::PAYLOAD_TOO_LARGE,
        &json!({"error": format!("the request body is larger than {max} bytes")}),
    ))
}

fn bad_gateway(message: &str) -> MockOutcome {
    MockOutcome::Response(MockResponse::json(
        StatusCode::BAD_GATEWAY,
        &json!({"error": message}),
    ))
}

fn not_found(request: &MockRequest, closest: &[NearMiss]) -> MockOutcome {
    let closest: Vec<Value> = closest
        .iter()
        .map(
            |m| json!({"endpoint": m.endpoint, "endpoint_id": m.endpoint_id, "reasons": m.reasons}),
        )
        .collect();
    MockOutcome::Response(MockResponse::json(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "no endpoint matched",
            "method": request.method.as_str(),
            "path": request.path,
            "closest": closest,
        }),
    ))
}
