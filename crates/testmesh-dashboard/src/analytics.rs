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
use testmesh_report::model::ReportFilters;

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
                    stability: f.stability.as_str(),
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

#[derive(Deserialize)]
pub(crate) struct TrendsQuery {
    group_by: Option<String>,
    days: Option<u64>,
}

/// The periods the trends page offers, in days.
const TREND_SPANS: [u64; 3] = [90, 180, 365];

struct TrendRow {
    period: String,
    executions: i64,
    passed: i64,
    failed: i64,
    pass_rate: String,
    avg: String,
    p50: String,
    p95: String,
    p99: String,
    flaky_steps: i64,
}

#[derive(Template)]
#[template(path = "trends.html")]
struct TrendsPage {
    nav: &'static str,
    key_name: String,
    group_by: &'static str,
    days: u64,
    spans: [u64; 3],
    from: String,
    to: String,
    last_aggregated: String,
    chart: String,
    rows: Vec<TrendRow>,
}

fn optional_ms(ms: Option<i64>) -> String {
    ms.map(millis).unwrap_or_else(|| "—".into())
}

/// Pass rate per day, week or month over the aggregated metrics (`analytics_daily`), newest
/// period last, with the figures behind it.
pub(crate) async fn trends(
    State(state): State<DashboardState>,
    session: Session,
    Query(query): Query<TrendsQuery>,
) -> PageResult {
    use testmesh_store::{MetricFilter, TrendPeriod};
    let (period, group_by) = match query.group_by.as_deref() {
        Some("day") => (TrendPeriod::Day, "day"),
        Some("month") => (TrendPeriod::Month, "month"),
        _ => (TrendPeriod::Week, "week"),
    };
    let days = query.days.filter(|d| TREND_SPANS.contains(d)).unwrap_or(90);
    let to = Utc::now().date_naive();
    let from = to.checked_sub_days(Days::new(days - 1)).unwrap_or(to);
    let filter = MetricFilter {
        from: Some(from),
        to: Some(to),
        ..MetricFilter::default()
    };
    let points = state
        .store
        .metric_trends(&session.workspace_id, &filter, period)
        .await
        .map_err(crate::pages::store_error)?;
    let last = state
        .store
        .last_aggregated_day(&session.workspace_id)
        .await
        .map_err(crate::pages::store_error)?;
    let labels: Vec<String> = points.iter().map(|p| p.date.to_string()).collect();
    let mut chart = String::new();
    testmesh_report::svg::line_chart(
        &mut chart,
        &testmesh_report::svg::LineChart {
            title: "Pass rate per period (UTC)",
            labels: &labels,
            series: vec![testmesh_report::svg::Series {
                name: "pass rate",
                color: testmesh_report::svg::PASS_RATE,
                dash: None,
                values: points
                    .iter()
                    .map(|p| (p.passed + p.failed > 0).then_some(p.pass_rate))
                    .collect(),
            }],
            scale: testmesh_report::svg::Scale::Percent,
        },
    );
    render(&TrendsPage {
        nav: "analytics",
        key_name: session.key_name,
        group_by,
        days,
        spans: TREND_SPANS,
        from: from.to_string(),
        to: to.to_string(),
        last_aggregated: last.map(|d| d.to_string()).unwrap_or_default(),
        chart,
        rows: points
            .iter()
            .rev()
            .map(|p| TrendRow {
                period: p.date.to_string(),
                executions: p.executions,
                passed: p.passed,
                failed: p.failed,
                pass_rate: format!("{:.1}%", p.pass_rate),
                avg: p
                    .avg_duration_ms
                    .map(|ms| millis(ms.round() as i64))
                    .unwrap_or_else(|| "—".into()),
                p50: optional_ms(p.p50_duration_ms),
                p95: optional_ms(p.p95_duration_ms),
                p99: optional_ms(p.p99_duration_ms),
                flaky_steps: p.flaky_steps,
            })
            .collect(),
    })
}
