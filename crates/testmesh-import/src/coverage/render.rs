//! Coverage as a plain-text table, JSON and a self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};
use testmesh_flow::markup::escape_into;

use super::{Call, Coverage, CoverageStatus, OperationCoverage, status_label};

impl Coverage {
    /// One line of summary.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} of {} operation{} covered ({}%)",
            self.covered,
            self.total,
            if self.total == 1 { "" } else { "s" },
            number(self.percent)
        );
        if self.partial > 0 {
            let _ = write!(line, ", {} partially", self.partial);
        }
        let _ = write!(line, "; {} uncovered", self.uncovered());
        if !self.unmatched.is_empty() {
            let _ = write!(
                line,
                "; {} call{} matching no operation",
                self.unmatched.len(),
                if self.unmatched.len() == 1 { "" } else { "s" }
            );
        }
        line
    }

    /// An aligned plain-text report: the summary, one row per operation (uncovered first, then
    /// partial, then covered; document order within each), the unmatched calls and the
    /// recommendations. Statuses read `+201` (asserted or observed) and `-422` (never).
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        if !self.title.is_empty() {
            let _ = writeln!(out, "Coverage of {}", self.title);
        }
        let _ = writeln!(out, "{}", self.summary());
        out.push('\n');
        let mut rows: Vec<[String; 5]> = vec![[
            "STATUS".into(),
            "METHOD".into(),
            "PATH".into(),
            "STATUSES".into(),
            "FLOWS".into(),
        ]];
        for op in ordered(&self.operations) {
            let mut path = op.path.clone();
            if op.deprecated {
                path.push_str(" (deprecated)");
            }
            let flows = op.flows();
            let flows = if flows.is_empty() {
                "-".to_string()
            } else if flows.len() > 3 {
                format!("{} +{} more", flows[..3].join(", "), flows.len() - 3)
            } else {
                flows.join(", ")
            };
            rows.push([
                op.status.as_str().to_string(),
                op.method.clone(),
                path,
                statuses_text(op),
                flows,
            ]);
        }
        table(&mut out, &rows);
        if !self.operations.is_empty() {
            out.push_str("(statuses: + asserted or observed, - never)\n");
        }
        if !self.unmatched.is_empty() {
            out.push_str("\nCalls matching no operation:\n");
            let mut rows = vec![[
                "METHOD".to_string(),
                "URL".into(),
                "FLOW".into(),
                "STEP".into(),
                "WHY".into(),
            ]];
            for (i, call) in self.unmatched.iter().enumerate() {
                rows.push([
                    call.method.to_ascii_uppercase(),
                    call.url.clone(),
                    call.flow.clone(),
                    call.step.clone(),
                    self.unmatched_reason(i).unwrap_or_default().to_string(),
                ]);
            }
            table(&mut out, &rows);
        }
        if !self.recommendations.is_empty() {
            out.push_str("\nRecommendations:\n");
            for r in &self.recommendations {
                let _ = writeln!(out, "- {r}");
            }
        }
        out
    }

    /// The coverage as JSON, with stable field names: the counts (`total_endpoints`,
    /// `covered_endpoints`, `partial_endpoints`, `uncovered_endpoints`, `coverage_percent`), the
    /// operations split into `covered[]`, `partial[]` and `uncovered[]` (what the server stores in
    /// `coverage_analysis.results`), every operation in detail (`operations`), `unmatched` calls
    /// with the reason and `recommendations`. Statuses are strings (`"201"`, `"4XX"`).
    pub fn to_json(&self) -> Value {
        let brief = |status: CoverageStatus| -> Vec<Value> {
            self.operations
                .iter()
                .filter(|o| o.status == status)
                .map(|o| {
                    json!({
                        "method": o.method,
                        "path": o.path,
                        "operation_id": o.operation_id,
                        "summary": o.summary,
                        "tags": o.tags,
                        "flows": o.flows(),
                    })
                })
                .collect()
        };
        json!({
            "title": self.title,
            "total_endpoints": self.total,
            "covered_endpoints": self.covered,
            "partial_endpoints": self.partial,
            "uncovered_endpoints": self.uncovered(),
            "coverage_percent": self.percent,
            "covered": brief(CoverageStatus::Covered),
            "partial": brief(CoverageStatus::Partial),
            "uncovered": brief(CoverageStatus::Uncovered),
            "operations": self.operations.iter().map(operation_json).collect::<Vec<_>>(),
            "unmatched": self.unmatched.iter().enumerate().map(|(i, c)| {
                let mut value = call_json(c);
                if let Some(object) = value.as_object_mut() {
                    object.insert("reason".into(), json!(self.unmatched_reason(i).unwrap_or_default()));
                }
                value
            }).collect::<Vec<_>>(),
            "recommendations": self.recommendations,
        })
    }

    /// A self-contained HTML page (no scripts, fonts or images loaded): the summary, coverage per
    /// tag as bars, every operation with its statuses and flows, the unmatched calls and the
    /// recommendations. All text from the document and the flows is escaped.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(8_000 + self.operations.len() * 600);
        let title = if self.title.is_empty() {
            "API coverage".to_string()
        } else {
            format!("API coverage: {}", self.title)
        };
        out.push_str(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"generator\" content=\"TestMesh\">\n<title>",
        );
        escape_into(&mut out, &title);
        out.push_str("</title>\n<style>");
        out.push_str(STYLE);
        out.push_str("</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\"><h1>");
        escape_into(&mut out, &title);
        out.push_str("</h1><p class=\"meta\">");
        escape_into(&mut out, &self.summary());
        out.push_str("</p></div></header>\n<main class=\"wrap\">\n");

        // Summary cards.
        out.push_str("<section><div class=\"cards\">");
        let tone = if self.percent >= 80.0 {
            "good"
        } else if self.percent >= 50.0 {
            "warn"
        } else {
            "bad"
        };
        card(
            &mut out,
            "",
            "Coverage",
            &format!("{}%", number(self.percent)),
        );
        card(&mut out, tone, "Covered", &self.covered.to_string());
        card(
            &mut out,
            "warn",
            "Partially covered",
            &self.partial.to_string(),
        );
        card(&mut out, "bad", "Uncovered", &self.uncovered().to_string());
        card(&mut out, "", "Operations", &self.total.to_string());
        card(
            &mut out,
            "",
            "Unmatched calls",
            &self.unmatched.len().to_string(),
        );
        out.push_str("</div></section>\n");

        self.tags_html(&mut out);
        self.operations_html(&mut out);
        self.unmatched_html(&mut out);
        if !self.recommendations.is_empty() {
            out.push_str(
                "<section id=\"recommendations\"><h2>Recommendations</h2><ul class=\"recs\">",
            );
            for r in &self.recommendations {
                out.push_str("<li>");
                escape_into(&mut out, r);
                out.push_str("</li>");
            }
            out.push_str("</ul></section>\n");
        }
        out.push_str(
            "</main>\n<footer><div class=\"wrap\">Generated by TestMesh. An operation is covered \
             when a flow step (or a recorded run) calls it; statuses marked &#10003; are asserted \
             or were observed.</div></footer>\n</body>\n</html>\n",
        );
        out
    }

    fn tags_html(&self, out: &mut String) {
        let mut by_tag: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for op in &self.operations {
            let tags: Vec<&str> = if op.tags.is_empty() {
                vec![""]
            } else {
                op.tags.iter().map(String::as_str).collect()
            };
            for tag in tags {
                let entry = by_tag.entry(tag).or_default();
                entry.0 += 1;
                match op.status {
                    CoverageStatus::Covered => entry.1 += 1,
                    CoverageStatus::Partial => entry.2 += 1,
                    CoverageStatus::Uncovered => {}
                }
            }
        }
        if by_tag.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"tags\"><h2>By tag</h2><div class=\"scroll\"><table>\
             <thead><tr><th>Tag</th><th class=\"num\">Operations</th><th class=\"num\">Covered</th>\
             <th>Coverage</th></tr></thead><tbody>",
        );
        for (tag, (total, covered, partial)) in &by_tag {
            let reached = covered + partial;
            let pct = if *total == 0 {
                0.0
            } else {
                (reached as f64 * 1000.0 / *total as f64).round() / 10.0
            };
            let full = if *total == 0 {
                0.0
            } else {
                *covered as f64 * 100.0 / *total as f64
            };
            let part = if *total == 0 {
                0.0
            } else {
                *partial as f64 * 100.0 / *total as f64
            };
            out.push_str("<tr><td class=\"name\">");
            if tag.is_empty() {
                out.push_str("<span class=\"muted\">untagged</span>");
            } else {
                escape_into(out, tag);
            }
            let _ = write!(
                out,
                "</td><td class=\"num\">{total}</td><td class=\"num\">{reached}</td>\
                 <td><div class=\"bar\" role=\"img\" aria-label=\"{} percent covered\">\
                 <span class=\"full\" style=\"width:{full:.1}%\"></span>\
                 <span class=\"part\" style=\"width:{part:.1}%\"></span></div> \
                 <span class=\"small\">{}%</span></td></tr>",
                number(pct),
                number(pct)
            );
        }
        out.push_str("</tbody></table></div></section>\n");
    }

    fn operations_html(&self, out: &mut String) {
        out.push_str(
            "<section id=\"operations\"><h2>Operations</h2><div class=\"scroll\"><table>\
             <thead><tr><th>Status</th><th>Operation</th><th>Statuses</th><th>Flows</th></tr></thead><tbody>",
        );
        for op in ordered(&self.operations) {
            let _ = write!(
                out,
                "<tr><td><span class=\"badge {}\">{}</span></td><td class=\"name\"><code>",
                op.status.as_str(),
                op.status.as_str()
            );
            escape_into(out, &op.method);
            out.push(' ');
            escape_into(out, &op.path);
            out.push_str("</code>");
            if op.deprecated {
                out.push_str(" <span class=\"badge deprecated\">deprecated</span>");
            }
            let about: Vec<&str> = op
                .summary
                .iter()
                .chain(op.operation_id.iter())
                .map(String::as_str)
                .collect();
            if !about.is_empty() {
                out.push_str("<div class=\"muted small\">");
                escape_into(out, &about.join(" · "));
                out.push_str("</div>");
            }
            out.push_str("</td><td>");
            for key in &op.declared_statuses {
                let (class, mark) = if op.covered_statuses.contains(key) {
                    ("ok", "&#10003;")
                } else if key.eq_ignore_ascii_case("default") {
                    ("none", "")
                } else {
                    ("ko", "&#10007;")
                };
                let _ = write!(out, "<span class=\"chip {class}\">");
                escape_into(out, key);
                if !mark.is_empty() {
                    out.push(' ');
                    out.push_str(mark);
                }
                out.push_str("</span> ");
            }
            for key in &op.undeclared_statuses {
                out.push_str("<span class=\"chip extra\" title=\"not declared\">");
                escape_into(out, key);
                out.push_str(" ?</span> ");
            }
            out.push_str("</td><td class=\"small\">");
            let flows = op.flows();
            if flows.is_empty() {
                out.push_str("<span class=\"muted\">none</span>");
            }
            for (i, flow) in flows.iter().enumerate() {
                if i > 0 {
                    out.push_str("<br>");
                }
                escape_into(out, flow);
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table></div></section>\n");
    }

    fn unmatched_html(&self, out: &mut String) {
        if self.unmatched.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"unmatched\"><h2>Calls matching no operation</h2><div class=\"scroll\"><table>\
             <thead><tr><th>Call</th><th>Flow</th><th>Step</th><th>Why</th></tr></thead><tbody>",
        );
        for (i, call) in self.unmatched.iter().enumerate() {
            out.push_str("<tr><td class=\"name\"><code>");
            escape_into(out, &call.method.to_ascii_uppercase());
            out.push(' ');
            escape_into(out, &call.url);
            out.push_str("</code></td><td>");
            escape_into(out, &call.flow);
            out.push_str("</td><td>");
            escape_into(out, &call.step);
            out.push_str("</td><td class=\"small\">");
            escape_into(out, self.unmatched_reason(i).unwrap_or_default());
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table></div></section>\n");
    }
}

/// Uncovered, then partial, then covered; document order within each.
fn ordered(operations: &[OperationCoverage]) -> Vec<&OperationCoverage> {
    let mut ops: Vec<&OperationCoverage> = operations.iter().collect();
    ops.sort_by_key(|o| o.status);
    ops
}

/// `+200 -404 default`.
fn statuses_text(op: &OperationCoverage) -> String {
    let mut parts: Vec<String> = op
        .declared_statuses
        .iter()
        .map(|key| {
            if op.covered_statuses.contains(key) {
                format!("+{key}")
            } else if key.eq_ignore_ascii_case("default") {
                key.clone()
            } else {
                format!("-{key}")
            }
        })
        .collect();
    parts.extend(op.undeclared_statuses.iter().map(|s| format!("?{s}")));
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" ")
    }
}

