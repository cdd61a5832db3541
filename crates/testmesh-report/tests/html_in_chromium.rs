//! The HTML report in real headless Chromium, opened from a file: no console errors or uncaught
//! exceptions, no network request other than the file itself, the key texts visible, the page no
//! wider than the window, and table sorting working. Full-page screenshots go to
//! `$CARGO_TARGET_TMPDIR/screenshots/` (test artifacts, not the repository).
//!
//! Needs Chromium (`/usr/bin/chromium`, or `TESTMESH_CHROMIUM`): scripts/test.sh installs it.
//! Without it the test fails under `CI` and is skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "fixtures/sample.rs"]
mod sample;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::EventRequestWillBeSent;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::Page;
use futures::StreamExt;
use testmesh_report::html;
use testmesh_test::chromium::{self, Chromium};

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

/// What the page did while loading: console errors, exceptions, and the URLs it requested.
#[derive(Default)]
struct Observed {
    problems: Vec<String>,
    requests: Vec<String>,
}

/// Records console errors, uncaught exceptions, error log entries (failed loads, CSP violations)
/// and every request of `page` into `observed`, from now on.
async fn observe(page: &Page, observed: &Arc<Mutex<Observed>>) {
    page.enable_runtime().await.unwrap();
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .unwrap();
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
    let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
    let mut requests = page
        .event_listener::<EventRequestWillBeSent>()
        .await
        .unwrap();
    let o = observed.clone();
    tokio::spawn(async move {
        while let Some(event) = console.next().await {
            if matches!(
                event.r#type,
                ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
            ) {
                let args: Vec<String> = event
                    .args
                    .iter()
                    .map(|a| format!("{:?}", a.value))
                    .collect();
                o.lock()
                    .unwrap()
                    .problems
                    .push(format!("console: {args:?}"));
            }
        }
    });
    let o = observed.clone();
    tokio::spawn(async move {
        while let Some(event) = exceptions.next().await {
            o.lock()
                .unwrap()
                .problems
                .push(format!("exception: {:?}", event.exception_details.text));
        }
    });
    let o = observed.clone();
    tokio::spawn(async move {
        while let Some(event) = log.next().await {
            if event.entry.level == LogEntryLevel::Error {
                o.lock()
                    .unwrap()
                    .problems
                    .push(format!("log: {}", event.entry.text));
            }
        }
    });
    let o = observed.clone();
    tokio::spawn(async move {
        while let Some(event) = requests.next().await {
            o.lock().unwrap().requests.push(event.request.url.clone());
        }
    });
}

/// Opens `file` in a fresh page, waits for it to settle, and returns the page with what it did.
async fn open(chromium: &Chromium, file: &Path) -> (Page, String, Arc<Mutex<Observed>>) {
    let page = chromium.open("about:blank").await;
    let observed = Arc::new(Mutex::new(Observed::default()));
    observe(&page, &observed).await;
    let url = format!("file://{}", file.display());
    chromium::goto(&page, &url).await;
    // Let late events (a failed load, a script error on a timer) arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    (page, url, observed)
}

/// The key texts of `expected` that are not rendered visibly (`innerText` leaves out hidden
/// elements and closed `<details>`).
async fn invisible(page: &Page, expected: &[&str]) -> Vec<String> {
    let texts = serde_json::to_string(expected).unwrap();
    page.evaluate(format!(
        "(() => {{ const seen = document.body.innerText; \
         return {texts}.filter(t => !seen.includes(t)); }})()"
    ))
    .await
    .unwrap()
    .into_value::<Vec<String>>()
    .unwrap()
}

