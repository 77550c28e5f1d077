//! `depeer show`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer show`.
pub fn run(_args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("`depeer show` is not built yet")
}
