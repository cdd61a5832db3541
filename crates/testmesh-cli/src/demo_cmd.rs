//! `testmesh demo`: the built-in demo API and the bundled example flows, run against each other.

use std::path::PathBuf;

use testmesh_demo::DemoServer;
use testmesh_runner::Secrets;

use crate::history::StoreArgs;
use crate::reports::ReportSpec;
use crate::run_cmd::{Plan, execute, runtime, variables};
use crate::{CliError, write_stdout};

/// The example flows, compiled into the binary so the demo runs from any directory.
const FLOWS: &[(&str, &str)] = &[
    (
        "users.yaml",
        include_str!("../../../examples/flows/users.yaml"),
    ),
    (
        "checkout.yaml",
        include_str!("../../../examples/flows/checkout.yaml"),
    ),
    (
        "async-job.yaml",
        include_str!("../../../examples/flows/async-job.yaml"),
    ),
    (
        "control-flow.yaml",
        include_str!("../../../examples/flows/control-flow.yaml"),
    ),
];

/// Start a demo API on a free local port and run the bundled example flows against it.
///
/// The API has users (with pagination and search), token login, orders, payments and an
/// asynchronous job to poll. The flows are written to `<out>/flows` so you can read and change
/// them; the JUnit and JSON reports go to `<out>`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  testmesh demo\n  testmesh demo --out /tmp/demo")]
pub(crate) struct Args {
    /// Where to write the flows and the reports.
    #[arg(long, value_name = "DIR", default_value = ".testmesh/demo")]
    out: PathBuf,
    /// Do not record the demo's runs in the history (`testmesh history`).
    #[arg(long)]
    no_store: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn run(args: Args) -> Result<u8, CliError> {
    let flows_dir = args.out.join("flows");
    std::fs::create_dir_all(&flows_dir)
        .map_err(|e| CliError::Input(format!("cannot create {}: {e}", flows_dir.display())))?;
    for (name, text) in FLOWS {
        let path = flows_dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))?;
    }
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = runtime()?;
    let server = runtime
        .block_on(DemoServer::start())
        .map_err(|e| CliError::Internal(format!("cannot start the demo API: {e}")))?;
    write_stdout(&format!(
        "Demo API listening on {}; running the {} flows in {}\n",
        server.base_url(),
        FLOWS.len(),
        flows_dir.display()
    ));
    let plan = Plan {
        paths: vec![flows_dir.display().to_string()],
        variables: variables(&[], &[("BASE_URL".into(), server.base_url())], &[])?,
        secrets: Secrets::default(),
        tags: Vec::new(),
        exclude_tags: Vec::new(),
        suites: Vec::new(),
        jobs,
        fail_fast: false,
        timeout: None,
        reports: vec![
            ReportSpec::Junit(args.out.join("junit.xml")),
            ReportSpec::Json(args.out.join("report.json")),
        ],
        store: if args.no_store {
            None
        } else {
            Some(args.store.url()?)
        },
        mock_ports: None,
        observer: None,
    };
    let code = execute(plan, &runtime);
    drop(server);
    code
}
