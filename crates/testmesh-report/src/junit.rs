//! The JUnit XML report, for CI systems (GitHub Actions reporters, GitLab, Jenkins): one
//! `<testsuite>` per suite and one `<testcase>` per flow, whose outcome is the flow's newest
//! execution in the period.
//!
//! - A failed newest run is a `<failure>` with the error and the failed step.
//! - A passed newest run after failures in the period carries one `<flakyFailure>` per earlier
//!   failure, and one per step that passed only on retry: Surefire's rerun format, which Jenkins
//!   and GitLab show as flaky.
//! - A cancelled newest run is `<skipped>`.
//! - `time` is the newest run's duration; `<properties>` hold the period's figures (executions,
//!   pass rate, flakiness score, stability, …).
//!
//! The output validates against the Jenkins/Surefire JUnit schema in
//! `tests/fixtures/junit.xsd`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use crate::model::{ExecutionBrief, FlowSummary, ReportData, Stability};

/// The `type` of a `<failure>` for a failed execution.
const FLOW_FAILURE: &str = "flow failure";
/// The `type` of a `<flakyFailure>` for a step that passed on retry.
const RETRIED_STEP: &str = "retried step";

/// Renders `data` as a JUnit XML document.
pub fn render(data: &ReportData) -> String {
    let mut report = Report::new(data.meta.title.as_str());
    // BTreeMap: suites in name order, so the same data gives the same document.
    let mut suites: BTreeMap<&str, Vec<&FlowSummary>> = BTreeMap::new();
    for flow in &data.flows {
        suites.entry(flow.suite.as_str()).or_default().push(flow);
    }
    let mut total = Duration::ZERO;
    for (name, flows) in suites {
        let mut suite = TestSuite::new(name);
        let (mut executions, mut passed, mut failed) = (0u64, 0u64, 0u64);
        for flow in &flows {
            executions += flow.executions;
            passed += flow.passed;
            failed += flow.failed;
        }
        suite.add_properties([
            Property::new("period_from", data.meta.from.to_string()),
            Property::new("period_to", data.meta.to.to_string()),
            Property::new(
                "generated_at",
                data.meta
                    .generated_at
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            ),
            Property::new("flows", flows.len().to_string()),
            Property::new("executions", executions.to_string()),
            Property::new("passed", passed.to_string()),
            Property::new("failed", failed.to_string()),
            Property::new("pass_rate", rate(passed, failed)),
        ]);
        let mut time = Duration::ZERO;
        for flow in flows {
            let case = test_case(flow);
            time += case.time.unwrap_or_default();
            suite.add_test_case(case);
        }
        suite.set_time(time);
        total += time;
        report.add_test_suite(suite);
    }
    report.set_time(total);
    match report.to_string() {
        Ok(xml) => xml,
        // Serialising into memory fails only on a quick-junit bug; a CI job must still get a
        // well-formed document that reports it rather than a panic.
        Err(error) => fallback(&error.to_string()),
    }
}

fn test_case(flow: &FlowSummary) -> TestCase {
    let last = &flow.last;
    let status = match last.status.as_str() {
        "passed" | "completed" => {
            let mut flaky_runs = Vec::new();
            // Earlier failures make the flow flaky only when they were not deterministic (the
            // flakiness rules): a regression that was fixed passes plainly, its history in
            // system-out.
            if flow.stability == Stability::Flaky {
                for failure in &flow.recent_failures {
                    flaky_runs.push(earlier_failure(failure));
                }
            }
            for step in &last.retried_steps {
                flaky_runs.push(retried_step(last, step));
            }
            TestCaseStatus::Success { flaky_runs }
        }
        // Earlier failures of a failing flow are not reruns of this one (Surefire's
        // <rerunFailure>): they show in the properties and system-out.
        "failed" => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let error = last.error.as_deref().unwrap_or("the flow failed");
            status.set_message(first_line(error));
            status.set_type(FLOW_FAILURE);
            status.set_description(failure_text(last));
            status
        }
        other => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("the newest execution was {other}"));
            status
        }
    };
    let mut case = TestCase::new(flow.flow_name.as_str(), status);
    case.set_classname(flow.suite.as_str());
    case.set_time(millis(last.duration_ms));
    case.add_properties(properties(flow));
    case.set_system_out(system_out(flow));
    case
}

