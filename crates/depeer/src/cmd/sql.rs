//! `depeer sql`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer sql`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer sql`.
pub fn run(_args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("`depeer sql` is not built yet")
}
