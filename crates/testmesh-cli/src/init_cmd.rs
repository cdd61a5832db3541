//! `testmesh init`: a new project with settings, an example flow and editor completion.

use std::path::{Path, PathBuf};

use crate::{CliError, EXIT_OK, write_stdout};

const SETTINGS: &str = "\
# TestMesh project settings. `testmesh run` with no arguments uses them.
flows: [flows/]
env_files: [.env]
reports: [junit=reports/junit.xml, json=reports/report.json]
";

const ENV: &str = "\
# Variables for your flows; --var on the command line wins over these.
BASE_URL=http://127.0.0.1:8080
";

const EXAMPLE: &str = "\
# yaml-language-server: $schema=../.testmesh/flow.schema.json
name: Health check
description: The service answers and reports itself healthy
suite: smoke
tags: [smoke]

steps:
  - id: health
    action: http_request
    config:
      method: GET
      url: ${BASE_URL}/health
      timeout: 5s
    assert:
      - status == 200
      - response.time < 2000
";

const GITIGNORE: &str = ".testmesh/\nreports/\n.env\n";

/// Create a new TestMesh project: testmesh.yaml, flows/ with an example flow, a .env file, and the
/// flow schema for editor completion (.testmesh/flow.schema.json).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh init\n  testmesh init api-tests && cd api-tests && testmesh run"
)]
pub(crate) struct Args {
    /// Directory to create the project in (default: the current directory).
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let root = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let schema = serde_json::to_string_pretty(&testmesh_flow::schema::flow_schema())
        .map_err(|e| CliError::Internal(format!("cannot serialise the schema: {e}")))?;
    let files: Vec<(&str, String)> = vec![
        ("testmesh.yaml", SETTINGS.into()),
        (".env", ENV.into()),
        ("flows/health.yaml", EXAMPLE.into()),
        (".testmesh/flow.schema.json", schema + "\n"),
        (".gitignore", GITIGNORE.into()),
    ];
    // Check everything before writing anything: never a half-made project.
    let existing: Vec<String> = files
        .iter()
        .filter(|(name, _)| root.join(name).exists())
        .map(|(name, _)| (*name).to_string())
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(CliError::Input(format!(
            "{} already exist in {}; use --force to overwrite",
            existing.join(", "),
            root.display()
        )));
    }
    for (name, text) in &files {
        write(&root.join(name), text)?;
        write_stdout(&format!("created {}\n", root.join(name).display()));
    }
    write_stdout("\nNext: set BASE_URL in .env, then `testmesh run` (or try `testmesh demo`).\n");
    Ok(EXIT_OK)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}
