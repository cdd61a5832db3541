//! `testmesh contract`: generate pacts from consumer flows, verify pacts against a running
//! provider, find breaking changes between two versions of a pact (and against the provider's
//! OpenAPI document), and keep contracts in the local store: import, export, list, and
//! `can-i-deploy` from stored verifications.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use testmesh_contract::diff::{Change, DiffReport, Severity};
use testmesh_contract::verify::{
    InteractionFilter, InteractionResult, Outcome, PactSource, VerificationReport, VerifyEvent,
    VerifyOptions, failure_lines,
};
use testmesh_contract::{Pact, PactError, diff_pacts, parse_pact, verify_pacts};
use testmesh_store::{ContractFilter, ContractSource, DEFAULT_WORKSPACE_ID, PactOrigin};

use testmesh_flow::model::step::ContractHints;
use testmesh_runner::{Event, EventSink, RecordedExchange, StepStatus};

use crate::console::format_ms;
use crate::history::{StoreArgs, store_error};
use crate::render::use_color;
use crate::run_cmd;
use crate::{CliError, EXIT_OK, EXIT_TEST_FAILURES};

/// Contract testing with Pact files: generate a consumer's pact from its flows, verify a provider
/// against its consumers' pacts, and find breaking changes between two versions of a pact.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract generate --consumer web --provider users-api flows/consumer/ -o pacts/web-users-api.json\n  \
testmesh contract verify pacts/web-users.json --provider-base-url http://localhost:8080\n  \
testmesh contract verify pacts/ --provider-base-url http://localhost:8080 --state-change-url http://localhost:8080/_pact/state\n  \
testmesh contract diff pacts/v1/web-users.json pacts/v2/web-users.json\n  \
testmesh contract diff old.json new.json --openapi openapi.yaml --json\n  \
testmesh contract import pacts/web-users.json --version 1.4.0\n  \
testmesh contract list\n  \
testmesh contract verify --contract 3f2b… --provider-version 2.1.0 --provider-base-url http://localhost:8080\n  \
testmesh contract can-i-deploy --pacticipant web --version 1.4.0\n\n\
Documentation: docs/contracts.md")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Generate(GenerateArgs),
    Verify(VerifyArgs),
    Diff(DiffArgs),
    Import(ImportArgs),
    Export(ExportArgs),
    List(ListArgs),
    CanIDeploy(CanIDeployArgs),
}

