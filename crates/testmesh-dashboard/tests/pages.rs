//! The dashboard over real HTTP on loopback with a real SQLite store: login and sessions, every
//! page, runs with failed assertions, the run button, the live event stream, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests may panic

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use testmesh_dashboard::{DashboardState, router};
use testmesh_runner::executor::{FlowLibrary, RunOptions, Runner};
use testmesh_runner::{NoEvents, Secrets, actions};
use testmesh_store::{DEFAULT_WORKSPACE_ID as WS, RunContext, Store, Trigger};

const FLOW: &str = "name: Totals\nsuite: math\ntags: [smoke]\nsteps:\n  - id: calc\n    action: transform\n    config: {input: {a: 2}, transforms: {sum: $.a}}\n    assert: [sum == 5]\n  - {id: after, action: log, config: {message: never}}\n";

struct Site {
    base: String,
    store: Store,
    client: reqwest::Client,
    key: String,
    _dir: tempfile::TempDir,
}

impl Site {
    async fn start() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let key = store.create_api_key(WS, "ci", None).await.unwrap().plain;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = router(
            DashboardState::new(store.clone(), tokio_util::sync::CancellationToken::new())
                .with_reports(testmesh_report::stored::ReportConfig::new(
                    dir.path().join("reports"),
                )),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Site {
            base,
            store,
            client,
            key,
            _dir: dir,
        }
    }

