//! `testmesh analytics`: aggregate recorded runs into daily metrics, step performance and
//! flakiness scores (what the server's analytics API and dashboard read), and list flows by
//! flakiness.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use testmesh_report::aggregate::{
    AggregateOptions, AggregateSummary, Progress, aggregate_with, score_window,
};
use testmesh_report::flakiness::DEFAULT_WINDOW_DAYS;
use testmesh_store::{DEFAULT_WORKSPACE_ID, FlakinessRecord, FlakinessWindow, Store, Trigger};

use crate::console::{columns, format_ms};
use crate::days::{Day, period};
use crate::history::{StoreArgs, store_error};
use crate::render::use_color;
use crate::{CliError, EXIT_OK};

/// Aggregate recorded runs into daily metrics and flakiness scores, and find flaky flows.
///
/// `testmesh run` records every run (in .testmesh/testmesh.db unless --database-url says
/// otherwise); `testmesh serve` aggregates yesterday every night (see `serve --aggregate-at`).
/// Formulas: docs/analytics.md.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh analytics aggregate                       Aggregate yesterday\n  \
testmesh analytics aggregate --from 2026-11-01 --to 2026-11-30\n  \
testmesh analytics aggregate --from 7d --database-url postgres://testmesh@db/testmesh\n  \
testmesh analytics flaky                           Flaky and broken flows of the last 14 days\n  \
testmesh analytics flaky --all --json\n\n\
Documentation: docs/analytics.md")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Aggregate(AggregateArgs),
    Flaky(FlakyArgs),
}

/// Compute daily metrics (per workspace, suite and flow; over all environments and per
/// environment; with exact p50/p95/p99), step performance per day, flow, step and action, and
/// each flow's flakiness over the window ending with the last day.
///
/// Days are whole UTC days; an execution counts on the day it was created. Aggregating a day
/// again replaces its rows (in one transaction), so re-running is always safe. Every workspace of
/// the database is aggregated.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh analytics aggregate\n  \
testmesh analytics aggregate --from 2026-11-01 --to 2026-11-30\n  \
testmesh analytics aggregate --from 30d --to today --json\n\n\
Exit codes: 0 aggregated, 2 bad arguments or an unusable database, 3 internal error.")]
struct AggregateArgs {
    /// First day (YYYY-MM-DD, today, yesterday or Nd for N days ago) [default: --to].
    #[arg(long, value_name = "DAY")]
    from: Option<Day>,
    /// Last day [default: yesterday].
    #[arg(long, value_name = "DAY")]
    to: Option<Day>,
    /// Days of the flakiness window, ending with --to.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_WINDOW_DAYS, value_parser = clap::value_parser!(u32).range(1..=365))]
    window: u32,
    /// Print what was computed as JSON (one object per workspace, in an array).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// List flows by flakiness over the window ending with --to, scored from the recorded runs now
/// (no aggregation needed): flaky and broken flows, highest score first.
///
/// A failure is flaky when a run of the same flow version in the same environment passed both
/// before and after it; a flow that fails consistently at the end of the window is broken. The
/// score (0–100) is the binary entropy of the Wilson lower bound of the flaky-failure rate, so a
/// few runs never score high. History: oldest run first, P passed, F failed.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh analytics flaky\n  \
testmesh analytics flaky --window 30 --all\n  \
testmesh analytics flaky --to 2026-11-30 --json\n\n\
Exit codes: 0 listed (flaky flows are not an error), 2 bad arguments or an unusable database, 3 internal error.")]
struct FlakyArgs {
    /// Last day of the window (YYYY-MM-DD, today, yesterday or Nd) [default: today].
    #[arg(long, value_name = "DAY")]
    to: Option<Day>,
    /// Days in the window.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_WINDOW_DAYS, value_parser = clap::value_parser!(u32).range(1..=365))]
    window: u32,
    /// Every flow that ran, stable ones included.
    #[arg(long)]
    all: bool,
    /// At most this many flows.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Print them as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    match args.command {
        Command::Aggregate(args) => aggregate(args),
        Command::Flaky(args) => flaky(args),
    }
}

/// A report error as the CLI's: bad filters or periods and unusable databases are bad input.
pub(crate) fn report_error(error: testmesh_report::ReportError) -> CliError {
    match error {
        testmesh_report::ReportError::Store(e) => store_error(&e),
        e if e.is_input() => CliError::Input(e.to_string()),
        e => CliError::Internal(e.to_string()),
    }
}

fn aggregate(args: AggregateArgs) -> Result<u8, CliError> {
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let to = args.to.map_or(yesterday, |d| d.date(today));
    let (from, to) = period(args.from, Some(Day::Date(to)), 1, yesterday, today)?;
    let runtime = crate::run_cmd::runtime()?;
    let summaries = runtime.block_on(async {
        let store = args.store.open().await?;
        // A bar only for ranges of more than a day, on a terminal.
        let result = aggregate_all(&store, from, to, args.window, !args.json && from < to).await;
        store.close().await;
        result
    })?;
    if args.json {
        let mut list = Vec::with_capacity(summaries.len());
        for s in &summaries {
            let mut value =
                serde_json::to_value(&s.summary).map_err(|e| CliError::Internal(e.to_string()))?;
            if let Some(map) = value.as_object_mut() {
                map.insert("workspace".into(), s.workspace.clone().into());
            }
            list.push(value);
        }
        let text =
            serde_json::to_string_pretty(&list).map_err(|e| CliError::Internal(e.to_string()))?;
        outln!("{text}");
        return Ok(EXIT_OK);
    }
    let several = summaries.len() > 1;
    for s in &summaries {
        print_summary(&s.summary, several.then_some(s.workspace.as_str()));
    }
    Ok(EXIT_OK)
}

