//! The `testmesh` binary as users run it: exit codes, messages with positions, JSON output, schema.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn testmesh() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/testmesh-flows")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn original_flows_and_our_examples_validate() {
    testmesh()
        .arg("validate")
        .arg(fixtures())
        .assert()
        .code(0)
        .stdout(contains("✓ 14 flow files valid"));
    testmesh()
        .arg("validate")
        .arg(examples())
        .arg("--strict")
        .assert()
        .code(0)
        .stdout(contains("valid").and(contains("warning").not()));
}

#[test]
fn errors_exit_2_with_file_line_column_and_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.yaml",
        "name: bad\nsteps:\n  - id: a\n    action: http_request\n    config:\n      method: GET\n",
    );
    let shown = path.display().to_string();
    testmesh()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stdout(contains(format!(
            "{shown}:6:7: http_request config needs `url`"
        )))
        .stdout(contains("6 │       method: GET"))
        .stdout(contains(
            "✗ 1 of 1 flow file with errors (1 error, 0 warnings)",
        ));
}

#[test]
fn warnings_pass_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "w.yaml",
        "name: w\nsteps:\n  - action: log\n    config: {message: hi}\n    timeot: 5s\n",
    );
    testmesh()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(contains("unknown key `timeot` in a step").and(contains("did you mean `timeout`?")))
        .stdout(contains("✓ 1 flow file valid (1 warning)"));
    testmesh()
        .args(["validate", "--strict"])
        .arg(&path)
        .assert()
        .code(2);
}

#[test]
fn json_output_for_tools() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "a.yaml", "name: a\nsteps:\n  - action: nope\n");
    write(
        &dir,
        "b.yaml",
        "name: b\nsteps:\n  - action: log\n    config: {message: hi}\n",
    );
    let output = testmesh()
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["invalid"], 1);
    let first = &report["files"][0];
    assert_eq!(first["valid"], false);
    assert_eq!(first["diagnostics"][0]["code"], "unknown-action");
    assert_eq!(first["diagnostics"][0]["line"], 3);
    assert_eq!(first["diagnostics"][0]["column"], 13);
    assert_eq!(report["files"][1]["valid"], true);
}

#[test]
fn run_flow_cycles_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "a.yaml",
        "name: a\nsteps:\n  - action: run_flow\n    config: {flow: b.yaml}\n",
    );
    write(
        &dir,
        "b.yaml",
        "name: b\nsteps:\n  - action: run_flow\n    config: {flow: a}\n",
    );
    write(
        &dir,
        "c.yaml",
        "name: c\nsteps:\n  - action: run_flow\n    config: {flow: b}\n",
    );
    testmesh()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(contains("a.yaml:4:20: run_flow cycle:"))
        .stdout(contains("b.yaml:4:20: run_flow cycle:"))
        .stdout(contains("✗ 2 of 3 flow files with errors"));
}

#[test]
fn globs_directories_and_missing_paths() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "one.yaml",
        "name: one\nsteps:\n  - action: log\n    config: {message: hi}\n",
    );
    write(&dir, "notes.txt", "not a flow");
    let pattern = format!("{}/*.yaml", dir.path().display());
    testmesh()
        .args(["validate", &pattern])
        .assert()
        .code(0)
        .stdout(contains("✓ 1 flow file valid"));
    testmesh()
        .args(["validate", "does-not-exist.yaml"])
        .assert()
        .code(2)
        .stderr(contains("does-not-exist.yaml: no such file or directory"));
    let empty = tempfile::tempdir().unwrap();
    testmesh()
        .arg("validate")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(contains("no .yaml or .yml files under"));
}

#[test]
fn unreadable_content_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.yaml");
    std::fs::write(&path, b"name: x\nsteps: \xff\xfe\n").unwrap();
    testmesh()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stdout(contains("binary.yaml:2:8: the file is not valid UTF-8"));
}

#[test]
fn schema_is_json_and_can_be_written_to_a_file() {
    let output = testmesh().arg("schema").output().unwrap();
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["title"], "TestMesh flow");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/flow.schema.json");
    testmesh()
        .args(["schema", "-o"])
        .arg(&target)
        .assert()
        .code(0)
        .stderr(contains("wrote"));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target).unwrap()).unwrap();
    assert_eq!(written, schema);
}

#[test]
fn help_teaches_and_usage_errors_exit_2() {
    testmesh()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(contains("testmesh validate flows/").and(contains("Exit codes")));
    testmesh()
        .args(["validate", "--help"])
        .assert()
        .code(0)
        .stdout(
            contains("--strict")
                .and(contains("--format"))
                .and(contains("Examples:")),
        );
    testmesh().arg("frobnicate").assert().code(2);
    testmesh()
        .arg("validate")
        .assert()
        .code(2)
        .stderr(contains("PATH|GLOB"));
}
