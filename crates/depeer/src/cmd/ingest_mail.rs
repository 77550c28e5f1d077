//! `depeer ingest mail`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer ingest mail`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer ingest mail`.
pub fn run(_args: &Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("`depeer ingest mail` is not built yet")
}
