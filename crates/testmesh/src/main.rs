//! The `testmesh` binary: everything lives in `testmesh-cli`.

/// mimalloc rather than glibc's allocator: a run makes many small, short-lived allocations per
/// request (parsed bodies, header maps, step records) from several threads, where glibc's
/// per-arena locks and bin management cost 5-8% of the run (docs/performance.md). Built without
/// transparent huge pages, which otherwise back its arenas with 2 MiB pages and raise the peak
/// resident memory by a third.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    testmesh_cli::main()
}
