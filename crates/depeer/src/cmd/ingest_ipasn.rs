//! `depeer ingest ipasn`: a pyasn IP->AS table as a routing snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use depeer_core::{Quarantine, SourceRef};
use depeer_routing::{HistoryBuilder, HistoryOptions};

use super::ingest_mrt::{open_input, parse_time, store_history, store_quarantine};

const AFTER: &str = "\
The table (pyasn's `prefix<TAB>asn` lines, `;` comments, IPv4 and IPv6,
plain or compressed) becomes the routes of one moment, --at, as if one peer
of the collector `ipasn:<file name>` had seen every prefix then. Lines that
do not parse are quarantined with their line number.

Example:
  depeer ingest ipasn ipasn_20080501.dat.gz --at 2008-05-01T06:44Z";

/// Flags of `depeer ingest ipasn`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory (created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// When the table was valid (e.g. the RIB's time).
    #[arg(long, value_name = "TIME")]
    pub at: String,
    /// Collector name (default `ipasn:<file name>`).
    #[arg(long, value_name = "NAME")]
    pub collector: Option<String>,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Largest decompressed size, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_decompressed: u64,
    /// The pyasn table (or `-`).
    #[arg(value_name = "FILE")]
    pub path: PathBuf,
}

/// Runs `depeer ingest ipasn`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let at = parse_time(&args.at)?;
    let (inputs, errors) = depeer_io::walk(std::slice::from_ref(&args.path));
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    let input = inputs
        .first()
        .ok_or_else(|| anyhow::anyhow!("{}: nothing to read", args.path.display()))?;
    let reader = open_input(input, args.max_decompressed)?;
    let table = depeer_routing::read_ipasn(reader, &input.display)?;
    let collector = args.collector.clone().unwrap_or_else(|| {
        let name = Path::new(&input.display).file_name().map_or_else(
            || input.display.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("ipasn:{name}")
    });
    let mut b = HistoryBuilder::new(HistoryOptions::default());
    b.add_static(&collector, at, &table.rows);
    let history = b.finish(None);
    let quarantine: Vec<Quarantine> = table
        .bad_lines
        .iter()
        .map(|(src, text): &(SourceRef, String)| Quarantine {
            source: src.clone(),
            reason: "bad-line".into(),
            detail: format!("{src}: not `prefix<TAB>asn`"),
            bytes: text.as_bytes().to_vec(),
            truncated: false,
        })
        .collect();
    let store = depeer_store::Store::open(&args.data)
        .with_context(|| format!("{}: cannot open the data directory", args.data.display()))?;
    store_history(&store, &history)?;
    store_quarantine(&store, &quarantine)?;
    let summary = serde_json::json!({
        "file": input.display,
        "collector": collector,
        "at": at.to_rfc3339(),
        "rows_read": table.rows.len() + table.bad_lines.len(),
        "rows_used": table.rows.len(),
        "quarantined": { "bad-line": table.bad_lines.len() },
        "routes": history.routes.len(),
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{summary}")?;
    } else if !quiet {
        writeln!(
            out,
            "{}: {} routes at {} as collector {} ({} lines quarantined)",
            input.display,
            history.routes.len(),
            at,
            collector,
            table.bad_lines.len()
        )?;
    }
    Ok(())
}
