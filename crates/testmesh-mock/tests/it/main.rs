//! Integration tests of the mock engine over real HTTP on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

mod common;
mod faults;
mod fixture;
mod hosting;
mod journal;
mod loading;
mod matching;
mod proxy;
mod responses;
