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
    assert!(failed.contains(&run_id[run_id.len() - 8..]));
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

const PETS: &str = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: \"1\"\npaths:\n  /pets:\n    get:\n      operationId: listPets\n      responses:\n        \"200\":\n          description: the pets\n    post:\n      operationId: createPet\n      responses:\n        \"201\":\n          description: made\n";

/// Every `value` of the ticked `flow` checkboxes of a preview page.
fn flow_choices(page: &str) -> Vec<String> {
    page.split("name=\"flow\" value=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The history id of a preview page (`action="/import/{id}/create"`).
fn preview_id(page: &str) -> String {
    page.split("action=\"/import/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn imports_are_previewed_then_the_ticked_flows_created() {
    let site = Site::start().await;
    let cookie = site.login().await;
    let (status, page) = site.get(&cookie, "/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/import\" class=\"active\""), "{page}");
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("No imports yet"));
    let upload = |form: reqwest::multipart::Form| {
        site.client
            .post(format!("{}/import", site.base))
            .header(COOKIE, &cookie)
            .multipart(form)
            .send()
    };

    // Step 1 → 2: an uploaded file becomes a preview; nothing is created yet.
    let file = reqwest::multipart::Part::text(PETS).file_name("pets.yaml");
    let preview = upload(
        reqwest::multipart::Form::new()
            .text("format", "openapi")
            .text("group_by", "operation")
            .part("file", file),
    )
    .await
    .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let page = preview.text().await.unwrap();
    assert!(page.contains("<h1>Pets"), "{page}");
    assert!(page.contains("<details class=\"step\">") && page.contains("action: http_request"));
    let choices = flow_choices(&page);
    assert!(choices.len() >= 2, "{page}");
    let id = preview_id(&page);
    assert_eq!(
        site.store
            .list_flows(WS, &Default::default())
            .await
            .unwrap()
            .total,
        0
    );
    let record = site.store.get_import(WS, &id).await.unwrap();
    assert_eq!(record.source_name, "pets.yaml");
    assert_eq!(record.status, testmesh_store::AiStatus::Completed);

    // Step 3: only the ticked flow is created, in the suite asked for, and linked.
    let create = |pairs: Vec<(&'static str, String)>| {
        site.client
            .post(format!("{}/import/{id}/create", site.base))
            .header(COOKIE, &cookie)
            .form(&pairs)
            .send()
    };
    let none = create(vec![("suite", "x".into())]).await.unwrap();
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        none.text()
            .await
            .unwrap()
            .contains("Tick at least one flow")
    );
    let done = create(vec![
        ("flow", choices[0].clone()),
        ("suite", "imported".into()),
        ("collection_id", String::new()),
    ])
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let page = done.text().await.unwrap();
    let flows = site
        .store
        .list_flows(WS, &Default::default())
        .await
        .unwrap();
    assert_eq!(flows.total, 1);
    assert_eq!(flows.items[0].suite.as_deref(), Some("imported"));
    assert!(
        page.contains(&format!("href=\"/flows/{}\"", flows.items[0].id)),
        "{page}"
    );
    assert_eq!(
        site.store.get_import(WS, &id).await.unwrap().flow_ids,
        vec![flows.items[0].id.clone()]
    );
    // Again: the name is taken, which the page says.
    let again = create(vec![("flow", choices[0].clone())]).await.unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("id=\"create-errors\""));

    // The history links back to the preview.
    let (_, list) = site.get(&cookie, "/import").await;
    assert!(list.contains(&format!("href=\"/import/{id}\"")), "{list}");
    let (status, back) = site.get(&cookie, &format!("/import/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(back.contains("1 flows already created"), "{back}");

    // Pasted text works too; untranslated parts are listed.
    let postman = serde_json::json!({
        "info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "Ping", "request": {"method": "GET", "url": {"raw": "http://127.0.0.1:9/ping"}},
                  "event": [{"listen": "test", "script": {"exec": ["pm.test('ok', () => pm.response.to.have.status(200));", "postman.setNextRequest(null);"]}}]}]
    });
    let pasted = upload(
        reqwest::multipart::Form::new()
            .text("format", "postman")
            .text("content", postman.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(pasted.status(), StatusCode::OK);
    let page = pasted.text().await.unwrap();
    assert!(page.contains("id=\"untranslated\""), "{page}");

    // Bad input: the form again, with the place and the text kept; the failure is recorded.
    let broken = upload(
        reqwest::multipart::Form::new()
            .text("format", "openapi")
            .text("source_name", "broken.yaml")
            .text("content", "openapi: 3.0.3\ninfo: {title: x\n"),
    )
    .await
    .unwrap();
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = broken.text().await.unwrap();
    assert!(
        page.contains("id=\"import-error-at\">broken.yaml:"),
        "{page}"
    );
    assert!(page.contains("info: {title: x"), "the text is kept");
    let failed = site
        .store
        .list_imports(
            WS,
            &testmesh_store::ImportFilter {
                status: Some(testmesh_store::AiStatus::Failed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.total, 1);
    for form in [
        reqwest::multipart::Form::new().text("format", "openapi"),
        reqwest::multipart::Form::new()
            .text("format", "openapi")
            .text("content", PETS)
            .part(
                "file",
                reqwest::multipart::Part::text(PETS).file_name("p.yaml"),
            ),
        reqwest::multipart::Form::new()
            .text("format", "graphql")
            .text("content", PETS),
    ] {
        let refused = upload(form).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("id=\"import-error\"")
        );
    }
    let (status, _) = site
        .get(&cookie, "/import/00000000-0000-0000-0000-000000000009")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn coverage_is_analysed_shown_and_listed() {
    let site = Site::start().await;
    let cookie = site.login().await;
    site.store
        .create_flow(
            WS,
            "name: list pets\nsteps:\n  - id: list\n    action: http_request\n    config:\n      method: GET\n      url: http://api.test/pets\n    assert:\n      - status == 200\n",
            None,
        )
        .await
        .unwrap();
    let (status, page) = site.get(&cookie, "/coverage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("No analyses yet") && page.contains("href=\"/coverage\" class=\"active\"")
    );
    let analyse = |form: reqwest::multipart::Form| {
        site.client
            .post(format!("{}/coverage", site.base))
            .header(COOKIE, &cookie)
            .multipart(form)
            .send()
    };
    let done = analyse(
        reqwest::multipart::Form::new()
            .text("spec", PETS)
            .text("base_url", "http://api.test"),
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_string();
    let (status, detail) = site.get(&cookie, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("<h1>Pets"), "{detail}");
    assert!(detail.contains("50.0 %"), "{detail}");
    assert!(detail.contains("id=\"operations\""));
    assert!(detail.contains("badge covered") && detail.contains("badge uncovered"));
    let response = site
        .client
        .get(format!("{}{location}/report", site.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .to_ascii_lowercase()
            .contains("<!doctype html")
    );

    // A document that does not read: the form again with its place; the failure is listed.
    let broken = analyse(reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text("openapi: [\n").file_name("api.yaml"),
    ))
    .await
    .unwrap();
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        broken
            .text()
            .await
            .unwrap()
            .contains("id=\"coverage-error-at\">api.yaml:")
    );
    let (_, list) = site.get(&cookie, "/coverage").await;
    assert!(list.contains(&format!("href=\"{location}\"")), "{list}");
    assert!(list.contains("badge failed"));

    // Another workspace sees none of it.
    let other = site.store.create_workspace("Other", "other").await.unwrap();
    let key = site
        .store
        .create_api_key(&other.id, "o", None)
        .await
        .unwrap()
        .plain;
    let response = site
        .client
        .post(format!("{}/login", site.base))
        .form(&[("key", key.as_str()), ("next", "/coverage")])
        .send()
        .await
        .unwrap();
    let other_cookie = response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, _) = site.get(&other_cookie, &location).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = site.get(&other_cookie, &format!("{location}/report")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn inputs_too_big_to_keep_are_carried_by_the_preview() {
    let site = Site::start().await;
    let cookie = site.login().await;
    // Over the 5 MiB the history keeps: the preview form carries the input to step 3 instead.
    let padding = "x".repeat(5 * 1024 * 1024 + 10);
    let big = PETS.replace(
        "  version: \"1\"\n",
        &format!("  version: \"1\"\n  description: {padding}\n"),
    );
    let preview = site
        .client
        .post(format!("{}/import", site.base))
        .header(COOKIE, &cookie)
        .multipart(
            reqwest::multipart::Form::new()
                .text("format", "openapi")
                .part(
                    "file",
                    reqwest::multipart::Part::text(big.clone()).file_name("big.yaml"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let page = preview.text().await.unwrap();
    assert!(page.contains("<textarea name=\"content\" hidden>"));
    let id = preview_id(&page);
    let record = site.store.get_import(WS, &id).await.unwrap();
    assert!(!record.source_stored);
    let choice = flow_choices(&page).remove(0);

    // From the history it cannot be shown again: the form says why.
    let (status, again) = site.get(&cookie, &format!("/import/{id}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("was not kept"), "{again}");

    let done = site
        .client
        .post(format!("{}/import/{id}/create", site.base))
        .header(COOKIE, &cookie)
        .form(&[("flow", choice.as_str()), ("content", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        site.store
            .list_flows(WS, &Default::default())
            .await
            .unwrap()
            .total,
        1
    );
}
