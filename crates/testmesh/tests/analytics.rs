//! `testmesh analytics aggregate` and `testmesh analytics flaky` over runs that `testmesh run`
//! recorded, through the real binary; bad days refused with exit 2.

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

/// Passes with `--var EXPECTED=2`, fails with anything else: the same flow and inputs, so its
/// failures between passes are flaky.
const WOBBLY: &str = "name: Wobbly totals\nsuite: shop\nsteps:\n  - id: sum\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: ['sum == ${EXPECTED}']\n";
const STEADY: &str =
    "name: Steady login\nsteps:\n  - id: hello\n    action: log\n    config: {message: hi}\n";

/// Wobbly runs P F P F P; steady runs twice.
fn history(dir: &Path) -> PathBuf {
    let db = dir.join("history.db");
    let wobbly = write(dir, "wobbly.yaml", WOBBLY);
    let steady = write(dir, "steady.yaml", STEADY);
    for expected in ["2", "5", "2", "5", "2"] {
        let code = if expected == "2" { 0 } else { 1 };
        testmesh(&db)
            .arg("run")
            .arg(&wobbly)
            .args(["--var", &format!("EXPECTED={expected}")])
            .assert()
            .code(code);
    }
    testmesh(&db).arg("run").arg(&steady).assert().code(0);
    testmesh(&db).arg("run").arg(&steady).assert().code(0);
    db
}

#[test]
fn aggregates_recorded_runs_and_lists_flaky_flows() {
    let dir = tempfile::tempdir().unwrap();
    let db = history(dir.path());

    // Today's runs; yesterday (the default) had none.
    testmesh(&db)
        .args(["analytics", "aggregate", "--from", "today", "--to", "today"])
        .assert()
        .code(0)
        .stdout(
            contains(": 7 executions, 7 steps in")
                .and(contains("daily metrics: 10 rows"))
                .and(contains("step performance: 2 rows"))
                .and(contains("flakiness over 14 days to"))
                .and(contains("2 flows scored, 1 flaky, 0 broken")),
        );
    testmesh(&db)
        .args(["analytics", "aggregate"])
        .assert()
        .code(0)
        .stdout(contains(": 0 executions, 0 steps"));

    // --json: one object per workspace, what the table says.
    let out = testmesh(&db)
        .args([
            "analytics",
            "aggregate",
            "--from",
            "0d",
            "--to",
            "today",
            "--json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let summaries: Value = serde_json::from_slice(&out).unwrap();
    let s = &summaries[0];
    assert_eq!(s["workspace"], "Default");
    assert_eq!(
        (s["executions"].clone(), s["days"].clone()),
        (7.into(), 1.into())
    );
    assert_eq!(s["window"]["days"], 14);

    // Flaky flows, live from the runs.
    testmesh(&db)
        .args(["analytics", "flaky"])
        .assert()
        .code(0)
        .stdout(
            contains("FLOW")
                .and(contains("Wobbly totals"))
                .and(contains("flaky"))
                .and(contains("PFPFP"))
                .and(contains("Steady login").not())
                .and(contains("1 of 2 flows scored over the 14 days to")),
        );
    testmesh(&db)
        .args(["analytics", "flaky", "--all"])
        .assert()
        .code(0)
        .stdout(contains("Steady login").and(contains("stable")));
    let out = testmesh(&db)
        .args(["analytics", "flaky", "--json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let flaky: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(flaky.as_array().unwrap().len(), 1);
    let wobbly = &flaky[0];
    assert_eq!(wobbly["flow_name"], "Wobbly totals");
    assert_eq!(wobbly["stability"], "flaky");
    assert_eq!(
        (
            wobbly["total_runs"].clone(),
            wobbly["flaky_failures"].clone()
        ),
        (5.into(), 2.into())
    );
    assert_eq!(wobbly["flakiness_score"], 52.25);
    assert_eq!(wobbly["suite"], "shop");

    // An empty window says so.
    testmesh(&db)
        .args(["analytics", "flaky", "--to", "2001-01-31"])
        .assert()
        .code(0)
        .stdout(contains("No finished runs in the 14 days to 2001-01-31"));
}

#[test]
fn bad_days_and_times_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    testmesh(&db)
        .args(["analytics", "aggregate", "--from", "2025-02-30"])
        .assert()
        .code(2)
        .stderr(contains("--from").and(contains("YYYY-MM-DD")));
    testmesh(&db)
        .args(["analytics", "aggregate", "--to", "last tuesday"])
        .assert()
        .code(2)
        .stderr(contains("--to").and(contains("is not a day")));
    testmesh(&db)
        .args([
            "analytics",
            "aggregate",
            "--from",
            "2025-03-05",
            "--to",
            "2025-03-01",
        ])
        .assert()
        .code(2)
        .stderr(contains("--from (2025-03-05) is after --to (2025-03-01)"));
    testmesh(&db)
        .args(["analytics", "flaky", "--window", "0"])
        .assert()
        .code(2)
        .stderr(contains("--window"));
    testmesh(&db)
        .args(["serve", "--aggregate-at", "25:00"])
        .assert()
        .code(2)
        .stderr(contains("--aggregate-at").and(contains("HH:MM")));
    testmesh(&db)
        .args(["analytics", "aggregate", "--database-url", "mysql://nope"])
        .env_remove("TESTMESH_DATABASE_URL")
        .assert()
        .code(2)
        .stderr(contains("cannot open"));
    // Help shows the examples and exit codes.
    testmesh(&db)
        .args(["analytics", "aggregate", "--help"])
        .assert()
        .code(0)
        .stdout(contains("Examples:").and(contains("Exit codes:")));
}
