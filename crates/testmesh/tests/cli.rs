//! The `testmesh` binary as users run it: exit codes, messages with positions, JSON output, schema.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn testmesh() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1");
    // Runs record their history; keep it out of the source tree.
    let history = std::env::temp_dir().join(format!("testmesh-cli-{}", std::process::id()));
    cmd.env(
        "TESTMESH_DATABASE_URL",
        format!("sqlite://{}", history.join("history.db").display()),
    );
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

fn flows_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "pass.yaml",
        "name: Passing\nsuite: core\ntags: [smoke]\nsteps:\n  - {id: hello, action: log, config: {message: \"token ${TOKEN}\"}}\n  - {id: check, action: assert, config: {data: {n: 3}, assertions: [\"n == 3\"]}}\n",
    );
    write(
        &dir,
        "fail.yaml",
        "name: Failing\nsuite: math\nsteps:\n  - id: calc\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: [sum == 5]\n  - {id: after, action: log, config: {message: never}}\n",
    );
    dir
}

#[test]
fn run_reports_failures_with_expected_and_actual_and_exits_1() {
    let dir = flows_dir();
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--secret", "TOKEN=s3cr3t-value"])
        .assert()
        .code(1)
        .stdout(contains("✗ Failing"))
        .stdout(
            contains("assertion failed: sum == 5")
                .and(contains("expected: 5"))
                .and(contains("actual:   2")),
        )
        .stdout(contains("○ after log skipped: an earlier step failed"))
        .stdout(contains("token ****").and(contains("s3cr3t-value").not()))
        .stdout(
            predicates::str::is_match(r"(?m)^2 flows: 1 passed, 1 failed in \d+(ms|\.\ds)$")
                .unwrap(),
        );
}

#[test]
fn run_filters_count_skipped_flows_and_pass() {
    let dir = flows_dir();
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--tag", "smoke", "--var", "TOKEN=t"])
        .assert()
        .code(0)
        .stdout(
            predicates::str::is_match(r"(?m)^2 flows: 1 passed, 0 failed, 1 skipped in ").unwrap(),
        );
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--suite", "nope"])
        .assert()
        .code(2)
        .stderr(contains("no flow matches"));
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--exclude-tag", "smoke", "--suite", "math"])
        .assert()
        .code(1);
}

#[test]
fn run_writes_json_and_junit_reports_with_secrets_masked() {
    let dir = flows_dir();
    let out = tempfile::tempdir().unwrap();
    let json_path = out.path().join("reports/run.json");
    let junit_path = out.path().join("reports/junit.xml");
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--secret", "TOKEN=s3cr3t-value", "--jobs", "1"])
        .arg("--report")
        .arg(format!("json={}", json_path.display()))
        .arg("--report")
        .arg(format!("junit={}", junit_path.display()))
        .assert()
        .code(1);
    let json_text = std::fs::read_to_string(&json_path).unwrap();
    assert!(!json_text.contains("s3cr3t-value"));
    let report: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["flows"], 2);
    assert_eq!(report["summary"]["failed"], 1);
    let failing = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Failing")
        .unwrap();
    assert_eq!(failing["steps"][0]["assertions"][0]["expected"], 5);
    assert_eq!(failing["steps"][0]["assertions"][0]["actual"], 2);
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    assert!(
        junit.contains(r#"<testsuites name="testmesh" tests="2" skipped="0" failures="1""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"<testcase name="Failing" classname="math""#),
        "{junit}"
    );
    assert!(junit.contains("<system-out>") && !junit.contains("s3cr3t-value"));
}

#[test]
fn run_refuses_invalid_flows_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "bad.yaml",
        "name: bad\nsteps:\n  - action: delay\n    config: {duration: soon}\n",
    );
    testmesh()
        .arg("run")
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(
            contains("bad.yaml:4:24: invalid duration `soon`").and(contains("nothing was run")),
        );
}

#[test]
fn run_fail_fast_skips_the_remaining_flows() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "a.yaml",
        "name: a\nsteps:\n  - {id: x, action: assert, config: {data: {n: 1}, assertions: [\"n == 2\"]}}\n",
    );
    write(
        &dir,
        "b.yaml",
        "name: b\nsteps:\n  - {id: y, action: log, config: {message: hi}}\n",
    );
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--fail-fast", "--jobs", "1"])
        .assert()
        .code(1)
        .stdout(
            predicates::str::is_match(r"(?m)^2 flows: 0 passed, 1 failed, 1 skipped in ").unwrap(),
        );
}

