//! `http_request` and `wait_for` end to end: flows from YAML run by the real executor against
//! servers on 127.0.0.1 started by each test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use testmesh_runner::{ErrorKind, FlowStatus};

/// A flow named `t` whose steps (YAML list items, indented two spaces) use `BASE` for the target.
fn flow(base: &str, steps: &str) -> String {
    format!("name: t\nsteps:\n{}", steps.replace("BASE", base))
}

#[tokio::test]
async fn methods_are_sent_verbatim() {
    let (base, _) = start().await;
    let mut steps = String::new();
    for method in [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "get", "PURGE",
    ] {
        steps.push_str(&format!(
            "  - id: m_{method}\n    action: http_request\n    config: {{method: {method}, url: BASE/echo}}\n"
        ));
    }
    let record = run(&flow(&base, &steps)).await;
    for method in [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "PURGE",
    ] {
        let result = passed(&record, &format!("m_{method}"));
        assert_eq!(result["body"]["method"], method);
        assert_eq!(result["status"], 200);
    }
    let head = passed(&record, "m_HEAD");
    assert_eq!(head["status"], 200);
    assert_eq!(head["body"], "");
    assert_eq!(head["size"], 0);
}

#[tokio::test]
async fn the_http_alias_runs_http_request() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        "  - id: a\n    action: http\n    config: {method: GET, url: BASE/items}\n",
    ))
    .await;
    assert_eq!(passed(&record, "a")["body"]["items"][1]["id"], 2);
}

#[tokio::test]
async fn params_and_headers() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: a
    action: http_request
    config:
      method: GET
      url: BASE/echo?keep=1
      params: {q: "a b&c", n: 5, tags: [x, y]}
      headers: {X-Num: 42, X-Float: 1.5, X-Bool: true, X-Text: hi}
"#,
    ))
    .await;
    let result = passed(&record, "a");
    assert_eq!(
        result["body"]["query"],
        "keep=1&q=a+b%26c&n=5&tags=x&tags=y"
    );
    assert_eq!(echoed_header(result, "x-num"), Some("42"));
    assert_eq!(echoed_header(result, "x-float"), Some("1.5"));
    assert_eq!(echoed_header(result, "x-bool"), Some("true"));
    assert_eq!(echoed_header(result, "x-text"), Some("hi"));
    let request = step(&record, "a").request.as_ref().unwrap();
    assert_eq!(
        request["url"],
        format!("{base}/echo?keep=1&q=a+b%26c&n=5&tags=x&tags=y")
    );
    assert_eq!(request["method"], "GET");
    assert_eq!(request["headers"]["x-num"], "42");
    assert_eq!(request["body"], Value::Null);
}

#[tokio::test]
async fn bodies_json_string_and_form() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: mapping
    action: http_request
    config: {method: POST, url: BASE/echo, body: {name: a, n: 1}}
  - id: list
    action: http_request
    config: {method: POST, url: BASE/echo, body: [1, "two"]}
  - id: text
    action: http_request
    config: {method: POST, url: BASE/echo, body: "hello world"}
  - id: json_text
    action: http_request
    config: {method: POST, url: BASE/echo, body: '{"raw": true}'}
  - id: typed
    action: http_request
    config:
      method: POST
      url: BASE/echo
      headers: {Content-Type: application/vnd.t+json}
      body: {a: 1}
  - id: form
    action: http_request
    config: {method: POST, url: BASE/echo, form: {a: 1, b: "x y"}}
