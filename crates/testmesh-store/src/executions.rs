//! Executions and their steps: recording finished runs (one transaction, batched step inserts),
//! queued executions, lists with filters, details, cancellation and counts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use testmesh_runner::{FlowRecord, FlowStatus, StepRecord, StepStatus};

use crate::crypto::sha256_hex;
use crate::db::{RowExt, Sql, ms, new_id, now_ms, page_bounds, push_any_tag, to_json_text};
use crate::error::{Error, Result};
use crate::flows::{ensure_workspace_in, parse, retry_on_conflict, upsert_in};
use crate::{DEFAULT_WORKSPACE_ID, MAX_COUNTED, Page, Store};

/// Where an execution is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Queued, not claimed yet.
    Pending,
    /// Claimed by a worker.
    Running,
    /// Finished, every step that ran passed.
    Completed,
    /// Finished with a failure.
    Failed,
    /// Cancelled before or while running.
    Cancelled,
}

impl ExecutionStatus {
    /// Every status.
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Pending,
        ExecutionStatus::Running,
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Pending => "pending",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Completed => "completed",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Cancelled => "cancelled",
        }
    }

    /// The status of a stored name.
    pub fn parse(name: &str) -> Option<ExecutionStatus> {
        ExecutionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// True once the execution can no longer change.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled
        )
    }

    /// The final status of a run's record. A flow the runner skipped is stored as cancelled: it did
    /// not run, and the original's statuses have no "skipped". A cancelled run is cancelled.
    pub fn of_record(record: &FlowRecord) -> ExecutionStatus {
        if record.cancelled {
            return ExecutionStatus::Cancelled;
        }
        match record.status {
            FlowStatus::Passed => ExecutionStatus::Completed,
            FlowStatus::Failed => ExecutionStatus::Failed,
            FlowStatus::Skipped => ExecutionStatus::Cancelled,
        }
    }
}

/// What started an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `testmesh run`.
    Cli,
    /// The REST API or the dashboard.
    Api,
    /// A schedule.
    Schedule,
}

impl Trigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Cli => "cli",
            Trigger::Api => "api",
            Trigger::Schedule => "schedule",
        }
    }

    /// The trigger of a stored name.
    pub fn parse(name: &str) -> Option<Trigger> {
        [Trigger::Cli, Trigger::Api, Trigger::Schedule]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// How an execution came about: workspace, flow version, trigger, environment and variables.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Workspace.
    pub workspace_id: String,
    /// The stored flow, when the run is of one (required to enqueue).
    pub flow_id: Option<String>,
    /// Its version; the current one when `None`.
    pub flow_version: Option<i64>,
    /// What started it.
    pub trigger: Trigger,
    /// Name of the environment used.
    pub environment: Option<String>,
    /// Variables given for the run, secrets already masked by the caller.
    pub variables: Value,
    /// The schedule that enqueued it.
    pub schedule_id: Option<String>,
}

impl Default for RunContext {
    /// A CLI run in the default workspace, not tied to a stored flow.
    fn default() -> Self {
        RunContext {
            workspace_id: DEFAULT_WORKSPACE_ID.to_string(),
            flow_id: None,
            flow_version: None,
            trigger: Trigger::Cli,
            environment: None,
            variables: Value::Object(Default::default()),
            schedule_id: None,
        }
    }
}

impl RunContext {
    /// A run of a stored flow version.
    pub fn for_flow(
        workspace_id: &str,
        flow_id: &str,
        version: Option<i64>,
        trigger: Trigger,
    ) -> Self {
        RunContext {
            workspace_id: workspace_id.to_string(),
            flow_id: Some(flow_id.to_string()),
            flow_version: version,
            trigger,
            ..RunContext::default()
        }
    }
}

