//! API coverage of a spec by flows: calls found in every phase and nested step, URLs written in
//! several ways matched to templates (literal beats parameter, base path, absolute URLs,
//! `{{baseUrl}}`), statuses from assertions and from recorded runs, unmatched calls, the
//! percentage, and the table, JSON and HTML renderings.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::Path;

use serde_json::{Value, json};
use testmesh_import::coverage::{
    Call, CallSource, Coverage, CoverageOptions, CoverageStatus, OperationCoverage, analyze,
    calls_in_flow,
};
use testmesh_import::openapi::OpenApi;

fn dir() -> String {
    format!("{}/tests/fixtures/coverage", env!("CARGO_MANIFEST_DIR"))
}

fn spec() -> OpenApi {
    OpenApi::load(Path::new(&format!("{}/spec.yaml", dir()))).unwrap()
}

fn flow_calls(name: &str) -> Vec<Call> {
    let text = std::fs::read_to_string(format!("{}/flows/{name}", dir())).unwrap();
    let loaded = testmesh_flow::load_str(&text);
    let findings: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert!(findings.is_empty(), "{name}: {findings:#?}");
    calls_in_flow(&loaded.flow.unwrap(), name)
}

fn static_calls() -> Vec<Call> {
    ["pets.yaml", "absolute.yaml", "typos.yaml"]
        .iter()
        .flat_map(|f| flow_calls(f))
        .collect()
}

fn history(url: &str, method: &str, status: u16) -> Call {
    Call {
        flow: "Pets CRUD".into(),
        step: "recorded".into(),
        method: method.into(),
        url: url.into(),
        statuses: vec![status],
        source: CallSource::History,
    }
}

fn op<'c>(coverage: &'c Coverage, method: &str, path: &str) -> &'c OperationCoverage {
    coverage
        .operations
        .iter()
        .find(|o| o.method == method && o.path == path)
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

fn steps(op: &OperationCoverage) -> Vec<(String, String)> {
    op.covered_by
        .iter()
        .map(|c| (c.flow.clone(), c.step.clone()))
        .collect()
}

fn pair(flow: &str, step: &str) -> (String, String) {
    (flow.to_string(), step.to_string())
}

#[test]
fn calls_are_found_in_every_phase_and_nested_step() {
    let calls = flow_calls("pets.yaml");
    let found: Vec<(&str, &str, &[u16])> = calls
        .iter()
        .map(|c| (c.step.as_str(), c.method.as_str(), c.statuses.as_slice()))
        .collect();
    assert_eq!(
        found,
        [
            ("list", "GET", &[200][..]),
            ("create", "post", &[201][..]),
            ("read", "GET", &[200][..]),
            ("photo", "GET", &[][..]),
            ("mine", "GET", &[][..]),
            ("cleanup_after_error", "DELETE", &[][..]),
            ("delete", "DELETE", &[4][..]),
        ]
    );
    assert_eq!(calls[1].url, "{{baseUrl}}/pets/");
    assert!(
        calls
            .iter()
            .all(|c| c.source == CallSource::Static && c.flow == "pets.yaml")
    );
    // Disabled steps and other actions are not calls; a URL that is only a variable is.
    let typos: Vec<String> = flow_calls("typos.yaml")
        .into_iter()
        .map(|c| c.step)
        .collect();
    assert_eq!(typos, ["singular", "put_pet", "next_page"]);
    let any: Vec<Vec<u16>> = flow_calls("absolute.yaml")
        .into_iter()
        .map(|c| c.statuses)
        .collect();
    assert_eq!(any, [vec![200], vec![], vec![409, 422]]);
}

