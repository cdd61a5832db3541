//! TestMesh storage: flows with their versions, executions and their steps, the job queue, environments
//! (secret values encrypted), collections, schedules, API keys, workspaces, mock servers, contracts (Pact files, verifications, breaking changes), analytics (daily metrics, step performance, flakiness) and the history of imports and coverage analyses — in a SQLite file by
//! default or in PostgreSQL, behind one API.
//!
//! Both backends go through sqlx's `Any` driver with shared SQL (`$n` placeholders, TEXT ids, BIGINT
//! milliseconds, JSON as TEXT); backend-specific SQL exists only where the engines differ (the queue
//! claim and the migration lock).
//!
//! ```no_run
//! # async fn demo() -> testmesh_store::Result<()> {
//! use testmesh_store::{Store, DEFAULT_WORKSPACE_ID};
//! let store = Store::open(&Store::default_url(std::path::Path::new("."))).await?;
//! let flow = store
//!     .create_flow(DEFAULT_WORKSPACE_ID, "name: ping\nsteps:\n  - action: log\n    config: {message: hi}\n", None)
//!     .await?;
//! assert_eq!(flow.flow.version, 1);
//! # Ok(()) }
//! ```

pub mod ai;
mod analytics;
mod api_keys;
mod collections;
mod contracts;
mod crypto;
mod db;
mod environments;
mod error;
mod events;
mod executions;
mod flows;
mod migrate;
mod mocks;
mod queue;
mod reports;
mod schedules;
mod stats;
mod workspaces;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::{Any, AnyPool, Transaction};

pub use ai::{
    AiStatus, CoverageFilter, CoverageRecord, FlowSource, FlowSourceFilter, HttpCallFilter,
    ImportFilter, ImportRecord, ImportSource, MAX_FLOW_SOURCES, MAX_HTTP_CALLS,
    MAX_STORED_INPUT_BYTES, NewCoverage, NewImport, RecordedCall, RecordedCalls,
};
pub use analytics::{
    AnalyticsRun, AnalyticsRunStatus, AnalyticsWrite, DEFAULT_ENVIRONMENT, DEFAULT_SUITE,
    DailyMetric, ExecutionFact, FactFilter, FlakinessFilter, FlakinessRecord, FlakinessWindow,
    MetricFilter, MetricScope, MetricSummary, STABILITIES, StepFact, StepFilter, StepGroup,
    StepPerformance, TrendPeriod, TrendPoint, day_count, day_of_ms, day_start_ms, days_between,
    rate, round2,
};
pub use api_keys::{ApiKey, CreatedApiKey};
pub use collections::{Collection, CollectionFlow, NewCollection};
pub use contracts::{
    Contract, ContractChange, ContractComparison, ContractFilter, ContractInfo, ContractSource,
    ContractVerification, DeployReason, DeployVerdict, InteractionSummary, NewContract,
    NewContractChange, NewVerification, PactOrigin, StoreContracts, VerificationFilter,
    VerificationInfo, VerificationStatus, find_interaction, interaction_summaries,
};
pub use crypto::{KEY_ENV, KEY_FILE_ENV, KEY_FILE_NAME, parse_hex_key};
pub use db::Backend;
pub use environments::{Environment, EnvironmentInput, MASK, Variable};
pub use error::{Error, FlowDiagnostic, Result};
pub use events::{ExecutionEvent, Followed, MAX_EVENTS_PER_READ, follow_events};
pub use executions::{
    Execution, ExecutionDetail, ExecutionFilter, ExecutionStatus, ExecutionStep, FileRun,
    RunContext, StatusCount, Trigger,
};
pub use flows::{FlowFilter, FlowSummary, FlowVersion, StoredFlow};
pub use migrate::SCHEMA_VERSION;
pub use mocks::{
    MockEndpoint, MockRequest, MockServer, MockServerFilter, MockStateEntry, MockStatus,
    NewMockServer,
};
pub use queue::{ClaimedExecution, Heartbeat, MAX_ATTEMPTS};
pub use reports::{NewReport, Report, ReportFilter, ReportFormat, ReportStatus};
pub use schedules::{Schedule, ScheduleInput, next_run_after};
pub use stats::StepDurations;
pub use workspaces::Workspace;

use crypto::Cipher;

/// The workspace every store has, created by the first migration.
pub const DEFAULT_WORKSPACE_ID: &str = "00000000-0000-0000-0000-000000000001";

