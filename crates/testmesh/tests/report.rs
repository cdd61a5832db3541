//! `testmesh report` over runs that `testmesh run` recorded: HTML, JUnit and JSON files with the
//! runs' outcomes, filters, standard output, and bad arguments refused with exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

fn testmesh(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1").env(
        "TESTMESH_DATABASE_URL",
        format!("sqlite://{}", db.display()),
    );
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const PASSING: &str = "name: Totals add up\nsuite: shop\nsteps:\n  - id: sum\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: [sum == 2]\n";
const FAILING: &str = "name: Totals <wrong>\nsuite: shop\nsteps:\n  - id: sum\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: [sum == 5]\n";
const OTHER: &str = "name: Login works\nsuite: auth\nsteps:\n  - id: hello\n    action: log\n    config: {message: hi}\n";

/// A history: the passing flow twice, the failing one once, the auth flow once.
fn history(dir: &Path) -> PathBuf {
    let db = dir.join("history.db");
    let passing = write(dir, "passing.yaml", PASSING);
    let failing = write(dir, "failing.yaml", FAILING);
    let other = write(dir, "other.yaml", OTHER);
    testmesh(&db)
        .arg("run")
        .arg(&passing)
        .arg(&other)
        .assert()
        .code(0);
    testmesh(&db).arg("run").arg(&passing).assert().code(0);
    testmesh(&db).arg("run").arg(&failing).assert().code(1);
    db
}

#[test]
fn reports_recorded_runs_as_html_junit_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = history(dir.path());

    let html = dir.path().join("out/report.html");
    testmesh(&db)
        .args(["report", "-o"])
        .arg(&html)
        .assert()
        .code(0)
        .stderr(contains("4 executions").and(contains("3 passed, 1 failed")));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>") || text.starts_with("<!doctype html>"));
    assert!(
        text.contains("Totals &lt;wrong&gt;"),
        "flow names are escaped"
    );
    assert!(!text.contains("<wrong>"));
    assert!(text.contains("sum == 5"), "the failed assertion is shown");

    let junit = dir.path().join("junit.xml");
    testmesh(&db)
        .args(["report", "--format", "junit", "-o"])
        .arg(&junit)
        .assert()
        .code(0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3, "{xml}");
    let failed = cases
        .iter()
        .find(|c| c.attribute("name") == Some("Totals <wrong>"))
        .unwrap();
    assert!(
        failed.children().any(|n| n.has_tag_name("failure")),
        "{xml}"
    );

    // JSON to standard output, filtered to a suite.
    let out = testmesh(&db)
        .args(["report", "--format", "json", "--suite", "auth", "-o", "-"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let data: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(data["summary"]["executions"], 1);
    assert_eq!(data["flows"][0]["flow_name"], "Login works");
    assert_eq!(data["meta"]["filters"]["suites"][0], "auth");
}

#[test]
fn bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    testmesh(&db)
        .args(["report", "--from", "2026-02-30"])
        .assert()
        .code(2)
        .stderr(contains("`2026-02-30` is not a day"));
    testmesh(&db)
        .args(["report", "--from", "today", "--to", "3d"])
        .assert()
        .code(2)
        .stderr(contains("is after --to"));
    testmesh(&db)
        .args(["report", "--format", "pdf"])
        .assert()
        .code(2);
    // An empty history still writes a report that says so.
    let out = dir.path().join("empty.html");
    testmesh(&db)
        .args(["report", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.to_lowercase().contains("no executions"), "{text}");
}
