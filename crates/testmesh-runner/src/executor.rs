//! Runs flows: phases, steps, attempts with retries and timeouts, assertions, outputs, and control flow.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use futures::future::BoxFuture;
use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh_flow::decode::Tpl;
use testmesh_flow::interpolate::{
    InterpolateError, Reference, RenderOptions, Scope, SystemInfo, Template, VariableSources,
    render_str_with, resolve_output,
};
use testmesh_flow::model::Phase;
use testmesh_flow::model::actions::{
    ConditionConfig, ForEachConfig, MOCK_TEMPLATE_ROOTS, ParallelConfig, RunFlowConfig,
    WaitUntilConfig, is_deferred,
};
use testmesh_flow::model::step::{Assertion, Backoff, OnFailure, Retry};
use testmesh_flow::validate::normalize_path;
use testmesh_flow::yaml::{Entry, Node, NodeKind};
use testmesh_flow::{Action, ActionKind, Flow, Step};
use tokio_util::sync::CancellationToken;

use crate::env::StepEnv;
use crate::events::{Event, EventSink};
use crate::exchanges::{HttpExchangeLog, RecordedExchange};
use crate::handler::{ActionCx, FlowState, Outcome, Registry};
use crate::record::{
    AssertionRecord, ErrorKind, FlowRecord, FlowStatus, StepError, StepRecord, StepStatus,
};
use crate::secrets::Secrets;

/// Most iterations of a loop without `max_iterations` (a guard against runaway ranges).
const DEFAULT_MAX_ITERATIONS: usize = 100_000;

/// Flows that `run_flow` can call, by path and by name.
#[derive(Default)]
pub struct FlowLibrary {
    by_path: HashMap<PathBuf, Arc<Flow>>,
    by_name: HashMap<String, PathBuf>,
}

impl FlowLibrary {
    /// Adds a loaded flow.
    pub fn add(&mut self, path: &Path, flow: Arc<Flow>) {
        let path = normalize_path(path);
        if !flow.name.is_empty() {
            self.by_name.insert(flow.name.clone(), path.clone());
        }
        self.by_path.insert(path, flow);
    }

    fn find(&self, target: &str, from_dir: &Path) -> Option<(PathBuf, Arc<Flow>)> {
        let by_path = normalize_path(&from_dir.join(target));
        if let Some(flow) = self.by_path.get(&by_path) {
            return Some((by_path, flow.clone()));
        }
        let path = self.by_name.get(target)?;
        self.by_path.get(path).map(|f| (path.clone(), f.clone()))
    }
}

/// Settings of one run that are not in the flow.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Variables from the environment, `--env-file` and `--var` (the flow's `env:` is added per flow).
    pub variables: VariableSources,
    /// Overrides the flows' `config.fail_fast`.
    pub fail_fast: Option<bool>,
    /// Overrides (caps) the flows' `config.timeout`.
    pub timeout: Option<Duration>,
    /// Drop the request, response and result of passed steps that exchanged messages (HTTP, SQL)
    /// from their records; failed steps keep theirs. What a run without a JSON report needs, at a
    /// fraction of the memory.
    pub lean_records: bool,
    /// Cancels the run when triggered: the step running finishes, every step left (setup, main and
    /// `on_error`, nested steps included) is recorded as skipped with the reason `cancelled`, no
    /// retry or `wait_until` check starts, teardown still runs, and the record is `cancelled`.
    pub cancel: Option<CancellationToken>,
    /// The id for the run's record and events (a queued execution's id, say); a new UUID when
    /// `None`. Flows called with `run_flow` always get their own.
    pub execution_id: Option<String>,
    /// Values masked in this run's records besides the runner's own secrets (an environment's
    /// secret values, say).
    pub secrets: Secrets,
}

/// Runs flows. Cheap to share: clone the `Arc`s.
pub struct Runner {
    registry: Arc<Registry>,
    events: Arc<dyn EventSink>,
    secrets: Secrets,
    library: Arc<FlowLibrary>,
}

impl Runner {
    /// A runner with the given actions, event sink, secrets and callable flows.
    pub fn new(
        registry: Registry,
        events: Arc<dyn EventSink>,
        secrets: Secrets,
        library: FlowLibrary,
    ) -> Self {
        Runner {
            registry: Arc::new(registry),
            events,
            secrets,
            library: Arc::new(library),
        }
    }

    /// A runner with the same events, secrets and callable flows and its own actions. Connections
    /// and pools belong to the runtime that opened them, so a runner on another runtime (another
    /// job thread) needs actions of its own.
    pub fn with_actions(&self, registry: Registry) -> Self {
        Runner {
            registry: Arc::new(registry),
            events: self.events.clone(),
            secrets: self.secrets.clone(),
            library: self.library.clone(),
        }
    }

    /// The secrets this runner masks.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Runs one flow to completion and returns its record. Never panics on flow content; every
    /// problem becomes a failed step or a failed flow.
    pub async fn run(&self, flow: &Flow, path: Option<&Path>, options: &RunOptions) -> FlowRecord {
        let execution_id = options
            .execution_id
            .clone()
            .unwrap_or_else(new_execution_id);
        let scope = flow_scope(flow, &execution_id, options.variables.clone());
        let stack = path.map(normalize_path).into_iter().collect();
        self.run_with(flow, path, options, scope, execution_id, stack, true)
            .await
    }

