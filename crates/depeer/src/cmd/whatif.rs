//! `depeer whatif`: what goes dark if ASes or links are cut at a moment,
//! and the predicted spam drop with an interval. The model is
//! `depeer_analysis::whatif`, the reading `depeer_ingest::whatif`
//! (docs/whatif.md); this module parses flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_analysis::whatif::graph::Cut;
use depeer_ingest::whatif::{WhatIfData, WhatIfReport, parse_link};

const AFTER: &str = "\
Reachability in the AS graph inferred for that moment (valley-free: an AS
stays reachable while it has a provider chain to the top that avoids the
cut), the prefixes and C&C servers that go dark, and the predicted drop of
the spam rate (fractions of the rate of the 24 h before --at) in total and
per botnet, with each family's response learned from its past cuts. Only
data up to --at is used.

Examples:
  depeer whatif --cut 26780 --at 2008-11-11T21:00Z
  depeer whatif --cut AS26780 --cut 27595 --json
  depeer whatif --cut-link 3549-26780 --at 2008-11-11T21:00Z";

/// Flags of `depeer whatif`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// An AS to cut off (repeatable; `26780` or `AS26780`).
    #[arg(long, value_name = "ASN")]
    pub cut: Vec<String>,
    /// A link to take down, `A-B` (repeatable).
    #[arg(long, value_name = "A-B")]
    pub cut_link: Vec<String>,
    /// The moment (default: the end of the data).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Also write the graph of the moment as a CAIDA as-rel file (for
    /// other simulators; scripts/bench/whatif gives it to BGPy).
    #[arg(long, value_name = "FILE")]
    pub export_as_rel: Option<PathBuf>,
}

/// Runs `depeer whatif`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut cut = Cut::default();
    for a in &args.cut {
        let asn = a
            .parse::<depeer_core::Asn>()
            .map_err(|_| anyhow::anyhow!("--cut {a:?}: not an AS number (use 26780 or AS26780)"))?;
        cut.asns.push(asn.0);
    }
    for l in &args.cut_link {
        cut.links.push(
            parse_link(l)
                .ok_or_else(|| anyhow::anyhow!("--cut-link {l:?}: use A-B, e.g. 3549-26780"))?,
        );
    }
    if cut.asns.is_empty() && cut.links.is_empty() {
        anyhow::bail!("nothing to cut: give --cut ASN or --cut-link A-B");
    }
    let at = args
        .at
        .as_deref()
        .map(|s| depeer_core::Timestamp::parse(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}")))
        .transpose()?;
    let t = std::time::Instant::now();
    let data = WhatIfData::read(&args.data)?;
    let load_s = t.elapsed().as_secs_f64();
    if let Some(path) = &args.export_as_rel {
        let n = data.export_as_rel(at.map(|t| t.0), path)?;
        eprintln!("{}: {n} links", path.display());
    }
    let mut answer = data.what_if(at.map(|t| t.0), &cut)?;
    answer.timing.load_s = load_s;
    let report = WhatIfReport::new(&answer);
    crate::output::print_summary(args.json, false, &report, |out| print_table(&report, out))
}

fn print_table(r: &WhatIfReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut what: Vec<String> = r.cut.iter().map(|a| format!("AS{a}")).collect();
    what.extend(r.cut_links.iter().map(|[a, b]| format!("link AS{a}-AS{b}")));
    writeln!(out, "cut {} at {}", what.join(", "), r.at)?;
    writeln!(
        out,
        "  dark: {} ASes, {} prefixes, {} C&C servers, {} advertised sites (graph: {} ASes, {} links, {} prefixes)",
        r.dark_ases.len(),
        r.unreachable_prefix_count,
        r.cc_dark.len(),
        r.sites_dark.len(),
        r.graph.ases,
        r.graph.links,
        r.graph.prefixes
    )?;
    if let Some(note) = &r.note {
        return writeln!(out, "  {note}");
    }
    writeln!(
        out,
        "  predicted spam drop {:.1} % [{:.1} %, {:.1} %] of the rate of the 24 h before ({} messages; responses learned from {} past cuts)",
        100.0 * r.predicted_drop,
        100.0 * r.low,
        100.0 * r.high,
        r.messages_before,
        r.learned_from
    )?;
    writeln!(
        out,
        "  of which the cut takes {:.1} % directly and the untouched botnets make up {:.0} % [{:.0} %, {:.0} %] of that ({})",
        100.0 * r.direct_drop,
        100.0 * r.substitution.ratio,
        100.0 * r.substitution.low,
        100.0 * r.substitution.high,
        match r.substitution.events {
            0 => "the prior: no past cut in the data took a tenth of the spam".to_string(),
            n => format!("learned from {n} past cuts"),
        }
    )?;
    writeln!(
        out,
        "  {:<14} {:>7} {:>9} {:>17} {:>8} {:>11} {:>9}",
        "BOTNET", "SHARE", "DROP", "INTERVAL", "C&C DARK", "BOTS DARK", "RESPONSE"
    )?;
    for b in &r.per_botnet {
        // `*`: the dark share the drop rests on (docs/whatif.md).
        let mark = |basis: &str| if b.basis == basis { '*' } else { ' ' };
        writeln!(
            out,
            "  {:<14} {:>6.1}% {:>8.1}% {:>7.1}%-{:>5.1}% {:>4}/{:<3}{} {:>5}/{:<5}{} {:>5.2}{}",
            b.botnet,
            100.0 * b.share,
            100.0 * b.predicted_drop,
            100.0 * b.low,
            100.0 * b.high,
            b.cc_dark,
            b.cc_listed,
            mark("listings"),
            b.contacts_dark,
            b.contacts,
            mark("contacts"),
            b.response,
            if b.response_events == 0 {
                " (prior)"
            } else {
                ""
            }
        )?;
    }
    for c in &r.cc_dark {
        writeln!(out, "  C&C dark: {} {} in {}", c.ip, c.botnet, c.prefix)?;
    }
    Ok(())
}
