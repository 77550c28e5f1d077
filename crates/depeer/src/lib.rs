//! depeer as a library: every subcommand of the `depeer` binary is a function
//! here that a test can call. The work itself is in the library crates
//! (`depeer-ingest`, `depeer-store`, `depeer-routing`, `depeer-sim`); these
//! modules parse flags, call them and print. `main.rs` only dispatches and
//! maps errors to exit codes.

pub mod cli;
pub mod cmd;
pub mod output;
pub mod progress;
