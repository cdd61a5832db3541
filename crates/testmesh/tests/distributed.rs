//! Scale-out on PostgreSQL with real `testmesh worker` processes: 300 queued executions of a flow
//! calling a loopback HTTP target, three workers, one killed with SIGKILL mid-run. Every execution
//! must end completed exactly once — one set of steps, one completion — and the killed worker's
//! executions must be reclaimed and re-run. The survivors stop gracefully on SIGTERM.
//!
//! Needs PostgreSQL (`TESTMESH_TEST_POSTGRES_URL`, started by `scripts/services.sh`): fails under
//! `CI` without it, skips otherwise.

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
        let log = dir.path().join(format!("{id}.log"));
        let err = dir.path().join(format!("{id}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_testmesh"))
            .args([
                "worker",
                "--id",
                id,
                "--concurrency",
                "4",
                "--lease",
                "2s",
                "--poll",
                "100ms",
                "--shutdown-grace",
                "20s",
                "--no-scheduler",
            ])
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
    let flow = store
        .create_flow(
            WS,
            &format!(
                r#"name: distributed
steps:
  - {{id: a, action: http_request, config: {{method: GET, url: "{base}/hit/a"}}, assert: [status == 200]}}
  - {{id: b, action: http_request, config: {{method: GET, url: "{base}/hit/b"}}, assert: [status == 200]}}
  - {{id: c, action: http_request, config: {{method: GET, url: "{base}/hit/c"}}, assert: [status == 200]}}
"#,
                base = target.base_url
            ),
            None,
        )
        .await
        .unwrap()
        .flow
        .id;
    let mut ids = Vec::with_capacity(EXECUTIONS);
    for _ in 0..EXECUTIONS {
        let context = RunContext::for_flow(WS, &flow, None, Trigger::Api);
        ids.push(store.enqueue_execution(&context).await.unwrap().id);
    }

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
    loop {
        let done = count(&store, ExecutionStatus::Completed).await
            + count(&store, ExecutionStatus::Failed).await
            + count(&store, ExecutionStatus::Cancelled).await;
        if done == EXECUTIONS as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain within 120 s: {done} of {EXECUTIONS} done; {:?}",
            store.execution_counts(Some(WS)).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
