//! `depeer demo`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer demo`.
pub fn run(_args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("`depeer demo` is not built yet")
}
