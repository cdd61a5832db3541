//! Run history: `testmesh run` records every flow it runs into the store (a SQLite file under
//! `.testmesh/` unless `--database-url` names another), and `testmesh history` lists the runs.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Local;
use serde_json::Value;
use testmesh_runner::FlowRecord;
use testmesh_store::{
    DEFAULT_WORKSPACE_ID, Execution, ExecutionFilter, ExecutionStatus, FileRun, RunContext, Store,
    StoreOptions,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::CliError;
use crate::console::{columns, format_ms};
use crate::render::use_color;

/// Where history is kept; shared by `run`, `demo` and `history`.
#[derive(clap::Args, Clone, Default)]
pub(crate) struct StoreArgs {
    /// Database of the history and the queue: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://.testmesh/testmesh.db]
    #[arg(long, env = "TESTMESH_DATABASE_URL", value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

impl StoreArgs {
    /// The database URL: the option, or the SQLite file of the project in the current directory.
    pub(crate) fn url(&self) -> Result<String, CliError> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                let dir = std::env::current_dir().map_err(|e| {
                    CliError::Internal(format!("cannot read the current directory: {e}"))
                })?;
                Ok(Store::default_url(&dir))
            }
        }
    }

    /// Opens the store (migrating it); an unusable URL or database is bad input.
    pub(crate) async fn open(&self) -> Result<Store, CliError> {
        let url = self.url()?;
        Store::open(&url)
            .await
            .map_err(|e| CliError::Input(format!("cannot open {}: {e}", shown_url(&url))))
    }
}

/// A store error as the CLI's: what the user named wrongly is bad input, the rest internal.
pub(crate) fn store_error(error: &testmesh_store::Error) -> CliError {
    match error {
        testmesh_store::Error::NotFound { .. } | testmesh_store::Error::Invalid { .. } => {
            CliError::Input(error.to_string())
        }
        other => CliError::Internal(other.to_string()),
    }
}

/// Records finished flows into the store while the run goes on: the run hands each finished flow's
/// record over ([`Recorder::inbox`]), so it is moved to the writer, not copied.
pub(crate) struct Recorder {
    inbox: Arc<Inbox>,
    task: tokio::task::JoinHandle<Result<usize, String>>,
}

/// Where finished flows go to be recorded; closed by [`Recorder::finish`].
pub(crate) struct Inbox {
    tx: Mutex<Option<UnboundedSender<FlowRecord>>>,
}

impl Inbox {
    /// Queues a finished top-level flow for the history.
    pub(crate) fn send(&self, record: FlowRecord) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            // A closed channel means recording stopped on an error, which `finish` reports.
            let _ = tx.send(record);
        }
    }
}

impl Recorder {
    /// Starts recording on `runtime` into the store at `url`. `sources` maps each flow file (as
    /// records show its path) to its text, so the flow is stored with the run; `variables` are the
    /// run's command-line variables, secrets already masked.
    pub(crate) fn start(
        runtime: &tokio::runtime::Runtime,
        url: String,
        sources: HashMap<String, Arc<str>>,
        variables: Value,
    ) -> Recorder {
        let (tx, rx) = unbounded_channel();
        let task = runtime.spawn(record_all(url, sources, variables, rx));
        Recorder {
            inbox: Arc::new(Inbox {
                tx: Mutex::new(Some(tx)),
            }),
            task,
        }
    }

    /// Where the run sends the records of its finished flows.
    pub(crate) fn inbox(&self) -> Arc<Inbox> {
        self.inbox.clone()
    }

    /// Waits until every finished flow is written; returns how many were, or why recording stopped.
    pub(crate) fn finish(self, runtime: &tokio::runtime::Runtime) -> Result<usize, String> {
        drop(
            self.inbox
                .tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        runtime
            .block_on(self.task)
            .unwrap_or_else(|e| Err(format!("the history writer stopped: {e}")))
    }
}

/// How long the history writer waits for more finished flows to share a transaction with.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);
/// Most finished flows written in one transaction. Larger batches share more commits, but their
/// records wait in memory meanwhile: 64 cost 2 MiB of peak memory in the runner benchmark's (b)
/// and saved no measurable time.
const MAX_BATCH: usize = 16;
/// The writer's SQLite page cache, in KiB. It appends, so it touches little more than the last
/// pages of each index; SQLite's default 2 MiB filled up with pages it never read again.
const WRITER_CACHE_KIB: u32 = 512;

async fn record_all(
    url: String,
    sources: HashMap<String, Arc<str>>,
    variables: Value,
    mut rx: UnboundedReceiver<FlowRecord>,
) -> Result<usize, String> {
    // One connection: the writer records one flow at a time, and a single SQLite connection keeps
    // its page cache (each connection drops its cache whenever another one has written).
    let options = StoreOptions {
        max_connections: Some(1),
        sqlite_cache_kib: Some(WRITER_CACHE_KIB),
        ..StoreOptions::default()
    };
    let store = Store::open_with(&url, options)
        .await
        .map_err(|e| format!("cannot open {}: {e}", shown_url(&url)))?;
    // A CLI run in the default workspace.
    let context = RunContext {
        variables,
        ..RunContext::default()
    };
    let mut recorded = 0;
    while let Some(first) = rx.recv().await {
        // Flows that finish close together are written in one transaction: a commit writes every
        // page it touched, and consecutive runs touch the same index pages. Waiting a moment for
        // company delays nothing the user waits for (the run's end flushes at once).
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(record)) => batch.push(record),
                Ok(None) | Err(_) => break,
            }
        }
        let write_error =
            |e: testmesh_store::Error| format!("cannot write to {}: {e}", shown_url(&url));
        // The flow is stored with its run (a new version when its file changed); a run whose
        // file is unknown, or cannot be stored as a flow, is recorded without one.
        let mut files = Vec::with_capacity(batch.len());
        for record in &batch {
            match record.path.as_ref().and_then(|p| sources.get(p)) {
                Some(yaml) => files.push(FileRun {
                    record,
                    yaml,
                    source_path: record.path.as_deref(),
                }),
                None => {
                    store
                        .record_run(record, &context)
                        .await
                        .map_err(write_error)?;
                    recorded += 1;
                }
            }
        }
        if !files.is_empty() {
            store
                .record_file_runs(&files, &context)
                .await
                .map_err(write_error)?;
            recorded += files.len();
        }
    }
    store.close_before_exit().await;
    Ok(recorded)
}

