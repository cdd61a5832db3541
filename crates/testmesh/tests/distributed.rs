//! Real `testmesh worker` processes on a shared database.
//!
//! Scale-out on PostgreSQL: 300 queued executions of a flow calling a loopback HTTP target, three
//! workers, one killed with SIGKILL mid-run. Every execution must end completed exactly once — one
//! set of steps, one completion — and the killed worker's executions must be reclaimed and re-run.
//! The survivors stop gracefully on SIGTERM. Needs PostgreSQL (`TESTMESH_TEST_POSTGRES_URL`,
//! started by `scripts/services.sh`): fails under `CI` without it, skips otherwise.
//!
//! Also: a worker on SQLite, its output, Ctrl-C, and invalid options.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use testmesh_store::{
    DEFAULT_WORKSPACE_ID as WS, ExecutionFilter, ExecutionStatus, RunContext, Store, Trigger,
};
use testmesh_test::{Target, TargetOptions, TestDb, test_key_hex};

const EXECUTIONS: usize = 300;
const WORKERS: usize = 3;
const STEPS: i64 = 3;

/// A `testmesh worker` process, killed (SIGKILL) if the test ends while it still runs.
struct WorkerProcess {
    id: String,
    child: Child,
    log: PathBuf,
}

impl WorkerProcess {
    fn start(id: &str, url: &str, dir: &tempfile::TempDir) -> WorkerProcess {
        WorkerProcess::start_with(id, url, dir, &["--lease", "2s", "--no-scheduler"])
    }

    fn start_with(id: &str, url: &str, dir: &tempfile::TempDir, extra: &[&str]) -> WorkerProcess {
        let log = dir.path().join(format!("{id}.log"));
        let err = dir.path().join(format!("{id}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_testmesh"))
            .args([
                "worker",
                "--id",
                id,
                "--concurrency",
                "4",
                "--poll",
                "100ms",
                "--shutdown-grace",
                "20s",
            ])
            .args(extra)
            .env("TESTMESH_DATABASE_URL", url)
            .env("TESTMESH_ENCRYPTION_KEY", test_key_hex())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(err).unwrap())
            .spawn()
            .expect("start testmesh worker");
        WorkerProcess {
            id: id.to_string(),
            child,
            log,
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {}", self.id);
    }

    /// Waits up to `limit` for the process to exit.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "worker {} did not exit within {limit:?}",
                self.id
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Queues `n` runs of a flow with three HTTP steps against `base`; returns their ids.
async fn enqueue_three_step_runs(store: &Store, base: &str, n: usize) -> Vec<String> {
    let flow = store
        .create_flow(
            WS,
            &format!(
                r#"name: distributed
steps:
  - {{id: a, action: http_request, config: {{method: GET, url: "{base}/hit/a"}}, assert: [status == 200]}}
  - {{id: b, action: http_request, config: {{method: GET, url: "{base}/hit/b"}}, assert: [status == 200]}}
  - {{id: c, action: http_request, config: {{method: GET, url: "{base}/hit/c"}}, assert: [status == 200]}}
"#
            ),
            None,
        )
        .await
        .unwrap()
        .flow
        .id;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let context = RunContext::for_flow(WS, &flow, None, Trigger::Api);
        ids.push(store.enqueue_execution(&context).await.unwrap().id);
    }
    ids
}

/// Waits until `n` executions are final, within `limit`.
async fn wait_drained(store: &Store, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let done = count(store, ExecutionStatus::Completed).await
            + count(store, ExecutionStatus::Failed).await
            + count(store, ExecutionStatus::Cancelled).await;
        if done == n as i64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain within {limit:?}: {done} of {n} done; {:?}",
            store.execution_counts(Some(WS)).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(store: &Store, status: ExecutionStatus) -> i64 {
    store
        .execution_counts(Some(WS))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.status == status)
        .map_or(0, |c| c.count)
}

