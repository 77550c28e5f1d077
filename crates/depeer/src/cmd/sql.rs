//! `depeer sql`: runs one SQL query over the dataset with DataFusion and
//! prints the result as a table, JSON or CSV.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_store::OutputFormat;

/// Flags of `depeer sql`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Tables: messages, message_urls, quarantine, routes, as_links, \
routing_events, as_names (columns in docs/schema.md). Day-partitioned tables have a `day` \
column ('YYYY-MM-DD') that prunes files.

Examples:
  depeer sql \"SELECT count(*) FROM messages\"
  depeer sql --json \"SELECT relay_ip, count(*) AS n FROM messages GROUP BY 1 ORDER BY n DESC LIMIT 10\"
  depeer sql --csv \"SELECT * FROM message_urls WHERE day = '2008-11-11'\" > urls.csv"
)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print a JSON array of row objects (timestamps as RFC 3339).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header line.
    #[arg(long)]
    pub csv: bool,
    /// The query.
    pub query: String,
}

/// Runs `depeer sql`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if !args.data.join("tables").is_dir() {
        anyhow::bail!(
            "no dataset at {}: run `depeer ingest mail --data {} ...` first (or pass --data DIR)",
            args.data.display(),
            args.data.display()
        );
    }
    let format = if args.json {
        OutputFormat::Json
    } else if args.csv {
        OutputFormat::Csv
    } else {
        OutputFormat::Table
    };
    let batches = depeer_store::sql(&args.data, &args.query)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    depeer_store::render(&batches, format, &mut out)?;
    out.flush().context("writing the result")?;
    Ok(())
}