#[test]
fn urls_match_templates_and_statuses_are_measured() {
    let api = spec();
    let mut calls = static_calls();
    calls.push(history("http://localhost:8080/v1/pets/7?x=1", "get", 404));
    calls.push(history("http://localhost:8080/v1/pets/7", "GET", 404));
    let coverage = analyze(&api, &calls, &CoverageOptions::default());

    assert_eq!(coverage.title, "Pet <Store> 1.0.0");
    assert_eq!(coverage.total, 9);
    assert_eq!(coverage.covered, 7);
    assert_eq!(coverage.partial, 4);
    assert_eq!(coverage.uncovered(), 2);
    assert_eq!(coverage.percent, 77.8);

    let list = op(&coverage, "GET", "/pets");
    assert_eq!(list.status, CoverageStatus::Covered);
    assert_eq!(list.declared_statuses, ["200", "default"]);
    assert_eq!(list.covered_statuses, ["200"]);
    assert_eq!(steps(list), [pair("pets.yaml", "list")]);

    // `{{baseUrl}}`, a lower-case method and a trailing slash; absolute URLs with the base path.
    let create = op(&coverage, "POST", "/pets");
    assert_eq!(
        steps(create),
        [
            pair("pets.yaml", "create"),
            pair("absolute.yaml", "invalid_pet")
        ]
    );
    assert_eq!(create.status, CoverageStatus::Partial);
    assert_eq!(create.covered_statuses, ["201", "422"]);
    assert_eq!(create.missing_statuses, ["400"]);
    assert_eq!(create.undeclared_statuses, ["409"]);
    assert_eq!(create.status_coverage, 66.7);

    // The literal template beats the parameter one.
    let mine = op(&coverage, "GET", "/pets/mine");
    assert_eq!(
        steps(mine),
        [pair("pets.yaml", "mine"), pair("absolute.yaml", "mine")]
    );
    let get = op(&coverage, "GET", "/pets/{petId}");
    assert_eq!(
        steps(get),
        [pair("pets.yaml", "read"), pair("Pets CRUD", "recorded")]
    );
    // Two recorded requests of one step are one entry.
    assert_eq!(get.covered_by[1].statuses, [404]);
    assert_eq!(get.covered_by[1].source, CallSource::History);
    assert_eq!(get.status, CoverageStatus::Covered);
    assert_eq!(get.covered_statuses, ["200", "404"]);

    // `status >= 400 and status < 500` covers the declared class.
    let delete = op(&coverage, "DELETE", "/pets/{petId}");
    assert_eq!(delete.covered_statuses, ["4XX"]);
    assert_eq!(delete.missing_statuses, ["204"]);
    assert_eq!(delete.covered_by.len(), 2);

    // A variable inside a segment matches a templated segment with the same literal text.
    let photo = op(&coverage, "GET", "/pets/{petId}/photos/{name}.{ext}");
    assert_eq!(steps(photo), [pair("pets.yaml", "photo")]);
    assert_eq!(photo.status, CoverageStatus::Partial);
    assert_eq!(photo.status_coverage, 0.0);

    assert_eq!(
        op(&coverage, "GET", "/store/inventory").status,
        CoverageStatus::Uncovered
    );
    assert_eq!(
        op(&coverage, "GET", "/admin/users").status,
        CoverageStatus::Uncovered
    );
    assert!(op(&coverage, "GET", "/legacy/pets").deprecated);

    let unmatched: Vec<(&str, Option<&str>)> = coverage
        .unmatched
        .iter()
        .enumerate()
        .map(|(i, c)| (c.step.as_str(), coverage.unmatched_reason(i)))
        .collect();
    assert_eq!(
        unmatched,
        [
            ("singular", Some("no operation has the path /pet")),
            (
                "put_pet",
                Some("/pets/1 is documented for GET, DELETE but not for PUT")
            ),
            (
                "next_page",
                Some("the URL `${NEXT_PAGE}` is only a variable, so its path is unknown")
            ),
        ]
    );
}

