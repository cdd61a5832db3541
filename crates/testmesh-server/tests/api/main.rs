//! The API over real HTTP on loopback, each test on SQLite and on PostgreSQL (without
//! `TESTMESH_TEST_POSTGRES_URL` the PostgreSQL variants fail under `CI` and skip locally). Every
//! answer is checked against the server's own OpenAPI document (status documented, body valid).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

// `on_both_backends!`: each listed test as `sqlite::<name>` and `postgres::<name>`.
#[macro_use]
extern crate testmesh_test;

mod common;

mod ai;
mod analytics;
mod auth;
mod bad_input;
mod contracts;
mod events;
mod executions;
mod flows;
mod mocks;
mod reports;
mod resources;
mod system;
