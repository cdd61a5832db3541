use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn delays_wait_at_least_their_time() {
    let (_hub, mock) = start(
        r#"
name: delays
endpoints:
  - {path: /fixed, response: {delay: 150ms, body_text: slow}}
  - {path: /range, response: {delay: {min: 50ms, max: 80ms}, body_text: ranged}}
  - {path: /fast, response: {body_text: fast}}
"#,
    )
    .await;
    let started = Instant::now();
    assert_eq!(get(&mock, "/fixed").await.1, json!("slow"));
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(get(&mock, "/range").await.1, json!("ranged"));
    assert!(started.elapsed() >= Duration::from_millis(50));
    // A slow endpoint does not hold up others: the fast answer arrives first.
    let slow = tokio::spawn({
        let url = url(&mock, "/fixed");
        async move {
            client().get(url).send().await.unwrap();
            Instant::now()
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    get(&mock, "/fast").await;
    let fast_done = Instant::now();
    assert!(fast_done < slow.await.unwrap());
}

#[tokio::test]
async fn hang_and_close_connection() {
    let (_hub, mock) = start(
        r#"
name: faults
endpoints:
  - {path: /hang, response: {hang: true}}
  - {path: /close, response: {close_connection: true}}
  - {path: /ok, response: {body_text: ok}}
"#,
    )
    .await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = c.get(url(&mock, "/hang")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let err = c.get(url(&mock, "/close")).send().await.unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(get(&mock, "/ok").await.1, json!("ok"));
    let journal = mock.journal();
    assert_eq!(journal[0].fault, Some("hang"));
    assert_eq!(journal[1].fault, Some("close_connection"));
    assert_eq!(journal[1].status, None);
}

#[tokio::test]
async fn chaos_with_probability_one_and_zero() {
    let (_hub, always) = start(
        r#"
name: chaos
chaos_rules:
  - probability: 1
    response: {status: 503, body: {error: chaos}}
endpoints:
  - {path: /x, response: {body_text: fine}}
"#,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(get(&always, "/x").await, (503, json!({"error": "chaos"})));
    }
    assert_eq!(always.journal()[0].outcome, "chaos");
    let (_hub2, never) = start(
        r#"
name: calm
chaos_rules:
  - probability: 0
    response: {close_connection: true}
endpoints:
  - {path: /x, response: {body_text: fine}}
"#,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(get(&never, "/x").await, (200, json!("fine")));
    }
}

#[tokio::test]
async fn huge_bodies_get_413_and_the_mock_keeps_serving() {
    let (_hub, mock) = start(
        r#"
name: small
max_body_bytes: 1024
endpoints:
  - {path: /upload, method: POST, response: {body_text: stored}}
"#,
    )
    .await;
    let c = client();
    let (s, b) = send(c.post(url(&mock, "/upload")).body(vec![b'x'; 10_000])).await;
    assert_eq!(s, 413);
    assert!(b["error"].as_str().unwrap().contains("1024"));
    // Chunked (no content-length): refused while reading.
    let port = mock.port().unwrap();
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(b"POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    for _ in 0..4 {
        let _ = tcp.write_all(b"200\r\n").await;
        let _ = tcp.write_all(&[b'y'; 512]).await;
        let _ = tcp.write_all(b"\r\n").await;
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 64];
    let n = tcp.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));
    assert_eq!(
        send(c.post(url(&mock, "/upload")).body("small")).await,
        (200, json!("stored"))
    );
    assert_eq!(mock.journal()[0].outcome, "too_large");
}