    /// Runs a flow; `top_level` is false for a flow called by `run_flow`, whose run is part of the
    /// calling step (its steps are that step's children) and so is not announced as a flow.
    #[allow(clippy::too_many_arguments)]
    fn run_with<'a>(
        &'a self,
        flow: &'a Flow,
        path: Option<&'a Path>,
        options: &'a RunOptions,
        scope: Scope,
        execution_id: String,
        stack: Vec<PathBuf>,
        top_level: bool,
    ) -> BoxFuture<'a, FlowRecord> {
        Box::pin(async move {
            let started = Instant::now();
            let started_at = Utc::now();
            let flow_config = flow.config.as_ref();
            let timeout = literal(flow_config.and_then(|c| c.timeout.as_ref()))
                .map(|t| options.timeout.map_or(t, |o| o.min(t)))
                .or(options.timeout);
            let state = Arc::new(FlowState::default());
            let exchange_log =
                builds_contract(flow).then(|| state.get_or_init(HttpExchangeLog::default));
            let run = FlowRun {
                runner: self,
                secrets: self.secrets.with(&options.secrets),
                cancellable: true,
                execution_id: execution_id.clone(),
                flow_dir: path
                    .and_then(Path::parent)
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                deadline: timeout.map(|t| started + t),
                state: state.clone(),
                exchange_log,
                default_retry: flow_config
                    .and_then(|c| c.retry.clone())
                    .filter(|r| literal(r.enabled.as_ref()) != Some(false)),
                fail_fast: options
                    .fail_fast
                    .or_else(|| literal(flow_config.and_then(|c| c.fail_fast.as_ref())))
                    .unwrap_or(true),
                options,
                stack,
                flow,
                producers: OnceLock::new(),
                referenced: referenced_roots(flow),
            };
            let total_steps = flow.phases().map(|(_, s)| s.len()).sum();
            if top_level {
                self.events.on_event(Event::FlowStarted {
                    execution_id: &execution_id,
                    name: &flow.name,
                    total_steps,
                });
            }
            let scope = Mutex::new(scope);
            let mut records = Vec::new();
            let mut first_error: Option<String> = None;

            let setup = run
                .phase(
                    Phase::Setup,
                    flow.phase(Phase::Setup),
                    &scope,
                    &mut records,
                    true,
                )
                .await;
            let mut failed = setup.is_some();
            first_error = first_error.or(setup);
            if failed {
                run.skip_all(
                    Phase::Main,
                    flow.phase(Phase::Main),
                    "setup failed",
                    &mut records,
                );
            } else {
                let main = run
                    .phase(
                        Phase::Main,
                        flow.phase(Phase::Main),
                        &scope,
                        &mut records,
                        run.fail_fast,
                    )
                    .await;
                failed = main.is_some();
                first_error = first_error.or(main);
            }
            if failed {
                // Flow-level error handlers; their own failures are recorded but do not hide the cause.
                run.phase(
                    Phase::OnError,
                    flow.phase(Phase::OnError),
                    &scope,
                    &mut records,
                    false,
                )
                .await;
            } else {
                run.skip_all(
                    Phase::OnError,
                    flow.phase(Phase::OnError),
                    "the flow did not fail",
                    &mut records,
                );
            }
            // Teardown always runs, even after a timeout or a cancellation.
            let cancelled = run.cancelled();
            let teardown_run = FlowRun {
                deadline: None,
                cancellable: false,
                ..run
            };
            let teardown = teardown_run
                .phase(
                    Phase::Teardown,
                    flow.phase(Phase::Teardown),
                    &scope,
                    &mut records,
                    false,
                )
                .await;
            if let (Some(err), None) = (teardown, &first_error) {
                failed = true;
                first_error = Some(err);
            }

            if cancelled {
                failed = true;
                first_error.get_or_insert_with(|| "cancelled".to_string());
            }
            let scope = scope.into_inner().unwrap_or_else(|e| e.into_inner());
            let secrets = &teardown_run.secrets;
            let outputs = flow_outputs(flow, &scope)
                .into_iter()
                .map(|(k, v)| (k, masked(secrets, v)))
                .collect();
            let first_error = first_error.map(|e| secrets.mask_str(&e));
            let record = FlowRecord {
                execution_id,
                name: flow.name.clone(),
                path: path.map(|p| p.display().to_string()),
                suite: flow.suite.clone(),
                tags: flow.tags.iter().map(|t| t.value.clone()).collect(),
                status: if failed {
                    FlowStatus::Failed
                } else {
                    FlowStatus::Passed
                },
                started_at,
                duration: started.elapsed(),
                steps: records,
                error: first_error,
                cancelled,
                outputs,
            };
            if top_level {
                self.events
                    .on_event(Event::FlowFinished { record: &record });
            }
            record
        })
    }
}

/// A run's id: a UUIDv7, time-ordered, so the history's indexes on execution ids grow at their end.
fn new_execution_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The scope of a flow run: system variables and the variable sources in their precedence order.
fn flow_scope(flow: &Flow, execution_id: &str, mut variables: VariableSources) -> Scope {
    variables.flow_env = flow.env.clone();
    Scope::for_run(
        SystemInfo {
            flow_id: flow.name.clone(),
            flow_name: flow.name.clone(),
            execution_id: execution_id.to_string(),
        },
        variables,
    )
}

/// Step ids and output names of a flow (nested steps included), mapped to the producing step.
fn producers(flow: &Flow) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (_, steps) in flow.phases() {
        Step::walk(steps, &mut |step| {
            out.insert(step.id.clone(), step.id.clone());
            for name in step.output.keys() {
                out.entry(name.clone()).or_insert_with(|| step.id.clone());
            }
        });
    }
    out
}

/// Whether a step of the flow generates a contract (from the run's HTTP exchanges).
fn builds_contract(flow: &Flow) -> bool {
    let mut found = false;
    for (_, steps) in flow.phases() {
        Step::walk(steps, &mut |step| {
            found |= step.kind == Some(ActionKind::ContractGenerate);
        });
    }
    found
}

/// Every root name read by the flow's templates and expressions.
fn referenced_roots(flow: &Flow) -> HashSet<String> {
    let mut out = HashSet::new();
    // Most references repeat a few names (`BASE_URL`, `status`, `body`): a name is copied once.
    let mut add = |root: &str| {
        if !out.contains(root) {
            out.insert(root.to_string());
        }
    };
    for (_, steps) in flow.phases() {
        Step::walk(steps, &mut |step| {
            for_each_config_reference(&step.config, &mut |r| add(&r.root));
            let mut expressions: Vec<&testmesh_flow::expr::Expr> = Vec::new();
            expressions.extend(step.when.as_ref().map(|c| &c.expr));
            expressions.extend(
                step.assert
                    .iter()
                    .chain(&step.assert_any)
                    .chain(&step.assert_none)
                    .map(|a| &a.expr),
            );
            if let Some(retry) = &step.retry {
                expressions.extend(
                    retry
                        .retry_on
                        .0
                        .iter()
                        .chain(&retry.retry_on_not.0)
                        .map(|c| &c.expr),
                );
            }
            match &step.action {
                Some(Action::Condition(c)) => expressions.push(&c.condition.expr),
                Some(Action::WaitUntil(c)) => expressions.push(&c.condition.expr),
                _ => {}
            }
            for expression in expressions {
                expression.for_each_root(&mut add);
            }
        });
    }
    out
}

