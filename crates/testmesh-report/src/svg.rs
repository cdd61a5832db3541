//! Small SVG charts for reports and dashboard pages: a line chart with several series (pass-rate
//! and duration-percentile trends), a status sparkline (a flow's run history) and a horizontal
//! bar. Our own code rather than a chart library, so a report stays one self-contained file with
//! no scripts and no fonts to load.
//!
//! Every function appends to a `String` (reports write thousands of charts; one buffer avoids an
//! allocation per chart), escapes every text it writes, and is deterministic: the same input gives
//! byte-identical output. Charts carry their colours as attributes, so they render the same
//! without the report's stylesheet, and a `<title>` that screen readers announce.

use std::fmt::Write;

/// Colour of passed runs (green, 4.5:1 on white).
pub const PASSED: &str = "#1a7f37";
/// Colour of failed runs (red, 4.5:1 on white).
pub const FAILED: &str = "#cf222e";
/// Colour of cancelled runs and unknown statuses (grey).
pub const CANCELLED: &str = "#8c959f";
/// Colour of the pass-rate line.
pub const PASS_RATE: &str = "#0f7b6c";
/// Colour of the median (p50) duration line.
pub const P50: &str = "#0969da";
/// Colour of the p95 duration line.
pub const P95: &str = "#bc4c00";
/// Colour of the p99 duration line.
pub const P99: &str = "#8250df";
/// Colour of horizontal bars.
pub const BAR: &str = "#0969da";

/// Text colour of axis labels and legends.
const INK: &str = "#57606a";
/// Colour of grid lines.
const GRID: &str = "#d0d7de";
/// The system font stack: nothing to download.
const FONT: &str = "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif";

/// Width of a line chart's coordinate system (it scales to its container).
const WIDTH: f64 = 800.0;
/// Height of a line chart's coordinate system.
const HEIGHT: f64 = 260.0;
const MARGIN_LEFT: f64 = 64.0;
/// Wide enough for half an x label, so the last one can be centred on its point.
const MARGIN_RIGHT: f64 = 40.0;
const MARGIN_TOP: f64 = 32.0;
const MARGIN_BOTTOM: f64 = 36.0;
/// Up to this many points get a marker with a tooltip; beyond it markers would hide the line.
const MARKER_LIMIT: usize = 62;
/// The most x-axis labels drawn, whatever the number of points (a date label is ~70 units
/// wide; the plot is ~700).
const X_LABELS: usize = 6;

/// How a line chart's y axis is scaled and labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 0–100, labelled `0%` … `100%`.
    Percent,
    /// Milliseconds from 0 to a rounded maximum, labelled `250 ms`, `1.5 s`, `2 min`.
    Milliseconds,
}

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Stroke colour (any CSS colour).
    pub color: &'a str,
    /// `stroke-dasharray`, so lines differ by more than colour (`None` for a solid line).
    pub dash: Option<&'a str>,
    /// One value per label; `None` leaves a gap (a day without data).
    pub values: Vec<Option<f64>>,
}

/// A line chart: labels along x, one or more series of values.
#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    /// What the chart shows, for screen readers and the tooltip.
    pub title: &'a str,
    /// X-axis labels, one per point (days, say).
    pub labels: &'a [String],
    /// The lines.
    pub series: Vec<Series<'a>>,
    /// How y is scaled.
    pub scale: Scale,
}

pub use testmesh_flow::markup::escape_into;

