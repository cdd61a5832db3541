//! Imports and coverage analyses: recorded, listed, read back and deleted per workspace; big
//! inputs kept by size and hash; recorded HTTP calls read from stored steps; flows' YAML in bulk.

use chrono::Utc;
use serde_json::json;
use testmesh_runner::{FlowStatus, StepRecord, StepStatus};
use testmesh_store::{
    AiStatus, CoverageFilter, Error, FlowSourceFilter, HttpCallFilter, ImportFilter, ImportSource,
    MAX_STORED_INPUT_BYTES, NewCoverage, NewImport, RunContext, Store, Trigger,
};

use crate::common::{SQL_LOOKING, TestDb, WS, flow_yaml, record, step};

on_both_backends!(
    imports_are_recorded_listed_and_deleted,
    big_inputs_are_kept_by_size_and_hash,
    coverage_analyses_are_recorded_listed_and_deleted,
    http_calls_come_from_recorded_steps,
    flow_sources_are_read_in_bulk,
);

fn import(kind: ImportSource, name: &str, status: AiStatus) -> NewImport {
    NewImport {
        source_type: kind,
        source_name: name.into(),
        source_content: format!("{{\"title\": \"{name}\"}}"),
        status,
        flows_generated: if status == AiStatus::Completed { 2 } else { 0 },
        flow_ids: Vec::new(),
        skipped: 1,
        error: (status == AiStatus::Failed).then(|| "spec.yaml:3:7: not an object".into()),
        metadata: json!({"title": name, "flows": [{"file_name": "a.yaml", "name": "a", "steps": 1}]}),
    }
}

async fn other_workspace(store: &Store) -> String {
    store.create_workspace("Other", "other").await.unwrap().id
}