/// Calls `f` with every `${…}` / `{{…}}` reference in a config tree's strings.
fn for_each_config_reference(node: &Node, f: &mut dyn FnMut(&Reference)) {
    match &node.kind {
        NodeKind::Str(text) if text.contains("${") || text.contains("{{") => {
            if let Ok(template) = Template::parse(text) {
                for reference in template.references() {
                    f(reference);
                }
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|n| for_each_config_reference(n, f)),
        NodeKind::Map(entries) => entries
            .iter()
            .for_each(|e| for_each_config_reference(&e.value, f)),
        _ => {}
    }
}

/// Every `${…}` / `{{…}}` reference in a step's config strings (nested steps included).
fn config_references(step: &Step) -> Vec<Reference> {
    let mut out = Vec::new();
    for_each_config_reference(&step.config, &mut |r| out.push(r.clone()));
    out
}

/// Every named output of the flow's steps, by name; later steps win.
fn flow_outputs(flow: &Flow, scope: &Scope) -> IndexMap<String, Value> {
    let mut out = IndexMap::new();
    for (_, steps) in flow.phases() {
        for step in steps {
            for name in step.output.keys() {
                if let Some(value) = scope.outputs().get(&step.id).and_then(|o| o.get(name)) {
                    out.insert(name.clone(), value.clone());
                }
            }
        }
    }
    out
}

fn literal<T: Copy>(value: Option<&Tpl<T>>) -> Option<T> {
    value.and_then(|v| v.literal()).copied()
}

/// One flow execution in progress.
struct FlowRun<'r> {
    runner: &'r Runner,
    /// The runner's secrets and the run's.
    secrets: Secrets,
    /// False for teardown, which runs even when the run is cancelled.
    cancellable: bool,
    execution_id: String,
    flow_dir: PathBuf,
    deadline: Option<Instant>,
    state: Arc<FlowState>,
    default_retry: Option<Retry>,
    fail_fast: bool,
    options: &'r RunOptions,
    /// Flow files being run, outermost first, for `run_flow` cycle detection.
    stack: Vec<PathBuf>,
    flow: &'r Flow,
    /// Step ids and output names of this flow, mapped to the step that produces them (worked out
    /// only when a step's config fails to render).
    producers: OnceLock<HashMap<String, String>>,
    /// Names some template or expression of the flow reads: only these steps' whole results are
    /// kept for later steps (named outputs always are), so long flows do not hold every response.
    referenced: HashSet<String>,
    /// The run's HTTP exchanges, kept when the flow builds a contract from them.
    exchange_log: Option<Arc<HttpExchangeLog>>,
}

/// How a list of steps ended.
struct StepsOutcome {
    records: Vec<StepRecord>,
    /// The first failure that stopped (or would stop) the list: `(step id, action, message)`.
    failure: Option<(String, String, String)>,
}

