use axum::Json;
use axum::routing;
use serde_json::{Value, json};

use crate::common::*;

/// A real target: an axum app on a loopback port.
async fn target() -> String {
    let app = axum::Router::new()
        .route(
            "/api/users/{id}",
            routing::get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                Json(json!({"id": id, "source": "real"}))
            }),
        )
        .route(
            "/api/echo",
            routing::post(|headers: axum::http::HeaderMap, body: String| async move {
                (
                    [("x-target", "yes")],
                    Json(json!({"body": body, "x_in": headers.get("x-in").and_then(|v| v.to_str().ok())})),
                )
            }),
        )
        .route("/plain", routing::get(|| async { "plain {{text}} from target" }))
        .route("/weird:path", routing::get(|| async { "weird" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn unmatched_requests_pass_through_to_the_target() {
    let target = target().await;
    let (_hub, mock) = start(&format!(
        "name: proxy\nproxy: {{target: \"{target}\", pass_through: true}}\nendpoints:\n  - {{path: /api/users/1, response: {{body: {{id: '1', source: mock}}}}}}\n"
    ))
    .await;
    assert_eq!(
        get(&mock, "/api/users/1").await.1,
        json!({"id": "1", "source": "mock"})
    );
    assert_eq!(
        get(&mock, "/api/users/2").await.1,
        json!({"id": "2", "source": "real"})
    );
    let r = client()
        .post(url(&mock, "/api/echo?x=1"))
        .header("x-in", "v")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-target"], "yes");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"body": "payload", "x_in": "v"})
    );
    let journal = mock.journal();
    assert_eq!(journal[0].outcome, "endpoint");
    assert_eq!(journal[1].outcome, "proxy");
    // Without pass-through, unmatched requests are 404.
    let (_hub2, closed) = start(&format!(
        "name: closed\nproxy: {{target: \"{target}\", pass_through: false}}\nendpoints: []\n"
    ))
    .await;
    assert_eq!(get(&closed, "/api/users/2").await.0, 404);
}

#[tokio::test]
async fn record_then_playback() {
    let target = target().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recorder.yaml");
    std::fs::write(
        &file,
        format!("name: recorder\nmode: record\nproxy: {{target: \"{target}\"}}\nsave_to: recorded/users.yaml\nendpoints: []\n"),
    )
    .unwrap();
    let hub = testmesh_mock::MockHub::new(Default::default());
    let recorder = hub
        .start(testmesh_mock::load::load_file(&file).unwrap().remove(0))
        .await
        .unwrap();
    assert_eq!(
        get(&recorder, "/api/users/7?expand=1").await.1,
        json!({"id": "7", "source": "real"})
    );
    let (_, echoed) = send(client().post(url(&recorder, "/api/echo")).body("b")).await;
    assert_eq!(
        get(&recorder, "/plain").await.1,
        json!("plain {{text}} from target")
    );
    assert_eq!(get(&recorder, "/weird:path").await.1, json!("weird"));
    hub.stop(recorder.id()).await.unwrap();

    let saved = dir.path().join("recorded/users.yaml");
    let text = std::fs::read_to_string(&saved).unwrap();
    let loaded = testmesh_mock::load::load_file(&saved).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(loaded[0].endpoints.len(), 4, "{text}");
    assert!(!text.contains("content-length"), "{text}");

    std::fs::write(
        &file,
        "name: player\nmode: playback\nsave_to: recorded/users.yaml\nendpoints: []\n",
    )
    .unwrap();
    let player = hub
        .start(testmesh_mock::load::load_file(&file).unwrap().remove(0))
        .await
        .unwrap();
    let r = client()
        .get(url(&player, "/api/users/7?expand=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": "7", "source": "real"})
    );
    // The query is part of the recording.
    assert_eq!(get(&player, "/api/users/7").await.0, 404);
    let r = client()
        .post(url(&player, "/api/echo"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-target"], "yes");
    assert_eq!(r.json::<Value>().await.unwrap(), echoed);
    // Recorded bodies are literal: `{{text}}` is not a template.
    assert_eq!(
        get(&player, "/plain").await.1,
        json!("plain {{text}} from target")
    );
    assert_eq!(get(&player, "/weird:path").await.1, json!("weird"));
}