/// Store Pact files (specification 1 to 4) as contracts, written as Pact V4.
///
/// The consumer version is --version, else the pact's metadata.consumerVersion, else
/// imported-<unix seconds>. Importing the same consumer, provider and version again replaces that
/// contract; its stored verifications are dropped when the content changed.
#[derive(clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  \
testmesh contract import pacts/web-users.json --version 1.4.0\n  \
testmesh contract import pacts/   # every *.json file\n  \
testmesh contract import web.json --database-url postgres://testmesh@db/testmesh\n\n\
Exit codes: 0 imported, 2 unreadable or malformed pact, 3 internal error."
)]
struct ImportArgs {
    /// Pact files, or directories whose *.json files are pacts.
    #[arg(value_name = "PACT", required = true)]
    pacts: Vec<PathBuf>,
    /// The consumer version to store them under.
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Write a stored contract as a Pact V4 file.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract export 3f2b8c1e-… -o pacts/web-users.json\n  \
testmesh contract export 3f2b8c1e-… | jq '.interactions | length'\n\n\
Exit codes: 0 written, 2 unknown contract or unwritable file, 3 internal error.")]
struct ExportArgs {
    /// The contract's id (see `testmesh contract list`).
    #[arg(value_name = "ID")]
    id: String,
    /// Where to write it (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// List stored contracts, newest first, with their last verification.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract list\n  \
testmesh contract list --consumer web --json")]
struct ListArgs {
    /// Only this consumer.
    #[arg(long, value_name = "NAME")]
    consumer: Option<String>,
    /// Only this provider.
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// Whether a version of a consumer or provider can be deployed, from stored verifications.
///
/// A consumer version is deployable when every contract of it has a passed verification (against
/// --provider-version when given, else its latest verification passed). A provider version is
/// deployable when the latest contract of every consumer has a passed verification against it.
/// An unknown pacticipant, or a consumer version without contracts, is not deployable.
#[derive(clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Examples:\n  \
testmesh contract can-i-deploy --pacticipant web --version 1.4.0\n  \
testmesh contract can-i-deploy --pacticipant web --version 1.4.0 --provider-version 2.1.0\n  \
testmesh contract can-i-deploy --pacticipant users-api --version 2.1.0 --json\n\n\
Exit codes: 0 deployable, 1 not deployable, 2 bad arguments, 3 internal error."
)]
struct CanIDeployArgs {
    /// The consumer or provider to deploy.
    #[arg(long, value_name = "NAME")]
    pacticipant: String,
    /// Its version.
    #[arg(long, value_name = "VERSION")]
    version: String,
    /// For a consumer: the provider version it will meet.
    #[arg(long, value_name = "VERSION")]
    provider_version: Option<String>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// Run consumer flows and write the Pact (V4) their HTTP requests describe.
///
/// Every passed http_request step becomes an interaction (identical calls collapse into one);
/// volatile response values get matching rules (UUIDs, ISO dates and timestamps, numeric ids,
/// arrays of similar objects); a step's `contract:` hints set its description, provider states
/// and matching rules. Only Content-Type, Accept and Authorization request headers are kept, and
/// Authorization never with its credentials. Flows run one at a time, in the order given.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract generate --consumer web --provider users-api flows/consumer/ -o pacts/web-users-api.json\n  \
testmesh contract generate --consumer web --provider users-api checkout.yaml --var BASE_URL=http://localhost:8080 -o pact.json\n\n\
Exit codes: 0 the pact was written, 1 a flow failed (nothing is written) or no request was made, \
2 invalid flows or arguments, 3 internal error.")]
struct GenerateArgs {
    /// Flow files, directories or glob patterns (the consumer's flows).
    #[arg(value_name = "FLOW", required = true)]
    flows: Vec<String>,
    /// The consumer's name.
    #[arg(long)]
    consumer: String,
    /// The provider's name.
    #[arg(long)]
    provider: String,
    /// Write the pact here (the flows' progress is printed on standard output).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Read variables from a dotenv file (repeatable; later files win).
    #[arg(long, value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Set a variable (repeatable), e.g. --var BASE_URL=http://localhost:8080.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    vars: Vec<(String, String)>,
    /// Set a variable whose value is masked in all output and in the pact (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE", value_parser = parse_pair)]
    secrets: Vec<(String, String)>,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

/// Collects the passed http_request steps of a run, in order, with their flows' hints.
struct Collector {
    /// Step id → hints, by flow name.
    hints: HashMap<String, HashMap<String, ContractHints>>,
    flows: Mutex<HashMap<String, String>>,
    exchanges: Mutex<Vec<RecordedExchange>>,
}

impl EventSink for Collector {
    fn on_event(&self, event: Event<'_>) {
        match event {
            Event::FlowStarted {
                execution_id, name, ..
            } => {
                lock(&self.flows).insert(execution_id.to_string(), name.to_string());
            }
            Event::StepFinished {
                execution_id,
                record,
                ..
            } if matches!(record.action.as_str(), "http_request" | "http")
                && record.status == StepStatus::Passed =>
            {
                let (Some(request), Some(response)) = (&record.request, &record.response) else {
                    return;
                };
                let flow = lock(&self.flows).get(execution_id).cloned();
                let hints = flow
                    .and_then(|f| self.hints.get(&f))
                    .and_then(|h| h.get(&record.id))
                    .cloned();
                lock(&self.exchanges).push(RecordedExchange {
                    step_id: record.id.clone(),
                    step_name: record.name.clone(),
                    hints,
                    request: request.clone(),
                    response: response.clone(),
                });
            }
            _ => {}
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn generate(args: GenerateArgs) -> Result<u8, CliError> {
    // The flows' `contract:` hints, by flow and step (files with errors are reported by the run).
    let mut hints: HashMap<String, HashMap<String, ContractHints>> = HashMap::new();
    for path in crate::files::expand(&args.flows)? {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(flow) = testmesh_flow::load_str(&text).flow {
            let by_step = hints.entry(flow.name.clone()).or_default();
            for (_, steps) in flow.phases() {
                testmesh_flow::Step::walk(steps, &mut |step| {
                    if let Some(h) = &step.contract {
                        by_step.insert(step.id.clone(), h.clone());
                    }
                });
            }
        }
    }
    let collector = Arc::new(Collector {
        hints,
        flows: Mutex::new(HashMap::new()),
        exchanges: Mutex::new(Vec::new()),
    });
    let plan = run_cmd::Plan {
        paths: args.flows.clone(),
        variables: run_cmd::variables(&args.env_file, &args.vars, &args.secrets)?,
        secrets: testmesh_runner::Secrets::new(args.secrets.iter().map(|(_, v)| v.clone())),
        tags: Vec::new(),
        exclude_tags: Vec::new(),
        suites: Vec::new(),
        // One at a time, so the interactions come in the order the flows were given.
        jobs: 1,
        fail_fast: false,
        timeout: None,
        reports: Vec::new(),
        store: None,
        mock_ports: None,
        observer: Some(collector.clone()),
    };
    let runtime = run_cmd::runtime()?;
    let code = run_cmd::execute(plan, &runtime)?;
    if code != EXIT_OK {
        eprintln!("✗ a flow did not pass; no pact was written");
        return Ok(code);
    }
    let recorded = lock(&collector.exchanges).clone();
    let exchanges: Vec<_> = recorded
        .iter()
        .filter_map(testmesh_contract::actions::observed_from_recorded)
        .collect();
    if exchanges.is_empty() {
        eprintln!("✗ the flows made no HTTP request a pact could describe; no pact was written");
        return Ok(EXIT_TEST_FAILURES);
    }
    let pact = testmesh_contract::pact_from_exchanges(&args.consumer, &args.provider, &exchanges)
        .map_err(|e| CliError::Input(e.to_string()))?;
    let text = pact.to_json_string();
    crate::files::write_atomically(&args.output, &format!("{text}\n"))?;
    crate::write_stdout(&format!(
        "wrote {} ({} interaction(s) from {} request(s))\n",
        args.output.display(),
        pact.interactions.len(),
        exchanges.len()
    ));
    Ok(EXIT_OK)
}

/// Replay every interaction of the pacts against a running provider and compare its answers with
/// what the consumers expect.
///
/// Before each interaction its provider states are set up by POSTing
/// {"state": NAME, "params": {…}, "action": "setup"} to --state-change-url (the Pact reference's
/// request shape); the JSON the URL answers feeds ProviderState generators. Request generators
/// (random values, UUIDs, dates, provider-state values) are applied, --header values replace the
/// pact's headers of the same name, and the response is compared with the pact's matching rules.
/// Messages are asked of the provider with POST {"description": …, "providerStates": […]} to
/// --message-url (default: the provider base URL).
///
/// Pending interactions are reported but never fail the run. A provider that stops answering
/// makes the remaining interactions errors; every interaction is still reported.
///
/// With --contract ID (instead of PACT files) the stored contract is verified and the result is
/// stored as its verification of --provider-version, which `can-i-deploy` reads. Pact files are
/// only verified, never stored: import them first to keep their verifications.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract verify pacts/web-users.json --provider-base-url http://localhost:8080\n  \
testmesh contract verify pacts/ --provider-base-url http://localhost:8080 \\\n      \
--state-change-url http://localhost:8080/_pact/state --state-change-teardown\n  \
testmesh contract verify web.json --provider-base-url https://staging.example.com --header 'Authorization: Bearer $TOKEN'\n  \
testmesh contract verify web.json --provider-base-url http://localhost:8080 --filter-description '^get' --junit reports/pact.xml\n  \
testmesh contract verify web.json --provider-base-url http://localhost:8080 --filter-state ''   # only interactions without states\n  \
testmesh contract verify --contract 3f2b8c1e-… --provider-version 2.1.0 --provider-base-url http://localhost:8080\n\n\
Exit codes: 0 every interaction passed (pending ones may fail), 1 an interaction failed or could not be checked, \
2 unreadable pact or bad arguments, 3 internal error.")]
struct VerifyArgs {
    /// Pact files, or directories whose *.json files are pacts.
    #[arg(value_name = "PACT", required_unless_present = "contract")]
    pacts: Vec<PathBuf>,
    /// Verify this stored contract and store the result (see `testmesh contract list`).
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "pacts",
        requires = "provider_version"
    )]
    contract: Option<String>,
    /// The provider version verified, stored with the result (with --contract).
    #[arg(long, value_name = "VERSION", requires = "contract")]
    provider_version: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
    /// Where the provider runs (may include a base path).
    #[arg(long, value_name = "URL")]
    provider_base_url: String,
    /// Where provider states are set up (and torn down).
    #[arg(long, value_name = "URL")]
    state_change_url: Option<String>,
    /// Send state changes as query parameters (state, action, one per param) instead of JSON.
    #[arg(long)]
    state_change_as_query: bool,
    /// Also tear provider states down after each interaction ("action": "teardown").
    #[arg(long)]
    state_change_teardown: bool,
    /// Add a header to every request to the provider, replacing the pact's (repeatable),
    /// e.g. --header 'Authorization: Bearer abc'. Values are masked in reports.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Verify only interactions whose description matches this regex.
    #[arg(long, value_name = "REGEX")]
    filter_description: Option<String>,
    /// Verify only interactions with a provider state matching this regex ('' selects those
    /// without states).
    #[arg(long, value_name = "STATE")]
    filter_state: Option<String>,
    /// Verify only pacts of this consumer (repeatable).
    #[arg(long = "filter-consumer", value_name = "NAME")]
    filter_consumers: Vec<String>,
    /// Where messages are asked for (default: the provider base URL).
    #[arg(long, value_name = "URL")]
    message_url: Option<String>,
    /// Timeout of each request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    timeout: f64,
    /// Write a JUnit XML report (a testcase per interaction).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Compare two versions of a pact between the same consumer and provider and list what changed,
/// each change with a severity (breaking, warning, info), the interaction and the path.
///
/// The question answered: would a consumer written against OLD still work with a provider that
/// behaves as NEW says? A request that demands more (a new required field, header or parameter, a
/// stricter matcher, fewer allowed values) or a response that promises less (a removed field, a
/// changed type or status, a looser matcher) is breaking.
///
/// With --openapi, the NEW pact is also checked against the provider's OpenAPI document: routes
/// that do not exist, requests that break the documented parameters or body, statuses that are not
/// documented and response examples that break the documented schema.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh contract diff pacts/v1/web-users.json pacts/v2/web-users.json\n  \
testmesh contract diff old.json new.json --openapi openapi.yaml\n  \
testmesh contract diff old.json new.json --json | jq '.diff.changes[] | select(.severity == \"breaking\")'\n\n\
Exit codes: 0 no breaking change, 1 breaking changes, 2 unreadable input or pacts between different parties, 3 internal error.")]
struct DiffArgs {
    /// The earlier version of the pact.
    #[arg(value_name = "OLD")]
    old: PathBuf,
    /// The later version.
    #[arg(value_name = "NEW")]
    new: PathBuf,
    /// Also check NEW against the provider's OpenAPI document (YAML or JSON).
    #[arg(long, value_name = "SPEC")]
    openapi: Option<PathBuf>,
    /// Print the changes as JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "expected 'NAME: VALUE' such as 'Authorization: Bearer abc', got '{text}'"
        )),
    }
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    match args.command {
        Command::Generate(args) => generate(args),
        Command::Verify(args) => verify(args),
        Command::Diff(args) => diff(args),
        Command::Import(args) => import(args),
        Command::Export(args) => export(args),
        Command::List(args) => list(args),
        Command::CanIDeploy(args) => can_i_deploy(args),
    }
}

/// Reads and parses a pact; errors name the file and the line and column (syntax) or the JSON path
/// (shape).
fn load_pact(path: &Path) -> Result<Pact, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    parse_pact(&text).map_err(|e| CliError::Input(pact_error(path, &text, &e)))
}

fn pact_error(path: &Path, text: &str, error: &PactError) -> String {
    let shown = path.display().to_string();
    let PactError::Syntax {
        line,
        column,
        message,
    } = error
    else {
        return format!("{shown}: invalid pact: {error}");
    };
    // serde_json's message repeats the position; keep only what went wrong.
    let what = message.split(" at line ").next().unwrap_or(message);
    let mut out = format!("{shown}:{line}:{column}: malformed JSON: {what}");
    let lines: Vec<&str> = text.lines().collect();
    let width = line.to_string().len();
    for n in line.saturating_sub(1).max(1)..=*line {
        if let Some(source) = lines.get(n - 1) {
            out.push_str(&format!("\n  {n:>width$} │ {source}"));
        }
    }
    out.push_str(&format!(
        "\n  {:>width$} │ {}^ here",
        "",
        " ".repeat(column.saturating_sub(1))
    ));
    out
}

/// Files and directories (their *.json files, sorted).
fn pact_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                return Err(CliError::Input(format!(
                    "{}: no *.json pact files in this directory",
                    path.display()
                )));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn verify(args: VerifyArgs) -> Result<u8, CliError> {
    let runtime = crate::run_cmd::runtime()?;
    let mut sources = Vec::new();
    let stored = match &args.contract {
        Some(id) => {
            let store = runtime.block_on(args.store.open())?;
            let (_, pact) = runtime
                .block_on(store.load_pact(DEFAULT_WORKSPACE_ID, id))
                .map_err(|e| store_error(&e))?;
            sources.push(PactSource {
                source: format!("contract {id}"),
                pact,
            });
            Some((store, id.clone()))
        }
        None => None,
    };
    for path in pact_files(&args.pacts)? {
        sources.push(PactSource {
            source: path.display().to_string(),
            pact: load_pact(&path)?,
        });
    }
    let description = args
        .filter_description
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| CliError::Input(format!("--filter-description: {e}")))?;
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(CliError::Input(
            "--timeout: expected a positive number of seconds".into(),
        ));
    }
    let mut options = VerifyOptions::new(&args.provider_base_url);
    options.state_change_url = args.state_change_url;
    options.state_change_as_query = args.state_change_as_query;
    options.state_change_teardown = args.state_change_teardown;
    options.headers = args.headers;
    options.timeout = Duration::from_secs_f64(args.timeout);
    options.message_url = args.message_url;
    options.filter = InteractionFilter {
        description,
        state: args.filter_state,
        consumers: args.filter_consumers,
    };
    let printer = Printer::new(!args.json);
    let report = runtime
        .block_on(verify_pacts(&sources, &options, &|event| {
            printer.on_event(event)
        }))
        .map_err(|e| CliError::Input(e.to_string()))?;
    printer.finish();
    if let Some(path) = &args.junit {
        let xml = report
            .to_junit()
            .map_err(|e| CliError::Internal(format!("cannot write the JUnit report: {e}")))?;
        crate::files::write_atomically(path, &xml)?;
        if !args.json {
            eprintln!("wrote {}", path.display());
        }
    }
    if let (Some((store, id)), Some(version)) = (&stored, &args.provider_version) {
        let verification = runtime
            .block_on(store.record_verification_report(
                DEFAULT_WORKSPACE_ID,
                id,
                version,
                &report,
                None,
            ))
            .map_err(|e| CliError::Internal(format!("cannot store the verification: {e}")))?;
        if !args.json {
            eprintln!(
                "stored verification {} ({}) of contract {id} against provider version {version}",
                verification.info.id,
                verification.info.status.as_str()
            );
        }
    }
    if args.json {
        outln!("{}", report.to_json_string());
    } else {
        outln!("{}", printer.summary(&report));
    }
    Ok(if report.failed() {
        EXIT_TEST_FAILURES
    } else {
        EXIT_OK
    })
}