impl FlowRun<'_> {
    /// Keeps a passed `http_request` step's exchange for `contract_generate`.
    fn record_exchange(&self, step: &Step, request: Value, response: Value) {
        if let Some(log) = &self.exchange_log {
            log.push(RecordedExchange {
                step_id: step.id.clone(),
                step_name: step.name.clone(),
                hints: step.contract.clone(),
                request,
                response,
            });
        }
    }

    /// True once the run was cancelled (never during teardown).
    fn cancelled(&self) -> bool {
        self.cancellable
            && self
                .options
                .cancel
                .as_ref()
                .is_some_and(CancellationToken::is_cancelled)
    }

    /// Sleeps for `duration`, cut short by a cancellation; false when the run was cancelled.
    async fn pause(&self, duration: Duration) -> bool {
        match self.options.cancel.as_ref().filter(|_| self.cancellable) {
            Some(cancel) => {
                tokio::select! {
                    () = cancel.cancelled() => false,
                    () = tokio::time::sleep(duration) => true,
                }
            }
            None => {
                tokio::time::sleep(duration).await;
                true
            }
        }
    }

    /// The record of a step skipped without running, reported like a finished step.
    fn skip(&self, step: &Step, reason: &str, depth: usize) -> StepRecord {
        let record = StepRecord::skipped(&step.id, step.name.as_deref(), &step.action_name, reason);
        self.runner.events.on_event(Event::StepFinished {
            execution_id: &self.execution_id,
            record: &record,
            depth,
        });
        record
    }

    /// Records every step of a phase that does not run as skipped.
    fn skip_all(&self, phase: Phase, steps: &[Step], reason: &str, records: &mut Vec<StepRecord>) {
        records.extend(steps.iter().map(|step| StepRecord {
            phase: Some(phase),
            ..self.skip(step, reason, 0)
        }));
    }

    /// Runs a phase; returns the flow error when a step failed.
    async fn phase(
        &self,
        phase: Phase,
        steps: &[Step],
        scope: &Mutex<Scope>,
        records: &mut Vec<StepRecord>,
        stop_on_failure: bool,
    ) -> Option<String> {
        let mut outcome = self.run_steps(steps, scope, 0, stop_on_failure).await;
        for record in &mut outcome.records {
            record.phase = Some(phase);
        }
        if records.is_empty() {
            // (Most flows have one phase: take its records rather than copy them.)
            *records = outcome.records;
        } else {
            records.extend(outcome.records);
        }
        outcome.failure.map(|(id, action, message)| {
            format!("[{}] step '{id}' ({action}): {message}", phase.name())
        })
    }

    /// Runs steps in order. With `stop_on_failure`, the steps after a failure are recorded as skipped.
    fn run_steps<'a>(
        &'a self,
        steps: &'a [Step],
        scope: &'a Mutex<Scope>,
        depth: usize,
        stop_on_failure: bool,
    ) -> BoxFuture<'a, StepsOutcome> {
        Box::pin(async move {
            let mut records = Vec::with_capacity(steps.len());
            let mut failure = None;
            for step in steps {
                if failure.is_some() && stop_on_failure {
                    records.push(self.skip(step, "an earlier step failed", depth));
                    continue;
                }
                if self.cancelled() {
                    records.push(self.skip(step, "cancelled", depth));
                    continue;
                }
                if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    records.push(self.skip(step, "the flow timed out", depth));
                    failure.get_or_insert((
                        step.id.clone(),
                        step.action_name.clone(),
                        "the flow timed out".to_string(),
                    ));
                    continue;
                }
                let record = self.run_step(step, scope, depth).await;
                if record.status == StepStatus::Failed && !record.continued && failure.is_none() {
                    let message = record
                        .error
                        .as_ref()
                        .map(|e| e.message.clone())
                        .unwrap_or_default();
                    failure = Some((step.id.clone(), step.action_name.clone(), message));
                }
                records.push(record);
            }
            StepsOutcome { records, failure }
        })
    }

    /// Runs one step: `disabled`/`when`, attempts with retries, outputs, `error_steps`, `on_error`.
    /// (Boxed: steps nest through control flow, and a boxed future breaks the recursive type.)
    fn run_step<'a>(
        &'a self,
        step: &'a Step,
        scope: &'a Mutex<Scope>,
        depth: usize,
    ) -> BoxFuture<'a, StepRecord> {
        Box::pin(async move {
            let events = &self.runner.events;
            events.on_event(Event::StepStarted {
                execution_id: &self.execution_id,
                step_id: &step.id,
                name: step.name.as_deref(),
                action: &step.action_name,
                depth,
            });
            let record = self.run_step_inner(step, scope, depth).await;
            events.on_event(Event::StepFinished {
                execution_id: &self.execution_id,
                record: &record,
                depth,
            });
            record
        })
    }

    async fn run_step_inner(&self, step: &Step, scope: &Mutex<Scope>, depth: usize) -> StepRecord {
        if step.disabled {
            return StepRecord::skipped(
                &step.id,
                step.name.as_deref(),
                &step.action_name,
                "disabled",
            );
        }
        if let Some(when) = &step.when {
            let holds = {
                let scope = lock(scope);
                when.expr.eval_bool(&StepEnv::variables(&scope))
            };
            match holds {
                Ok(true) => {}
                Ok(false) => {
                    return StepRecord::skipped(
                        &step.id,
                        step.name.as_deref(),
                        &step.action_name,
                        format!("`when: {}` is false", when.expr.source()),
                    );
                }
                // A name that is not there (usually a step that was skipped or failed) cannot satisfy
                // the condition; typos are caught by `validate` before the run.
                Err(err @ testmesh_flow::expr::EvalError::UnknownName { .. }) => {
                    return StepRecord::skipped(
                        &step.id,
                        step.name.as_deref(),
                        &step.action_name,
                        format!("`when: {}` cannot hold: {err}", when.expr.source()),
                    );
                }
                Err(err) => {
                    let mut record =
                        StepRecord::skipped(&step.id, step.name.as_deref(), &step.action_name, "");
                    record.skip_reason = None;
                    record.status = StepStatus::Failed;
                    record.error = Some(StepError::config(format!(
                        "`when: {}`: {err}",
                        when.expr.source()
                    )));
                    return self.after_failure(step, scope, depth, record).await;
                }
            }
        }

        let started = Instant::now();
        let started_at = Utc::now();
        let retry = step.retry.as_ref().or(self.default_retry.as_ref());
        let policy = RetryPolicy::of(retry);
        let mut attempt = 0u32;
        let mut had_failure = false;
        let mut delay = policy.delay;
        let (mut outcome, assertions, error, children) = loop {
            attempt += 1;
            let result = self.attempt(step, scope, depth).await;
            let failed = result.error.is_some();
            let retry_allowed = failed
                && attempt < policy.max_attempts
                && result.error.as_ref().is_some_and(|e| {
                    e.kind != ErrorKind::Config && e.kind != ErrorKind::Unsupported
                })
                && policy.should_retry(retry, &result, &lock(scope))
                && !self.cancelled();
            let wait = match self.deadline {
                Some(d) => delay.min(d.saturating_duration_since(Instant::now())),
                None => delay,
            };
            // (A cancellation during the wait ends the step with the failure it had.)
            if !retry_allowed || !self.pause(wait).await {
                break (
                    result.outcome,
                    result.assertions,
                    result.error,
                    result.children,
                );
            }
            had_failure = true;
            delay = policy.next_delay(delay, attempt);
        };

        // A step that needs the result of a step that did not pass is skipped, not failed: the cause
        // is already reported once (a teardown stopping a server that never started, say).
        if error.as_ref().is_some_and(|e| e.kind == ErrorKind::Config)
            && let Some(needed) = self.missing_producer(step, &lock(scope))
        {
            return StepRecord::skipped(
                &step.id,
                step.name.as_deref(),
                &step.action_name,
                format!("needs `{needed}`, which did not pass"),
            );
        }
        let secrets = &self.secrets;
        // Lean records drop a passed step's exchange, so do not copy and mask it only to drop it; a
        // result without a response (a log message, a transform) is small and is what the console
        // shows, so it stays.
        let lean = self.options.lean_records
            && error.is_none()
            && outcome.as_ref().is_some_and(|o| o.exchange.is_some());
        let record_exchange = error.is_none()
            && step.kind == Some(ActionKind::HttpRequest)
            && self.exchange_log.is_some();
        if lean
            && record_exchange
            && let Some(o) = outcome.as_mut()
            && let Some(build) = o.exchange.take()
        {
            let e = build(&o.result);
            self.record_exchange(
                step,
                masked(secrets, e.request),
                masked(secrets, e.response),
            );
        }
        let (request, response, result_copy) = match outcome.as_mut() {
            Some(o) if !lean => {
                let exchange = o.exchange.take().map(|build| build(&o.result));
                let (request, response) = exchange.map_or((None, None), |e| {
                    (
                        Some(masked(secrets, e.request)),
                        Some(masked(secrets, e.response)),
                    )
                });
                if record_exchange && let (Some(request), Some(response)) = (&request, &response) {
                    self.record_exchange(step, request.clone(), response.clone());
                }
                (request, response, Some(masked(secrets, o.result.clone())))
            }
            // A passed HTTP step of a lean run still says what it called and what came back, so
            // the history can tell which operations a run exercised (`testmesh coverage
            // --from-history`).
            Some(o) if step.kind == Some(ActionKind::HttpRequest) => {
                let field = |name: &str| o.result.get(name).cloned().unwrap_or(Value::Null);
                (
                    Some(masked(
                        secrets,
                        json!({"method": field("method"), "url": field("url")}),
                    )),
                    Some(json!({"status": field("status")})),
                    None,
                )
            }
            _ => (None, None, None),
        };
        let mut record = StepRecord {
            id: step.id.clone(),
            phase: None,
            name: step.name.clone(),
            action: step.action_name.clone(),
            status: if error.is_some() {
                StepStatus::Failed
            } else {
                StepStatus::Passed
            },
            attempts: attempt,
            flaky: had_failure && error.is_none(),
            started_at,
            duration: started.elapsed(),
            request,
            response,
            result: result_copy,
            outputs: IndexMap::new(),
            assertions,
            error,
            skip_reason: None,
            continued: false,
            children,
        };
        if let Some(error) = &mut record.error {
            error.message = secrets.mask_str(&error.message);
            if attempt > 1 {
                error.message = format!("failed after {attempt} attempts: {}", error.message);
            }
            return self.after_failure(step, scope, depth, record).await;
        }
        let result = outcome.map(|o| o.result).unwrap_or(Value::Null);
        let outputs: IndexMap<String, Value> = step
            .output
            .iter()
            .map(|(name, path)| (name.clone(), resolve_output(&result, &path.value, &step.id)))
            .collect();
        let kept = if self.referenced.contains(&step.id) {
            result
        } else {
            Value::Null
        };
        lock(scope).record_step(&step.id, kept, &outputs);
        record.outputs = outputs
            .into_iter()
            .map(|(k, v)| (k, masked(secrets, v)))
            .collect();
        record
    }

    /// The step of this flow whose result a reference in `step`'s config needs but that has not
    /// recorded one.
    fn missing_producer(&self, step: &Step, scope: &Scope) -> Option<String> {
        config_references(step)
            .into_iter()
            .filter(|r| r.default.is_none())
            .find_map(|r| {
                let producer = self
                    .producers
                    .get_or_init(|| producers(self.flow))
                    .get(&r.root)?;
                let available =
                    scope.outputs().contains_key(&r.root) || scope.lookup_var(&r.root).is_some();
                (!available).then(|| producer.clone())
            })
    }

    /// Runs `error_steps` (with `error` visible to them) and applies `on_error`.
    async fn after_failure(
        &self,
        step: &Step,
        scope: &Mutex<Scope>,
        depth: usize,
        mut record: StepRecord,
    ) -> StepRecord {
        let timed_out = record
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Timeout);
        if !step.error_steps.is_empty() {
            let error = json!({
                "message": record.error.as_ref().map(|e| e.message.clone()),
                "kind": record.error.as_ref().map(|e| e.kind),
                "step": step.id,
            });
            let mut layer = IndexMap::new();
            layer.insert("error".to_string(), error);
            lock(scope).push_layer(layer);
            let handled = self
                .run_steps(&step.error_steps, scope, depth + 1, true)
                .await;
            lock(scope).pop_layer();
            record.children.extend(handled.records);
        }
        let policy = if timed_out {
            step.on_timeout.unwrap_or(step.on_error)
        } else {
            step.on_error
        };
        record.continued = policy == OnFailure::Continue;
        record
    }

    /// One attempt: render, decode, run with the time limit, evaluate assertions.
    async fn attempt(&self, step: &Step, scope: &Mutex<Scope>, depth: usize) -> Attempt {
        let Some(kind) = step.kind else {
            return Attempt::failed(StepError::new(
                ErrorKind::Config,
                format!("unknown action type: {}", step.action_name),
            ));
        };
        let action = match self.render(step, kind, scope) {
            Ok(action) => action,
            Err(err) => return Attempt::failed(err),
        };
        let limit = self.time_limit(step);
        let run = self.perform(step, &action, scope, depth, limit);
        let (outcome, children) = match limit {
            Some(limit) => match tokio::time::timeout(limit, run).await {
                Ok(result) => result,
                Err(_) => {
                    let what = if self.deadline.is_some_and(|d| Instant::now() >= d) {
                        "the flow's time limit ran out".to_string()
                    } else {
                        format!(
                            "timed out after {}",
                            testmesh_flow::duration::format_duration(limit)
                        )
                    };
                    return Attempt::failed(StepError::new(ErrorKind::Timeout, what));
                }
            },
            None => run.await,
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                return Attempt {
                    error: Some(error),
                    children,
                    ..Attempt::default()
                };
            }
        };
        let assertions = {
            let scope = lock(scope);
            evaluate_assertions(step, &outcome.result, &scope)
        };
        let error = assertion_error(&assertions);
        Attempt {
            outcome: Some(outcome),
            assertions,
            error,
            children,
        }
    }

    /// The time limit of one attempt: the step's timeout, capped by what is left of the flow's.
    fn time_limit(&self, step: &Step) -> Option<Duration> {
        let step_limit = literal(step.timeout.as_ref());
        let flow_left = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        match (step_limit, flow_left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Interpolates the config and decodes it. Deferred values (nested steps, format templates) are
    /// taken out first: nested steps render when they run and come typed from the loaded step;
    /// templates are put back as written for the action to render.
    fn render(
        &self,
        step: &Step,
        kind: ActionKind,
        scope: &Mutex<Scope>,
    ) -> Result<Action, StepError> {
        let passthrough = matches!(
            kind,
            ActionKind::MockServerStart | ActionKind::MockServerConfigure
        );
        let options = RenderOptions {
            passthrough_roots: if passthrough {
                MOCK_TEMPLATE_ROOTS
                    .iter()
                    .map(|r| (*r).to_string())
                    .collect()
            } else {
                Vec::new()
            },
        };
        let rendered = {
            let scope = lock(scope);
            render_node(kind, &step.config, &scope, &options, &mut Vec::new())
                .map_err(|e| StepError::config(format!("in config: {e}")))?
        };
        Action::from_rendered_node(kind, &rendered)
            .map_err(|errors| StepError::config(errors.join("; ")))
    }

    /// Runs the action: control flow here, leaf actions through the registry.
    async fn perform(
        &self,
        step: &Step,
        action: &Action,
        scope: &Mutex<Scope>,
        depth: usize,
        limit: Option<Duration>,
    ) -> (Result<Outcome, StepError>, Vec<StepRecord>) {
        // Nested steps come from the loaded step (the rendered config does not carry them).
        let nested = step.action.as_ref();
        match (action, nested) {
            (Action::Condition(c), Some(Action::Condition(n))) => {
                self.condition(c, n, scope, depth).await
            }
            (Action::ForEach(c), Some(Action::ForEach(n))) => {
                self.for_each(step, c, n, scope, depth).await
            }
            (Action::Parallel(c), Some(Action::Parallel(n))) => {
                self.parallel(c, n, scope, depth).await
            }
            (Action::WaitUntil(c), Some(Action::WaitUntil(n))) => {
                self.wait_until(c, n, scope, depth).await
            }
            (Action::RunFlow(c), _) => (self.run_flow(c, scope).await, Vec::new()),
            _ => {
                let Some(handler) = self.runner.registry.get(action.kind()) else {
                    return (
                        Err(StepError::new(
                            ErrorKind::Unsupported,
                            format!(
                                "the `{}` action is not available in this version of TestMesh",
                                action.kind().name()
                            ),
                        )),
                        Vec::new(),
                    );
                };
                let cx = ActionCx {
                    flow_dir: self.flow_dir.clone(),
                    timeout: limit,
                    flow_state: self.state.clone(),
                    execution_id: self.execution_id.clone(),
                    step_id: step.id.clone(),
                };
                (handler.run(action, &cx).await, Vec::new())
            }
        }
    }

    async fn condition(
        &self,
        config: &ConditionConfig,
        nested: &ConditionConfig,
        scope: &Mutex<Scope>,
        depth: usize,
    ) -> (Result<Outcome, StepError>, Vec<StepRecord>) {
        let holds = {
            let scope = lock(scope);
            config.condition.expr.eval_bool(&StepEnv::variables(&scope))
        };
        let holds = match holds {
            Ok(b) => b,
            Err(e) => {
                return (
                    Err(StepError::config(format!(
                        "condition `{}`: {e}",
                        config.condition.expr.source()
                    ))),
                    Vec::new(),
                );
            }
        };
        let (branch, steps) = if holds {
            ("then", &nested.then)
        } else {
            ("else", &nested.else_)
        };
        let outcome = self.run_steps(steps, scope, depth + 1, true).await;
        let result = json!({
            "condition": config.condition.expr.source(),
            "result": holds,
            "branch": branch,
            "evaluated": true,
        });
        match outcome.failure {
            Some((id, _, message)) => (
                Err(StepError::action(format!(
                    "step '{id}' in `{branch}` failed: {message}"
                ))),
                outcome.records,
            ),
            None => (Ok(Outcome::of(result)), outcome.records),
        }
    }

    async fn for_each(
        &self,
        step: &Step,
        config: &ForEachConfig,
        nested: &ForEachConfig,
        scope: &Mutex<Scope>,
        depth: usize,
    ) -> (Result<Outcome, StepError>, Vec<StepRecord>) {
        let items = match self.loop_items(config) {
            Ok(items) => items,
            Err(e) => return (Err(e), Vec::new()),
        };
        let item_name = config.item_name.clone().unwrap_or_else(|| "item".into());
        let index_name = config.index_name.clone().unwrap_or_else(|| "index".into());
        let continue_on_error = literal(config.continue_on_error.as_ref()).unwrap_or(false);
        let parallel = literal(config.parallel.as_ref()).unwrap_or(false);
        let layer = |index: usize, item: &Value| {
            let mut layer = IndexMap::new();
            layer.insert(item_name.clone(), item.clone());
            layer.insert(index_name.clone(), json!(index));
            layer
        };
        let iteration_record = |index: usize, outcome: StepsOutcome| {
            let mut record =
                StepRecord::skipped(&format!("{}[{index}]", step.id), None, "iteration", "");
            record.skip_reason = None;
            record.status = if outcome.failure.is_some() {
                StepStatus::Failed
            } else {
                StepStatus::Passed
            };
            record.error = outcome
                .failure
                .map(|(id, _, m)| StepError::action(format!("step '{id}': {m}")));
            record.children = outcome.records;
            record
        };

        let mut iterations: Vec<StepRecord> = Vec::with_capacity(items.len());
        if parallel {
            let limit = literal(config.max_concurrent.as_ref())
                .map_or(items.len(), |n| n as usize)
                .max(1);
            let base = lock(scope).clone();
            // Each iteration gets its own copy of the scope, so loop variables and outputs of
            // concurrent iterations cannot mix.
            let runs: Vec<BoxFuture<'_, (usize, StepsOutcome)>> = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let mut own = base.clone();
                    own.push_layer(layer(index, item));
                    let run: BoxFuture<'_, (usize, StepsOutcome)> = Box::pin(async move {
                        let own = Mutex::new(own);
                        (
                            index,
                            self.run_steps(&nested.steps, &own, depth + 2, true).await,
                        )
                    });
                    run
                })
                .collect();
            let mut results: Vec<(usize, StepRecord)> = futures::stream::iter(runs)
                .buffer_unordered(limit)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .map(|(index, outcome)| (index, iteration_record(index, outcome)))
                .collect();
            results.sort_by_key(|(i, _)| *i);
            iterations.extend(results.into_iter().map(|(_, r)| r));
        } else {
            for (index, item) in items.iter().enumerate() {
                lock(scope).push_layer(layer(index, item));
                let outcome = self.run_steps(&nested.steps, scope, depth + 2, true).await;
                lock(scope).pop_layer();
                let record = iteration_record(index, outcome);
                let failed = record.status == StepStatus::Failed;
                iterations.push(record);
                if (failed && !continue_on_error) || self.cancelled() {
                    break;
                }
            }
        }
        let failed = iterations
            .iter()
            .filter(|r| r.status == StepStatus::Failed)
            .count();
        let results: Vec<Value> = iterations
            .iter()
            .zip(&items)
            .enumerate()
            .map(|(index, (r, item))| json!({"index": index, "item": item, "status": r.status}))
            .collect();
        let result = json!({
            "items_processed": iterations.len(),
            "failed": failed,
            "results": results,
            "completed": iterations.len() == items.len(),
        });
        if failed > 0 && !continue_on_error {
            let first = iterations.iter().find(|r| r.status == StepStatus::Failed);
            let message = first
                .and_then(|r| r.error.as_ref())
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let index = iterations
                .iter()
                .position(|r| r.status == StepStatus::Failed)
                .unwrap_or(0);
            return (
                Err(StepError::action(format!(
                    "iteration {index} failed: {message}"
                ))),
                iterations,
            );
        }
        (Ok(Outcome::of(result)), iterations)
    }

    fn loop_items(&self, config: &ForEachConfig) -> Result<Vec<Value>, StepError> {
        let max =
            literal(config.max_iterations.as_ref()).map_or(DEFAULT_MAX_ITERATIONS, |m| m as usize);
        let items: Vec<Value> = if let Some(items) = &config.items {
            match items {
                Tpl::Value(items) => items.iter().take(max).cloned().collect(),
                Tpl::Template(t) => {
                    return Err(StepError::config(format!(
                        "`items` did not render to a list: {t}"
                    )));
                }
            }
        } else if let Some(range) = &config.range {
            let (Some(start), Some(end)) =
                (range.start.literal().copied(), range.end.literal().copied())
            else {
                return Err(StepError::config(
                    "`range.start` and `range.end` must be numbers",
                ));
            };
            let step = literal(range.step.as_ref()).unwrap_or(1);
            if step == 0 {
                return Err(StepError::config("`range.step` cannot be 0"));
            }
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= end) || (step < 0 && i >= end) {
                if out.len() >= max {
                    break;
                }
                out.push(json!(i));
                i = match i.checked_add(step) {
                    Some(next) => next,
                    None => break,
                };
            }
            out
        } else if let Some(pattern) = &config.items_from_glob {
            let full = self.flow_dir.join(pattern);
            let pattern_text = full.to_string_lossy().to_string();
            let paths = glob::glob(&pattern_text)
                .map_err(|e| StepError::config(format!("invalid glob `{pattern}`: {e}")))?;
            let mut files: Vec<Value> = paths
                .filter_map(Result::ok)
                .map(|p| json!(p.display().to_string()))
                .take(max)
                .collect();
            files.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            files
        } else {
            return Err(StepError::config(
                "for_each needs `items`, `range` or `items_from_glob`",
            ));
        };
        Ok(items)
    }

    async fn parallel(
        &self,
        config: &ParallelConfig,
        nested: &ParallelConfig,
        scope: &Mutex<Scope>,
        depth: usize,
    ) -> (Result<Outcome, StepError>, Vec<StepRecord>) {
        let limit = literal(config.max_concurrent.as_ref())
            .map_or(nested.steps.len(), |n| n as usize)
            .max(1);
        let fail_fast = literal(config.fail_fast.as_ref()).unwrap_or(false);
        let wait_for_all = literal(config.wait_for_all.as_ref()).unwrap_or(true);
        let runs: Vec<BoxFuture<'_, (usize, StepRecord)>> = nested
            .steps
            .iter()
            .enumerate()
            .map(|(index, child)| {
                let run: BoxFuture<'_, (usize, StepRecord)> =
                    Box::pin(async move { (index, self.run_step(child, scope, depth + 1).await) });
                run
            })
            .collect();
        let mut pending = futures::stream::iter(runs).buffer_unordered(limit);
        let mut done: Vec<(usize, StepRecord)> = Vec::new();
        while let Some((index, record)) = pending.next().await {
            let failed = record.status == StepStatus::Failed && !record.continued;
            let passed = record.status == StepStatus::Passed;
            done.push((index, record));
            if (failed && fail_fast) || (passed && !wait_for_all) {
                break;
            }
        }
        drop(pending);
        // Children cancelled by fail_fast or wait_for_all: false are recorded as skipped.
        for (index, child) in nested.steps.iter().enumerate() {
            if !done.iter().any(|(i, _)| *i == index) {
                let reason = if wait_for_all {
                    "cancelled: a parallel step failed"
                } else {
                    "cancelled: another parallel step finished first"
                };
                done.push((index, self.skip(child, reason, depth + 1)));
            }
        }
        done.sort_by_key(|(i, _)| *i);
        let records: Vec<StepRecord> = done.into_iter().map(|(_, r)| r).collect();
        let failures: Vec<&StepRecord> = records
            .iter()
            .filter(|r| r.status == StepStatus::Failed && !r.continued)
            .collect();
        let result = json!({
            "completed": records.iter().filter(|r| r.status == StepStatus::Passed).count(),
            "failed": failures.len(),
            "steps": records.iter().map(|r| json!({"id": r.id, "status": r.status})).collect::<Vec<_>>(),
        });
        if let Some(first) = failures.first() {
            let message = first
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            let error = StepError::action(format!(
                "{} of {} parallel steps failed; '{}': {message}",
                failures.len(),
                records.len(),
                first.id
            ));
            return (Err(error), records);
        }
        (Ok(Outcome::of(result)), records)
    }

    async fn wait_until(
        &self,
        config: &WaitUntilConfig,
        nested: &WaitUntilConfig,
        scope: &Mutex<Scope>,
        depth: usize,
    ) -> (Result<Outcome, StepError>, Vec<StepRecord>) {
        let Some(max) = config.max_duration.literal().copied() else {
            return (
                Err(StepError::config("`max_duration` must be a duration")),
                Vec::new(),
            );
        };
        let interval = literal(config.interval.as_ref()).unwrap_or(Duration::from_secs(1));
        let started = Instant::now();
        let mut checks = 0u32;
        let last_records = loop {
            checks += 1;
            let outcome = self.run_steps(&nested.steps, scope, depth + 1, true).await;
            let records = outcome.records;
            let holds = {
                let scope = lock(scope);
                config.condition.expr.eval_bool(&StepEnv::variables(&scope))
            };
            // A condition that cannot be evaluated yet (e.g. a field not there) counts as false.
            if holds.unwrap_or(false) {
                let result = json!({"satisfied": true, "checks": checks, "duration_ms": started.elapsed().as_millis() as u64});
                return (Ok(Outcome::of(result)), records);
            }
            if started.elapsed() + interval > max {
                break records;
            }
            if self.cancelled() || !self.pause(interval).await {
                return (
                    Err(StepError::action(format!(
                        "cancelled while waiting for `{}` ({checks} checks)",
                        config.condition.expr.source()
                    ))),
                    records,
                );
            }
        };
        let result = json!({"satisfied": false, "checks": checks, "duration_ms": started.elapsed().as_millis() as u64});
        if config.on_timeout == Some(OnFailure::Continue) {
            return (Ok(Outcome::of(result)), last_records);
        }
        let message = format!(
            "`{}` did not become true within {} ({checks} checks)",
            config.condition.expr.source(),
            testmesh_flow::duration::format_duration(max)
        );
        (
            Err(StepError::new(ErrorKind::Timeout, message)),
            last_records,
        )
    }

    async fn run_flow(
        &self,
        config: &RunFlowConfig,
        scope: &Mutex<Scope>,
    ) -> Result<Outcome, StepError> {
        let (path, flow) = match self.runner.library.find(&config.flow, &self.flow_dir) {
            Some(found) => found,
            None => {
                let path = normalize_path(&self.flow_dir.join(&config.flow));
                let (_, loaded) = testmesh_flow::load_file(&path).map_err(|e| {
                    StepError::config(format!(
                        "run_flow: no loaded flow is named `{}` and {} cannot be read: {e}",
                        config.flow,
                        path.display()
                    ))
                })?;
                match loaded.flow {
                    Some(flow) if loaded.is_ok() => (path, Arc::new(flow)),
                    _ => {
                        let first = loaded
                            .errors()
                            .next()
                            .map(|d| format!("{}:{}: {}", d.span.line, d.span.col, d.message))
                            .unwrap_or_default();
                        return Err(StepError::config(format!(
                            "run_flow: {} is not a valid flow: {first}",
                            path.display()
                        )));
                    }
                }
            }
        };
        if self.stack.contains(&path) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .chain(std::iter::once(&path))
                .map(|p| p.display().to_string())
                .collect();
            return Err(StepError::config(format!(
                "run_flow cycle: {}",
                chain.join(" → ")
            )));
        }
        // inherit_env (default): the caller's environment, --env-file and --var values, and its
        // flow variables and loop variables as defaults below the sub-flow's own `env:`.
        let mut variables = if literal(config.inherit_env.as_ref()).unwrap_or(true) {
            let mut inherited = self.options.variables.clone();
            inherited.env_file = lock(scope).visible_variables();
            inherited
        } else {
            VariableSources::default()
        };
        if let Some(file) = &config.input_file {
            for (k, v) in read_input_file(&self.flow_dir.join(file))? {
                variables.cli_vars.insert(k, v);
            }
        }
        for (k, v) in &config.input {
            variables.cli_vars.insert(k.clone(), v.clone());
        }
        let execution_id = new_execution_id();
        let sub_scope = flow_scope(&flow, &execution_id, variables);
        let mut stack = self.stack.clone();
        stack.push(path.clone());
        let record = self
            .runner
            .run_with(
                &flow,
                Some(&path),
                self.options,
                sub_scope,
                execution_id,
                stack,
                false,
            )
            .await;
        let result = json!({
            "flow": record.name,
            "status": record.status,
            "success": record.status == FlowStatus::Passed,
            "output": record.outputs,
            "steps": record.steps.len(),
            "duration_ms": record.duration.as_millis() as u64,
            "error": record.error,
        });
        if record.status == FlowStatus::Failed {
            return Err(StepError::action(format!(
                "flow '{}' failed: {}",
                record.name,
                record.error.unwrap_or_default()
            )));
        }
        Ok(Outcome::of(result))
    }
}

