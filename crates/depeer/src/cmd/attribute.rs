//! `depeer attribute`: re-decides the botnet of every stored message with
//! everything the dataset holds now (feeds and routes that arrived after
//! the mail), and rewrites the `attribution` days that changed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_ingest::{AttributeMode, AttributeOptions, AttributeSummary, attribute_dir};
use depeer_intel::RuleSet;

const AFTER: &str = "\
Signals: signature rules (built-in rules file, or --rules), the relay in a
family-tagged bot list (`depeer ingest feed`, kind bots) at that time, and
campaign clusters (see docs/attribution.md). Each relay is mapped to its
prefix, origin AS and organisation as routed at the message time.

`depeer ingest mail` attributes new messages as they arrive; run this
after ingesting feeds or routing data later. A second run with nothing new
writes nothing.

Examples:
  depeer ingest feed bots.csv cc.csv && depeer attribute
  depeer attribute --json | jq .botnets
  depeer sql \"SELECT botnet, signal, count(*) FROM attribution GROUP BY 1, 2\"";

/// Flags of `depeer attribute`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print one JSON summary object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// A rules file instead of the built-in one (syntax in docs/attribution.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

/// Runs `depeer attribute`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let rules = match &args.rules {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read the rules file", p.display()))?;
            Some(RuleSet::parse(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let opts = AttributeOptions {
        mode: AttributeMode::All,
        rules,
    };
    let summary = attribute_dir(&args.data, &opts)?;
    crate::output::print_summary(args.json, false, &summary, |out| print_table(&summary, out))
}

/// An attribution summary for people (also under `depeer ingest mail`).
pub(crate) fn print_table(s: &AttributeSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "attribution  {:>12} messages decided, {} rows changed, {} written",
        s.decided, s.changed, s.written
    )?;
    writeln!(
        out,
        "  attributed {:>12}   ({:.1} % of {} messages)",
        s.attributed,
        s.attributed_share * 100.0,
        s.messages
    )?;
    let signals: Vec<String> = s.signals.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "  signals    {}", signals.join(", "))?;
    let mut botnets: Vec<(&String, &u64)> = s.botnets.iter().collect();
    botnets.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (b, n) in botnets {
        writeln!(out, "    {b:<20} {n:>10}")?;
    }
    if s.routes == 0 {
        writeln!(
            out,
            "  no routing data: relays not mapped to ASes (depeer ingest mrt / ingest ipasn, then depeer attribute)"
        )?;
    } else {
        writeln!(
            out,
            "  relays     {:>12}   ({} unroutable at the message time)",
            s.relays, s.unroutable_relays
        )?;
    }
    if s.bot_list_addresses == 0 {
        writeln!(
            out,
            "  no bot lists in the dataset (depeer ingest feed --kind bots FILE)"
        )?;
    }
    Ok(())
}
