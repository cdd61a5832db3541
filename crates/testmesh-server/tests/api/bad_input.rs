//! Bad input gets a clear 4xx JSON error, never a 5xx, and writes nothing: malformed JSON, wrong
//! content types, oversized bodies, unknown routes and methods, path traversal, NUL characters.

use reqwest::Method;
use serde_json::json;
use testmesh_server::ApiConfig;
use testmesh_test::TestDb;

use crate::common::{TestServer, flow_yaml, test_options};

on_both_backends!(
    malformed_and_mistyped_bodies_are_refused,
    oversized_bodies_get_413,
    unknown_routes_methods_and_traversal_are_404_or_405,
);

async fn malformed_and_mistyped_bodies_are_refused(db: &TestDb) {
    let server = TestServer::start(db).await;
    let before = server.counts().await;
    let json_routes = [
        "/api/v1/flows",
        "/api/v1/executions",
        "/api/v1/environments",
        "/api/v1/collections",
        "/api/v1/schedules",
        "/api/v1/api-keys",
    ];
    for path in json_routes {
        // Malformed JSON: 400 with the position.
        let reply = server
            .raw(
                Method::POST,
                path,
                "application/json",
                "{\n  \"name\": \"x\",\n  oops\n}",
            )
            .await
            .expect_error(400, "malformed_json");
        assert_eq!(
            reply.json["details"],
            json!({"line": 3, "column": 3}),
            "{path}"
        );
        server
            .raw(Method::POST, path, "application/json", "")
            .await
            .expect_error(400, "malformed_json");
        // Not JSON at all.
        server
            .raw(
                Method::POST,
                path,
                "application/x-www-form-urlencoded",
                "name=x",
            )
            .await
            .expect_error(415, "unsupported_media_type");
        let reply = server
            .send(
                Method::POST,
                path,
                server.request(Method::POST, path).body("{}"),
            )
            .await;
        reply.expect_error(415, "unsupported_media_type");
        // Wrong shapes: every finding, with its place.
        let reply = server
            .post(path, &json!({"unexpected": [1, 2, 3]}))
            .await
            .expect_error(422, "invalid_body");
        assert!(
            !reply.json["details"]["errors"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{path}"
        );
        server
            .post(path, &json!([1, 2]))
            .await
            .expect_error(422, "invalid_body");
        server
            .post(path, &json!("text"))
            .await
            .expect_error(422, "invalid_body");
        // NUL characters would fail in PostgreSQL: refused up front.
        server
            .post(path, &json!({"name": "nul\u{0}", "yaml": "nul\u{0}"}))
            .await
            .expect_error(422, "invalid_body");
    }
    // A flow body that is not UTF-8.
    server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml",
            vec![b'n', 0xff, 0xfe],
        )
        .await
        .expect_error(400, "invalid_utf8");
    // Deeply nested JSON is refused by the parser's recursion limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    server
        .raw(Method::POST, "/api/v1/executions", "application/json", deep)
        .await
        .expect_error(400, "malformed_json");
    assert_eq!(server.counts().await, before, "nothing was written");
}

async fn oversized_bodies_get_413(db: &TestDb) {
    let options = testmesh_server::ServerOptions {
        api: ApiConfig {
            max_body_bytes: 64 * 1024,
            ..test_options(db).api
        },
        ..test_options(db)
    };
    let server = TestServer::start_with(db, options).await;
    let before = server.counts().await;
    let mut big = flow_yaml("big", None, &[]);
    big.push_str(&format!("description: {}\n", "x".repeat(100 * 1024)));
    server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml",
            big.clone(),
        )
        .await
        .expect_error(413, "body_too_large");
    server
        .post("/api/v1/flows", &json!({"yaml": big}))
        .await
        .expect_error(413, "body_too_large");
    server
        .post(
            "/api/v1/environments",
            &json!({"name": "big", "variables": [{"key": "A", "value": "x".repeat(100 * 1024)}]}),
        )
        .await
        .expect_error(413, "body_too_large");
    // Without Content-Length (chunked) as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..100).map(|_| Ok(vec![b' '; 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    // The server answers 413 as soon as the limit is passed and stops reading: the client either
    // reads that answer or, when it was still sending, has its write cut (broken pipe). Both are
    // the refusal; which one it sees is a race of the two sockets.
    let sent = server
        .request(Method::POST, "/api/v1/executions")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            assert_eq!(response.status(), 413);
            let json: serde_json::Value =
                serde_json::from_str(&response.text().await.unwrap()).unwrap();
            assert_eq!(json["code"], "body_too_large");
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "{e:?}"),
    }
    assert_eq!(server.counts().await, before, "nothing was written");
    // Just under the limit is fine.
    server
        .raw(
            Method::POST,
            "/api/v1/flows",
            "application/yaml",
            flow_yaml("small", None, &[]),
        )
        .await
        .expect(201);
}

async fn unknown_routes_methods_and_traversal_are_404_or_405(db: &TestDb) {
    let server = TestServer::start(db).await;
    // The root is the dashboard's: without a session it sends the browser to log in.
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/login?next=/");
    for path in [
        "/api",
        "/api/v1",
        "/api/v1/flow",
        "/api/v2/flows",
        "/api/v1/flows/x/y/z",
        "/etc/passwd",
    ] {
        let reply = server.get(path).await.expect_error(404, "route_not_found");
        assert!(
            reply.json["error"]
                .as_str()
                .unwrap()
                .contains("openapi.json")
        );
    }
    let reply = server
        .json(Method::PATCH, "/api/v1/flows", &json!({}))
        .await
        .expect_error(405, "method_not_allowed");
    let allow = reply.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    server
        .delete("/api/v1/flows")
        .await
        .expect_error(405, "method_not_allowed");
    server
        .send(
            Method::POST,
            "/health",
            server.client.post(format!("{}/health", server.base)),
        )
        .await
        .expect_error(405, "method_not_allowed");

    let before = server.counts().await;
    let traversal = [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%252e%252e%252fetc%252fpasswd",
        "....//....//etc/passwd",
        "%00",
        "%ff%fe",
        "' OR '1'='1",
        "1%20OR%201%3D1",
    ];
    for id in traversal {
        for prefix in ["flows", "environments", "collections", "schedules"] {
            let path = format!("/api/v1/{prefix}/{id}");
            let reply = server.get(&path).await;
            assert_eq!(reply.status, 404, "{path}: {}", reply.text);
            let reply = server
                .put(&path, &json!({"name": "x", "yaml": "x", "cron_expr": "x"}))
                .await;
            assert!(
                reply.status == 404 || reply.status == 422,
                "{path}: {} {}",
                reply.status,
                reply.text
            );
            let reply = server.delete(&path).await;
            assert!(
                reply.status == 404 || reply.status == 405,
                "{path}: {}",
                reply.status
            );
        }
        server.delete(&format!("/api/v1/api-keys/{id}")).await;
        server.get(&format!("/api/v1/flows/{id}/versions/1")).await;
    }
    assert_eq!(server.counts().await, before, "nothing was written");
    // The server still answers.
    server.get("/api/v1/flows").await.expect(200);
}
