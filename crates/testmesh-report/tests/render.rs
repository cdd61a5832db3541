//! The report formats over realistic data: the HTML page has every section, escapes user data and
//! references nothing outside itself; the JUnit XML validates against the Jenkins/Surefire schema
//! (`tests/fixtures/junit.xsd`, checked with `xmllint`) and maps flows, failures and flaky runs as
//! documented; the JSON reads back into the same `ReportData`.
//!
//! The schema check needs `xmllint` (Debian `libxml2-utils`; scripts/test.sh installs it). Without
//! it those tests fail under `CI` and are skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "fixtures/sample.rs"]
mod sample;

use std::path::{Path, PathBuf};
use std::process::Command;

use sample::{XSS_FLOW, empty, large, sample};
use testmesh_report::model::ReportData;
use testmesh_report::{html, json, junit};

// ---------------------------------------------------------------------------------------------
// HTML

#[test]
fn html_has_every_section() {
    let page = html::render(&sample());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for id in [
        "summary",
        "pass-rate",
        "durations",
        "flaky",
        "categories",
        "slowest-steps",
        "flows",
        "failures",
    ] {
        assert!(
            page.contains(&format!("<section id=\"{id}\"")),
            "no section {id}"
        );
        assert!(page.contains(&format!("href=\"#{id}\"")), "no link to {id}");
    }
    for text in [
        // Summary cards, percentiles and the flaky/broken counts.
        "Executions</div><div class=\"value\">1,240",
        "Pass rate</div><div class=\"value\">93.5%",
        "p50 duration</div><div class=\"value\">1.15 s",
        "p95 duration</div><div class=\"value\">3.21 s",
        "p99 duration</div><div class=\"value\">5.87 s",
        "Flaky flows</div><div class=\"value\">1",
        "Broken flows</div><div class=\"value\">1",
        // The trends: one pass-rate line, three percentile lines with a legend.
        "<title>Pass rate per day (UTC)</title>",
        ">p50</text>",
        ">p95</text>",
        ">p99</text>",
        "Daily figures (28 days)",
        // Flakiest flows with their sparkline and stability badge.
        "<span class=\"badge flaky\">flaky</span>",
        "<span class=\"badge broken\">broken</span>",
        "5 failures in a row",
        "Last 30 runs, oldest first: 24 passed, 6 failed",
        // Failure categories.
        "80 failures, 3 causes",
        "expected status &lt;n&gt;, got &lt;n&gt;",
        // Slowest steps.
        "<code>reindex</code>",
        "30.1 s",
        // Per-flow history.
        "Checkout totals",
        "2 earlier failures",
        "Last 10 runs, oldest first: 0 passed, 0 failed, 10 cancelled",
        // Failures with their steps: attempts, assertion expected vs actual, request/response.
        "The newest 2 of 80 failed executions",
        "Seed the user",
        "assertion: assertion failed: body.token != null (got null)",
        "<code>body.token != null</code>",
        "<code>not null</code></td><td><code>null</code>",
        "token was &lt;missing&gt;",
        "<details><summary>Request <code>POST https://auth.shop.test/oauth/token</code></summary>",
        "<details><summary>Response <code>200 · 612 ms</code></summary>",
        "passed on retry",
        "environments: staging",
    ] {
        assert!(page.contains(text), "missing {text:?}");
    }
    // Three attempts of the failed step.
    assert!(page.contains("<td class=\"num\">640 ms</td><td class=\"num\">3</td>"));
}

#[test]
fn html_escapes_user_data() {
    let page = html::render(&sample());
    assert!(!page.contains(XSS_FLOW), "the flow name came out as markup");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("<title>Nightly &lt;b&gt;regression&lt;/b&gt; &amp; smoke</title>"));
    assert!(!page.contains("<b>"));
    assert!(!page.contains("<img"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(page.contains("Login &amp; &quot;session&quot; refresh"));
    assert!(page.contains("expected status 201, got 503 &lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;"));
    // Our own sorting script is the only script.
    assert_eq!(page.matches("<script").count(), 1);
}

/// The text between the first `open` and the following `close`.
fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page.find(open).map_or(page.len(), |i| i + open.len());
    let rest = &page[start..];
    &rest[..rest.find(close).unwrap_or(rest.len())]
}