/// An execution row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Execution {
    /// Id (UUID).
    pub id: String,
    /// Workspace.
    pub workspace_id: String,
    /// The stored flow, if any.
    pub flow_id: Option<String>,
    /// The flow version run.
    pub flow_version: Option<i64>,
    /// Flow name at the time of the run.
    pub flow_name: String,
    /// Suite at the time of the run.
    pub suite: Option<String>,
    /// Tags at the time of the run.
    pub tags: Vec<String>,
    /// Status.
    pub status: ExecutionStatus,
    /// What started it.
    pub trigger: Trigger,
    /// The schedule that enqueued it.
    pub schedule_id: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// Variables given (masked).
    pub variables: Value,
    /// When it was recorded or queued.
    pub created_at: DateTime<Utc>,
    /// When it started running.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall time of the run.
    pub duration_ms: Option<i64>,
    /// Steps recorded (nested ones included).
    pub total_steps: i64,
    /// Steps passed.
    pub passed_steps: i64,
    /// Steps failed.
    pub failed_steps: i64,
    /// Steps skipped.
    pub skipped_steps: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// The worker that holds (or last held) it.
    pub worker_id: Option<String>,
    /// When the current lease ends.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Cancellation was asked for while it ran.
    pub cancel_requested: bool,
}

pub(crate) const EXECUTION_COLUMNS: &str = "id, workspace_id, flow_id, flow_version, flow_name, suite, tags, status, triggered_by, schedule_id, environment, variables, created_at, started_at, finished_at, duration_ms, total_steps, passed_steps, failed_steps, skipped_steps, error, attempts, worker_id, lease_expires_at, cancel_requested";

impl Execution {
    /// The id as lists show it: its last 8 hex digits. Ids are UUIDv7, whose leading digits are
    /// the time (shared by every run made within about a minute); the trailing ones are random.
    pub fn short_id(&self) -> String {
        let skip = self.id.chars().count().saturating_sub(8);
        self.id.chars().skip(skip).collect()
    }

    pub(crate) fn from_row(row: &AnyRow) -> Result<Execution> {
        let status = row.text("status")?;
        let trigger = row.text("triggered_by")?;
        Ok(Execution {
            id: row.text("id")?,
            workspace_id: row.text("workspace_id")?,
            flow_id: row.opt_text("flow_id")?,
            flow_version: row.opt_int("flow_version")?,
            flow_name: row.text("flow_name")?,
            suite: row.opt_text("suite")?,
            tags: row.string_list("tags")?,
            status: ExecutionStatus::parse(&status)
                .ok_or_else(|| Error::Corrupt(format!("unknown execution status `{status}`")))?,
            trigger: Trigger::parse(&trigger)
                .ok_or_else(|| Error::Corrupt(format!("unknown trigger `{trigger}`")))?,
            schedule_id: row.opt_text("schedule_id")?,
            environment: row.opt_text("environment")?,
            variables: row.json("variables")?,
            created_at: row.time("created_at")?,
            started_at: row.opt_time("started_at")?,
            finished_at: row.opt_time("finished_at")?,
            duration_ms: row.opt_int("duration_ms")?,
            total_steps: row.int("total_steps")?,
            passed_steps: row.int("passed_steps")?,
            failed_steps: row.int("failed_steps")?,
            skipped_steps: row.int("skipped_steps")?,
            error: row.opt_text("error")?,
            attempts: row.int("attempts")?,
            worker_id: row.opt_text("worker_id")?,
            lease_expires_at: row.opt_time("lease_expires_at")?,
            cancel_requested: row.flag("cancel_requested")?,
        })
    }
}

/// One stored step record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionStep {
    /// Position in the execution, depth first (nested steps follow their parent), from 0.
    pub seq: i64,
    /// The parent step's `seq` for nested steps.
    pub parent_seq: Option<i64>,
    /// Nesting depth (0 for top-level steps).
    pub depth: i64,
    /// `setup`, `main`, `on_error` or `teardown`, when known.
    pub phase: Option<String>,
    /// Step id.
    pub step_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Action.
    pub action: String,
    /// `passed`, `failed` or `skipped` (the runner's names).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Failed, then passed on retry.
    pub flaky: bool,
    /// Failed with `on_error: continue`.
    pub continued: bool,
    /// When the first attempt started.
    pub started_at: DateTime<Utc>,
    /// Wall time of all attempts.
    pub duration_ms: i64,
    /// The request sent (masked).
    pub request: Option<Value>,
    /// The response received (masked).
    pub response: Option<Value>,
    /// The action's result (masked).
    pub result: Option<Value>,
    /// Named outputs.
    pub outputs: Option<Value>,
    /// Evaluated assertions.
    pub assertions: Option<Value>,
    /// Error category.
    pub error_kind: Option<String>,
    /// Error text.
    pub error_message: Option<String>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
}

