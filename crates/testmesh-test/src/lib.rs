//! Test helpers shared by TestMesh crates: a database per test, on SQLite (a temp file) or on
//! PostgreSQL (a fresh database on the server named by `TESTMESH_TEST_POSTGRES_URL`).
//!
//! Without that variable the PostgreSQL variants fail when `CI` is set and are skipped (with a
//! printed reason) otherwise. `scripts/services.sh` starts a throwaway server and sets it.

// Helpers for tests: failing loudly on a broken environment is what they are for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sqlx::{AssertSqlSafe, Connection, Executor};
use testmesh_store::{Backend, Store, StoreOptions};

/// The environment variable naming a PostgreSQL server the tests may create databases on.
pub const POSTGRES_URL_ENV: &str = "TESTMESH_TEST_POSTGRES_URL";

/// A database for one test; a SQLite database is removed with its temp dir when dropped.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

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

    /// A fresh PostgreSQL database, or `None` (after saying why) without a server and without CI.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(base) = std::env::var(POSTGRES_URL_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_URL_ENV} is not set and CI is: run the tests through scripts/test.sh or source scripts/services.sh"
            );
            eprintln!(
                "skipping the PostgreSQL variant: {POSTGRES_URL_ENV} is not set (scripts/services.sh starts a throwaway server)"
            );
            return None;
        };
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .expect("connect to TESTMESH_TEST_POSTGRES_URL");
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

    /// Store options: PostgreSQL has no key file by default, so its tests pass a key.
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            encryption_key: (self.backend == Backend::Postgres).then_some([42u8; 32]),
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

/// Instantiates each listed async test fn (taking `&TestDb`) for both backends, as
/// `sqlite::<name>` and `postgres::<name>`.
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
