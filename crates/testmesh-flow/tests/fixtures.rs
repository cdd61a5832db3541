//! Every flow written for the original TestMesh loads with no errors, and validates against our schema.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;

use testmesh_flow::{Severity, load_file, schema::flow_schema};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/testmesh-flows")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the shared fixtures sit beside the project (../shared)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 14, "fixture set changed");
    files
}

#[test]
fn original_flows_load_without_errors() {
    for path in fixture_files() {
        let (_, loaded) = load_file(&path).unwrap();
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                format!(
                    "{}:{}:{} {}",
                    path.display(),
                    d.span.line,
                    d.span.col,
                    d.message
                )
            })
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let flow = loaded.flow.expect("decoded");
        assert!(!flow.name.is_empty());
        assert!(!flow.steps.is_empty());
    }
}

#[test]
fn original_flows_have_no_unknown_keys() {
    for path in fixture_files() {
        let (_, loaded) = load_file(&path).unwrap();
        let unknown: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.code == "unknown-key")
            .map(|d| format!("{}:{} {}", path.display(), d.span.line, d.message))
            .collect();
        // mock-server-example uses the original's `state.{state_key, initial_value, update_rule}`, which
        // the mock engine reads; step and action keys are all known.
        assert!(unknown.is_empty(), "{unknown:#?}");
    }
}

#[test]
fn original_flows_match_the_published_schema() {
    let schema = flow_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let node = testmesh_flow::yaml::parse(&text).unwrap();
        let instance = node.to_json();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn wrapped_and_bare_shapes_give_the_same_flow() {
    let (_, wrapped) = load_file(&fixture_dir().join("control-flow-demo.yaml")).unwrap();
    let flow = wrapped.flow.unwrap();
    assert_eq!(flow.shape, testmesh_flow::model::Shape::Wrapped);
    assert_eq!(flow.name, "Control Flow Demo");
    assert_eq!(flow.steps.len(), 8);
    let (_, bare) = load_file(&fixture_dir().join("01_user_registration_e2e.yaml")).unwrap();
    assert_eq!(bare.flow.unwrap().shape, testmesh_flow::model::Shape::Bare);
}