async fn imports_are_recorded_listed_and_deleted(db: &TestDb) {
    let store = db.open().await;
    let first = store
        .record_import(
            WS,
            &import(ImportSource::OpenApi, "petstore.yaml", AiStatus::Completed),
        )
        .await
        .unwrap();
    assert_eq!(first.source_type, ImportSource::OpenApi);
    assert_eq!(first.status, AiStatus::Completed);
    assert_eq!(first.flows_generated, 2);
    assert_eq!(first.skipped, 1);
    assert!(first.source_stored);
    assert_eq!(
        first.source_content.as_deref(),
        Some("{\"title\": \"petstore.yaml\"}")
    );
    assert_eq!(
        first.source_size,
        "{\"title\": \"petstore.yaml\"}".len() as i64
    );
    assert_eq!(first.source_sha256.len(), 64);
    assert_eq!(first.metadata["flows"][0]["file_name"], "a.yaml");
    std::thread::sleep(std::time::Duration::from_millis(3));
    let failed = store
        .record_import(WS, &import(ImportSource::Postman, "  ", AiStatus::Failed))
        .await
        .unwrap();
    assert_eq!(
        failed.source_name, "postman",
        "an empty name falls back to the type"
    );
    assert_eq!(
        failed.error.as_deref(),
        Some("spec.yaml:3:7: not an object")
    );

    // Saving flows later records their ids.
    let ids = vec![uuid::Uuid::new_v4().to_string()];
    let updated = store
        .set_import_flows(WS, &first.id, &ids, None)
        .await
        .unwrap();
    assert_eq!(updated.flow_ids, ids);

    let all = store
        .list_imports(WS, &ImportFilter::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let order: Vec<&str> = all.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        order,
        [failed.id.as_str(), first.id.as_str()],
        "newest first"
    );
    assert!(
        all.items.iter().all(|i| i.source_content.is_none()),
        "lists leave the inputs out"
    );
    assert!(all.items.iter().all(|i| i.source_stored));
    let openapi = store
        .list_imports(
            WS,
            &ImportFilter {
                source_type: Some(ImportSource::OpenApi),
                ..ImportFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(openapi.total, 1);
    assert_eq!(openapi.items[0].flow_ids, ids);
    let failures = store
        .list_imports(
            WS,
            &ImportFilter {
                status: Some(AiStatus::Failed),
                limit: Some(1),
                ..ImportFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((failures.total, failures.items.len()), (1, 1));
    assert_eq!(failures.items[0].id, failed.id);

    // Another workspace sees none of them.
    let other = other_workspace(&store).await;
    assert_eq!(
        store
            .list_imports(&other, &ImportFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        store.get_import(&other, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.set_import_flows(&other, &first.id, &[], None).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_import(&other, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .record_import(
                "no-such-workspace",
                &import(ImportSource::Har, "x", AiStatus::Completed)
            )
            .await,
        Err(Error::NotFound { .. })
    ));
    for text in SQL_LOOKING {
        assert!(matches!(
            store.get_import(WS, text).await,
            Err(Error::NotFound { .. })
        ));
    }

    store.delete_import(WS, &first.id).await.unwrap();
    assert!(matches!(
        store.get_import(WS, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store
            .list_imports(WS, &ImportFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
}

async fn big_inputs_are_kept_by_size_and_hash(db: &TestDb) {
    let store = db.open().await;
    let big = "x".repeat(MAX_STORED_INPUT_BYTES + 1);
    let mut input = import(ImportSource::Har, "big.har", AiStatus::Completed);
    input.source_content = big.clone();
    let record = store.record_import(WS, &input).await.unwrap();
    assert!(!record.source_stored);
    assert_eq!(record.source_content, None);
    assert_eq!(record.source_size, big.len() as i64);
    use sha2::Digest;
    assert_eq!(
        record.source_sha256,
        hex::encode(sha2::Sha256::digest(big.as_bytes()))
    );

    // Exactly at the limit is kept.
    input.source_content = "y".repeat(MAX_STORED_INPUT_BYTES);
    let record = store.record_import(WS, &input).await.unwrap();
    assert!(record.source_stored);
    assert_eq!(
        record.source_content.map(|c| c.len()),
        Some(MAX_STORED_INPUT_BYTES)
    );

    // NUL cannot be stored in PostgreSQL text: such an input is recorded by hash, and names and
    // errors lose their NULs.
    input.source_content = "a\0b".into();
    input.source_name = "n\0ame".into();
    input.error = Some("bad\0".into());
    let record = store.record_import(WS, &input).await.unwrap();
    assert!(!record.source_stored);
    assert_eq!(record.source_size, 3);
    assert_eq!(record.source_name, "name");
    assert_eq!(record.error.as_deref(), Some("bad"));

    let mut coverage = analysis("big", 0, 0);
    coverage.spec_content = big;
    let record = store.record_coverage(WS, &coverage).await.unwrap();
    assert!(!record.spec_stored);
    assert_eq!(record.spec_content, None);
    assert_eq!(record.spec_size, (MAX_STORED_INPUT_BYTES + 1) as i64);
}

fn analysis(name: &str, total: i64, covered: i64) -> NewCoverage {
    let percent = if total == 0 {
        0.0
    } else {
        covered as f64 * 100.0 / total as f64
    };
    NewCoverage {
        spec_type: "openapi".into(),
        spec_name: name.into(),
        spec_content: "openapi: 3.0.3\n".into(),
        status: AiStatus::Completed,
        total_endpoints: total,
        covered_endpoints: covered,
        partial_endpoints: 1,
        coverage_percent: percent,
        results: json!({"covered": ["GET /pets"], "uncovered": ["POST /pets"], "partial": []}),
        html: Some(format!("<!doctype html><title>{name}</title>")),
        error: None,
    }
}

async fn coverage_analyses_are_recorded_listed_and_deleted(db: &TestDb) {
    let store = db.open().await;
    let first = store
        .record_coverage(WS, &analysis("Petstore", 4, 3))
        .await
        .unwrap();
    assert_eq!(first.spec_type, "openapi");
    assert_eq!(
        (
            first.total_endpoints,
            first.covered_endpoints,
            first.partial_endpoints
        ),
        (4, 3, 1)
    );
    assert!((first.coverage_percent - 75.0).abs() < 1e-9);
    assert_eq!(
        first.results.as_ref().unwrap()["covered"],
        json!(["GET /pets"])
    );
    assert_eq!(first.spec_content.as_deref(), Some("openapi: 3.0.3\n"));
    assert!(first.spec_stored);
    assert!(first.has_html);
    assert_eq!(
        store.coverage_html(WS, &first.id).await.unwrap().as_deref(),
        Some("<!doctype html><title>Petstore</title>")
    );

    std::thread::sleep(std::time::Duration::from_millis(3));
    let mut failed = analysis("broken.yaml", 0, 0);
    failed.status = AiStatus::Failed;
    failed.error = Some("broken.yaml:1:1: not an OpenAPI document".into());
    failed.coverage_percent = f64::NAN;
    failed.html = None;
    let failed = store.record_coverage(WS, &failed).await.unwrap();
    assert!(!failed.has_html);
    assert_eq!(store.coverage_html(WS, &failed.id).await.unwrap(), None);
    assert_eq!(failed.coverage_percent, 0.0, "NaN is stored as 0");
    let mut over = analysis("over", 1, 1);
    over.coverage_percent = 250.0;
    let over = store.record_coverage(WS, &over).await.unwrap();
    assert_eq!(over.coverage_percent, 100.0);

    let mut graphql = analysis("g", 1, 1);
    graphql.spec_type = "graphql".into();
    assert!(matches!(
        store.record_coverage(WS, &graphql).await,
        Err(Error::Invalid { .. })
    ));

    let page = store
        .list_coverage(WS, &CoverageFilter::default())
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items[2].id, first.id, "newest first");
    assert!(
        page.items
            .iter()
            .all(|c| c.results.is_none() && c.spec_content.is_none())
    );
    let failures = store
        .list_coverage(
            WS,
            &CoverageFilter {
                status: Some(AiStatus::Failed),
                ..CoverageFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failures.total, 1);
    assert_eq!(
        failures.items[0].error.as_deref(),
        Some("broken.yaml:1:1: not an OpenAPI document")
    );

    let other = other_workspace(&store).await;
    assert!(matches!(
        store.get_coverage(&other, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.coverage_html(&other, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_coverage(&other, &first.id).await,
        Err(Error::NotFound { .. })
    ));
    store.delete_coverage(WS, &first.id).await.unwrap();
    assert!(matches!(
        store.get_coverage(WS, &first.id).await,
        Err(Error::NotFound { .. })
    ));

    if db.backend == testmesh_store::Backend::Postgres {
        // The original's `ai.*` names read our rows.
        let row: (String, String, String) = sqlx::query_as(
            "SELECT spec_name, CAST(coverage_percent AS TEXT), results->>'uncovered' FROM ai.coverage_analysis WHERE spec_name = 'over'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            row,
            ("over".into(), "100.00".into(), "[\"POST /pets\"]".into())
        );
        store
            .record_import(
                WS,
                &import(ImportSource::Pact, "p.json", AiStatus::Completed),
            )
            .await
            .unwrap();
        let row: (String, String, String) = sqlx::query_as(
            "SELECT source_type, flow_ids::text, metadata->>'source_size' FROM ai.import_history WHERE source_name = 'p.json'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            row,
            (
                "pact".into(),
                "[]".into(),
                "{\"title\": \"p.json\"}".len().to_string()
            )
        );
    }
}

/// An `http_request` step record that sent `method url` and got `status`.
fn http_step(id: &str, method: &str, url: &str, status: u16) -> StepRecord {
    let mut s = step(id, "http_request", StepStatus::Passed);
    s.request = Some(json!({"method": method, "url": url, "headers": {}, "body": null}));
    s.response = Some(json!({"status": status, "headers": {}, "body": {"ok": true}}));
    s
}

async fn http_calls_come_from_recorded_steps(db: &TestDb) {
    let store = db.open().await;
    let (pets, _) = store
        .upsert_flow_by_name(WS, &flow_yaml("pets", None, &[]), None)
        .await
        .unwrap();
    let (users, _) = store
        .upsert_flow_by_name(WS, &flow_yaml("users", None, &[]), None)
        .await
        .unwrap();

    // A run of `pets`: two calls, one nested in a loop, a log step, a lean HTTP step without its
    // request (not a call we know), and an `http` step (the original's action name).
    let mut each = step("each", "for_each", StepStatus::Passed);
    each.children = vec![http_step("get_one", "GET", "http://api.test/pets/7", 200)];
    let lean = step("lean", "http_request", StepStatus::Passed);
    let mut old_name = http_step("old", "DELETE", "http://api.test/pets/7", 204);
    old_name.action = "http".into();
    let run = record(
        "pets",
        FlowStatus::Passed,
        vec![
            http_step("list", "GET", "http://api.test/pets?limit=2", 200),
            each,
            step("note", "log", StepStatus::Passed),
            lean,
            old_name,
        ],
    );
    store
        .record_run(&run, &RunContext::for_flow(WS, &pets, None, Trigger::Cli))
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let between = Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    // A failed call without a response, in a run of `users`.
    let mut failed = http_step("create", "POST", "http://api.test/users", 0);
    failed.status = StepStatus::Failed;
    failed.response = None;
    store
        .record_run(
            &record("users", FlowStatus::Failed, vec![failed]),
            &RunContext::for_flow(WS, &users, None, Trigger::Api),
        )
        .await
        .unwrap();
    // A run in another workspace is not seen.
    let other = other_workspace(&store).await;
    store
        .record_run(
            &record(
                "elsewhere",
                FlowStatus::Passed,
                vec![http_step("x", "GET", "http://api.test/secret", 200)],
            ),
            &RunContext {
                workspace_id: other.clone(),
                ..RunContext::default()
            },
        )
        .await
        .unwrap();

    let all = store
        .http_calls(WS, &HttpCallFilter::default())
        .await
        .unwrap();
    assert!(!all.truncated);
    let seen: Vec<(String, String, String, String, Option<u16>)> = all
        .calls
        .iter()
        .map(|c| {
            (
                c.flow_name.clone(),
                c.step_id.clone(),
                c.method.clone(),
                c.url.clone(),
                c.status,
            )
        })
        .collect();
    let expected = |flow: &str, step: &str, method: &str, url: &str, status: Option<u16>| {
        (
            flow.to_string(),
            step.to_string(),
            method.to_string(),
            url.to_string(),
            status,
        )
    };
    assert_eq!(
        seen,
        vec![
            expected("users", "create", "POST", "http://api.test/users", None),
            expected(
                "pets",
                "list",
                "GET",
                "http://api.test/pets?limit=2",
                Some(200)
            ),
            expected(
                "pets",
                "get_one",
                "GET",
                "http://api.test/pets/7",
                Some(200)
            ),
            expected("pets", "old", "DELETE", "http://api.test/pets/7", Some(204)),
        ],
        "newest run first, each run's steps in order, nested ones included"
    );
    assert_eq!(all.calls[1].flow_id.as_deref(), Some(pets.as_str()));

    let of_pets = store
        .http_calls(
            WS,
            &HttpCallFilter {
                flow_ids: vec![pets.clone()],
                ..HttpCallFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_pets.calls.len(), 3);
    assert!(of_pets.calls.iter().all(|c| c.flow_name == "pets"));
    let recent = store
        .http_calls(
            WS,
            &HttpCallFilter {
                since: Some(between),
                ..HttpCallFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(recent.calls.len(), 1);
    assert_eq!(recent.calls[0].step_id, "create");
    let capped = store
        .http_calls(
            WS,
            &HttpCallFilter {
                limit: Some(2),
                ..HttpCallFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(capped.calls.len(), 2);
    assert!(capped.truncated, "older calls were left out");
    let none = store
        .http_calls(
            WS,
            &HttpCallFilter {
                flow_ids: SQL_LOOKING.iter().map(|s| s.to_string()).collect(),
                ..HttpCallFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(none.calls.is_empty());
    let elsewhere = store
        .http_calls(&other, &HttpCallFilter::default())
        .await
        .unwrap();
    assert_eq!(elsewhere.calls.len(), 1);
    assert_eq!(elsewhere.calls[0].url, "http://api.test/secret");
}

async fn flow_sources_are_read_in_bulk(db: &TestDb) {
    let store = db.open().await;
    let a = store
        .create_flow(WS, &flow_yaml("alpha", Some("shop"), &[]), None)
        .await
        .unwrap();
    let b = store
        .create_flow(WS, &flow_yaml("beta", None, &[]), None)
        .await
        .unwrap();
    let gone = store
        .create_flow(WS, &flow_yaml("gone", Some("shop"), &[]), None)
        .await
        .unwrap();
    store.delete_flow(WS, &gone.flow.id).await.unwrap();
    // The current version is read.
    store
        .update_flow(WS, &b.flow.id, &flow_yaml("beta", None, &["v2"]))
        .await
        .unwrap();

    let all = store
        .flow_sources(WS, &FlowSourceFilter::default())
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"], "live flows by name");
    assert!(all[1].yaml.contains("tags: [v2]"));
    let shop = store
        .flow_sources(
            WS,
            &FlowSourceFilter {
                suite: Some("shop".into()),
                ..FlowSourceFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(shop.len(), 1);
    assert_eq!(shop[0].id, a.flow.id);
    assert_eq!(shop[0].suite.as_deref(), Some("shop"));
    let picked = store
        .flow_sources(
            WS,
            &FlowSourceFilter {
                ids: vec![b.flow.id.clone()],
                ..FlowSourceFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(picked.len(), 1);
    assert_eq!(picked[0].name, "beta");
    for missing in [gone.flow.id.clone(), "' OR '1'='1".to_string()] {
        assert!(matches!(
            store
                .flow_sources(
                    WS,
                    &FlowSourceFilter {
                        ids: vec![a.flow.id.clone(), missing],
                        ..FlowSourceFilter::default()
                    },
                )
                .await,
            Err(Error::NotFound { what: "flow", .. })
        ));
    }
    let other = other_workspace(&store).await;
    assert!(
        store
            .flow_sources(&other, &FlowSourceFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}
