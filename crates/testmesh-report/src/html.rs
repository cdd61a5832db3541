//! The HTML report: one self-contained HTML5 file with inline CSS and inline SVG charts. It loads
//! nothing (no scripts, fonts or images by URL; a Content-Security-Policy forbids it too), reads
//! well with JavaScript disabled, and uses a few lines of inline script only to sort tables.
//!
//! Sections: summary cards, pass-rate trend, duration-percentile trend, flakiest flows, failure
//! categories, slowest steps, per-flow history and every failure with its steps. A period without
//! executions renders a page that says so instead of empty charts. All user data (flow names,
//! messages, requests) is escaped.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{
    ExecutionBrief, FailureCategory, FailureDetail, FlakyFlow, FlowSummary, ReportData,
    ReportFilters, Stability, StepDetail, StepStat,
};
use crate::svg::{self, LineChart, Scale, Series, escape_into};

/// Renders `data` as one self-contained HTML page.
pub fn render(data: &ReportData) -> String {
    // Rough size of what follows, so the buffer grows rarely: a fixed part plus rows and failures.
    let capacity = 24_000
        + data.daily.len() * 600
        + data.flows.len() * 1_800
        + data.flaky_flows.len() * 900
        + data.failure_categories.len() * 700
        + data.slowest_steps.len() * 600
        + data
            .failures
            .iter()
            .map(|f| 1_500 + f.steps.len() * 500)
            .sum::<usize>();
    let mut out = String::with_capacity(capacity);
    let has_executions = data.summary.executions > 0;
    head(&mut out, data, has_executions);
    if !has_executions {
        empty(&mut out, data);
    } else {
        summary(&mut out, data);
        pass_rate_trend(&mut out, data);
        duration_trend(&mut out, data);
        flaky_flows(&mut out, &data.flaky_flows);
        categories(&mut out, &data.failure_categories);
        slowest_steps(&mut out, &data.slowest_steps);
        flows(&mut out, &data.flows);
        failures(&mut out, data);
    }
    foot(&mut out, data);
    out
}

const STYLE: &str = r#"
:root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--accent:#0969da;
--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#a40e26;--bad-bg:#ffebe9;--warn:#7d4e00;--warn-bg:#fff8c5;
--none:#424a53;--none-bg:#eaeef2}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;line-height:1.5;font-size:15px;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
.wrap{max-width:1200px;margin:0 auto;padding:0 20px}
header.top{background:#f6f8fa;border-bottom:1px solid var(--line);padding:20px 0 12px}
h1{font-size:26px;margin:0 0 4px;font-weight:650;overflow-wrap:anywhere}
h2{font-size:20px;margin:0 0 12px;font-weight:600}
h3{font-size:16px;margin:0;font-weight:600;overflow-wrap:anywhere}
.meta{color:var(--muted);margin:0}
nav{margin-top:10px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:14px}
nav a{color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
section{margin:32px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fff}
.card .label{color:var(--muted);font-size:13px}
.card .value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3}
.card .sub{color:var(--muted);font-size:13px}
.card.good .value{color:var(--ok)}.card.bad .value{color:var(--bad)}.card.warn .value{color:var(--warn)}
.panel{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fff}
svg.chart{display:block;max-width:100%;height:auto}
svg.spark{display:block}
svg.bar{display:block;min-width:60px;margin-top:3px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);font-size:13px;color:var(--muted);font-weight:600;white-space:nowrap}
tbody tr:last-child>td{border-bottom:0}
td.num,th.num{text-align:right;white-space:nowrap}
th.sort{cursor:pointer;user-select:none}th.sort::after{content:" \2195";opacity:.4}
th[aria-sort=ascending]::after{content:" \2191";opacity:1}th[aria-sort=descending]::after{content:" \2193";opacity:1}
.name{overflow-wrap:break-word;font-weight:500;min-width:10em}
.muted{color:var(--muted)}.small{font-size:13px}.nowrap,time{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;background:var(--none-bg);color:var(--none)}
.badge.passed,.badge.stable{background:var(--ok-bg);color:var(--ok)}
.badge.failed,.badge.broken{background:var(--bad-bg);color:var(--bad)}
.badge.flaky{background:var(--warn-bg);color:var(--warn)}
.lead{font-size:17px;margin:0 0 12px}
.empty{border:1px dashed var(--line);border-radius:8px;padding:40px 20px;text-align:center;color:var(--muted)}
.empty h2{color:var(--ink)}
details>summary{cursor:pointer;color:var(--accent)}
details[open]>summary{margin-bottom:6px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;margin:4px 0;
overflow:auto;max-height:420px;white-space:pre-wrap;overflow-wrap:anywhere}
.failure{border:1px solid var(--line);border-left:4px solid #cf222e;border-radius:8px;padding:12px 14px;margin:0 0 16px}
.failure header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
.error{background:var(--bad-bg);color:var(--bad);border-radius:6px;padding:6px 10px;margin:8px 0;
white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
tr.detail>td{background:#fcfcfd}
.assert td{padding:4px 8px}.assert .ok{color:var(--ok);font-weight:700}.assert .ko{color:var(--bad);font-weight:700}
.legend{display:flex;gap:14px;flex-wrap:wrap;color:var(--muted);font-size:13px;margin-top:6px}
footer{color:var(--muted);font-size:13px;border-top:1px solid var(--line);margin-top:40px;padding:16px 0 32px}
@media (max-width:640px){body{font-size:14px}.card .value{font-size:22px}th,td{padding:6px}}
@media print{nav,th.sort::after{display:none}.scroll{overflow:visible}section{break-inside:avoid-page}}
"#;

/// Sorts tables by a clicked header; cells with `data-v` sort by that number. Without JavaScript
/// the tables keep their documented order.
const SCRIPT: &str = r#"(function(){
function key(c){var v=c.getAttribute('data-v');return v===null?c.textContent.trim().toLowerCase():parseFloat(v);}
var tables=document.querySelectorAll('table.sortable');
for(var t=0;t<tables.length;t++){(function(table){
var heads=table.tHead.rows[0].cells;
for(var i=0;i<heads.length;i++){(function(th,col){
if(th.hasAttribute('data-nosort'))return;
th.tabIndex=0;th.classList.add('sort');
function sort(){
var asc=th.getAttribute('aria-sort')!=='ascending';
for(var h=0;h<heads.length;h++)heads[h].removeAttribute('aria-sort');
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);var c=x<y?-1:x>y?1:0;return asc?c:-c;});
for(var r=0;r<rows.length;r++)body.appendChild(rows[r]);}
th.addEventListener('click',sort);
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
})(heads[i],i);}
})(tables[t]);}
})();"#;

