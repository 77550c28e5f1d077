//! `depeer ingest as2org`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer ingest as2org`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer ingest as2org`.
pub fn run(_args: &Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("`depeer ingest as2org` is not built yet")
}
