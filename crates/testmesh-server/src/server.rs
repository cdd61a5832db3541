//! Running the server: open the store, bind, serve the router and run the scheduler until the
//! shutdown signal, then finish the requests in flight (live event streams end at once).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use testmesh_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use std::sync::Arc;

use crate::{ApiConfig, AppState, MockConfig, MockHost, ReportConfig, router, scheduler};

/// The port the original TestMesh server uses, and ours by default.
pub const DEFAULT_PORT: u16 = 5016;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to listen on (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (default 5016; 0 picks a free one).
    pub port: u16,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Store options (encryption key, pool size).
    pub store: StoreOptions,
    /// Limits and timings of the API.
    pub api: ApiConfig,
    /// Queue the runs of due schedules (default true). Several servers may run it on one
    /// database: each tick is claimed once.
    pub scheduler: bool,
    /// How often the scheduler looks for due schedules (default 1 s).
    pub scheduler_interval: Duration,
    /// How mock servers are hosted (port pool, stored journal cap).
    pub mocks: MockConfig,
    /// Where generated reports go and how long they are kept.
    pub reports: ReportConfig,
    /// Aggregate analytics (yesterday, for every workspace) every day at this time, UTC
    /// (`testmesh serve` uses 02:00; `None`, the library default, never does).
    pub aggregate_at: Option<chrono::NaiveTime>,
}

impl ServerOptions {
    /// Defaults for a database URL.
    pub fn new(database_url: impl Into<String>) -> ServerOptions {
        ServerOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            database_url: database_url.into(),
            store: StoreOptions::default(),
            api: ApiConfig::default(),
            scheduler: true,
            scheduler_interval: Duration::from_secs(1),
            mocks: MockConfig::default(),
            reports: ReportConfig::default(),
            aggregate_at: None,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] testmesh_store::Error),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server stopped: {0}")]
    Io(#[source] std::io::Error),
    /// A built-in request schema does not compile (a bug).
    #[error("invalid built-in schema: {0}")]
    Schema(String),
}

/// A bound server, ready to run: the REST API under `/api/v1` and the web dashboard at the root.
///
/// The server queues executions; it does not run them. To run them in this process, start a
/// worker on [`Server::store`] beside [`Server::run`] and stop both with the same signal.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    scheduler: Option<Duration>,
    aggregate_at: Option<chrono::NaiveTime>,
}

impl Server {
    /// Opens the store (applying migrations) and binds the address.
    pub async fn bind(options: ServerOptions) -> Result<Server, ServeError> {
        let store = Store::open_with(&options.database_url, options.store.clone()).await?;
        Server::bind_with_store(store, options).await
    }

    /// Binds the address and serves an already opened store (`options.database_url` is not read).
    pub async fn bind_with_store(
        store: Store,
        options: ServerOptions,
    ) -> Result<Server, ServeError> {
        let addr = SocketAddr::new(options.bind, options.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let mocks = Arc::new(MockHost::new(
            store.clone(),
            format!("http://{}/mocks", url_authority(addr)),
            &options.mocks,
        ));
        // Mocks stored as running serve again before the first request arrives.
        mocks.restore().await;
        let state =
            AppState::new(store, options.api.clone(), mocks)?.with_reports(options.reports.clone());
        Ok(Server {
            listener,
            addr,
            state,
            scheduler: options.scheduler.then_some(options.scheduler_interval),
            aggregate_at: options.aggregate_at,
        })
    }

    /// The address it listens on (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store it serves.
    pub fn store(&self) -> &Store {
        self.state.store()
    }

    /// The mock servers it hosts: pass [`MockHost::hub`] to the mock flow actions of an
    /// in-process worker, and call [`MockHost::execution_ended`] when an execution ends.
    pub fn mocks(&self) -> &Arc<MockHost> {
        self.state.mocks()
    }

    /// Serves until `shutdown` completes, then stops accepting connections, ends live event
    /// streams and waits for the requests in flight. The store stays open (close it after
    /// anything else that uses it has stopped).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let token = self.state.shutdown_token().clone();
        let scheduler = self.scheduler.map(|every| {
            tokio::spawn(scheduler::run(
                self.state.store().clone(),
                every,
                token.clone(),
            ))
        });
        let analytics = self.aggregate_at.map(|at| {
            tokio::spawn(crate::routes::analytics::schedule(
                self.state.store().clone(),
                at,
                token.clone(),
            ))
        });
        let reports = tokio::spawn(testmesh_report::stored::cleanup(
            self.state.store().clone(),
            (*self.state.reports).clone(),
            token.clone(),
        ));
        let signal = {
            let token = token.clone();
            async move {
                tokio::select! {
                    () = shutdown => {}
                    () = token.cancelled() => {}
                }
                token.cancel();
            }
        };
        // The dashboard's pages share the address: the API lives under /api/v1.
        let dashboard = testmesh_dashboard::router(
            testmesh_dashboard::DashboardState::new(self.state.store().clone(), token.clone())
                .with_mocks(self.state.mocks().clone())
                .with_reports((*self.state.reports).clone()),
        );
        let mocks = self.state.mocks().clone();
        let app = router(self.state).merge(dashboard);
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await;
        token.cancel();
        // Journal entries still queued reach the store before the process ends. The mocks are
        // not stopped: those marked running start again with the next server.
        let _ = tokio::time::timeout(Duration::from_secs(5), mocks.flush()).await;
        if let Some(scheduler) = scheduler {
            // It returns once the token is cancelled; there is nothing to report.
            let _ = scheduler.await;
        }
        let _ = reports.await;
        if let Some(analytics) = analytics {
            let _ = analytics.await;
        }
        served.map_err(ServeError::Io)
    }
}

/// `host:port` for URLs: a wildcard address is reached on loopback.
fn url_authority(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("127.0.0.1:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("[::1]:{}", addr.port()),
        _ => addr.to_string(),
    }
}

/// Opens the store, binds, and serves until `shutdown` completes.
pub async fn serve(
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let server = Server::bind(options).await?;
    let store = server.store().clone();
    let result = server.run(shutdown).await;
    store.close().await;
    result
}