fn head(out: &mut String, data: &ReportData, with_nav: bool) {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"generator\" content=\"TestMesh\">\n<title>",
    );
    escape_into(out, &data.meta.title);
    out.push_str("</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\"><h1>");
    escape_into(out, &data.meta.title);
    out.push_str("</h1><p class=\"meta\">");
    let _ = write!(
        out,
        "{} to {} (UTC) · generated {}",
        data.meta.from,
        data.meta.to,
        data.meta.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    filters(out, &data.meta.filters);
    out.push_str("</p>");
    if with_nav {
        nav(out);
    }
    out.push_str("</div></header>\n<main class=\"wrap\">\n");
}

fn filters(out: &mut String, filters: &ReportFilters) {
    let parts = [
        ("suites", &filters.suites),
        ("flows", &filters.flows),
        ("statuses", &filters.statuses),
        ("environments", &filters.environments),
    ];
    if parts.iter().all(|(_, values)| values.is_empty()) {
        out.push_str(" · all flows");
        return;
    }
    for (name, values) in parts.iter().filter(|(_, values)| !values.is_empty()) {
        let _ = write!(out, " · {name}: ");
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            escape_into(out, value);
        }
    }
}

fn nav(out: &mut String) {
    out.push_str(
        "<nav aria-label=\"Sections\"><a href=\"#summary\">Summary</a>\
         <a href=\"#pass-rate\">Pass rate</a><a href=\"#durations\">Durations</a>\
         <a href=\"#flaky\">Flakiest flows</a><a href=\"#categories\">Failure categories</a>\
         <a href=\"#slowest-steps\">Slowest steps</a><a href=\"#flows\">Flows</a>\
         <a href=\"#failures\">Failures</a></nav>",
    );
}

fn empty(out: &mut String, data: &ReportData) {
    out.push_str(
        "<section id=\"summary\" class=\"empty\">\
         <h2>No executions in this period</h2><p>",
    );
    let _ = write!(
        out,
        "No finished execution matches this report between {} and {}.",
        data.meta.from, data.meta.to
    );
    out.push_str(
        " Run some flows, or widen the period or the filters, and generate the report again.\
         </p></section>\n",
    );
}

