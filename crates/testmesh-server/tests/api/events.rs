//! Live events over SSE: events a (simulated) worker appends arrive in order with their ids, the
//! stream ends when the execution is final, `Last-Event-ID` resumes, idle streams get keep-alives.

use std::time::Duration;

use serde_json::{Value, json};
use testmesh_runner::FlowStatus;
use testmesh_test::TestDb;

use crate::common::{SseReader, TestServer, record};

on_both_backends!(
    events_arrive_in_order_and_the_stream_ends_with_the_execution,
    last_event_id_resumes_and_finished_executions_replay,
    idle_streams_are_kept_alive_and_end_at_shutdown,
);

async fn queue(server: &TestServer) -> String {
    let flow = server.create_flow("live", None, &[]).await;
    let reply = server
        .post("/api/v1/executions", &json!({"flow_id": flow}))
        .await
        .expect(201);
    reply.json["executions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn step_events(n: usize) -> Vec<(String, Value)> {
    let mut events = vec![(
        "execution.started".to_string(),
        json!({"flow_name": "live", "total_steps": n}),
    )];
    for i in 0..n {
        events.push(("step.started".into(), json!({"step_id": format!("s{i}")})));
        events.push((
            "step.completed".into(),
            json!({"step_id": format!("s{i}"), "duration_ms": i}),
        ));
    }
    events.push(("execution.completed".into(), json!({"passed_steps": n})));
    events
}

async fn events_arrive_in_order_and_the_stream_ends_with_the_execution(db: &TestDb) {
    let server = TestServer::start(db).await;
    let id = queue(&server).await;
    let mut stream =
        SseReader::open(&server, &format!("/api/v1/executions/{id}/events"), None).await;

    // The worker claims the execution, then appends its events in small batches while the
    // client is connected, and completes it.
    let store = server.store.clone();
    let expected = step_events(20);
    let events = expected.clone();
    let worker = tokio::spawn(async move {
        let claimed = store
            .claim_next("w1", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let exec = claimed.execution.id;
        for batch in events.chunks(3) {
            let batch: Vec<(&str, Value)> =
                batch.iter().map(|(k, d)| (k.as_str(), d.clone())).collect();
            store.append_events(&exec, &batch).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        store
            .complete_claimed(&exec, "w1", &record("live", FlowStatus::Passed))
            .await
            .unwrap();
    });

    let mut received = Vec::new();
    while let Some(event) = stream.next().await {
        received.push(event);
    }
    worker.await.unwrap();
    let (end, events) = received.split_last().expect("events");
    assert_eq!(end.event.as_deref(), Some("end"));
    assert_eq!(end.id, None, "the end event does not move Last-Event-ID");
    assert_eq!(
        serde_json::from_str::<Value>(&end.data).unwrap(),
        json!({"status": "completed"})
    );
    assert_eq!(events.len(), expected.len(), "{received:?}");
    for (i, (event, (kind, data))) in events.iter().zip(&expected).enumerate() {
        let seq = i as i64 + 1;
        assert_eq!(event.id.as_deref(), Some(seq.to_string().as_str()));
        assert_eq!(event.event.as_deref(), Some(kind.as_str()));
        let body: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(body["seq"], seq);
        assert_eq!(body["kind"], kind.as_str());
        assert_eq!(&body["data"], data);
        assert_eq!(body["execution_id"], id);
    }
}

async fn last_event_id_resumes_and_finished_executions_replay(db: &TestDb) {
    let server = TestServer::start(db).await;
    let id = queue(&server).await;
    let expected = step_events(3);
    let batch: Vec<(&str, Value)> = expected
        .iter()
        .map(|(k, d)| (k.as_str(), d.clone()))
        .collect();
    crate::common::work_one(&server.store, FlowStatus::Failed, &batch).await;
    let path = format!("/api/v1/executions/{id}/events");

    // A finished execution replays everything, then ends.
    let mut all = SseReader::open(&server, &path, None).await;
    let mut ids = Vec::new();
    while let Some(event) = all.next().await {
        ids.push(event.id.unwrap_or_else(|| event.event.unwrap_or_default()));
    }
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7", "8", "end"]);

    // Resuming after 5 sends 6, 7, 8; after the last one only the end.
    let mut resumed = SseReader::open(&server, &path, Some("5")).await;
    let mut ids = Vec::new();
    while let Some(event) = resumed.next().await {
        ids.push(event.id.unwrap_or_else(|| event.event.unwrap_or_default()));
    }
    assert_eq!(ids, ["6", "7", "8", "end"]);
    let mut done = SseReader::open(&server, &path, Some("8")).await;
    let end = done.next().await.unwrap();
    assert_eq!(
        (end.event.as_deref(), end.data.as_str()),
        (Some("end"), r#"{"status":"failed"}"#)
    );
    assert!(done.next().await.is_none());

    // Bad Last-Event-ID values and unknown executions are refused before the stream starts.
    for bad in ["-1", "abc", "1; DROP TABLE executions"] {
        let reply = server
            .send(
                reqwest::Method::GET,
                &path,
                server
                    .request(reqwest::Method::GET, &path)
                    .header("last-event-id", bad),
            )
            .await;
        reply.expect_error(400, "invalid_last_event_id");
    }
    server
        .get("/api/v1/executions/00000000-0000-0000-0000-000000000000/events")
        .await
        .expect_error(404, "not_found");
    server
        .get("/api/v1/executions/..%2F..%2Fetc%2Fpasswd/events")
        .await
        .expect_error(404, "not_found");
}

async fn idle_streams_are_kept_alive_and_end_at_shutdown(db: &TestDb) {
    let server = TestServer::start(db).await;
    let id = queue(&server).await;
    let mut stream =
        SseReader::open(&server, &format!("/api/v1/executions/{id}/events"), None).await;
    // Nobody runs it: only keep-alive comments arrive (every 300 ms in tests).
    let waited = tokio::time::timeout(Duration::from_millis(1000), stream.next()).await;
    assert!(
        waited.is_err(),
        "no event for a pending execution: {waited:?}"
    );
    assert!(
        stream.comments >= 2,
        "keep-alive comments: {}",
        stream.comments
    );
    // A graceful shutdown ends the stream instead of waiting for the client.
    server.stop().await;
    assert_eq!(stream.next().await, None);
}
