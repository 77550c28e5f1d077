//! `depeer sim`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer sim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer sim`.
pub fn run(_args: &Args, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("`depeer sim` is not built yet")
}
