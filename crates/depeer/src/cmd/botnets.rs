//! `depeer botnets`: the botnets of a time window, from the `attribution`
//! table and the C&C feeds.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::{BotnetReport, BotnetsOptions};

const AFTER: &str = "\
Per botnet: messages in the window and their share of all spam there, the
distinct relay addresses (bots, a HyperLogLog estimate), those not seen
before the window, and the C&C servers listed in the window with the AS
and organisation that routed them when first seen.

Examples:
  depeer botnets
  depeer botnets --from 2008-11-10T00:00Z --until 2008-11-11T21:30Z --json";

/// Flags of `depeer botnets`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Start of the window (default: the first message).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window, inclusive (default: the last message).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `depeer botnets`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let parse_time =
        |s: &str| depeer_core::Timestamp::parse(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}"));
    let opts = BotnetsOptions {
        from: args.from.as_deref().map(parse_time).transpose()?,
        until: args.until.as_deref().map(parse_time).transpose()?,
    };
    let report = depeer_ingest::botnets(&args.data, &opts)?;
    crate::output::print_summary(args.json, false, &report, |out| print_table(&report, out))
}

fn print_table(r: &BotnetReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} .. {}: {} messages, {} without a botnet",
        r.from.as_deref().unwrap_or("-"),
        r.until.as_deref().unwrap_or("-"),
        r.messages,
        r.unattributed
    )?;
    if r.botnets.is_empty() {
        writeln!(
            out,
            "no attributed messages (depeer ingest mail, then depeer attribute)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<16} {:>10} {:>7} {:>9} {:>9}  C&C (AS, organisation, first seen)",
        "botnet", "messages", "share", "bots", "new bots"
    )?;
    for b in &r.botnets {
        writeln!(
            out,
            "{:<16} {:>10} {:>6.1}% {:>9} {:>9}  {}",
            b.botnet,
            b.messages,
            b.share * 100.0,
            b.bots_estimate,
            b.new_bots,
            b.cc.len()
        )?;
        for c in &b.cc {
            let port = c.port.map(|p| format!(":{p}")).unwrap_or_default();
            let asn = c
                .asn
                .map_or_else(|| "unrouted".to_string(), |a| format!("AS{a}"));
            writeln!(
                out,
                "{:>58}{}{port}  {asn}  {}  {}",
                "",
                c.ip,
                c.org.as_deref().unwrap_or("-"),
                c.first_seen.as_deref().unwrap_or("-")
            )?;
        }
    }
    Ok(())
}