/// Every URL-bearing attribute (`src`, `href`, `srcset`, `action`, …) of every tag in `page`, as
/// `name=value`, and every `url(` or `@import` in its CSS (the stylesheet and `style`
/// attributes). Escaped user data has no raw `<`, so text never counts as a tag.
fn references(page: &str) -> Vec<String> {
    let script = between(page, "<script>", "</script>");
    // The script's comparisons (`x<y`) are not tags.
    let markup = page.replacen(script, "", 1);
    let mut found = Vec::new();
    let mut css = vec![between(&markup, "<style>", "</style>").to_string()];
    for (index, _) in markup.match_indices('<') {
        let tag = &markup[index + 1..];
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let tag = tag.split('>').next().unwrap_or_default();
        for name in [
            "src",
            "href",
            "srcset",
            "action",
            "formaction",
            "poster",
            "data",
            "xlink:href",
            "background",
            "style",
        ] {
            let needle = format!(" {name}=");
            for (at, _) in tag.to_ascii_lowercase().match_indices(&needle) {
                let rest = &tag[at + needle.len()..];
                let value = match rest.chars().next() {
                    Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or_default(),
                    _ => rest.split(' ').next().unwrap_or_default(),
                };
                if name == "style" {
                    css.push(value.to_string());
                } else {
                    found.push(format!("{name}={value}"));
                }
            }
        }
    }
    for css in css {
        let lower = css.to_ascii_lowercase();
        for needle in ["url(", "@import"] {
            for (index, _) in lower.match_indices(needle) {
                found.push(css[index..].chars().take(60).collect());
            }
        }
    }
    found
}

#[test]
fn html_references_nothing_outside_itself() {
    // The scanner finds what it must.
    let probe = "<style>a{background:url(https://x/a.png)}</style><p style='b:url(//y)'>src=text \
                 <img alt=a src=\"https://cdn/x.png\"><a href=#top>t</a><script>x<y</script>";
    assert_eq!(
        references(probe),
        [
            "src=https://cdn/x.png",
            "href=#top",
            "url(https://x/a.png)}",
            "url(//y)"
        ]
    );
    for data in [sample(), empty(), large(50)] {
        let page = html::render(&data);
        for reference in references(&page) {
            assert!(
                reference.starts_with("href=#"),
                "external or unexpected reference: {reference}"
            );
            assert!(!reference.contains("//"), "{reference}");
        }
        let script = between(&page, "<script>", "</script>");
        for word in [
            "http",
            "//",
            "fetch",
            "xmlhttprequest",
            "import",
            "src",
            "websocket",
        ] {
            assert!(
                !script.to_ascii_lowercase().contains(word),
                "the script uses {word}"
            );
        }
        let lower = page.to_ascii_lowercase();
        assert!(!lower.contains("<link"));
        assert!(!lower.contains("<iframe"));
        assert!(!lower.contains("<img"));
        assert!(lower.contains("content-security-policy"));
    }
    // The sample's URLs (in requests and errors) are there, as text.
    assert!(html::render(&sample()).contains("https://pay.shop.test/charges"));
}

#[test]
fn html_without_executions_says_so() {
    let page = html::render(&empty());
    assert!(page.contains("No executions in this period"), "{page}");
    assert!(page.contains("2025-03-01 and 2025-03-30"));
    assert!(!page.contains("<svg"), "no charts without data");
    assert!(!page.contains("<nav"));
    assert!(page.contains("Nightly &lt;b&gt;regression"));
    assert!(page.trim_end().ends_with("</html>"));
}

#[test]
fn html_handles_one_day_and_empty_lists() {
    let mut data = sample();
    data.daily.truncate(1);
    data.flaky_flows.clear();
    data.failure_categories.clear();
    data.slowest_steps.clear();
    data.failures.clear();
    let page = html::render(&data);
    assert!(page.contains("Daily figures (1 day)"));
    assert!(page.contains("No flaky or broken flows in this period."));
    assert!(page.contains("No failures in this period."));
    assert!(page.contains("No steps recorded in this period."));
    assert!(page.contains("No failed executions in this period."));
    // One point per line: drawn as markers.
    assert_eq!(page.matches("<circle").count(), 4);
}

#[test]
fn html_is_deterministic_and_survives_non_finite_numbers() {
    assert_eq!(html::render(&sample()), html::render(&sample()));
    let mut data = sample();
    data.summary.pass_rate = f64::NAN;
    data.flows[0].avg_duration_ms = f64::INFINITY;
    data.daily[0].pass_rate = f64::NAN;
    let page = html::render(&data);
    assert!(
        !page.contains("NaN") && !page.contains("inf"),
        "non-finite numbers leaked"
    );
}