"#,
    ))
    .await;
    let mapping = passed(&record, "mapping");
    assert_eq!(mapping["body"]["body"], r#"{"name":"a","n":1}"#);
    assert_eq!(
        echoed_header(mapping, "content-type"),
        Some("application/json")
    );
    assert_eq!(
        step(&record, "mapping").request.as_ref().unwrap()["body"],
        json!({"name": "a", "n": 1})
    );
    assert_eq!(passed(&record, "list")["body"]["body"], r#"[1,"two"]"#);
    let text = passed(&record, "text");
    assert_eq!(text["body"]["body"], "hello world");
    assert_eq!(
        echoed_header(text, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    let json_text = passed(&record, "json_text");
    assert_eq!(json_text["body"]["body"], r#"{"raw": true}"#);
    assert_eq!(
        echoed_header(json_text, "content-type"),
        Some("application/json")
    );
    let typed = passed(&record, "typed");
    assert_eq!(
        echoed_header(typed, "content-type"),
        Some("application/vnd.t+json")
    );
    let form = passed(&record, "form");
    assert_eq!(form["body"]["body"], "a=1&b=x+y");
    assert_eq!(
        echoed_header(form, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn multipart_sends_text_and_files_relative_to_the_flow() {
    let (base, _) = start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/upload.txt"), "file contents here").unwrap();
    std::fs::write(dir.path().join("data/blob.bin"), [1u8, 2, 3]).unwrap();
    let yaml = flow(
        &base,
        r#"  - id: a
    action: http_request
    config:
      method: POST
      url: BASE/echo
      multipart:
        field: hello
        count: 3
        doc: {file: data/upload.txt}
        raw: {file: data/blob.bin, filename: custom.dat, content_type: application/x-custom}
"#,
    );
    let record = run_in(&runner(), &yaml, Some(dir.path())).await;
    let result = passed(&record, "a");
    let content_type = echoed_header(result, "content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let sent = result["body"]["body"].as_str().unwrap();
    for expected in [
        "name=\"field\"\r\n\r\nhello",
        "name=\"count\"\r\n\r\n3",
        "name=\"doc\"; filename=\"upload.txt\"\r\nContent-Type: text/plain\r\n\r\nfile contents here",
        "name=\"raw\"; filename=\"custom.dat\"\r\nContent-Type: application/x-custom",
    ] {
        assert!(sent.contains(expected), "missing {expected:?} in {sent}");
    }
    let request = step(&record, "a").request.as_ref().unwrap();
    assert_eq!(
        request["body"][0],
        json!({"name": "field", "value": "hello"})
    );
    assert_eq!(request["body"][2]["filename"], "upload.txt");
    assert_eq!(request["body"][3]["size"], 3);
}

#[tokio::test]
async fn only_one_kind_of_body_and_missing_files_are_config_errors() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: both
    action: http_request
    config: {method: POST, url: BASE/echo, form: {a: 1}, multipart: {b: 2}}
    on_error: continue
  - id: missing
    action: http_request
    config: {method: POST, url: BASE/echo, multipart: {f: {file: nope.txt}}}
"#,
    ))
    .await;
    let both = failed(&record, "both");
    assert_eq!(both.kind, ErrorKind::Config);
    assert!(both.message.contains("only one of"), "{}", both.message);
    let missing = failed(&record, "missing");
    assert_eq!(missing.kind, ErrorKind::Config);
    assert!(missing.message.contains("nope.txt"), "{}", missing.message);
}

#[tokio::test]
async fn basic_bearer_and_api_key_auth() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: basic
    action: http_request
    config: {method: GET, url: BASE/echo, auth: {type: basic, username: user, password: pass}}
  - id: bearer
    action: http_request
    config: {method: GET, url: BASE/echo, auth: {type: bearer, token: abc}}
  - id: key_default
    action: http_request
    config: {method: GET, url: BASE/echo, auth: {type: api_key, key: k1}}
  - id: key_named
    action: http_request
    config: {method: GET, url: BASE/echo, auth: {type: api_key, key: k2, name: X-Token}}
  - id: key_query
    action: http_request
    config: {method: GET, url: BASE/echo?a=1, auth: {type: api_key, key: k3, location: query, name: key}}
  - id: key_query_default
    action: http_request
    config: {method: GET, url: BASE/echo, auth: {type: api_key, key: k4, location: query}}
"#,
    ))
    .await;
    let basic = passed(&record, "basic");
    assert_eq!(
        echoed_header(basic, "authorization"),
        Some("Basic dXNlcjpwYXNz")
    );
    // The executor masks credentials in the records.
    assert_eq!(
        step(&record, "basic").request.as_ref().unwrap()["headers"]["authorization"],
        "****"
    );
    assert_eq!(
        echoed_header(passed(&record, "bearer"), "authorization"),
        Some("Bearer abc")
    );
    assert_eq!(
        echoed_header(passed(&record, "key_default"), "x-api-key"),
        Some("k1")
    );
    assert_eq!(
        echoed_header(passed(&record, "key_named"), "x-token"),
        Some("k2")
    );
    assert_eq!(passed(&record, "key_query")["body"]["query"], "a=1&key=k3");
    assert_eq!(
        passed(&record, "key_query_default")["body"]["query"],
        "api_key=k4"
    );
}

#[tokio::test]
async fn oauth2_token_is_fetched_once_across_steps_and_flows() {
    let (base, seen) = start().await;
    let yaml = flow(
        &base,
        r#"  - id: first
    action: http_request
    config:
      method: GET
      url: BASE/protected
      auth: {type: oauth2, token_url: BASE/oauth/token, client_id: app, client_secret: s3cret, scope: [read, write], audience: api}
    assert: [status == 200]
  - id: second
    action: http_request
    config:
      method: GET
      url: BASE/protected
      auth: {type: oauth2, token_url: BASE/oauth/token, client_id: app, client_secret: s3cret, scope: [read, write], audience: api}
    assert: [status == 200, body.access == 'granted']
"#,
    );
    let runner = runner();
    for _ in 0..2 {
        let record = run_in(&runner, &yaml, None).await;
        assert_eq!(record.status, FlowStatus::Passed, "{:?}", record.error);
    }
    assert_eq!(seen.hits("token"), 1);
    let forms = seen.token_forms.lock().unwrap();
    assert_eq!(
        forms[0],
        "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=read+write&audience=api"
    );
}

#[tokio::test]
async fn explicit_cookies_are_sent() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        "  - id: a\n    action: http_request\n    config: {method: GET, url: BASE/cookies, cookies: {a: 1, b: two}}\n",
    ))
    .await;
    assert_eq!(passed(&record, "a")["body"]["received"], "a=1; b=two");
}