/// Appends a line chart as an inline `<svg>` that scales to its container's width.
///
/// No labels gives a framed "No data" chart; one point is drawn in the middle; many points (a year
/// of days) are drawn as a line without markers and with at most six x labels. Values that are
/// not finite are treated as gaps.
pub fn line_chart(out: &mut String, chart: &LineChart<'_>) {
    let count = chart.labels.len();
    let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" \
         font-family=\"{FONT}\" font-size=\"12\"><title>"
    );
    escape_into(out, chart.title);
    out.push_str("</title>");

    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let ticks = match chart.scale {
        Scale::Percent => vec![0.0, 25.0, 50.0, 75.0, 100.0],
        Scale::Milliseconds => millisecond_ticks(max),
    };
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let y_of = |value: f64| MARGIN_TOP + plot_height - value.clamp(0.0, top) / top * plot_height;
    let x_of = |index: usize| {
        if count <= 1 {
            MARGIN_LEFT + plot_width / 2.0
        } else {
            MARGIN_LEFT + index as f64 * plot_width / (count - 1) as f64
        }
    };

    // Grid and y labels.
    for &tick in &ticks {
        let y = y_of(tick);
        let _ = write!(
            out,
            "<line x1=\"{MARGIN_LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\" \
             stroke-width=\"1\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">",
            WIDTH - MARGIN_RIGHT,
            MARGIN_LEFT - 8.0,
            y + 4.0
        );
        match chart.scale {
            Scale::Percent => {
                let _ = write!(out, "{tick}%");
            }
            Scale::Milliseconds => axis_duration(out, tick),
        }
        out.push_str("</text>");
    }

    if count == 0 {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\" \
             font-size=\"14\">No data</text></svg>",
            MARGIN_LEFT + plot_width / 2.0,
            MARGIN_TOP + plot_height / 2.0
        );
        return;
    }

    // X labels: evenly spread, the first and last always, each centred on its point.
    let shown = count.min(X_LABELS);
    let mut previous = None;
    for k in 0..shown {
        let index = if shown == 1 {
            0
        } else {
            (k * (count - 1) + (shown - 1) / 2) / (shown - 1)
        };
        if previous == Some(index) {
            continue;
        }
        previous = Some(index);
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">",
            x_of(index),
            HEIGHT - MARGIN_BOTTOM + 20.0
        );
        if let Some(label) = chart.labels.get(index) {
            escape_into(out, label);
        }
        out.push_str("</text>");
    }

    // Legend, left to right above the plot.
    let mut legend_x = MARGIN_LEFT;
    for series in &chart.series {
        let _ = write!(
            out,
            "<line x1=\"{legend_x:.1}\" x2=\"{:.1}\" y1=\"14\" y2=\"14\" stroke=\"",
            legend_x + 18.0
        );
        escape_into(out, series.color);
        out.push_str("\" stroke-width=\"2.5\"");
        dash_attribute(out, series.dash);
        let _ = write!(
            out,
            "/><text x=\"{:.1}\" y=\"18\" fill=\"{INK}\">",
            legend_x + 24.0
        );
        escape_into(out, series.name);
        out.push_str("</text>");
        // System fonts differ; 7 px per character is a safe average for 12 px text.
        legend_x += 24.0 + 7.0 * series.name.chars().count() as f64 + 20.0;
    }

    for series in &chart.series {
        let value_at = |index: usize| {
            series
                .values
                .get(index)
                .copied()
                .flatten()
                .filter(|v| v.is_finite())
        };
        // The line, broken where a value is missing.
        let mut path = String::with_capacity(count * 14);
        let mut pen_down = false;
        for index in 0..count {
            match value_at(index) {
                Some(value) => {
                    let _ = write!(
                        path,
                        "{}{:.1} {:.1}",
                        if pen_down { " L" } else { " M" },
                        x_of(index),
                        y_of(value)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            out.push_str("<path fill=\"none\" stroke=\"");
            escape_into(out, series.color);
            out.push_str(
                "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
            );
            dash_attribute(out, series.dash);
            let _ = write!(out, " d=\"{}\"/>", path.trim_start());
        }
        // Markers with a tooltip when there are few points; otherwise only for points without a
        // neighbour, which a path cannot show.
        for index in 0..count {
            let Some(value) = value_at(index) else {
                continue;
            };
            let isolated =
                (index == 0 || value_at(index - 1).is_none()) && value_at(index + 1).is_none();
            if count > MARKER_LIMIT && !isolated {
                continue;
            }
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#fff\" stroke-width=\"2\" stroke=\"",
                x_of(index),
                y_of(value)
            );
            escape_into(out, series.color);
            out.push_str("\"><title>");
            if let Some(label) = chart.labels.get(index) {
                escape_into(out, label);
            }
            out.push_str(" · ");
            escape_into(out, series.name);
            out.push_str(": ");
            match chart.scale {
                Scale::Percent => {
                    let _ = write!(out, "{value:.2}%");
                }
                Scale::Milliseconds => {
                    let _ = write!(out, "{value:.0} ms");
                }
            }
            out.push_str("</title></circle>");
        }
    }
    out.push_str("</svg>");
}

/// Appends a sparkline of run statuses, oldest first: a passed run is a green bar above the
/// middle line, a failed run a red bar below it, a cancelled (or unknown) run a short grey mark on
/// it — position tells them apart as well as colour. No statuses gives an empty baseline.
pub fn sparkline<S: AsRef<str>>(out: &mut String, statuses: &[S]) {
    const BAR_WIDTH: usize = 6;
    const STEP: usize = 8;
    const HEIGHT: usize = 22;
    let width = (statuses.len() * STEP).max(STEP * 4);
    let (mut passed, mut failed, mut other) = (0usize, 0usize, 0usize);
    for status in statuses {
        match status.as_ref() {
            "passed" => passed += 1,
            "failed" => failed += 1,
            _ => other += 1,
        }
    }
    let _ = write!(
        out,
        "<svg class=\"spark\" viewBox=\"0 0 {width} {HEIGHT}\" width=\"{width}\" \
         height=\"{HEIGHT}\" role=\"img\"><title>"
    );
    if statuses.is_empty() {
        out.push_str("No runs");
    } else {
        let _ = write!(
            out,
            "Last {} runs, oldest first: {passed} passed, {failed} failed",
            statuses.len()
        );
        if other > 0 {
            let _ = write!(out, ", {other} cancelled");
        }
    }
    let _ = write!(
        out,
        "</title><line x1=\"0\" x2=\"{width}\" y1=\"11\" y2=\"11\" stroke=\"{GRID}\" \
         stroke-width=\"1\"/>"
    );
    for (index, status) in statuses.iter().enumerate() {
        let x = index * STEP;
        let (y, height, color) = match status.as_ref() {
            "passed" => (1, 10, PASSED),
            "failed" => (11, 10, FAILED),
            _ => (9, 4, CANCELLED),
        };
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{BAR_WIDTH}\" height=\"{height}\" rx=\"1\" \
             fill=\"{color}\"/>"
        );
    }
    out.push_str("</svg>");
}

