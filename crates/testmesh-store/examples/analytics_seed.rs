//! Benchmark data (not a test): fills a store with a large, deterministic history for
//! `bench/analytics.sh`.
//!
//!   cargo run --release -p testmesh-store --example analytics_seed -- URL [EXECUTIONS] [DAYS] [FLOWS]
//!
//! Writes EXECUTIONS finished executions (default 1,000,000) of FLOWS flows (default 200) spread
//! evenly over DAYS days (default 30) ending 2025-01-30, five steps each, into the store at URL (an
//! empty `sqlite://…` or `postgres://…` database). The rows are generated inside the database
//! (`generate_series` on PostgreSQL, a recursive CTE on SQLite), 100,000 executions per
//! transaction, so filling is fast. Every tenth flow is flaky (fails a quarter of its runs), the
//! others fail 2%; 0.5% are cancelled; runs alternate between the environments staging, prod and
//! none; one step in 97 passed on a retry. Prints the first and last day.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark may panic

use std::time::Instant;

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, Executor};
use testmesh_store::{Backend, DEFAULT_WORKSPACE_ID, Store, day_start_ms};

const CHUNK: i64 = 100_000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: analytics_seed URL [EXECUTIONS] [DAYS] [FLOWS]");
    let executions: i64 = args.next().map_or(1_000_000, |n| n.parse().unwrap());
    let days: i64 = args.next().map_or(30, |n| n.parse().unwrap());
    let flows: i64 = args.next().map_or(200, |n| n.parse().unwrap());
    let last = NaiveDate::from_ymd_opt(2025, 1, 30).unwrap();
    let first = last - chrono::Duration::days(days - 1);
    let start_ms = day_start_ms(first);
    let span_ms = days * 86_400_000;

    let store = Store::open(&url).await.unwrap();
    let pg = store.backend() == Backend::Postgres;
    let pool = store.pool();
    let started = Instant::now();

    let flow_id = |expr: &str| {
        if pg {
            format!("'f0000000-0000-4000-8000-' || lpad(({expr})::text, 12, '0')")
        } else {
            format!("printf('f0000000-0000-4000-8000-%012d', {expr})")
        }
    };
    let series = |lo: i64, hi: i64| {
        if pg {
            format!("(SELECT i FROM generate_series({lo}::bigint, {hi}::bigint) AS g(i)) AS seq")
        } else {
            format!(
                "(WITH RECURSIVE r(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM r WHERE i < {hi}) SELECT i FROM r) AS seq"
            )
        }
    };

    // The flows (executions reference them).
    let sql = format!(
        "INSERT INTO flows (id, workspace_id, name, suite, tags, version, created_at, updated_at) \
         SELECT {id}, '{ws}', 'flow-' || i, 'suite-' || (i % 10), '[]', 1, {start_ms}, {start_ms} FROM {seq}",
        id = flow_id("i"),
        ws = DEFAULT_WORKSPACE_ID,
        seq = series(0, flows - 1),
    );
    pool.execute(AssertSqlSafe(sql)).await.unwrap();

    let execution_id = |expr: &str| {
        if pg {
            format!("'e0000000-0000-4000-8000-' || lpad(({expr})::text, 12, '0')")
        } else {
            format!("printf('e0000000-0000-4000-8000-%012d', {expr})")
        }
    };
    let mut lo = 0;
    while lo < executions {
        let hi = (lo + CHUNK).min(executions) - 1;
        // h: a deterministic pseudo-random number per execution.
        let executions_sql = format!(
            "INSERT INTO executions (id, workspace_id, flow_id, flow_version, flow_name, suite, tags, status, triggered_by, environment, variables, created_at, started_at, finished_at, duration_ms, total_steps, passed_steps, failed_steps, skipped_steps, error, attempts) \
             SELECT {id}, '{ws}', {flow}, 1, 'flow-' || f, 'suite-' || (f % 10), '[]', status, 'cli', \
                    CASE i % 3 WHEN 0 THEN 'staging' WHEN 1 THEN 'prod' ELSE NULL END, '{{}}', \
                    created, created, created + duration, duration, 5, \
                    CASE status WHEN 'completed' THEN 5 WHEN 'failed' THEN 4 ELSE 2 END, \
                    CASE status WHEN 'failed' THEN 1 ELSE 0 END, \
                    CASE status WHEN 'cancelled' THEN 3 ELSE 0 END, \
                    CASE status WHEN 'failed' THEN '[main] step ''step-4'' (http_request): assertion failed: status == 200' ELSE NULL END, 1 \
             FROM (SELECT i, f, h, {start_ms} + (i * {span_ms}) / {executions} AS created, 50 + (h % 2000) AS duration, \
                          CASE WHEN h % 200 = 0 THEN 'cancelled' \
                               WHEN (f % 10 = 0 AND h % 4 = 0) OR h % 50 = 0 THEN 'failed' \
                               ELSE 'completed' END AS status \
                   FROM (SELECT i, i % {flows} AS f, (i * 2654435761) % 1000003 AS h FROM {seq}) AS base) AS runs",
            id = execution_id("i"),
            ws = DEFAULT_WORKSPACE_ID,
            flow = flow_id("f"),
            seq = series(lo, hi),
        );
        let lo_id = if pg {
            format!("'e0000000-0000-4000-8000-' || lpad('{lo}', 12, '0')")
        } else {
            format!("printf('e0000000-0000-4000-8000-%012d', {lo})")
        };
        let hi_id = if pg {
            format!("'e0000000-0000-4000-8000-' || lpad('{hi}', 12, '0')")
        } else {
            format!("printf('e0000000-0000-4000-8000-%012d', {hi})")
        };
        let actions = "CASE s.n WHEN 0 THEN 'http_request' WHEN 1 THEN 'database_query' WHEN 2 THEN 'transform' WHEN 3 THEN 'log' ELSE 'http_request' END";
        let steps_sql = format!(
            "INSERT INTO execution_steps (execution_id, seq, depth, phase, step_id, name, action, status, attempts, flaky, continued, started_at, duration_ms, error_kind, error_message) \
             SELECT e.id, s.n, 0, 'main', 'step-' || s.n, NULL, {actions}, \
                    CASE WHEN e.status = 'failed' AND s.n = 4 THEN 'failed' \
                         WHEN e.status = 'cancelled' AND s.n >= 2 THEN 'skipped' ELSE 'passed' END, \
                    CASE WHEN (e.created_at + s.n) % 97 = 0 THEN 2 ELSE 1 END, \
                    CASE WHEN (e.created_at + s.n) % 97 = 0 AND NOT (e.status = 'failed' AND s.n = 4) THEN 1 ELSE 0 END, 0, \
                    e.created_at + s.n, e.duration_ms / 5 + s.n * 3, \
                    CASE WHEN e.status = 'failed' AND s.n = 4 THEN 'assertion' ELSE NULL END, \
                    CASE WHEN e.status = 'failed' AND s.n = 4 THEN 'assertion failed:\n  - status == 200: expected status == 200, but status is ' || (500 + e.duration_ms % 4) ELSE NULL END \
             FROM executions e CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) AS s \
             WHERE e.id >= {lo_id} AND e.id <= {hi_id}"
        );
        let mut tx = pool.begin().await.unwrap();
        tx.execute(AssertSqlSafe(executions_sql)).await.unwrap();
        tx.execute(AssertSqlSafe(steps_sql)).await.unwrap();
        tx.commit().await.unwrap();
        lo = hi + 1;
        eprintln!(
            "seeded {} executions ({:.1} s)",
            lo,
            started.elapsed().as_secs_f64()
        );
    }
    if pg {
        pool.execute("ANALYZE").await.unwrap();
    } else {
        pool.execute("ANALYZE").await.unwrap();
        pool.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
    }
    store.close().await;
    println!("{first} {last}");
}
