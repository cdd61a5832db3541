//! The analytics page: for the last 7, 30 or 90 days, metric cards (runs, pass rate, p50/p95/p99,
//! flaky and broken flows), the pass-rate and duration-percentile trends, the flaky and broken
//! flows with their history, failures grouped by cause, and the slowest steps. Everything comes
//! from the same data as the reports (`testmesh_report::collect`), charts included.

use askama::Template;
use axum::extract::{Query, State};
use chrono::{Days, Utc};
use serde::Deserialize;
use testmesh_report::ReportData;
use testmesh_report::collect::ReportRequest;
use testmesh_report::model::{ReportFilters, Stability};

use crate::DashboardState;
use crate::pages::{PageError, PageResult, render};
use crate::session::Session;
use crate::views::millis;

/// The periods offered, in days.
const PERIODS: [u64; 3] = [7, 30, 90];

#[derive(Deserialize)]
pub(crate) struct AnalyticsQuery {
    days: Option<u64>,
}

struct FlakyRow {
    name: String,
    score: String,
    stability: &'static str,
    runs: u64,
    failed: u64,
    flaky_failures: u64,
    streak: String,
    sparkline: String,
}

struct CategoryRow {
    kind: String,
    signature: String,
    count: u64,
    flows: String,
    example: String,
}

struct StepRow {
    flow: String,
    step: String,
    action: String,
    runs: u64,
    avg: String,
    p95: String,
    max: String,
    error_rate: String,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    nav: &'static str,
    key_name: String,
    days: u64,
    periods: [u64; 3],
    from: String,
    to: String,
    executions: u64,
    pass_rate: String,
    p50: String,
    p95: String,
    p99: String,
    flows: u64,
    flaky: u64,
    broken: u64,
    pass_rate_chart: String,
    duration_chart: String,
    flaky_flows: Vec<FlakyRow>,
    failures: u64,
    categories: Vec<CategoryRow>,
    steps: Vec<StepRow>,
}

fn stability(s: Stability) -> &'static str {
    match s {
        Stability::Stable => "stable",
        Stability::Flaky => "flaky",
        Stability::Broken => "broken",
        Stability::Unknown => "unknown",
    }
}

fn page(data: &ReportData, session: Session, days: u64) -> AnalyticsPage {
    let s = &data.summary;
    let mut pass_rate_chart = String::new();
    testmesh_report::html::pass_rate_chart(&mut pass_rate_chart, data);
    let mut duration_chart = String::new();
    testmesh_report::html::duration_chart(&mut duration_chart, data);
    AnalyticsPage {
        nav: "analytics",
        key_name: session.key_name,
        days,
        periods: PERIODS,
        from: data.meta.from.to_string(),
        to: data.meta.to.to_string(),
        executions: s.executions,
        pass_rate: format!("{:.1}%", s.pass_rate),
        p50: millis(s.p50_duration_ms),
        p95: millis(s.p95_duration_ms),
        p99: millis(s.p99_duration_ms),
        flows: s.flows,
        flaky: s.flaky_flows,
        broken: s.broken_flows,
        pass_rate_chart,
        duration_chart,
        flaky_flows: data
            .flaky_flows
            .iter()
            .map(|f| {
                let mut sparkline = String::new();
                testmesh_report::svg::sparkline(&mut sparkline, &f.history);
                FlakyRow {
                    name: f.flow_name.clone(),
                    score: format!("{:.1}", f.score),
                    stability: stability(f.stability),
                    runs: f.runs,
                    failed: f.failed,
                    flaky_failures: f.flaky_failures,
                    streak: if f.consecutive_failures > 0 {
                        format!("{} failed in a row", f.consecutive_failures)
                    } else {
                        format!("{} passed in a row", f.consecutive_successes)
                    },
                    sparkline,
                }
            })
            .collect(),
        failures: data.failure_categories.iter().map(|c| c.count).sum(),
        categories: data
            .failure_categories
            .iter()
            .map(|c| CategoryRow {
                kind: c.kind.replace('_', " "),
                signature: c.signature.clone(),
                count: c.count,
                flows: c.flows.join(", "),
                example: c.example.clone(),
            })
            .collect(),
        steps: data
            .slowest_steps
            .iter()
            .map(|st| StepRow {
                flow: st.flow_name.clone(),
                step: st.step_id.clone(),
                action: st.action.clone(),
                runs: st.executions,
                avg: millis(st.avg_duration_ms.round() as i64),
                p95: millis(st.p95_duration_ms),
                max: millis(st.max_duration_ms),
                error_rate: format!("{:.1}%", st.error_rate),
            })
            .collect(),
    }
}

pub(crate) async fn overview(
    State(state): State<DashboardState>,
    session: Session,
    Query(query): Query<AnalyticsQuery>,
) -> PageResult {
    let days = query.days.filter(|d| PERIODS.contains(d)).unwrap_or(30);
    let to = Utc::now().date_naive();
    let request = ReportRequest {
        title: None,
        from: to.checked_sub_days(Days::new(days - 1)).unwrap_or(to),
        to,
        filters: ReportFilters::default(),
        failure_detail_limit: 0,
    };
    let data = testmesh_report::collect::collect(&state.store, &session.workspace_id, &request)
        .await
        .map_err(|e| PageError::Failed(e.to_string()))?;
    render(&page(&data, session, days))
}
