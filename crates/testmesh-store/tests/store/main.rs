//! The store's test suite. Every test is written once as an async fn taking a [`common::TestDb`] and
//! runs on SQLite (a temp file) and on PostgreSQL (a fresh database on the server named by
//! `TESTMESH_TEST_POSTGRES_URL`; without it the PostgreSQL variants fail under `CI` and skip
//! locally). `scripts/services.sh` starts a throwaway server.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

// `on_both_backends!`: each listed test as `sqlite::<name>` and `postgres::<name>`.
#[macro_use]
extern crate testmesh_test;

mod common;

mod ai;
mod analytics;
mod collections;
mod contracts;
mod environments;
mod executions;
mod flows;
mod migrations;
mod mocks;
mod queue;
mod reports;
mod schedules_and_keys;