fn properties(flow: &FlowSummary) -> Vec<Property> {
    let mut properties = vec![
        Property::new("executions", flow.executions.to_string()),
        Property::new("passed", flow.passed.to_string()),
        Property::new("failed", flow.failed.to_string()),
        Property::new("pass_rate", two_decimals(flow.pass_rate)),
        Property::new("flakiness_score", two_decimals(flow.flakiness_score)),
        Property::new("stability", flow.stability.as_str()),
        Property::new("avg_duration_ms", two_decimals(flow.avg_duration_ms)),
        Property::new("p95_duration_ms", flow.p95_duration_ms.to_string()),
        Property::new("last_execution_id", flow.last.execution_id.as_str()),
        Property::new(
            "last_execution_at",
            flow.last
                .created_at
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        ),
    ];
    if let Some(id) = &flow.flow_id {
        properties.push(Property::new("flow_id", id.as_str()));
    }
    if let Some(environment) = &flow.last.environment {
        properties.push(Property::new("environment", environment.as_str()));
    }
    properties
}

/// An earlier failed execution of a flow whose newest run passed.
fn earlier_failure(failure: &ExecutionBrief) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    let error = failure.error.as_deref().unwrap_or("the flow failed");
    rerun.set_message(first_line(error));
    rerun.set_type(FLOW_FAILURE);
    // Surefire's schema requires <stackTrace>; the whole error is the closest thing a flow has.
    rerun.set_stack_trace(failure_text(failure));
    rerun.set_system_out(format!(
        "execution {} at {}, {} ms{}",
        failure.execution_id,
        failure.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
        failure.duration_ms,
        failure
            .environment
            .as_deref()
            .map(|e| format!(", environment {e}"))
            .unwrap_or_default()
    ));
    rerun
}

/// A step of the newest execution that failed, then passed on retry.
fn retried_step(last: &ExecutionBrief, step: &str) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    let message = format!("step '{step}' failed, then passed on retry");
    rerun.set_message(message.as_str());
    rerun.set_type(RETRIED_STEP);
    rerun.set_stack_trace(format!("{message} (execution {})", last.execution_id));
    rerun
}

/// The whole error of a failed execution with where it failed.
fn failure_text(execution: &ExecutionBrief) -> String {
    let mut text = execution
        .error
        .clone()
        .unwrap_or_else(|| "the flow failed".to_string());
    if let Some(step) = &execution.failed_step {
        let _ = write!(text, "\nfailed step: {step}");
    }
    let _ = write!(
        text,
        "\nexecution: {} at {}",
        execution.execution_id,
        execution.created_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    text
}

/// A short account of the flow over the period, shown by CI systems under the test.
fn system_out(flow: &FlowSummary) -> String {
    let mut out = String::with_capacity(256);
    let _ = writeln!(
        out,
        "{} executions: {} passed, {} failed (pass rate {}%); {}, flakiness score {}",
        flow.executions,
        flow.passed,
        flow.failed,
        two_decimals(flow.pass_rate),
        flow.stability.as_str(),
        two_decimals(flow.flakiness_score)
    );
    if !flow.history.is_empty() {
        out.push_str("history (oldest first): ");
        for status in &flow.history {
            out.push(match status.as_str() {
                "passed" => 'P',
                "failed" => 'F',
                _ => 'C',
            });
        }
        out.push('\n');
    }
    let last = &flow.last;
    let _ = writeln!(
        out,
        "newest: {} {} at {}, {} ms",
        last.execution_id,
        last.status,
        last.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
        last.duration_ms
    );
    out
}

fn rate(passed: u64, failed: u64) -> String {
    let finished = passed + failed;
    if finished == 0 {
        return "0.00".to_string();
    }
    two_decimals(passed as f64 * 100.0 / finished as f64)
}

fn two_decimals(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}")
    } else {
        "0.00".to_string()
    }
}

/// Negative durations (clock skew upstream) count as zero.
fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// A minimal valid document reporting that the real one could not be written.
fn fallback(error: &str) -> String {
    let mut message = String::new();
    crate::svg::escape_into(&mut message, error);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"testmesh\" tests=\"1\" \
         failures=\"0\" errors=\"1\"><testsuite name=\"testmesh\" tests=\"1\" failures=\"0\" \
         errors=\"1\" skipped=\"0\"><testcase name=\"report\"><error type=\"report\" \
         message=\"cannot write the JUnit report: {message}\"/></testcase></testsuite>\
         </testsuites>\n"
    )
}
