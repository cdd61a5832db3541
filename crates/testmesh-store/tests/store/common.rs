//! Test databases and record builders.

use std::time::Duration;

use chrono::Utc;
use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh_flow::model::Phase;
use testmesh_runner::{
    AssertionRecord, ErrorKind, FlowRecord, FlowStatus, StepError, StepRecord, StepStatus,
};
pub use testmesh_test::TestDb;

pub const WS: &str = testmesh_store::DEFAULT_WORKSPACE_ID;

/// Strings that would change a query if they were formatted into SQL.
pub const SQL_LOOKING: &[&str] = &[
    "' OR '1'='1",
    "x'; DROP TABLE executions; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "smoke\") OR (1=1",
    "1; SELECT pg_sleep(1)",
];

/// Flow YAML with a name, optional suite and tags, and `steps` log steps.
pub fn flow_yaml(name: &str, suite: Option<&str>, tags: &[&str]) -> String {
    let mut yaml = format!("name: {name}\n");
    if let Some(suite) = suite {
        yaml.push_str(&format!("suite: {suite}\n"));
    }
    if !tags.is_empty() {
        yaml.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    }
    yaml.push_str("steps:\n  - id: hello\n    action: log\n    config:\n      message: hi\n");
    yaml
}

/// A step record.
pub fn step(id: &str, action: &str, status: StepStatus) -> StepRecord {
    let mut step = StepRecord::skipped(id, Some(id), action, "not run");
    step.status = status;
    step.skip_reason = (status == StepStatus::Skipped).then(|| "an earlier step failed".into());
    step.attempts = u32::from(status != StepStatus::Skipped);
    step.duration = Duration::from_millis(12);
    if status == StepStatus::Failed {
        step.error = Some(StepError::new(
            ErrorKind::Assertion,
            "status == 200 was false",
        ));
    }
    step
}

/// A run record of `name` with the given top-level steps (in the main phase unless they say).
pub fn record(name: &str, status: FlowStatus, mut steps: Vec<StepRecord>) -> FlowRecord {
    for step in &mut steps {
        step.phase.get_or_insert(Phase::Main);
    }
    FlowRecord {
        execution_id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        path: Some(format!("flows/{name}.yaml")),
        suite: Some("checkout".into()),
        tags: vec!["smoke".into(), "api".into()],
        status,
        started_at: Utc::now(),
        duration: Duration::from_millis(345),
        steps,
        error: (status == FlowStatus::Failed)
            .then(|| "[main] step 'b' (http_request): boom".into()),
        cancelled: false,
        outputs: IndexMap::new(),
    }
}

/// A realistic record: an HTTP step with masked secrets, a loop with two nested iterations (one
/// with its own child), a failed assertion and a skipped step.
pub fn rich_record(name: &str) -> FlowRecord {
    let mut http = step("login", "http_request", StepStatus::Passed);
    http.phase = Some(Phase::Setup);
    http.request = Some(json!({
        "method": "POST",
        "url": "http://127.0.0.1:1/login",
        "headers": {"Authorization": "********", "X-Trace": "abc"},
        "body": {"user": "ann", "password": "********"}
    }));
    http.response =
        Some(json!({"status": 200, "headers": {"set-cookie": "********"}, "body": {"ok": true}}));
    http.result = Some(json!({"status": 200}));
    http.outputs
        .insert("token".into(), Value::String("********".into()));
    http.assertions = vec![AssertionRecord {
        expression: "status == 200".into(),
        passed: true,
        message: None,
        actual: None,
        expected: None,
    }];
    http.flaky = true;
    http.attempts = 2;
    let mut iteration0 = step("each[0]", "log", StepStatus::Passed);
    iteration0
        .children
        .push(step("inner", "log", StepStatus::Passed));
    let iteration1 = step("each[1]", "log", StepStatus::Passed);
    let mut each = step("each", "for_each", StepStatus::Passed);
    each.children = vec![iteration0, iteration1];
    let mut check = step("check", "assert", StepStatus::Failed);
    check.assertions = vec![AssertionRecord {
        expression: "body.count == 3".into(),
        passed: false,
        message: Some("count".into()),
        actual: Some(json!(2)),
        expected: Some(json!(3)),
    }];
    let skipped = step("later", "log", StepStatus::Skipped);
    let mut cleanup = step("cleanup", "log", StepStatus::Passed);
    cleanup.phase = Some(Phase::Teardown);
    record(
        name,
        FlowStatus::Failed,
        vec![http, each, check, skipped, cleanup],
    )
}

/// YAML whose phases match [`rich_record`]: one setup step, three main steps, one teardown step.
pub fn rich_yaml(name: &str) -> String {
    format!(
        r#"name: {name}
suite: checkout
tags: [smoke, api]
setup:
  - id: login
    action: log
    config: {{message: login}}
steps:
  - id: each
    action: log
    config: {{message: each}}
  - id: check
    action: log
    config: {{message: check}}
  - id: later
    action: log
    config: {{message: later}}
teardown:
  - id: cleanup
    action: log
    config: {{message: bye}}
"#
    )
}
