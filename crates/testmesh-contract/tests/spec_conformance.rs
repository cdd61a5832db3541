//! Conformance with the Pact Specification v4 test cases: every request, response and message
//! case under `../shared/fixtures/pact-spec-v4/testcases` must give its stated verdict.

use std::path::{Path, PathBuf};

use serde_json::Value;
use testmesh_contract::read::{
    message_contents_from_v4_json, request_from_json, response_from_json,
};
use testmesh_contract::{Mismatch, match_message, match_request, match_response};

fn fixtures_root() -> PathBuf {
    // Tests run from the crate directory; shared/ sits beside the project root.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/pact-spec-v4/testcases")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn run_case(kind: &str, case: &Value) -> Result<Vec<Mismatch>, String> {
    let expected = &case["expected"];
    let actual = &case["actual"];
    match kind {
        "request" => {
            let e = request_from_json(expected, "expected", true).map_err(|e| e.to_string())?;
            let a = request_from_json(actual, "actual", true).map_err(|e| e.to_string())?;
            Ok(match_request(&e, &a))
        }
        "response" => {
            let e = response_from_json(expected, "expected", true).map_err(|e| e.to_string())?;
            let a = response_from_json(actual, "actual", true).map_err(|e| e.to_string())?;
            Ok(match_response(&e, &a))
        }
        "message" => {
            let e =
                message_contents_from_v4_json(expected, "expected").map_err(|e| e.to_string())?;
            let a = message_contents_from_v4_json(actual, "actual").map_err(|e| e.to_string())?;
            Ok(match_message(&e, &a))
        }
        other => Err(format!("unknown case kind {other}")),
    }
}

#[test]
fn pact_specification_v4_test_cases() {
    let root = fixtures_root();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no Pact test cases found under {} (shared/ must sit beside the project)",
        root.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        let kind = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        let should_match = case["match"].as_bool().unwrap();
        let comment = case["comment"].as_str().unwrap_or_default();
        match run_case(&kind, &case) {
            Ok(mismatches) if mismatches.is_empty() == should_match => {}
            Ok(mismatches) => failures.push(format!(
                "{}\n  comment: {comment}\n  expected match: {should_match}\n  mismatches: {}",
                relative.display(),
                if mismatches.is_empty() {
                    "(none)".to_string()
                } else {
                    mismatches
                        .iter()
                        .map(|m| format!("\n    - {m}"))
                        .collect::<String>()
                }
            )),
            Err(err) => failures.push(format!(
                "{}\n  comment: {comment}\n  error: {err}",
                relative.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} Pact test cases gave the wrong verdict:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    assert_eq!(files.len(), 226, "expected the 226 Pact v4 test cases");
}
