//! The dashboard in real headless Chromium against `testmesh serve` (with its in-process worker):
//! log in with an API key, run a flow from its page, watch the run finish live, and read the failed
//! step's expected and actual values; then create a mock server, call it, turn the unmatched
//! request into an endpoint in one click and see the matched call in the live request log; then
//! import a pact through the contracts form (a malformed one first, refused with its JSON path),
//! open it and see its interactions and the download link; then see the failed run on the analytics
//! page and generate and download a report. Screenshots go to target/tmp/screenshots/.
//!
//! Needs Chromium (`/usr/bin/chromium`, or `TESTMESH_CHROMIUM`): scripts/test.sh installs it. Without
//! it the test fails under `CI` and is skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chromiumoxide::page::Page;
use testmesh_store::{DEFAULT_WORKSPACE_ID as WS, Store};
use testmesh_test::chromium::{self, Chromium};

const FLOW: &str = "name: Checkout totals\nsuite: shop\nsteps:\n  - id: wait\n    action: delay\n    config: {duration: 1500ms}\n  - id: total\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: [sum == 5]\n";

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

/// `testmesh serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(database_url: &str, report_dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_testmesh"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--database-url",
            database_url,
            "--report-dir",
            &report_dir.display().to_string(),
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "testmesh serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

