//! `testmesh report`: a report over the recorded history, as one self-contained HTML file, JUnit
//! XML or JSON.

use std::path::PathBuf;

use chrono::Utc;
use testmesh_report::collect::{DEFAULT_FAILURE_DETAIL_LIMIT, ReportRequest};
use testmesh_report::model::ReportFilters;
use testmesh_store::{DEFAULT_WORKSPACE_ID, ReportFormat};

use crate::days::{Day, last_days};
use crate::history::StoreArgs;
use crate::{CliError, EXIT_OK};

/// Write a report over the recorded runs (`testmesh run` records every run; `testmesh serve`
/// records the runs it queues): pass-rate and duration trends with p50/p95/p99, the flakiest
/// flows, failures grouped by cause, the slowest steps, each flow's history and every failure
/// with its steps.
///
/// Formats: `html` — one self-contained file (inline CSS and SVG charts, nothing loaded from the
/// network) to open in a browser or keep as a CI artifact; `junit` — JUnit XML for GitHub
/// Actions, GitLab and Jenkins (a testcase per flow, its newest run deciding; earlier failures
/// of a flow that passes now are marked flaky); `json` — the report's data (schema in
/// docs/reports.md).
///
/// The period is whole UTC days: --from and --to take YYYY-MM-DD, `today`, `yesterday` or `Nd`
/// (N days ago); by default the last 30 days up to today.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh report -o report.html\n  \
testmesh report --format junit --from today -o reports/junit.xml\n  \
testmesh report --format json --from 2026-11-01 --to 2026-11-30 --suite checkout -o november.json\n  \
testmesh report --flow 'Checkout totals' --status failed --from 7d\n  \
testmesh report --database-url postgres://testmesh@db/testmesh -o - > report.html\n\n\
Exit codes: 0 written, 2 bad arguments or an unusable database, 3 internal error.")]
pub(crate) struct Args {
    /// Report format.
    #[arg(long, short, value_name = "FORMAT", default_value = "html", value_parser = ["html", "junit", "json"])]
    format: String,
    /// Where to write it (`-` for standard output) [default: testmesh-report.html|.xml|.json].
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// First day covered (YYYY-MM-DD, today, yesterday or Nd) [default: 29 days before --to].
    #[arg(long, value_name = "DAY")]
    from: Option<Day>,
    /// Last day covered [default: today].
    #[arg(long, value_name = "DAY")]
    to: Option<Day>,
    /// Only flows of this suite (repeatable; `default` for flows without one).
    #[arg(long = "suite", value_name = "SUITE")]
    suites: Vec<String>,
    /// Only this flow, by name or id (repeatable).
    #[arg(long = "flow", value_name = "FLOW")]
    flows: Vec<String>,
    /// Only executions with this status (repeatable).
    #[arg(long = "status", value_name = "STATUS", value_parser = ["completed", "passed", "failed", "cancelled"])]
    statuses: Vec<String>,
    /// Only executions in this environment (repeatable).
    #[arg(long = "environment", value_name = "ENV")]
    environments: Vec<String>,
    /// The report's title.
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// Failed executions shown with their steps (the newest first).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FAILURE_DETAIL_LIMIT)]
    failures: usize,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let format = ReportFormat::parse(&args.format)
        .ok_or_else(|| CliError::Input(format!("unknown format `{}`", args.format)))?;
    let today = Utc::now().date_naive();
    let (from, to) = last_days(args.from, args.to, 30, today)?;
    let request = ReportRequest {
        title: args.title.clone(),
        from,
        to,
        filters: ReportFilters {
            suites: args.suites.clone(),
            flows: args.flows.clone(),
            statuses: args.statuses.clone(),
            environments: args.environments.clone(),
        },
        failure_detail_limit: args.failures,
    };
    let runtime = crate::run_cmd::runtime()?;
    let data = runtime.block_on(async {
        let store = args.store.open().await?;
        let data = testmesh_report::collect::collect(&store, DEFAULT_WORKSPACE_ID, &request)
            .await
            .map_err(crate::analytics_cmd::report_error);
        store.close().await;
        data
    })?;
    let text = testmesh_report::render(&data, format);
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("testmesh-report.{}", format.extension())));
    if path.as_os_str() == "-" {
        crate::outln!("{text}");
        return Ok(EXIT_OK);
    }
    crate::files::write_atomically(&path, &text)?;
    let s = &data.summary;
    errln!(
        "wrote {} ({} executions from {from} to {to}: {} passed, {} failed; {} flows, {} flaky, {} broken)",
        path.display(),
        s.executions,
        s.passed,
        s.failed,
        s.flows,
        s.flaky_flows,
        s.broken_flows,
    );
    Ok(EXIT_OK)
}
