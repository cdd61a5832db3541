//! `testmesh serve`: the REST API over the store, until SIGINT or SIGTERM.

use std::io::IsTerminal;
use std::net::IpAddr;

use testmesh_server::{
    ApiConfig, DEFAULT_PORT, MockConfig, ReportConfig, ServeError, Server, ServerOptions,
};
use testmesh_store::DEFAULT_WORKSPACE_ID;
use testmesh_worker::{Notice, Worker, WorkerOptions};
use tokio_util::sync::CancellationToken;

use crate::history::{StoreArgs, shown_url};
use crate::render::use_color;
use crate::{CliError, EXIT_OK};

/// Serve the web dashboard and the REST API: flows, executions with live events (SSE), environments,
/// collections, schedules, API keys, /metrics and /health.
///
/// Every API route but /health needs an API key, and the dashboard logs in with one: create the
/// first one with `testmesh apikey create NAME`. Runs are queued in the database; a worker in this
/// process runs them (--no-worker leaves them to `testmesh worker` processes sharing the
/// database), and due schedules are queued by the server. Every night (--aggregate-at) the server
/// aggregates yesterday's runs into the analytics that /api/v1/analytics/* and the dashboard's
/// analytics pages show. The OpenAPI document is at /api/v1/openapi.json; docs/api.md
/// describes every route. SIGINT (Ctrl-C) or SIGTERM stops the server gracefully: it stops
/// accepting connections, ends live event streams and finishes the requests in flight.
///
/// Log lines go to standard error; TESTMESH_LOG sets the level (e.g. `debug`, default `info`).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh apikey create local && testmesh serve\n  \
testmesh serve --port 8080\n  \
testmesh serve --aggregate-at 04:30   # analytics of yesterday every day at 04:30 UTC (default 02:00)\n  \
testmesh serve --bind 0.0.0.0 --database-url postgres://testmesh@db/testmesh\n  \
curl -H \"Authorization: Bearer $KEY\" http://127.0.0.1:5016/api/v1/flows"
)]
pub(crate) struct Args {
    /// Address to listen on; 0.0.0.0 (or ::) listens on every interface.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, short, value_name = "PORT", env = "TESTMESH_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Requests per minute for API keys without their own limit (`apikey create --rate-limit`).
    #[arg(long, value_name = "N", default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: u32,
    /// Do not queue the runs of due schedules in this process (another server does).
    #[arg(long)]
    no_scheduler: bool,
    /// Do not run queued executions in this process: separate `testmesh worker` processes do.
    #[arg(long)]
    no_worker: bool,
    /// Executions the in-process worker runs at once.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// Ports for mock servers that ask for a listener of their own (`port: 0`), e.g. 9000-9100.
    /// Every mock is also served at /mocks/{id} on the server port.
    #[arg(long, value_name = "FIRST-LAST", value_parser = parse_ports)]
    mock_ports: Option<std::ops::RangeInclusive<u16>>,
    /// Journal entries kept in the database per mock server (the oldest go first).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..))]
    mock_journal_cap: i64,
    /// Where generated reports are written (`POST /api/v1/reports/generate`).
    #[arg(long, value_name = "DIR", default_value = ".testmesh/reports")]
    report_dir: std::path::PathBuf,
    /// Days a generated report is kept before it and its file are deleted.
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=3650))]
    report_ttl_days: u64,
    /// Aggregate analytics every day at this time (UTC, HH:MM), or `off`: yesterday's daily
    /// metrics, step performance and flakiness, for every workspace (nights missed while no
    /// server ran are caught up, up to a week).
    #[arg(long, value_name = "HH:MM|off", default_value = "02:00", value_parser = parse_aggregate_at)]
    aggregate_at: AggregateAt,
    #[command(flatten)]
    store: StoreArgs,
}

/// When `serve` aggregates analytics.
#[derive(Clone, Copy)]
struct AggregateAt(Option<chrono::NaiveTime>);

