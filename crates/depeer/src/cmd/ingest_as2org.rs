//! `depeer ingest as2org`: AS names and organisations into `as_names`.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::ingest_mrt::open_input;

const AFTER: &str = "\
Formats (recognised by content): CAIDA as2org JSON lines
(*.as-org2info.jsonl), CAIDA's older pipe-separated as2org, pyasn's
asnames.json, and plain `ASN<TAB>name` lists; plain or compressed.
AS numbers are reassigned over the years: prefer a dated file close to the
time you look at.

Examples:
  depeer ingest as2org 20080402.as-org2info.jsonl.gz
  depeer ingest as2org asnames.txt";

/// Flags of `depeer ingest as2org`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory (created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Largest decompressed size, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    pub max_decompressed: u64,
    /// The file (or `-`).
    #[arg(value_name = "FILE")]
    pub path: PathBuf,
}

/// Runs `depeer ingest as2org`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let (inputs, errors) = depeer_io::walk(std::slice::from_ref(&args.path));
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    let input = inputs
        .first()
        .ok_or_else(|| anyhow::anyhow!("{}: nothing to read", args.path.display()))?;
    let mut bytes = Vec::new();
    open_input(input, args.max_decompressed)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}: cannot read", input.display))?;
    let text = String::from_utf8_lossy(&bytes);
    let names = depeer_routing::read_as_names(&text, &input.display)?;
    let store = depeer_store::Store::open(&args.data)
        .with_context(|| format!("{}: cannot open the data directory", args.data.display()))?;
    store.append_as_names(&names)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let with_org = names.iter().filter(|n| n.org.is_some()).count();
        writeln!(
            out,
            "{}",
            serde_json::json!({"file": input.display, "as_names": names.len(), "with_org": with_org})
        )?;
    } else if !quiet {
        writeln!(out, "{}: {} AS names", input.display, names.len())?;
    }
    Ok(())
}