#[tokio::test]
async fn the_cookie_jar_lives_for_one_flow_run() {
    let (base, _) = start().await;
    let runner = runner();
    // `/login` sets the cookie on a redirect hop; the jar sends it on the next hop already.
    let first = run_in(
        &runner,
        &flow(
            &base,
            r#"  - id: login
    action: http_request
    config: {method: GET, url: BASE/login}
  - id: later
    action: http_request
    config: {method: GET, url: BASE/cookies}
"#,
        ),
        None,
    )
    .await;
    assert_eq!(
        passed(&first, "login")["body"]["received"],
        "session=abc123"
    );
    assert_eq!(
        passed(&first, "later")["body"]["received"],
        "session=abc123"
    );
    let second = run_in(
        &runner,
        &flow(
            &base,
            "  - id: other\n    action: http_request\n    config: {method: GET, url: BASE/cookies}\n",
        ),
        None,
    )
    .await;
    assert_eq!(passed(&second, "other")["body"]["received"], "");
}

#[tokio::test]
async fn redirects_followed_not_followed_and_limited() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: follow
    action: http_request
    config: {method: GET, url: BASE/redirect/3}
  - id: stay
    action: http_request
    config: {method: GET, url: BASE/redirect/3, follow_redirects: false}
  - id: see_other
    action: http_request
    config: {method: POST, url: BASE/see-other, body: {a: 1}}
  - id: temporary
    action: http_request
    config: {method: POST, url: BASE/temporary, body: {a: 1}}
  - id: limited
    action: http_request
    config: {method: GET, url: BASE/redirect/3, max_redirects: 2}
"#,
    ))
    .await;
    let follow = passed(&record, "follow");
    assert_eq!(follow["status"], 200);
    assert_eq!(follow["body"]["done"], true);
    assert_eq!(follow["url"], format!("{base}/redirect/0"));
    let stay = passed(&record, "stay");
    assert_eq!(stay["status"], 302);
    assert_eq!(stay["headers"]["location"], "/redirect/2");
    assert_eq!(stay["url"], format!("{base}/redirect/3"));
    // 303 turns into a GET without a body; 307 repeats the POST with its body.
    let see_other = passed(&record, "see_other");
    assert_eq!(see_other["body"]["method"], "GET");
    assert_eq!(see_other["body"]["body"], "");
    let temporary = passed(&record, "temporary");
    assert_eq!(temporary["body"]["method"], "POST");
    assert_eq!(temporary["body"]["body"], r#"{"a":1}"#);
    let limited = failed(&record, "limited");
    assert_eq!(limited.kind, ErrorKind::Action);
    assert!(
        limited
            .message
            .starts_with("too many redirects: more than 2"),
        "{}",
        limited.message
    );
}

