//! `depeer ingest mrt`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer ingest mrt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer ingest mrt`.
pub fn run(_args: &Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("`depeer ingest mrt` is not built yet")
}
