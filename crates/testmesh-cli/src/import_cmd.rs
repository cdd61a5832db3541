//! `testmesh import`: flows from OpenAPI documents, Postman collections, pacts and HAR recordings,
//! written one file per flow after each passed the checks of `testmesh validate`.

use std::path::{Path, PathBuf};

use testmesh_import::openapi::OpenApi;
use testmesh_import::openapi::flows::{FlowOptions, GroupBy};
use testmesh_import::{Import, ImportError, Source, har, pact_import, postman};

use crate::files::write_atomically;
use crate::{CliError, EXIT_OK};

/// Generate flows from an API description or a recording: an OpenAPI document (3.0, 3.1 or
/// Swagger 2.0), a Postman collection (v2.0/v2.1), a pact (v2–v4) or a HAR file.
///
/// Every flow is checked exactly as `testmesh validate` checks it before it is written, one YAML
/// file per flow, into the output directory. The summary lists what was generated, every item
/// that was skipped and why, and everything that could not be translated (a Postman script
/// line, an unsupported auth type) so you can finish it by hand. Nothing is written when an
/// existing file would be overwritten (unless --force) or when the input is invalid; errors name
/// the file, line and column.
///
/// No LLM is involved: requests, assertions and variables are derived from the document.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
testmesh import openapi petstore.yaml -o flows/petstore\n  \
testmesh import openapi api.json --group-by tag --negative --crud -o flows/api\n  \
testmesh import postman collection.json -o flows/postman\n  \
testmesh import pact pacts/web-orders.json -o flows/contracts\n  \
testmesh import har session.har --host api.example.com -o flows/recorded\n  \
testmesh import openapi api.yaml --dry-run --format json | jq '.skipped'\n\n\
Then: testmesh validate flows/petstore && testmesh run flows/petstore --var BASE_URL=http://localhost:8080\n\n\
Exit codes: 0 written (or previewed), 2 invalid input or a file in the way, 3 internal error.")]
pub(crate) struct Args {
    #[command(subcommand)]
    source: SourceCommand,
}