/// Lists of executions count matching rows up to this many: an exact count of a big history is a
/// scan of it (12 ms for 100,000 runs on SQLite) on every page.
pub const MAX_COUNTED: i64 = 10_000;

/// One page of a list, with the number of rows matching the filter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the filter, over all pages (at most [`MAX_COUNTED`] for executions).
    pub total: i64,
    /// More rows match than `total` says: counting stopped at [`MAX_COUNTED`].
    pub total_capped: bool,
    /// The page size used.
    pub limit: i64,
    /// Rows skipped before this page.
    pub offset: i64,
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// The key for secret environment values; overrides the environment and key files.
    pub encryption_key: Option<[u8; 32]>,
    /// A key file to read (or create, mode 0600); overrides `TESTMESH_ENCRYPTION_KEY_FILE` and the
    /// default `testmesh.key` next to a SQLite database. `TESTMESH_ENCRYPTION_KEY` still wins.
    pub key_file: Option<PathBuf>,
    /// Pool size (default 8 for SQLite, 10 for PostgreSQL).
    pub max_connections: Option<u32>,
    /// SQLite's page cache per connection, in KiB (SQLite's default: 2,000). A connection that
    /// only appends, like the history writer of `testmesh run`, needs little more than the last
    /// pages of each index, so a small cache saves memory without slowing it. Ignored by
    /// PostgreSQL.
    pub sqlite_cache_kib: Option<u32>,
}

/// The store: a connection pool plus the key for secrets. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Arc<Cipher>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens `sqlite://PATH` (the file and its directory are created when missing) or
    /// `postgres://…`, and applies pending migrations. The encryption key is resolved as described
    /// in [`StoreOptions`].
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// [`Store::open`] with options.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let backend = Backend::of_url(url)?;
        let sqlite_file = match backend {
            Backend::Sqlite => db::sqlite_path(url),
            Backend::Postgres => None,
        };
        let cipher = Cipher::resolve(
            options.encryption_key,
            options.key_file.as_deref(),
            sqlite_file.as_deref(),
        )?;
        let max = options.max_connections.unwrap_or(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 10,
        });
        let pool = db::connect(url, backend, max, options.sqlite_cache_kib).await?;
        migrate::migrate(&pool, backend).await?;
        Ok(Store {
            pool,
            backend,
            cipher: Arc::new(cipher),
        })
    }

    /// `sqlite://<project>/.testmesh/testmesh.db`: where a project's history lives by default.
    pub fn default_url(project_dir: &Path) -> String {
        format!(
            "sqlite://{}",
            project_dir.join(".testmesh").join("testmesh.db").display()
        )
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying pool, for diagnostics and tests (read-only use is expected).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The highest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64> {
        db::Sql::new("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .count(&self.pool)
            .await
    }

    /// Closes every connection (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Lets go of the store in a process that has finished writing and is about to exit (the
    /// CLI's history writer). PostgreSQL connections are closed; SQLite connections are left for
    /// the exit to end. Closing the last connection to a SQLite file copies its whole write-ahead
    /// log into the database and syncs it, 20-30 ms at the end of every recorded run; a log left
    /// behind is read as it is by the next connection and checkpointed as later writes go on, as
    /// after any exit. Every committed write is kept either way.
    pub async fn close_before_exit(self) {
        match self.backend {
            Backend::Postgres => self.pool.close().await,
            Backend::Sqlite => std::mem::forget(self),
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way when it upgrades from reading.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// A part of a download's file name: ASCII letters, digits, `-`, `_` and `.` kept, anything else
/// `_`, leading and trailing dots dropped; `fallback` when nothing is left. Safe in a
/// `Content-Disposition` header and as a file name.
pub fn file_name_part(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('.');
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    }
}

/// The download name of a contract's pact: `<consumer>-<provider>.json`.
pub fn pact_file_name(consumer: &str, provider: &str) -> String {
    format!(
        "{}-{}.json",
        file_name_part(consumer, "pact"),
        file_name_part(provider, "pact")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(pact_file_name("web", "user api"), "web-user_api.json");
        assert_eq!(pact_file_name("../x", "\"y\""), "_x-_y_.json");
        assert_eq!(pact_file_name("..", "a"), "pact-a.json");
        assert_eq!(file_name_part("", "report"), "report");
        assert_eq!(file_name_part("nightly <html>", "report"), "nightly__html_");
    }
}
