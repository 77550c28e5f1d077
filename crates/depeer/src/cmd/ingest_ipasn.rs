//! `depeer ingest ipasn`: a pyasn IP->AS table as a routing snapshot.

use std::path::PathBuf;

use depeer_ingest::{IpasnOptions, ingest_ipasn};

use super::route::parse_time;
use crate::output::{IngestTarget, print_summary};

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
    /// Where to write and how to report.
    #[command(flatten)]
    pub target: IngestTarget,
    /// When the table was valid (e.g. the RIB's time).
    #[arg(long, value_name = "TIME")]
    pub at: String,
    /// Collector name (default `ipasn:<file name>`).
    #[arg(long, value_name = "NAME")]
    pub collector: Option<String>,
    /// Largest decompressed size, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_decompressed: u64,
    /// The pyasn table (or `-`).
    #[arg(value_name = "FILE")]
    pub path: PathBuf,
}

/// Runs `depeer ingest ipasn`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let opts = IpasnOptions {
        data: args.target.data.clone(),
        at: parse_time(&args.at)?,
        collector: args.collector.clone(),
        max_decompressed: args.max_decompressed,
    };
    let sum = ingest_ipasn(&args.path, &opts)?;
    print_summary(args.target.json, quiet, &sum, |out| {
        writeln!(
            out,
            "{}: {} routes at {} as collector {} ({} lines quarantined)",
            sum.file, sum.routes, opts.at, sum.collector, sum.quarantined.bad_line
        )
    })
}