    /// Logs in and returns the session cookie.
    async fn login(&self) -> String {
        let response = self
            .client
            .post(format!("{}/login", self.base))
            .form(&[("key", self.key.as_str()), ("next", "/flows")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[LOCATION], "/flows");
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_string()
    }

    async fn get(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Runs the flow for real and records the run; returns (flow id, execution id).
    async fn record_failed_run(&self) -> (String, String) {
        let (flow_id, version) = self
            .store
            .upsert_flow_by_name(WS, FLOW, Some("flows/totals.yaml"))
            .await
            .unwrap();
        let flow = testmesh_flow::load_str(FLOW).flow.unwrap();
        let runner = Runner::new(
            actions::builtin(),
            Arc::new(NoEvents),
            Secrets::default(),
            FlowLibrary::default(),
        );
        let record = runner.run(&flow, None, &RunOptions::default()).await;
        let context = RunContext::for_flow(WS, &flow_id, Some(version), Trigger::Cli);
        let id = self.store.record_run(&record, &context).await.unwrap();
        (flow_id, id)
    }
}

#[tokio::test]
async fn pages_need_a_session_and_login_checks_the_key() {
    let site = Site::start().await;
    let response = site
        .client
        .get(format!("{}/flows?x=1", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/login?next=/flows%3Fx%3D1");

    let (status, page) = site.get("", "/login?next=/flows").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Log in with an API key"));

    let wrong = site
        .client
        .post(format!("{}/login", site.base))
        .form(&[("key", "tm_nope_123"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("not valid"));

    // An open redirect is refused: only local paths are followed.
    let outside = site
        .client
        .post(format!("{}/login", site.base))
        .form(&[("key", site.key.as_str()), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(outside.headers()[LOCATION], "/");

    let cookie = site.login().await;
    let (status, page) = site.get(&cookie, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Overview") && page.contains(">ci<"), "{page}");

    // A forged session is no session.
    let (status, _) = site.get("tm_session=forged", "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Revoking the key ends its sessions.
    let key = site.store.list_api_keys(WS).await.unwrap().remove(0);
    site.store.revoke_api_key(WS, &key.id).await.unwrap();
    let (status, _) = site.get(&cookie, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn runs_flows_and_failed_steps_are_shown() {
    let site = Site::start().await;
    let cookie = site.login().await;
    let (flow_id, run_id) = site.record_failed_run().await;

    let (_, overview) = site.get(&cookie, "/").await;
    assert!(overview.contains("Failing flows") && overview.contains("Totals"));
    assert!(overview.contains("0.0%"), "pass rate of one failed run");

    let (_, flows) = site.get(&cookie, "/flows").await;
    assert!(flows.contains(&format!("/flows/{flow_id}")) && flows.contains("flows/totals.yaml"));
    assert!(flows.contains("badge failed"));

    let (_, flow) = site.get(&cookie, &format!("/flows/{flow_id}")).await;
    assert!(flow.contains("Valid: no errors or warnings"));
    assert!(flow.contains("sum == 5"), "the YAML is shown");
    assert!(flow.contains("Run flow"));

    let (status, run) = site.get(&cookie, &format!("/executions/{run_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(run.contains("badge failed"));
    // The failed step is unfolded, with its assertion's expected and actual values.
    assert!(run.contains("<details class=\"step failed\""));
    assert!(
        run.contains("sum == 5")
            && run.contains("<td class=\"mono\">5</td>")
            && run.contains("<td class=\"mono\">2</td>"),
        "{run}"
    );
    assert!(
        run.contains("an earlier step failed"),
        "the skipped step says why"
    );
    assert!(!run.contains("data-live"), "a finished run is not followed");

    let (_, failed) = site.get(&cookie, "/executions?status=failed").await;
    assert!(failed.contains(&run_id[..8]));
    let (_, passed) = site.get(&cookie, "/executions?status=passed").await;
    assert!(passed.contains("No run matches these filters"));
}

#[tokio::test]
async fn the_run_button_queues_a_run_that_is_followed_live() {
    let site = Site::start().await;
    let cookie = site.login().await;
    let (flow_id, _) = site.record_failed_run().await;
    let response = site
        .client
        .post(format!("{}/flows/{flow_id}/run", site.base))
        .header(COOKIE, &cookie)
        .form(&[("environment", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/executions/").to_string();
    let (_, page) = site.get(&cookie, &location).await;
    assert!(
        page.contains("badge queued") && page.contains("data-live"),
        "{page}"
    );
    assert!(page.contains("Waiting for a worker"));

    // A worker (simulated through the store) starts the run and reports events while the page
    // follows them.
    let claimed = site
        .store
        .claim_next("test-worker", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.execution.id, id);
    site.store
        .append_events(
            &id,
            &[("execution.started", json!({"flow_name": "Totals"}))],
        )
        .await
        .unwrap();
    let live = site
        .client
        .get(format!("{}/executions/{id}/live", site.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let store = site.store.clone();
    let finisher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        store
            .append_events(&id, &[("execution.failed", json!({"error": "boom"}))])
            .await
            .unwrap();
        let flow = testmesh_flow::load_str(FLOW).flow.unwrap();
        let runner = Runner::new(
            actions::builtin(),
            Arc::new(NoEvents),
            Secrets::default(),
            FlowLibrary::default(),
        );
        let record = runner.run(&flow, None, &RunOptions::default()).await;
        store
            .complete_claimed(&id, "test-worker", &record)
            .await
            .unwrap();
    });
    let body = tokio::time::timeout(Duration::from_secs(10), live.text())
        .await
        .expect("the stream ends when the run is over")
        .unwrap();
    finisher.await.unwrap();
    let started = body.find("execution.started").expect("first event");
    let failed = body.find("execution.failed").expect("second event");
    assert!(started < failed, "{body}");
    assert!(body.contains("id: 1") && body.contains("id: 2"), "{body}");
    assert!(body.contains("event: end"), "{body}");

    // Resuming after the first event sends only the second.
    let resumed = site
        .client
        .get(format!("{}{location}/live", site.base))
        .header(COOKIE, &cookie)
        .header("Last-Event-ID", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!resumed.contains("execution.started") && resumed.contains("execution.failed"));

    let (_, steps) = site.get(&cookie, &format!("{location}/steps")).await;
    assert!(steps.contains("data-status=\"failed\"") && steps.contains("sum == 5"));
}

#[tokio::test]
async fn bad_addresses_and_filters_are_answered_not_crashed() {
    let site = Site::start().await;
    let cookie = site.login().await;
    for path in [
        "/flows/does-not-exist",
        "/executions/does-not-exist",
        "/executions/..%2F..%2Fetc%2Fpasswd",
        "/flows/%27%20OR%201%3D1%20--",
        "/assets/..%2Fsrc%2Flib.rs",
        "/executions/does-not-exist/live",
        "/flows/%00",
        "/flows?search=%00",
        "/executions?suite=a%00b",
    ] {
        let (status, page) = site.get(&cookie, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("Not found"), "{path}");
    }
    for path in [
        "/flows?search=%27%3B%20DROP%20TABLE%20flows%3B%20--&suite=%25&tag=%22",
        "/executions?status=%27%20OR%201%3D1&suite=x%27--&offset=-5",
        "/flows?offset=99999999",
    ] {
        let (status, _) = site.get(&cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, css) = site.get("", "/assets/app.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("--accent"));
    // Logging out ends the session.
    let out = site
        .client
        .post(format!("{}/logout", site.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = site.get(&cookie, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

fn contract_pact(fields: &[&str]) -> serde_json::Value {
    let content: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|f| (f.to_string(), json!(1))).collect();
    json!({
        "consumer": {"name": "web"}, "provider": {"name": "users"},
        "interactions": [{
            "type": "Synchronous/HTTP", "description": "get a user",
            "providerStates": [{"name": "user 1 exists"}],
            "request": {"method": "GET", "path": "/users/1"},
            "response": {"status": 200,
                "body": {"content": content, "contentType": "application/json", "encoded": false},
                "matchingRules": {"body": {"$.id": {"combine": "AND", "matchers": [{"match": "integer"}]}}}}
        }],
        "metadata": {"pactSpecification": {"version": "4.0"}}
    })
}

#[tokio::test]
async fn contracts_are_imported_browsed_compared_and_downloaded() {
    let site = Site::start().await;
    let cookie = site.login().await;
    let (status, page) = site.get(&cookie, "/contracts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No contracts yet") && page.contains("href=\"/contracts\""));

    let import = |pact: String, version: &'static str| {
        let site = &site;
        let cookie = cookie.clone();
        async move {
            site.client
                .post(format!("{}/contracts", site.base))
                .header(COOKIE, &cookie)
                .form(&[("pact", pact.as_str()), ("version", version)])
                .send()
                .await
                .unwrap()
        }
    };
    // A malformed pact: 422, its path shown, the text kept.
    let mut bad = contract_pact(&["id"]);
    bad["interactions"][0]["request"]["method"] = json!(5);
    let response = import(bad.to_string(), "1").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("interactions[0].request.method"), "{page}");
    assert!(
        page.contains("&quot;consumer&quot;") || page.contains("&#34;consumer&#34;"),
        "the text is kept"
    );
    let response = import("{\n  \"consumer\":".into(), "1").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("line 2"));

    // Two versions.
    let response = import(contract_pact(&["id", "name"]).to_string(), "1").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    std::thread::sleep(Duration::from_millis(5));
    let response = import(contract_pact(&["id"]).to_string(), "2").await;
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/contracts/").to_string();

    let (_, list) = site.get(&cookie, "/contracts").await;
    assert!(
        list.contains("unverified") && list.contains(&location),
        "{list}"
    );
    let (status, page) = site.get(&cookie, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("/users/1") && page.contains("user 1 exists"),
        "{page}"
    );
    assert!(page.contains("integer"), "matching rules are shown");
    assert!(page.contains(&format!("href=\"/contracts/{id}/pact\"")));

    // Download.
    let response = site
        .client
        .get(format!("{}/contracts/{id}/pact", site.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"web-users.json\""
    );
    let file: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(file["interactions"][0]["type"], "Synchronous/HTTP");

    // Breaking changes against version 1, computed on view and stored once.
    let (_, page) = site.get(&cookie, &format!("{location}?tab=changes")).await;
    assert!(
        page.contains("badge breaking") && page.contains("$.name"),
        "{page}"
    );
    let stored = site.store.contract_changes(WS, &id).await.unwrap();
    site.get(&cookie, &format!("{location}?tab=changes")).await;
    assert_eq!(
        site.store.contract_changes(WS, &id).await.unwrap().len(),
        stored.len()
    );

    // Verify now against a provider that is down: an `error` verification with its cause.
    let response = site
        .client
        .post(format!("{}/contracts/{id}/verify", site.base))
        .header(COOKIE, &cookie)
        .form(&[
            ("provider_base_url", "http://127.0.0.1:1"),
            ("provider_version", "p1"),
            ("state_change_url", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = site
        .get(&cookie, &format!("{location}?tab=verifications"))
        .await;
    assert!(
        page.contains("badge error") && page.contains("p1"),
        "{page}"
    );
    assert!(page.contains("get a user (error)"), "{page}");
    // An unusable URL is shown, not stored.
    let response = site
        .client
        .post(format!("{}/contracts/{id}/verify", site.base))
        .header(COOKIE, &cookie)
        .form(&[("provider_base_url", "ftp://x"), ("provider_version", "p2")])
        .send()
        .await
        .unwrap();
    let location2 = response.headers()[LOCATION].to_str().unwrap().to_string();
    let (_, page) = site.get(&cookie, &location2).await;
    assert!(page.contains("contract-error"), "{page}");

    let (status, _) = site
        .get(&cookie, "/contracts/00000000-0000-0000-0000-000000000009")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn analytics_trends_and_reports_pages() {
    let site = Site::start().await;
    let cookie = site.login().await;
    site.record_failed_run().await;

    let (status, overview) = site.get(&cookie, "/analytics?days=7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("id=\"metric-runs\">1<"), "{overview}");
    assert!(overview.contains("1 failure, 1 cause"));
    assert!(overview.contains("<svg"), "the charts are inline SVG");
    // An unknown period falls back to 30 days rather than failing.
    let (status, fallback) = site.get(&cookie, "/analytics?days=12").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fallback.contains("class=\"active\">Last 30 days"));

    // Trends read the aggregated metrics: none before aggregation, the run's day after it.
    let (_, empty) = site.get(&cookie, "/analytics/trends?group_by=day").await;
    assert!(empty.contains("No aggregated metrics in this period yet"));
    let today = chrono::Utc::now().date_naive();
    testmesh_report::aggregate::aggregate(&site.store, WS, today, today)
        .await
        .unwrap();
    let (_, trends) = site.get(&cookie, "/analytics/trends?group_by=day").await;
    assert!(
        trends.contains(&format!("<td class=\"mono\">{today}</td>")),
        "{trends}"
    );
    assert!(trends.contains("0.0%"));
    let (_, monthly) = site
        .get(&cookie, "/analytics/trends?group_by=month&days=365")
        .await;
    assert!(monthly.contains("per month"));

    // A bad period is refused on the form with the reason; a good one is generated.
    let (_, reports) = site.get(&cookie, "/reports").await;
    assert!(reports.contains("No reports yet") && reports.contains("id=\"generate-form\""));
    let post = |form: Vec<(&'static str, String)>| {
        site.client
            .post(format!("{}/reports", site.base))
            .header(COOKIE, &cookie)
            .form(&form)
            .send()
    };
    let refused = post(vec![
        ("format", "html".into()),
        ("from", "2026-11-20".into()),
        ("to", "2026-11-01".into()),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("`to` (2026-11-01) is before `from` (2026-11-20)"),
        "{text}"
    );
    let bad_day = post(vec![
        ("format", "json".into()),
        ("from", "soon".into()),
        ("to", today.to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(bad_day.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_day
            .text()
            .await
            .unwrap()
            .contains("From: `soon` is not a date")
    );
    let accepted = post(vec![
        ("name", "Weekly".into()),
        ("format", "json".into()),
        ("from", today.to_string()),
        ("to", today.to_string()),
    ])
    .await
    .unwrap();
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let mut page = String::new();
    for _ in 0..100 {
        page = site.get(&cookie, "/reports").await.1;
        if page.contains("badge completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(page.contains("badge completed"), "{page}");
    let id = site
        .store
        .list_reports(WS, &Default::default())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let (status, file) = site.get(&cookie, &format!("/reports/{id}/download")).await;
    assert_eq!(status, StatusCode::OK);
    let data: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(data["meta"]["title"], "Weekly");
    assert_eq!(data["summary"]["failed"], 1);
}
