//! Turning command-line paths, directories and globs into a sorted list of flow files.

use std::path::{Path, PathBuf};

use crate::CliError;

/// Expands each argument: a file is taken as is, a directory contributes every `*.yaml`/`*.yml` below
/// it, anything else is read as a glob pattern. Duplicates are removed; order is stable (sorted).
pub(crate) fn expand(args: &[String]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_file() {
            out.push(path.to_path_buf());
        } else if path.is_dir() {
            let before = out.len();
            walk(path, &mut out).map_err(|e| CliError::Input(format!("cannot read {arg}: {e}")))?;
            if out.len() == before {
                return Err(CliError::Input(format!(
                    "no .yaml or .yml files under {arg}"
                )));
            }
        } else if arg.contains(['*', '?', '[']) {
            let paths = glob::glob(arg)
                .map_err(|e| CliError::Input(format!("invalid pattern `{arg}`: {e}")))?;
            let before = out.len();
            for entry in paths {
                let entry = entry.map_err(|e| {
                    CliError::Input(format!("cannot read {}: {e}", e.path().display()))
                })?;
                if entry.is_file() {
                    out.push(entry);
                }
            }
            if out.len() == before {
                return Err(CliError::Input(format!("no files match `{arg}`")));
            }
        } else {
            return Err(CliError::Input(format!("{arg}: no such file or directory")));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        // Symlinked directories are not followed: a link to a parent would loop.
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() && !is_link {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}
