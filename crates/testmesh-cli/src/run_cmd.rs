//! `testmesh run`: validate, select and run flows, print progress and failures, write reports.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use schedule::run_all;
use serde_json::Value;
use testmesh_flow::Flow;
use testmesh_flow::interpolate::VariableSources;
use testmesh_mock::{HubConfig, MockHub};
use testmesh_runner::{
    EventSink, EventSinks, FlowLibrary, FlowRecord, FlowStatus, Registry, RunOptions, Runner,
    Secrets, actions,
};

use crate::console::{Console, format_ms};
use crate::history::{Recorder, StoreArgs};
use crate::project::ProjectConfig;
use crate::reports::{self, ReportSpec};
use crate::{CliError, EXIT_INVALID_INPUT, EXIT_OK, EXIT_TEST_FAILURES, files, render};

/// Run flows: every step's action, assertions and outputs, with retries and timeouts.
///
/// Flows are validated first; a flow with errors is not run (exit code 2). Flows run in parallel
/// (`--jobs`); steps within a flow run in order. On a terminal a progress bar shows what is running;
/// each finished flow prints its steps, and each failed step its assertion (expected vs actual) and
/// a request/response excerpt.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh run                       # the flows listed in ./testmesh.yaml\n  testmesh run flows/\n  testmesh run 'flows/**/*.yaml' --tag smoke --jobs 4\n  \
testmesh run checkout.yaml --env-file .env.staging --var BASE_URL=https://staging.example.com\n  \
testmesh run flows/ --secret API_KEY=$API_KEY --report junit=reports/junit.xml --report json=reports/run.json\n\n\
Variables, lowest precedence first: the environment, --env-file, the flow's env:, --var and --secret.\n\
Exit codes: 0 every flow passed, 1 some flow failed, 2 invalid flows or arguments, 3 internal error."
)]
pub(crate) struct Args {
    /// Flow files, directories (searched for *.yaml and *.yml) or glob patterns. Without any, the
    /// `flows` of ./testmesh.yaml are run.
    #[arg(value_name = "PATH|GLOB")]
    paths: Vec<String>,
    /// Flows to run at once (default: the number of CPUs).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Read variables from a dotenv file (repeatable; later files win).
    #[arg(long, value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Set a variable (repeatable), e.g. --var BASE_URL=http://localhost:8080.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    vars: Vec<(String, String)>,
    /// Set a variable whose value is masked in all output and reports (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE", value_parser = parse_pair)]
    secrets: Vec<(String, String)>,
    /// Run only flows with one of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Do not run flows with any of these tags (repeatable).
    #[arg(long = "exclude-tag", value_name = "TAG")]
    exclude_tags: Vec<String>,
    /// Run only flows of these suites (repeatable).
    #[arg(long = "suite", value_name = "SUITE")]
    suites: Vec<String>,
    /// Stop starting new flows after the first failed flow; within a flow, stop at the first failed step.
    #[arg(long)]
    fail_fast: bool,
    /// Time limit per flow, e.g. 30s or 5m (caps the flows' own config.timeout).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Write a report (repeatable): junit=PATH or json=PATH.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    reports: Vec<ReportSpec>,
    /// Ports for mock servers flows start without a `port`, e.g. 20000-20099 (default: free ports
    /// the system picks).
    #[arg(long, value_name = "A-B", value_parser = parse_port_range)]
    mock_ports: Option<RangeInclusive<u16>>,
    /// Do not record this run in the history (`testmesh history`).
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    store: StoreArgs,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let bad = || format!("expected a port range such as 20000-20099, got `{text}`");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let a: u16 = a.trim().parse().map_err(|_| bad())?;
    let b: u16 = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || a > b {
        return Err(bad());
    }
    Ok(a..=b)
}

/// The actions flows run with: the built-in ones, the mock-server actions on `hub` and the
/// contract actions keeping contracts in `contracts`.
pub(crate) fn registry(
    hub: &Arc<MockHub>,
    contracts: Arc<dyn testmesh_contract::ContractRepository>,
) -> Registry {
    let mut registry = actions::builtin();
    testmesh_mock::actions::register(&mut registry, hub.clone());
    testmesh_contract::actions::register(&mut registry, contracts);
    registry
}

