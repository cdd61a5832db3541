//! Console output of `testmesh run`: a progress bar and live step lines on a terminal, plain lines
//! otherwise, and for each failed step the assertion with expected vs actual and a request/response
//! excerpt.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use testmesh_runner::{Event, EventSink, FlowRecord, FlowStatus, StepRecord, StepStatus};

use crate::render::use_color;

/// Prints run progress. Each flow's lines are printed as one block when the flow ends, so flows
/// running in parallel never interleave; on a terminal, a bar shows flows done and the steps running.
pub(crate) struct Console {
    bar: Option<ProgressBar>,
    color: bool,
    /// (execution id, flow name, current step) of flows in progress.
    running: Mutex<Vec<(String, String, String)>>,
}

impl Console {
    /// A console for `total` flows.
    pub(crate) fn new(total: usize) -> Self {
        let tty = std::io::stdout().is_terminal();
        let bar = tty.then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} flows {elapsed} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Console {
            bar,
            color: use_color(tty),
            running: Mutex::new(Vec::new()),
        }
    }

    /// Prints a block of text above the progress bar (or plainly).
    pub(crate) fn print(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| out!("{text}")),
            None => out!("{text}"),
        }
    }

    /// Removes the bar before the summary.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Appends what `write` writes, in colour `code` when colours are on.
    fn paint_into(&self, out: &mut String, code: &str, write: impl FnOnce(&mut String)) {
        if self.color {
            let _ = write!(out, "\x1b[{code}m");
            write(out);
            out.push_str("\x1b[0m");
        } else {
            write(out);
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        let mut out = String::new();
        self.paint_into(&mut out, code, |out| out.push_str(text));
        out
    }

    fn update_message(&self) {
        if let Some(bar) = &self.bar {
            let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            let text: Vec<String> = running
                .iter()
                .map(|(_, flow, step)| format!("{flow} › {step}"))
                .collect();
            bar.set_message(text.join("  "));
        }
    }

    /// The block printed for a finished flow.
    pub(crate) fn flow_block(&self, record: &FlowRecord) -> String {
        let mut out = String::new();
        let (mark, color) = match record.status {
            FlowStatus::Passed => ("✓", "32"),
            FlowStatus::Failed => ("✗", "31"),
            FlowStatus::Skipped => ("○", "33"),
        };
        let location = record
            .path
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} {}{} {}\n",
            self.paint(mark, color),
            record.name,
            location,
            self.paint(&format_ms(record.duration), "2"),
        ));
        for step in &record.steps {
            self.step_lines(step, 1, &mut out);
        }
        out
    }

    fn step_lines(&self, step: &StepRecord, depth: usize, out: &mut String) {
        // Written straight into `out`: a long run prints a line per step.
        let indent = "  ".repeat(depth);
        let (mark, color) = match (step.status, step.continued) {
            (StepStatus::Passed, _) => ("✓", "32"),
            (StepStatus::Failed, true) => ("!", "33"),
            (StepStatus::Failed, false) => ("✗", "31"),
            (StepStatus::Skipped, _) => ("○", "2"),
        };
        out.push_str(&indent);
        self.paint_into(out, color, |out| out.push_str(mark));
        out.push(' ');
        out.push_str(step.name.as_deref().unwrap_or(&step.id));
        out.push(' ');
        self.paint_into(out, "2", |out| out.push_str(&step.action));
        out.push(' ');
        self.paint_into(out, "2", |out| {
            let mut separator = "";
            let mut detail = |out: &mut String, part: std::fmt::Arguments| {
                let _ = write!(out, "{separator}{part}");
                separator = ", ";
            };
            if let Some(status) = step
                .response
                .as_ref()
                .or(step.result.as_ref())
                .and_then(|r| r.get("status"))
                .and_then(Value::as_u64)
            {
                detail(out, format_args!("{status}"));
            }
            if step.status != StepStatus::Skipped {
                detail(out, format_args!("{}", Ms(step.duration)));
            }
            if step.attempts > 1 {
                detail(out, format_args!("{} attempts", step.attempts));
            }
            if step.flaky {
                detail(out, format_args!("flaky"));
            }
            if let Some(reason) = &step.skip_reason {
                detail(out, format_args!("skipped: {reason}"));
            }
        });
        out.push('\n');
        if let (Some(message), "log") = (
            step.result.as_ref().and_then(|r| r.get("message")),
            step.action.as_str(),
        ) {
            let text = message
                .as_str()
                .map_or_else(|| message.to_string(), str::to_string);
            for line in text.lines() {
                out.push_str(&format!("{indent}    {line}\n"));
            }
        }
        if step.status == StepStatus::Failed {
            self.failure_lines(step, &format!("{indent}    "), out);
        }
        for child in &step.children {
            self.step_lines(child, depth + 1, out);
        }
    }

    fn failure_lines(&self, step: &StepRecord, indent: &str, out: &mut String) {
        let failed: Vec<_> = step.assertions.iter().filter(|a| !a.passed).collect();
        if failed.is_empty() {
            if let Some(error) = &step.error {
                for line in error.message.lines() {
                    out.push_str(&format!("{indent}{}\n", self.paint(line, "31")));
                }
            }
        } else {
            for assertion in failed {
                out.push_str(&format!(
                    "{indent}{} {}\n",
                    self.paint("assertion failed:", "31"),
                    assertion.expression
                ));
                if let Some(expected) = &assertion.expected {
                    out.push_str(&format!("{indent}  expected: {}\n", excerpt(expected, 200)));
                }
                if let Some(actual) = &assertion.actual {
                    out.push_str(&format!("{indent}  actual:   {}\n", excerpt(actual, 200)));
                }
                if assertion.expected.is_none()
                    && assertion.actual.is_none()
                    && let Some(message) = &assertion.message
                {
                    out.push_str(&format!("{indent}  {message}\n"));
                }
            }
        }
        if let Some(request) = &step.request {
            let method = request.get("method").and_then(Value::as_str).unwrap_or("");
            let url = request.get("url").and_then(Value::as_str).unwrap_or("");
            if !url.is_empty() {
                out.push_str(&format!("{indent}request:  {method} {url}\n"));
            } else {
                out.push_str(&format!("{indent}request:  {}\n", excerpt(request, 300)));
            }
        }
        if let Some(response) = &step.response {
            let status = response
                .get("status")
                .map(|s| s.to_string())
                .unwrap_or_default();
            let body = response
                .get("body")
                .map(|b| excerpt(b, 300))
                .unwrap_or_default();
            out.push_str(&format!("{indent}response: {status} {body}\n"));
        }
    }
}

