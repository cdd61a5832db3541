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

/// Applies `f` to every path on all cores; the results keep the input order. A panic in `f` (a bug)
/// becomes `on_panic`'s value for that chunk rather than taking the process down.
pub(crate) fn map_parallel<T: Send>(
    paths: &[PathBuf],
    f: impl Fn(&Path) -> T + Sync,
    on_panic: impl Fn() -> T + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    if threads <= 1 {
        // One file (or one core): read it here. Memory its loading frees (the parsed tree, say)
        // then goes back to this thread's allocator arena, where the run that follows reuses it,
        // rather than staying with a finished thread's.
        return paths
            .iter()
            .map(|p| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p)))
                    .unwrap_or_else(|_| on_panic())
            })
            .collect();
    }
    let chunk = paths.len().div_ceil(threads).max(1);
    let (f, on_panic) = (&f, &on_panic);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                (
                    part.len(),
                    scope.spawn(move || part.iter().map(|p| f(p)).collect::<Vec<T>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, handle)| {
                handle
                    .join()
                    .unwrap_or_else(|_| (0..len).map(|_| on_panic()).collect())
            })
            .collect()
    })
}

/// True when `text` is a mock file (docs/mocks.md) rather than a flow: a top-level `endpoints` or
/// `mocks` key and no `steps`, `setup` or `teardown`. `testmesh validate` checks such files as
/// mocks and `testmesh run` leaves them out, so mocks can sit next to the flows that use them.
pub(crate) fn is_mock_file(text: &str) -> bool {
    testmesh_flow::yaml::parse(text).is_ok_and(|root| is_mock_root(&root))
}

/// Loads `text` as a flow, or `None` for a mock file — told apart from the tree parsed for
/// loading, since parsing a large file a second time to tell was a sixth of loading it. (A file
/// over the flow size limit is not parsed for loading, so only such a file is parsed to tell.)
pub(crate) fn load_unless_mock(text: &str) -> Option<testmesh_flow::Loaded> {
    if text.len() > testmesh_flow::MAX_FILE_BYTES {
        (!is_mock_file(text)).then(|| testmesh_flow::load_str(text))
    } else {
        testmesh_flow::load_str_unless(text, is_mock_root)
    }
}

/// [`is_mock_file`] for a parsed file.
pub(crate) fn is_mock_root(root: &testmesh_flow::yaml::Node) -> bool {
    let has = |key: &str| root.entry(key).is_some();
    (has("endpoints") || has("mocks")) && !has("steps") && !has("setup") && !has("teardown")
}

/// Writes `text` to `path` (creating its directory) through a temporary file renamed into place,
/// so readers never see half a file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), CliError> {
    testmesh_contract::actions::write_atomically(path, text)
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}
