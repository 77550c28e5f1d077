//! depeer as a library: every subcommand of the `depeer` binary is a function
//! here that a test can call. `main.rs` only parses flags and maps errors to
//! exit codes.

pub mod cli;
pub mod cmd;
pub mod pipeline;
pub mod progress;
