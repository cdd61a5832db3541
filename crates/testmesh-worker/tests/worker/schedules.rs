//! Schedules: each due tick is enqueued once however many schedulers race for it, and a worker
//! with its scheduler on fires schedules and runs what they enqueue.

use chrono::Duration as TimeDelta;
use serde_json::json;
use testmesh_store::{EnvironmentInput, ExecutionFilter, ExecutionStatus, ScheduleInput, Trigger};
use testmesh_test::TestDb;
use testmesh_worker::{Notice, Scheduler};

use crate::common::{Running, WS, create_flow, options, wait_final};

on_both_backends!(
    racing_schedulers_enqueue_each_tick_once,
    a_worker_fires_schedules_and_runs_them,
    a_schedule_without_an_environment_runs_with_the_default,
);

fn log_flow(name: &str, suite: &str, tags: &str) -> String {
    format!(
        "name: {name}\nsuite: {suite}\ntags: [{tags}]\nsteps:\n  - {{id: a, action: log, config: {{message: \"${{WHO:nobody}}\"}}}}\n"
    )
}

async fn racing_schedulers_enqueue_each_tick_once(db: &TestDb) {
    let store = db.open().await;
    let nightly = create_flow(&store, &log_flow("nightly", "core", "slow")).await;
    create_flow(&store, &log_flow("smoke one", "smoke", "fast")).await;
    create_flow(&store, &log_flow("smoke two", "smoke", "fast")).await;
    let other = create_flow(&store, &log_flow("other", "misc", "x")).await;
    store.delete_flow(WS, &other).await.unwrap();
    let by_flow = store
        .create_schedule(
            WS,
            &ScheduleInput {
                environment: Some("staging".into()),
                variables: Some(json!({"WHO": "cron"})),
                ..ScheduleInput::for_flow("every second", &nightly, "* * * * * *")
            },
        )
        .await
        .unwrap();
    let by_suite = store
        .create_schedule(
            WS,
            &ScheduleInput {
                flow_id: None,
                suite: Some("smoke".into()),
                tags: vec!["fast".into()],
                ..ScheduleInput::for_flow("smoke suite", "", "* * * * * *")
            },
        )
        .await
        .unwrap();
    let empty = store
        .create_schedule(
            WS,
            &ScheduleInput {
                flow_id: None,
                suite: Some("misc".into()),
                ..ScheduleInput::for_flow("deleted suite", "", "* * * * * *")
            },
        )
        .await
        .unwrap();

    // Two schedulers with their own connections, as two servers would have, race on each tick.
    let a = Scheduler::new(db.open().await);
    let b = Scheduler::new(db.open().await);
    // The schedules were created one after another, maybe on both sides of a second's boundary:
    // from the latest first tick on, every one of them is due in each round.
    let start = [&by_flow, &by_suite, &empty]
        .iter()
        .filter_map(|s| s.next_run_at)
        .max()
        .unwrap();
    let rounds = 4;
    let mut fired = Vec::new();
    for round in 0..rounds {
        let now = start + TimeDelta::seconds(round) + TimeDelta::milliseconds(100);
        let (x, y) = tokio::join!(a.tick(now), b.tick(now));
        let mut round_fired = x.unwrap();
        round_fired.extend(y.unwrap());
        // Ticking again at the same time finds nothing due.
        assert!(a.tick(now).await.unwrap().is_empty());
        assert_eq!(round_fired.len(), 3, "round {round}: {round_fired:#?}");
        fired.extend(round_fired);
    }
    let count = |id: &str| {
        fired
            .iter()
            .filter(|f| f.schedule_id == id)
            .map(|f| f.execution_ids.len())
            .sum::<usize>()
    };
    assert_eq!(count(&by_flow.id), rounds as usize);
    assert_eq!(count(&by_suite.id), 2 * rounds as usize);
    assert_eq!(count(&empty.id), 0);
    let problems: Vec<&String> = fired
        .iter()
        .filter(|f| f.schedule_id == empty.id)
        .flat_map(|f| &f.problems)
        .collect();
    assert_eq!(problems.len(), rounds as usize);

    let queued = store
        .list_executions(
            WS,
            &ExecutionFilter {
                limit: Some(100),
                ..ExecutionFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(queued.total, 3 * rounds);
    for execution in &queued.items {
        assert_eq!(execution.status, ExecutionStatus::Pending);
        assert_eq!(execution.trigger, Trigger::Schedule);
        if execution.flow_id.as_deref() == Some(nightly.as_str()) {
            assert_eq!(execution.schedule_id.as_deref(), Some(by_flow.id.as_str()));
            assert_eq!(execution.environment.as_deref(), Some("staging"));
            assert_eq!(execution.variables, json!({"WHO": "cron"}));
        } else {
            assert_eq!(execution.schedule_id.as_deref(), Some(by_suite.id.as_str()));
            assert_eq!(execution.suite.as_deref(), Some("smoke"));
        }
    }
    let after = store.get_schedule(WS, &by_flow.id).await.unwrap();
    assert!(after.next_run_at.unwrap() > start + TimeDelta::seconds(rounds - 1));
    assert!(after.last_run_at.is_some());
}

async fn a_worker_fires_schedules_and_runs_them(db: &TestDb) {
    let store = db.open().await;
    let flow = create_flow(&store, &log_flow("ticking", "core", "t")).await;
    let schedule = store
        .create_schedule(
            WS,
            &ScheduleInput {
                variables: Some(json!({"WHO": "the scheduler"})),
                ..ScheduleInput::for_flow("every second", &flow, "* * * * * *")
            },
        )
        .await
        .unwrap();
    let mut running = Running::start(
        db.open().await,
        testmesh_worker::WorkerOptions {
            scheduler: true,
            ..options(2)
        },
    );
    let fired = running
        .notice(|n| match n {
            Notice::Scheduled(f) => Some(f.clone()),
            _ => None,
        })
        .await;
    assert_eq!(fired.schedule_id, schedule.id);
    assert_eq!(fired.execution_ids.len(), 1);
    let execution = wait_final(&store, &fired.execution_ids[0]).await;
    // Pause the schedule before stopping, so nothing new is queued.
    store
        .set_schedule_enabled(WS, &schedule.id, false)
        .await
        .unwrap();
    running.stop().await;
    assert_eq!(execution.status, ExecutionStatus::Completed);
    assert_eq!(execution.trigger, Trigger::Schedule);
    let detail = store.get_execution_detail(WS, &execution.id).await.unwrap();
    assert_eq!(
        detail.steps[0].result.as_ref().unwrap()["message"],
        "the scheduler"
    );
}

async fn a_schedule_without_an_environment_runs_with_the_default(db: &TestDb) {
    let store = db.open().await;
    let flow = create_flow(&store, &log_flow("plain", "core", "x")).await;
    store
        .create_environment(
            WS,
            &EnvironmentInput {
                name: "shared".into(),
                is_default: true,
                ..EnvironmentInput::default()
            },
        )
        .await
        .unwrap();
    store
        .create_schedule(WS, &ScheduleInput::for_flow("plain", &flow, "* * * * * *"))
        .await
        .unwrap();
    let later = chrono::Utc::now() + TimeDelta::seconds(2);
    let fired = Scheduler::new(store.clone()).tick(later).await.unwrap();
    assert_eq!(fired.len(), 1, "{fired:?}");
    let run = store
        .get_execution(WS, &fired[0].execution_ids[0])
        .await
        .unwrap();
    assert_eq!(run.environment.as_deref(), Some("shared"));
}