/// `testmesh run`'s contract repository, in memory (shared by every registry the process builds, so
/// a contract generated by one flow can be verified by another of the same run). `serve` and
/// `worker` keep contracts in the store instead.
pub(crate) fn contract_repository() -> Arc<dyn testmesh_contract::ContractRepository> {
    static REPO: std::sync::OnceLock<Arc<testmesh_contract::MemoryRepository>> =
        std::sync::OnceLock::new();
    REPO.get_or_init(|| Arc::new(testmesh_contract::MemoryRepository::new()))
        .clone()
}

/// The process's mock hub: listeners on 127.0.0.1, ports from `ports` or the system.
pub(crate) fn mock_hub(ports: Option<RangeInclusive<u16>>) -> Arc<MockHub> {
    Arc::new(MockHub::new(HubConfig {
        ports,
        ..HubConfig::default()
    }))
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    testmesh_flow::duration::parse_duration(text).map_err(|e| e.to_string())
}

struct Selected {
    path: PathBuf,
    flow: Arc<Flow>,
    /// The file's text, stored with the run in the history.
    text: Arc<str>,
}

/// Everything a run needs, from the command line, ./testmesh.yaml or `testmesh demo`.
pub(crate) struct Plan {
    pub(crate) paths: Vec<String>,
    pub(crate) variables: VariableSources,
    pub(crate) secrets: Secrets,
    pub(crate) tags: Vec<String>,
    pub(crate) exclude_tags: Vec<String>,
    pub(crate) suites: Vec<String>,
    pub(crate) jobs: usize,
    pub(crate) fail_fast: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) reports: Vec<ReportSpec>,
    /// The history database to record the run in; `None` with `--no-store`.
    pub(crate) store: Option<String>,
    /// Ports for mock servers started by flows.
    pub(crate) mock_ports: Option<RangeInclusive<u16>>,
    /// Another sink for the run's events (`contract generate` collects exchanges with it); it
    /// makes passed steps keep their request and response records.
    pub(crate) observer: Option<Arc<dyn EventSink>>,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let project = if args.paths.is_empty() {
        Some(ProjectConfig::read()?)
    } else {
        None
    };
    let mut env_files = project
        .as_ref()
        .map(|p| p.env_files.clone())
        .unwrap_or_default();
    env_files.extend(args.env_file.iter().cloned());
    let mut vars: Vec<(String, String)> = project
        .as_ref()
        .map(|p| p.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    vars.extend(args.vars.iter().cloned());
    let mut reports = args.reports.clone();
    if reports.is_empty()
        && let Some(project) = &project
    {
        reports = project.reports()?;
    }
    let plan = Plan {
        paths: match &project {
            Some(project) => project.flows.clone(),
            None => args.paths.clone(),
        },
        variables: variables(&env_files, &vars, &args.secrets)?,
        secrets: Secrets::new(args.secrets.iter().map(|(_, v)| v.clone())),
        tags: args.tags,
        exclude_tags: args.exclude_tags,
        suites: args.suites,
        jobs: args
            .jobs
            .or(project.as_ref().and_then(|p| p.jobs))
            .unwrap_or_else(default_jobs)
            .max(1),
        fail_fast: args.fail_fast,
        timeout: args.timeout,
        reports,
        store: if args.no_store {
            None
        } else {
            Some(args.store.url()?)
        },
        mock_ports: args.mock_ports,
        observer: None,
    };
    let runtime = runtime()?;
    execute(plan, &runtime)
}

