//! From a loaded flow to what a step sends: interpolation against recorded results, then typed
//! decoding of the rendered config — the path the runner takes for every attempt.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::{Value, json};
use testmesh_flow::interpolate::{
    RenderOptions, Scope, SystemInfo, VariableSources, render_value, resolve_output,
};
use testmesh_flow::{Action, ActionKind, load_file, load_str};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/testmesh-flows")
        .join(name)
}

fn scope(vars: &[(&str, &str)]) -> Scope {
    let cli_vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Scope::for_run(
        SystemInfo {
            flow_id: "f1".into(),
            flow_name: "demo".into(),
            execution_id: "e1".into(),
        },
        VariableSources {
            cli_vars,
            ..VariableSources::default()
        },
    )
}

/// Records a step the way the runner will: its result plus its `output:` entries.
fn record(scope: &mut Scope, step: &testmesh_flow::Step, result: Value) {
    let outputs: IndexMap<String, Value> = step
        .output
        .iter()
        .map(|(name, path)| (name.clone(), resolve_output(&result, &path.value, &step.id)))
        .collect();
    scope.record_step(&step.id, result, &outputs);
}

#[test]
fn the_seed_registration_flow_renders_its_second_request() {
    let (_, loaded) = load_file(&fixture("01_user_registration_e2e.yaml")).unwrap();
    let flow = loaded.flow.unwrap();
    let mut scope = scope(&[
        ("USER_SERVICE_URL", "http://localhost:5016/mocks/u1"),
        ("API_KEY", "k-1"),
    ]);
    record(
        &mut scope,
        &flow.steps[0],
        json!({"status": 201, "body": {"id": "user-42", "name": "Alice Smith"}, "headers": {}, "duration_ms": 3}),
    );
    let rendered = render_value(
        &flow.steps[1].config.to_json(),
        &scope,
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(
        rendered["url"],
        "http://localhost:5016/mocks/u1/api/users/user-42"
    );
    assert_eq!(rendered["headers"]["X-API-Key"], "k-1");
    // The original resolved `register.body.id` relative to the body and got null; ours finds the id.
    assert_eq!(scope.outputs()["register"]["user_id"], "user-42");
    match Action::from_rendered(ActionKind::HttpRequest, &rendered).unwrap() {
        Action::HttpRequest(config) => {
            assert_eq!(config.method, "GET");
            assert_eq!(
                config.url,
                "http://localhost:5016/mocks/u1/api/users/user-42"
            );
        }
        other => panic!("{other:?}"),
    }
    record(
        &mut scope,
        &flow.steps[1],
        json!({"status": 200, "body": {"id": "user-42"}}),
    );
    record(
        &mut scope,
        &flow.steps[2],
        json!({"rows": [{"id": "user-42", "email": "alice@example.com"}], "row_count": 1, "query_type": "SELECT", "first_row": {"id": "user-42", "email": "alice@example.com"}}),
    );
    assert_eq!(scope.outputs()["verify_db"]["db_id"], "user-42");
    // The assert action's data keeps the interpolated status as a number, which compares with '201'.
    let data = render_value(
        &flow.steps[3].config.to_json(),
        &scope,
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(data["data"]["status"], 201);
    assert_eq!(data["data"]["db_rows"], 1);
    let message = render_value(
        &flow.steps[4].config.to_json(),
        &scope,
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(message["message"], "Registered user_id=user-42 db_rows=1");
}

#[test]
fn output_names_are_usable_bare_in_later_steps() {
    let (_, loaded) = load_file(&fixture("contract-simple-example.yaml")).unwrap();
    let flow = loaded.flow.unwrap();
    let mut scope = scope(&[]);
    record(
        &mut scope,
        &flow.setup[0],
        json!({"base_url": "http://127.0.0.1:9000", "server_id": "m1"}),
    );
    let rendered = render_value(
        &flow.steps[0].config.to_json(),
        &scope,
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(rendered["url"], "http://127.0.0.1:9000/api/users");
}

#[test]
fn typed_references_decode_into_typed_fields() {
    let loaded = load_str(
        "name: x\nsteps:\n  - action: http_request\n    config: {method: GET, url: 'http://h', max_redirects: '${N}', follow_redirects: '${FOLLOW}', timeout: '${T}'}\n",
    );
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let step = &loaded.flow.unwrap().steps[0];
    let scope = scope(&[("N", "3"), ("FOLLOW", "false"), ("T", "250ms")]);
    let rendered = render_value(&step.config.to_json(), &scope, &RenderOptions::default()).unwrap();
    match Action::from_rendered(ActionKind::HttpRequest, &rendered).unwrap() {
        Action::HttpRequest(config) => {
            assert_eq!(config.max_redirects.unwrap().literal(), Some(&3));
            assert_eq!(config.follow_redirects.unwrap().literal(), Some(&false));
            assert_eq!(
                config.timeout.unwrap().literal(),
                Some(&std::time::Duration::from_millis(250))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rendered_values_of_the_wrong_type_name_the_field() {
    let errors = Action::from_rendered(
        ActionKind::HttpRequest,
        &json!({"method": "GET", "url": "u", "max_redirects": "many", "auth": {"type": "bearer", "token": ["x"]}}),
    )
    .unwrap_err();
    assert_eq!(
        errors,
        vec![
            "`auth.token`: expected a string, found list".to_string(),
            "`max_redirects`: expected a whole number ≥ 0, found string \"many\"".to_string(),
        ]
    );
    let errors =
        Action::from_rendered(ActionKind::ForEach, &json!({"items": "not a list"})).unwrap_err();
    assert_eq!(
        errors,
        vec!["`items`: expected a list, found string \"not a list\"".to_string()]
    );
}

#[test]
fn undefined_references_are_errors_naming_the_reference() {
    let scope = scope(&[]);
    let err = render_value(
        &json!({"url": "${BASE_URL}/x"}),
        &scope,
        &RenderOptions::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("${BASE_URL}"), "{message}");
    assert!(message.contains("url"), "{message}");
}
