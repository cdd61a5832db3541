//! Executions over the API: queuing runs by id, ids, suite and tags; lists with filters; details with
//! steps once a (simulated) worker has run them; cancellation.

use serde_json::{Value, json};
use testmesh_runner::FlowStatus;
use testmesh_test::TestDb;

use crate::common::{SQL_LOOKING, TestServer, work_one};
use crate::flows::url_encode;

on_both_backends!(
    runs_are_queued_at_once_for_every_selected_flow,
    bad_run_requests_queue_nothing,
    executions_filter_paginate_show_steps_and_cancel,
);

fn ids(reply: &Value) -> Vec<String> {
    reply["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

async fn runs_are_queued_at_once_for_every_selected_flow(db: &TestDb) {
    let server = TestServer::start(db).await;
    let a = server.create_flow("a", Some("shop"), &["smoke"]).await;
    let b = server.create_flow("b", Some("shop"), &[]).await;
    let c = server.create_flow("c", None, &["smoke", "nightly"]).await;

    let one = server
        .post(
            "/api/v1/executions",
            &json!({"flow_id": a, "variables": {"BASE_URL": "http://127.0.0.1:1", "N": 3}}),
        )
        .await
        .expect(201);
    let execution = &one.json["executions"][0];
    assert_eq!(execution["status"], "pending");
    assert_eq!(execution["trigger"], "api");
    assert_eq!(execution["flow_id"], a);
    assert_eq!(execution["flow_version"], 1);
    assert_eq!(
        execution["variables"],
        json!({"BASE_URL": "http://127.0.0.1:1", "N": 3})
    );
    assert_eq!(
        execution["environment"],
        Value::Null,
        "no environment and no default"
    );

    let many = server
        .post("/api/v1/executions", &json!({"flow_ids": [c, a, c]}))
        .await
        .expect(201);
    let names: Vec<&str> = many.json["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["flow_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "a"], "in the order given, duplicates once");

    let suite = server
        .post("/api/v1/executions", &json!({"suite": "shop"}))
        .await
        .expect(201);
    assert_eq!(ids(&suite.json).len(), 2);
    let tagged = server
        .post("/api/v1/executions", &json!({"tags": ["nightly", "smoke"]}))
        .await
        .expect(201);
    assert_eq!(ids(&tagged.json).len(), 2, "a and c have one of the tags");
    let both = server
        .post(
            "/api/v1/executions",
            &json!({"suite": "shop", "tags": ["smoke"]}),
        )
        .await
        .expect(201);
    assert_eq!(both.json["executions"][0]["flow_id"], a);
    assert_eq!(ids(&both.json).len(), 1);
    let _ = b;

    // Environments: by name or id, else the workspace default.
    let env = server
        .post("/api/v1/environments", &json!({"name": "staging", "variables": [{"key": "BASE_URL", "value": "http://127.0.0.1:2"}]}))
        .await
        .expect(201);
    let env_id = env.json["id"].as_str().unwrap();
    for given in ["staging", env_id] {
        let run = server
            .post(
                "/api/v1/executions",
                &json!({"flow_id": a, "environment": given}),
            )
            .await
            .expect(201);
        assert_eq!(run.json["executions"][0]["environment"], "staging");
    }
    server
        .post(
            &format!("/api/v1/environments/{env_id}/default"),
            &json!({}),
        )
        .await
        .expect(200);
    let run = server
        .post("/api/v1/executions", &json!({"flow_id": a}))
        .await
        .expect(201);
    assert_eq!(run.json["executions"][0]["environment"], "staging");

    let depth = server.store.queue_depth().await.unwrap();
    assert_eq!(depth, 1 + 2 + 2 + 2 + 1 + 2 + 1);
}

async fn bad_run_requests_queue_nothing(db: &TestDb) {
    let server = TestServer::start(db).await;
    let a = server.create_flow("a", Some("shop"), &[]).await;
    let missing = "00000000-0000-0000-0000-00000000beef";
    let before = server.counts().await;
    let cases = [
        (json!({}), 422, "no_flows_selected"),
        (json!({"flow_ids": []}), 422, "no_flows_selected"),
        (
            json!({"flow_id": a, "suite": "shop"}),
            422,
            "ambiguous_selection",
        ),
        (
            json!({"flow_id": a, "flow_ids": [a]}),
            422,
            "ambiguous_selection",
        ),
        (json!({"flow_id": missing}), 422, "unknown_reference"),
        (
            json!({"flow_id": "../../etc/passwd"}),
            422,
            "unknown_reference",
        ),
        (json!({"flow_ids": [a, missing]}), 422, "unknown_reference"),
        (json!({"suite": "nothing"}), 422, "no_flows_selected"),
        (json!({"tags": ["' OR '1'='1"]}), 422, "no_flows_selected"),
        (
            json!({"flow_id": a, "environment": "nowhere"}),
            422,
            "unknown_reference",
        ),
        (
            json!({"flow_id": a, "variables": [1, 2]}),
            422,
            "invalid_body",
        ),
        (json!({"flow_id": a, "variabels": {}}), 422, "invalid_body"),
        (json!({"flow_id": 42}), 422, "invalid_body"),
        (
            json!({"flow_id": a, "environment": "a\u{0}b"}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let reply = server.post("/api/v1/executions", &body).await;
        assert_eq!(
            (reply.status, reply.json["code"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(server.counts().await, before, "nothing was queued");
}

async fn executions_filter_paginate_show_steps_and_cancel(db: &TestDb) {
    let server = TestServer::start(db).await;
    let a = server.create_flow("a", Some("shop"), &["smoke"]).await;
    let b = server.create_flow("b", None, &[]).await;
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    for _ in 0..3 {
        server
            .post("/api/v1/executions", &json!({"flow_id": a}))
            .await
            .expect(201);
    }
    server
        .post("/api/v1/executions", &json!({"flow_id": b}))
        .await
        .expect(201);
    // The worker runs the oldest two: one passes, one fails.
    let passed = work_one(&server.store, FlowStatus::Passed, &[]).await;
    let failed = work_one(&server.store, FlowStatus::Failed, &[]).await;

    let list = |query: String| {
        let server = &server;
        async move {
            server
                .get(&format!("/api/v1/executions?{query}"))
                .await
                .expect(200)
                .json
        }
    };
    let all = list(String::new()).await;
    assert_eq!(all["total"], 4);
    assert_eq!(all["executions"][0]["flow_name"], "b", "newest first");
    assert_eq!(list(format!("flow_id={a}")).await["total"], 3);
    assert_eq!(list("suite=shop".into()).await["total"], 3);
    assert_eq!(list("tag=smoke".into()).await["total"], 3);
    assert_eq!(list("status=pending".into()).await["total"], 2);
    assert_eq!(
        list("status=completed".into()).await["executions"][0]["id"],
        passed
    );
    assert_eq!(
        list("status=failed".into()).await["executions"][0]["id"],
        failed
    );
    assert_eq!(list("trigger=api".into()).await["total"], 4);
    assert_eq!(list("trigger=cli".into()).await["total"], 0);
    let from = url_encode(&start.to_rfc3339());
    assert_eq!(list(format!("from={from}")).await["total"], 4);
    assert_eq!(list(format!("to={from}")).await["total"], 0);
    assert_eq!(
        list("from=2999-01-01T00:00:00%2B02:00".into()).await["total"],
        0
    );
    let paged = list("limit=3&offset=3".into()).await;
    assert_eq!(
        (
            paged["executions"].as_array().unwrap().len(),
            paged["total"].clone()
        ),
        (1, json!(4))
    );

    for text in SQL_LOOKING {
        let q = url_encode(text);
        for filter in ["flow_id", "suite", "tag"] {
            assert_eq!(
                list(format!("{filter}={q}")).await["total"],
                0,
                "{filter}={text}"
            );
        }
        // Typed filters refuse what they cannot read.
        for filter in ["status", "trigger", "from", "to", "limit", "offset"] {
            server
                .get(&format!("/api/v1/executions?{filter}={q}"))
                .await
                .expect_error(400, "invalid_parameter");
        }
    }

    // Detail with steps.
    let detail = server
        .get(&format!("/api/v1/executions/{failed}"))
        .await
        .expect(200);
    assert_eq!(detail.json["status"], "failed");
    assert_eq!(detail.json["steps"][0]["step_id"], "hello");
    assert_eq!(detail.json["steps"][0]["status"], "failed");
    assert!(detail.json["error"].as_str().unwrap().contains("boom"));

    // Cancel: pending at once; finished is a conflict; running is flagged.
    let pending = list("status=pending".into()).await["executions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = server
        .post(&format!("/api/v1/executions/{pending}/cancel"), &json!({}))
        .await
        .expect(200);
    assert_eq!(cancelled.json["status"], "cancelled");
    server
        .post(&format!("/api/v1/executions/{passed}/cancel"), &json!({}))
        .await
        .expect_error(409, "conflict");
    let claimed = server
        .store
        .claim_next("w", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let flagged = server
        .post(
            &format!("/api/v1/executions/{}/cancel", claimed.execution.id),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            flagged.json["status"].clone(),
            flagged.json["cancel_requested"].clone()
        ),
        (json!("running"), json!(true))
    );

    for bad in [
        "../../etc/passwd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%2F..%2Fetc%2Fpasswd",
        "1%20OR%201%3D1",
        "00000000-0000-0000-0000-000000000000",
    ] {
        server
            .get(&format!("/api/v1/executions/{bad}"))
            .await
            .expect(404);
        server
            .post(&format!("/api/v1/executions/{bad}/cancel"), &json!({}))
            .await
            .expect(404);
    }
}