/// The ids of running executions, per worker id.
async fn running_by_worker(store: &Store) -> HashMap<String, Vec<String>> {
    let page = store
        .list_executions(
            WS,
            &ExecutionFilter {
                status: Some(ExecutionStatus::Running),
                limit: Some(1000),
                ..ExecutionFilter::default()
            },
        )
        .await
        .unwrap();
    let mut held = HashMap::new();
    for execution in page.items {
        held.entry(execution.worker_id.unwrap_or_default())
            .or_insert_with(Vec::new)
            .push(execution.id);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_survive_a_killed_peer_and_complete_every_execution_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.open().await;
    let target = Target::start(TargetOptions { delay_ms: 0..15 }).await;
    let ids = enqueue_three_step_runs(&store, &target.base_url, EXECUTIONS).await;

    let logs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut workers: Vec<WorkerProcess> = (1..=WORKERS)
        .map(|n| WorkerProcess::start(&format!("worker-{n}"), &db.url, &logs))
        .collect();

    // Once some executions are done, kill a worker that holds running executions.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (victim, held_at_kill) = loop {
        assert!(Instant::now() < deadline, "no progress before the kill");
        if count(&store, ExecutionStatus::Completed).await >= 30 {
            let mut held = running_by_worker(&store).await;
            if let Some(index) = workers.iter().position(|w| held.contains_key(&w.id)) {
                workers[index].child.kill().unwrap();
                let victim = workers.remove(index);
                let ids = held.remove(&victim.id).unwrap_or_default();
                break (victim, ids);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut victim = victim;
    let victim_status = victim.wait(Duration::from_secs(10));
    assert!(!victim_status.success(), "killed: {victim_status:?}");

    // The queue drains: nothing pending, nothing running.
    wait_drained(
        &store,
        EXECUTIONS,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await;
    let drained = started.elapsed();

    // Every execution completed exactly once: one set of steps, one completion event.
    let mut reruns = 0;
    let mut reclaimed = 0;
    for id in &ids {
        let detail = store.get_execution_detail(WS, id).await.unwrap();
        let execution = &detail.execution;
        assert_eq!(
            execution.status,
            ExecutionStatus::Completed,
            "{execution:?}"
        );
        assert_eq!(execution.total_steps, STEPS, "{execution:?}");
        assert_eq!(execution.passed_steps, STEPS, "{execution:?}");
        let steps: Vec<(i64, &str)> = detail
            .steps
            .iter()
            .map(|s| (s.seq, s.step_id.as_str()))
            .collect();
        assert_eq!(steps, [(0, "a"), (1, "b"), (2, "c")], "{id}");
        if held_at_kill.contains(id) {
            // Finished by the victim just before it died, or reclaimed and run again elsewhere.
            let finished_first = execution.attempts == 1
                && execution.worker_id.as_deref() == Some(victim.id.as_str());
            let rerun = execution.attempts >= 2
                && execution.worker_id.as_deref() != Some(victim.id.as_str());
            assert!(finished_first || rerun, "{execution:?}");
            reclaimed += usize::from(rerun);
        }
        let events = store.events_after(id, 0, 1000).await.unwrap();
        let finals: Vec<&str> = events
            .iter()
            .map(|e| e.kind.as_str())
            .filter(|k| k.starts_with("execution.") && *k != "execution.started")
            .collect();
        // The final event follows the stored outcome: only a worker killed between the two
        // leaves it out.
        let finished_by_victim = execution.worker_id.as_deref() == Some(victim.id.as_str());
        match finals.as_slice() {
            ["execution.completed"] => {}
            [] if finished_by_victim => {}
            other => panic!("{id}: final events {other:?}"),
        }
        if execution.attempts >= 2 {
            reruns += 1;
        }
    }
    assert!(
        reclaimed >= 1,
        "the killed worker held {held_at_kill:?}; none was reclaimed and re-run"
    );
    assert!(target.hits("a") >= EXECUTIONS && target.hits("c") >= EXECUTIONS);

    // The survivors stop gracefully on SIGTERM, with code 0.
    for worker in &workers {
        worker.signal("TERM");
    }
    let mut logged: Vec<String> = victim
        .output()
        .lines()
        .filter(|l| l.contains(" completed "))
        .map(str::to_string)
        .collect();
    for worker in &mut workers {
        let status = worker.wait(Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{}: {}", worker.id, worker.output());
        let output = worker.output();
        assert!(
            output.contains(&format!("worker {} stopped", worker.id)),
            "{output}"
        );
        logged.extend(
            output
                .lines()
                .filter(|l| l.contains(" completed "))
                .map(str::to_string),
        );
    }
    // One log line per completion, across all workers.
    let logged_ids: Vec<&str> = logged
        .iter()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    let unique: HashSet<&str> = logged_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        logged_ids.len(),
        "an execution was logged twice"
    );
    assert!(unique.iter().all(|id| ids.iter().any(|i| i == id)));
    eprintln!(
        "distributed: {EXECUTIONS} executions on {WORKERS} workers (one killed holding {}) drained in {:.1} s; {reclaimed} of them re-run, {reruns} executions with 2+ attempts",
        held_at_kill.len(),
        drained.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqlite_logs_each_execution_and_stops_on_ctrl_c() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let target = Target::start(TargetOptions::default()).await;
    let ids = enqueue_three_step_runs(&store, &target.base_url, 5).await;
    let logs = tempfile::tempdir().unwrap();
    let mut worker = WorkerProcess::start_with("solo", &db.url, &logs, &[]);
    wait_drained(&store, ids.len(), Duration::from_secs(60)).await;
    // Each finished execution is logged once by the time it is stored (give the line a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    while worker.output().matches(" completed ").count() < ids.len() {
        assert!(Instant::now() < deadline, "{}", worker.output());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.signal("INT");
    let status = worker.wait(Duration::from_secs(30));
    let output = worker.output();
    assert_eq!(status.code(), Some(0), "{output}");
    let lines: Vec<&str> = output.lines().collect();
    assert!(
        lines[0].starts_with("worker solo started on ") && lines[0].ends_with("scheduler on"),
        "{output}"
    );
    for id in &ids {
        let line = lines
            .iter()
            .find(|l| l.ends_with(id.as_str()))
            .unwrap_or_else(|| panic!("no line for {id}: {output}"));
        // e.g. `2026-05-01T09:30:12Z completed 41ms "distributed" <id>`
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[1], "completed", "{line}");
        assert!(
            fields[2].ends_with("ms") || fields[2].ends_with('s'),
            "{line}"
        );
        assert_eq!(fields[3], "\"distributed\"", "{line}");
        let execution = store.get_execution(WS, id).await.unwrap();
        assert_eq!(execution.status, ExecutionStatus::Completed);
        assert_eq!(execution.worker_id.as_deref(), Some("solo"));
    }
    assert!(
        output.contains("SIGINT: finishing running executions"),
        "{output}"
    );
    assert!(
        output.trim_end().ends_with("worker solo stopped"),
        "{output}"
    );
    assert_eq!(target.hits("c"), ids.len());
}

#[test]
fn invalid_worker_options_exit_with_code_2() {
    for args in [
        &["--concurrency", "0"][..],
        &["--lease", "10ms"][..],
        &["--lease", "soon"][..],
        &["--database-url", "mongodb://nope"][..],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_testmesh"))
            .arg("worker")
            .args(args)
            .env("TESTMESH_DATABASE_URL", "sqlite://unused-by-this-test.db")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            !output.stderr.is_empty(),
            "{args:?}: an error message on stderr"
        );
    }
}