/// Appends a horizontal bar: `value` out of `max` filled in `color` over a light track, stretching
/// to its container's width. `label` is its accessible text. A `max` of zero (or anything not
/// positive and finite) draws an empty track.
pub fn hbar(out: &mut String, value: f64, max: f64, color: &str, label: &str) {
    let share = if max.is_finite() && max > 0.0 && value.is_finite() {
        (value / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    out.push_str(
        "<svg class=\"bar\" viewBox=\"0 0 100 8\" width=\"100%\" height=\"8\" \
         preserveAspectRatio=\"none\" role=\"img\"><title>",
    );
    escape_into(out, label);
    let _ = write!(
        out,
        "</title><rect width=\"100\" height=\"8\" rx=\"2\" fill=\"#eaeef2\"/>\
         <rect width=\"{:.2}\" height=\"8\" rx=\"2\" fill=\"",
        share * 100.0
    );
    escape_into(out, color);
    out.push_str("\"/></svg>");
}

fn dash_attribute(out: &mut String, dash: Option<&str>) {
    if let Some(dash) = dash {
        out.push_str(" stroke-dasharray=\"");
        escape_into(out, dash);
        out.push('"');
    }
}

/// Ticks from 0 to a round value at or above `max`: steps of 1, 2 or 5 × 10ⁿ ms, about four of
/// them, so labels read `0, 500 ms, 1 s, 1.5 s`.
fn millisecond_ticks(max: f64) -> Vec<f64> {
    // An all-zero chart still gets a readable axis.
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        100.0
    };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0);
    let steps = (max / step).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// A compact duration for axis labels: `0`, `750 ms`, `1.5 s`, `2 min`, `1.5 h`.
fn axis_duration(out: &mut String, ms: f64) {
    if ms == 0.0 {
        out.push('0');
    } else if ms < 1_000.0 {
        let _ = write!(out, "{} ms", trim(ms));
    } else if ms < 60_000.0 {
        let _ = write!(out, "{} s", trim(ms / 1_000.0));
    } else if ms < 3_600_000.0 {
        let _ = write!(out, "{} min", trim(ms / 60_000.0));
    } else {
        let _ = write!(out, "{} h", trim(ms / 3_600_000.0));
    }
}

/// A number with at most two decimals and no trailing zeros.
fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("day {i}")).collect()
    }

    fn chart(labels: &[String], values: Vec<Option<f64>>, scale: Scale) -> String {
        let mut out = String::new();
        line_chart(
            &mut out,
            &LineChart {
                title: "Trend <of> \"things\"",
                labels,
                series: vec![Series {
                    name: "p50 & co",
                    color: P50,
                    dash: Some("6 3"),
                    values,
                }],
                scale,
            },
        );
        out
    }

    #[test]
    fn a_chart_without_points_says_no_data() {
        let out = chart(&[], vec![], Scale::Percent);
        assert!(out.contains("No data"), "{out}");
        assert!(!out.contains("<path"));
        assert!(out.ends_with("</svg>"));
    }

    #[test]
    fn one_point_is_a_marker_in_the_middle() {
        let out = chart(&labels(1), vec![Some(50.0)], Scale::Percent);
        assert!(out.contains("<circle cx=\"412.0\""), "{out}");
        assert!(out.contains("day 0 · p50 &amp; co: 50.00%"), "{out}");
    }

    #[test]
    fn a_year_of_points_has_no_markers_and_six_labels() {
        let values = (0..365).map(|i| Some(f64::from(i % 100))).collect();
        let out = chart(&labels(365), values, Scale::Percent);
        assert_eq!(out.matches("<circle").count(), 0);
        assert!(out.contains("day 0<") && out.contains("day 364<"));
        assert_eq!(out.matches(">day ").count(), 6, "{out}");
        assert_eq!(out.matches("<path").count(), 1);
    }

    #[test]
    fn gaps_break_the_line_and_isolated_points_keep_a_marker() {
        let mut values: Vec<Option<f64>> = (0..100).map(|_| Some(10.0)).collect();
        values[50] = None;
        values[52] = None;
        values[53] = Some(f64::NAN);
        let out = chart(&labels(100), values, Scale::Milliseconds);
        let path = out.split(" d=\"").nth(1).unwrap_or_default();
        assert_eq!(path.matches('M').count(), 3, "{path}");
        // Point 51 sits between two gaps: only a marker shows it.
        assert_eq!(out.matches("<circle").count(), 1);
    }

    #[test]
    fn text_is_escaped_and_output_is_deterministic() {
        let a = chart(&labels(3), vec![Some(1.0), None, Some(3.0)], Scale::Percent);
        let b = chart(&labels(3), vec![Some(1.0), None, Some(3.0)], Scale::Percent);
        assert_eq!(a, b);
        assert!(a.contains("<title>Trend &lt;of&gt; &quot;things&quot;</title>"));
        assert!(!a.contains("<of>"));
    }

    #[test]
    fn millisecond_axes_are_round_and_readable() {
        assert_eq!(
            millisecond_ticks(900.0),
            vec![0.0, 250.0, 500.0, 750.0, 1000.0]
        );
        assert_eq!(millisecond_ticks(0.0), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(millisecond_ticks(1.0), vec![0.0, 1.0]);
        let ticks = millisecond_ticks(123_456.0);
        assert!(ticks.len() <= 6 && *ticks.last().unwrap_or(&0.0) >= 123_456.0);
        let mut out = String::new();
        for ms in [0.0, 250.0, 1_500.0, 120_000.0, 5_400_000.0] {
            axis_duration(&mut out, ms);
            out.push('|');
        }
        assert_eq!(out, "0|250 ms|1.5 s|2 min|1.5 h|");
    }

    #[test]
    fn sparklines_place_statuses_apart() {
        let mut out = String::new();
        sparkline(&mut out, &["passed", "failed", "cancelled"]);
        assert!(out.contains("1 passed, 1 failed, 1 cancelled"), "{out}");
        assert!(out.contains(&format!(
            "y=\"1\" width=\"6\" height=\"10\" rx=\"1\" fill=\"{PASSED}\""
        )));
        assert!(out.contains(&format!(
            "y=\"11\" width=\"6\" height=\"10\" rx=\"1\" fill=\"{FAILED}\""
        )));
        let mut empty = String::new();
        sparkline::<&str>(&mut empty, &[]);
        assert!(empty.contains("No runs") && !empty.contains("<rect"));
    }

    #[test]
    fn bars_clamp_and_survive_a_zero_maximum() {
        let mut out = String::new();
        hbar(&mut out, 5.0, 0.0, BAR, "x");
        hbar(&mut out, 20.0, 10.0, BAR, "y");
        hbar(&mut out, 2.5, 10.0, BAR, "z");
        assert!(out.contains("width=\"0.00\""));
        assert!(out.contains("width=\"100.00\""));
        assert!(out.contains("width=\"25.00\""));
    }
}