#[test]
fn run_reads_env_files_and_vars_in_precedence_order() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, ".env", "GREETING=from-file\nNAME=file\n");
    write(
        &dir,
        "v.yaml",
        "name: v\nenv: {NAME: flow}\nsteps:\n  - {id: a, action: assert, config: {data: {g: \"${GREETING}\", n: \"${NAME}\"}, assertions: [\"g == 'from-file'\", \"n == 'cli'\"]}}\n",
    );
    testmesh()
        .arg("run")
        .arg(dir.path().join("v.yaml"))
        .arg("--env-file")
        .arg(dir.path().join(".env"))
        .args(["--var", "NAME=cli"])
        .assert()
        .code(0);
    testmesh()
        .args(["run", "x.yaml", "--var", "novalue"])
        .assert()
        .code(2)
        .stderr(contains("expected NAME=VALUE"));
    testmesh()
        .arg("run")
        .arg(dir.path().join("v.yaml"))
        .args(["--report", "xml=out"])
        .assert()
        .code(2)
        .stderr(contains("unknown report format `xml`"));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(env!("CARGO_BIN_EXE_testmesh"))
        .arg("schema")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_ne!(
        output.status.code(),
        Some(101),
        "panicked: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn symlinked_directories_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "one.yaml",
        "name: one\nsteps:\n  - action: log\n    config: {message: hi}\n",
    );
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    testmesh()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(contains("✓ 1 flow file valid"));
}

#[test]
fn utf8_errors_count_columns_in_characters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.yaml");
    std::fs::write(&path, b"name: \xc3\xa9\xc3\xa9\xc3\xa9\xff\n").unwrap();
    testmesh()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stdout(contains("e.yaml:1:10: the file is not valid UTF-8"));
}

#[test]
fn init_scaffolds_a_project_that_validates_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("api-tests");
    testmesh()
        .arg("init")
        .arg(&project)
        .assert()
        .code(0)
        .stdout(
            contains("created")
                .and(contains("testmesh.yaml"))
                .and(contains("flows/health.yaml")),
        );
    for file in [
        "testmesh.yaml",
        ".env",
        "flows/health.yaml",
        ".testmesh/flow.schema.json",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "{file}");
    }
    testmesh()
        .arg("validate")
        .arg(project.join("flows"))
        .arg("--strict")
        .assert()
        .code(0);
    std::fs::write(project.join("flows/health.yaml"), "changed").unwrap();
    testmesh()
        .arg("init")
        .arg(&project)
        .assert()
        .code(2)
        .stderr(contains("already exist").and(contains("--force")));
    assert_eq!(
        std::fs::read_to_string(project.join("flows/health.yaml")).unwrap(),
        "changed"
    );
}

#[test]
fn run_without_paths_uses_the_project_settings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "testmesh.yaml",
        "flows: [flows/]\nvars: {WHO: project}\nreports: [json=out/report.json]\n",
    );
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    write(
        &dir,
        "flows/a.yaml",
        "name: a\nsteps:\n  - {id: x, action: assert, config: {data: {w: \"${WHO}\"}, assertions: [\"w == 'project'\"]}}\n",
    );
    testmesh()
        .current_dir(dir.path())
        .arg("run")
        .assert()
        .code(0)
        .stdout(contains("1 flow: 1 passed, 0 failed"));
    assert!(dir.path().join("out/report.json").is_file());
    write(&dir, "testmesh.yaml", "flows: [flows/]\nflow: typo\n");
    testmesh()
        .current_dir(dir.path())
        .arg("run")
        .assert()
        .code(2)
        .stderr(contains("testmesh.yaml: unknown setting `flow`"));
    let empty = tempfile::tempdir().unwrap();
    testmesh()
        .current_dir(empty.path())
        .arg("run")
        .assert()
        .code(2)
        .stderr(contains("testmesh init"));
}

#[test]
fn the_demo_runs_the_bundled_flows_against_the_demo_api() {
    let dir = tempfile::tempdir().unwrap();
    testmesh()
        .current_dir(dir.path())
        .arg("demo")
        .assert()
        .code(0)
        .stdout(contains("Demo API listening on http://127.0.0.1:"))
        .stdout(
            contains("✓ Checkout")
                .and(contains("✓ Users API"))
                .and(contains("✓ Async job")),
        )
        .stdout(predicates::str::is_match(r"(?m)^4 flows: 4 passed, 0 failed in ").unwrap());
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".testmesh/demo/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["summary"]["passed"], 4);
    assert!(dir.path().join(".testmesh/demo/junit.xml").is_file());
    assert!(
        dir.path()
            .join(".testmesh/demo/flows/checkout.yaml")
            .is_file()
    );
}

