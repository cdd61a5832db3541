//! Console rendering of findings: miette snippets with file:line:col for people, JSON for tools.

use std::io::IsTerminal;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use serde_json::{Value, json};
use testmesh_flow::{Diagnostic, Severity};

/// True when output may use colour: a terminal, and `NO_COLOR` unset.
pub(crate) fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders one finding with the offending snippet.
pub(crate) fn human(path: &str, source: &str, diagnostic: &Diagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let location = format!("{path}:{}:{}", diagnostic.span.line, diagnostic.span.col);
    let mut report = MietteDiagnostic::new(format!("{location}: {}", diagnostic.message))
        .with_severity(severity);
    if let Some(help) = &diagnostic.help {
        report = report.with_help(help.clone());
    }
    // Underline only the first line of a multi-line node (a mapping), and give zero-width spans a caret.
    let start = diagnostic.span.start.min(source.len());
    let first_line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let len = diagnostic
        .span
        .len()
        .min(first_line_end - start)
        .max(usize::from(start < source.len()));
    report = report.with_label(LabeledSpan::new(diagnostic.label.clone(), start, len));
    let report = Report::new(report).with_source_code(NamedSource::new(path, source.to_string()));
    let theme = if use_color(std::io::stdout().is_terminal()) {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    match GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .render_report(&mut out, report.as_ref())
    {
        Ok(()) => out,
        Err(_) => format!(
            "{}: {location}: {}\n",
            diagnostic.severity.as_str(),
            diagnostic.message
        ),
    }
}

/// One finding as JSON (`--format json`).
pub(crate) fn json(diagnostic: &Diagnostic) -> Value {
    json!({
        "severity": diagnostic.severity.as_str(),
        "code": diagnostic.code,
        "message": diagnostic.message,
        "line": diagnostic.span.line,
        "column": diagnostic.span.col,
        "offset": diagnostic.span.start,
        "length": diagnostic.span.len(),
        "label": diagnostic.label,
        "help": diagnostic.help,
    })
}
