//! The store's test suite. Every test is written once as an async fn taking a [`common::TestDb`] and
//! runs on SQLite (a temp file) and on PostgreSQL (a fresh database on the server named by
//! `TESTMESH_TEST_POSTGRES_URL`; without it the PostgreSQL variants fail under `CI` and skip
//! locally). `scripts/services.sh` starts a throwaway server.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

/// Instantiates each listed test for both backends: `sqlite::<name>` and `postgres::<name>`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::common::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = crate::common::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}

mod common;

mod collections;
mod environments;
mod executions;
mod flows;
mod migrations;
mod queue;
mod schedules_and_keys;