/// The runtime of the calling thread. Flows run on it when one runs at a time; with more jobs they
/// run on job threads of their own (see `schedule`) and this one only waits (and serves the demo API).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Loads, selects and runs flows, prints progress and the summary, writes reports.
pub(crate) fn execute(plan: Plan, runtime: &tokio::runtime::Runtime) -> Result<u8, CliError> {
    let paths = files::expand(&plan.paths)?;
    let (flows, invalid) = load(&paths);
    if invalid > 0 {
        let files = if paths.len() == 1 {
            "flow file"
        } else {
            "flow files"
        };
        let verb = if invalid == 1 { "has" } else { "have" };
        outln!(
            "✗ {invalid} of {} {files} {verb} errors; nothing was run",
            paths.len()
        );
        return Ok(EXIT_INVALID_INPUT);
    }
    let mut library = FlowLibrary::default();
    for selected in &flows {
        library.add(&selected.path, selected.flow.clone());
    }
    let (chosen, filtered): (Vec<Selected>, Vec<Selected>) =
        flows.into_iter().partition(|s| selects(&plan, &s.flow));
    if chosen.is_empty() {
        return Err(CliError::Input(
            "no flow matches the --tag, --exclude-tag and --suite filters".into(),
        ));
    }

    let console = Arc::new(Console::new(chosen.len()));
    let recorder = plan.store.map(|url| {
        let sources = chosen
            .iter()
            .map(|s| (s.path.display().to_string(), s.text.clone()))
            .collect();
        let variables = plan
            .variables
            .cli_vars
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                plan.secrets.mask_value(&mut v);
                (k.clone(), v)
            })
            .collect();
        Recorder::start(runtime, url, sources, Value::Object(variables))
    });
    let mut sinks: Vec<Arc<dyn EventSink>> = vec![console.clone()];
    sinks.extend(plan.observer.clone());
    let hub = mock_hub(plan.mock_ports.clone());
    let runner = Arc::new(Runner::new(
        registry(&hub, contract_repository()),
        Arc::new(EventSinks(sinks)),
        plan.secrets,
        library,
    ));
    let options = Arc::new(RunOptions {
        variables: plan.variables,
        fail_fast: plan.fail_fast.then_some(true),
        timeout: plan.timeout,
        // Passed steps' exchanges are only shown by the JSON report.
        lean_records: plan.observer.is_none()
            && !plan
                .reports
                .iter()
                .any(|r| matches!(r, ReportSpec::Json(_))),
        ..RunOptions::default()
    });
    // Each finished flow's record is moved to the history writer; the run keeps a copy only for
    // the reports, and otherwise just the flow's outcome (a long run no longer holds every step's
    // record until it ends).
    let inbox = recorder.as_ref().map(Recorder::inbox);
    let keep_steps = !plan.reports.is_empty();
    let deliver = move |record: FlowRecord| -> FlowRecord {
        let kept = if keep_steps {
            record.clone()
        } else {
            outcome_of(&record)
        };
        match &inbox {
            Some(inbox) => inbox.send(record),
            None => drop(record),
        }
        kept
    };
    let started = Instant::now();
    let mut records = runtime.block_on(async {
        let records = run_all(
            runner,
            options,
            chosen,
            plan.jobs,
            plan.fail_fast,
            &hub,
            Box::new(deliver),
        )
        .await;
        // Mocks flows kept running stop with the run.
        hub.stop_all().await;
        records
    });
    console.finish();
    let duration = started.elapsed();
    if let Some(recorder) = recorder
        && let Err(e) = recorder.finish(runtime)
    {
        eprintln!("warning: the run is not recorded in the history: {e}");
    }

    records.extend(
        filtered
            .into_iter()
            .map(|s| skipped_record(&s, "not selected by the filters")),
    );
    for spec in &plan.reports {
        let path = reports::write(spec, &records, duration)?;
        eprintln!("wrote {}", path.display());
    }
    let passed = records
        .iter()
        .filter(|r| r.status == FlowStatus::Passed)
        .count();
    let failed = records
        .iter()
        .filter(|r| r.status == FlowStatus::Failed)
        .count();
    let skipped = records
        .iter()
        .filter(|r| r.status == FlowStatus::Skipped)
        .count();
    outln!();
    let flows = if records.len() == 1 { "flow" } else { "flows" };
    let mut summary = format!(
        "{} {flows}: {passed} passed, {failed} failed",
        records.len()
    );
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    outln!("{summary} in {}", format_ms(duration));
    Ok(if failed > 0 {
        EXIT_TEST_FAILURES
    } else {
        EXIT_OK
    })
}

