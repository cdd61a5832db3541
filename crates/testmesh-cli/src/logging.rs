//! Log lines of long-running commands (`serve`) on standard error, filtered by `TESTMESH_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::render::use_color;

/// The variable that sets the log filter, e.g. `debug` or `info,testmesh_server=debug`.
const LOG_ENV: &str = "TESTMESH_LOG";

/// Installs the subscriber (once; later calls change nothing).
pub(crate) fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(use_color(std::io::stderr().is_terminal()))
        .try_init();
}
