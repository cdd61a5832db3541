//! `testmesh mock`: serve mock files (hot reload) or an OpenAPI document, record a real API into a
//! mock file, and check mock files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use testmesh_import::openapi::{self, MockValidator, OpenApi};
use testmesh_mock::{
    HubConfig, JournalEntry, LoadError, Mock, MockDefinition, MockHub, MockMode, MockObserver,
    ProxyDef, StartOptions, load,
};

use crate::serve_cmd::shutdown_signal;
use crate::{CliError, EXIT_INVALID_INPUT, EXIT_OK, render};

/// Serve mock servers from files or an OpenAPI document, record a real API, check mock files.
///
/// A mock file holds one mock (`name`, `endpoints`, …) or several under `mocks: [...]`; the
/// format is described in docs/mocks.md.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh mock serve mocks/users.yaml                Serve it (port from the file, or a free one)\n  \
testmesh mock serve mocks/*.yaml --port 8080        First mock on 8080, the others on 8081, 8082, …\n  \
testmesh mock serve --openapi api.yaml --port 4010  Answers from the document's examples; 400/422 for invalid requests\n  \
testmesh mock record --target https://api.example.com --save-to mocks/recorded.yaml --port 8080\n  \
testmesh mock serve mocks/recorded.yaml             Play the recording back\n  \
testmesh mock validate mocks/                       Check mock files without serving them")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: MockCommand,
}

#[derive(clap::Subcommand)]
enum MockCommand {
    Serve(ServeArgs),
    Record(RecordArgs),
    Validate(ValidateArgs),
}

/// Serve every mock of the given files (and/or an OpenAPI document) until Ctrl-C.
///
/// Each mock gets its own listener: the `port` its file gives, else `--port` for the first one and
/// the next free ports after it for the others, else a free port the system picks. A table of the
/// mocks and their URLs is printed. Files are watched: when one changes it is reloaded and its
/// mocks' endpoints are replaced in place (ports stay); a file that no longer loads is reported
/// with file:line:col and the mocks keep serving what they served.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh mock serve examples/mocks/users.yaml\n  \
testmesh mock serve mocks/ --port 9000 --host 0.0.0.0\n  \
testmesh mock serve --openapi petstore.yaml --port 4010\n  \
testmesh mock serve --openapi petstore.yaml --base-path '' mocks/extra.yaml\n\n\
With --openapi, responses come from the document's examples (or are generated from the schemas);\n\
requests are checked against it first: 404 unknown path, 405 wrong method, 400 bad parameters,\n\
415 wrong content type, 422 body not matching its schema, each with the reasons. Send\n\
`Prefer: code=404` or `Prefer: example=NAME` to pick another documented response.\n\n\
Exit codes: 0 stopped by Ctrl-C/SIGTERM, 2 invalid files or arguments, 3 internal error.")]
pub(crate) struct ServeArgs {
    /// Mock files or directories (every *.yaml / *.yml below them) or glob patterns.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Port of the first mock that has none in its file; the others take the next free ports.
    #[arg(long, value_name = "P")]
    port: Option<u16>,
    /// Bind address of mocks that do not set `host` (default 127.0.0.1; 0.0.0.0 for every interface).
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Also serve a mock built from this OpenAPI 3.0/3.1 document, validating requests against it.
    #[arg(long, value_name = "SPEC")]
    openapi: Option<PathBuf>,
    /// Path prefix of the OpenAPI mock's endpoints (default: the path of the document's first
    /// server URL; '' for none).
    #[arg(long, value_name = "P", requires = "openapi")]
    base_path: Option<String>,
    /// Do not reload files when they change.
    #[arg(long)]
    no_watch: bool,
}

/// Forward every request to a real API and save each exchange as an endpoint of a mock file.
///
/// The file is rewritten after every exchange (so it is complete whenever you stop); endpoints
/// already in it are kept. Serve it later with `testmesh mock serve FILE`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh mock record --target https://api.example.com --save-to mocks/api.yaml --port 8080\n  \
curl http://127.0.0.1:8080/users/1      # forwarded, answered, saved\n  \
testmesh mock serve mocks/api.yaml       # answers GET /users/1 like the API did")]
pub(crate) struct RecordArgs {
    /// The real API, e.g. https://api.example.com.
    #[arg(long, value_name = "URL")]
    target: String,
    /// The mock file to write.
    #[arg(long, value_name = "FILE")]
    save_to: PathBuf,
    /// Port to listen on (default: a free one).
    #[arg(long, value_name = "P")]
    port: Option<u16>,
    /// Bind address (default 127.0.0.1).
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Name of the recorded mock (default `recording`).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

/// Check mock files without serving them: syntax, keys, types, regexes, templates, expressions.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh mock validate mocks/\n  testmesh mock validate examples/mocks/users.yaml\n\n\
Exit codes: 0 every file is valid, 2 some file has errors (shown with file:line:col)."
)]
pub(crate) struct ValidateArgs {
    /// Mock files or directories (every *.yaml / *.yml below them) or glob patterns.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    match args.command {
        MockCommand::Serve(args) => serve(args),
        MockCommand::Record(args) => record(args),
        MockCommand::Validate(args) => validate(args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))
}

/// Every problem of a load error, rendered with the file's snippet (file:line:col).
fn render_load_error(path: &Path, error: &LoadError) -> String {
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let shown = path.display().to_string();
    let mut out = String::new();
    for e in &error.errors {
        if e.span.is_some_and(|s| s.line > 0) && !source.is_empty() {
            out.push_str(&render::human(&shown, &source, &e.to_diagnostic()));
        } else {
            out.push_str(&format!("error: {e}\n"));
        }
    }
    out
}

fn load_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<MockDefinition>)>, CliError> {
    let mut loaded = Vec::new();
    let mut failed = String::new();
    for path in paths {
        match load::load_file(path) {
            Ok(mocks) => loaded.push((path.clone(), mocks)),
            Err(e) => failed.push_str(&render_load_error(path, &e)),
        }
    }
    if failed.is_empty() {
        Ok(loaded)
    } else {
        eprint!("{failed}");
        Err(CliError::Input(
            "invalid mock files; nothing is served".into(),
        ))
    }
}

fn validate(args: ValidateArgs) -> Result<u8, CliError> {
    let paths = crate::files::expand(&args.files)?;
    let mut bad = 0;
    for path in &paths {
        match load::load_file(path) {
            Ok(mocks) => {
                let endpoints: usize = mocks.iter().map(|m| m.endpoints.len()).sum();
                outln!(
                    "ok    {}: {} mock(s), {endpoints} endpoint(s)",
                    path.display(),
                    mocks.len()
                );
            }
            Err(e) => {
                bad += 1;
                eprint!("{}", render_load_error(path, &e));
                outln!("error {}: {} problem(s)", path.display(), e.errors.len());
            }
        }
    }
    outln!("{} file(s) checked, {} with errors", paths.len(), bad);
    Ok(if bad > 0 { EXIT_INVALID_INPUT } else { EXIT_OK })
}

fn hub_config(port: Option<u16>, observer: Option<Arc<dyn MockObserver>>) -> HubConfig {
    HubConfig {
        // With --port, mocks without a port take it and the ports after it.
        ports: port.map(|p| p..=p.saturating_add(999).max(p)),
        mount: None,
        observer,
    }
}

struct Served {
    /// The mocks of each file, by name.
    files: HashMap<PathBuf, Vec<(String, Arc<Mock>)>>,
    modified: HashMap<PathBuf, Option<SystemTime>>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn prepare(mut def: MockDefinition, host: &Option<String>) -> MockDefinition {
    if def.host.is_none() {
        def.host.clone_from(host);
    }
    def
}

fn serve(args: ServeArgs) -> Result<u8, CliError> {
    if args.files.is_empty() && args.openapi.is_none() {
        return Err(CliError::Input(
            "give mock files to serve, or --openapi SPEC (see `testmesh mock serve --help`)".into(),
        ));
    }
    let paths = if args.files.is_empty() {
        Vec::new()
    } else {
        crate::files::expand(&args.files)?
    };
    let loaded = load_files(&paths)?;
    let openapi = match &args.openapi {
        Some(spec) => Some(load_openapi(spec, args.base_path.clone())?),
        None => None,
    };
    let runtime = runtime()?;
    runtime.block_on(async move {
        let hub = Arc::new(MockHub::new(hub_config(args.port, None)));
        let mut served = Served {
            files: HashMap::new(),
            modified: HashMap::new(),
        };
        let mut rows = Vec::new();
        let start_error = |e: testmesh_mock::HubError, name: &str| match e {
            testmesh_mock::HubError::Definition(e) => {
                CliError::Input(format!("mock `{name}`: {e}"))
            }
            testmesh_mock::HubError::Bind { .. }
            | testmesh_mock::HubError::PortsExhausted { .. }
            | testmesh_mock::HubError::Tls(_)
            | testmesh_mock::HubError::Recording(_)
            | testmesh_mock::HubError::AlreadyRunning(_) => {
                CliError::Input(format!("mock `{name}`: {e}"))
            }
            other => CliError::Internal(format!("mock `{name}`: {other}")),
        };
        let mut failure = None;
        for (path, mocks) in loaded {
            served.modified.insert(path.clone(), modified(&path));
            let mut list = Vec::new();
            for def in mocks {
                let name = def.name.clone();
                match hub.start(prepare(def, &args.host)).await {
                    Ok(mock) => {
                        rows.push(row(&mock, &path.display().to_string()));
                        list.push((name, mock));
                    }
                    Err(e) => {
                        failure = Some(start_error(e, &name));
                        break;
                    }
                }
            }
            served.files.insert(path, list);
            if failure.is_some() {
                break;
            }
        }
        if failure.is_none()
            && let Some((spec, def, validator)) = openapi
        {
            let name = def.name.clone();
            match hub
                .start_with(
                    prepare(def, &args.host),
                    StartOptions {
                        validator: Some(Arc::new(validator)),
                        execution_id: None,
                    },
                )
                .await
            {
                Ok(mock) => rows.push(row(&mock, &format!("{} (OpenAPI)", spec.display()))),
                Err(e) => failure = Some(start_error(e, &name)),
            }
        }
        if let Some(e) = failure {
            hub.stop_all().await;
            return Err(e);
        }
        print_table(&rows);
        if args.no_watch || paths.is_empty() {
            outln!("Press Ctrl-C to stop.");
        } else {
            outln!(
                "Watching {} file(s) for changes. Press Ctrl-C to stop.",
                paths.len()
            );
        }
        let watch = async {
            if args.no_watch || paths.is_empty() {
                return std::future::pending::<()>().await;
            }
            let mut tick = tokio::time::interval(Duration::from_millis(300));
            loop {
                tick.tick().await;
                reload_changed(&hub, &mut served, &args.host).await;
            }
        };
        tokio::select! {
            () = shutdown_signal() => {}
            () = watch => {}
        }
        hub.stop_all().await;
        outln!("Stopped.");
        Ok(EXIT_OK)
    })
}

fn load_openapi(
    spec: &Path,
    base_path: Option<String>,
) -> Result<(PathBuf, MockDefinition, MockValidator), CliError> {
    let api = OpenApi::load(spec).map_err(|e| CliError::Input(e.to_string()))?;
    let options = openapi::MockOptions {
        name: None,
        base_path,
    };
    let value = openapi::mock_definition(&api, &options);
    let def = load::mock_from_json(&value).map_err(|e| {
        CliError::Internal(format!(
            "the mock built from {} is invalid (please report this):\n{e}",
            spec.display()
        ))
    })?;
    let validator =
        openapi::Validator::new(&api, &options).map_err(|e| CliError::Input(e.to_string()))?;
    Ok((spec.to_path_buf(), def, MockValidator::new(validator)))
}

/// Reloads every file whose modification time changed: endpoints of mocks that are still there are
/// replaced in place, new mocks start, mocks no longer in the file stop.
async fn reload_changed(hub: &MockHub, served: &mut Served, host: &Option<String>) {
    let changed: Vec<PathBuf> = served
        .modified
        .iter()
        .filter(|(path, seen)| modified(path) != **seen)
        .map(|(path, _)| path.clone())
        .collect();
    for path in changed {
        served.modified.insert(path.clone(), modified(&path));
        let shown = path.display().to_string();
        let mocks = match load::load_file(&path) {
            Ok(m) => m,
            Err(e) => {
                eprint!("{}", render_load_error(&path, &e));
                eprintln!("{shown}: not reloaded; the mocks keep serving what they served");
                continue;
            }
        };
        let old = served.files.remove(&path).unwrap_or_default();
        let mut kept = Vec::new();
        let mut by_name: HashMap<String, Arc<Mock>> = old.into_iter().collect();
        for def in mocks {
            let name = def.name.clone();
            if let Some(mock) = by_name.remove(&name) {
                let count = def.endpoints.len();
                match mock.set_endpoints(def.endpoints) {
                    Ok(_) => {
                        outln!("reloaded {shown}: {name} now has {count} endpoint(s)");
                    }
                    Err(e) => {
                        eprintln!("{shown}: mock `{name}` not reloaded:\n{e}");
                    }
                }
                kept.push((name, mock));
            } else {
                match hub.start(prepare(def, host)).await {
                    Ok(mock) => {
                        outln!(
                            "reloaded {shown}: started {name} at {}",
                            mock.base_url().unwrap_or_default()
                        );
                        kept.push((name, mock));
                    }
                    Err(e) => eprintln!("{shown}: cannot start mock `{name}`: {e}"),
                }
            }
        }
        for (name, mock) in by_name {
            let _ = hub.stop(mock.id()).await;
            outln!("reloaded {shown}: stopped {name} (no longer in the file)");
        }
        served.files.insert(path, kept);
    }
}

fn row(mock: &Mock, source: &str) -> [String; 4] {
    [
        mock.name().to_string(),
        mock.base_url().unwrap_or_default().to_string(),
        mock.endpoints().len().to_string(),
        source.to_string(),
    ]
}

fn print_table(rows: &[[String; 4]]) {
    let header = ["MOCK", "URL", "ENDPOINTS", "SOURCE"];
    let mut widths = header.map(str::len);
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.len());
        }
    }
    let line = |cells: [&str; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    outln!("{}", line(header));
    for r in rows {
        outln!("{}", line([&r[0], &r[1], &r[2], &r[3]]));
    }
}

/// Prints each exchange as it is recorded.
struct RecordPrinter {
    file: String,
}

impl MockObserver for RecordPrinter {
    fn on_request(&self, _mock_id: uuid::Uuid, entry: &JournalEntry) {
        let status = entry
            .status
            .map_or_else(|| "no answer".to_string(), |s| s.to_string());
        if entry.outcome == "record" {
            outln!(
                "saved   {} {} → {status} ({:.0} ms) to {}",
                entry.method,
                entry.path,
                entry.duration_ms,
                self.file
            );
        } else {
            outln!(
                "not saved {} {} → {status} ({})",
                entry.method,
                entry.path,
                entry.outcome
            );
        }
    }

    fn on_state(&self, _mock_id: uuid::Uuid, _key: &str, _value: Option<&serde_json::Value>) {}
}

fn record(args: RecordArgs) -> Result<u8, CliError> {
    let target = url::Url::parse(&args.target)
        .map_err(|e| CliError::Input(format!("--target {}: {e}", args.target)))?;
    if !matches!(target.scheme(), "http" | "https") {
        return Err(CliError::Input(format!(
            "--target {}: expected an http:// or https:// URL",
            args.target
        )));
    }
    let save_to = if args.save_to.is_absolute() {
        args.save_to.clone()
    } else {
        std::env::current_dir()
            .map_err(|e| CliError::Internal(format!("cannot read the current directory: {e}")))?
            .join(&args.save_to)
    };
    let mut def = MockDefinition::new(args.name.clone().unwrap_or_else(|| "recording".into()));
    def.mode = MockMode::Record;
    def.proxy = Some(ProxyDef {
        target: args.target.clone(),
        pass_through: true,
    });
    def.save_to = Some(save_to.display().to_string());
    def.port = args.port;
    def.host = args.host.clone();
    let shown = args.save_to.display().to_string();
    let runtime = runtime()?;
    runtime.block_on(async move {
        let observer: Arc<dyn MockObserver> = Arc::new(RecordPrinter {
            file: shown.clone(),
        });
        let hub = MockHub::new(hub_config(None, Some(observer)));
        let mock = hub.start(def).await.map_err(|e| match e {
            testmesh_mock::HubError::Recording(m) => CliError::Input(m),
            other => CliError::Input(other.to_string()),
        })?;
        outln!(
            "Recording {} at {} into {shown}. Send requests there; press Ctrl-C to stop.",
            args.target,
            mock.base_url().unwrap_or_default()
        );
        shutdown_signal().await;
        let count = mock.journal().iter().filter(|e| e.outcome == "record").count();
        hub.stop_all().await;
        outln!("Stopped. {count} exchange(s) saved to {shown}; serve them with `testmesh mock serve {shown}`.");
        Ok(EXIT_OK)
    })
}
