//! Analytics over the API: aggregation in the background, then metrics with their summary,
//! trends, step performance and flakiness with their filters and pages; bad days and parameters;
//! and the nightly aggregation of `serve`.

use std::time::Duration;

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};
use testmesh_runner::FlowStatus;
use testmesh_store::{RunContext, Trigger, day_start_ms};
use testmesh_test::TestDb;

use crate::common::{TestServer, WS, record};

on_both_backends!(
    aggregated_analytics_are_served_with_filters,
    bad_analytics_requests_are_refused,
    serve_aggregates_every_night_at_its_time,
);

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Records a run of the stored flow `flow_id` named `name`, created `minute` minutes into `on`.
async fn run(
    server: &TestServer,
    flow_id: &str,
    name: &str,
    status: FlowStatus,
    environment: Option<&str>,
    on: NaiveDate,
    minute: i64,
) {
    let mut record = record(name, status);
    // The run records the suite of the flow it ran.
    record.suite = (name == "checkout").then(|| "shop".to_string());
    record.duration = Duration::from_millis(u64::try_from(minute).unwrap() * 10 + 10);
    let context = RunContext {
        environment: environment.map(str::to_string),
        ..RunContext::for_flow(WS, flow_id, None, Trigger::Api)
    };
    let id = server.store.record_run(&record, &context).await.unwrap();
    sqlx::query("UPDATE executions SET created_at = $1 WHERE id = $2")
        .bind(day_start_ms(on) + minute * 60_000)
        .bind(&id)
        .execute(server.store.pool())
        .await
        .unwrap();
}

