//! Test support shared by the TestMesh crates' tests: a throwaway database per test (a SQLite file
//! in a temp dir, or a fresh PostgreSQL database on the server named by
//! `TESTMESH_TEST_POSTGRES_URL`) and a small HTTP target on loopback.
//!
//! PostgreSQL tests fail when `CI` is set and no server is given, and skip with a printed reason
//! otherwise; `scripts/services.sh` starts a throwaway server.

// Test support: a failed setup is a failed test, so panicking with a clear message is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "chromium")]
pub mod chromium;
mod process;
mod target;

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Utc;
use sqlx::{AssertSqlSafe, Connection, Executor};
use testmesh_store::{Backend, Store, StoreOptions};

pub use process::Running;
pub use target::{Target, TargetOptions};

/// The variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_URL_ENV: &str = "TESTMESH_TEST_POSTGRES_URL";

/// A database for one test.
pub struct TestDb {
    /// The URL to open.
    pub url: String,
    /// Which database it is.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A SQLite file in a fresh temp dir (in a sub-directory that does not exist yet).
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        TestDb {
            url: format!(
                "sqlite://{}",
                dir.path().join("nested").join("test.db").display()
            ),
            backend: Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (after saying why) without a server and without
    /// `CI`. Panics under `CI` without a server.
    pub async fn postgres() -> Option<TestDb> {
        let base = postgres_server()?;
        let name = format!(
            "tm_{}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed),
            Utc::now().timestamp_subsec_nanos()
        );
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_ENV}: {e}"));
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        conn.close().await.ok();
        let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
        Some(TestDb {
            url: format!("{prefix}/{name}"),
            backend: Backend::Postgres,
            _dir: None,
        })
    }

    /// Options: PostgreSQL has no key file by default, so its tests pass a key.
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            encryption_key: (self.backend == Backend::Postgres).then_some(TEST_KEY),
            ..StoreOptions::default()
        }
    }

    /// Opens the store (applying migrations).
    pub async fn open(&self) -> Store {
        Store::open_with(&self.url, self.options())
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url))
    }
}

/// The encryption key PostgreSQL test stores use (SQLite ones keep a key file beside the
/// database). As hex, for `TESTMESH_ENCRYPTION_KEY` of processes under test.
pub const TEST_KEY: [u8; 32] = [42u8; 32];

/// [`TEST_KEY`] as the 64 hex digits `TESTMESH_ENCRYPTION_KEY` takes.
pub fn test_key_hex() -> String {
    TEST_KEY.iter().map(|b| format!("{b:02x}")).collect()
}

/// The PostgreSQL server URL from [`POSTGRES_URL_ENV`]; `None` (with a printed reason) when it is
/// not set and `CI` is not either; a panic when `CI` is set without it.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_URL_ENV} is not set and CI is: run the tests through scripts/test.sh or source scripts/services.sh"
            );
            eprintln!(
                "skipping the PostgreSQL variant: {POSTGRES_URL_ENV} is not set (scripts/services.sh starts a throwaway server)"
            );
            None
        }
    }
}

/// Instantiates each listed test — an `async fn name(db: &TestDb)` beside the macro call — for both
/// backends, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = $crate::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}