#[test]
fn recommendations_name_what_is_missing() {
    let coverage = analyze(&spec(), &static_calls(), &CoverageOptions::default());
    let r = &coverage.recommendations;
    let has = |needle: &str| {
        assert!(
            r.iter().any(|line| line.contains(needle)),
            "no recommendation contains {needle:?}: {r:#?}"
        )
    };
    has("Tag `store`: 1 of 1 operation has no flow: GET /store/inventory.");
    has("Tag `<script>alert(1)</script>`: 1 of 1 operation has no flow: GET /admin/users.");
    has("POST /pets declares 400 but no flow asserts it: run `testmesh import openapi --negative`");
    has("GET /pets/{petId} declares 404 but no flow asserts it");
    has("DELETE /pets/{petId} declares 204 but no flow asserts it.");
    has("GET /legacy/pets is deprecated but still called by `absolute.yaml`");
    has("3 calls match no operation of the document");
    has("GET ${BASE_URL}/pet (flow `typos.yaml`, step `singular`: no operation has the path /pet)");
    has("POST /pets: flows expect 409, which the document does not declare");
    // Uncovered first, most important first.
    assert!(r[0].starts_with("Tag `<script>"), "{r:#?}");

    // With recorded runs the wording says so.
    let mut calls = static_calls();
    calls.push(history("http://x/v1/store/inventory", "GET", 500));
    let coverage = analyze(&spec(), &calls, &CoverageOptions::default());
    assert!(
        coverage
            .recommendations
            .iter()
            .any(|l| l.contains("no flow asserts it and no recorded run returned it")),
        "{:#?}",
        coverage.recommendations
    );
    assert_eq!(
        op(&coverage, "GET", "/store/inventory").undeclared_statuses,
        ["500"]
    );
}

#[test]
fn the_base_url_option_and_documents_without_a_base_path() {
    let api = OpenApi::parse(
        r#"{"openapi": "3.0.0", "info": {"title": "T", "version": "2"},
            "paths": {"/items/{id}": {"get": {"responses": {"200": {"description": "ok"}}}},
                      "/": {"get": {"responses": {"200": {"description": "root"}}}}}}"#,
        "t.json",
    )
    .unwrap();
    let calls = vec![
        history("http://gateway:9000/api/items/3", "GET", 200),
        history("http://gateway:9000/api", "GET", 200),
        history("http://elsewhere/items/3/", "GET", 200),
    ];
    let options = CoverageOptions {
        base_url: Some("http://gateway:9000/api/".into()),
    };
    let coverage = analyze(&api, &calls, &options);
    assert_eq!(coverage.covered, 2);
    assert_eq!(coverage.percent, 100.0);
    assert_eq!(coverage.operations[0].covered_by.len(), 1);
    assert_eq!(
        coverage.operations[0].covered_by[0].url,
        "http://gateway:9000/api/items/3"
    );
    assert!(coverage.unmatched.is_empty(), "{:?}", coverage.unmatched);

    // An empty document: nothing to cover, no division by zero.
    let empty = OpenApi::parse(
        r#"{"openapi": "3.0.0", "info": {"title": "E", "version": "1"}, "paths": {}}"#,
        "e.json",
    )
    .unwrap();
    let coverage = analyze(&empty, &calls, &CoverageOptions::default());
    assert_eq!((coverage.total, coverage.percent), (0, 0.0));
    assert_eq!(coverage.unmatched.len(), 3);
}

