//! Authentication on every route but /health, API keys over the API, and per-key rate limits.

use reqwest::Method;
use serde_json::json;
use testmesh_test::TestDb;

use crate::common::{TestServer, WS};

on_both_backends!(
    every_route_but_health_needs_a_valid_key,
    keys_are_created_listed_and_revoked,
    rate_limits_answer_429_with_retry_after,
);

async fn every_route_but_health_needs_a_valid_key(db: &TestDb) {
    let server = TestServer::start(db).await;
    let url = |path: &str| format!("{}{path}", server.base);
    let routes = [
        (Method::GET, "/api/v1/flows"),
        (Method::POST, "/api/v1/flows"),
        (Method::GET, "/api/v1/executions"),
        (Method::GET, "/api/v1/environments"),
        (Method::GET, "/api/v1/schedules"),
        (Method::GET, "/api/v1/api-keys"),
        (Method::GET, "/api/v1/openapi.json"),
        (Method::GET, "/metrics"),
        // Unknown routes too: a caller without a key learns nothing.
        (Method::GET, "/api/v1/nothing-here"),
    ];
    let wrong_keys = [
        "tm_00000000_0000000000000000000000000000000000000000000000000000000000000000",
        "not-a-key",
        "' OR '1'='1",
    ];
    let before = server.counts().await;
    for (method, path) in &routes {
        let reply = server
            .send(
                method.clone(),
                path,
                server.client.request(method.clone(), url(path)),
            )
            .await;
        reply.expect_error(401, "unauthorized");
        for key in wrong_keys {
            let reply = server
                .send(
                    method.clone(),
                    path,
                    server
                        .client
                        .request(method.clone(), url(path))
                        .bearer_auth(key),
                )
                .await;
            reply.expect_error(401, "unauthorized");
        }
    }
    // A wrong scheme is no key.
    server
        .send(
            Method::GET,
            "/api/v1/flows",
            server
                .client
                .get(url("/api/v1/flows"))
                .header("authorization", format!("Basic {}", server.key)),
        )
        .await
        .expect_error(401, "unauthorized");
    // X-API-Key works as well as the bearer token.
    server
        .send(
            Method::GET,
            "/api/v1/flows",
            server
                .client
                .get(url("/api/v1/flows"))
                .header("x-api-key", &server.key),
        )
        .await
        .expect(200);
    // CORS preflights are answered without a key, for any origin.
    let preflight = server
        .client
        .request(Method::OPTIONS, url("/api/v1/flows"))
        .header("origin", "http://dashboard.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let allowed = |name: &str| {
        preflight
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(allowed("access-control-allow-origin"), "*");
    assert!(allowed("access-control-allow-headers").contains("authorization"));
    assert!(allowed("access-control-allow-methods").contains("post"));
    // /health needs no key.
    let health = server
        .send(Method::GET, "/health", server.client.get(url("/health")))
        .await
        .expect(200);
    assert_eq!(
        health.json,
        json!({"status": "ok", "database": "connected"})
    );
    assert_eq!(server.counts().await, before, "nothing was written");
}

async fn keys_are_created_listed_and_revoked(db: &TestDb) {
    let server = TestServer::start(db).await;
    let created = server
        .post(
            "/api/v1/api-keys",
            &json!({"name": "ci", "rate_limit_per_minute": 120}),
        )
        .await
        .expect(201);
    let key = created.json["key"].as_str().unwrap().to_string();
    let id = created.json["id"].as_str().unwrap().to_string();
    assert!(key.starts_with(&format!("tm_{}_", created.json["prefix"].as_str().unwrap())));
    assert_eq!(created.json["rate_limit_per_minute"], 120);
    assert_eq!(created.json["workspace_id"], WS);

    // The new key works; lists never show a key.
    let with_new_key = |path: &str| {
        server
            .client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&key)
    };
    server
        .send(Method::GET, "/api/v1/flows", with_new_key("/api/v1/flows"))
        .await
        .expect(200);
    let list = server.get("/api/v1/api-keys").await.expect(200);
    assert_eq!(list.json["total"], 2);
    assert!(!list.text.contains(&key));
    assert!(
        list.json["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("key").is_none())
    );

    // Revoked: 401 at once; revoking again keeps the first time.
    let revoked = server
        .delete(&format!("/api/v1/api-keys/{id}"))
        .await
        .expect(200);
    assert!(revoked.json["revoked_at"].is_string());
    server
        .send(Method::GET, "/api/v1/flows", with_new_key("/api/v1/flows"))
        .await
        .expect_error(401, "unauthorized");
    let again = server
        .delete(&format!("/api/v1/api-keys/{id}"))
        .await
        .expect(200);
    assert_eq!(again.json["revoked_at"], revoked.json["revoked_at"]);

    // Bad input.
    let before = server.counts().await;
    server
        .post(
            "/api/v1/api-keys",
            &json!({"name": "x", "rate_limit_per_minute": 0}),
        )
        .await
        .expect_error(422, "invalid_body");
    server
        .post("/api/v1/api-keys", &json!({"name": " "}))
        .await
        .expect_error(422, "invalid");
    server
        .delete("/api/v1/api-keys/00000000-0000-0000-0000-000000000000")
        .await
        .expect_error(404, "not_found");
    assert_eq!(server.counts().await, before);
}

async fn rate_limits_answer_429_with_retry_after(db: &TestDb) {
    let server = TestServer::start(db).await;
    let limited = server
        .store
        .create_api_key(WS, "slow", Some(3))
        .await
        .unwrap()
        .plain;
    let call = || {
        server
            .client
            .get(format!("{}/api/v1/flows", server.base))
            .bearer_auth(&limited)
    };
    for remaining in [2, 1, 0] {
        let reply = server
            .send(Method::GET, "/api/v1/flows", call())
            .await
            .expect(200);
        assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(
            reply.header("x-ratelimit-remaining"),
            Some(remaining.to_string().as_str())
        );
    }
    let reply = server
        .send(Method::GET, "/api/v1/flows", call())
        .await
        .expect_error(429, "rate_limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After: {retry}");
    // A limited write is refused before it is read: nothing is written.
    let before = server.counts().await;
    let reply = server
        .send(
            Method::POST,
            "/api/v1/flows",
            server
                .client
                .post(format!("{}/api/v1/flows", server.base))
                .bearer_auth(&limited)
                .header("content-type", "application/yaml")
                .body(crate::common::flow_yaml("limited", None, &[])),
        )
        .await;
    reply.expect_error(429, "rate_limited");
    assert_eq!(server.counts().await, before);
    // Other keys have their own buckets.
    server.get("/api/v1/flows").await.expect(200);
}
