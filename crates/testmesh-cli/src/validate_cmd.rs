//! `testmesh validate`: check flow files without running them.

use std::path::PathBuf;

use serde_json::json;
use testmesh_flow::validate::{FlowLinks, check_run_flow_cycles};
use testmesh_flow::{Diagnostic, Severity};

use crate::{CliError, EXIT_INVALID_INPUT, EXIT_OK, files, render};

/// Check flow files: YAML syntax, keys and types, actions and their settings, step ids, references,
/// durations, expressions and run_flow cycles. Nothing is executed.
///
/// Errors stop a flow from running; warnings point at likely mistakes such as unknown keys (which are
/// ignored) or variables that must come from the environment. Every finding names file:line:col.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh validate flows/\n  testmesh validate login.yaml checkout.yaml\n  \
testmesh validate 'flows/**/*.yaml' --strict\n  testmesh validate flows/ --format json | jq '.summary'\n\n\
Exit codes: 0 no errors (warnings allowed unless --strict), 2 errors found or unreadable input."
)]
pub(crate) struct Args {
    /// Flow files, directories (searched for *.yaml and *.yml) or glob patterns.
    #[arg(required = true, value_name = "PATH|GLOB")]
    paths: Vec<String>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Findings with source snippets, then a summary.
    Human,
    /// One JSON document with every file's findings.
    Json,
}

/// What is kept of one file: its findings, the text only when there are findings to show, and its
/// run_flow links. The flow itself is dropped as soon as it is checked, so memory stays flat.
struct Checked {
    path: PathBuf,
    text: String,
    name: Option<String>,
    links: Option<FlowLinks>,
    diagnostics: Vec<Diagnostic>,
}

impl Checked {
    fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let paths = files::expand(&args.paths)?;
    let mut checked = load_all(paths)?;
    add_cycle_findings(&mut checked);
    if args.strict {
        for file in &mut checked {
            for d in &mut file.diagnostics {
                d.severity = Severity::Error;
            }
        }
    }
    let (errors, warnings, failed_files) = count(&checked);
    match args.format {
        Format::Human => print_human(&checked, errors, warnings, failed_files),
        Format::Json => print_json(&checked, errors, warnings, failed_files)?,
    }
    Ok(if errors > 0 {
        EXIT_INVALID_INPUT
    } else {
        EXIT_OK
    })
}

/// Loads files on every core; the result keeps the input order.
fn load_all(paths: Vec<PathBuf>) -> Result<Vec<Checked>, CliError> {
    files::map_parallel(
        &paths,
        |path| load_one(path.to_path_buf()),
        || Err(CliError::Internal("a validation thread panicked".into())),
    )
    .into_iter()
    .collect()
}

fn load_one(path: PathBuf) -> Result<Checked, CliError> {
    let size = std::fs::metadata(&path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?
        .len();
    // Refuse oversized files before reading them into memory.
    if size > testmesh_flow::MAX_FILE_BYTES as u64 {
        let diagnostic = Diagnostic::error(
            "file-too-large",
            format!(
                "the file is {size} bytes; flow files are limited to {} bytes",
                testmesh_flow::MAX_FILE_BYTES
            ),
            testmesh_flow::yaml::Span {
                start: 0,
                end: 0,
                line: 1,
                col: 1,
            },
        );
        return Ok(Checked {
            path,
            text: String::new(),
            name: None,
            links: None,
            diagnostics: vec![diagnostic],
        });
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    let (text, flow, diagnostics) = match String::from_utf8(bytes) {
        Ok(text) => match files::load_unless_mock(&text) {
            Some(loaded) => (text, loaded.flow, loaded.diagnostics),
            None => {
                let diagnostics = match testmesh_mock::load::load_str(&text, Some(&path)) {
                    Ok(_) => Vec::new(),
                    Err(e) => e.errors.iter().map(|d| d.to_diagnostic()).collect(),
                };
                (text, None, diagnostics)
            }
        },
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            // Everything before the bad byte is valid UTF-8: count lines and characters in it.
            let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let col = valid
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            let diagnostic = Diagnostic::error(
                "encoding",
                "the file is not valid UTF-8",
                testmesh_flow::yaml::Span {
                    start: offset,
                    end: offset,
                    line,
                    col,
                },
            );
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                None,
                vec![diagnostic],
            )
        }
    };
    Ok(Checked {
        path,
        text: if diagnostics.is_empty() {
            String::new()
        } else {
            text
        },
        name: flow.as_ref().map(|f| f.name.clone()),
        links: flow.as_ref().map(FlowLinks::of),
        diagnostics,
    })
}

fn add_cycle_findings(checked: &mut [Checked]) {
    let (indexes, files): (Vec<usize>, Vec<_>) = checked
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.links.as_ref().map(|links| (i, (c.path.as_path(), links))))
        .unzip();
    let found = check_run_flow_cycles(&files);
    for (file, diagnostic) in found {
        let target = &mut checked[indexes[file]];
        if target.text.is_empty() {
            target.text = std::fs::read_to_string(&target.path).unwrap_or_default();
        }
        target.diagnostics.push(diagnostic);
    }
}

fn count(checked: &[Checked]) -> (usize, usize, usize) {
    let mut errors = 0;
    let mut warnings = 0;
    let mut failed_files = 0;
    for file in checked {
        let e = file.errors();
        errors += e;
        warnings += file.warnings();
        failed_files += usize::from(e > 0);
    }
    (errors, warnings, failed_files)
}

fn print_human(checked: &[Checked], errors: usize, warnings: usize, failed_files: usize) {
    for file in checked {
        let path = file.path.display().to_string();
        for diagnostic in &file.diagnostics {
            outln!("{}", render::human(&path, &file.text, diagnostic));
        }
    }
    let files = checked.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors == 0 {
        outln!(
            "✓ {} valid{}",
            plural(files, "flow file"),
            if warnings > 0 {
                format!(" ({})", plural(warnings, "warning"))
            } else {
                String::new()
            }
        );
    } else {
        outln!(
            "✗ {} of {} with errors ({}, {})",
            failed_files,
            plural(files, "flow file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
}

fn print_json(
    checked: &[Checked],
    errors: usize,
    warnings: usize,
    failed_files: usize,
) -> Result<(), CliError> {
    let files: Vec<_> = checked
        .iter()
        .map(|file| {
            json!({
                "path": file.path.display().to_string(),
                "valid": file.errors() == 0,
                "name": file.name,
                "diagnostics": file.diagnostics.iter().map(render::json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "files": files,
        "summary": {
            "files": checked.len(),
            "valid": checked.len() - failed_files,
            "invalid": failed_files,
            "errors": errors,
            "warnings": warnings,
        }
    });
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| CliError::Internal(format!("cannot serialise the report: {e}")))?;
    outln!("{text}");
    Ok(())
}