/// The consumer version of an imported file: --version, `metadata.consumerVersion`, or
/// `imported-<unix seconds>`.
fn import_version(given: Option<&str>, text: &str) -> String {
    given
        .map(str::to_string)
        .or_else(|| {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()?
                .pointer("/metadata/consumerVersion")?
                .as_str()
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("imported-{}", chrono::Utc::now().timestamp()))
}

fn import(args: ImportArgs) -> Result<u8, CliError> {
    // Every file is read and checked before anything is stored.
    let mut pacts = Vec::new();
    for path in pact_files(&args.pacts)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
        let pact = parse_pact(&text).map_err(|e| CliError::Input(pact_error(&path, &text, &e)))?;
        let version = import_version(args.version.as_deref(), &text);
        pacts.push((path, pact, version));
    }
    let runtime = crate::run_cmd::runtime()?;
    runtime.block_on(async {
        let store = args.store.open().await?;
        for (path, pact, version) in &pacts {
            let origin = PactOrigin {
                version: version.clone(),
                source: ContractSource::Imported,
                flow_id: None,
                execution_id: None,
            };
            let contract = store
                .save_pact(DEFAULT_WORKSPACE_ID, pact, &origin)
                .await
                .map_err(|e| store_error(&e))?;
            let c = &contract.info;
            outln!(
                "imported {}: {} → {} {} ({} interactions) as {}",
                path.display(),
                c.consumer,
                c.provider,
                c.version,
                c.interaction_count,
                c.id
            );
        }
        Ok(EXIT_OK)
    })
}