fn read_input_file(path: &Path) -> Result<IndexMap<String, Value>, StepError> {
    match crate::data_file::read(path, "input_file")? {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(StepError::config(format!(
            "input_file {} must hold a mapping of variables",
            path.display()
        ))),
    }
}

/// One step of the path from a config's root to a value.
#[derive(Clone, Copy)]
enum Seg<'n> {
    Key(&'n str),
    Index(usize),
}

/// Renders a config tree for `kind`: string leaves with references are interpolated, nested-step
/// lists become empty (their steps render when they run), other deferred values stay as written.
/// Errors name where in the config they happened (`body.items[0].name`).
fn render_node<'n>(
    kind: ActionKind,
    node: &'n Node,
    scope: &Scope,
    options: &RenderOptions,
    path: &mut Vec<Seg<'n>>,
) -> Result<Node, InterpolateError> {
    if (1..=3).contains(&path.len()) {
        // (On the stack: this runs for every node near the top of every config, every attempt.)
        let mut keys = [""; 3];
        for (key, seg) in keys.iter_mut().zip(path.iter()) {
            *key = match seg {
                Seg::Key(k) => k,
                Seg::Index(_) => "#",
            };
        }
        if is_deferred(kind, &keys[..path.len()]) {
            return Ok(match &node.kind {
                NodeKind::Seq(_) if path.len() == 1 => Node {
                    kind: NodeKind::Seq(Vec::new()),
                    ..node.clone()
                },
                _ => node.clone(),
            });
        }
    }
    let same_place = |kind: NodeKind| Node {
        kind,
        span: node.span,
        style: node.style,
    };
    match &node.kind {
        NodeKind::Str(text) if text.contains("${") || text.contains("{{") => {
            let value =
                render_str_with(text, scope, options).map_err(|e| e.with_at(location(path)))?;
            // A rendered string (the usual case) moves into the tree instead of being copied.
            let kind = match value {
                Value::String(text) => NodeKind::Str(text),
                other => Node::from_json(&other).kind,
            };
            Ok(Node {
                kind,
                span: node.span,
                style: None,
            })
        }
        NodeKind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                path.push(Seg::Index(index));
                let rendered = render_node(kind, item, scope, options, path);
                path.pop();
                out.push(rendered?);
            }
            Ok(same_place(NodeKind::Seq(out)))
        }
        NodeKind::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for entry in entries {
                path.push(Seg::Key(&entry.key));
                let rendered = render_node(kind, &entry.value, scope, options, path);
                path.pop();
                out.push(Entry {
                    key: entry.key.clone(),
                    key_span: entry.key_span,
                    value: rendered?,
                });
            }
            Ok(same_place(NodeKind::Map(out)))
        }
        _ => Ok(node.clone()),
    }
}

