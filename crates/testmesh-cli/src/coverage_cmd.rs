//! `testmesh coverage`: which operations of an OpenAPI document the flows exercise, read from the
//! flow files and, optionally, from the recorded history.

use std::path::{Path, PathBuf};

use testmesh_import::coverage::{self, Call, CallSource, CoverageOptions};
use testmesh_import::openapi::OpenApi;
use testmesh_store::ai::HttpCallFilter;

use crate::files::{self, write_atomically};
use crate::history::{StoreArgs, store_error};
use crate::{CliError, EXIT_OK, EXIT_TEST_FAILURES};

/// Measure which operations and status codes of an OpenAPI-described API the flows exercise.
///
/// For every operation (method + path template) of the document: the flows and steps that call
/// it, the status codes the flows assert (or, with --from-history, that recorded runs saw)
/// against the ones the document declares; then the operations no flow calls, the calls that
/// match no operation, and what to test next.
///
/// Flow URLs are matched to path templates after removing `${BASE_URL}`-style prefixes, the
/// scheme and host, --base-url, the document's server path and the query string; a `${…}` in a
/// path segment matches a `{param}`. Operations are covered when at least one flow calls them.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh coverage --spec openapi.yaml flows/\n  \
testmesh coverage --spec openapi.yaml flows/ --format html -o coverage.html\n  \
testmesh coverage --spec openapi.yaml --from-history --format json\n  \
testmesh coverage --spec openapi.yaml flows/ --fail-under 80\n\n\
Exit codes: 0 measured, 1 coverage under --fail-under, 2 invalid input, 3 internal error.")]
pub(crate) struct Args {
    /// The OpenAPI document (3.0, 3.1 or Swagger 2.0).
    #[arg(long, value_name = "SPEC")]
    spec: PathBuf,
    /// Flow files, directories or glob patterns read for HTTP steps.
    #[arg(value_name = "FLOWS")]
    flows: Vec<String>,
    /// Also count the HTTP requests of recorded executions, with the statuses they received.
    #[arg(long)]
    from_history: bool,
    /// A base URL to strip from request URLs, besides `${…}` prefixes and scheme and host.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Output: `table` for people, `json` for scripts, `html` for a page to keep.
    #[arg(long, short, value_name = "FORMAT", default_value = "table", value_parser = ["table", "json", "html"])]
    format: String,
    /// Write the output to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 1 when fewer than this percentage of operations are covered.
    #[arg(long, value_name = "PERCENT")]
    fail_under: Option<f64>,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    if args.flows.is_empty() && !args.from_history {
        return Err(CliError::Input(
            "name the flows to read (files, directories or patterns) or pass --from-history".into(),
        ));
    }
    if let Some(pct) = args.fail_under
        && !(0.0..=100.0).contains(&pct)
    {
        return Err(CliError::Input(format!(
            "--fail-under {pct}: expected a percentage between 0 and 100"
        )));
    }
    let api = OpenApi::load(&args.spec).map_err(|e| CliError::Input(e.to_string()))?;
    let mut calls = if args.flows.is_empty() {
        Vec::new()
    } else {
        static_calls(&files::expand(&args.flows)?)
    };
    if args.from_history {
        calls.extend(history_calls(&args.store)?);
    }
    let report = coverage::analyze(
        &api,
        &calls,
        &CoverageOptions {
            base_url: args.base_url.clone(),
        },
    );
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&report.to_json()).unwrap_or_default() + "\n",
        "html" => report.to_html(),
        _ => report.to_table(),
    };
    match &args.output {
        Some(path) => {
            write_atomically(path, &text)?;
            errln!(
                "{:.1}% of {} operations covered; wrote {}",
                report.percent,
                report.total,
                path.display()
            );
        }
        None => crate::write_stdout(&text),
    }
    match args.fail_under {
        Some(min) if report.percent < min => {
            if args.output.is_some() || args.format != "table" {
                errln!(
                    "coverage {:.1}% is under --fail-under {min}%",
                    report.percent
                );
            } else {
                outln!(
                    "coverage {:.1}% is under --fail-under {min}%",
                    report.percent
                );
            }
            Ok(EXIT_TEST_FAILURES)
        }
        _ => Ok(EXIT_OK),
    }
}

/// The HTTP steps of every flow file, read on all cores. Files that are not flows (mocks) are
/// left out; flows that do not load are reported and left out.
fn static_calls(paths: &[PathBuf]) -> Vec<Call> {
    let per_file = files::map_parallel(paths, calls_of_file, || {
        Err("a reading thread panicked".to_string())
    });
    let mut calls = Vec::new();
    for (path, result) in paths.iter().zip(per_file) {
        match result {
            Ok(found) => calls.extend(found),
            Err(message) => errln!("warning: {}: {message}; left out", path.display()),
        }
    }
    calls
}

fn calls_of_file(path: &Path) -> Result<Vec<Call>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    if files::is_mock_file(&text) {
        return Ok(Vec::new());
    }
    let loaded = testmesh_flow::load_str(&text);
    match (&loaded.flow, loaded.errors().next()) {
        (Some(flow), None) => Ok(coverage::calls_in_flow(flow, &path.display().to_string())),
        (_, Some(error)) => Err(format!("line {}: {}", error.span.line, error.message)),
        (None, None) => Err("not a flow".into()),
    }
}

/// The HTTP requests recorded in the history, with the status each received.
fn history_calls(store: &StoreArgs) -> Result<Vec<Call>, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let store = store.open().await?;
        let recorded = store
            .http_calls(
                testmesh_store::DEFAULT_WORKSPACE_ID,
                &HttpCallFilter::default(),
            )
            .await
            .map_err(|e| store_error(&e))?;
        if recorded.truncated {
            errln!(
                "note: the history holds more HTTP requests than are read; only the newest {} \
                 were counted",
                recorded.calls.len()
            );
        }
        Ok(recorded
            .calls
            .into_iter()
            .map(|r| Call {
                flow: r.flow_name,
                step: r.step_id,
                method: r.method,
                url: r.url,
                statuses: r.status.into_iter().collect(),
                source: CallSource::History,
            })
            .collect())
    })
}