fn export(args: ExportArgs) -> Result<u8, CliError> {
    let runtime = crate::run_cmd::runtime()?;
    let contract = runtime.block_on(async {
        let store = args.store.open().await?;
        store
            .get_contract(DEFAULT_WORKSPACE_ID, &args.id)
            .await
            .map_err(|e| store_error(&e))
    })?;
    let text = serde_json::to_string_pretty(&contract.pact)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    match &args.output {
        Some(path) => {
            crate::files::write_atomically(path, &format!("{text}\n"))?;
            eprintln!(
                "wrote {} ({} → {} {}, Pact V4)",
                path.display(),
                contract.info.consumer,
                contract.info.provider,
                contract.info.version
            );
        }
        None => outln!("{text}"),
    }
    Ok(EXIT_OK)
}

fn list(args: ListArgs) -> Result<u8, CliError> {
    if args.limit < 1 {
        return Err(CliError::Input("--limit must be at least 1".into()));
    }
    let runtime = crate::run_cmd::runtime()?;
    let page = runtime.block_on(async {
        let store = args.store.open().await?;
        store
            .list_contracts(
                DEFAULT_WORKSPACE_ID,
                &ContractFilter {
                    consumer: args.consumer.clone(),
                    provider: args.provider.clone(),
                    limit: Some(args.limit),
                    offset: None,
                },
            )
            .await
            .map_err(|e| store_error(&e))
    })?;
    if args.json {
        let text = serde_json::to_string_pretty(&page.items)
            .map_err(|e| CliError::Internal(e.to_string()))?;
        outln!("{text}");
        return Ok(EXIT_OK);
    }
    if page.items.is_empty() {
        outln!("no contracts stored; import one with `testmesh contract import PACT`");
        return Ok(EXIT_OK);
    }
    let rows: Vec<[String; 6]> = page
        .items
        .iter()
        .map(|c| {
            let verification = match &c.last_verification {
                Some(v) => format!("{} against {}", v.status.as_str(), v.provider_version),
                None => "unverified".into(),
            };
            [
                c.id.clone(),
                c.consumer.clone(),
                c.provider.clone(),
                c.version.clone(),
                c.interaction_count.to_string(),
                verification,
            ]
        })
        .collect();
    let header = [
        "ID",
        "CONSUMER",
        "PROVIDER",
        "VERSION",
        "INTERACTIONS",
        "LAST VERIFICATION",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    outln!("{}", line(header.to_vec()));
    for row in &rows {
        outln!("{}", line(row.iter().map(String::as_str).collect()));
    }
    if page.total > page.items.len() as i64 {
        outln!(
            "({} of {} shown; use --limit)",
            page.items.len(),
            page.total
        );
    }
    Ok(EXIT_OK)
}

fn can_i_deploy(args: CanIDeployArgs) -> Result<u8, CliError> {
    let runtime = crate::run_cmd::runtime()?;
    let verdict = runtime.block_on(async {
        let store = args.store.open().await?;
        store
            .can_i_deploy(
                DEFAULT_WORKSPACE_ID,
                &args.pacticipant,
                &args.version,
                args.provider_version.as_deref(),
            )
            .await
            .map_err(|e| store_error(&e))
    })?;
    if args.json {
        let text = serde_json::to_string_pretty(&verdict)
            .map_err(|e| CliError::Internal(e.to_string()))?;
        outln!("{text}");
    } else {
        let color = use_color(std::io::stdout().is_terminal());
        for reason in &verdict.reasons {
            let mark = if reason.ok {
                paint(color, "✓", "32")
            } else {
                paint(color, "✗", "31")
            };
            outln!("{mark} {}", reason.message);
        }
        let answer = if verdict.deployable {
            paint(color, "yes", "32")
        } else {
            paint(color, "no", "31")
        };
        outln!(
            "can I deploy {} {}? {answer}",
            verdict.pacticipant,
            verdict.version
        );
    }
    Ok(if verdict.deployable {
        EXIT_OK
    } else {
        EXIT_TEST_FAILURES
    })
}

/// Live output of `contract verify`: a progress bar on a terminal, a line per interaction.
struct Printer {
    enabled: bool,
    color: bool,
    bar: Option<ProgressBar>,
    current: Mutex<Option<String>>,
}

impl Printer {
    fn new(enabled: bool) -> Self {
        let tty = std::io::stdout().is_terminal();
        Printer {
            enabled,
            color: use_color(tty),
            bar: (enabled && tty).then(|| {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {pos}/{len} interactions {elapsed} {wide_msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }),
            current: Mutex::new(None),
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn print(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| out!("{text}")),
            None => out!("{text}"),
        }
    }

    fn on_event(&self, event: VerifyEvent<'_>) {
        if !self.enabled {
            return;
        }
        match event {
            VerifyEvent::Started { total } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(total as u64);
                }
            }
            VerifyEvent::InteractionStarted {
                consumer,
                description,
            } => {
                let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
                if current.as_deref() != Some(consumer) {
                    self.print(&format!("{}\n", self.paint(consumer, "1")));
                    *current = Some(consumer.to_string());
                }
                if let Some(bar) = &self.bar {
                    bar.set_message(description.to_string());
                }
            }
            VerifyEvent::InteractionFinished { result, .. } => {
                self.print(&self.result_block(result));
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn result_block(&self, result: &InteractionResult) -> String {
        let (mark, color) = match result.outcome {
            Outcome::Passed => ("✓", "32"),
            Outcome::Failed => ("✗", "31"),
            Outcome::Error => ("!", "31"),
            Outcome::Pending => ("○", "33"),
            Outcome::Skipped => ("-", "2"),
        };
        let given = if result.provider_states.is_empty() {
            String::new()
        } else {
            format!(" (given {})", result.provider_states.join(" and "))
        };
        let mut detail = vec![format_ms(result.duration)];
        match result.outcome {
            Outcome::Pending => detail.push("pending, does not fail the run".into()),
            Outcome::Skipped => detail.push("skipped".into()),
            Outcome::Error => detail.push("error".into()),
            _ => {}
        }
        let mut out = format!(
            "  {} {}{} {}\n",
            self.paint(mark, color),
            result.description,
            given,
            self.paint(&detail.join(", "), "2")
        );
        if result.outcome != Outcome::Passed {
            for line in failure_lines(result) {
                let line_color = if result.outcome.is_failure() {
                    "31"
                } else {
                    "2"
                };
                out.push_str(&format!("      {}\n", self.paint(&line, line_color)));
            }
            if result.outcome.is_failure() || result.outcome == Outcome::Pending {
                if let Some(request) = &result.request {
                    out.push_str(&format!(
                        "      request:  {} {}\n",
                        request.method, request.url
                    ));
                }
                if let Some(response) = &result.response {
                    let body = response
                        .body
                        .as_deref()
                        .map(|b| shorten(b, 300))
                        .unwrap_or_default();
                    out.push_str(&format!("      response: {} {body}\n", response.status));
                }
            }
        }
        for warning in &result.warnings {
            out.push_str(&format!(
                "      {} {warning}\n",
                self.paint("generator:", "33")
            ));
        }
        out
    }

    fn summary(&self, report: &VerificationReport) -> String {
        let s = &report.summary;
        let mut parts = vec![format!("{} passed", s.passed)];
        if s.failed > 0 {
            parts.push(self.paint(&format!("{} failed", s.failed), "31"));
        }
        if s.errors > 0 {
            let noun = if s.errors == 1 { "error" } else { "errors" };
            parts.push(self.paint(&format!("{} {noun}", s.errors), "31"));
        }
        if s.pending > 0 {
            parts.push(self.paint(&format!("{} pending", s.pending), "33"));
        }
        if s.skipped > 0 {
            parts.push(format!("{} skipped", s.skipped));
        }
        if s.filtered_out > 0 {
            parts.push(format!("{} filtered out", s.filtered_out));
        }
        let (mark, color) = if report.failed() {
            ("✗", "31")
        } else {
            ("✓", "32")
        };
        format!(
            "\n{} {} interaction{} against {}: {} ({})",
            self.paint(mark, color),
            s.total,
            if s.total == 1 { "" } else { "s" },
            report.provider_base_url,
            parts.join(", "),
            format_ms(report.duration)
        )
    }
}

fn shorten(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn diff(args: DiffArgs) -> Result<u8, CliError> {
    let old = load_pact(&args.old)?;
    let new = load_pact(&args.new)?;
    let report = diff_pacts(&old, &new).map_err(|e| CliError::Input(e.to_string()))?;
    let openapi = match &args.openapi {
        None => None,
        Some(path) => {
            let api = testmesh_import::openapi::OpenApi::load(path)
                .map_err(|e| CliError::Input(e.to_string()))?;
            let changes = testmesh_import::pact::check_pact_against_openapi(&new, &api)
                .map_err(|e| CliError::Input(e.to_string()))?;
            Some((path.display().to_string(), changes))
        }
    };
    let openapi_breaking = openapi
        .as_ref()
        .is_some_and(|(_, c)| c.iter().any(|c| c.severity == Severity::Breaking));
    if args.json {
        let mut document = json!({"old": args.old.display().to_string(), "new": args.new.display().to_string(), "diff": report});
        if let Some((spec, changes)) = &openapi {
            document["openapi"] = json!({"spec": spec, "changes": changes});
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&document)
                .map_err(|e| CliError::Internal(format!("cannot serialise the changes: {e}")))?
        );
    } else {
        let color = use_color(std::io::stdout().is_terminal());
        outln!(
            "{} → {}: {} → {}",
            report.consumer,
            report.provider,
            args.old.display(),
            args.new.display()
        );
        outln!("{}", change_lines(&report.changes, color));
        if let Some((spec, changes)) = &openapi {
            outln!("{} checked against {spec}:", args.new.display());
            outln!("{}", change_lines(changes, color));
        }
        outln!(
            "{}",
            diff_summary(&report, openapi.as_ref().map(|(_, c)| c.as_slice()), color)
        );
    }
    Ok(if report.has_breaking() || openapi_breaking {
        EXIT_TEST_FAILURES
    } else {
        EXIT_OK
    })
}

fn paint(color: bool, text: &str, code: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn change_lines(changes: &[Change], color: bool) -> String {
    if changes.is_empty() {
        return "  no changes".to_string();
    }
    let mut out = Vec::new();
    let mut current: Option<&str> = None;
    for change in changes {
        if current != Some(change.interaction.as_str()) {
            out.push(format!("  {}", change.interaction));
            current = Some(&change.interaction);
        }
        let (mark, code) = match change.severity {
            Severity::Breaking => ("✗ breaking", "31"),
            Severity::Warning => ("! warning ", "33"),
            Severity::Info => ("· info    ", "2"),
        };
        out.push(format!(
            "    {} {}: {}  {}",
            paint(color, mark, code),
            change.location(),
            change.message,
            paint(color, &format!("[{}]", change.rule), "2")
        ));
    }
    out.join("\n")
}

fn diff_summary(report: &DiffReport, openapi: Option<&[Change]>, color: bool) -> String {
    let mut all: Vec<&Change> = report.changes.iter().collect();
    if let Some(changes) = openapi {
        all.extend(changes);
    }
    let count = |s| all.iter().filter(|c| c.severity == s).count();
    let breaking = count(Severity::Breaking);
    let (mark, code) = if breaking > 0 {
        ("✗", "31")
    } else {
        ("✓", "32")
    };
    format!(
        "\n{} {} change{}: {} breaking, {} warning{}, {} info",
        paint(color, mark, code),
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        breaking,
        count(Severity::Warning),
        if count(Severity::Warning) == 1 {
            ""
        } else {
            "s"
        },
        count(Severity::Info)
    )
}