fn assert_clean(observed: &Arc<Mutex<Observed>>, url: &str) {
    let observed = observed.lock().unwrap();
    assert!(
        observed.problems.is_empty(),
        "console errors: {:?}",
        observed.problems
    );
    assert!(
        observed.requests.iter().all(|r| r == url),
        "requests other than the file: {:?}",
        observed.requests
    );
    assert!(
        observed.requests.iter().any(|r| r == url),
        "the file's own request was not seen, so the listener did not work: {:?}",
        observed.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_opens_cleanly_in_chromium() {
    let Some(executable) = chromium::executable() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    std::fs::write(&report, html::render(&sample::sample())).unwrap();
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, html::render(&sample::empty())).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::launch(executable, profile.path()).await;

    // The listeners see what they must: a console error, an exception and a request elsewhere.
    let probe = dir.path().join("probe.html");
    std::fs::write(
        &probe,
        "<!DOCTYPE html><title>probe</title><img src=\"http://127.0.0.1:9/x.png\">\
         <script>console.error('probe error'); null.x;</script>",
    )
    .unwrap();
    let (_, _, seen) = open(&chromium, &probe).await;
    {
        let seen = seen.lock().unwrap();
        assert!(
            seen.problems.iter().any(|p| p.contains("probe error"))
                && seen.problems.iter().any(|p| p.starts_with("exception")),
            "{:?}",
            seen.problems
        );
        assert!(
            seen.requests
                .iter()
                .any(|r| r.starts_with("http://127.0.0.1:9/")),
            "{:?}",
            seen.requests
        );
    }

    let (page, url, observed) = open(&chromium, &report).await;
    let missing = invisible(
        &page,
        &[
            "Nightly <b>regression</b> & smoke",
            "Pass-rate trend",
            "Duration percentiles trend",
            "Flakiest flows",
            "80 failures, 3 causes",
            "Slowest steps",
            "p95 duration",
            sample::XSS_FLOW,
            "Login & \"session\" refresh",
            "expected status 201, got 503 </pre><b>bold</b>",
            "body.token != null",
        ],
    )
    .await;
    assert!(missing.is_empty(), "not visible: {missing:?}");
    // Request and response bodies are collapsed until asked for.
    assert_eq!(
        invisible(&page, &["refresh_token"]).await,
        ["refresh_token"],
        "the request body should be collapsed"
    );
    // The sample's flow name did not run as a script, and the charts were drawn.
    let state = page
        .evaluate(
            "({ alerts: typeof window.alert, charts: document.querySelectorAll('svg.chart path').length, \
              wide: document.documentElement.scrollWidth > window.innerWidth })",
        )
        .await
        .unwrap()
        .into_value::<serde_json::Value>()
        .unwrap();
    assert_eq!(state["charts"], 4, "{state}");
    assert_eq!(state["wide"], false, "the page scrolls sideways: {state}");
    shot(&page, "report.png").await;

    // At phone width the page reflows instead of scrolling sideways (wide tables scroll inside
    // their own box).
    page.execute(SetDeviceMetricsOverrideParams::new(390, 844, 2.0, true))
        .await
        .unwrap();
    let wide = page
        .evaluate("document.documentElement.scrollWidth > window.innerWidth")
        .await
        .unwrap()
        .into_value::<bool>()
        .unwrap();
    assert!(!wide, "the page scrolls sideways at phone width");
    shot(&page, "report-phone.png").await;
    page.execute(SetDeviceMetricsOverrideParams::new(1366, 900, 1.0, false))
        .await
        .unwrap();

    // Sorting: clicking "Runs" in the flows table orders the rows by executions, ascending
    // first, descending on the second click.
    let click_runs = "(() => { const table = document.querySelector('#flows table'); \
         [...table.tHead.rows[0].cells].find(c => c.textContent === 'Runs').click(); \
         return [...table.tBodies[0].rows].map(r => r.cells[0].textContent); })()";
    let ascending = page
        .evaluate(click_runs)
        .await
        .unwrap()
        .into_value::<Vec<String>>()
        .unwrap();
    assert_eq!(
        ascending.first().map(String::as_str),
        Some("Nightly reindex")
    );
    assert_eq!(
        ascending.last().map(String::as_str),
        Some("Checkout totals")
    );
    let descending = page
        .evaluate(click_runs)
        .await
        .unwrap()
        .into_value::<Vec<String>>()
        .unwrap();
    assert_eq!(
        descending.first().map(String::as_str),
        Some("Checkout totals")
    );
    assert_eq!(
        descending.last().map(String::as_str),
        Some("Nightly reindex")
    );
    assert_clean(&observed, &url);

    // A period without executions.
    let (page, url, observed) = open(&chromium, &empty).await;
    assert!(
        invisible(&page, &["No executions in this period"])
            .await
            .is_empty()
    );
    shot(&page, "report-empty.png").await;
    assert_clean(&observed, &url);

    chromium.close().await;
}

async fn shot(page: &Page, name: &str) {
    chromium::screenshot(page, &screenshots(), name).await;
    eprintln!("screenshot: {}", screenshots().join(name).display());
}