/// `HH:MM` (UTC) or `off`.
fn parse_aggregate_at(text: &str) -> Result<AggregateAt, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(AggregateAt(None));
    }
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map(|t| AggregateAt(Some(t)))
        .map_err(|_| format!("`{text}` is not a time: use HH:MM (UTC, e.g. 02:00) or off"))
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let url = args.store.url()?;
    crate::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let options = ServerOptions {
            bind: args.bind,
            port: args.port,
            api: ApiConfig {
                default_rate_limit_per_minute: args.rate_limit,
                ..ApiConfig::default()
            },
            scheduler: !args.no_scheduler,
            mocks: MockConfig {
                ports: args.mock_ports.clone(),
                journal_cap: args.mock_journal_cap,
                ..MockConfig::default()
            },
            reports: ReportConfig {
                ttl: std::time::Duration::from_secs(args.report_ttl_days * 24 * 3600),
                ..ReportConfig::new(&args.report_dir)
            },
            aggregate_at: args.aggregate_at.0,
            ..ServerOptions::new(url.clone())
        };
        let server = Server::bind(options).await.map_err(|e| match e {
            ServeError::Store(e) => {
                CliError::Input(format!("cannot open {}: {e}", shown_url(&url)))
            }
            e @ ServeError::Bind { .. } => CliError::Input(e.to_string()),
            e => CliError::Internal(e.to_string()),
        })?;
        let store = server.store().clone();
        let base = format!("http://{}", server.local_addr());
        outln!("TestMesh API listening on {base} (database: {})", shown_url(&url));
        outln!("OpenAPI document: {base}/api/v1/openapi.json · health: {base}/health");
        let keys = store.list_api_keys(DEFAULT_WORKSPACE_ID).await.unwrap_or_default();
        if keys.iter().all(|k| k.revoked_at.is_some()) {
            let hint = "No API key yet: every route but /health needs one. Create it with `testmesh apikey create NAME`.";
            if use_color(std::io::stdout().is_terminal()) {
                outln!("\x1b[33m{hint}\x1b[0m");
            } else {
                outln!("{hint}");
            }
        }
        outln!("Dashboard: {base}/");
        // One signal stops both: the server, and the worker running queued executions here (its
        // scheduler is off: the server's queues due schedules).
        let stop = CancellationToken::new();
        let mocks = server.mocks().clone();
        // Flow actions, the mock-server ones on the server's hub: mocks that flows start are
        // served at /mocks/{id}, stored, and stopped when their execution ends.
        let registry = crate::run_cmd::registry(
            mocks.hub(),
            std::sync::Arc::new(testmesh_store::StoreContracts::new(store.clone())),
        );
        let worker = (!args.no_worker).then(|| {
            Worker::with_registry(
                store.clone(),
                WorkerOptions {
                    concurrency: args.concurrency,
                    scheduler: false,
                    ..WorkerOptions::default()
                },
                registry,
            )
        });
        // Mocks a flow started stop when its execution ends, however it ends.
        if let Some(worker) = &worker {
            let mut notices = worker.subscribe();
            let mocks = mocks.clone();
            tokio::spawn(async move {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    match notices.recv().await {
                        Ok(Notice::Finished(execution)) => mocks.execution_ended(&execution.id).await,
                        Ok(Notice::LeaseLost { execution_id } | Notice::Released { execution_id }) => {
                            mocks.execution_ended(&execution_id).await
                        }
                        Ok(_) => {}
                        // Some notices were missed: look at every flow-started mock.
                        Err(RecvError::Lagged(_)) => mocks.sweep_ended().await,
                        Err(RecvError::Closed) => break,
                    }
                }
            });
        }
        let signal = {
            let stop = stop.clone();
            async move {
                shutdown_signal().await;
                stop.cancel();
            }
        };
        tokio::spawn(signal);
        let worked = async {
            match &worker {
                Some(worker) => worker.run(stop.clone().cancelled_owned()).await,
                None => Ok(()),
            }
        };
        let (served, worked) = tokio::join!(server.run(stop.clone().cancelled_owned()), worked);
        store.close().await;
        served.map_err(|e| CliError::Internal(e.to_string()))?;
        worked.map_err(|e| CliError::Internal(format!("the worker stopped: {e}")))
    })?;
    outln!("Stopped.");
    Ok(EXIT_OK)
}

/// `FIRST-LAST` (or one port).
fn parse_ports(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("`{p}` is not a port (1-65535)"))
    };
    let (first, last) = (port(first)?, port(last)?);
    if first > last {
        return Err(format!(
            "the range {first}-{last} is empty: write FIRST-LAST"
        ));
    }
    Ok(first..=last)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. A signal that cannot be watched is ignored rather
/// than taken as a request to stop.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