/// `body.items[0].name` for a path (only built when an error needs it).
fn location(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) if k.is_empty() || k.contains(['.', '[', ']', ' ', '"']) => {
                out.push_str(&format!("[{k:?}]"))
            }
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

/// The outcome of one attempt.
#[derive(Default)]
struct Attempt {
    outcome: Option<Outcome>,
    assertions: Vec<AssertionRecord>,
    error: Option<StepError>,
    children: Vec<StepRecord>,
}

impl Attempt {
    fn failed(error: StepError) -> Self {
        Attempt {
            error: Some(error),
            ..Attempt::default()
        }
    }
}

/// Evaluates `assert`, `assert_any` and `assert_none` against a result.
fn evaluate_assertions(step: &Step, result: &Value, scope: &Scope) -> Vec<AssertionRecord> {
    let env = StepEnv::new(Some(result), scope);
    let mut records: Vec<AssertionRecord> = step.assert.iter().map(|a| check(a, &env)).collect();
    if !step.assert_any.is_empty() {
        let any: Vec<AssertionRecord> = step.assert_any.iter().map(|a| check(a, &env)).collect();
        let passed = any.iter().any(|r| r.passed);
        let sources: Vec<&str> = step.assert_any.iter().map(|a| a.expr.source()).collect();
        records.push(AssertionRecord {
            expression: format!("any of: {}", sources.join(" | ")),
            passed,
            message: (!passed).then(|| {
                let reasons: Vec<String> = any.iter().filter_map(|r| r.message.clone()).collect();
                format!("none of the expressions held: {}", reasons.join("; "))
            }),
            actual: None,
            expected: None,
        });
    }
    for assertion in &step.assert_none {
        let holds = assertion.expr.eval_bool(&env);
        let passed = matches!(holds, Ok(false));
        records.push(AssertionRecord {
            expression: format!("none: {}", assertion.expr.source()),
            passed,
            message: (!passed).then(|| match &holds {
                Ok(_) => assertion
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("`{}` holds but must not", assertion.expr.source())),
                Err(e) => e.to_string(),
            }),
            actual: None,
            expected: None,
        });
    }
    records
}

