//! The `eposta` binary: `serve` (HTTP and workers), `worker` (workers only), `migrate`, and
//! the operator commands.

mod checks;
mod cli;
mod import;
mod ips;
mod receipt;
mod reconcile;
mod s10;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// objects on both worker threads, where glibc's malloc and free took a fifth of the server's
/// time in the tracking-lookup benchmark (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if let Some(code) = args.run_standalone() {
        return code;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eposta: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("eposta: {e:#}");
            ExitCode::FAILURE
        }
    }
}
