//! Reports over the API: generated in the background from recorded runs, listed, downloaded in
//! each format, deleted with their files, expired by the cleanup, and bad requests refused.

use std::time::Duration;

use serde_json::{Value, json};
use testmesh_runner::FlowStatus;
use testmesh_server::ReportConfig;
use testmesh_store::RunContext;
use testmesh_test::TestDb;

use crate::common::{TestServer, record, test_options};

on_both_backends!(
    reports_are_generated_downloaded_and_deleted,
    bad_report_requests_are_refused
);

/// Polls a report until it is no longer pending or generating.
async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..200 {
        let report = server
            .get(&format!("/api/v1/reports/{id}"))
            .await
            .expect(200)
            .json;
        if report["status"] != "pending" && report["status"] != "generating" {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("report {id} did not finish");
}

async fn reports_are_generated_downloaded_and_deleted(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let options = testmesh_server::ServerOptions {
        reports: ReportConfig::new(dir.path()),
        ..test_options(db)
    };
    let server = TestServer::start_with(db, options).await;
    let store = db.open().await;
    for (name, status) in [
        ("Checkout <totals>", FlowStatus::Passed),
        ("Checkout <totals>", FlowStatus::Failed),
        ("Login", FlowStatus::Passed),
    ] {
        store
            .record_run(&record(name, status), &RunContext::default())
            .await
            .unwrap();
    }

    let mut ids = Vec::new();
    for format in ["html", "junit", "json"] {
        let reply = server
            .post(
                "/api/v1/reports/generate",
                &json!({"name": format!("nightly {format}"), "format": format}),
            )
            .await
            .expect(202);
        assert_eq!(reply.json["status"], "pending");
        assert_eq!(reply.json["download_url"], Value::Null);
        let id = reply.json["id"].as_str().unwrap().to_string();
        assert_eq!(
            reply.header("location"),
            Some(format!("/api/v1/reports/{id}").as_str())
        );
        let report = finished(&server, &id).await;
        assert_eq!(report["status"], "completed", "{report}");
        assert_eq!(
            report["download_url"],
            format!("/api/v1/reports/{id}/download").as_str()
        );
        assert!(report["expires_at"].is_string());
        ids.push(id);
    }

    let html = server
        .get(&format!("/api/v1/reports/{}/download", ids[0]))
        .await
        .expect(200);
    assert_eq!(
        html.header("content-disposition"),
        Some("attachment; filename=\"nightly_html.html\"")
    );
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.text.contains("Checkout &lt;totals&gt;"),
        "names are escaped"
    );
    assert!(!html.text.contains("Checkout <totals>"));
    let junit = server
        .get(&format!("/api/v1/reports/{}/download", ids[1]))
        .await
        .expect(200);
    assert_eq!(junit.header("content-type"), Some("application/xml"));
    assert!(junit.text.contains("<testsuites"), "{}", junit.text);
    let data = server
        .get(&format!("/api/v1/reports/{}/download", ids[2]))
        .await
        .expect(200);
    let data: Value = serde_json::from_str(&data.text).unwrap();
    assert_eq!(data["summary"]["executions"], 3);
    assert_eq!(data["summary"]["failed"], 1);

    let list = server.get("/api/v1/reports?format=junit").await.expect(200);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["reports"][0]["id"], ids[1].as_str());

    // Deleting removes the row and the file.
    let file = dir.path().join(format!("{}.html", ids[0]));
    assert!(file.is_file());
    server
        .delete(&format!("/api/v1/reports/{}", ids[0]))
        .await
        .expect(204);
    assert!(!file.exists());
    server
        .get(&format!("/api/v1/reports/{}", ids[0]))
        .await
        .expect_error(404, "not_found");

    // A report whose file went away answers 410; one that expired is cleaned up with its file.
    std::fs::remove_file(dir.path().join(format!("{}.xml", ids[1]))).unwrap();
    server
        .get(&format!("/api/v1/reports/{}/download", ids[1]))
        .await
        .expect_error(410, "report_file_gone");
    let deleted = testmesh_report::stored::delete_expired(&store, dir.path())
        .await
        .unwrap();
    assert_eq!(deleted, 0, "nothing has expired yet");
    let expired = store
        .create_report(
            testmesh_store::DEFAULT_WORKSPACE_ID,
            &testmesh_store::NewReport {
                name: "old".into(),
                format: testmesh_store::ReportFormat::Json,
                filters: json!({}),
                from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                to: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
                generated_by: "api".into(),
                expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
            },
        )
        .await
        .unwrap();
    let old_file = dir.path().join(format!("{}.json", expired.id));
    std::fs::write(&old_file, "{}").unwrap();
    store
        .complete_report(
            testmesh_store::DEFAULT_WORKSPACE_ID,
            &expired.id,
            &format!("{}.json", expired.id),
            2,
        )
        .await
        .unwrap();
    let deleted = testmesh_report::stored::delete_expired(&store, dir.path())
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(!old_file.exists(), "the expired report's file is deleted");
    server
        .get(&format!("/api/v1/reports/{}", expired.id))
        .await
        .expect_error(404, "not_found");
    assert!(
        dir.path().join(format!("{}.json", ids[2])).is_file(),
        "reports that have not expired stay"
    );
    server.stop().await;
}

async fn bad_report_requests_are_refused(db: &TestDb) {
    let server = TestServer::start(db).await;
    server
        .post("/api/v1/reports/generate", &json!({"format": "pdf"}))
        .await
        .expect_error(422, "invalid_body");
    server
        .post(
            "/api/v1/reports/generate",
            &json!({"format": "html", "from": "2026-11-20", "to": "2026-11-01"}),
        )
        .await
        .expect_error(422, "invalid_period");
    server
        .post(
            "/api/v1/reports/generate",
            &json!({"format": "html", "from": "2026-02-30"}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .get("/api/v1/reports?status=done")
        .await
        .expect_error(400, "invalid_parameter");
    // The original's names are accepted.
    let reply = server
        .post(
            "/api/v1/reports/generate",
            &json!({"format": "json", "start_date": "2026-11-01", "end_date": "2026-11-02", "filters": {"flow_ids": ["x"]}}),
        )
        .await
        .expect(202);
    assert_eq!(reply.json["from_date"], "2026-11-01");
    assert_eq!(reply.json["filters"]["flows"][0], "x");
    let id = reply.json["id"].as_str().unwrap().to_string();
    let pending_or_done = server.get(&format!("/api/v1/reports/{id}/download")).await;
    assert!(
        [200, 409].contains(&pending_or_done.status),
        "{}",
        pending_or_done.status
    );
    server.stop().await;
}