#[test]
fn html_for_a_large_report() {
    let data = large(2_000);
    let started = std::time::Instant::now();
    let page = html::render(&data);
    // Printed, not asserted: wall-clock time is for the benchmark (bench/), not tests.
    eprintln!(
        "rendered {} bytes for {} flows, {} days and {} failures in {:?}",
        page.len(),
        data.flows.len(),
        data.daily.len(),
        data.failures.len(),
        started.elapsed()
    );
    assert!(page.contains("flow 01999 &lt;1999&gt;"));
    assert!(page.contains("Daily figures (365 days)"));
    // A year of days is drawn as lines without per-day markers.
    assert_eq!(page.matches("<circle").count(), 0);
    assert_eq!(page.matches("<article class=\"failure\"").count(), 100);
}

// ---------------------------------------------------------------------------------------------
// JUnit

/// `xmllint`, when installed. Missing: a failure under CI, a skip (with the reason) otherwise.
fn xmllint() -> Option<PathBuf> {
    let path = PathBuf::from("xmllint");
    if Command::new(&path).arg("--version").output().is_ok() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "xmllint is required under CI to validate JUnit XML (Debian package libxml2-utils; \
         scripts/test.sh installs it)"
    );
    eprintln!(
        "skipping the schema check: xmllint is not installed (apt-get install libxml2-utils)"
    );
    None
}

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd")
}

/// Validates `xml` against the JUnit schema; `Err` holds xmllint's complaint.
fn validate(xmllint: &Path, xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(&file)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn junit_validates_against_the_ci_schema() {
    let Some(xmllint) = xmllint() else {
        return;
    };
    for data in [sample(), empty(), large(30)] {
        let xml = junit::render(&data);
        if let Err(complaint) = validate(&xmllint, &xml) {
            panic!("invalid JUnit XML: {complaint}\n{xml}");
        }
    }
}

#[test]
fn the_schema_rejects_what_ci_tools_reject() {
    let Some(xmllint) = xmllint() else {
        return;
    };
    // Sanity: the check is real. A testcase without a name, a negative count, a flakyFailure
    // without its type.
    for bad in [
        r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase classname="c"/></testsuite></testsuites>"#,
        r#"<testsuites><testsuite name="s" tests="-1" failures="0" errors="0"/></testsuites>"#,
        r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="t"><flakyFailure message="m"/></testcase></testsuite></testsuites>"#,
        r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="t"><system-out/><failure/></testcase></testsuite></testsuites>"#,
    ] {
        assert!(validate(&xmllint, bad).is_err(), "accepted: {bad}");
    }
    let good = r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="1,234.5"><testcase name="t" time="0.250"><flakyFailure message="m" type="x"><stackTrace>trace</stackTrace></flakyFailure><system-out>out</system-out></testcase></testsuite></testsuites>"#;
    validate(&xmllint, good).unwrap();
}

/// The text of the first element named `tag` whose opening tag contains `marker`.
fn element<'a>(xml: &'a str, tag: &str, marker: &str) -> &'a str {
    let open = format!("<{tag} ");
    let start = xml
        .match_indices(&open)
        .map(|(i, _)| i)
        .find(|i| {
            xml[*i..]
                .split('>')
                .next()
                .unwrap_or_default()
                .contains(marker)
        })
        .unwrap_or_else(|| panic!("no <{tag}> with {marker}:\n{xml}"));
    let rest = &xml[start..];
    let head = rest.split('>').next().unwrap_or_default();
    if head.ends_with('/') {
        return &rest[..head.len() + 1];
    }
    let close = format!("</{tag}>");
    let end = rest.find(&close).unwrap_or(rest.len());
    &rest[..end + close.len()]
}

