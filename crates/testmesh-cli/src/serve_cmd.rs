//! `testmesh serve`: the REST API over the store, until SIGINT or SIGTERM.

use std::io::IsTerminal;
use std::net::IpAddr;

use testmesh_server::{ApiConfig, DEFAULT_PORT, ServeError, Server, ServerOptions};
use testmesh_store::DEFAULT_WORKSPACE_ID;
use testmesh_worker::{Worker, WorkerOptions};
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
/// database), and due schedules are queued by the server. The OpenAPI document is at /api/v1/openapi.json; docs/api.md
/// describes every route. SIGINT (Ctrl-C) or SIGTERM stops the server gracefully: it stops
/// accepting connections, ends live event streams and finishes the requests in flight.
///
/// Log lines go to standard error; TESTMESH_LOG sets the level (e.g. `debug`, default `info`).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh apikey create local && testmesh serve\n  \
testmesh serve --port 8080\n  \
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
    #[command(flatten)]
    store: StoreArgs,
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
        let worker = (!args.no_worker).then(|| {
            Worker::new(
                store.clone(),
                WorkerOptions {
                    concurrency: args.concurrency,
                    scheduler: false,
                    ..WorkerOptions::default()
                },
            )
        });
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