fn operation_json(op: &OperationCoverage) -> Value {
    json!({
        "method": op.method,
        "path": op.path,
        "operation_id": op.operation_id,
        "summary": op.summary,
        "tags": op.tags,
        "deprecated": op.deprecated,
        "status": op.status.as_str(),
        "declared_statuses": op.declared_statuses,
        "covered_statuses": op.covered_statuses,
        "missing_statuses": op.missing_statuses,
        "undeclared_statuses": op.undeclared_statuses,
        "status_coverage": op.status_coverage,
        "flows": op.flows(),
        "covered_by": op.covered_by.iter().map(call_json).collect::<Vec<_>>(),
    })
}

fn call_json(call: &Call) -> Value {
    json!({
        "flow": call.flow,
        "step": call.step,
        "method": call.method,
        "url": call.url,
        "statuses": call.statuses.iter().map(|s| status_label(*s)).collect::<Vec<_>>(),
        "source": call.source.as_str(),
    })
}

/// `62.5`, `100`, `0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn table<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let mut widths = [0usize; N];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn card(out: &mut String, tone: &str, label: &str, value: &str) {
    let _ = write!(out, "<div class=\"card {tone}\"><div class=\"label\">");
    escape_into(out, label);
    out.push_str("</div><div class=\"value\">");
    escape_into(out, value);
    out.push_str("</div></div>");
}