#[test]
fn run_timeout_caps_each_flow() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "slow.yaml",
        "name: slow\nsteps:\n  - {id: wait, action: delay, config: {duration: 10s}}\n",
    );
    let started = std::time::Instant::now();
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--timeout", "200ms"])
        .assert()
        .code(1)
        .stdout(contains("the flow's time limit ran out"));
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    testmesh()
        .arg("run")
        .arg(dir.path())
        .args(["--timeout", "soon"])
        .assert()
        .code(2)
        .stderr(contains("invalid duration"));
}

#[test]
fn runs_are_recorded_and_listed_by_history() {
    let dir = flows_dir();
    let project = tempfile::tempdir().unwrap();
    let history = |args: &[&str]| {
        testmesh()
            .current_dir(project.path())
            .env_remove("TESTMESH_DATABASE_URL")
            .arg("history")
            .args(args)
            .assert()
    };
    history(&[])
        .code(0)
        .stdout(contains("No runs recorded yet"));
    // The default history is .testmesh/testmesh.db in the current directory.
    testmesh()
        .current_dir(project.path())
        .env_remove("TESTMESH_DATABASE_URL")
        .arg("run")
        .arg(dir.path())
        .args(["--secret", "TOKEN=s3cr3t-value"])
        .assert()
        .code(1);
    assert!(project.path().join(".testmesh/testmesh.db").is_file());
    let table = history(&[]).code(0).get_output().stdout.clone();
    let table = String::from_utf8(table).unwrap();
    assert!(
        predicates::str::is_match(r"(?m)^STARTED +STATUS +FLOW +STEPS +DURATION +ID$")
            .unwrap()
            .eval(&table),
        "{table}"
    );
    assert!(
        table.contains("failed  Failing") && table.contains("0/1 passed"),
        "{table}"
    );
    assert!(table.contains("passed  Passing"), "{table}");
    history(&["--failed"])
        .code(0)
        .stdout(contains("Failing").and(contains("Passing").not()));
    history(&["--flow", "Nope"])
        .code(2)
        .stderr(contains("no flow named `Nope` has been run yet"));
    let json = history(&["--format", "json", "--limit", "1"])
        .code(0)
        .get_output()
        .stdout
        .clone();
    let runs: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(1));
    // Secrets given on the command line are masked in the stored variables.
    let all = history(&["--format", "json"]).get_output().stdout.clone();
    let all = String::from_utf8(all).unwrap();
    assert!(
        all.contains("\"TOKEN\": \"****\"") && !all.contains("s3cr3t-value"),
        "{all}"
    );

    // --no-store leaves the history as it was.
    testmesh()
        .current_dir(project.path())
        .env_remove("TESTMESH_DATABASE_URL")
        .arg("run")
        .arg(dir.path())
        .arg("--no-store")
        .assert()
        .code(1);
    let again = history(&["--format", "json"]).get_output().stdout.clone();
    let again: serde_json::Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(again.as_array().map(Vec::len), Some(2));
}

#[test]
fn an_unusable_history_warns_but_keeps_the_run_result() {
    let dir = flows_dir();
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // A database path under a regular file cannot be created.
    let url = format!("sqlite://{}/history.db", blocker.path().display());
    testmesh()
        .env("TESTMESH_DATABASE_URL", &url)
        .arg("run")
        .arg(dir.path())
        .args(["--var", "TOKEN=t"])
        .assert()
        .code(1)
        .stdout(predicates::str::is_match(r"(?m)^2 flows: 1 passed, 1 failed in ").unwrap())
        .stderr(contains(
            "warning: the run is not recorded in the history: cannot open",
        ));
    testmesh()
        .args(["history", "--database-url", &url])
        .assert()
        .code(2)
        .stderr(contains("cannot open"));
    testmesh()
        .args(["history", "--database-url", "mysql://nope/db"])
        .assert()
        .code(2);
    testmesh()
        .args(["history", "--limit", "0"])
        .assert()
        .code(2)
        .stderr(contains("--limit must be at least 1"));
}
