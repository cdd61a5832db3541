//! `testmesh apikey` and `testmesh serve` as users run them: a key made on the command line works
//! against the server started as a process, and SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command as TestCommand;
use predicates::prelude::*;
use predicates::str::contains;

fn testmesh(db: &str) -> TestCommand {
    let mut cmd = TestCommand::new(env!("CARGO_BIN_EXE_testmesh"));
    cmd.env("NO_COLOR", "1").env("TESTMESH_DATABASE_URL", db);
    cmd
}

/// One HTTP/1.1 request over a plain socket; returns the status code and the body.
fn http(addr: &str, method: &str, path: &str, key: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Stops the server when a test fails half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_key_from_the_cli_works_against_the_served_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("api.db").display());

    // The key alone on stdout; the explanation on stderr.
    let out = testmesh(&db)
        .args(["apikey", "create", "ci", "--rate-limit", "100"])
        .assert()
        .code(0)
        .stderr(contains("shown only this once"))
        .get_output()
        .stdout
        .clone();
    let key = String::from_utf8(out).unwrap().trim().to_string();
    assert!(key.starts_with("tm_") && key.len() > 70, "{key}");
    let prefix = &key[3..11];
    testmesh(&db)
        .args(["apikey", "list"])
        .assert()
        .code(0)
        .stdout(
            contains(prefix)
                .and(contains("100/min"))
                .and(contains("active")),
        )
        .stdout(contains(&key[12..]).not());
    testmesh(&db)
        .args(["apikey", "create", " "])
        .assert()
        .code(2);

    let mut child = Command::new(env!("CARGO_BIN_EXE_testmesh"))
        .args(["serve", "--port", "0", "--database-url", &db])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no URL in `{first}`"))
        .to_string();

    let (status, body) = http(&addr, "GET", "/health", None);
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"ok","database":"connected"}"#)
    );
    let (status, _) = http(&addr, "GET", "/api/v1/flows", None);
    assert_eq!(status, 401);
    let (status, body) = http(&addr, "GET", "/api/v1/flows", Some(&key));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""total":0"#), "{body}");

    // Revoked on the command line: refused by the running server at once.
    testmesh(&db)
        .args(["apikey", "revoke", prefix])
        .assert()
        .code(0)
        .stdout(contains("Revoked API key `ci`"));
    let (status, _) = http(&addr, "GET", "/api/v1/flows", Some(&key));
    assert_eq!(status, 401);
    testmesh(&db)
        .args(["apikey", "revoke", "nope"])
        .assert()
        .code(2)
        .stderr(contains("no API key has the id or prefix `nope`"));

    // SIGTERM: a graceful stop with exit code 0.
    let mut child = server;
    let pid = child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "Stopped."), "{rest:?}");
}

#[test]
fn serve_refuses_a_busy_port_and_a_bad_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("api.db").display());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    testmesh(&db)
        .args(["serve", "--port", &port])
        .assert()
        .code(2)
        .stderr(contains("cannot listen on 127.0.0.1:"));
    testmesh(&db)
        .args(["serve", "--port", "0", "--database-url", "mysql://nope"])
        .assert()
        .code(2)
        .stderr(contains("cannot open"));
}
