//! Report files of `testmesh run`: JSON (every step's request, response, timings and outputs) and
//! JUnit XML (a testsuite per file, a testcase per flow) that CI systems read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use serde_json::json;
use testmesh_runner::{FlowRecord, FlowStatus, StepStatus};

use crate::CliError;

/// The version of the JSON report's schema (docs/reports.md).
pub(crate) const JSON_REPORT_VERSION: u32 = 1;

/// A requested report: `--report junit=PATH` or `--report json=PATH`.
#[derive(Debug, Clone)]
pub(crate) enum ReportSpec {
    Junit(PathBuf),
    Json(PathBuf),
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, path) = text.split_once('=').ok_or_else(|| {
            format!("expected FORMAT=PATH such as junit=report.xml, got `{text}`")
        })?;
        if path.is_empty() {
            return Err(format!("`{kind}=` needs a file path"));
        }
        match kind {
            "junit" => Ok(ReportSpec::Junit(path.into())),
            "json" => Ok(ReportSpec::Json(path.into())),
            other => Err(format!(
                "unknown report format `{other}`; use junit or json"
            )),
        }
    }
}

/// Writes one report. Files are written beside the target and renamed, so a report is never half-written.
pub(crate) fn write(
    spec: &ReportSpec,
    records: &[FlowRecord],
    duration: Duration,
) -> Result<PathBuf, CliError> {
    let (path, text) = match spec {
        ReportSpec::Json(path) => (path, json_report(records, duration)?),
        ReportSpec::Junit(path) => (path, junit_report(records, duration)?),
    };
    crate::files::write_atomically(path, &text)?;
    Ok(path.clone())
}

fn json_report(records: &[FlowRecord], duration: Duration) -> Result<String, CliError> {
    let count = |status| records.iter().filter(|r| r.status == status).count();
    let steps = records
        .iter()
        .flat_map(|r| r.all_steps())
        .collect::<Vec<_>>();
    let count_steps = |status| steps.iter().filter(|s| s.status == status).count();
    let document = json!({
        "version": JSON_REPORT_VERSION,
        "tool": {"name": "testmesh", "version": env!("CARGO_PKG_VERSION")},
        "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        "summary": {
            "flows": records.len(),
            "passed": count(FlowStatus::Passed),
            "failed": count(FlowStatus::Failed),
            "skipped": count(FlowStatus::Skipped),
            "steps": {
                "total": steps.len(),
                "passed": count_steps(StepStatus::Passed),
                "failed": count_steps(StepStatus::Failed),
                "skipped": count_steps(StepStatus::Skipped),
                "flaky": steps.iter().filter(|s| s.flaky).count(),
            },
        },
        "flows": records,
    });
    serde_json::to_string_pretty(&document)
        .map_err(|e| CliError::Internal(format!("cannot serialise the JSON report: {e}")))
}

fn junit_report(records: &[FlowRecord], duration: Duration) -> Result<String, CliError> {
    let mut report = Report::new("testmesh");
    report.set_time(duration);
    // One testsuite per file, in file order.
    let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
    for record in records {
        let file = record.path.clone().unwrap_or_else(|| "flows".into());
        let suite = suites
            .entry(file.clone())
            .or_insert_with(|| TestSuite::new(file.clone()));
        suite.add_test_case(test_case(record));
    }
    for (_, mut suite) in suites {
        let time = suite.test_cases.iter().filter_map(|c| c.time).sum();
        suite.set_time(time);
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map_err(|e| CliError::Internal(format!("cannot serialise the JUnit report: {e}")))
}

fn test_case(record: &FlowRecord) -> TestCase {
    let mut status = match record.status {
        FlowStatus::Passed => TestCaseStatus::success(),
        FlowStatus::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let message = record
                .error
                .clone()
                .unwrap_or_else(|| "the flow failed".into());
            status.set_message(message.lines().next().unwrap_or_default().to_string());
            status.set_type("flow failure");
            status.set_description(message);
            status
        }
        FlowStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(record.error.clone().unwrap_or_else(|| "skipped".into()));
            status
        }
    };
    // A step that passed only on retry makes the flow flaky: CI systems show it as such.
    if let TestCaseStatus::Success { flaky_runs } = &mut status {
        for step in record.all_steps().into_iter().filter(|s| s.flaky) {
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_message(format!(
                "step '{}' passed after {} attempts",
                step.id, step.attempts
            ));
            flaky_runs.push(rerun);
        }
    }
    let mut case = TestCase::new(record.name.clone(), status);
    case.set_classname(
        record
            .suite
            .clone()
            .unwrap_or_else(|| record.path.clone().unwrap_or_default()),
    );
    case.set_time(record.duration);
    case.set_timestamp(record.started_at);
    case.set_system_out(step_summary(record));
    case
}

/// One line per step, for a testcase's system-out.
fn step_summary(record: &FlowRecord) -> String {
    let mut out = String::new();
    for step in record.all_steps() {
        let status = match step.status {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        out.push_str(&format!(
            "{status} {} ({}) {}ms",
            step.id,
            step.action,
            step.duration.as_millis()
        ));
        if step.attempts > 1 {
            out.push_str(&format!(" attempts={}", step.attempts));
        }
        if let Some(error) = &step.error {
            out.push_str(&format!(": {}", error.message));
        }
        if let Some(reason) = &step.skip_reason {
            out.push_str(&format!(": {reason}"));
        }
        out.push('\n');
    }
    out
}