fn summary(out: &mut String, data: &ReportData) {
    let s = &data.summary;
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    let mut sub = String::new();
    let _ = write!(
        sub,
        "{} passed · {} failed · {} cancelled",
        thousands(s.passed),
        thousands(s.failed),
        thousands(s.cancelled)
    );
    card(out, "", "Executions", &thousands(s.executions), &sub);
    let rate_class = if s.pass_rate >= 95.0 {
        "good"
    } else if s.pass_rate >= 80.0 {
        "warn"
    } else {
        "bad"
    };
    card(
        out,
        rate_class,
        "Pass rate",
        &percent(s.pass_rate),
        "passed ÷ (passed + failed)",
    );
    card(
        out,
        "",
        "Average duration",
        &duration(s.avg_duration_ms),
        "per execution",
    );
    card(
        out,
        "",
        "p50 duration",
        &duration(s.p50_duration_ms as f64),
        "median",
    );
    card(
        out,
        "",
        "p95 duration",
        &duration(s.p95_duration_ms as f64),
        "95th percentile",
    );
    card(
        out,
        "",
        "p99 duration",
        &duration(s.p99_duration_ms as f64),
        "99th percentile",
    );
    card(out, "", "Flows", &thousands(s.flows), "distinct flows run");
    card(
        out,
        if s.flaky_flows > 0 { "warn" } else { "good" },
        "Flaky flows",
        &thousands(s.flaky_flows),
        "pass and fail on the same inputs",
    );
    card(
        out,
        if s.broken_flows > 0 { "bad" } else { "good" },
        "Broken flows",
        &thousands(s.broken_flows),
        "failing consistently",
    );
    let mut sub = String::new();
    let _ = write!(sub, "{} passed on retry", thousands(s.flaky_steps));
    card(out, "", "Steps", &thousands(s.steps), &sub);
    out.push_str("</div></section>\n");
}

fn card(out: &mut String, class: &str, label: &str, value: &str, sub: &str) {
    let _ = write!(
        out,
        "<div class=\"card {class}\"><div class=\"label\">{label}</div><div class=\"value\">"
    );
    escape_into(out, value);
    out.push_str("</div><div class=\"sub\">");
    escape_into(out, sub);
    out.push_str("</div></div>");
}

fn day_labels(data: &ReportData) -> Vec<String> {
    data.daily.iter().map(|d| d.date.to_string()).collect()
}

fn pass_rate_trend(out: &mut String, data: &ReportData) {
    out.push_str("<section id=\"pass-rate\"><h2>Pass-rate trend</h2><div class=\"panel\">");
    pass_rate_chart(out, data);
    out.push_str("</div></section>\n");
}

/// Appends the pass-rate-per-day chart of `data` (an inline `<svg>`; the dashboard shows it too).
pub fn pass_rate_chart(out: &mut String, data: &ReportData) {
    let labels = day_labels(data);
    // A day with only cancelled runs has no pass rate: a gap, not a misleading 0 %.
    let values = data
        .daily
        .iter()
        .map(|d| (d.passed + d.failed > 0).then_some(d.pass_rate))
        .collect();
    svg::line_chart(
        out,
        &LineChart {
            title: "Pass rate per day (UTC)",
            labels: &labels,
            series: vec![Series {
                name: "pass rate",
                color: svg::PASS_RATE,
                dash: None,
                values,
            }],
            scale: Scale::Percent,
        },
    );
}

/// Appends the execution-duration percentiles (p50, p95, p99) per day chart of `data`.
pub fn duration_chart(out: &mut String, data: &ReportData) {
    let labels = day_labels(data);
    let pick = |f: fn(&crate::model::DailyPoint) -> i64| {
        data.daily
            .iter()
            .map(|d| (d.executions > 0).then_some(f(d) as f64))
            .collect::<Vec<_>>()
    };
    svg::line_chart(
        out,
        &LineChart {
            title: "Execution duration percentiles per day (UTC): p50, p95, p99",
            labels: &labels,
            series: vec![
                Series {
                    name: "p50",
                    color: svg::P50,
                    dash: None,
                    values: pick(|d| d.p50_duration_ms),
                },
                Series {
                    name: "p95",
                    color: svg::P95,
                    dash: Some("7 4"),
                    values: pick(|d| d.p95_duration_ms),
                },
                Series {
                    name: "p99",
                    color: svg::P99,
                    dash: Some("2 3"),
                    values: pick(|d| d.p99_duration_ms),
                },
            ],
            scale: Scale::Milliseconds,
        },
    );
}

