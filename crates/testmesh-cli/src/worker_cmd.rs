//! `testmesh worker`: runs queued executions from a shared database until SIGTERM or Ctrl-C, and
//! logs one line per finished execution.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use testmesh_store::Store;
use testmesh_worker::{Notice, Worker, WorkerError, WorkerOptions, default_worker_id};
use tokio::sync::broadcast;

use crate::CliError;
use crate::console::format_ms;
use crate::history::{StoreArgs, shown_url};
use crate::run_cmd::parse_duration;

/// Run queued executions: the runs the server, the API or schedules put in the database.
///
/// A worker claims pending executions from the database, runs up to --concurrency of them at once,
/// and stores each outcome with its steps and live events. It holds each execution with a lease
/// that heartbeats renew; when a worker dies, the executions it held go back to the queue once
/// their leases expire and another worker runs them again (the execution records its attempts).
///
/// Start any number of workers on any number of machines against one PostgreSQL database; they
/// never run the same execution at once, and each execution is stored exactly once. SQLite works
/// for workers on one machine. Every worker also fires due schedules unless --no-scheduler; each
/// tick is enqueued once however many workers run.
///
/// SIGTERM or Ctrl-C stops the worker gracefully: it claims nothing more, lets running executions
/// finish for up to --shutdown-grace, gives the rest back to the queue, and exits with code 0.
///
/// Secret environment values are decrypted with the key in TESTMESH_ENCRYPTION_KEY (64 hex
/// digits), which every server and worker sharing a PostgreSQL database must have.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh worker --database-url postgres://testmesh:secret@db.internal/testmesh\n  \
TESTMESH_DATABASE_URL=postgres://testmesh@db/testmesh testmesh worker --concurrency 16\n  \
testmesh worker --database-url postgres://testmesh@db/testmesh --no-scheduler --lease 1m\n  \
testmesh worker --id ci-runner-1 --shutdown-grace 2m\n\n\
Output: one line per finished execution, e.g.\n  \
2025-05-01T09:30:12Z completed 412ms \"Create user\" 0b9c7d2e-6f0a-4f5e-9a51-5d7e2f7f4c11")]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Executions to run at once.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// This worker's id, unique per process; recorded on the executions it runs [default: HOST:PID:RANDOM]
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// How long a claim holds without a heartbeat; a dead worker's executions are re-run after it.
    /// Heartbeats are sent every third of it.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    lease: Duration,
    /// On shutdown, how long running executions may take to finish before they are given back to
    /// the queue.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// How long an idle worker waits before looking at the queue again.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration)]
    poll: Duration,
    /// Do not fire schedules here (another worker or the server does).
    #[arg(long)]
    no_scheduler: bool,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let url = args.store.url()?;
    let options = WorkerOptions {
        id: args.id.unwrap_or_else(default_worker_id),
        concurrency: args.concurrency,
        poll: args.poll,
        shutdown_grace: args.shutdown_grace,
        scheduler: !args.no_scheduler,
        ..WorkerOptions::default().with_lease(args.lease)
    };
    options
        .validate()
        .map_err(|e| CliError::Input(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let store = Store::open(&url)
            .await
            .map_err(|e| CliError::Input(format!("cannot open {}: {e}", shown_url(&url))))?;
        // Mocks that flows start listen here (127.0.0.1, ports from the system) and stop with
        // their flow; the server's /mocks/{id} route only serves the mocks of its own process.
        let actions = crate::run_cmd::registry(
            &crate::run_cmd::mock_hub(None),
            std::sync::Arc::new(testmesh_store::StoreContracts::new(store.clone())),
        );
        let worker = Worker::with_registry(store.clone(), options, actions);
        let printer = tokio::spawn(print_notices(worker.subscribe()));
        let o = worker.options();
        outln!(
            "worker {} started on {}: {} at once, lease {}, scheduler {}",
            o.id,
            shown_url(&url),
            o.concurrency,
            format_ms(o.lease),
            if o.scheduler { "on" } else { "off" },
        );
        let grace = o.shutdown_grace;
        let result = worker
            .run(async move {
                let signal = shutdown_signal().await;
                outln!(
                    "{signal}: finishing running executions (up to {}), then stopping",
                    format_ms(grace)
                );
            })
            .await;
        let id = worker.id().to_string();
        // The notices end with the worker; print what is left.
        drop(worker);
        let _ = printer.await;
        store.close().await;
        match result {
            Ok(()) => {
                outln!("worker {id} stopped");
                Ok(crate::EXIT_OK)
            }
            Err(e @ WorkerError::Options(_)) => Err(CliError::Input(e.to_string())),
            Err(e) => Err(CliError::Internal(e.to_string())),
        }
    })
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return "SIGINT",
                _ = term.recv() => return "SIGTERM",
            }
        }
    }
    // Without signal handlers the worker runs until it is killed.
    match tokio::signal::ctrl_c().await {
        Ok(()) => "SIGINT",
        Err(_) => std::future::pending().await,
    }
}

/// Prints a line per finished execution and per other event worth an operator's attention;
/// problems go to stderr.
async fn print_notices(mut notices: broadcast::Receiver<Notice>) {
    loop {
        let notice = match notices.recv().await {
            Ok(notice) => notice,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("warning: {n} worker notices were dropped (the output is too slow)");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        match notice {
            Notice::Finished(execution) => {
                let duration = execution
                    .duration_ms
                    .map(|ms| format_ms(Duration::from_millis(ms.max(0).unsigned_abs())))
                    .unwrap_or_else(|| "-".into());
                let error = match (&execution.error, execution.status.as_str()) {
                    (Some(error), "failed") => format!(" error: {}", one_line(error)),
                    _ => String::new(),
                };
                outln!(
                    "{now} {} {duration} {:?} {}{error}",
                    execution.status.as_str(),
                    execution.flow_name,
                    execution.id
                );
            }
            Notice::LeaseLost { execution_id } => outln!(
                "{now} lease-lost {execution_id}: another worker runs it now; nothing stored here"
            ),
            Notice::Released { execution_id } => {
                outln!("{now} released {execution_id}: back in the queue")
            }
            Notice::Reclaimed { count } => {
                outln!("{now} reclaimed {count} executions of workers whose leases expired")
            }
            Notice::Scheduled(fired) => {
                outln!(
                    "{now} scheduled {:?}: {} executions queued",
                    fired.schedule_name,
                    fired.execution_ids.len()
                );
                for problem in &fired.problems {
                    eprintln!("warning: schedule {:?}: {problem}", fired.schedule_name);
                }
            }
            Notice::Problem { message } => eprintln!("warning: {message}"),
            Notice::Claimed { .. } => {}
        }
    }
}

/// The first line of a message, shortened to 200 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}