const STEP_COLUMNS: &str = "execution_id, seq, parent_seq, depth, phase, step_id, name, action, status, attempts, flaky, continued, started_at, duration_ms, request, response, result, outputs, assertions, error_kind, error_message, skip_reason";
const STEP_COLUMN_COUNT: usize = 22;
/// Steps per insert statement. Every full batch is the same statement, prepared once per
/// connection and reused; a statement of the most rows SQLite could bind (32 766 values, about
/// 1,500 steps) took longer to prepare than it saved.
const STEPS_PER_INSERT: usize = 100;

impl ExecutionStep {
    fn from_row(row: &AnyRow) -> Result<ExecutionStep> {
        Ok(ExecutionStep {
            seq: row.int("seq")?,
            parent_seq: row.opt_int("parent_seq")?,
            depth: row.int("depth")?,
            phase: row.opt_text("phase")?,
            step_id: row.text("step_id")?,
            name: row.opt_text("name")?,
            action: row.text("action")?,
            status: row.text("status")?,
            attempts: row.int("attempts")?,
            flaky: row.flag("flaky")?,
            continued: row.flag("continued")?,
            started_at: row.time("started_at")?,
            duration_ms: row.int("duration_ms")?,
            request: row.opt_json("request")?,
            response: row.opt_json("response")?,
            result: row.opt_json("result")?,
            outputs: row.opt_json("outputs")?,
            assertions: row.opt_json("assertions")?,
            error_kind: row.opt_text("error_kind")?,
            error_message: row.opt_text("error_message")?,
            skip_reason: row.opt_text("skip_reason")?,
        })
    }
}

/// An execution with its steps in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionDetail {
    /// The execution.
    #[serde(flatten)]
    pub execution: Execution,
    /// Its steps.
    pub steps: Vec<ExecutionStep>,
}

/// Filters for [`Store::list_executions`]. Every value is bound as a parameter.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    /// Only executions of this flow.
    pub flow_id: Option<String>,
    /// Only executions of this suite.
    pub suite: Option<String>,
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// Only executions started this way.
    pub trigger: Option<Trigger>,
    /// Only executions with any of these tags.
    pub tags: Vec<String>,
    /// Only executions created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only executions created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Page size (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// How many executions have one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusCount {
    /// The status.
    pub status: ExecutionStatus,
    /// Executions with it.
    pub count: i64,
}

/// Step counts of a record: total, passed, failed, skipped (nested steps included).
pub(crate) fn step_counts(record: &FlowRecord) -> [i64; 4] {
    let counts = record.step_counts();
    [counts.total, counts.passed, counts.failed, counts.skipped]
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A finished run of a flow file, for [`Store::record_file_runs`].
#[derive(Clone, Copy)]
pub struct FileRun<'a> {
    /// The run.
    pub record: &'a FlowRecord,
    /// The text of the flow file it ran.
    pub yaml: &'a str,
    /// The file's path, stored with the flow when the flow is new.
    pub source_path: Option<&'a str>,
}

/// The flow a finished run is recorded against.
#[derive(Clone, Copy)]
enum RecordedFlow<'a> {
    /// None: an ad-hoc run.
    None,
    /// A version of a stored flow (its current one when `None`).
    Version {
        flow_id: &'a str,
        version: Option<i64>,
    },
    /// The live flow whose current version has exactly this text.
    Text(&'a str),
}

/// A step record flattened for insertion.
struct FlatStep<'a> {
    seq: i64,
    parent_seq: Option<i64>,
    depth: i64,
    phase: Option<&'static str>,
    record: &'a StepRecord,
}

