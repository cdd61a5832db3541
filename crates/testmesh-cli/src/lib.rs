//! The `testmesh` command line: argument parsing, dispatch, console output and exit codes.
//!
//! Exit codes: 0 success, 1 test failures, 2 invalid input or usage, 3 internal error.

/// `println!` to standard output that never panics when the reader has gone away.
macro_rules! outln {
    () => { $crate::write_stdout("\n") };
    ($($arg:tt)*) => { $crate::write_stdout(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` to standard output that never panics when the reader has gone away.
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(&format!($($arg)*)) };
}

/// `eprintln!` for messages about the command's own work (files written, progress), which keep
/// standard output for the data.
macro_rules! errln {
    ($($arg:tt)*) => { eprintln!($($arg)*) };
}

pub(crate) use outln;

mod analytics_cmd;
mod apikey_cmd;
mod console;
mod contract_cmd;
mod coverage_cmd;
mod days;
mod demo_cmd;
mod files;
mod history;
mod import_cmd;
mod init_cmd;
mod logging;
mod mock_cmd;
mod project;
mod render;
mod report_cmd;
mod reports;
mod run_cmd;
mod schema_cmd;
mod serve_cmd;
mod validate_cmd;
mod worker_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when tests ran and some failed.
pub const EXIT_TEST_FAILURES: u8 = 1;
/// Exit code for invalid input (flows, arguments, files).
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code for a bug or an environment problem inside TestMesh.
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Parser)]
#[command(
    name = "testmesh",
    version,
    about = "Write, run, mock, contract-check and understand API tests, declared in YAML flows.",
    long_about = "TestMesh runs declarative YAML test flows: HTTP and database steps with assertions, \
outputs, retries and control flow.\n\nA flow looks like this:\n\n  name: Create user\n  \
steps:\n    - id: create\n      action: http_request\n      config:\n        method: POST\n        \
url: ${BASE_URL}/users\n        body: {name: Alice}\n      assert:\n        - status == 201\n      \
output:\n        user_id: $.body.id\n\nDocumentation: docs/flow-format.md, docs/expressions.md, docs/cli.md",
    after_help = "Examples:\n  testmesh demo                          Run the bundled examples against a built-in API\n  \
testmesh init my-tests                 Start a project\n  \
testmesh run flows/                    Run every flow under flows/\n  \
testmesh run flows/ --report junit=junit.xml --var BASE_URL=http://localhost:8080\n  \
testmesh validate flows/               Check every flow under flows/ without running it\n  \
testmesh history                       List recent runs (every run is recorded)\n  \
testmesh worker --database-url postgres://testmesh@db/testmesh   Run queued executions\n  \
testmesh apikey create local           Create an API key for the server\n  \
testmesh contract verify pact.json --provider-base-url http://localhost:8080   Verify a provider\n  \
testmesh contract diff old.json new.json   Breaking changes between two pact versions\n  \
testmesh contract can-i-deploy --pacticipant web --version 1.4.0   Deployable, from stored verifications\n  \
testmesh serve                         Serve the REST API on http://127.0.0.1:5016\n  \
testmesh report -o report.html         An HTML report of the recorded runs (trends, flaky flows, failures)\n  \
testmesh mock serve mocks/users.yaml   Serve a mock server (hot reload); see `testmesh mock --help`\n  \
testmesh import openapi api.yaml -o flows/api   Flows from an OpenAPI document (also postman, pact, har)\n  \
testmesh coverage --spec api.yaml flows/   Which operations of the API the flows exercise\n  \
testmesh validate 'flows/**/*.yaml' --strict\n  testmesh schema -o .testmesh/flow.schema.json\n\n\
Exit codes: 0 success, 1 test failures, 2 invalid input or usage, 3 internal error.",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run_cmd::Args),
    Demo(demo_cmd::Args),
    Init(init_cmd::Args),
    Validate(validate_cmd::Args),
    Schema(schema_cmd::Args),
    History(history::Args),
    Worker(worker_cmd::Args),
    Serve(serve_cmd::Args),
    Mock(mock_cmd::Args),
    #[command(name = "apikey")]
    ApiKey(apikey_cmd::Args),
    Contract(contract_cmd::Args),
    Import(import_cmd::Args),
    Coverage(coverage_cmd::Args),
    Report(report_cmd::Args),
    Analytics(analytics_cmd::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with code 0 and usage errors to stderr with code 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_INVALID_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Init(args) => init_cmd::run(args),
        Command::Validate(args) => validate_cmd::run(args),
        Command::Schema(args) => schema_cmd::run(args),
        Command::History(args) => history::run(args),
        Command::Worker(args) => worker_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Mock(args) => mock_cmd::run(args),
        Command::ApiKey(args) => apikey_cmd::run(args),
        Command::Contract(args) => contract_cmd::run(args),
        Command::Import(args) => import_cmd::run(args),
        Command::Coverage(args) => coverage_cmd::run(args),
        Command::Report(args) => report_cmd::run(args),
        Command::Analytics(args) => analytics_cmd::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Writes to standard output. When the reader has gone away (`testmesh schema | head -1`), exits
/// with status 141 as a process killed by SIGPIPE would, instead of panicking.
pub(crate) fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(141);
    }
}

/// A failure of the command itself (not of the flows it checks).
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments or unreadable input.
    Input(String),
    /// Something that should not happen.
    Internal(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => EXIT_INVALID_INPUT,
            CliError::Internal(_) => EXIT_INTERNAL,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Input(message) | CliError::Internal(message) => f.write_str(message),
        }
    }
}
