//! Headless Chromium for the dashboard and report tests, with every wait bounded.
//!
//! chromiumoxide's own waits can hang for ever when a page reloads itself while a navigation is
//! being tracked (its `wait_for_navigation` keeps a waiter for lifecycle events that may never
//! come). A hung test would hold CI until its deadline, so the tests never use it: [`settled`] polls
//! `document.readyState`, and [`within`] turns any other wait into a failure that names the step.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::{Page, ScreenshotParams};
use futures::StreamExt;

/// How long one browser call may take before the test fails.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The Chromium binary (`TESTMESH_CHROMIUM`, else `/usr/bin/chromium`). Missing, it fails the test
/// under `CI` and skips it (returns `None`) otherwise.
pub fn executable() -> Option<PathBuf> {
    let path = std::env::var_os("TESTMESH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Chromium is required under CI: {} is missing (scripts/test.sh installs it)",
        path.display()
    );
    eprintln!("skipping: no Chromium at {}", path.display());
    None
}

/// A running headless Chromium and the task that drives its protocol connection.
pub struct Chromium {
    browser: Browser,
    events: tokio::task::JoinHandle<()>,
}

impl Chromium {
    /// Starts `executable` with a fresh profile in `profile` and a 1366 × 900 window (the
    /// viewport follows the window, so screenshots are at desktop width).
    pub async fn launch(executable: PathBuf, profile: &Path) -> Chromium {
        let config = BrowserConfig::builder()
            .chrome_executable(executable)
            .no_sandbox()
            .user_data_dir(profile)
            .window_size(1366, 900)
            .viewport(None)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .build()
            .unwrap();
        let (browser, mut handler) = within("launching Chromium", Browser::launch(config))
            .await
            .unwrap();
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium { browser, events }
    }

    /// A new page at `url`, once it has loaded.
    pub async fn open(&self, url: &str) -> Page {
        let page = within(&format!("opening {url}"), self.browser.new_page(url))
            .await
            .unwrap();
        settled(&page, url).await;
        page
    }

    /// Closes the browser and waits for its process (bounded, and never failing the test).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(STEP_TIMEOUT, async {
            let _ = self.browser.close().await;
            let _ = self.browser.wait().await;
        })
        .await;
        self.events.abort();
    }
}

/// Awaits `step`, failing the test with `what` when it takes longer than [`STEP_TIMEOUT`].
pub async fn within<T>(what: &str, step: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, step).await {
        Ok(value) => value,
        Err(_) => panic!("the browser did not finish {what} within {STEP_TIMEOUT:?}"),
    }
}

/// Waits until `page` has finished loading its document (`document.readyState` is `complete`).
pub async fn settled(page: &Page, what: &str) {
    let started = Instant::now();
    loop {
        let state =
            tokio::time::timeout(Duration::from_secs(2), page.evaluate("document.readyState"))
                .await;
        if let Ok(Ok(state)) = state
            && state.into_value::<String>().ok().as_deref() == Some("complete")
        {
            return;
        }
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "{what} did not finish loading within {STEP_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Navigates `page` to `url` and waits until the new document has loaded.
pub async fn goto(page: &Page, url: &str) {
    within(&format!("navigating to {url}"), page.goto(url))
        .await
        .unwrap();
    settled(page, url).await;
}

/// Saves a full-page screenshot of `page` as `dir/name` (bounded like every other step).
pub async fn screenshot(page: &Page, dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    within(
        &format!("the screenshot {name}"),
        page.save_screenshot(
            ScreenshotParams::builder().full_page(true).build(),
            dir.join(name),
        ),
    )
    .await
    .unwrap();
}
