use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use testmesh_mock::{Expectation, HubConfig, JournalEntry, MockHub, MockObserver, load};

use crate::common::*;

#[tokio::test]
async fn journal_keeps_every_request_within_its_cap() {
    let (_hub, mock) = start(
        r#"
name: journal
journal: {max_entries: 3, max_body_bytes: 8}
endpoints:
  - {path: /users/:id, method: POST, response: {status: 201}}
"#,
    )
    .await;
    let c = client();
    send(
        c.post(url(&mock, "/users/1?x=y"))
            .header("x-trace", "t1")
            .body("0123456789abc"),
    )
    .await;
    let (s, _) = send(c.get(url(&mock, "/nothing"))).await;
    assert_eq!(s, 404);
    let journal = mock.journal();
    assert_eq!(journal.len(), 2);
    let first = &journal[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/users/1");
    assert_eq!(first.query, vec![("x".to_string(), "y".to_string())]);
    assert_eq!(first.header("X-Trace"), Some("t1"));
    assert_eq!(first.body, "01234567");
    assert!(first.body_truncated);
    assert_eq!(first.status, Some(201));
    assert_eq!(first.endpoint_id, mock.endpoints()[0].id);
    assert!(first.remote.as_deref().unwrap().starts_with("127.0.0.1:"));
    let second = &journal[1];
    assert!(!second.matched());
    assert_eq!(second.status, Some(404));
    assert_eq!(second.near_misses[0].endpoint, "POST /users/:id");
    assert_eq!(
        second.near_misses[0].reasons,
        vec![
            "method: expected POST, got GET",
            "path: expected /users/:id, got /nothing"
        ]
    );
    for i in 0..5 {
        get(&mock, &format!("/n{i}")).await;
    }
    let journal = mock.journal();
    assert_eq!(journal.len(), 3);
    assert_eq!(journal[2].path, "/n4");
    assert_eq!(mock.journal_dropped(), 4);
    assert_eq!(mock.recent_requests(1)[0].path, "/n4");
    assert_eq!(mock.journal_entry(journal[0].id).unwrap().path, "/n2");
    mock.clear_journal();
    assert!(mock.journal().is_empty());
}

#[tokio::test]
async fn verify_counts_and_reports_violations() {
    let (_hub, mock) = start(
        r#"
name: verify
endpoints:
  - {path: /users, method: POST, response: {status: 201}}
  - {path: /users/:id, response: {body_text: user}}
"#,
    )
    .await;
    let c = client();
    send(
        c.post(url(&mock, "/users"))
            .header("x-tenant", "a")
            .json(&json!({"name": "Alice"})),
    )
    .await;
    send(
        c.post(url(&mock, "/users"))
            .header("x-tenant", "b")
            .json(&json!({"name": "Bob"})),
    )
    .await;
    get(&mock, "/users/1").await;
    get(&mock, "/users/2").await;
    let expectations = Expectation::list_from_json(&json!([
        {"method": "POST", "path": "/users", "count": 2},
        {"method": "GET", "path": "/users/:id", "count_min": 2, "count_max": 3},
        {"method": "POST", "path": "/users", "count": 1, "body_matches": ["body.name == 'Alice'"], "headers": {"X-Tenant": "a"}},
        {"path": "/users/{id}", "count_max": 1},
        {"method": "DELETE", "path": "/users/*"},
        {"method": "POST", "path": "/users", "count": 2, "body_matches": ["body.name == 'Bob'"]}
    ]))
    .unwrap();
    let report = mock.verify(&expectations);
    assert!(!report.passed);
    assert_eq!(report.checked, 6);
    let failed: Vec<usize> = report.violations.iter().map(|v| v.index).collect();
    assert_eq!(failed, vec![3, 4, 5]);
    let v = &report.violations[0];
    assert_eq!((v.expected.as_str(), v.actual), ("at most 1", 2));
    assert_eq!(
        report.violations[1].message,
        "expected at least 1 DELETE /users/* request(s), got 0"
    );
    let v = &report.violations[2];
    assert_eq!((v.expected.as_str(), v.actual), ("exactly 2", 1));
    assert_eq!(
        v.near_misses[0].reasons,
        vec!["`body.name == 'Bob'` is false"]
    );
    let ok = mock.verify(&expectations[..3]);
    assert!(ok.passed, "{ok:?}");
    let bad = Expectation::list_from_json(
        &json!([{"path": "/x", "body_matches": ["body.("]}, {"cuont": 1}]),
    )
    .unwrap_err();
    let text = bad.to_string();
    assert!(
        text.contains("[0].body_matches[0]: invalid expression"),
        "{text}"
    );
    assert!(text.contains("did you mean `count`?"), "{text}");
}

#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<(uuid::Uuid, String, Option<u16>)>>,
    states: Mutex<Vec<(String, Option<Value>)>>,
}

impl MockObserver for Recorder {
    fn on_request(&self, mock_id: uuid::Uuid, entry: &JournalEntry) {
        self.requests
            .lock()
            .unwrap()
            .push((mock_id, entry.path.clone(), entry.status));
    }
    fn on_state(&self, _: uuid::Uuid, key: &str, value: Option<&Value>) {
        self.states
            .lock()
            .unwrap()
            .push((key.to_string(), value.cloned()));
    }
}

#[tokio::test]
async fn observers_see_requests_and_state_changes() {
    let observer = Arc::new(Recorder::default());
    let hub = MockHub::new(HubConfig {
        observer: Some(observer.clone()),
        ..HubConfig::default()
    });
    let def = load::mock_from_json(&json!({
        "name": "observed",
        "endpoints": [{"path": "/hit", "method": "POST", "state": {"state_key": "hits", "initial_value": 0, "update_rule": "increment"}}]
    }))
    .unwrap();
    let mock = hub.start(def).await.unwrap();
    send(client().post(url(&mock, "/hit"))).await;
    get(&mock, "/miss").await;
    let requests = observer.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        vec![
            (mock.id(), "/hit".into(), Some(200)),
            (mock.id(), "/miss".into(), Some(404))
        ]
    );
    assert_eq!(
        observer.states.lock().unwrap()[0],
        ("hits".to_string(), Some(json!(1)))
    );
}
