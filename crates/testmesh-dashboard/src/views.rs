//! What templates show: rows with every value already formatted, so templates only lay them out.

use chrono::{DateTime, Utc};
use serde_json::Value;
use testmesh_store::{Execution, ExecutionStatus, ExecutionStep};

/// A run in a list.
pub(crate) struct RunRow {
    pub id: String,
    pub short_id: String,
    pub flow_name: String,
    pub flow_id: Option<String>,
    /// `passed`, `failed`, `running`, `queued` or `cancelled`: the badge text and its CSS class.
    pub status: &'static str,
    pub when: String,
    pub when_exact: String,
    pub duration: String,
    pub steps: String,
    pub trigger: &'static str,
}

impl RunRow {
    pub(crate) fn of(run: &Execution, now: DateTime<Utc>) -> RunRow {
        let at = run.started_at.unwrap_or(run.created_at);
        RunRow {
            id: run.id.clone(),
            short_id: run.short_id(),
            flow_name: run.flow_name.clone(),
            flow_id: run.flow_id.clone(),
            status: status_text(run.status),
            when: ago(at, now),
            when_exact: exact(at),
            duration: run.duration_ms.map_or_else(|| "–".into(), millis),
            steps: if run.status.is_final() {
                format!(
                    "{}/{}",
                    run.passed_steps,
                    run.total_steps - run.skipped_steps
                )
            } else {
                "–".into()
            },
            trigger: run.trigger.as_str(),
        }
    }
}

/// A status as people read it: the store's `completed` is a passed run.
pub(crate) fn status_text(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Completed => "passed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Cancelled => "cancelled",
        ExecutionStatus::Pending => "queued",
        ExecutionStatus::Running => "running",
    }
}

/// The store status for a status people picked in a filter.
pub(crate) fn status_filter(text: &str) -> Option<ExecutionStatus> {
    match text {
        "passed" => Some(ExecutionStatus::Completed),
        "queued" => Some(ExecutionStatus::Pending),
        other => ExecutionStatus::parse(other),
    }
}

/// A duration in milliseconds, short.
pub(crate) fn millis(ms: i64) -> String {
    match ms {
        ms if ms < 1000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// How long ago, in words.
pub(crate) fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - at).num_seconds().max(0);
    match s {
        0..=9 => "just now".into(),
        10..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// A time to the second, in UTC.
pub(crate) fn exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A step of an execution, ready to show.
pub(crate) struct StepView {
    pub indent: i64,
    pub label: String,
    pub action: String,
    pub phase: String,
    pub status: String,
    pub duration: String,
    pub attempts: i64,
    pub flaky: bool,
    pub error: Option<String>,
    pub skip_reason: Option<String>,
    pub assertions: Vec<AssertionView>,
    pub request: Option<ExchangeView>,
    pub response: Option<ExchangeView>,
    pub outputs: Option<String>,
    /// Failed steps start unfolded.
    pub open: bool,
    pub has_detail: bool,
}

/// One evaluated assertion.
pub(crate) struct AssertionView {
    pub expression: String,
    pub passed: bool,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// A request or response: a title line, headers and a body.
pub(crate) struct ExchangeView {
    pub title: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl StepView {
    pub(crate) fn of(step: &ExecutionStep) -> StepView {
        let assertions: Vec<AssertionView> = step
            .assertions
            .as_ref()
            .and_then(Value::as_array)
            .map(|items| items.iter().map(AssertionView::of).collect())
            .unwrap_or_default();
        let request = step.request.as_ref().map(|r| ExchangeView::of(r, true));
        let response = step.response.as_ref().map(|r| ExchangeView::of(r, false));
        let outputs = step
            .outputs
            .as_ref()
            .filter(|o| o.as_object().is_some_and(|m| !m.is_empty()))
            .map(pretty);
        let failed = step.status == "failed";
        let has_detail = step.error_message.is_some()
            || !assertions.is_empty()
            || request.is_some()
            || response.is_some()
            || outputs.is_some()
            || step.skip_reason.is_some();
        StepView {
            indent: step.depth,
            label: match &step.name {
                Some(name) if name != &step.step_id => format!("{} · {name}", step.step_id),
                _ => step.step_id.clone(),
            },
            action: step.action.clone(),
            phase: step.phase.clone().unwrap_or_default(),
            status: step.status.clone(),
            duration: millis(step.duration_ms),
            attempts: step.attempts,
            flaky: step.flaky,
            error: step.error_message.clone(),
            skip_reason: step.skip_reason.clone(),
            assertions,
            request,
            response,
            outputs,
            open: failed,
            has_detail,
        }
    }
}

impl AssertionView {
    fn of(value: &Value) -> AssertionView {
        let text = |key: &str| value.get(key).map(compact);
        AssertionView {
            expression: value
                .get("expression")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            passed: value
                .get("passed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
            expected: text("expected"),
            actual: text("actual"),
        }
    }
}

impl ExchangeView {
    /// A request (`method url`) or a response (`status`, time) record.
    fn of(record: &Value, is_request: bool) -> ExchangeView {
        let field = |key: &str| record.get(key).map(compact).unwrap_or_default();
        let title = if is_request {
            match (record.get("method"), record.get("url")) {
                (Some(_), Some(_)) => format!("{} {}", field("method"), field("url")),
                // A database request: the query.
                _ => field("query"),
            }
        } else {
            match record.get("status") {
                Some(_) => format!("{} · {} ms", field("status"), field("duration_ms")),
                None => String::new(),
            }
        };
        let headers = record
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| h.iter().map(|(k, v)| (k.clone(), compact(v))).collect())
            .unwrap_or_default();
        let body = match record.get("body").or_else(|| record.get("rows")) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(body) => Some(pretty(body)),
        };
        ExchangeView {
            title,
            headers,
            body,
        }
    }
}

/// A value on one line: strings as they are, anything else as JSON.
pub(crate) fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as indented JSON (strings as they are).
pub(crate) fn pretty(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_and_ages_read_well() {
        assert_eq!(millis(42), "42 ms");
        assert_eq!(millis(1500), "1.5 s");
        assert_eq!(millis(125_000), "2m 5s");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - chrono::Duration::minutes(5), now), "5 min ago");
        assert_eq!(ago(now - chrono::Duration::days(3), now), "3 d ago");
    }

    #[test]
    fn exchanges_show_http_and_database_records() {
        let request = ExchangeView::of(
            &serde_json::json!({"method": "POST", "url": "http://x/y", "headers": {"a": "b"}, "body": {"n": 1}}),
            true,
        );
        assert_eq!(request.title, "POST http://x/y");
        assert_eq!(request.headers, [("a".to_string(), "b".to_string())]);
        assert_eq!(request.body.as_deref(), Some("{\n  \"n\": 1\n}"));
        let query = ExchangeView::of(&serde_json::json!({"query": "SELECT 1"}), true);
        assert_eq!(query.title, "SELECT 1");
        let response = ExchangeView::of(
            &serde_json::json!({"status": 404, "duration_ms": 3, "body": ""}),
            false,
        );
        assert_eq!(response.title, "404 · 3 ms");
        assert!(response.body.is_none());
    }
}