#[test]
fn junit_maps_suites_flows_failures_and_flaky_runs() {
    let xml = junit::render(&sample());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    // One testsuite per suite, in name order, with their counts.
    let suites: Vec<&str> = xml
        .match_indices("<testsuite ")
        .map(|(i, _)| xml[i..].split('"').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(suites, ["auth", "default", "shop"]);
    assert!(xml.contains(
        "<testsuites name=\"Nightly &lt;b&gt;regression&lt;/b&gt; &amp; smoke\" tests=\"5\" skipped=\"1\" failures=\"1\" errors=\"0\""
    ));
    let shop = element(&xml, "testsuite", "name=\"shop\"");
    assert!(shop.contains("tests=\"2\""), "{shop}");
    assert!(
        shop.contains("<property name=\"executions\" value=\"860\"/>"),
        "{shop}"
    );
    assert!(shop.contains("<property name=\"period_from\" value=\"2025-03-01\"/>"));

    // A failed newest run: <failure> with the error and the failed step; time is its duration.
    let login = element(&xml, "testcase", "Login");
    assert!(login.contains("classname=\"auth\""), "{login}");
    assert!(login.contains("time=\"0.702\""), "{login}");
    assert!(login.contains("<failure message=\"[main] step &apos;token&apos; (http_request): assertion failed: body.token != null (got null)\" type=\"flow failure\">"), "{login}");
    assert!(login.contains("failed step: token"), "{login}");
    assert!(!login.contains("<flakyFailure"));
    for (name, value) in [
        ("executions", "330"),
        ("pass_rate", "84.85"),
        ("flakiness_score", "0.00"),
        ("stability", "broken"),
    ] {
        assert!(
            login.contains(&format!("<property name=\"{name}\" value=\"{value}\"/>")),
            "{name} in {login}"
        );
    }

    // A passed newest run after failures: one flakyFailure per failure, escaped name.
    let xss = element(&xml, "testcase", "alert(1)");
    assert!(
        xss.contains("name=\"&lt;script&gt;alert(1)&lt;/script&gt;\""),
        "{xss}"
    );
    assert_eq!(xss.matches("<flakyFailure ").count(), 2, "{xss}");
    assert!(
        xss.contains("message=\"[main] step &apos;pay&apos; (http_request): timed out after 3s\"")
    );
    assert!(xss.contains("<stackTrace>"), "{xss}");
    assert!(
        xss.contains("execution e-xss-17 at 2025-03-28T02:00:00Z, 2950 ms, environment staging")
    );
    assert!(xss.contains("<property name=\"flakiness_score\" value=\"64.37\"/>"));
    assert!(!xss.contains("<failure"));

    // A passed run whose step passed on retry is flaky too.
    let search = element(&xml, "testcase", "Search catalogue");
    assert!(search.contains("classname=\"default\""));
    assert!(search.contains("<flakyFailure message=\"step &apos;query&apos; failed, then passed on retry\" type=\"retried step\">"), "{search}");

    // A stable flow: no failure elements; a cancelled newest run: skipped.
    let checkout = element(&xml, "testcase", "Checkout totals");
    assert!(!checkout.contains("<failure") && !checkout.contains("<flaky"));
    assert!(checkout.contains("history (oldest first): PPPP"));
    let reindex = element(&xml, "testcase", "Nightly reindex");
    assert!(
        reindex.contains("<skipped message=\"the newest execution was cancelled\"/>"),
        "{reindex}"
    );

    assert_eq!(junit::render(&sample()), xml, "deterministic");

    // The same earlier failures of a flow that is not flaky (a regression since fixed) do not
    // make it flaky in CI.
    let mut fixed = sample();
    let flow = fixed
        .flows
        .iter_mut()
        .find(|f| f.flow_name.contains("alert(1)"))
        .unwrap();
    flow.stability = testmesh_report::model::Stability::Stable;
    let xml = junit::render(&fixed);
    let case = element(&xml, "testcase", "alert(1)");
    assert!(!case.contains("<flakyFailure"), "{case}");
    assert!(!case.contains("<failure"), "{case}");
}

#[test]
fn junit_without_executions_is_an_empty_report() {
    let xml = junit::render(&empty());
    assert!(xml.contains("tests=\"0\""), "{xml}");
    assert!(!xml.contains("<testsuite "));
}

// ---------------------------------------------------------------------------------------------
// JSON

#[test]
fn json_round_trips() {
    for data in [sample(), empty(), large(10)] {
        let text = json::render(&data);
        let back: ReportData = serde_json::from_str(&text).unwrap();
        assert_eq!(back, data);
        assert!(
            text.starts_with("{\n  \"schema_version\": 1,"),
            "pretty, versioned"
        );
    }
    let text = json::render(&sample());
    assert!(text.contains("\"stability\": \"flaky\""));
    assert!(text.contains("\"generated_at\": \"2025-03-31T06:05:00Z\""));
    assert!(text.contains("\"from\": \"2025-03-01\""));
    // Filters given are listed; the others are left out.
    assert!(text.contains("\"environments\": ["));
    assert!(!text.contains("\"suites\": []"));
}