/// A URL as messages show it: without a password, and SQLite files relative to the current
/// directory when they are inside it.
pub(crate) fn shown_url(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = Path::new(path);
        let relative = std::env::current_dir()
            .ok()
            .and_then(|dir| path.strip_prefix(dir).ok().map(Path::to_path_buf));
        return relative
            .unwrap_or_else(|| path.to_path_buf())
            .display()
            .to_string();
    }
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// List recent runs, newest first, from the history that `testmesh run` records.
///
/// Every `testmesh run` and `testmesh demo` records its flows (unless `--no-store`): status, step
/// counts, timings, and for failed steps the request, response and error. The history lives in
/// .testmesh/testmesh.db, or in the database of --database-url / TESTMESH_DATABASE_URL.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh history\n  testmesh history --failed --limit 50\n  \
testmesh history --flow 'Create user' --format json\n  \
testmesh history --database-url postgres://testmesh@db/testmesh"
)]
pub(crate) struct Args {
    /// Runs to show.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 20)]
    limit: i64,
    /// Only runs of the flow with this name.
    #[arg(long, value_name = "NAME")]
    flow: Option<String>,
    /// Only failed runs.
    #[arg(long)]
    failed: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// The runs as a JSON array, for scripts.
    Json,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    if args.limit < 1 {
        return Err(CliError::Input("--limit must be at least 1".into()));
    }
    let url = args.store.url()?;
    let runtime = crate::run_cmd::runtime()?;
    let page = runtime.block_on(async {
        let store = Store::open(&url)
            .await
            .map_err(|e| CliError::Input(format!("cannot open {}: {e}", shown_url(&url))))?;
        let flow_id = match &args.flow {
            Some(name) => match store.get_flow_by_name(DEFAULT_WORKSPACE_ID, name).await {
                Ok(flow) => Some(flow.flow.id),
                Err(testmesh_store::Error::NotFound { .. }) => {
                    return Err(CliError::Input(format!(
                        "no flow named `{name}` has been run yet"
                    )));
                }
                Err(e) => return Err(CliError::Internal(e.to_string())),
            },
            None => None,
        };
        let filter = ExecutionFilter {
            flow_id,
            status: args.failed.then_some(ExecutionStatus::Failed),
            limit: Some(args.limit),
            ..ExecutionFilter::default()
        };
        let page = store
            .list_executions(DEFAULT_WORKSPACE_ID, &filter)
            .await
            .map_err(|e| CliError::Internal(e.to_string()));
        store.close().await;
        page
    })?;
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&page.items)
                .map_err(|e| CliError::Internal(e.to_string()))?;
            outln!("{text}");
        }
        Format::Table if page.items.is_empty() && (args.flow.is_some() || args.failed) => {
            outln!("No recorded run matches.");
        }
        Format::Table => print_table(&page.items, page.total, page.total_capped),
    }
    Ok(crate::EXIT_OK)
}

fn print_table(runs: &[Execution], total: i64, capped: bool) {
    if runs.is_empty() {
        outln!("No runs recorded yet. `testmesh run` records every run here.");
        return;
    }
    let color = use_color(std::io::stdout().is_terminal());
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let started = run.started_at.unwrap_or(run.created_at);
            vec![
                started
                    .with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                status_text(run.status).to_string(),
                run.flow_name.clone(),
                format!(
                    "{}/{} passed",
                    run.passed_steps,
                    run.total_steps - run.skipped_steps
                ),
                run.duration_ms
                    .map(|ms| format_ms(std::time::Duration::from_millis(ms.max(0).unsigned_abs())))
                    .unwrap_or_else(|| "-".into()),
                run.short_id(),
            ]
        })
        .collect();
    let headers = ["STARTED", "STATUS", "FLOW", "STEPS", "DURATION", "ID"];
    let mut lines = columns(&headers, &rows).into_iter();
    if let Some(header) = lines.next() {
        outln!("{}", paint(&header, "1"));
    }
    for ((text, row), run) in lines.zip(&rows).zip(runs) {
        let code = match run.status {
            ExecutionStatus::Completed => "32",
            ExecutionStatus::Failed => "31",
            _ => "33",
        };
        // Colour only the status cell, after padding (escape codes have no width).
        let status = &row[1];
        outln!("{}", text.replacen(status, &paint(status, code), 1));
    }
    if total > runs.len() as i64 {
        let more = if capped { "+" } else { "" };
        outln!("{} of {total}{more} runs; --limit shows more", runs.len());
    }
}

/// The status as people read it: the store's `completed` is a passed run.
fn status_text(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Completed => "passed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Cancelled => "cancelled",
        ExecutionStatus::Pending => "queued",
        ExecutionStatus::Running => "running",
    }
}