#[derive(clap::Subcommand)]
enum SourceCommand {
    /// Flows from an OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML; `$ref`s to other
    /// local files are followed): a request per operation with parameters and a body built from
    /// the examples or the schemas, and assertions on the status, the content type and the
    /// response schema. Security schemes become variables (API_TOKEN, API_KEY, …); the server
    /// URL becomes ${BASE_URL}.
    #[command(name = "openapi", alias = "swagger")]
    OpenApi {
        /// The OpenAPI document.
        #[arg(value_name = "SPEC")]
        file: PathBuf,
        /// One flow per operation, or one per tag with a step per operation.
        #[arg(long, value_name = "BY", default_value = "operation", value_parser = ["operation", "tag"])]
        group_by: String,
        /// Also write negative flows: schema-invalid bodies, missing required headers and
        /// undeclared methods, each expected to be rejected with a 4xx status.
        #[arg(long)]
        negative: bool,
        /// Also write create → read → update → delete flows where a collection path and its
        /// item path allow it, passing the created id through outputs.
        #[arg(long)]
        crud: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Flows from a Postman collection (v2.0 or v2.1): a flow per folder, a step per request,
    /// collection and folder variables as env, auth, bodies, and `pm.test` checks translated to
    /// assertions where recognisable.
    Postman {
        /// The collection (JSON).
        #[arg(value_name = "COLLECTION")]
        file: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A flow per pact (v2–v4): a step per HTTP interaction, provider states as comments and
    /// variables, matching rules as assertions. Message interactions are listed as skipped.
    Pact {
        /// The pact file (JSON).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Flows from an HTTP Archive (HAR 1.2, as browsers' dev tools save it): a flow per page, a
    /// step per API call; static assets, analytics and preflight requests are filtered out, and
    /// tokens and ids that a later request reuses become outputs and variables.
    Har {
        /// The HAR file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Keep requests for static assets (scripts, styles, images, fonts).
        #[arg(long)]
        keep_static: bool,
        /// Keep only requests to this host (repeatable; `host`, `host:port` or `*.example.com`).
        #[arg(long = "host", visible_alias = "include-host", value_name = "HOST")]
        hosts: Vec<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
}

#[derive(clap::Args)]
struct OutputArgs {
    /// Directory the flow files are written to (created if missing).
    #[arg(long, short, value_name = "DIR", default_value = "flows")]
    output: PathBuf,
    /// Replace files that already exist in the output directory.
    #[arg(long)]
    force: bool,
    /// Show what would be written without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Summary format: `text` for people, `json` for scripts (includes each flow's YAML).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let (import, out) = match args.source {
        SourceCommand::OpenApi {
            file,
            group_by,
            negative,
            crud,
            out,
        } => {
            let api = OpenApi::load(&file).map_err(input)?;
            let options = FlowOptions {
                group_by: GroupBy::parse(&group_by).unwrap_or(GroupBy::Operation),
                negative,
                crud,
            };
            (
                testmesh_import::openapi::flows::generate(&api, &options),
                out,
            )
        }
        SourceCommand::Postman { file, out } => {
            (postman::import(&load(&file)?).map_err(input)?, out)
        }
        SourceCommand::Pact { file, out } => {
            (pact_import::import(&load(&file)?).map_err(input)?, out)
        }
        SourceCommand::Har {
            file,
            keep_static,
            hosts,
            out,
        } => {
            let options = har::HarOptions {
                keep_static,
                include_hosts: hosts,
            };
            (har::import(&load(&file)?, &options).map_err(input)?, out)
        }
    };
    let written = if out.dry_run {
        Vec::new()
    } else {
        write_flows(&import, &out.output, out.force)?
    };
    if out.format == "json" {
        let mut summary = import.to_json();
        summary["output"] = serde_json::json!(out.output.display().to_string());
        summary["written"] = serde_json::json!(
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        );
        outln!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        print_summary(&import, &out.output, out.dry_run);
    }
    Ok(EXIT_OK)
}

fn load(path: &Path) -> Result<Source, CliError> {
    Source::load(path).map_err(input)
}

fn input(err: ImportError) -> CliError {
    CliError::Input(err.to_string())
}

/// Writes every flow into `dir`. Refuses before writing anything when a file is in the way (unless
/// `force`); when a write fails, removes the files this import already wrote, so the directory
/// holds all of the import or none of it.
fn write_flows(import: &Import, dir: &Path, force: bool) -> Result<Vec<PathBuf>, CliError> {
    let paths: Vec<PathBuf> = import
        .flows
        .iter()
        .map(|f| dir.join(&f.file_name))
        .collect();
    if !force {
        let existing: Vec<String> = paths
            .iter()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(CliError::Input(format!(
                "{} file(s) already exist and would be overwritten: {}{}; use --force to replace \
                 them or -o to write elsewhere",
                existing.len(),
                existing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if existing.len() > 5 { ", …" } else { "" }
            )));
        }
    }
    let mut written = Vec::new();
    for (flow, path) in import.flows.iter().zip(&paths) {
        if let Err(err) = write_atomically(path, &flow.yaml) {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(err);
        }
        written.push(path.clone());
    }
    Ok(written)
}

fn print_summary(import: &Import, dir: &Path, dry_run: bool) {
    let verb = if dry_run { "would write" } else { "wrote" };
    outln!(
        "{} {}: {verb} {} flow(s) with {} step(s) to {}",
        import.kind.as_str(),
        if import.title.is_empty() {
            "(untitled)"
        } else {
            &import.title
        },
        import.flows.len(),
        import.step_count(),
        dir.display()
    );
    let width = import
        .flows
        .iter()
        .map(|f| f.file_name.len())
        .max()
        .unwrap_or(0);
    for flow in &import.flows {
        outln!(
            "  {:width$}  {:>3} step(s)  {}",
            flow.file_name,
            flow.steps,
            flow.origin
        );
    }
    if !import.skipped.is_empty() {
        outln!("skipped {}:", import.skipped.len());
        for skipped in &import.skipped {
            outln!("  {}: {}", skipped.item, skipped.reason);
        }
    }
    if !import.untranslated.is_empty() {
        outln!(
            "not translated ({}), finish by hand:",
            import.untranslated.len()
        );
        for item in &import.untranslated {
            outln!("  {}: {}", item.item, item.what);
        }
    }
    if import.flows.is_empty() {
        outln!("no flows generated");
    } else if !dry_run {
        outln!(
            "next: testmesh validate {0} && testmesh run {0} --var BASE_URL=http://localhost:8080",
            dir.display()
        );
    }
}