impl EventSink for Console {
    fn on_event(&self, event: Event<'_>) {
        // Without a progress bar only finished flows are printed: nothing to track per step.
        if self.bar.is_none() && !matches!(event, Event::FlowFinished { .. }) {
            return;
        }
        match event {
            Event::FlowStarted {
                execution_id, name, ..
            } => {
                self.running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((execution_id.to_string(), name.to_string(), String::new()));
                self.update_message();
            }
            // Only the progress bar shows the running step.
            Event::StepStarted {
                step_id,
                depth: 0,
                execution_id,
                ..
            } if self.bar.is_some() => {
                let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(entry) = running.iter_mut().find(|(id, _, _)| id == execution_id) {
                    entry.2 = step_id.to_string();
                }
                drop(running);
                self.update_message();
            }
            Event::FlowFinished { record } => {
                self.running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(id, _, _)| *id != record.execution_id);
                self.print(&self.flow_block(record));
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                self.update_message();
            }
            _ => {}
        }
    }
}

/// A value shortened for one line: strings as they are, other values as compact JSON.
fn excerpt(value: &Value, max: usize) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}… ({} more characters)", text.chars().count() - max)
    }
}

/// `45ms`, `1.2s`.
pub(crate) fn format_ms(duration: Duration) -> String {
    Ms(duration).to_string()
}

/// A duration shown as [`format_ms`] shows it.
struct Ms(Duration);

impl std::fmt::Display for Ms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            write!(f, "{:.1}s", self.0.as_secs_f64())
        }
    }
}

/// Aligns cells into columns (two spaces apart, trailing spaces trimmed): the header line first,
/// then one line per row.
pub(crate) fn columns(headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    std::iter::once(line(headers.to_vec()))
        .chain(
            rows.iter()
                .map(|r| line(r.iter().map(String::as_str).collect())),
        )
        .collect()
}