fn check(assertion: &Assertion, env: &StepEnv) -> AssertionRecord {
    match assertion.expr.check(env) {
        Ok(()) => AssertionRecord {
            expression: assertion.expr.source().to_string(),
            passed: true,
            message: None,
            actual: None,
            expected: None,
        },
        Err(failure) => AssertionRecord {
            expression: assertion.expr.source().to_string(),
            passed: false,
            message: Some(assertion.message.clone().unwrap_or(failure.message)),
            actual: failure.actual,
            expected: failure.expected,
        },
    }
}

fn assertion_error(records: &[AssertionRecord]) -> Option<StepError> {
    let failed: Vec<String> = records
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            format!(
                "  - {}: {}",
                r.expression,
                r.message.clone().unwrap_or_default()
            )
        })
        .collect();
    (!failed.is_empty()).then(|| {
        StepError::new(
            ErrorKind::Assertion,
            format!("assertion failed:\n{}", failed.join("\n")),
        )
    })
}

/// The retry policy of a step, with defaults.
struct RetryPolicy {
    max_attempts: u32,
    delay: Duration,
    backoff: Backoff,
    max_delay: Option<Duration>,
}

impl RetryPolicy {
    fn of(retry: Option<&Retry>) -> Self {
        let enabled = retry.is_some_and(|r| literal(r.enabled.as_ref()) != Some(false));
        RetryPolicy {
            max_attempts: if enabled {
                retry
                    .and_then(|r| literal(r.max_attempts.as_ref()))
                    .unwrap_or(1)
                    .max(1)
            } else {
                1
            },
            delay: retry
                .and_then(|r| literal(r.delay.as_ref()))
                .unwrap_or(Duration::ZERO),
            backoff: retry.and_then(|r| r.backoff).unwrap_or(Backoff::Constant),
            max_delay: retry.and_then(|r| literal(r.max_delay.as_ref())),
        }
    }

