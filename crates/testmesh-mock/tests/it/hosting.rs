use std::sync::Arc;

use serde_json::json;
use testmesh_mock::{HubConfig, HubError, MockDefinition, MockHub, load};

use crate::common::*;

fn free_range(len: u16) -> std::ops::RangeInclusive<u16> {
    // Find `len` consecutive free ports above the ephemeral range's usual start.
    'outer: for start in (20_000u16..40_000).step_by(97) {
        for p in start..start + len {
            if std::net::TcpListener::bind(("127.0.0.1", p)).is_err() {
                continue 'outer;
            }
        }
        return start..=start + len - 1;
    }
    panic!("no free port range")
}

fn named(name: &str, port: Option<u16>) -> MockDefinition {
    let mut def = load::mock_from_json(&json!({
        "name": name,
        "endpoints": [{"path": "/who", "response": {"body": {"name": name}}}]
    }))
    .unwrap();
    def.port = port;
    def
}

#[tokio::test]
async fn port_pool_hands_out_ports_and_reports_exhaustion() {
    let range = free_range(2);
    let hub = MockHub::new(HubConfig {
        ports: Some(range.clone()),
        ..HubConfig::default()
    });
    let a = hub.start(named("a", Some(0))).await.unwrap();
    let b = hub.start(named("b", None)).await.unwrap();
    assert!(range.contains(&a.port().unwrap()));
    assert!(range.contains(&b.port().unwrap()));
    assert_ne!(a.port(), b.port());
    assert_eq!(get(&a, "/who").await.1, json!({"name": "a"}));
    assert_eq!(get(&b, "/who").await.1, json!({"name": "b"}));
    let err = hub.start(named("c", Some(0))).await.unwrap_err();
    assert!(matches!(err, HubError::PortsExhausted { .. }));
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}-{}", range.start(), range.end())),
        "{message}"
    );
    // Stopping frees the port for the next mock.
    let freed = a.port().unwrap();
    hub.stop(a.id()).await.unwrap();
    assert!(client().get(url(&a, "/who")).send().await.is_err());
    let c = hub.start(named("c", Some(0))).await.unwrap();
    assert_eq!(c.port(), Some(freed));
    assert_eq!(get(&c, "/who").await.1, json!({"name": "c"}));
    assert_eq!(hub.list().len(), 2);
    hub.stop_all().await;
    assert!(hub.list().is_empty());
}

#[tokio::test]
async fn restart_with_the_same_id_and_double_start_is_refused() {
    let hub = MockHub::new(HubConfig::default());
    let id = uuid::Uuid::new_v4();
    let mut def = named("same", None);
    def.id = Some(id);
    let mock = hub.start(def.clone()).await.unwrap();
    assert_eq!(mock.id(), id);
    assert!(matches!(
        hub.start(def.clone()).await,
        Err(HubError::AlreadyRunning(_))
    ));
    hub.stop(id).await.unwrap();
    assert!(matches!(hub.stop(id).await, Err(HubError::NotRunning(_))));
    let again = hub.start(def).await.unwrap();
    assert_eq!(again.id(), id);
    assert!(Arc::ptr_eq(&hub.get(id).unwrap(), &again));
    assert_eq!(hub.find_by_name("same").unwrap().id(), id);
}

#[tokio::test]
async fn mounted_mocks_have_no_listener_and_serve_http_requests() {
    let hub = MockHub::new(HubConfig {
        mount: Some("http://localhost:5016/mocks/".into()),
        ..HubConfig::default()
    });
    let mock = hub.start(named("mounted", None)).await.unwrap();
    assert_eq!(
        mock.base_url().unwrap(),
        format!("http://localhost:5016/mocks/{}", mock.id())
    );
    assert_eq!(mock.port(), None);
    // What a shared server does for `ANY /mocks/{id}/{*path}`.
    let prefix = format!("/mocks/{}", mock.id());
    let request = http::Request::get(format!("{prefix}/who?x=1"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let response = mock.serve_http(request, &prefix, None).await;
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        json!({"name": "mounted"})
    );
    assert_eq!(mock.journal()[0].path, "/who");
    assert_eq!(
        mock.journal()[0].query,
        vec![("x".to_string(), "1".to_string())]
    );
    // A mock with an explicit port still gets its own listener.
    let own = hub.start(named("own", Some(0))).await.unwrap();
    assert!(own.port().is_some());
    assert_eq!(get(&own, "/who").await.1, json!({"name": "own"}));
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_and_http2() {
    let mut def = named("secure", None);
    def.tls = Some(testmesh_mock::TlsDef::SelfSigned);
    let hub = MockHub::new(HubConfig::default());
    let mock = hub.start(def).await.unwrap();
    assert!(mock.base_url().unwrap().starts_with("https://127.0.0.1:"));
    let cert = reqwest::Certificate::from_pem(mock.certificate_pem().unwrap().as_bytes()).unwrap();
    let c = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([cert])
        .build()
        .unwrap();
    let r = c.get(url(&mock, "/who")).send().await.unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({"name": "secure"})
    );
    // Plain HTTP/1.1 keep-alive and h2c prior knowledge on a plain listener.
    let (_hub, plain) =
        start("name: plain\nendpoints:\n  - {path: /x, response: {body_text: x}}\n").await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2.get(url(&plain, "/x")).send().await.unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    let c = client();
    for _ in 0..3 {
        assert_eq!(
            c.get(url(&plain, "/x"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "x"
        );
    }
}
