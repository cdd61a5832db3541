//! The worker's test suite, on SQLite (a temp file) and PostgreSQL (a fresh database on the server
//! named by `TESTMESH_TEST_POSTGRES_URL`; without it the PostgreSQL variants fail under `CI` and
//! skip locally). Flows call a real HTTP target on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

/// Instantiates each listed test for both backends: `sqlite::<name>` and `postgres::<name>`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = testmesh_test::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = testmesh_test::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}

mod common;

mod control;
mod runs;
mod schedules;
