//! The original's `mock-server-example.yaml` endpoint list, as its flow passes it to
//! `mock_server_start`, behaves as the flow's steps assert.

use serde_json::{Value, json};

use crate::common::*;

fn fixture_config() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/testmesh-flows/mock-server-example.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let root = testmesh_flow::yaml::parse(&text).unwrap().to_json();
    root["setup"][0]["config"].clone()
}

#[tokio::test]
async fn mock_server_example_fixture() {
    let config = fixture_config();
    let definition = testmesh_mock::load::mock_from_json(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(definition.endpoints.len(), 5);
    let hub = testmesh_mock::MockHub::new(Default::default());
    let mock = hub.start(definition).await.unwrap();

    let (s, b) = send(
        client()
            .get(url(&mock, "/api/users"))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["users"].as_array().unwrap().len(), 2);
    assert_eq!(b["users"][0]["name"], "Alice");
    let first_id = b["users"][0]["id"].clone();

    let (s, b) = send(
        client()
            .post(url(&mock, "/api/users"))
            .json(&json!({"name": "Charlie", "email": "charlie@example.com"})),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(b["id"], 3);
    assert_eq!(b["name"], "Charlie");
    assert_eq!(b["email"], "charlie@example.com");

    let (s, b) = get(&mock, &format!("/api/users/{first_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(b["name"], "Alice");

    let (s, b) = send(client().post(url(&mock, "/api/counter"))).await;
    assert_eq!((s, b["count"].clone()), (200, json!(1)));
    let (s, b) = send(client().post(url(&mock, "/api/counter"))).await;
    assert_eq!((s, b["count"].clone()), (200, json!(2)));
    assert_eq!(mock.state_value("counter"), Some(json!(2)));
}