#[test]
fn the_table_lists_uncovered_operations_first() {
    let coverage = analyze(&spec(), &static_calls(), &CoverageOptions::default());
    let table = coverage.to_table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "Coverage of Pet <Store> 1.0.0");
    assert_eq!(
        lines[1],
        "7 of 9 operations covered (77.8%), 5 partially; 2 uncovered; 3 calls matching no operation"
    );
    assert!(lines[3].starts_with("STATUS     METHOD  PATH"), "{table}");
    assert!(
        lines[4].starts_with("uncovered  GET     /store/inventory"),
        "{table}"
    );
    assert!(
        lines[5].starts_with("uncovered  GET     /admin/users"),
        "{table}"
    );
    assert!(
        lines[6].starts_with("partial    POST    /pets  "),
        "{table}"
    );
    let delete = lines
        .iter()
        .find(|l| l.contains("DELETE"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(delete.contains("-204 +4XX"), "{delete}");
    assert!(delete.ends_with("pets.yaml"), "{delete}");
    assert!(table.contains("/legacy/pets (deprecated)"), "{table}");
    assert!(
        table.contains("\nCalls matching no operation:\n"),
        "{table}"
    );
    assert!(
        table.contains("\nRecommendations:\n- Tag `<script>"),
        "{table}"
    );
    // Columns line up: every operation row has its METHOD at the same offset.
    let offset = lines[3].find("METHOD").unwrap();
    for line in &lines[4..13] {
        assert!(
            line[offset..].starts_with(|c: char| c.is_ascii_uppercase()),
            "{line:?}"
        );
    }
}

#[test]
fn json_has_stable_fields_and_the_stored_arrays() {
    let mut calls = static_calls();
    calls.push(history("http://localhost:8080/v1/pets/7", "GET", 404));
    let coverage = analyze(&spec(), &calls, &CoverageOptions::default());
    let json = coverage.to_json();
    assert_eq!(json["total_endpoints"], json!(9));
    assert_eq!(json["covered_endpoints"], json!(7));
    assert_eq!(json["partial_endpoints"], json!(4));
    assert_eq!(json["uncovered_endpoints"], json!(2));
    assert_eq!(json["coverage_percent"], json!(77.8));
    let paths = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{} {}",
                    o["method"].as_str().unwrap(),
                    o["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        paths("covered"),
        ["GET /pets", "GET /pets/mine", "GET /pets/{petId}"]
    );
    assert_eq!(
        paths("partial"),
        [
            "POST /pets",
            "DELETE /pets/{petId}",
            "GET /pets/{petId}/photos/{name}.{ext}",
            "GET /legacy/pets"
        ]
    );
    assert_eq!(
        paths("uncovered"),
        ["GET /store/inventory", "GET /admin/users"]
    );
    assert_eq!(json["covered"][0]["flows"], json!(["pets.yaml"]));
    assert_eq!(json["operations"].as_array().unwrap().len(), 9);
    let delete = &json["operations"][4];
    assert_eq!(delete["operation_id"], json!("deletePet"));
    assert_eq!(delete["status"], json!("partial"));
    assert_eq!(delete["missing_statuses"], json!(["204"]));
    assert_eq!(delete["status_coverage"], json!(50.0));
    assert_eq!(
        delete["covered_by"][1],
        json!({"flow": "pets.yaml", "step": "delete", "method": "DELETE",
               "url": "${BASE_URL}/pets/${create.body.id}", "statuses": ["4XX"], "source": "static"})
    );
    let get = &json["operations"][3];
    assert_eq!(get["covered_by"][1]["source"], json!("history"));
    assert_eq!(
        json["unmatched"][0]["reason"],
        json!("no operation has the path /pet")
    );
    assert_eq!(
        json["recommendations"].as_array().map(Vec::len),
        Some(coverage.recommendations.len())
    );
    // Round-trips through text as the server stores it.
    let text = serde_json::to_string(&json).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json);
}

#[test]
fn html_is_self_contained_and_escapes_names() {
    let coverage = analyze(&spec(), &static_calls(), &CoverageOptions::default());
    let html = coverage.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>API coverage: Pet &lt;Store&gt; 1.0.0</title>"));
    assert!(!html.contains("<script"), "unescaped tag name");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Users &amp; &lt;admins&gt;"));
    assert!(html.contains("<code>GET /pets/{petId}/photos/{name}.{ext}</code>"));
    assert!(html.contains("<span class=\"chip ko\">204 &#10007;</span>"));
    assert!(html.contains("<span class=\"chip ok\">4XX &#10003;</span>"));
    assert!(html.contains("<span class=\"chip extra\" title=\"not declared\">409 ?</span>"));
    assert!(html.contains("<span class=\"badge deprecated\">deprecated</span>"));
    assert!(html.contains("<code>GET ${BASE_URL}/pet</code>"));
    assert!(html.contains("id=\"recommendations\""));
    // Per-tag bars: pets has 6 operations, all reached.
    assert!(
        html.contains("aria-label=\"100 percent covered\""),
        "{html}"
    );
    // Nothing is loaded from elsewhere.
    for needle in ["<link", "src=", "url("] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
}
