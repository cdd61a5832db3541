//! /health, /metrics and the OpenAPI document (which must list exactly the routes that answer).

use reqwest::Method;
use serde_json::{Value, json};
use testmesh_runner::FlowStatus;
use testmesh_test::TestDb;

use crate::common::{TestServer, work_one};

on_both_backends!(
    health_reports_the_database,
    metrics_show_executions_queue_steps_and_requests,
    the_openapi_document_lists_the_routes_that_answer,
);

async fn health(server: &TestServer) -> crate::common::Reply {
    let builder = server.client.get(format!("{}/health", server.base));
    server.send(Method::GET, "/health", builder).await
}

async fn health_reports_the_database(db: &TestDb) {
    let server = TestServer::start(db).await;
    let ok = health(&server).await.expect(200);
    assert_eq!(ok.json, json!({"status": "ok", "database": "connected"}));
    // With the database gone: 503, not a hang or a 500.
    server.store.close().await;
    let down = health(&server).await.expect(503);
    assert_eq!(
        down.json,
        json!({"status": "unavailable", "database": "unreachable"})
    );
}

async fn metrics_show_executions_queue_steps_and_requests(db: &TestDb) {
    let server = TestServer::start(db).await;
    let flow = server.create_flow("measured", None, &[]).await;
    for _ in 0..3 {
        server
            .post("/api/v1/executions", &json!({"flow_id": flow}))
            .await
            .expect(201);
    }
    work_one(&server.store, FlowStatus::Passed, &[]).await;
    work_one(&server.store, FlowStatus::Failed, &[]).await;
    server.get("/api/v1/nothing").await.expect(404);

    let reply = server.get("/metrics").await.expect(200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = reply.text;
    for line in [
        "testmesh_executions{status=\"pending\"} 1",
        "testmesh_executions{status=\"completed\"} 1",
        "testmesh_executions{status=\"failed\"} 1",
        "testmesh_executions{status=\"cancelled\"} 0",
        "testmesh_queue_depth 1",
        "# TYPE testmesh_step_duration_seconds histogram",
        // Each simulated run has one 12 ms `log` step.
        "testmesh_step_duration_seconds_bucket{action=\"log\",le=\"0.01\"} 0",
        "testmesh_step_duration_seconds_bucket{action=\"log\",le=\"0.025\"} 2",
        "testmesh_step_duration_seconds_bucket{action=\"log\",le=\"+Inf\"} 2",
        "testmesh_step_duration_seconds_sum{action=\"log\"} 0.024",
        "testmesh_step_duration_seconds_count{action=\"log\"} 2",
        "testmesh_http_requests_total{method=\"POST\",route=\"/api/v1/executions\",status=\"201\"} 3",
        "testmesh_http_requests_total{method=\"POST\",route=\"/api/v1/flows\",status=\"201\"} 1",
        "testmesh_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    // Every sample line is `name{labels} value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("testmesh_"), "{line}");
    }
}

async fn the_openapi_document_lists_the_routes_that_answer(db: &TestDb) {
    let server = TestServer::start(db).await;
    let doc = server.get("/api/v1/openapi.json").await.expect(200).json;
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            operations.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    operations.sort();
    let mut expected = vec![
        "GET /health",
        "GET /metrics",
        "GET /api/v1/openapi.json",
        "POST /api/v1/flows",
        "GET /api/v1/flows",
        "GET /api/v1/flows/{id}",
        "PUT /api/v1/flows/{id}",
        "DELETE /api/v1/flows/{id}",
        "GET /api/v1/flows/{id}/versions",
        "GET /api/v1/flows/{id}/versions/{version}",
        "POST /api/v1/executions",
        "GET /api/v1/executions",
        "GET /api/v1/executions/{id}",
        "POST /api/v1/executions/{id}/cancel",
        "GET /api/v1/executions/{id}/events",
        "POST /api/v1/environments",
        "GET /api/v1/environments",
        "GET /api/v1/environments/default",
        "GET /api/v1/environments/{id}",
        "PUT /api/v1/environments/{id}",
        "DELETE /api/v1/environments/{id}",
        "POST /api/v1/environments/{id}/default",
        "POST /api/v1/environments/{id}/duplicate",
        "POST /api/v1/collections",
        "GET /api/v1/collections",
        "GET /api/v1/collections/{id}",
        "PUT /api/v1/collections/{id}",
        "DELETE /api/v1/collections/{id}",
        "GET /api/v1/collections/{id}/flows",
        "POST /api/v1/collections/{id}/flows",
        "DELETE /api/v1/collections/{id}/flows/{flow_id}",
        "POST /api/v1/schedules",
        "GET /api/v1/schedules",
        "GET /api/v1/schedules/{id}",
        "PUT /api/v1/schedules/{id}",
        "DELETE /api/v1/schedules/{id}",
        "POST /api/v1/schedules/{id}/pause",
        "POST /api/v1/schedules/{id}/resume",
        "POST /api/v1/schedules/{id}/trigger",
        "POST /api/v1/api-keys",
        "GET /api/v1/api-keys",
        "DELETE /api/v1/api-keys/{id}",
        "GET /api/v1/mock-servers",
        "POST /api/v1/mock-servers",
        "GET /api/v1/mock-servers/{id}",
        "PUT /api/v1/mock-servers/{id}",
        "DELETE /api/v1/mock-servers/{id}",
        "POST /api/v1/mock-servers/{id}/start",
        "POST /api/v1/mock-servers/{id}/stop",
        "GET /api/v1/mock-servers/{id}/endpoints",
        "POST /api/v1/mock-servers/{id}/endpoints",
        "PUT /api/v1/mock-servers/{id}/endpoints/{endpoint_id}",
        "DELETE /api/v1/mock-servers/{id}/endpoints/{endpoint_id}",
        "GET /api/v1/mock-servers/{id}/requests",
        "DELETE /api/v1/mock-servers/{id}/requests",
        "GET /api/v1/mock-servers/{id}/requests/{request_id}",
        "POST /api/v1/mock-servers/{id}/requests/{request_id}/endpoint",
        "GET /api/v1/mock-servers/{id}/state",
        "PUT /api/v1/mock-servers/{id}/state/{key}",
        "DELETE /api/v1/mock-servers/{id}/state/{key}",
        "POST /api/v1/mock-servers/{id}/state/reset",
        "GET /api/v1/contracts",
        "GET /api/v1/contracts/versions",
        "POST /api/v1/contracts/import",
        "POST /api/v1/contracts/breaking-changes",
        "GET /api/v1/contracts/{id}",
        "DELETE /api/v1/contracts/{id}",
        "GET /api/v1/contracts/{id}/pact",
        "GET /api/v1/contracts/{id}/interactions",
        "GET /api/v1/contracts/{id}/interactions/{interaction_id}",
        "GET /api/v1/contracts/{id}/verifications",
        "POST /api/v1/contracts/{id}/verify",
        "GET /api/v1/contracts/{id}/breaking-changes",
        "GET /api/v1/can-i-deploy",
        "POST /api/v1/reports/generate",
        "GET /api/v1/reports",
        "GET /api/v1/reports/{id}",
        "GET /api/v1/reports/{id}/download",
        "DELETE /api/v1/reports/{id}",
        "GET /api/v1/analytics/metrics",
        "GET /api/v1/analytics/trends",
        "GET /api/v1/analytics/flakiness",
        "GET /api/v1/analytics/steps",
        "POST /api/v1/analytics/aggregate",
        "GET /api/v1/analytics/runs",
        "POST /api/v1/ai/import/openapi",
        "POST /api/v1/ai/import/postman",
        "POST /api/v1/ai/import/pact",
        "POST /api/v1/ai/import/har",
        "GET /api/v1/ai/import-history",
        "GET /api/v1/ai/import-history/{id}",
        "DELETE /api/v1/ai/import-history/{id}",
        "POST /api/v1/ai/coverage/analyze",
        "GET /api/v1/ai/coverage",
        "GET /api/v1/ai/coverage/{id}",
        "DELETE /api/v1/ai/coverage/{id}",
        "GET /api/v1/ai/coverage-analysis",
        "GET /api/v1/ai/coverage-analysis/{id}",
    ];
    expected.sort();
    assert_eq!(operations, expected);

    // Every documented operation is routed: with unknown ids it answers 404 `not_found` (or
    // another documented status), never `route_not_found` or 405.
    let before = server.counts().await;
    for operation in &operations {
        let (method, path) = operation.split_once(' ').unwrap();
        if path == "/api/v1/executions/{id}/events" || method == "POST" && !path.contains('{') {
            continue; // covered elsewhere; creating things here would change the counts
        }
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{flow_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{version}", "1");
        let method: Method = method.parse().unwrap();
        let reply = server.json(method.clone(), &concrete, &json!({})).await;
        assert_ne!(reply.status, 405, "{operation}: {}", reply.text);
        assert_ne!(reply.json["code"], "route_not_found", "{operation}");
        if path.contains('{') {
            assert!(
                reply.status == 404 || reply.status == 422,
                "{operation}: {} {}",
                reply.status,
                reply.text
            );
        }
    }
    assert_eq!(server.counts().await, before);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/health"]["get"]["security"],
        Value::Array(vec![])
    );
}
