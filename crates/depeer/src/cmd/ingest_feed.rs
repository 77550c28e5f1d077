//! `depeer ingest feed`: threat feeds into `feed_entries`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_ingest::{FeedIngestOptions, ingest_feed};
use depeer_intel::{FeedKind, Format, Mapping};

const AFTER: &str = "\
Kinds: cnc (botnet C&C servers), url (malicious, spam-advertised or phishing
URLs), pdns (passive DNS: name -> address over time), bots (infected hosts,
family-tagged), net (networks to drop: CIDRs or AS numbers).

Built-in formats (detected from the header when --format is omitted):
  depeer         the simulator's feeds/*.csv
  feodo-csv      abuse.ch Feodo Tracker IP blocklist, CSV
  feodo-json     abuse.ch Feodo Tracker IP blocklist, JSON
  urlhaus-csv    abuse.ch URLhaus CSV
  phishtank-csv  PhishTank online-valid CSV
  openphish      OpenPhish feed, one URL a line
  cof            passive DNS Common Output Format, JSON lines
  drop-text      Spamhaus DROP / EDROP text (CIDR ; SBLnnn)
  drop-json      Spamhaus DROP JSON lines
  asndrop-json   Spamhaus ASN-DROP JSON lines
Any other layout: --mapping FILE, a TOML file declaring the delimiter,
comment prefix, header or column numbers, and which column is what
(docs/intel.md).

A line that cannot be read is quarantined with its file, line and reason;
the rest is read. Re-ingesting a file adds nothing.

Examples:
  depeer ingest feed --kind cnc ipblocklist.csv
  depeer ingest feed --kind url --format urlhaus-csv csv.txt.gz
  depeer ingest feed --kind bots --mapping mylist.toml --source mylist bots.txt
  depeer ingest feed world/feeds/*.csv";

/// Flags of `depeer ingest feed`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory (created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// What the files list: cnc, url, pdns, bots or net (default: the format's own).
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<FeedKind>,
    /// The layout (default: detected from each file's first lines).
    #[arg(long, value_parser = parse_format, conflicts_with = "mapping")]
    pub format: Option<Format>,
    /// A TOML file declaring the layout of a feed that is not built in.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The source name stored with every row (default: the format's).
    #[arg(long)]
    pub source: Option<String>,
    /// Print one JSON summary object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    pub max_decompressed: u64,
    /// Publish to NATS JetStream (`nats://HOST:PORT`) instead of storing:
    /// `depeer worker` stores it (docs/SCALING.md).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Feed files, directories, or `-` for stdin; plain or compressed.
    #[arg(value_name = "FILE", required = true)]
    pub paths: Vec<PathBuf>,
}

fn parse_kind(s: &str) -> Result<FeedKind, String> {
    s.parse()
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Runs `depeer ingest feed`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    if let Some(to) = &args.to {
        let job = depeer_cluster::nats::FeedJob {
            kind: args.kind.map(|k| k.as_str().to_string()),
            format: args.format.map(|f| f.name().to_string()),
            source: args.source.clone(),
            max_decompressed: args.max_decompressed,
        };
        let s = super::nats::publish_feed(to, &args.paths, args.mapping.as_deref(), &job)?;
        return super::nats::print_produced(&s, args.json, quiet);
    }
    let mapping = match &args.mapping {
        Some(p) => Some(Mapping::load(p).with_context(|| format!("mapping {}", p.display()))?),
        None => None,
    };
    let opts = FeedIngestOptions {
        data: args.data.clone(),
        kind: args.kind,
        format: args.format,
        mapping,
        source: args.source.clone(),
        max_decompressed: args.max_decompressed,
        ingest_time: None,
    };
    let sum = ingest_feed(&args.paths, &opts)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer(&mut out, &sum)?;
        writeln!(out)?;
    } else if !quiet {
        writeln!(
            out,
            "{} file(s), {} lines: {} listings, {} stored, {} already known, {} quarantined",
            sum.files, sum.lines, sum.entries, sum.stored, sum.duplicates, sum.quarantined
        )?;
        for (reason, n) in &sum.reasons {
            writeln!(out, "  quarantined {reason}: {n}")?;
        }
        for f in &sum.failed_files {
            writeln!(out, "  not read: {f}")?;
        }
    }
    if sum.files == 0 {
        anyhow::bail!("no feed file could be read (see above)");
    }
    Ok(())
}