fn duration_trend(out: &mut String, data: &ReportData) {
    out.push_str(
        "<section id=\"durations\"><h2>Duration percentiles trend</h2><div class=\"panel\">",
    );
    duration_chart(out, data);
    // The numbers behind both charts, for exact values and screen readers.
    let _ = write!(
        out,
        "<details><summary>Daily figures ({} day{})</summary><div class=\"scroll\">\
         <table class=\"sortable\"><thead><tr><th>Day</th><th class=\"num\">Executions</th>\
         <th class=\"num\">Passed</th><th class=\"num\">Failed</th><th class=\"num\">Pass rate</th>\
         <th class=\"num\">Average</th><th class=\"num\">p50</th><th class=\"num\">p95</th>\
         <th class=\"num\">p99</th></tr></thead><tbody>",
        data.daily.len(),
        plural(data.daily.len() as u64)
    );
    for day in &data.daily {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{}</td>",
            day.date,
            day.executions,
            thousands(day.executions),
            day.passed,
            thousands(day.passed),
            day.failed,
            thousands(day.failed)
        );
        num_cell(out, day.pass_rate, &percent(day.pass_rate));
        num_cell(out, day.avg_duration_ms, &duration(day.avg_duration_ms));
        for p in [
            day.p50_duration_ms,
            day.p95_duration_ms,
            day.p99_duration_ms,
        ] {
            num_cell(out, p as f64, &duration(p as f64));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details></div></section>\n");
}

fn flaky_flows(out: &mut String, flows: &[FlakyFlow]) {
    out.push_str("<section id=\"flaky\"><h2>Flakiest flows</h2>");
    if flows.is_empty() {
        out.push_str("<p class=\"muted\">No flaky or broken flows in this period.</p></section>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>Flow</th><th>Stability</th>\
         <th class=\"num\">Score</th><th class=\"num\">Runs</th><th class=\"num\">Passed</th>\
         <th class=\"num\">Failed</th><th class=\"num\">Flaky failures</th>\
         <th class=\"num\">Transitions</th><th>Now</th><th data-nosort>History</th></tr></thead><tbody>",
    );
    for flow in flows {
        out.push_str("<tr><td class=\"name\">");
        escape_into(out, &flow.flow_name);
        out.push_str("</td><td>");
        stability_badge(out, flow.stability);
        let _ = write!(
            out,
            "</td><td class=\"num\" data-v=\"{}\">{}",
            finite(flow.score),
            fixed(flow.score, 1)
        );
        svg::hbar(
            out,
            flow.score,
            100.0,
            svg::P95,
            &format!("flakiness score {} of 100", fixed(flow.score, 1)),
        );
        let _ = write!(
            out,
            "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"nowrap\">",
            flow.runs, flow.passed, flow.failed, flow.flaky_failures, flow.transitions
        );
        if flow.consecutive_failures > 0 {
            let _ = write!(
                out,
                "{} failure{} in a row",
                flow.consecutive_failures,
                plural(flow.consecutive_failures)
            );
        } else if flow.consecutive_successes > 0 {
            let _ = write!(
                out,
                "{} pass{} in a row",
                flow.consecutive_successes,
                if flow.consecutive_successes == 1 {
                    ""
                } else {
                    "es"
                }
            );
        }
        out.push_str("</td><td>");
        svg::sparkline(out, &flow.history);
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table></div>");
    legend(out);
    out.push_str("</section>\n");
}

/// Explains the sparkline's encoding once per table.
fn legend(out: &mut String) {
    out.push_str(
        "<div class=\"legend\"><span>History, oldest first:</span>\
         <span>bar above the line = passed</span><span>below = failed</span>\
         <span>short grey mark = cancelled</span></div>",
    );
}

fn categories(out: &mut String, categories: &[FailureCategory]) {
    out.push_str("<section id=\"categories\"><h2>Failure categories</h2>");
    let failures: u64 = categories.iter().map(|c| c.count).sum();
    if categories.is_empty() {
        out.push_str("<p class=\"muted\">No failures in this period.</p></section>\n");
        return;
    }
    let _ = write!(
        out,
        "<p class=\"lead\"><strong>{} failure{}, {} cause{}</strong></p>",
        thousands(failures),
        plural(failures),
        categories.len(),
        plural(categories.len() as u64)
    );
    let max = categories.iter().map(|c| c.count).max().unwrap_or(0) as f64;
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"num\">Failures</th>\
         <th>Kind</th><th>Cause</th><th>Flows</th><th>Last seen</th></tr></thead><tbody>",
    );
    for category in categories {
        let _ = write!(
            out,
            "<tr><td class=\"num\" data-v=\"{}\">{}",
            category.count,
            thousands(category.count)
        );
        svg::hbar(
            out,
            category.count as f64,
            max,
            svg::FAILED,
            &format!("{} failures", category.count),
        );
        out.push_str("</td><td><span class=\"badge\">");
        escape_into(out, &category.kind);
        out.push_str("</span></td><td><code>");
        escape_into(out, &category.signature);
        out.push_str("</code><details><summary class=\"small\">Example</summary><pre>");
        escape_into(out, &category.example);
        out.push_str("</pre></details></td><td class=\"small\">");
        for (index, flow) in category.flows.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            escape_into(out, flow);
        }
        let _ = write!(
            out,
            "</td><td class=\"small\" data-v=\"{}\">",
            category.last_seen.timestamp_millis()
        );
        timestamp(out, category.last_seen);
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn slowest_steps(out: &mut String, steps: &[StepStat]) {
    out.push_str("<section id=\"slowest-steps\"><h2>Slowest steps</h2>");
    if steps.is_empty() {
        out.push_str("<p class=\"muted\">No steps recorded in this period.</p></section>\n");
        return;
    }
    let max = steps
        .iter()
        .map(|s| finite(s.avg_duration_ms))
        .fold(0.0, f64::max);
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>Step</th><th>Flow</th>\
         <th>Action</th><th class=\"num\">Runs</th><th class=\"num\">Average</th>\
         <th class=\"num\">p95</th><th class=\"num\">Max</th><th class=\"num\">Errors</th>\
         </tr></thead><tbody>",
    );
    for step in steps {
        out.push_str("<tr><td class=\"name\"><code>");
        escape_into(out, &step.step_id);
        out.push_str("</code></td><td class=\"name\">");
        escape_into(out, &step.flow_name);
        out.push_str("</td><td><code>");
        escape_into(out, &step.action);
        let _ = write!(
            out,
            "</code></td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}",
            step.executions,
            thousands(step.executions),
            finite(step.avg_duration_ms),
            duration(step.avg_duration_ms)
        );
        svg::hbar(
            out,
            step.avg_duration_ms,
            max,
            svg::BAR,
            &format!("average {}", duration(step.avg_duration_ms)),
        );
        out.push_str("</td>");
        num_cell(
            out,
            step.p95_duration_ms as f64,
            &duration(step.p95_duration_ms as f64),
        );
        num_cell(
            out,
            step.max_duration_ms as f64,
            &duration(step.max_duration_ms as f64),
        );
        let _ = write!(
            out,
            "<td class=\"num\" data-v=\"{}\">{} ({})</td></tr>",
            step.errors,
            thousands(step.errors),
            percent(step.error_rate)
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn flows(out: &mut String, flows: &[FlowSummary]) {
    out.push_str("<section id=\"flows\"><h2>Per-flow history</h2>");
    if flows.is_empty() {
        out.push_str("<p class=\"muted\">No flows ran in this period.</p></section>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>Flow</th><th>Suite</th>\
         <th class=\"num\">Runs</th><th class=\"num\">Pass rate</th><th class=\"num\">Average</th>\
         <th class=\"num\">p95</th><th class=\"num\">Flakiness</th><th>Stability</th>\
         <th>Last run</th><th data-nosort>History</th></tr></thead><tbody>",
    );
    for flow in flows {
        out.push_str("<tr><td class=\"name\">");
        escape_into(out, &flow.flow_name);
        out.push_str("</td><td>");
        escape_into(out, &flow.suite);
        let _ = write!(
            out,
            "</td><td class=\"num\" data-v=\"{}\">{}<div class=\"small muted\">{} ✓ {} ✗</div></td>\
             <td class=\"num\" data-v=\"{}\">{}",
            flow.executions,
            thousands(flow.executions),
            thousands(flow.passed),
            thousands(flow.failed),
            finite(flow.pass_rate),
            percent(flow.pass_rate)
        );
        svg::hbar(
            out,
            flow.pass_rate,
            100.0,
            svg::PASSED,
            &format!("pass rate {}", percent(flow.pass_rate)),
        );
        out.push_str("</td>");
        num_cell(out, flow.avg_duration_ms, &duration(flow.avg_duration_ms));
        num_cell(
            out,
            flow.p95_duration_ms as f64,
            &duration(flow.p95_duration_ms as f64),
        );
        num_cell(out, flow.flakiness_score, &fixed(flow.flakiness_score, 1));
        out.push_str("<td>");
        stability_badge(out, flow.stability);
        let _ = write!(
            out,
            "</td><td class=\"small\" data-v=\"{}\">",
            flow.last.created_at.timestamp_millis()
        );
        status_badge(out, &flow.last.status);
        out.push(' ');
        timestamp(out, flow.last.created_at);
        if let Some(environment) = &flow.last.environment {
            out.push_str(" · ");
            escape_into(out, environment);
        }
        out.push_str("</td><td>");
        svg::sparkline(out, &flow.history);
        if !flow.recent_failures.is_empty() {
            let _ = write!(
                out,
                "<details><summary class=\"small\">{} earlier failure{}</summary><ul class=\"small\">",
                flow.recent_failures.len(),
                plural(flow.recent_failures.len() as u64)
            );
            for failure in &flow.recent_failures {
                out.push_str("<li>");
                brief(out, failure);
                out.push_str("</li>");
            }
            out.push_str("</ul></details>");
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table></div>");
    legend(out);
    out.push_str("</section>\n");
}

/// One line about an execution: when, how long, and why it failed.
fn brief(out: &mut String, execution: &ExecutionBrief) {
    timestamp(out, execution.created_at);
    let _ = write!(
        out,
        " · {} · <code>",
        duration(execution.duration_ms as f64)
    );
    escape_into(out, &execution.execution_id);
    out.push_str("</code>");
    if let Some(step) = &execution.failed_step {
        out.push_str(" · step <code>");
        escape_into(out, step);
        out.push_str("</code>");
    }
    if let Some(error) = &execution.error {
        out.push_str(": ");
        escape_into(out, first_line(error));
    }
}

fn failures(out: &mut String, data: &ReportData) {
    out.push_str("<section id=\"failures\"><h2>Failures</h2>");
    if data.failures.is_empty() {
        out.push_str("<p class=\"muted\">No failed executions in this period.</p></section>\n");
        return;
    }
    let shown = data.failures.len() as u64;
    if data.summary.failed > shown {
        let _ = write!(
            out,
            "<p class=\"muted\">The newest {} of {} failed executions, newest first.</p>",
            thousands(shown),
            thousands(data.summary.failed)
        );
    } else {
        out.push_str("<p class=\"muted\">Every failed execution, newest first.</p>");
    }
    for (index, failure) in data.failures.iter().enumerate() {
        failure_detail(out, index, failure);
    }
    out.push_str("</section>\n");
}

fn failure_detail(out: &mut String, index: usize, failure: &FailureDetail) {
    let execution = &failure.execution;
    let _ = write!(
        out,
        "<article class=\"failure\" id=\"failure-{}\"><header><h3>",
        index + 1
    );
    escape_into(out, &failure.flow_name);
    out.push_str("</h3>");
    status_badge(out, &execution.status);
    out.push_str("<span class=\"muted small\">suite ");
    escape_into(out, &failure.suite);
    out.push_str(" · ");
    timestamp(out, execution.created_at);
    let _ = write!(out, " · {}", duration(execution.duration_ms as f64));
    if let Some(environment) = &execution.environment {
        out.push_str(" · ");
        escape_into(out, environment);
    }
    out.push_str("</span></header>");
    if let Some(error) = &execution.error {
        out.push_str("<div class=\"error\">");
        escape_into(out, error);
        out.push_str("</div>");
    }
    out.push_str("<p class=\"small muted\">Execution <code>");
    escape_into(out, &execution.execution_id);
    out.push_str("</code>");
    if let Some(step) = &execution.failed_step {
        out.push_str(" · failed step <code>");
        escape_into(out, step);
        out.push_str("</code>");
    }
    if !failure.category.is_empty() {
        out.push_str(" · cause <code>");
        escape_into(out, &failure.category);
        out.push_str("</code>");
    }
    if !execution.retried_steps.is_empty() {
        out.push_str(" · passed on retry: ");
        for (index, step) in execution.retried_steps.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            out.push_str("<code>");
            escape_into(out, step);
            out.push_str("</code>");
        }
    }
    out.push_str("</p>");
    if failure.steps.is_empty() {
        out.push_str("<p class=\"muted small\">No step was recorded.</p></article>");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"steps\"><thead><tr><th>Step</th><th>Action</th>\
         <th>Status</th><th class=\"num\">Duration</th><th class=\"num\">Attempts</th></tr></thead><tbody>",
    );
    for step in &failure.steps {
        step_row(out, step);
    }
    out.push_str("</tbody></table></div></article>");
}

fn step_row(out: &mut String, step: &StepDetail) {
    // Nesting shows as indentation; capped so deep trees stay readable.
    let indent = step.depth.clamp(0, 8) as f64 * 1.25;
    let _ = write!(
        out,
        "<tr><td class=\"name\" style=\"padding-left:{:.2}em\">",
        0.75 + indent
    );
    match &step.name {
        Some(name) if name != &step.step_id => {
            escape_into(out, name);
            out.push_str(" <code class=\"muted\">");
            escape_into(out, &step.step_id);
            out.push_str("</code>");
        }
        _ => {
            out.push_str("<code>");
            escape_into(out, &step.step_id);
            out.push_str("</code>");
        }
    }
    out.push_str("</td><td><code>");
    escape_into(out, &step.action);
    out.push_str("</code></td><td>");
    status_badge(out, &step.status);
    if step.flaky {
        out.push_str(" <span class=\"badge flaky\">passed on retry</span>");
    }
    let _ = write!(
        out,
        "</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        duration(step.duration_ms as f64),
        step.attempts
    );
    let has_detail = step.error_message.is_some()
        || step.error_kind.is_some()
        || step.assertions.is_some()
        || step.request.is_some()
        || step.response.is_some();
    if !has_detail {
        return;
    }
    out.push_str("<tr class=\"detail\"><td colspan=\"5\">");
    if step.error_message.is_some() || step.error_kind.is_some() {
        out.push_str("<div class=\"error\">");
        if let Some(kind) = &step.error_kind {
            escape_into(out, kind);
            out.push_str(": ");
        }
        if let Some(message) = &step.error_message {
            escape_into(out, message);
        }
        out.push_str("</div>");
    }
    if let Some(assertions) = &step.assertions {
        assertions_table(out, assertions);
    }
    if let Some(request) = &step.request {
        exchange(out, "Request", request, request_summary(request));
    }
    if let Some(response) = &step.response {
        exchange(out, "Response", response, response_summary(response));
    }
    out.push_str("</td></tr>");
}

/// Assertion results as a table of expression, result, expected and actual values.
fn assertions_table(out: &mut String, assertions: &Value) {
    let Some(list) = assertions.as_array() else {
        // Not the recorded shape: show it as it is rather than drop it.
        out.push_str("<pre>");
        pretty(out, assertions);
        out.push_str("</pre>");
        return;
    };
    if list.is_empty() {
        return;
    }
    out.push_str(
        "<table class=\"assert\"><thead><tr><th>Assertion</th><th></th><th>Expected</th>\
         <th>Actual</th></tr></thead><tbody>",
    );
    for assertion in list {
        let passed = assertion.get("passed").and_then(Value::as_bool);
        out.push_str("<tr><td><code>");
        match assertion.get("expression") {
            Some(Value::String(expression)) => escape_into(out, expression),
            Some(other) => compact(out, other),
            None => compact(out, assertion),
        }
        out.push_str("</code>");
        if let Some(Value::String(message)) = assertion.get("message") {
            out.push_str("<div class=\"small muted\">");
            escape_into(out, message);
            out.push_str("</div>");
        }
        out.push_str("</td><td>");
        match passed {
            Some(true) => out.push_str("<span class=\"ok\" title=\"passed\">✓ passed</span>"),
            Some(false) => out.push_str("<span class=\"ko\" title=\"failed\">✗ failed</span>"),
            None => {}
        }
        out.push_str("</td><td><code>");
        if let Some(expected) = assertion.get("expected") {
            compact(out, expected);
        }
        out.push_str("</code></td><td><code>");
        if let Some(actual) = assertion.get("actual") {
            compact(out, actual);
        }
        out.push_str("</code></td></tr>");
    }
    out.push_str("</tbody></table>");
}

/// A request or response, collapsed: its one-line summary, then the whole JSON.
fn exchange(out: &mut String, label: &str, value: &Value, summary: String) {
    let _ = write!(out, "<details><summary>{label}");
    if !summary.is_empty() {
        out.push_str(" <code>");
        escape_into(out, &summary);
        out.push_str("</code>");
    }
    out.push_str("</summary><pre>");
    pretty(out, value);
    out.push_str("</pre></details>");
}

/// `POST https://…/orders` for an HTTP request; empty when the shape is unknown.
fn request_summary(request: &Value) -> String {
    let method = request.get("method").and_then(Value::as_str);
    let url = request.get("url").and_then(Value::as_str);
    match (method, url) {
        (Some(method), Some(url)) => format!("{method} {url}"),
        (None, Some(url)) => url.to_string(),
        _ => String::new(),
    }
}

/// `503 · 120 ms` for an HTTP response; empty when the shape is unknown.
fn response_summary(response: &Value) -> String {
    let mut summary = String::new();
    if let Some(status) = response.get("status").and_then(Value::as_i64) {
        let _ = write!(summary, "{status}");
    }
    if let Some(ms) = response.get("duration_ms").and_then(Value::as_f64) {
        if !summary.is_empty() {
            summary.push_str(" · ");
        }
        summary.push_str(&duration(ms));
    }
    summary
}

fn foot(out: &mut String, data: &ReportData) {
    let _ = write!(
        out,
        "</main>\n<footer><div class=\"wrap\">Generated by TestMesh on {} · report schema version {} \
         · times in UTC</div></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        data.meta.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        data.schema_version
    );
}

fn stability_badge(out: &mut String, stability: Stability) {
    let name = stability.as_str();
    let _ = write!(out, "<span class=\"badge {name}\">{name}</span>");
}

fn status_badge(out: &mut String, status: &str) {
    // Only known statuses become a class; anything else is shown as text in a neutral badge.
    let class = match status {
        "passed" | "completed" => "passed",
        "failed" => "failed",
        _ => "other",
    };
    let _ = write!(out, "<span class=\"badge {class}\">");
    escape_into(out, status);
    out.push_str("</span>");
}

fn num_cell(out: &mut String, sort_value: f64, text: &str) {
    let _ = write!(out, "<td class=\"num\" data-v=\"{}\">", finite(sort_value));
    escape_into(out, text);
    out.push_str("</td>");
}

fn timestamp(out: &mut String, at: DateTime<Utc>) {
    let _ = write!(
        out,
        "<time datetime=\"{}\">{}</time>",
        at.format("%Y-%m-%dT%H:%M:%SZ"),
        at.format("%Y-%m-%d %H:%M")
    );
}

fn pretty(out: &mut String, value: &Value) {
    // `{:#}` is serde_json's pretty printer; writing a Value cannot fail.
    escape_into(out, &format!("{value:#}"));
}

/// Strings as they are, anything else as compact JSON.
fn compact(out: &mut String, value: &Value) {
    match value {
        Value::String(text) => escape_into(out, text),
        other => escape_into(out, &other.to_string()),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Non-finite numbers (a rate divided by zero upstream) sort and draw as 0.
fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

fn fixed(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "–".to_string()
    }
}

fn percent(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1}%")
    } else {
        "–".to_string()
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `1,234,567`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration for people: `850 ms`, `1.25 s`, `12.5 s`, `3 min 20 s`, `1 h 5 min`.
fn duration(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".to_string();
    }
    let ms = ms.max(0.0);
    if ms < 1_000.0 {
        format!("{ms:.0} ms")
    } else if ms < 10_000.0 {
        format!("{:.2} s", ms / 1_000.0)
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1_000.0)
    } else {
        let seconds = (ms / 1_000.0).round() as u64;
        if seconds < 3_600 {
            format!("{} min {} s", seconds / 60, seconds % 60)
        } else {
            format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(849.6), "850 ms");
        assert_eq!(duration(1_250.0), "1.25 s");
        assert_eq!(duration(12_500.0), "12.5 s");
        assert_eq!(duration(200_000.0), "3 min 20 s");
        assert_eq!(duration(3_900_000.0), "1 h 5 min");
        assert_eq!(duration(f64::NAN), "–");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn summaries_of_requests_and_responses() {
        let request = serde_json::json!({"method": "POST", "url": "https://shop.test/orders"});
        assert_eq!(request_summary(&request), "POST https://shop.test/orders");
        let response = serde_json::json!({"status": 503, "duration_ms": 120});
        assert_eq!(response_summary(&response), "503 · 120 ms");
        assert_eq!(
            request_summary(&serde_json::json!({"query": "select 1"})),
            ""
        );
    }
}
