//! `depeer show`: prints the raw bytes of a stored message (or of a
//! quarantined record) given its SHA-256 or a unique hex prefix of it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// Flags of `depeer show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer show 3f5a0c1e...                  the whole hash
  depeer show 3f5a0c1e                     a unique prefix (at least 8 hex digits)
  depeer sql \"SELECT sha256 FROM messages LIMIT 1\" --csv | tail -1 | xargs depeer show")]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// SHA-256 of the message (hex), or a unique prefix of at least 8 hex digits.
    #[arg(value_name = "SHA256")]
    pub sha256: String,
}

/// Runs `depeer show`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let dataset = match depeer_store::Dataset::open(&args.data) {
        Ok(d) => d,
        Err(depeer_store::StoreError::NoDataset { .. }) => anyhow::bail!(
            "no dataset at {}: run `depeer ingest mail --data {} ...` first (or pass --data DIR)",
            args.data.display(),
            args.data.display()
        ),
        Err(e) => return Err(e.into()),
    };
    let Some(loc) = dataset.find_raw(&args.sha256)? else {
        anyhow::bail!(
            "no message or quarantined record with SHA-256 {} in {}",
            args.sha256,
            args.data.display()
        );
    };
    let bytes = dataset.read_raw(&loc)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(&bytes).context("writing the message")?;
    out.flush().context("writing the message")?;
    Ok(())
}
