//! `depeer ingest ipasn`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer ingest ipasn`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer ingest ipasn`.
pub fn run(_args: &Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("`depeer ingest ipasn` is not built yet")
}
