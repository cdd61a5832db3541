//! The worker's test suite, on SQLite (a temp file) and PostgreSQL (a fresh database on the server
//! named by `TESTMESH_TEST_POSTGRES_URL`; without it the PostgreSQL variants fail under `CI` and
//! skip locally). Flows call a real HTTP target on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

// `on_both_backends!`: each listed test as `sqlite::<name>` and `postgres::<name>`.
#[macro_use]
extern crate testmesh_test;

mod common;

mod control;
mod runs;
mod schedules;
