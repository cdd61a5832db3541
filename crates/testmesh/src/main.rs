//! The `testmesh` binary: everything lives in `testmesh-cli`.

fn main() -> std::process::ExitCode {
    testmesh_cli::main()
}