/// Waits for the newest aggregation run to end and returns it.
async fn finished_run(server: &TestServer) -> Value {
    for _ in 0..200 {
        let runs = server.get("/api/v1/analytics/runs").await.expect(200);
        let newest = runs.json["runs"][0].clone();
        if newest["status"] != "running" && !newest.is_null() {
            return newest;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the aggregation did not finish within 10 s");
}

async fn aggregated_analytics_are_served_with_filters(db: &TestDb) {
    let server = TestServer::start_with(db, TestServer::no_scheduler(db)).await;
    let checkout = server.create_flow("checkout", Some("shop"), &[]).await;
    let login = server.create_flow("login", None, &[]).await;
    let (d1, d2) = (day("2025-03-03"), day("2025-03-04"));
    // Checkout on staging flips between passes and failures; login always passes.
    for (i, status) in [
        FlowStatus::Passed,
        FlowStatus::Failed,
        FlowStatus::Passed,
        FlowStatus::Failed,
        FlowStatus::Passed,
    ]
    .into_iter()
    .enumerate()
    {
        run(
            &server,
            &checkout,
            "checkout",
            status,
            Some("staging"),
            d1,
            i as i64,
        )
        .await;
    }
    for i in 0..4 {
        run(
            &server,
            &login,
            "login",
            FlowStatus::Passed,
            None,
            d1,
            10 + i,
        )
        .await;
        run(&server, &login, "login", FlowStatus::Passed, None, d2, i).await;
    }

    // Nothing aggregated yet: empty answers, not errors.
    let empty = server
        .get("/api/v1/analytics/metrics?from=2025-03-01&to=2025-03-31")
        .await
        .expect(200);
    assert_eq!(
        (
            empty.json["total"].clone(),
            empty.json["summary"]["total_executions"].clone()
        ),
        (json!(0), json!(0))
    );
    let none = server.get("/api/v1/analytics/flakiness").await.expect(200);
    assert_eq!(
        (none.json["total"].clone(), none.json["window"].clone()),
        (json!(0), Value::Null)
    );

    let accepted = server
        .post(
            "/api/v1/analytics/aggregate",
            &json!({"from": "2025-03-03", "to": "2025-03-04"}),
        )
        .await
        .expect(202);
    assert_eq!(accepted.json["run"]["status"], "running");
    assert_eq!(accepted.json["run"]["triggered_by"], "api");
    let done = finished_run(&server).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["executions"], 13);
    assert_eq!(done["id"], accepted.json["run"]["id"]);
    // The original's names for the days are accepted too.
    server
        .post(
            "/api/v1/analytics/aggregate",
            &json!({"start_date": "2025-03-03", "end_date": "2025-03-04"}),
        )
        .await
        .expect(202);
    assert_eq!(finished_run(&server).await["status"], "completed");

    // Metrics: every scope over all environments, newest day first, with the summary.
    let all = server
        .get("/api/v1/analytics/metrics?start_date=2025-03-01&end_date=2025-03-31&limit=100")
        .await
        .expect(200);
    assert_eq!(
        (all.json["from"].clone(), all.json["to"].clone()),
        (json!("2025-03-01"), json!("2025-03-31"))
    );
    assert_eq!(
        all.json["total"], 8,
        "day 1: all, 2 suites, 2 flows; day 2: all, 1 suite, 1 flow"
    );
    assert_eq!(all.json["metrics"][0]["day"], "2025-03-04");
    let summary = &all.json["summary"];
    assert_eq!(
        (
            summary["days"].clone(),
            summary["total_executions"].clone(),
            summary["passed_executions"].clone(),
            summary["failed_executions"].clone()
        ),
        (json!(2), json!(13), json!(11), json!(2))
    );
    assert_eq!(summary["pass_rate"], 84.62);
    let day1 = server
        .get("/api/v1/analytics/metrics?from=2025-03-03&to=2025-03-03&scope=all")
        .await
        .expect(200);
    let row = &day1.json["metrics"][0];
    assert_eq!(
        (row["total_executions"].clone(), row["flows"].clone()),
        (json!(9), json!(2))
    );
    // Durations: checkout 10..50 ms, login 110..140 ms (minute × 10 + 10).
    assert_eq!(
        (
            row["min_duration_ms"].clone(),
            row["max_duration_ms"].clone()
        ),
        (json!(10), json!(140))
    );
    assert_eq!(
        (
            row["p50_duration_ms"].clone(),
            row["p95_duration_ms"].clone()
        ),
        (json!(50), json!(140))
    );
    let flow = server
        .get(&format!(
            "/api/v1/analytics/metrics?from=2025-03-01&to=2025-03-31&flow_id={checkout}"
        ))
        .await
        .expect(200);
    assert_eq!(flow.json["total"], 1);
    assert_eq!(flow.json["metrics"][0]["pass_rate"], 60.0);
    assert_eq!(
        flow.json["summary"]["total_executions"], 5,
        "the flow's summary"
    );
    let staging = server
        .get("/api/v1/analytics/metrics?from=2025-03-01&to=2025-03-31&environment=staging&scope=suite")
        .await
        .expect(200);
    assert_eq!(staging.json["total"], 1);
    assert_eq!(staging.json["metrics"][0]["subject"], "shop");
    assert_eq!(staging.json["metrics"][0]["environment"], "staging");
    let paged = server
        .get("/api/v1/analytics/metrics?from=2025-03-01&to=2025-03-31&limit=3&offset=3")
        .await
        .expect(200);
    assert_eq!(
        (
            paged.json["total"].clone(),
            paged.json["metrics"].as_array().unwrap().len()
        ),
        (json!(8), 3)
    );
    let suite = server
        .get("/api/v1/analytics/metrics?from=2025-03-01&to=2025-03-31&suite=default")
        .await
        .expect(200);
    assert_eq!(
        suite.json["summary"]["total_executions"], 8,
        "login, without a suite"
    );

    // Trends.
    let days = server
        .get("/api/v1/analytics/trends?from=2025-03-01&to=2025-03-31")
        .await
        .expect(200);
    assert_eq!(days.json["group_by"], "day");
    let points: Vec<(Value, Value)> = days.json["trends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["date"].clone(), p["executions"].clone()))
        .collect();
    assert_eq!(
        points,
        [
            (json!("2025-03-03"), json!(9)),
            (json!("2025-03-04"), json!(4))
        ]
    );
    assert_eq!(days.json["trends"][0]["pass_rate"], 77.78);
    let weeks = server
        .get("/api/v1/analytics/trends?group_by=week&from=2025-03-01&to=2025-03-31")
        .await
        .expect(200);
    assert_eq!(weeks.json["trends"].as_array().unwrap().len(), 1);
    assert_eq!(weeks.json["trends"][0]["date"], "2025-03-03");
    assert_eq!(weeks.json["trends"][0]["executions"], 13);
    assert_eq!(weeks.json["trends"][0]["p95_duration_ms"], Value::Null);
    let months = server
        .get(&format!(
            "/api/v1/analytics/trends?group_by=month&from=2025-03-01&to=2025-03-31&flow_id={login}"
        ))
        .await
        .expect(200);
    assert_eq!(months.json["trends"][0]["date"], "2025-03-01");
    assert_eq!(months.json["trends"][0]["executions"], 8);

    // Steps.
    let steps = server
        .get("/api/v1/analytics/steps?from=2025-03-01&to=2025-03-31&action=log")
        .await
        .expect(200);
    assert_eq!(
        steps.json["total"], 3,
        "hello of checkout and login on day 1, of login on day 2"
    );
    let checkout_step = server
        .get(&format!(
            "/api/v1/analytics/steps?from=2025-03-03&to=2025-03-03&flow_id={checkout}&step_id=hello"
        ))
        .await
        .expect(200);
    let step = &checkout_step.json["steps"][0];
    assert_eq!(
        (
            step["total_executions"].clone(),
            step["error_count"].clone(),
            step["error_rate"].clone()
        ),
        (json!(5), json!(2), json!(40.0))
    );

    // Flakiness over the 14 days ending 2025-03-04.
    let flaky = server.get("/api/v1/analytics/flakiness").await.expect(200);
    assert_eq!(
        flaky.json["window"],
        json!({"start": "2025-02-19", "end": "2025-03-04", "days": 14})
    );
    assert_eq!(flaky.json["total"], 2);
    let first = &flaky.json["flaky_flows"][0];
    assert_eq!(
        (
            first["flow_name"].clone(),
            first["stability"].clone(),
            first["history"].clone()
        ),
        (json!("checkout"), json!("flaky"), json!("PFPFP"))
    );
    assert!(first["flakiness_score"].as_f64().unwrap() >= 10.0);
    let only_stable = server
        .get("/api/v1/analytics/flakiness?stability=stable&stability=unknown")
        .await
        .expect(200);
    assert_eq!(only_stable.json["flaky_flows"][0]["flow_name"], "login");
    let high = server
        .get("/api/v1/analytics/flakiness?min_score=99.5")
        .await
        .expect(200);
    assert_eq!(high.json["total"], 0);
    let history = server
        .get(&format!("/api/v1/analytics/flakiness?flow_id={checkout}"))
        .await
        .expect(200);
    assert_eq!(history.json["total"], 1);
    assert_eq!(history.json["window"], Value::Null);
    let by_end = server
        .get("/api/v1/analytics/flakiness?window_end=2025-03-04")
        .await
        .expect(200);
    assert_eq!(by_end.json["window"]["end"], "2025-03-04");
    let runs = server
        .get("/api/v1/analytics/runs?limit=1")
        .await
        .expect(200);
    assert_eq!(
        (
            runs.json["total"].clone(),
            runs.json["runs"].as_array().unwrap().len()
        ),
        (json!(2), 1)
    );
}

async fn bad_analytics_requests_are_refused(db: &TestDb) {
    let server = TestServer::start_with(db, TestServer::no_scheduler(db)).await;
    for (path, needle) in [
        (
            "/api/v1/analytics/metrics?from=2025-13-01",
            "`from` must be a day like 2025-01-31",
        ),
        (
            "/api/v1/analytics/metrics?end_date=yesterday",
            "`end_date` must be a day",
        ),
        (
            "/api/v1/analytics/metrics?from=2025-03-01&start_date=2025-03-01",
            "not both",
        ),
        (
            "/api/v1/analytics/metrics?from=2025-03-05&to=2025-03-01",
            "is before",
        ),
        (
            "/api/v1/analytics/metrics?scope=team",
            "`scope` must be one of",
        ),
        (
            "/api/v1/analytics/trends?group_by=year",
            "`group_by` must be one of",
        ),
        (
            "/api/v1/analytics/flakiness?stability=wobbly",
            "`stability` must be one of",
        ),
        (
            "/api/v1/analytics/flakiness?min_score=101",
            "`min_score` must be a number from 0 to 100",
        ),
        (
            "/api/v1/analytics/flakiness?window_end=03/04/2025",
            "`window_end` must be a day",
        ),
        (
            "/api/v1/analytics/steps?to=2025-02-30",
            "`to` must be a day",
        ),
        (
            "/api/v1/analytics/steps?flow=checkout",
            "unknown query parameter `flow`",
        ),
        ("/api/v1/analytics/metrics?limit=0", "`limit`"),
    ] {
        let reply = server.get(path).await;
        let code = reply.json["code"].as_str().unwrap_or_default().to_string();
        let reply = reply.expect_error(400, &code);
        let message = reply.json["error"].as_str().unwrap();
        assert!(message.contains(needle), "{path}: {message}");
    }
    let today = Utc::now().date_naive();
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap();
    for (body, needle) in [
        (
            json!({"from": "2025-03-05", "to": "2025-03-01"}),
            "is before",
        ),
        (
            json!({"from": "2023-01-01", "to": "2025-01-01"}),
            "at most 366 days",
        ),
        (json!({"to": tomorrow.to_string()}), "after today"),
    ] {
        let reply = server
            .post("/api/v1/analytics/aggregate", &body)
            .await
            .expect_error(422, "invalid_period");
        assert!(
            reply.json["error"].as_str().unwrap().contains(needle),
            "{body}: {}",
            reply.text
        );
    }
    // The body is checked against its schema: a malformed day or an unknown field is refused.
    server
        .post("/api/v1/analytics/aggregate", &json!({"from": "March 3"}))
        .await
        .expect(422);
    server
        .post("/api/v1/analytics/aggregate", &json!({"days": 3}))
        .await
        .expect(422);
    // Without an API key, nothing.
    let anonymous = server
        .client
        .get(format!("{}/api/v1/analytics/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let runs = server.get("/api/v1/analytics/runs").await.expect(200);
    assert_eq!(runs.json["total"], 0, "nothing was started");
}

async fn serve_aggregates_every_night_at_its_time(db: &TestDb) {
    let now = Utc::now();
    // Late enough for the server to start and the runs to be recorded first.
    let at = (now + chrono::Duration::seconds(4)).time();
    if at < NaiveTime::from_hms_opt(0, 0, 10).unwrap() {
        // The run would fall on the next day: yesterday would be today.
        return;
    }
    let options = testmesh_server::ServerOptions {
        aggregate_at: Some(at),
        ..TestServer::no_scheduler(db)
    };
    let server = TestServer::start_with(db, options).await;
    let flow = server.create_flow("nightly", None, &[]).await;
    let yesterday = now.date_naive().pred_opt().unwrap();
    run(
        &server,
        &flow,
        "nightly",
        FlowStatus::Passed,
        None,
        yesterday,
        1,
    )
    .await;
    run(
        &server,
        &flow,
        "nightly",
        FlowStatus::Failed,
        None,
        yesterday,
        2,
    )
    .await;
    let done = finished_run(&server).await;
    assert_eq!(done["triggered_by"], "schedule");
    assert_eq!(done["status"], "completed", "{done}");
    // The last three days, yesterday included, are aggregated each night.
    let first = yesterday.checked_sub_days(chrono::Days::new(2)).unwrap();
    assert_eq!(
        (done["from"].clone(), done["to"].clone()),
        (json!(first.to_string()), json!(yesterday.to_string()))
    );
    assert_eq!(done["executions"], 2);
    let metrics = server
        .get(&format!(
            "/api/v1/analytics/metrics?from={yesterday}&to={yesterday}&scope=all"
        ))
        .await
        .expect(200);
    assert_eq!(metrics.json["metrics"][0]["failed_executions"], 1);
}
