//! `testmesh schema`: print the JSON Schema of the flow format.

use std::path::PathBuf;

use crate::{CliError, EXIT_OK};

/// Print the JSON Schema of flow files, for editor completion and validation.
///
/// With the YAML extension for VS Code (or any editor using yaml-language-server), write the schema to
/// a file and add this first line to a flow:
///
///   # yaml-language-server: $schema=../.testmesh/flow.schema.json
///
/// or map it to your flow files once in .vscode/settings.json:
///
///   "yaml.schemas": { ".testmesh/flow.schema.json": ["flows/**/*.yaml"] }
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  testmesh schema > flow.schema.json\n  testmesh schema -o .testmesh/flow.schema.json"
)]
pub(crate) struct Args {
    /// Write the schema to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let schema = testmesh_flow::schema::flow_schema();
    let text = serde_json::to_string_pretty(&schema)
        .map_err(|e| CliError::Internal(format!("cannot serialise the schema: {e}")))?;
    match args.output {
        None => outln!("{text}"),
        Some(path) => {
            crate::files::write_atomically(&path, &(text + "\n"))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(EXIT_OK)
}
