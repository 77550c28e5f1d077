//! `depeer rank`: the rogue-network ranking of a window (docs/rank.md).
//! Flags and printing only; the reading is `depeer_ingest::rank`, the
//! ranking `depeer_analysis::rank`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use depeer_analysis::parse_duration;
use depeer_analysis::rank::{By, Method, RankRow, Weights};
use depeer_core::Timestamp;
use depeer_ingest::{RankOptions, RankReport};

use crate::cmd::route::parse_time;

/// Flags of `depeer rank`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer rank --at 2008-11-11T21:00Z                 # the 20 most rogue-looking ASes of the 30 days before
  depeer rank --by org --top 10 --json
  depeer rank --method circl                         # the CIRCL BGP Ranking formula on the same data
  depeer rank --weights my-weights.toml              # a copy of the shipped weights, edited")]
pub struct Args {
    /// End of the window (default: the last message).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Length of the window before --at.
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub window: String,
    /// Rank autonomous systems, organisations or prefixes.
    #[arg(long, default_value = "as", value_parser = ["as", "org", "prefix"])]
    pub by: String,
    /// How many rows (0: all).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// depeer's score, or a baseline: the CIRCL BGP Ranking formula, a FIRE-style density.
    #[arg(long, default_value = "depeer", value_parser = ["depeer", "circl", "fire"])]
    pub method: String,
    /// A weights file (TOML) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// The weights of `--weights FILE`, else the shipped ones.
pub fn load_weights(file: Option<&Path>) -> anyhow::Result<Weights> {
    Ok(match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("{}: cannot read the weights file", f.display()))?;
            Weights::parse(&text, &f.display().to_string())?
        }
        None => Weights::builtin()?,
    })
}

/// Reads and ranks (the library side of `depeer rank`).
pub fn report(
    data: &Path,
    at: Option<&str>,
    window: &str,
    by: By,
    method: Method,
    weights: Weights,
) -> anyhow::Result<RankReport> {
    let opts = RankOptions {
        at: at.map(parse_time).transpose()?,
        window: parse_duration(window)?,
        by,
        method,
        weights,
    };
    if !data.join("tables").is_dir() {
        anyhow::bail!(
            "{}: no dataset; ingest routing, feeds and mail first",
            data.display()
        );
    }
    let r = depeer_ingest::rank(data, &opts)?;
    if r.input.routes.is_empty() {
        anyhow::bail!(
            "{}: no routes stored up to the moment asked: run `depeer ingest mrt` (or `ingest ipasn`) first",
            data.display()
        );
    }
    Ok(r)
}

fn parse_by(s: &str) -> By {
    match s {
        "org" => By::Org,
        "prefix" => By::Prefix,
        _ => By::As,
    }
}

fn parse_method(s: &str) -> Method {
    match s {
        "circl" => Method::Circl,
        "fire" => Method::Fire,
        _ => Method::Depeer,
    }
}

/// Runs `depeer rank`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let by = parse_by(&args.by);
    let weights = load_weights(args.weights.as_deref())?;
    let r = report(
        &args.data,
        args.at.as_deref(),
        &args.window,
        by,
        parse_method(&args.method),
        weights,
    )?;
    let top = if args.top == 0 { usize::MAX } else { args.top };
    let rows: Vec<&RankRow> = r.ranking.rows.iter().take(top).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let at = Timestamp(r.ranking.at).to_rfc3339();
    if args.json {
        writeln!(out, "{}", depeer_ingest::rank_json(&r, by, top))?;
        return Ok(out.flush()?);
    }
    writeln!(
        out,
        "{} networks with evidence in the {} before {at} ({} score)",
        r.ranking.rows.len(),
        args.window,
        args.method
    )?;
    let key = match by {
        By::Prefix => "PREFIX",
        By::Org => "LARGEST AS",
        By::As => "AS",
    };
    writeln!(
        out,
        "{:>4} {:<20} {:>9}  {:<32} TOP FEATURES",
        "RANK", key, "SCORE", "ORG"
    )?;
    for x in rows {
        let mut parts: Vec<(&String, f64)> = if x.contributions.is_empty() {
            x.features.iter().map(|(k, v)| (k, *v)).collect()
        } else {
            x.contributions.iter().map(|(k, v)| (k, *v)).collect()
        };
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = parts
            .iter()
            .filter(|p| p.1 > 0.0)
            .take(3)
            .map(|(k, v)| format!("{k} {v:.3}"))
            .collect();
        let name = match by {
            By::Prefix => x.prefix.clone().unwrap_or_default(),
            _ => format!("AS{}", x.asn),
        };
        let org: String = x.org.clone().unwrap_or_default().chars().take(32).collect();
        writeln!(
            out,
            "{:>4} {:<20} {:>9.4}  {:<32} {}",
            x.rank,
            name,
            x.score,
            org,
            top.join(", ")
        )?;
    }
    Ok(out.flush()?)
}
