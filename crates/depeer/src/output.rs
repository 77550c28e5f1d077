//! What every `depeer ingest` command shares: where it writes (`--data`),
//! and how it reports (`--json`: one summary object on stdout; else a few
//! lines for people, none with `--quiet`).

use std::io::Write;
use std::path::PathBuf;

/// `--data` and `--json` of the ingest commands.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestTarget {
    /// Data directory (created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print one JSON summary object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints a run's summary: one JSON line with `json`, else `text` unless
/// `quiet`.
pub fn print_summary<T: serde::Serialize>(
    json: bool,
    quiet: bool,
    summary: &T,
    text: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer(&mut out, summary)?;
        writeln!(out)?;
    } else if !quiet {
        text(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
