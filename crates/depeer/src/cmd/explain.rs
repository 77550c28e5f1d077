//! `depeer explain ASN`: why an AS ranks where it does: each feature of
//! depeer's score with the evidence rows behind it (docs/rank.md). Flags
//! and printing only; the explanation is `depeer_analysis::rank::explain`.

use std::io::Write;
use std::path::PathBuf;

use depeer_analysis::rank::{By, Method, explain};
use depeer_core::Timestamp;

use crate::cmd::rank::{load_weights, report};

/// Flags of `depeer explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer explain 26780 --at 2008-11-11T21:00Z
  depeer explain AS26780 --json | jq '.features.cc_density.evidence'")]
pub struct Args {
    /// The AS (`26780` or `AS26780`).
    #[arg(value_name = "ASN")]
    pub asn: String,
    /// End of the window (default: the last message).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Length of the window before --at.
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub window: String,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// A weights file (TOML) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

fn time(t: i64) -> String {
    Timestamp(t).to_rfc3339()
}

/// Runs `depeer explain`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let asn = args.asn.parse::<depeer_core::Asn>().map_err(|_| {
        anyhow::anyhow!("{:?} is not an AS number (use 26780 or AS26780)", args.asn)
    })?;
    let weights = load_weights(args.weights.as_deref())?;
    let r = report(
        &args.data,
        args.at.as_deref(),
        &args.window,
        By::As,
        Method::Depeer,
        weights,
    )?;
    let at = r.ranking.at;
    let Some(x) = explain(&r.input, &r.ranking, asn.0) else {
        anyhow::bail!(
            "AS{}: no evidence in the {} before {} (no listing, site, dependency or customer with evidence)",
            asn.0,
            args.window,
            time(at)
        );
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        writeln!(out, "{}", depeer_ingest::explain_json(&x, at, &args.window))?;
        return Ok(out.flush()?);
    }
    writeln!(
        out,
        "AS{} {}: rank {} of {}, score {:.4}, in the {} before {}",
        x.row.asn,
        x.row.org.as_deref().unwrap_or(""),
        x.row.rank,
        x.of,
        x.row.score,
        args.window,
        time(at)
    )?;
    for (name, f) in &x.features {
        writeln!(
            out,
            "\n{name}: {} (contributes {:.4})",
            f.value, f.contribution
        )?;
        for e in f.evidence.iter().take(20) {
            writeln!(
                out,
                "  {:<8} {:<28} {:<16} {} .. {}  {}{}",
                e.kind,
                e.indicator,
                e.address
                    .as_deref()
                    .unwrap_or("-")
                    .chars()
                    .take(16)
                    .collect::<String>(),
                time(e.first),
                time(e.last),
                e.detail,
                e.sources
                    .first()
                    .map(|s| format!("  [{s}]"))
                    .unwrap_or_default()
            )?;
        }
        if f.evidence.len() > 20 {
            writeln!(out, "  ... {} more (--json for all)", f.evidence.len() - 20)?;
        }
    }
    Ok(out.flush()?)
}