fn flatten(record: &FlowRecord) -> Vec<FlatStep<'_>> {
    fn walk<'a>(
        step: &'a StepRecord,
        parent_seq: Option<i64>,
        depth: i64,
        phase: Option<&'static str>,
        out: &mut Vec<FlatStep<'a>>,
    ) {
        let seq = out.len() as i64;
        out.push(FlatStep {
            seq,
            parent_seq,
            depth,
            phase,
            record: step,
        });
        for child in &step.children {
            walk(child, Some(seq), depth + 1, phase, out);
        }
    }
    let mut out = Vec::new();
    for step in &record.steps {
        walk(step, None, 0, step.phase.map(|p| p.name()), &mut out);
    }
    out
}

fn step_status(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "passed",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
    }
}

fn error_kind(kind: testmesh_runner::ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Inserts the execution of `record` and its steps on `conn` (inside the caller's transaction);
/// `None`, with nothing inserted, when `flow` names a flow or version that is not there.
async fn insert_finished(
    conn: &mut sqlx::AnyConnection,
    record: &FlowRecord,
    context: &RunContext,
    flow: RecordedFlow<'_>,
) -> Result<Option<String>> {
    let id = match uuid::Uuid::parse_str(&record.execution_id) {
        Ok(uuid) => uuid.to_string(),
        Err(_) => new_id(),
    };
    let [total, passed, failed, skipped] = step_counts(record);
    let duration = duration_ms(record.duration);
    let started = ms(record.started_at);
    let mut sql = Sql::new("INSERT INTO executions (");
    sql.push("id, workspace_id, flow_id, flow_version, flow_name, suite, tags, status, triggered_by, schedule_id, environment, variables, created_at, started_at, finished_at, duration_ms, total_steps, passed_steps, failed_steps, skipped_steps, error, attempts) SELECT ")
        .bind(id.as_str())
        .push(", ")
        .bind(context.workspace_id.as_str())
        .push(match flow {
            RecordedFlow::None => ", NULL, NULL, ",
            _ => ", f.id, v.version, ",
        })
        .bind(record.name.as_str())
        .push(", ")
        .bind(record.suite.as_deref())
        .push(", ")
        .bind(to_json_text(&record.tags))
        .push(", ")
        .bind(ExecutionStatus::of_record(record).as_str())
        .push(", ")
        .bind(context.trigger.as_str())
        .push(", ")
        .bind(context.schedule_id.as_deref())
        .push(", ")
        .bind(context.environment.as_deref())
        .push(", ")
        .bind(to_json_text(&context.variables))
        .push(", ")
        .bind(now_ms())
        .push(", ")
        .bind(started)
        .push(", ")
        .bind(started.saturating_add(duration))
        .push(", ")
        .bind(duration)
        .push(", ")
        .bind(total)
        .push(", ")
        .bind(passed)
        .push(", ")
        .bind(failed)
        .push(", ")
        .bind(skipped)
        .push(", ")
        .bind(record.error.as_deref())
        .push(", 1");
    match flow {
        RecordedFlow::None => {}
        RecordedFlow::Version { flow_id, version } => {
            sql.push(
                " FROM flows f JOIN flow_versions v ON v.flow_id = f.id WHERE f.workspace_id = ",
            )
            .bind(context.workspace_id.as_str())
            .push(" AND f.id = ")
            .bind(flow_id)
            .push(" AND v.version = ");
            match version {
                Some(version) => sql.bind(version),
                None => sql.push("f.version"),
            };
        }
        RecordedFlow::Text(yaml) => {
            sql.push(" FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version WHERE f.deleted_at IS NULL AND f.workspace_id = ")
                .bind(context.workspace_id.as_str())
                .push(" AND v.yaml_sha256 = ")
                .bind(sha256_hex(yaml))
                .push(" AND v.yaml = ")
                .bind(yaml)
                .push(" LIMIT 1");
        }
    }
    let inserted = sql.execute(&mut *conn).await.map_err(|e| match e {
        Error::Conflict(_) => Error::Conflict(format!("execution {id} is already recorded")),
        e => e,
    })?;
    if inserted == 0 {
        return Ok(None);
    }
    insert_steps(conn, &id, record).await?;
    Ok(Some(id))
}

/// Inserts the steps of `record` for `execution_id`, in multi-row batches.
pub(crate) async fn insert_steps(
    conn: &mut sqlx::AnyConnection,
    execution_id: &str,
    record: &FlowRecord,
) -> Result<()> {
    let steps = flatten(record);
    for chunk in steps.chunks(STEPS_PER_INSERT) {
        let mut sql = Sql::many("INSERT INTO execution_steps (", conn);
        sql.push(STEP_COLUMNS).push(") VALUES ");
        for (i, step) in chunk.iter().enumerate() {
            let r = step.record;
            let json = |v: &Option<Value>| v.as_ref().map(to_json_text);
            sql.push(if i == 0 { "(" } else { ", (" })
                .bind(execution_id)
                .push(", ")
                .bind(step.seq)
                .push(", ")
                .bind(step.parent_seq)
                .push(", ")
                .bind(step.depth)
                .push(", ")
                .bind(step.phase)
                .push(", ")
                .bind(r.id.as_str())
                .push(", ")
                .bind(r.name.as_deref())
                .push(", ")
                .bind(r.action.as_str())
                .push(", ")
                .bind(step_status(r.status))
                .push(", ")
                .bind(i64::from(r.attempts))
                .push(", ")
                .bind(i64::from(r.flaky))
                .push(", ")
                .bind(i64::from(r.continued))
                .push(", ")
                .bind(ms(r.started_at))
                .push(", ")
                .bind(duration_ms(r.duration))
                .push(", ")
                .bind(json(&r.request))
                .push(", ")
                .bind(json(&r.response))
                .push(", ")
                .bind(json(&r.result))
                .push(", ")
                .bind((!r.outputs.is_empty()).then(|| to_json_text(&r.outputs)))
                .push(", ")
                .bind((!r.assertions.is_empty()).then(|| to_json_text(&r.assertions)))
                .push(", ")
                .bind(r.error.as_ref().map(|e| error_kind(e.kind)))
                .push(", ")
                .bind(r.error.as_ref().map(|e| e.message.as_str()))
                .push(", ")
                .bind(r.skip_reason.as_deref())
                .push(")");
        }
        debug_assert_eq!(sql.bound(), chunk.len() * STEP_COLUMN_COUNT);
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts the runs of flow files on `conn` (inside the caller's transaction), storing a text as
/// a flow first when no stored version has it (see [`Store::record_file_runs`]).
async fn insert_file_runs(
    conn: &mut sqlx::AnyConnection,
    runs: &[FileRun<'_>],
    context: &RunContext,
) -> Result<Vec<String>> {
    ensure_workspace_in(&mut *conn, &context.workspace_id).await?;
    let mut ids = Vec::with_capacity(runs.len());
    for run in runs {
        ids.push(insert_file_run(conn, run, context).await?);
    }
    Ok(ids)
}

/// Inserts the run of one flow file (see [`insert_file_runs`]).
async fn insert_file_run(
    conn: &mut sqlx::AnyConnection,
    run: &FileRun<'_>,
    context: &RunContext,
) -> Result<String> {
    // (PostgreSQL text cannot hold NUL; `parse` refuses such a file as a flow.)
    if !run.yaml.contains('\0') {
        let known = RecordedFlow::Text(run.yaml);
        if let Some(id) = insert_finished(conn, run.record, context, known).await? {
            return Ok(id);
        }
    }
    let stored = match parse(run.yaml) {
        Ok(parsed) => Some(
            upsert_in(
                conn,
                &context.workspace_id,
                run.yaml,
                &parsed,
                run.source_path,
            )
            .await?,
        ),
        Err(Error::Invalid { .. }) => None,
        Err(e) => return Err(e),
    };
    let flow = match &stored {
        Some((flow_id, version)) => RecordedFlow::Version {
            flow_id,
            version: Some(*version),
        },
        None => RecordedFlow::None,
    };
    insert_finished(conn, run.record, context, flow)
        .await?
        .ok_or_else(|| Error::Corrupt("a flow stored in this transaction was not found".into()))
}

/// Inserts a pending execution of `context`'s flow version; `None` when the flow (live, in the
/// workspace) or the version does not exist.
async fn enqueue_in(
    conn: &mut sqlx::AnyConnection,
    context: &RunContext,
) -> Result<Option<Execution>> {
    let flow_id = context
        .flow_id
        .as_deref()
        .ok_or_else(|| Error::invalid("an execution needs a flow"))?;
    let mut sql = Sql::new("INSERT INTO executions (");
    sql.push("id, workspace_id, flow_id, flow_version, flow_name, suite, tags, status, triggered_by, schedule_id, environment, variables, created_at) SELECT ")
        .bind(new_id())
        .push(", f.workspace_id, f.id, v.version, f.name, f.suite, f.tags, 'pending', ")
        .bind(context.trigger.as_str())
        .push(", ")
        .bind(context.schedule_id.as_deref())
        .push(", ")
        .bind(context.environment.as_deref())
        .push(", ")
        .bind(to_json_text(&context.variables))
        .push(", ")
        .bind(now_ms())
        .push(" FROM flows f JOIN flow_versions v ON v.flow_id = f.id WHERE f.deleted_at IS NULL AND f.workspace_id = ")
        .bind(context.workspace_id.as_str())
        .push(" AND f.id = ")
        .bind(flow_id)
        .push(" AND v.version = ");
    match context.flow_version {
        Some(version) => sql.bind(version),
        None => sql.push("f.version"),
    };
    sql.push(" RETURNING ").push(EXECUTION_COLUMNS);
    sql.fetch_optional(conn)
        .await?
        .as_ref()
        .map(Execution::from_row)
        .transpose()
}

impl Store {
    /// Records a finished run: the execution and every step (nested ones included) in one
    /// transaction. The record's execution id becomes the row id when it is a UUID. Returns the id.
    /// A run of a stored flow (`context.flow_id`) needs the flow and the version (the current one
    /// unless `context.flow_version` says otherwise): `NotFound` otherwise.
    pub async fn record_run(&self, record: &FlowRecord, context: &RunContext) -> Result<String> {
        let flow = match &context.flow_id {
            Some(flow_id) => RecordedFlow::Version {
                flow_id,
                version: context.flow_version,
            },
            None => {
                // (Checked before the transaction: a second pooled connection inside it could
                // wait for a pool that transactions like this one have exhausted.)
                self.ensure_workspace(&context.workspace_id).await?;
                RecordedFlow::None
            }
        };
        match self.record_finished(record, context, flow).await? {
            Some(id) => Ok(id),
            None => Err(Error::not_found(
                "flow version",
                context.flow_id.as_deref().unwrap_or_default(),
            )),
        }
    }

    /// Records finished runs of flow files (see [`Store::record_run`]), each with the text of its
    /// file, so the flow is stored with its run: an unchanged file's run is recorded against the
    /// flow whose current version has exactly that text; a new text is stored first, as a new flow
    /// or a new version of the flow of the same name ([`Store::upsert_flow_by_name`]); a file that
    /// cannot be stored as a flow (one without a name, say) still has its run recorded, without a
    /// flow. Returns the executions' ids, in the order of `runs`.
    ///
    /// The runs share one transaction, new flows included — a commit writes every page it
    /// touched, and consecutive runs touch the same index pages. If that transaction fails,
    /// nothing of it is kept and the runs are recorded one at a time, so one bad run cannot cost
    /// the others their record.
    pub async fn record_file_runs(
        &self,
        runs: &[FileRun<'_>],
        context: &RunContext,
    ) -> Result<Vec<String>> {
        if runs.len() > 1
            && let Ok(ids) = self.record_file_batch(runs, context).await
        {
            return Ok(ids);
        }
        let mut ids = Vec::with_capacity(runs.len());
        let mut first_error = None;
        for run in runs {
            let one = std::slice::from_ref(run);
            match retry_on_conflict(|| self.record_file_batch(one, context)).await {
                Ok(mut recorded) => ids.append(&mut recorded),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        // Every run that could be recorded is; the first failure is the answer.
        match first_error {
            Some(e) => Err(e),
            None => Ok(ids),
        }
    }

    /// Records `runs` in one transaction: all of them, or (on an error) none.
    async fn record_file_batch(
        &self,
        runs: &[FileRun<'_>],
        context: &RunContext,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        match insert_file_runs(&mut tx, runs, context).await {
            Ok(ids) => {
                tx.commit().await?;
                Ok(ids)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    /// Inserts the execution of `record` and its steps in one transaction; `None` (and nothing
    /// written) when `flow` names a flow or version that is not there.
    async fn record_finished(
        &self,
        record: &FlowRecord,
        context: &RunContext,
        flow: RecordedFlow<'_>,
    ) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        let id = insert_finished(&mut tx, record, context, flow).await?;
        if id.is_some() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(id)
    }

    /// Queues a run of a stored flow (`context.flow_id` is required; the current version unless
    /// `flow_version` says otherwise). Returns the pending execution. One statement: the flow's
    /// name, suite and tags are copied from the version row as it is inserted.
    pub async fn enqueue_execution(&self, context: &RunContext) -> Result<Execution> {
        let mut executions = self
            .enqueue_executions(std::slice::from_ref(context))
            .await?;
        executions
            .pop()
            .ok_or_else(|| Error::Corrupt("an enqueued execution was not returned".into()))
    }

    /// Queues several runs in one transaction: either every execution is queued, in the order
    /// given, or none is (`NotFound` names the first flow or version that is missing).
    pub async fn enqueue_executions(&self, contexts: &[RunContext]) -> Result<Vec<Execution>> {
        let mut tx = self.begin_write().await?;
        let mut queued = Vec::with_capacity(contexts.len());
        for context in contexts {
            match enqueue_in(&mut tx, context).await? {
                Some(execution) => queued.push(execution),
                None => {
                    tx.rollback().await?;
                    return Err(self.missing_flow(context).await);
                }
            }
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Why `context`'s flow version could not be queued: the flow, or only the version asked for.
    async fn missing_flow(&self, context: &RunContext) -> Error {
        let flow_id = context.flow_id.as_deref().unwrap_or_default();
        match self.get_flow(&context.workspace_id, flow_id).await {
            Ok(_) => Error::not_found(
                "flow version",
                format!("{flow_id}@{}", context.flow_version.unwrap_or_default()),
            ),
            Err(e) => e,
        }
    }

    /// One execution without its steps.
    pub async fn get_execution(&self, workspace_id: &str, id: &str) -> Result<Execution> {
        let mut sql = Sql::new("SELECT ");
        sql.push(EXECUTION_COLUMNS)
            .push(" FROM executions WHERE workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("execution", id))?;
        Execution::from_row(&row)
    }

    /// One execution of any workspace (for work that knows an execution id but not its
    /// workspace, e.g. a mock server started by a running flow).
    pub async fn find_execution(&self, id: &str) -> Result<Execution> {
        let mut sql = Sql::new("SELECT ");
        sql.push(EXECUTION_COLUMNS)
            .push(" FROM executions WHERE id = ")
            .bind(id);
        let row = sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("execution", id))?;
        Execution::from_row(&row)
    }

    /// One execution with its steps.
    pub async fn get_execution_detail(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<ExecutionDetail> {
        let execution = self.get_execution(workspace_id, id).await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(STEP_COLUMNS)
            .push(" FROM execution_steps WHERE execution_id = ")
            .bind(id)
            .push(" ORDER BY seq");
        let steps = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(ExecutionStep::from_row)
            .collect::<Result<_>>()?;
        Ok(ExecutionDetail { execution, steps })
    }

    /// Executions matching the filter, newest first (id breaks ties), with the total count.
    pub async fn list_executions(
        &self,
        workspace_id: &str,
        filter: &ExecutionFilter,
    ) -> Result<Page<Execution>> {
        let (limit, offset) = page_bounds(filter.limit, filter.offset);
        let where_clause = |sql: &mut Sql| {
            sql.push(" FROM executions WHERE workspace_id = ")
                .bind(workspace_id);
            if let Some(flow_id) = &filter.flow_id {
                sql.push(" AND flow_id = ").bind(flow_id.as_str());
            }
            if let Some(suite) = &filter.suite {
                sql.push(" AND suite = ").bind(suite.as_str());
            }
            if let Some(status) = filter.status {
                sql.push(" AND status = ").bind(status.as_str());
            }
            if let Some(trigger) = filter.trigger {
                sql.push(" AND triggered_by = ").bind(trigger.as_str());
            }
            if let Some(after) = filter.created_after {
                sql.push(" AND created_at >= ").bind(ms(after));
            }
            if let Some(before) = filter.created_before {
                sql.push(" AND created_at < ").bind(ms(before));
            }
            push_any_tag(sql, "tags", &filter.tags);
        };
        let mut count = Sql::new("SELECT COUNT(*) FROM (SELECT 1");
        where_clause(&mut count);
        count
            .push(" LIMIT ")
            .bind(MAX_COUNTED + 1)
            .push(") AS matching");
        let counted = count.count(&self.pool).await?;
        let mut sql = Sql::new("SELECT ");
        sql.push(EXECUTION_COLUMNS);
        where_clause(&mut sql);
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let items = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Execution::from_row)
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total: counted.min(MAX_COUNTED),
            total_capped: counted > MAX_COUNTED,
            limit,
            offset,
        })
    }

    /// Cancels an execution: a pending one at once; a running one is flagged for its worker (seen
    /// through [`Store::heartbeat`], stored as cancelled on completion). `Conflict` when it already
    /// finished.
    pub async fn request_cancel(&self, workspace_id: &str, id: &str) -> Result<Execution> {
        let now = now_ms();
        let mut pending = Sql::new(
            "UPDATE executions SET status = 'cancelled', cancel_requested = 1, error = 'cancelled before it ran', finished_at = ",
        );
        pending
            .bind(now)
            .push(" WHERE status = 'pending' AND workspace_id = ")
            .bind(workspace_id)
            .push(" AND id = ")
            .bind(id);
        if pending.execute(&self.pool).await? == 0 {
            let mut running = Sql::new(
                "UPDATE executions SET cancel_requested = 1 WHERE status = 'running' AND workspace_id = ",
            );
            running.bind(workspace_id).push(" AND id = ").bind(id);
            if running.execute(&self.pool).await? == 0 {
                let execution = self.get_execution(workspace_id, id).await?;
                return Err(Error::Conflict(format!(
                    "execution {id} already finished ({})",
                    execution.status.as_str()
                )));
            }
        }
        self.get_execution(workspace_id, id).await
    }

    /// Executions waiting to be claimed, over all workspaces.
    pub async fn queue_depth(&self) -> Result<i64> {
        Sql::new("SELECT COUNT(*) FROM executions WHERE status = 'pending'")
            .count(&self.pool)
            .await
    }

    /// Executions per status (every status listed, zeros included); all workspaces when `None`.
    pub async fn execution_counts(&self, workspace_id: Option<&str>) -> Result<Vec<StatusCount>> {
        let mut sql = Sql::new("SELECT status, COUNT(*) AS n FROM executions");
        if let Some(ws) = workspace_id {
            sql.push(" WHERE workspace_id = ").bind(ws);
        }
        sql.push(" GROUP BY status");
        let rows = sql.fetch_all(&self.pool).await?;
        let mut counts: Vec<StatusCount> = ExecutionStatus::ALL
            .into_iter()
            .map(|status| StatusCount { status, count: 0 })
            .collect();
        for row in rows {
            let status = row.text("status")?;
            let n = row.int("n")?;
            if let Some(c) = counts.iter_mut().find(|c| c.status.as_str() == status) {
                c.count = n;
            }
        }
        Ok(counts)
    }
}

/// Converts stored milliseconds for callers that compute lease ends.
pub(crate) fn lease_end(now: i64, lease: std::time::Duration) -> i64 {
    now.saturating_add(duration_ms(lease))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ExecutionStatus::parse("x' OR 1=1"), None);
    }
}
