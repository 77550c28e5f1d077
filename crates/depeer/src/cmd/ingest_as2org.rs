//! `depeer ingest as2org`: AS names and organisations into `as_names`.

use std::path::PathBuf;

use depeer_ingest::{As2orgOptions, ingest_as2org};

use crate::output::{IngestTarget, print_summary};

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
    /// Where to write and how to report.
    #[command(flatten)]
    pub target: IngestTarget,
    /// Largest decompressed size, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    pub max_decompressed: u64,
    /// Publish to NATS JetStream (`nats://HOST:PORT`) instead of storing:
    /// `depeer worker` stores it (docs/SCALING.md).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// The file (or `-`).
    #[arg(value_name = "FILE")]
    pub path: PathBuf,
}

/// Runs `depeer ingest as2org`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    if let Some(to) = &args.to {
        let job = depeer_cluster::nats::As2orgJob {
            max_decompressed: args.max_decompressed,
        };
        let s = super::nats::publish_as2org(to, &args.path, &job)?;
        return super::nats::print_produced(&s, args.target.json, quiet);
    }
    let opts = As2orgOptions {
        data: args.target.data.clone(),
        max_decompressed: args.max_decompressed,
    };
    let sum = ingest_as2org(&args.path, &opts)?;
    print_summary(args.target.json, quiet, &sum, |out| {
        writeln!(out, "{}: {} AS names", sum.file, sum.as_names)
    })
}