    fn next_delay(&self, current: Duration, attempt: u32) -> Duration {
        let next = match self.backoff {
            Backoff::Constant => self.delay,
            Backoff::Linear => self.delay.saturating_mul(attempt + 1),
            Backoff::Exponential => current.saturating_mul(2),
        };
        self.max_delay.map_or(next, |m| next.min(m))
    }

    /// `retry_on` (any holds) and `retry_on_not` (none holds), over the failed attempt's result with
    /// `timeout` and `connection_error` as booleans.
    fn should_retry(&self, retry: Option<&Retry>, attempt: &Attempt, scope: &Scope) -> bool {
        let Some(retry) = retry else { return true };
        if retry.retry_on.0.is_empty() && retry.retry_on_not.0.is_empty() {
            return true;
        }
        let kind = attempt.error.as_ref().map(|e| e.kind);
        let result = attempt.outcome.as_ref().map(|o| &o.result);
        let env = StepEnv::new(result, scope)
            .with("timeout", json!(kind == Some(ErrorKind::Timeout)))
            .with(
                "connection_error",
                json!(kind == Some(ErrorKind::Connection)),
            )
            .with(
                "error",
                json!(attempt.error.as_ref().map(|e| e.message.clone())),
            );
        let holds =
            |c: &testmesh_flow::model::step::Condition| c.expr.eval_bool(&env).unwrap_or(false);
        let on = retry.retry_on.0.is_empty() || retry.retry_on.0.iter().any(holds);
        let not = retry.retry_on_not.0.iter().any(holds);
        on && !not
    }
}

fn masked(secrets: &Secrets, mut value: Value) -> Value {
    secrets.mask_value(&mut value);
    value
}

fn lock(scope: &Mutex<Scope>) -> std::sync::MutexGuard<'_, Scope> {
    scope.lock().unwrap_or_else(|e| e.into_inner())
}