#[tokio::test]
async fn timeouts_from_the_config_and_the_step() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: config_timeout
    action: http_request
    config: {method: GET, url: BASE/slow, timeout: 200ms}
    on_error: continue
  - id: step_timeout
    action: http_request
    timeout: 200ms
    config: {method: GET, url: BASE/slow}
"#,
    ))
    .await;
    for id in ["config_timeout", "step_timeout"] {
        let error = failed(&record, id);
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert_eq!(error.message, "timed out after 200ms");
    }
    assert!(record.duration < Duration::from_secs(4));
}

#[tokio::test]
async fn connection_refused_and_unknown_hosts() {
    let port = closed_port();
    let record = run(&format!(
        r#"name: t
steps:
  - id: refused
    action: http_request
    config: {{method: GET, url: "http://127.0.0.1:{port}/x"}}
    on_error: continue
  - id: dns
    action: http_request
    timeout: 20s
    config: {{method: GET, url: "http://nope.invalid/"}}
"#
    ))
    .await;
    let refused = failed(&record, "refused");
    assert_eq!(refused.kind, ErrorKind::Connection);
    assert_eq!(
        refused.message,
        format!("connection refused: http://127.0.0.1:{port}/x")
    );
    let dns = failed(&record, "dns");
    assert_eq!(dns.kind, ErrorKind::Connection);
    assert!(
        dns.message
            .starts_with("cannot resolve host `nope.invalid`"),
        "{}",
        dns.message
    );
}

/// A self-signed server certificate for 127.0.0.1, as rustls wants it.
fn server_identity() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    (vec![certified.cert.der().clone()], key.into())
}

fn with_alpn(mut config: rustls::ServerConfig) -> rustls::ServerConfig {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_and_http2() {
    let (certs, key) = server_identity();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let addr = serve_tls(app(Arc::default()), with_alpn(config)).await;
    let record = run(&flow(
        &format!("https://{addr}"),
        r#"  - id: insecure
    action: http_request
    config: {method: GET, url: BASE/items, verify_ssl: false}
    assert: [status == 200, "body.items[0].id == 1"]
  - id: verified
    action: http_request
    config: {method: GET, url: BASE/items}
    on_error: continue
  - id: wait_insecure
    action: wait_for
    config: {type: http, url: BASE/items, verify_ssl: false, max_attempts: 1}
  - id: wait_verified
    action: wait_for
    config: {type: http, url: BASE/items, max_attempts: 1}
"#,
    ))
    .await;
    assert_eq!(passed(&record, "wait_insecure")["attempts"], 1);
    let refused = failed(&record, "wait_verified");
    assert!(refused.message.contains("TLS"), "{}", refused.message);
    let insecure = passed(&record, "insecure");
    assert_eq!(insecure["http_version"], "HTTP/2");
    let verified = failed(&record, "verified");
    assert_eq!(verified.kind, ErrorKind::Connection);
    assert!(
        verified.message.starts_with("TLS handshake failed: "),
        "{}",
        verified.message
    );
}

#[tokio::test]
async fn client_certificates_for_mutual_tls() {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["client".to_string()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &ca).unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let (certs, key) = server_identity();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let addr = serve_tls(app(Arc::default()), with_alpn(config)).await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/client.pem"), client_cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("tls/client.key"),
        client_key.serialize_pem(),
    )
    .unwrap();
    let yaml = flow(
        &format!("https://{addr}"),
        r#"  - id: with_cert
    action: http_request
    config: {method: GET, url: BASE/items, verify_ssl: false, client_cert: tls/client.pem, client_key: tls/client.key}
  - id: without_cert
    action: http_request
    config: {method: GET, url: BASE/items, verify_ssl: false}
"#,
    );
    let record = run_in(&runner(), &yaml, Some(dir.path())).await;
    assert_eq!(passed(&record, "with_cert")["body"]["items"][0]["id"], 1);
    let without_cert = failed(&record, "without_cert");
    assert_eq!(without_cert.kind, ErrorKind::Connection);
    assert!(
        without_cert.message.starts_with("TLS handshake failed: "),
        "{}",
        without_cert.message
    );
}