async fn text_of(page: &Page, selector: &str) -> String {
    page.find_element(selector)
        .await
        .unwrap()
        .inner_text()
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits (up to 15 s) until the page's URL satisfies `done` and that page has loaded.
async fn url_when(page: &Page, what: &str, done: impl Fn(&str) -> bool) {
    let started = Instant::now();
    loop {
        let url = page.url().await.unwrap().unwrap_or_default();
        if done(&url) {
            return chromium::settled(page, what).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never got to {what}; at {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shot(page: &Page, name: &str) {
    chromium::screenshot(page, &screenshots(), name).await;
}

/// Waits (up to 15 s) until `selector` matches, and returns the text of the first match.
async fn text_when(page: &Page, selector: &str) -> String {
    text_until(page, selector, |_| true).await
}

/// Waits (up to 15 s) until the first match of `selector` has a text that satisfies `done`.
async fn text_until(page: &Page, selector: &str, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        if let Ok(element) = page.find_element(selector).await
            && let Some(text) = element.inner_text().await.ok().flatten()
            && done(&text)
        {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "nothing matched {selector} as expected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Create a mock from the dashboard, call it (unmatched), create the endpoint from that request in
/// one click, call it again (matched), and see both in the live log — without reloading the page.
async fn mock_scenario(page: &Page, base: &str) {
    chromium::goto(page, &format!("{base}/mock-servers")).await;
    shot(page, "05-mocks.png").await;
    let definition = "name: greeter\nendpoints:\n  - path: /health\n    response: {status: 204}\n";
    page.evaluate(format!(
        "document.getElementById('definition').value = {}",
        serde_json::to_string(definition).unwrap()
    ))
    .await
    .unwrap();
    page.find_element("#create-mock")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    url_when(page, "the mock's page", |u| {
        u.contains("/mock-servers/") && !u.ends_with("/mock-servers")
    })
    .await;
    assert_eq!(text_of(page, "#mock-status").await.trim(), "running");
    let mock_url = text_of(page, "#mock-url").await.trim().to_string();
    assert!(
        mock_url.starts_with(&format!("{base}/mocks/")),
        "{mock_url}"
    );

    // Unmatched: 404, and the log shows it with its button (the page refreshes it by itself).
    let client = reqwest::Client::new();
    let first = client
        .get(format!("{mock_url}/greet?who=ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 404);
    let entry = text_when(page, "details.request.failed").await;
    assert!(entry.contains("GET /greet"), "{entry}");
    shot(page, "06-mock-unmatched.png").await;
    page.find_element("details.request.failed summary")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.find_element("details.request.failed .create-endpoint")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Back on the mock's page, which lists the new endpoint.
    text_until(page, "#endpoints", |t| t.contains("/greet")).await;

    // Matched now, and the live log shows it.
    let second = client
        .get(format!("{mock_url}/greet"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.text().await.unwrap(), "{}");
    let matched = text_when(page, "details.request.passed").await;
    assert!(
        matched.contains("GET /greet") && matched.contains("200"),
        "{matched}"
    );
    shot(page, "07-mock-matched.png").await;
}

/// Import a pact through the dashboard's form (a malformed one is refused with its path), open it,
/// see its interactions unfold to their request and response, and the download link.
async fn contract_scenario(page: &Page, base: &str) {
    chromium::goto(page, &format!("{base}/contracts")).await;
    let mut pact = serde_json::json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": [{
            "type": "Synchronous/HTTP", "description": "get a user",
            "providerStates": [{"name": "user 1 exists"}],
            "request": {"method": "GET", "path": "/users/1"},
            "response": {"status": 200,
                "body": {"content": {"id": 1}, "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": {"$.id": {"combine": "AND", "matchers": [{"match": "integer"}]}}}}
        }],
        "metadata": {"pactSpecification": {"version": "4.0"}}
    });
    let submit = |text: String| async move {
        page.evaluate(format!(
            "document.getElementById('pact').value = {}; document.getElementById('import-version').value = '1.0.0'",
            serde_json::to_string(&text).unwrap()
        ))
        .await
        .unwrap();
        page.find_element("#import-pact")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    };
    pact["interactions"][0]["request"]["method"] = serde_json::json!(5);
    submit(pact.to_string()).await;
    let at = text_when(page, "#import-error-at").await;
    assert_eq!(at.trim(), "interactions[0].request.method");
    shot(page, "08-contract-import-error.png").await;

    pact["interactions"][0]["request"]["method"] = serde_json::json!("GET");
    submit(pact.to_string()).await;
    url_when(page, "the contract's page", |u| {
        u.contains("/contracts/") && !u.ends_with("/contracts")
    })
    .await;
    let summary = text_when(page, "#interactions details summary").await;
    assert!(
        summary.contains("GET") && summary.contains("/users/1"),
        "{summary}"
    );
    assert!(summary.contains("user 1 exists"), "{summary}");
    page.find_element("#interactions details summary")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let unfolded = text_when(page, "#interactions details pre").await;
    assert!(unfolded.contains("/users/1"), "{unfolded}");
    let response = text_of(page, "#interactions details section:nth-child(2) pre").await;
    assert!(
        response.contains("integer"),
        "matching rules shown: {response}"
    );
    let href = page
        .find_element("#download-pact")
        .await
        .unwrap()
        .attribute("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(href.ends_with("/pact"), "{href}");
    shot(page, "09-contract.png").await;
    // The link serves the V4 file to the signed-in browser.
    let file = page
        .evaluate(format!("fetch('{href}').then(r => r.text())"))
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert!(file.contains("\"Synchronous/HTTP\""), "{file}");
}

/// The analytics page shows the failed run with its cause; a report generated from the Reports
/// page completes (the page refreshes itself) and downloads.
async fn analytics_scenario(page: &Page, base: &str) {
    chromium::goto(page, &format!("{base}/analytics?days=7")).await;
    assert_eq!(text_when(page, "#metric-runs").await.trim(), "1");
    assert_eq!(text_of(page, "#metric-pass-rate").await.trim(), "0.0%");
    let causes = text_of(page, "#causes-summary").await;
    assert!(causes.contains("1 failure, 1 cause"), "{causes}");
    // The cause is the message with its values replaced, so runs that fail alike group together.
    let cause = text_of(page, "#failure-categories td.mono").await;
    assert!(cause.contains("sum == <n>"), "{cause}");
    assert!(page.find_element("#pass-rate-chart svg").await.is_ok());
    shot(page, "10-analytics.png").await;

    chromium::goto(page, &format!("{base}/reports")).await;
    page.evaluate("document.getElementById('report-name').value = 'Nightly'")
        .await
        .unwrap();
    page.find_element("#generate-report")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    let href = loop {
        if let Ok(link) = page.find_element("#reports td a").await
            && let Ok(Some(href)) = link.attribute("href").await
        {
            break href;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the report never completed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(href.ends_with("/download"), "{href}");
    assert_eq!(text_of(page, "#reports .badge").await.trim(), "completed");
    shot(page, "11-reports.png").await;
    let file = page
        .evaluate(format!("fetch('{href}').then(r => r.text())"))
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert!(
        file.contains("Checkout totals") && file.contains("sum == 5"),
        "{}",
        &file[..file.len().min(500)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_a_flow_from_the_dashboard_and_watch_it_fail_live() {
    let Some(executable) = chromium::executable() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("testmesh.db").display());
    let store = Store::open(&url).await.unwrap();
    let key = store
        .create_api_key(WS, "browser", None)
        .await
        .unwrap()
        .plain;
    let flow = store.create_flow(WS, FLOW, None).await.unwrap();
    store.close().await;
    let server = serve(&url, &dir.path().join("reports")).await;

    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::launch(executable, profile.path()).await;

    // Log in: the flow's page asks for a key first, then comes back.
    let page = chromium
        .open(&format!("{}/flows/{}", server.base, flow.flow.id))
        .await;
    assert!(
        page.url()
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("/login")
    );
    shot(&page, "01-login.png").await;
    page.find_element("input[name=key]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str(&key)
        .await
        .unwrap();
    page.find_element("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    url_when(&page, "the flow's page", |u| !u.contains("/login")).await;
    assert_eq!(text_of(&page, "h1").await.trim(), "Checkout totals");
    shot(&page, "02-flow.png").await;

    // Run it and watch the run page follow it to the end.
    page.find_element("form.run button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    url_when(&page, "the run's page", |u| u.contains("/executions/")).await;
    let first = text_of(&page, "#run-status").await;
    assert!(
        first == "queued" || first == "running",
        "a fresh run is queued or running, not {first}"
    );
    shot(&page, "03-run-live.png").await;
    let started = Instant::now();
    loop {
        // The page updates itself (and reloads once the run is over); no reload from here.
        if let Ok(status) = page.find_element("#run-status").await
            && status.inner_text().await.ok().flatten().as_deref() == Some("failed")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run page never showed the run as failed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // After the final reload the failed step is unfolded with expected vs actual.
    let started = Instant::now();
    let detail = loop {
        if let Ok(step) = page.find_element("details.step.failed[open]").await {
            break step.inner_text().await.unwrap().unwrap_or_default();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no failed step shown"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(detail.contains("sum == 5"), "{detail}");
    let cells: Vec<String> = futures::future::join_all(
        page.find_elements("details.step.failed tr.fail td")
            .await
            .unwrap()
            .iter()
            .map(|cell| async { cell.inner_text().await.ok().flatten().unwrap_or_default() }),
    )
    .await;
    assert!(cells[1].starts_with("sum == 5"), "{cells:?}");
    assert_eq!(cells[2..], ["5", "2"], "expected, then actual: {cells:?}");
    shot(&page, "04-failed-step.png").await;

    mock_scenario(&page, &server.base).await;
    contract_scenario(&page, &server.base).await;
    analytics_scenario(&page, &server.base).await;

    chromium.close().await;
}
