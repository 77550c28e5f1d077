//! `depeer route ...`: not built yet.

use std::path::PathBuf;

/// Flags of `depeer route lookup`.
#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}
/// Flags of `depeer route as`.
#[derive(Debug, clap::Args)]
pub struct AsArgs {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}
/// Flags of `depeer route events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer route lookup`.
pub fn lookup(_args: &LookupArgs) -> anyhow::Result<()> {
    anyhow::bail!("`depeer route lookup` is not built yet")
}
/// Runs `depeer route as`.
pub fn as_info(_args: &AsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`depeer route as` is not built yet")
}
/// Runs `depeer route events`.
pub fn events(_args: &EventsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`depeer route events` is not built yet")
}