/// One workspace's aggregation.
struct NamedSummary {
    /// The workspace's name.
    workspace: String,
    summary: AggregateSummary,
}

async fn aggregate_all(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    window: u32,
    show_progress: bool,
) -> Result<Vec<NamedSummary>, CliError> {
    let workspaces = store.list_workspaces().await.map_err(|e| store_error(&e))?;
    let mut out = Vec::with_capacity(workspaces.len());
    for workspace in workspaces {
        let bar = progress_bar(show_progress);
        let mut on_progress = |p: Progress| {
            if let Some(bar) = &bar {
                bar.set_length(u64::from(p.total));
                bar.set_position(u64::from(p.done));
                bar.set_message(format!("{} · {} executions", p.day, p.executions));
            }
        };
        let summary = aggregate_with(
            store,
            &workspace.id,
            from,
            to,
            AggregateOptions {
                trigger: Some(Trigger::Cli),
                window_days: window,
                progress: Some(&mut on_progress),
                run_id: None,
            },
        )
        .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        out.push(NamedSummary {
            workspace: workspace.name,
            summary: summary.map_err(report_error)?,
        });
    }
    Ok(out)
}

/// A bar on standard error when it is a terminal.
fn progress_bar(enabled: bool) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} days {elapsed} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn print_summary(s: &AggregateSummary, workspace: Option<&str>) {
    let days = if s.days == 1 {
        format!("{}", s.from)
    } else {
        format!("{} to {} ({} days)", s.from, s.to, s.days)
    };
    let place = workspace.map(|w| format!(" in {w}")).unwrap_or_default();
    outln!(
        "Aggregated {days}{place}: {}, {} in {}",
        count(s.executions, "execution"),
        count(s.steps, "step"),
        format_ms(Duration::from_millis(s.elapsed_ms))
    );
    outln!(
        "  daily metrics: {} · step performance: {}",
        count(s.daily_rows, "row"),
        count(s.step_rows, "row")
    );
    outln!(
        "  flakiness over {} to {}: {} scored, {} flaky, {} broken",
        count(u64::from(s.window.days), "day"),
        s.window.end,
        count(s.flows_scored, "flow"),
        s.flaky_flows,
        s.broken_flows
    );
}

/// `1 row`, `1,234 rows`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// 1234567 → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn flaky(args: FlakyArgs) -> Result<u8, CliError> {
    let today = Utc::now().date_naive();
    let to = args.to.map_or(today, |d| d.date(today));
    let window = FlakinessWindow::ending(to, args.window);
    let runtime = crate::run_cmd::runtime()?;
    let records = runtime.block_on(async {
        let store = args.store.open().await?;
        let records = score_window(&store, DEFAULT_WORKSPACE_ID, window)
            .await
            .map_err(report_error);
        store.close().await;
        records
    })?;
    let scored = records.len();
    let shown: Vec<FlakinessRecord> = records
        .into_iter()
        .filter(|r| args.all || r.flakiness_score > 0.0 || r.stability == "broken")
        .take(usize::try_from(args.limit).unwrap_or(usize::MAX))
        .collect();
    if args.json {
        let text =
            serde_json::to_string_pretty(&shown).map_err(|e| CliError::Internal(e.to_string()))?;
        outln!("{text}");
        return Ok(EXIT_OK);
    }
    let span = format!("the {} days to {}", window.days, window.end);
    if scored == 0 {
        outln!("No finished runs in {span}. `testmesh run` records every run.");
        return Ok(EXIT_OK);
    }
    if shown.is_empty() {
        outln!(
            "No flaky or broken flow in {span} ({} scored; --all lists them).",
            count(scored as u64, "flow")
        );
        return Ok(EXIT_OK);
    }
    print_flaky(&shown);
    outln!(
        "{} of {} scored over {span}.",
        shown.len(),
        count(scored as u64, "flow")
    );
    Ok(EXIT_OK)
}

fn print_flaky(records: &[FlakinessRecord]) {
    let color = use_color(std::io::stdout().is_terminal());
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.flow_name.clone(),
                r.suite.clone().unwrap_or_default(),
                r.stability.clone(),
                format!("{:.2}", r.flakiness_score),
                r.total_runs.to_string(),
                r.failed_runs.to_string(),
                r.flaky_failures.to_string(),
                r.history.clone(),
            ]
        })
        .collect();
    let headers = [
        "FLOW",
        "SUITE",
        "STABILITY",
        "SCORE",
        "RUNS",
        "FAILED",
        "FLAKY",
        "HISTORY",
    ];
    let mut lines = columns(&headers, &rows).into_iter();
    if let Some(header) = lines.next() {
        outln!("{}", paint(&header, "1"));
    }
    for (line, record) in lines.zip(records) {
        let code = match record.stability.as_str() {
            "broken" => "31",
            "flaky" => "33",
            _ => "32",
        };
        // Colour the stability cell after padding (escape codes have no width).
        let cell = format!("  {}  ", record.stability);
        let painted = format!("  {}  ", paint(&record.stability, code));
        outln!("{}", line.replacen(&cell, &painted, 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