/// Loads every file; prints the findings of files with errors and returns how many there were.
fn load(paths: &[PathBuf]) -> (Vec<Selected>, usize) {
    // Read and check every file on all cores, then report in file order.
    let loaded = files::map_parallel(
        paths,
        |path| {
            std::fs::read_to_string(path).map(|text| {
                let mut loaded = files::load_unless_mock(&text);
                // Once checked, running needs the steps, not the parsed tree (the history stores
                // the file's text); it goes here, on the thread that built it.
                if let Some(loaded) = &mut loaded
                    && loaded.errors().next().is_none()
                    && let Some(flow) = &mut loaded.flow
                {
                    flow.drop_tree();
                }
                (text, loaded)
            })
        },
        || Err(std::io::Error::other("a loading thread panicked")),
    );
    let mut flows = Vec::new();
    let mut invalid = 0;
    for (path, result) in paths.iter().zip(loaded) {
        let (text, loaded) = match result {
            Ok(pair) => pair,
            Err(e) => {
                outln!("✗ {}: cannot read: {e}", path.display());
                invalid += 1;
                continue;
            }
        };
        let shown = path.display().to_string();
        let Some(loaded) = loaded else {
            outln!(
                "- {shown}: a mock file, not a flow; skipped (serve it with `testmesh mock serve`)"
            );
            continue;
        };
        for diagnostic in loaded.errors() {
            outln!("{}", render::human(&shown, &text, diagnostic));
        }
        match loaded.flow {
            Some(flow) if loaded.errors().next().is_none() => {
                flows.push(Selected {
                    path: path.clone(),
                    flow: Arc::new(flow),
                    text: text.into(),
                });
            }
            _ => invalid += 1,
        }
    }
    (flows, invalid)
}

/// The process environment, env files, then --var and --secret values (the flow's env is added per flow).
pub(crate) fn variables(
    env_files: &[PathBuf],
    vars: &[(String, String)],
    secrets: &[(String, String)],
) -> Result<VariableSources, CliError> {
    let process_env: IndexMap<String, Value> = std::env::vars()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut env_file = IndexMap::new();
    for path in env_files {
        let entries = dotenvy::from_path_iter(path)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
        for entry in entries {
            let (name, value) =
                entry.map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
            env_file.insert(name, Value::String(value));
        }
    }
    let cli_vars = vars
        .iter()
        .chain(secrets)
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Ok(VariableSources {
        process_env,
        env_file,
        flow_env: IndexMap::new(),
        cli_vars,
    })
}

fn selects(args: &Plan, flow: &Flow) -> bool {
    let tags: Vec<&str> = flow.tags.iter().map(|t| t.value.as_str()).collect();
    let tag_ok = args.tags.is_empty() || args.tags.iter().any(|t| tags.contains(&t.as_str()));
    let excluded = args.exclude_tags.iter().any(|t| tags.contains(&t.as_str()));
    let suite_ok =
        args.suites.is_empty() || flow.suite.as_ref().is_some_and(|s| args.suites.contains(s));
    tag_ok && !excluded && suite_ok
}

/// `record` without its steps and outputs: what the summary needs.
fn outcome_of(record: &FlowRecord) -> FlowRecord {
    FlowRecord {
        execution_id: record.execution_id.clone(),
        name: record.name.clone(),
        path: record.path.clone(),
        suite: record.suite.clone(),
        tags: record.tags.clone(),
        status: record.status,
        started_at: record.started_at,
        duration: record.duration,
        steps: Vec::new(),
        error: record.error.clone(),
        cancelled: record.cancelled,
        outputs: IndexMap::new(),
    }
}

fn skipped_record(selected: &Selected, reason: &str) -> FlowRecord {
    FlowRecord {
        execution_id: String::new(),
        name: selected.flow.name.clone(),
        path: Some(selected.path.display().to_string()),
        suite: selected.flow.suite.clone(),
        tags: selected.flow.tags.iter().map(|t| t.value.clone()).collect(),
        status: FlowStatus::Skipped,
        started_at: chrono::Utc::now(),
        duration: Duration::ZERO,
        steps: Vec::new(),
        error: Some(reason.to_string()),
        cancelled: false,
        outputs: IndexMap::new(),
    }
}

mod schedule {
    //! Running flows with a bounded number at once, stopping early on `--fail-fast`.
    //!
    //! Each job is a thread with a single-threaded runtime and a runner of its own (its own
    //! connections and pools) that takes the next flow from a shared queue, so a flow's requests and
    //! the connections they use stay on one thread: no hand-off between threads on every request.
    //! The caller's runtime stays free (it serves the demo API).

    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use testmesh_mock::MockHub;
    use testmesh_runner::{FlowRecord, FlowStatus, RunOptions, Runner};