#[tokio::test]
async fn unusable_client_certificates_are_config_errors_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-cert.pem"), "hello\n").unwrap();
    std::fs::write(dir.path().join("not-a-key.pem"), "hello\n").unwrap();
    let yaml = flow(
        "https://127.0.0.1:9",
        r#"  - id: garbage
    action: http_request
    config: {method: GET, url: BASE/items, client_cert: not-a-cert.pem, client_key: not-a-key.pem}
    on_error: continue
  - id: missing
    action: http_request
    config: {method: GET, url: BASE/items, client_cert: nowhere.pem, client_key: not-a-key.pem}
"#,
    );
    let record = run_in(&runner(), &yaml, Some(dir.path())).await;
    let garbage = failed(&record, "garbage");
    assert_eq!(garbage.kind, ErrorKind::Config);
    assert!(
        garbage.message.contains("not-a-cert.pem")
            && garbage
                .message
                .contains("client_cert holds no PEM certificate"),
        "{}",
        garbage.message
    );
    let missing = failed(&record, "missing");
    assert_eq!(missing.kind, ErrorKind::Config);
    assert!(
        missing.message.contains("cannot read client_cert")
            && missing.message.contains("nowhere.pem"),
        "{}",
        missing.message
    );
}

#[tokio::test]
async fn connections_are_reused_across_steps_and_flows() {
    let (addr, connections) = serve_counting(app(Arc::default())).await;
    let yaml = flow(
        &format!("http://{addr}"),
        r#"  - id: a
    action: http_request
    config: {method: GET, url: BASE/items}
  - id: b
    action: http_request
    config: {method: GET, url: BASE/items}
"#,
    );
    let runner = runner();
    for _ in 0..2 {
        let record = run_in(&runner, &yaml, None).await;
        assert_eq!(record.status, FlowStatus::Passed, "{:?}", record.error);
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn large_binary_and_invalid_bodies() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: big
    action: http_request
    config: {method: GET, url: BASE/big}
    assert: [size == 52428800]
  - id: binary
    action: http_request
    config: {method: GET, url: BASE/binary}
  - id: huge
    action: http_request
    config: {method: GET, url: BASE/huge}
    on_error: continue
  - id: not_json
    action: http_request
    config: {method: GET, url: BASE/not-json}
    assert: ["body.items[0].id == 1"]
"#,
    ))
    .await;
    let big = passed(&record, "big");
    assert_eq!(big["body"].as_str().unwrap().len(), BIG_BYTES);
    let response = step(&record, "big").response.as_ref().unwrap();
    assert_eq!(response["truncated"], true);
    assert_eq!(response["body"].as_str().unwrap().len(), 64 * 1024);

    let binary = passed(&record, "binary");
    assert_eq!(binary["body"], "//4AAQ==");
    assert_eq!(binary["body_encoding"], "base64");
    assert_eq!(binary["size"], 4);

    let huge = failed(&record, "huge");
    assert_eq!(huge.kind, ErrorKind::Action);
    assert!(
        huge.message.contains("larger than 100 MiB"),
        "{}",
        huge.message
    );

    let not_json = failed(&record, "not_json");
    assert_eq!(not_json.kind, ErrorKind::Assertion);
    assert!(
        not_json.message.contains("body.items[0].id == 1"),
        "{}",
        not_json.message
    );
    assert_eq!(
        step(&record, "not_json").result.as_ref().unwrap()["body"],
        "{\"items\": [oops"
    );
}

#[tokio::test]
async fn result_records_and_response_assertions() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: items
    action: http_request
    config: {method: GET, url: BASE/items}
    assert:
      - status == 200
      - body.items[0].id == 1
      - response.headers["content-type"] contains "json"
      - response.time < 5000
  - id: missing
    action: http_request
    config: {method: GET, url: BASE/status/404}
    assert: [status == 404]
