//! Mock servers: definitions with their endpoints, lifecycle, the journal and state.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use testmesh_store::{Error, MockRequest, MockServerFilter, MockStatus, NewMockServer};

use crate::common::{TestDb, WS};

on_both_backends!(
    mock_servers_keep_endpoints_in_matching_order,
    mock_server_lifecycle_is_restorable,
    mock_journal_pages_filters_and_prunes,
    mock_state_upserts,
    original_mocks_schema_answers_seed_queries
);

fn server(name: &str, endpoints: Vec<Value>) -> NewMockServer {
    NewMockServer {
        id: None,
        name: name.into(),
        settings: json!({"state": {"counter": 0}}),
        endpoints,
        execution_id: None,
    }
}

async fn mock_servers_keep_endpoints_in_matching_order(db: &TestDb) {
    let store = db.open().await;
    let created = store
        .create_mock_server(
            WS,
            &server(
                "users",
                vec![
                    json!({"path": "/users", "method": "get"}),
                    json!({"id": "by-id", "path": "/users/:id", "priority": 5}),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.status, MockStatus::Starting);
    assert_eq!(created.settings, json!({"state": {"counter": 0}}));

    let endpoints = store.mock_endpoints(&created.id).await.unwrap();
    assert_eq!(
        endpoints
            .iter()
            .map(|e| (e.method.as_str(), e.path.as_str()))
            .collect::<Vec<_>>(),
        vec![("GET", "/users/:id"), ("GET", "/users")],
        "priority first, then definition order"
    );
    assert_eq!(endpoints[0].id, "by-id");
    let generated = &endpoints[1];
    assert_eq!(
        generated.definition["id"],
        json!(generated.id),
        "ids are written into definitions"
    );

    let added = store
        .add_mock_endpoints(&created.id, &[json!({"path": "/health"})])
        .await
        .unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].position, 2, "appended after the others");

    let updated = store
        .update_mock_endpoint(
            &created.id,
            "by-id",
            &json!({"path": "/people/:id", "method": "PUT"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            updated.method.as_str(),
            updated.path.as_str(),
            updated.priority
        ),
        ("PUT", "/people/:id", 0)
    );
    assert_eq!(updated.definition["id"], json!("by-id"));

    store
        .delete_mock_endpoint(&created.id, "by-id")
        .await
        .unwrap();
    assert!(matches!(
        store.delete_mock_endpoint(&created.id, "by-id").await,
        Err(Error::NotFound { .. })
    ));
    let replaced = store
        .replace_mock_endpoints(&created.id, &[json!({"path": "/only"})])
        .await
        .unwrap();
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].path, "/only");

    assert!(matches!(
        store.create_mock_server(WS, &server(" ", vec![])).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store
            .create_mock_server(
                WS,
                &NewMockServer {
                    id: Some("nope".into()),
                    ..server("x", vec![])
                }
            )
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        store.add_mock_endpoints(&created.id, &[json!([1])]).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(
        store.mock_endpoints(&created.id).await.unwrap().len(),
        1,
        "nothing half-written"
    );
}

async fn mock_server_lifecycle_is_restorable(db: &TestDb) {
    let store = db.open().await;
    let fixed = "bb000000-0000-0000-0000-000000000001";
    let a = store
        .create_mock_server(
            WS,
            &NewMockServer {
                id: Some(fixed.into()),
                ..server("user-service", vec![])
            },
        )
        .await
        .unwrap();
    assert_eq!(a.id, fixed);
    assert!(matches!(
        store
            .create_mock_server(
                WS,
                &NewMockServer {
                    id: Some(fixed.into()),
                    ..server("again", vec![])
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    let b = store
        .create_mock_server(WS, &server("orders", vec![]))
        .await
        .unwrap();

    let running = store
        .set_mock_server_status(
            &a.id,
            MockStatus::Running,
            Some("http://127.0.0.1:5016/mocks/x"),
            Some(9001),
            None,
        )
        .await
        .unwrap();
    assert_eq!(running.status, MockStatus::Running);
    assert_eq!(running.port, Some(9001));
    assert!(running.started_at.is_some());
    store
        .set_mock_server_status(
            &b.id,
            MockStatus::Failed,
            None,
            None,
            Some("port 9001 is taken"),
        )
        .await
        .unwrap();

    let restorable = store.running_mock_servers().await.unwrap();
    assert_eq!(
        restorable.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        vec![fixed]
    );

    let filter = MockServerFilter {
        status: Some(MockStatus::Failed),
        ..Default::default()
    };
    let failed = store.list_mock_servers(WS, &filter).await.unwrap();
    assert_eq!(failed.total, 1);
    assert_eq!(failed.items[0].error.as_deref(), Some("port 9001 is taken"));
    assert_eq!(
        store
            .list_mock_servers(WS, &MockServerFilter::default())
            .await
            .unwrap()
            .total,
        2
    );

    let stopped = store
        .set_mock_server_status(&a.id, MockStatus::Stopped, None, None, None)
        .await
        .unwrap();
    assert!(stopped.stopped_at.is_some());
    assert!(store.running_mock_servers().await.unwrap().is_empty());

    let renamed = store
        .update_mock_server(WS, &a.id, "users", &json!({"port": 0}))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), &renamed.settings),
        ("users", &json!({"port": 0}))
    );
    assert_eq!(store.find_mock_server(&a.id).await.unwrap().name, "users");

    store.delete_mock_server(WS, &a.id).await.unwrap();
    assert!(matches!(
        store.find_mock_server(&a.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .set_mock_server_status(&a.id, MockStatus::Running, None, None, None)
            .await,
        Err(Error::NotFound { .. })
    ));
}

fn request(server: &str, n: i64, matched: bool) -> MockRequest {
    MockRequest {
        id: uuid::Uuid::new_v4().to_string(),
        mock_server_id: server.into(),
        endpoint_id: matched.then(|| "e1".to_string()),
        method: "GET".into(),
        path: format!("/items/{n}"),
        query: json!({"page": n.to_string()}),
        headers: json!({"x-tag": ["a", "b"]}),
        body: Some("it's a \"body\"".into()),
        matched,
        response_code: Some(if matched { 200 } else { 404 }),
        duration_us: Some(12),
        near_misses: (!matched).then(|| json!([{"endpoint": "GET /items", "reasons": ["path"]}])),
        remote: Some("127.0.0.1:5555".into()),
        received_at: Utc::now() - Duration::milliseconds(10_000 - n),
    }
}

async fn mock_journal_pages_filters_and_prunes(db: &TestDb) {
    let store = db.open().await;
    let mock = store
        .create_mock_server(WS, &server("journal", vec![]))
        .await
        .unwrap();
    let requests: Vec<MockRequest> = (0..3000)
        .map(|n| request(&mock.id, n, n % 3 != 0))
        .collect();
    store.record_mock_requests(&requests).await.unwrap();
    store.record_mock_requests(&[]).await.unwrap();

    let page = store
        .list_mock_requests(&mock.id, None, Some(2), None)
        .await
        .unwrap();
    assert_eq!(page.total, 3000);
    assert_eq!(page.items[0].path, "/items/2999", "newest first");
    let first = &page.items[0];
    let stored = store.get_mock_request(&mock.id, &first.id).await.unwrap();
    assert_eq!(&stored, first);
    assert_eq!(stored.headers, json!({"x-tag": ["a", "b"]}));
    assert_eq!(stored.body.as_deref(), Some("it's a \"body\""));

    let unmatched = store
        .list_mock_requests(&mock.id, Some(false), None, None)
        .await
        .unwrap();
    assert_eq!(unmatched.total, 1000);
    assert_eq!(unmatched.limit, 50);
    assert!(
        unmatched
            .items
            .iter()
            .all(|r| !r.matched && r.near_misses.is_some())
    );

    assert_eq!(
        store.prune_mock_requests(&mock.id, 100).await.unwrap(),
        2900
    );
    let kept = store
        .list_mock_requests(&mock.id, None, Some(1000), None)
        .await
        .unwrap();
    assert_eq!(kept.total, 100);
    assert_eq!(
        kept.items.last().map(|r| r.path.as_str()),
        Some("/items/2900")
    );
    assert_eq!(store.prune_mock_requests(&mock.id, 100).await.unwrap(), 0);

    assert_eq!(store.clear_mock_requests(&mock.id).await.unwrap(), 100);
    assert!(matches!(
        store.get_mock_request(&mock.id, &first.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn mock_state_upserts(db: &TestDb) {
    let store = db.open().await;
    let mock = store
        .create_mock_server(WS, &server("state", vec![]))
        .await
        .unwrap();
    // The original inserted on every write, so the second write of a key broke; it must upsert.
    for n in 1..=3 {
        store
            .put_mock_state(&mock.id, "counter", Some(&json!(n)))
            .await
            .unwrap();
    }
    store
        .put_mock_state(&mock.id, "user", Some(&json!({"name": "O'Brien"})))
        .await
        .unwrap();
    let state = store.mock_state(&mock.id).await.unwrap();
    assert_eq!(
        state
            .iter()
            .map(|e| (e.key.as_str(), e.value.clone()))
            .collect::<Vec<_>>(),
        vec![("counter", json!(3)), ("user", json!({"name": "O'Brien"}))]
    );
    store.put_mock_state(&mock.id, "user", None).await.unwrap();
    assert_eq!(store.mock_state(&mock.id).await.unwrap().len(), 1);

    let mut fresh = serde_json::Map::new();
    fresh.insert("step".into(), json!("paid"));
    store.replace_mock_state(&mock.id, &fresh).await.unwrap();
    let state = store.mock_state(&mock.id).await.unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(
        (state[0].key.as_str(), &state[0].value),
        ("step", &json!("paid"))
    );

    store.delete_mock_server(WS, &mock.id).await.unwrap();
    assert!(
        store.mock_state(&mock.id).await.unwrap().is_empty(),
        "state goes with its server"
    );
}

/// Seed flows 05 and 10 query the original's `mocks` schema; on PostgreSQL, views answer them.
async fn original_mocks_schema_answers_seed_queries(db: &TestDb) {
    use sqlx::{Connection, Row};
    let store = db.open().await;
    if db.backend == testmesh_store::Backend::Sqlite {
        return; // SQLite has no schemas; the views exist on PostgreSQL only.
    }
    let mock = store
        .create_mock_server(WS, &server("users", vec![]))
        .await
        .unwrap();
    store
        .set_mock_server_status(&mock.id, MockStatus::Running, Some("http://x"), None, None)
        .await
        .unwrap();
    store
        .record_mock_requests(&[request(&mock.id, 1, true), request(&mock.id, 2, false)])
        .await
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let running: i64 =
        sqlx::query("SELECT COUNT(*) AS total FROM mocks.mock_servers WHERE status = 'running'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("total");
    assert_eq!(running, 1);
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, SUM(CASE WHEN matched THEN 1 ELSE 0 END) AS matched_count FROM mocks.mock_requests",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (
            row.get::<i64, _>("total"),
            row.get::<i64, _>("matched_count")
        ),
        (2, 1)
    );
    let unmatched = sqlx::query(
        "SELECT mock_server_id, path, method, received_at FROM mocks.mock_requests WHERE matched = false ORDER BY received_at DESC LIMIT 5",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].get::<String, _>("path"), "/items/2");
}