/// The report pages' look (testmesh-report), trimmed to what this page uses.
const STYLE: &str = r#"
:root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--accent:#0969da;
--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#a40e26;--bad-bg:#ffebe9;--warn:#7d4e00;--warn-bg:#fff8c5;
--none:#424a53;--none-bg:#eaeef2}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;line-height:1.5;font-size:15px;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
.wrap{max-width:1200px;margin:0 auto;padding:0 20px}
header.top{background:#f6f8fa;border-bottom:1px solid var(--line);padding:20px 0 12px}
h1{font-size:26px;margin:0 0 4px;font-weight:650;overflow-wrap:anywhere}
h2{font-size:20px;margin:0 0 12px;font-weight:600}
.meta{color:var(--muted);margin:0}
section{margin:32px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fff}
.card .label{color:var(--muted);font-size:13px}
.card .value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3}
.card.good .value{color:var(--ok)}.card.bad .value{color:var(--bad)}.card.warn .value{color:var(--warn)}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);font-size:13px;color:var(--muted);font-weight:600;white-space:nowrap}
tbody tr:last-child>td{border-bottom:0}
td.num,th.num{text-align:right;white-space:nowrap}
.name{overflow-wrap:anywhere;font-weight:500;min-width:12em}
.muted{color:var(--muted)}.small{font-size:13px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;background:var(--none-bg);color:var(--none)}
.badge.covered{background:var(--ok-bg);color:var(--ok)}
.badge.uncovered{background:var(--bad-bg);color:var(--bad)}
.badge.partial,.badge.deprecated{background:var(--warn-bg);color:var(--warn)}
.chip{display:inline-block;padding:0 6px;margin:1px 0;border-radius:6px;font-size:12px;font-weight:600;white-space:nowrap;background:var(--none-bg);color:var(--none)}
.chip.ok{background:var(--ok-bg);color:var(--ok)}.chip.ko{background:var(--bad-bg);color:var(--bad)}
.chip.extra{background:var(--warn-bg);color:var(--warn)}
.bar{display:inline-flex;width:160px;height:10px;border-radius:5px;background:var(--bad-bg);overflow:hidden;vertical-align:middle}
.bar .full{background:var(--ok)}.bar .part{background:#d4a72c}
.recs li{margin:4px 0}
footer{color:var(--muted);font-size:13px;border-top:1px solid var(--line);margin-top:40px;padding:16px 0 32px}
@media (max-width:640px){body{font-size:14px}.card .value{font-size:22px}th,td{padding:6px}}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_numbers() {
        let mut out = String::new();
        escape_into(&mut out, "<a href=\"x\">O'Neil & co</a>");
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
        assert_eq!(number(62.5), "62.5");
        assert_eq!(number(100.0), "100");
    }

    #[test]
    fn tables_align_by_characters() {
        let mut out = String::new();
        table(
            &mut out,
            &[
                ["a".to_string(), "bb".into(), "c".into()],
                ["ééé".to_string(), "d".into(), "e".into()],
            ],
        );
        assert_eq!(out, "a    bb  c\nééé  d   e\n");
    }
}