"#,
    ))
    .await;
    let result = passed(&record, "items");
    assert_eq!(result["status"], 200);
    assert_eq!(result["content_type"], "application/json");
    assert_eq!(result["headers"]["content-type"], "application/json");
    assert_eq!(result["url"], format!("{base}/items"));
    assert_eq!(result["http_version"], "HTTP/1.1");
    assert_eq!(result["size"], r#"{"items":[{"id":1},{"id":2}]}"#.len());
    assert!(result["duration_ms"].as_u64().unwrap() < 10_000);
    assert!(result.get("body_encoding").is_none());
    let items = step(&record, "items");
    assert_eq!(items.assertions.len(), 4);
    let response = items.response.as_ref().unwrap();
    assert_eq!(response["status"], 200);
    assert_eq!(response["body"], result["body"]);
    assert_eq!(response["headers"], result["headers"]);
    assert!(response.get("truncated").is_none());
    assert!(response["duration_ms"].is_u64());
    // An HTTP error status is a result, not a failure.
    assert_eq!(passed(&record, "missing")["status"], 404);
}

#[tokio::test]
async fn retry_on_server_errors_until_success() {
    let (base, seen) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: flaky
    action: http_request
    config: {method: GET, url: BASE/flaky}
    retry: {max_attempts: 5, delay: 10ms, retry_on: ["status >= 500"]}
    assert: [status == 200]
"#,
    ))
    .await;
    assert_eq!(passed(&record, "flaky")["body"]["ok"], true);
    let s = step(&record, "flaky");
    assert_eq!(s.attempts, 3);
    assert!(s.flaky);
    assert_eq!(seen.hits("flaky"), 3);
}

#[tokio::test]
async fn wait_for_http_until_ready() {
    let (base, seen) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: ready
    action: wait_for
    config:
      type: http
      url: BASE/ready?after=2
      interval: 20ms
      timeout: 10s
      body_contains: ready
      json_path: data.items.0.state
      json_value: up
  - id: number_as_text
    action: wait_for
    config: {type: http, url: BASE/ready, json_path: data.items.0.count, json_value: "3"}
"#,
    ))
    .await;
    let ready = passed(&record, "ready");
    assert_eq!(ready["success"], true);
    assert_eq!(ready["attempts"], 3);
    assert_eq!(ready["last_result"]["status"], 200);
    assert!(ready["duration_ms"].is_u64());
    assert_eq!(passed(&record, "number_as_text")["attempts"], 1);
    assert_eq!(seen.hits("ready"), 4);
}

#[tokio::test]
async fn wait_for_http_gives_up_with_the_last_reason() {
    let (base, _) = start().await;
    let record = run(&flow(
        &base,
        r#"  - id: status
    action: wait_for
    config: {type: http, url: BASE/status/503, interval: 10ms, max_attempts: 3}
    on_error: continue
  - id: value
    action: wait_for
    config: {type: http, url: BASE/ready, interval: 10ms, max_attempts: 2, json_path: data.items.0.state, json_value: down}
    on_error: continue
  - id: contains
    action: wait_for
    config: {type: http, url: BASE/items, interval: 10ms, timeout: 50ms, body_contains: nowhere}
"#,
    ))
    .await;
    let status = failed(&record, "status");
    assert_eq!(status.kind, ErrorKind::Timeout);
    assert_eq!(
        status.message,
        "wait_for failed after 3 attempts: status 503, expected 200"
    );
    assert_eq!(
        failed(&record, "value").message,
        "wait_for failed after 2 attempts: `data.items.0.state` is `up`, expected `down`"
    );
    let contains = failed(&record, "contains");
    assert!(
        contains
            .message
            .ends_with("attempts: the body does not contain `nowhere`"),
        "{}",
        contains.message
    );
}

#[tokio::test]
async fn wait_for_tcp() {
    let (base, _) = start().await;
    let port = base.rsplit(':').next().unwrap();
    let closed = closed_port();
    let record = run(&format!(
        r#"name: t
steps:
  - id: open
    action: wait_for
    config: {{type: tcp, host: 127.0.0.1, port: {port}}}
  - id: closed
    action: wait_for
    config: {{type: tcp, host: 127.0.0.1, port: {closed}, interval: 10ms, max_attempts: 2}}
"#
    ))
    .await;
    let open = passed(&record, "open");
    assert_eq!(open["attempts"], 1);
    assert_eq!(open["last_result"]["connected"], true);
    let closed_error = failed(&record, "closed");
    assert_eq!(closed_error.kind, ErrorKind::Timeout);
    assert!(
        closed_error.message.starts_with(&format!(
            "wait_for failed after 2 attempts: cannot connect to 127.0.0.1:{closed}"
        )),
        "{}",
        closed_error.message
    );
}
