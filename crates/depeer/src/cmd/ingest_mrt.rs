//! `depeer ingest mrt`: BGP RIB dumps and update files into the routing
//! history (`routes`, `as_links`, `routing_events`).

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::{MrtOptions, MrtSummary, dump_mrt, ingest_mrt};

use crate::output::{IngestTarget, print_summary};

const AFTER: &str = "\
Inputs: MRT files as RouteViews and RIPE RIS publish them (TABLE_DUMP,
TABLE_DUMP_V2 RIBs; BGP4MP / BGP4MP_ET updates and state changes; IPv4 and
IPv6), plain or gzip / bzip2 / zstd / xz (told by magic bytes), directories
of them, or `-`. Files are replayed per collector in the order of their
first record's time; the collector is taken from the path (rrc00,
route-views.jinx, ...) unless --collector says otherwise.

A record that cannot be framed or parsed is reported with file, byte
offset and record index, kept in quarantine with its bytes, and skipped;
the rest of the file is used.

Examples:
  depeer ingest mrt rib.20081111.0000.bz2 updates.20081111.*.bz2
  depeer ingest mrt --json --collector route-views2 ris/rrc00/";

/// Flags of `depeer ingest mrt`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Where to write and how to report.
    #[command(flatten)]
    pub target: IngestTarget,
    /// Collector name for every input (default: from each path).
    #[arg(long, value_name = "NAME")]
    pub collector: Option<String>,
    /// CAIDA as-rel file (`a|b|-1` provider-customer, `a|b|0` peers) to use
    /// instead of inferring relationships.
    #[arg(long, value_name = "FILE")]
    pub as_rel: Option<PathBuf>,
    /// Announcements withdrawn within this many seconds are short-lived events.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub short_lived: i64,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_decompressed: u64,
    /// Parse and build the history only; store nothing (for benchmarks).
    #[arg(long)]
    pub no_store: bool,
    /// Print what was parsed, one `bgpdump -m`-like line per element, and
    /// store nothing (for scripts/conformance/mrt).
    #[arg(long, hide = true)]
    pub dump: bool,
    /// Publish to NATS JetStream (`nats://HOST:PORT`) instead of storing:
    /// `depeer worker` stores it (docs/SCALING.md).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Files, directories or `-` (stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs `depeer ingest mrt`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let opts = MrtOptions {
        data: (!args.no_store && !args.dump).then(|| args.target.data.clone()),
        collector: args.collector.clone(),
        as_rel: args.as_rel.clone(),
        short_lived_secs: args.short_lived,
        max_decompressed: args.max_decompressed,
    };
    if let Some(to) = &args.to {
        let job = depeer_cluster::nats::MrtJob {
            collector: args.collector.clone(),
            short_lived_secs: args.short_lived,
            max_decompressed: args.max_decompressed,
        };
        let s = super::nats::publish_mrt(to, &args.paths, args.as_rel.as_deref(), &job)?;
        return super::nats::print_produced(&s, args.target.json, quiet);
    }
    if args.dump {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let sum = dump_mrt(&args.paths, &opts, &mut out)?;
        eprintln!(
            "read {} used {} quarantined {:?}",
            sum.records_read, sum.records_used, sum.quarantine_reasons
        );
        return Ok(());
    }
    let sum = ingest_mrt(&args.paths, &opts)?;
    print_summary(args.target.json, quiet, &sum, |out| print_text(&sum, out))
}

fn print_text(sum: &MrtSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "files {}  records read {}  used {}  quarantined {}",
        sum.files, sum.records_read, sum.records_used, sum.records_quarantined
    )?;
    for (k, v) in &sum.quarantine_reasons {
        writeln!(out, "  quarantined {k}: {v}")?;
    }
    writeln!(
        out,
        "collectors {}  routes {}  as_links {}  routing_events {}  ({:.1} s; relationships {})",
        sum.collectors.join(","),
        sum.routes,
        sum.as_links,
        sum.routing_events,
        sum.seconds,
        sum.relationships
    )
}
