//! `depeer ingest mail`: spamtrap mail into the data directory.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::{MailOptions, MailSummary, ingest_mail};

use crate::output::{IngestTarget, print_summary};
use crate::progress::Bar;

const AFTER: &str = "\
Inputs: mbox (mboxo and mboxrd), Maildir (cur/ and new/), single .eml files,
directory trees of any of these, and `-` for standard input; each may be
gzip, bzip2, zstd or xz compressed (told by magic bytes, never by name).

Every message is stored once, content-addressed: ingesting the same input
again only counts duplicates. The new messages are attributed to botnets
(table `attribution`) with the bot lists, routes and AS names already in
the dataset; ingest those first, or run `depeer attribute` after them.
A message that cannot be used is quarantined with its bytes and a reason
(see `depeer sql \"SELECT * FROM quarantine\"`), and the run goes on.

Exit codes: 0 done (quarantined messages are not a failure); 1 the run
could not start or the store failed (nothing half-written is visible);
2 usage error.

Examples:
  depeer ingest mail trap/2008-11-*.mbox.gz
  depeer ingest mail --trust trusted.cf ~/Maildir
  zcat spam.mbox.gz | depeer ingest mail --json -";

/// Flags of `depeer ingest mail`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Where to write and how to report.
    #[command(flatten)]
    pub target: IngestTarget,
    /// Trust file: the trap's own networks and hosts (CIDRs or names, one per
    /// line, `trusted_networks` lines as in SpamAssassin). Without it the
    /// trust boundary is inferred as SpamAssassin does (see docs/mail.md).
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// Parse and extract only; store nothing (for benchmarks).
    #[arg(long)]
    pub no_store: bool,
    /// Worker threads for parsing (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Largest single message accepted, in bytes; larger ones are quarantined.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_message: usize,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_decompressed: u64,
    /// Commit a batch every N messages (smaller: less lost work on a crash).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub batch_messages: usize,
    /// Do not attribute the new messages to botnets (run `depeer attribute`
    /// later).
    #[arg(long)]
    pub no_attribute: bool,
    /// Publish to NATS JetStream (`nats://HOST:PORT`) instead of storing:
    /// `depeer worker` stores it (docs/SCALING.md).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Files, directories or `-` (stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs `depeer ingest mail`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let trust = match &args.trust {
        Some(p) => depeer_mail::TrustConfig::from_file(p).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; fix the trust file or leave --trust out",
                p.display()
            )
        })?,
        None => depeer_mail::TrustConfig::default(),
    };
    let defaults = MailOptions::default();
    let opts = MailOptions {
        data: (!args.no_store).then(|| args.target.data.clone()),
        trust,
        jobs: args.jobs.unwrap_or(defaults.jobs),
        max_message: args.max_message,
        limits: depeer_io::Limits {
            max_total: args.max_decompressed,
            ..depeer_io::Limits::default()
        },
        batch_messages: args.batch_messages,
        attribute: (!args.no_attribute).then_some(defaults.attribute).flatten(),
    };
    if let Some(to) = &args.to {
        let s = super::nats::publish_mail(to, &args.paths, &opts)?;
        return super::nats::print_produced(&s, args.target.json, quiet);
    }
    let bar = Bar::new(!quiet && !args.target.json, "messages");
    let summary = ingest_mail(&args.paths, &opts, &bar)?;
    // The table is the point of the command: printed also with --quiet.
    print_summary(args.target.json, false, &summary, |out| {
        print_table(&summary, out)
    })
}

/// The summary as a table for people.
fn print_table(s: &MailSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "files        {:>12}", s.files)?;
    writeln!(out, "read         {:>12}", s.read)?;
    writeln!(out, "stored       {:>12}", s.stored)?;
    writeln!(out, "duplicate    {:>12}", s.duplicate)?;
    writeln!(out, "quarantined  {:>12}", s.quarantined)?;
    for (reason, n) in &s.quarantine_reasons {
        writeln!(out, "  {reason:<24} {n:>8}")?;
    }
    writeln!(out, "urls         {:>12}", s.urls)?;
    writeln!(out, "bytes        {:>12}", s.bytes)?;
    writeln!(
        out,
        "seconds      {:>12.2}   ({:.0} messages/s)",
        s.seconds, s.messages_per_second
    )?;
    if let Some(d) = &s.data_dir {
        writeln!(out, "data         {d}")?;
    }
    if let Some(a) = &s.attribution {
        super::attribute::print_table(a, out)?;
    }
    for e in &s.input_errors {
        writeln!(out, "input error: {e}")?;
    }
    Ok(())
}
