//! Environments, collections and schedules over the API, and the scheduler queuing runs on time.

use std::time::Duration;

use serde_json::{Value, json};
use testmesh_test::TestDb;

use crate::common::TestServer;

on_both_backends!(
    environments_mask_secrets_and_keep_one_default,
    collections_hold_flows,
    schedules_validate_cron_and_show_the_next_run,
    the_scheduler_queues_runs_on_time,
);

async fn environments_mask_secrets_and_keep_one_default(db: &TestDb) {
    let server = TestServer::start(db).await;
    let body = json!({
        "name": "staging",
        "description": "pre-production",
        "variables": [
            {"key": "BASE_URL", "value": "http://127.0.0.1:8080"},
            {"key": "TOKEN", "value": "s3cret", "is_secret": true},
        ],
    });
    let created = server.post("/api/v1/environments", &body).await.expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    assert_eq!(created.json["variables"][1]["value"], "********");
    assert!(!created.text.contains("s3cret"));
    let got = server
        .get(&format!("/api/v1/environments/{id}"))
        .await
        .expect(200);
    assert_eq!(
        got.json["variables"][1],
        json!({"key": "TOKEN", "value": "********", "description": null, "is_secret": true, "enabled": true})
    );
    // The run still gets the real value.
    let real = server
        .store
        .decrypted_environment(crate::common::WS, "staging")
        .await
        .unwrap();
    assert_eq!(real.variables[1].value, "s3cret");

    // Sending the mask back keeps the secret.
    let mut edited = got.json.clone();
    let update =
        json!({"name": "staging", "variables": edited["variables"].take(), "is_default": true});
    let updated = server
        .put(&format!("/api/v1/environments/{id}"), &update)
        .await
        .expect(200);
    assert_eq!(updated.json["is_default"], true);
    let real = server
        .store
        .decrypted_environment(crate::common::WS, &id)
        .await
        .unwrap();
    assert_eq!(real.variables[1].value, "s3cret");

    let prod = server
        .post(
            "/api/v1/environments",
            &json!({"name": "prod", "is_default": true}),
        )
        .await
        .expect(201);
    let default = server.get("/api/v1/environments/default").await.expect(200);
    assert_eq!(default.json["name"], "prod");
    server
        .post(&format!("/api/v1/environments/{id}/default"), &json!({}))
        .await
        .expect(200);
    let list = server.get("/api/v1/environments").await.expect(200);
    let defaults: Vec<&str> = list.json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["is_default"] == true)
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["staging"]);
    let copy = server
        .post(
            &format!("/api/v1/environments/{id}/duplicate"),
            &json!({"name": "staging-2"}),
        )
        .await
        .expect(201);
    assert_eq!(copy.json["is_default"], false);

    let before = server.counts().await;
    server
        .post("/api/v1/environments", &json!({"name": "prod"}))
        .await
        .expect_error(409, "conflict");
    server
        .post("/api/v1/environments", &json!({"name": ""}))
        .await
        .expect_error(422, "invalid");
    server
        .post(
            "/api/v1/environments",
            &json!({"name": "x", "variables": [{"key": "A", "value": 1}]}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post("/api/v1/environments", &json!({"name": "x", "variables": [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]}))
        .await
        .expect_error(422, "invalid");
    assert_eq!(server.counts().await, before);

    server
        .delete(&format!(
            "/api/v1/environments/{}",
            prod.json["id"].as_str().unwrap()
        ))
        .await
        .expect(204);
    server
        .get(&format!(
            "/api/v1/environments/{}",
            prod.json["id"].as_str().unwrap()
        ))
        .await
        .expect_error(404, "not_found");
}

async fn collections_hold_flows(db: &TestDb) {
    let server = TestServer::start(db).await;
    let root = server
        .post("/api/v1/collections", &json!({"name": "Checkout"}))
        .await
        .expect(201);
    let root_id = root.json["id"].as_str().unwrap().to_string();
    let child = server
        .post(
            "/api/v1/collections",
            &json!({"name": "Payments", "parent_id": root_id, "sort_order": 2}),
        )
        .await
        .expect(201);
    let child_id = child.json["id"].as_str().unwrap().to_string();
    assert_eq!(child.json["parent_id"], root_id.as_str());

    let a = server.create_flow("pay", None, &[]).await;
    let b = server.create_flow("refund", None, &[]).await;
    server
        .post(
            &format!("/api/v1/collections/{child_id}/flows"),
            &json!({"flow_id": b, "sort_order": 1}),
        )
        .await
        .expect(200);
    let listed = server
        .post(
            &format!("/api/v1/collections/{child_id}/flows"),
            &json!({"flow_id": a}),
        )
        .await
        .expect(200);
    let names: Vec<&str> = listed.json["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pay", "refund"], "by sort order");

    let found = server
        .get("/api/v1/collections?search=PAY")
        .await
        .expect(200);
    assert_eq!(found.json["total"], 1);
    assert_eq!(
        server
            .get("/api/v1/collections?search=%25")
            .await
            .expect(200)
            .json["total"],
        0
    );

    // A collection cannot move under its own child; unknown parents and flows are the body's fault.
    server
        .put(
            &format!("/api/v1/collections/{root_id}"),
            &json!({"name": "Checkout", "parent_id": child_id}),
        )
        .await
        .expect_error(422, "invalid");
    server
        .post(
            "/api/v1/collections",
            &json!({"name": "x", "parent_id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await
        .expect_error(422, "unknown_reference");
    server
        .post(
            &format!("/api/v1/collections/{child_id}/flows"),
            &json!({"flow_id": "nope"}),
        )
        .await
        .expect_error(422, "unknown_reference");
    server
        .put(
            "/api/v1/collections/00000000-0000-0000-0000-000000000000",
            &json!({"name": "x"}),
        )
        .await
        .expect_error(404, "not_found");

    server
        .delete(&format!("/api/v1/collections/{child_id}/flows/{a}"))
        .await
        .expect(204);
    server
        .delete(&format!("/api/v1/collections/{child_id}/flows/{a}"))
        .await
        .expect_error(404, "not_found");
    let renamed = server
        .put(
            &format!("/api/v1/collections/{child_id}"),
            &json!({"name": "Payments v2", "parent_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(renamed.json["parent_id"], Value::Null);
    server
        .delete(&format!("/api/v1/collections/{root_id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/collections/{root_id}"))
        .await
        .expect_error(404, "not_found");
    // The flows stay.
    server.get(&format!("/api/v1/flows/{b}")).await.expect(200);
}

async fn schedules_validate_cron_and_show_the_next_run(db: &TestDb) {
    let server = TestServer::start_with(db, crate::common::TestServer::no_scheduler(db)).await;
    let flow = server.create_flow("nightly", Some("shop"), &[]).await;
    let created = server
        .post("/api/v1/schedules", &json!({"name": "nightly", "flow_id": flow, "cron_expr": "0 2 * * *", "timezone": "Europe/Paris"}))
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_string();
    let next: chrono::DateTime<chrono::Utc> = created.json["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > chrono::Utc::now());
    assert!(next - chrono::Utc::now() <= chrono::Duration::hours(25));
    assert_eq!(created.json["timezone"], "Europe/Paris");

    let before = server.counts().await;
    for (body, code) in [
        (
            json!({"name": "bad", "flow_id": flow, "cron_expr": "61 * * * *"}),
            "invalid_schedule",
        ),
        (
            json!({"name": "bad", "flow_id": flow, "cron_expr": "every day"}),
            "invalid_schedule",
        ),
        (
            json!({"name": "bad", "flow_id": flow, "cron_expr": "* * * * *", "timezone": "Mars/Base"}),
            "invalid_schedule",
        ),
        (
            json!({"name": "bad", "cron_expr": "* * * * *"}),
            "invalid_schedule",
        ),
        (
            json!({"name": "bad", "flow_id": "00000000-0000-0000-0000-000000000000", "cron_expr": "* * * * *"}),
            "unknown_reference",
        ),
        (json!({"name": "bad", "flow_id": flow}), "invalid_body"),
    ] {
        let reply = server
            .post("/api/v1/schedules", &body)
            .await
            .expect_error(422, code);
        if code == "invalid_schedule" {
            assert!(!reply.json["error"].as_str().unwrap().is_empty());
        }
    }
    server
        .post(
            "/api/v1/schedules",
            &json!({"name": "nightly", "suite": "shop", "cron_expr": "@daily"}),
        )
        .await
        .expect_error(409, "conflict");
    assert_eq!(server.counts().await, before);

    let paused = server
        .post(&format!("/api/v1/schedules/{id}/pause"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        (
            paused.json["enabled"].clone(),
            paused.json["next_run_at"].clone()
        ),
        (json!(false), Value::Null)
    );
    let resumed = server
        .post(&format!("/api/v1/schedules/{id}/resume"), &json!({}))
        .await
        .expect(200);
    assert!(resumed.json["next_run_at"].is_string());
    let updated = server
        .put(&format!("/api/v1/schedules/{id}"), &json!({"name": "hourly", "suite": "shop", "cron_expr": "0 * * * *", "variables": {"A": 1}}))
        .await
        .expect(200);
    assert_eq!(
        (
            updated.json["flow_id"].clone(),
            updated.json["suite"].clone()
        ),
        (Value::Null, json!("shop"))
    );

    // Trigger now: the suite's flows are queued, marked as the schedule's.
    let triggered = server
        .post(&format!("/api/v1/schedules/{id}/trigger"), &json!({}))
        .await
        .expect(201);
    let execution = &triggered.json["executions"][0];
    assert_eq!(
        (
            execution["trigger"].clone(),
            execution["schedule_id"].clone()
        ),
        (json!("schedule"), json!(id))
    );
    assert_eq!(execution["variables"], json!({"A": 1}));

    assert_eq!(
        server.get("/api/v1/schedules").await.expect(200).json["total"],
        1
    );
    server
        .delete(&format!("/api/v1/schedules/{id}"))
        .await
        .expect(204);
    server
        .get(&format!("/api/v1/schedules/{id}"))
        .await
        .expect_error(404, "not_found");
    server
        .post(&format!("/api/v1/schedules/{id}/pause"), &json!({}))
        .await
        .expect_error(404, "not_found");
}

async fn the_scheduler_queues_runs_on_time(db: &TestDb) {
    let server = TestServer::start(db).await;
    let flow = server.create_flow("every-second", None, &[]).await;
    // Six fields: every second.
    let schedule = server
        .post(
            "/api/v1/schedules",
            &json!({"name": "tick", "flow_id": flow, "cron_expr": "* * * * * *"}),
        )
        .await
        .expect(201);
    let id = schedule.json["id"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let runs = server
            .get("/api/v1/executions?trigger=schedule")
            .await
            .expect(200);
        if runs.json["total"].as_i64().unwrap() >= 1 {
            assert_eq!(runs.json["executions"][0]["schedule_id"], id.as_str());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled run within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = server
        .get(&format!("/api/v1/schedules/{id}"))
        .await
        .expect(200);
    assert!(after.json["last_run_at"].is_string());
}