    use super::{Selected, skipped_record};

    /// What happens to the record of each flow that ran: it gets the record and returns what the
    /// run keeps of it.
    pub(super) type Deliver = Box<dyn Fn(FlowRecord) -> FlowRecord + Send + Sync>;

    /// Runs every flow, at most `jobs` at once, and returns the records (as `deliver` kept them) in
    /// input order.
    pub(super) async fn run_all(
        runner: Arc<Runner>,
        options: Arc<RunOptions>,
        flows: Vec<Selected>,
        jobs: usize,
        fail_fast: bool,
        hub: &Arc<MockHub>,
        deliver: Deliver,
    ) -> Vec<FlowRecord> {
        let queue = Arc::new(Queue {
            deliver,
            flows,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            fail_fast,
        });
        if jobs <= 1 {
            queue.work(runner, options).await;
        } else {
            let mut done = Vec::new();
            for _ in 0..jobs.min(queue.flows.len()) {
                let (queue, options) = (queue.clone(), options.clone());
                let runner = Arc::new(
                    runner.with_actions(super::registry(hub, super::contract_repository())),
                );
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                done.push(rx);
                std::thread::spawn(move || {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt.block_on(queue.work(runner, options)),
                        Err(e) => queue.abandon(&format!("cannot start a job thread: {e}")),
                    }
                    let _ = tx.send(());
                });
            }
            for rx in done {
                // A job thread that panicked drops its sender; its flow gets a record below.
                let _ = rx.await;
            }
        }
        let mut records = queue
            .records
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        records.sort_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(queue.flows.len());
        let mut got = records.into_iter().peekable();
        for (i, selected) in queue.flows.iter().enumerate() {
            match got.next_if(|(j, _)| *j == i) {
                Some((_, record)) => out.push(record),
                None => {
                    let mut record = skipped_record(selected, "a flow task stopped unexpectedly");
                    record.status = FlowStatus::Failed;
                    out.push(record);
                }
            }
        }
        out
    }

    /// The flows to run and the records of those that ran, shared by the job threads.
    struct Queue {
        deliver: Deliver,
        flows: Vec<Selected>,
        next: AtomicUsize,
        stop: AtomicBool,
        records: Mutex<Vec<(usize, FlowRecord)>>,
        fail_fast: bool,
    }

    impl Queue {
        /// Runs flows from the queue until it is empty. Each flow is a task of its own, so a bug that
        /// panics fails that flow, not the run.
        async fn work(&self, runner: Arc<Runner>, options: Arc<RunOptions>) {
            loop {
                let i = self.next.fetch_add(1, Ordering::SeqCst);
                let Some(selected) = self.flows.get(i) else {
                    return;
                };
                let record = if self.stop.load(Ordering::SeqCst) {
                    skipped_record(
                        selected,
                        "skipped after an earlier flow failed (--fail-fast)",
                    )
                } else {
                    let (runner, options) = (runner.clone(), options.clone());
                    let (flow, path) = (selected.flow.clone(), selected.path.clone());
                    let task =
                        tokio::spawn(async move { runner.run(&flow, Some(&path), &options).await });
                    match task.await {
                        Ok(record) => (self.deliver)(record),
                        Err(e) => {
                            let mut record = skipped_record(
                                selected,
                                &format!("the flow stopped unexpectedly: {e}"),
                            );
                            record.status = FlowStatus::Failed;
                            record
                        }
                    }
                };
                if self.fail_fast && record.status == FlowStatus::Failed {
                    self.stop.store(true, Ordering::SeqCst);
                }
                self.push(i, record);
            }
        }

        /// Records every flow not yet taken as failed with `reason`.
        fn abandon(&self, reason: &str) {
            loop {
                let i = self.next.fetch_add(1, Ordering::SeqCst);
                let Some(selected) = self.flows.get(i) else {
                    return;
                };
                let mut record = skipped_record(selected, reason);
                record.status = FlowStatus::Failed;
                self.push(i, record);
            }
        }

        fn push(&self, i: usize, record: FlowRecord) {
            if let Ok(mut records) = self.records.lock() {
                records.push((i, record));
            }
        }
    }
}
