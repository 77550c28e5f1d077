//! The `depeer` command: parses flags, sets up logging, dispatches to a
//! library call in `depeer::cmd`, and maps the outcome to an exit code.
//!
//! Exit codes: 0 success (quarantined input is not a failure), 1 an error
//! that stopped the command (message on stderr), 2 a usage error.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: the RIB loader allocates in one
/// thread and frees in another millions of times, and the mail pipeline
/// moves every message between threads; measured in docs/routing.md and
/// docs/bench-mail.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = depeer::cli::Cli::parse();
    depeer::cli::init_tracing(cli.verbose, cli.quiet);
    match depeer::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if depeer::cli::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "depeer: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
