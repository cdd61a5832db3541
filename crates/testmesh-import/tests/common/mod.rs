//! Support shared by the importers' tests: fixtures, the "loads cleanly" check every generated flow
//! must pass, a loopback server and the real runner.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use testmesh_flow::Flow;
use testmesh_import::openapi::{MockOptions, OpenApi, ValidationRequest, Validator};
use testmesh_import::{Import, Source};
use testmesh_runner::{FlowLibrary, FlowRecord, NoEvents, RunOptions, Runner, Secrets};

/// A file under `tests/fixtures`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture read as an importer's input.
pub fn source(name: &str) -> Source {
    Source::load(&fixture_path(name)).unwrap()
}

/// Nothing was skipped for failing validation, and every generated flow loads with no errors and
/// no warnings.
pub fn assert_clean(import: &Import) {
    assert!(
        import
            .skipped
            .iter()
            .all(|s| !s.reason.contains("not valid")),
        "{:?}",
        import.skipped
    );
    for flow in &import.flows {
        load_clean(&flow.yaml);
    }
}

/// The flow, which must load with no errors and no warnings.
pub fn load_clean(yaml: &str) -> Flow {
    let loaded = testmesh_flow::load_str(yaml);
    let findings: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| format!("{:?} {} (line {})", d.severity, d.message, d.span.line))
        .collect();
    assert!(findings.is_empty(), "{findings:#?}\n{yaml}");
    loaded.flow.expect("a flow")
}

/// Serves `router` on a free loopback port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    format!("http://{addr}")
}

/// Runs `flow` with the built-in actions and `vars` given as `--var`s.
pub async fn run(flow: &Flow, vars: &[(&str, Value)]) -> FlowRecord {
    let runner = Runner::new(
        testmesh_runner::actions::builtin(),
        Arc::new(NoEvents),
        Secrets::default(),
        FlowLibrary::default(),
    );
    let mut options = RunOptions::default();
    for (name, value) in vars {
        options
            .variables
            .cli_vars
            .insert((*name).to_string(), value.clone());
    }
    runner.run(flow, None, &options).await
}

pub fn parse_err(text: &str, file: &str) -> String {
    match OpenApi::parse(text, file) {
        Ok(_) => panic!("{file} should not load"),
        Err(e) => e.to_string(),
    }
}

/// A request from `METHOD /path?query`, headers and a body.
pub fn request(line: &str, headers: &[(&str, &str)], body: &str) -> ValidationRequest {
    let (method, target) = line.split_once(' ').unwrap_or(("GET", line));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    ValidationRequest {
        method: Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET),
        path: path.to_string(),
        query: url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: map,
        body: Bytes::from(body.to_string()),
    }
}

pub fn validator(api: &OpenApi) -> Validator {
    match Validator::new(api, &MockOptions::default()) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

pub fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", testmesh_import::escape(k));
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                collect_pointers(v, p, out);
            }
        }
        _ => {}
    }
}
