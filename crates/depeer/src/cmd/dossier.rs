//! `depeer dossier` writes an offline-verifiable directory about one AS,
//! address, prefix or domain; `depeer verify` checks one
//! (docs/dossier-format.md). The work is in `depeer_ingest::evidence` and
//! `depeer_evidence::verify_dossier`; this module parses flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_analysis::parse_duration;
use depeer_ingest::evidence::{DossierOptions, write_dossier};

use crate::cmd::route::parse_time;

/// Flags of `depeer dossier`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer dossier AS26780 --at 2008-11-11T20:00Z --out mccolo-dossier
  depeer dossier 208.66.195.0/24 --window 7d --max-samples 20 --out prefix-dossier
  depeer verify mccolo-dossier --vkey \"$(depeer log vkey)\"")]
pub struct DossierArgs {
    /// The subject: an AS (`AS26780` or `26780`), an address, a prefix or a domain.
    #[arg(value_name = "ASN|IP|PREFIX|DOMAIN")]
    pub subject: String,
    /// The moment (default: the last message).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Window before --at.
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub window: String,
    /// Most raw messages attached as evidence.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_samples: usize,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `depeer dossier`.
pub fn run(a: &DossierArgs) -> anyhow::Result<()> {
    if a.out.exists()
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        anyhow::bail!(
            "{} exists and is not empty: give a new --out directory",
            a.out.display()
        );
    }
    let opts = DossierOptions {
        subject: a.subject.clone(),
        at: a.at.as_deref().map(parse_time).transpose()?,
        window: parse_duration(&a.window)?,
        max_samples: a.max_samples,
        out: a.out.clone(),
    };
    let s = write_dossier(&a.data, &opts)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&s)?)?;
    } else {
        writeln!(
            out,
            "dossier of {} at {}: {} claims, {} evidence files ({} messages in the window), proofs against the checkpoint of size {}, in {}",
            s.subject,
            s.at,
            s.claims,
            s.evidence,
            s.messages,
            s.tree_size,
            a.out.display()
        )?;
    }
    Ok(out.flush()?)
}

/// Flags of `depeer verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer verify mccolo-dossier                         # against the dossier's own vkey file
  depeer verify mccolo-dossier --vkey \"$(cat depeer.vkey)\"   # against a key you trust")]
pub struct VerifyArgs {
    /// The dossier directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The verifier key to trust (default: the dossier's `vkey` file, which
    /// only shows the dossier is self-consistent).
    #[arg(long, value_name = "KEY")]
    pub vkey: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `depeer verify`.
pub fn verify(a: &VerifyArgs) -> anyhow::Result<()> {
    let r = depeer_evidence::verify_dossier(&a.dir, a.vkey.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
    } else {
        writeln!(
            out,
            "verified: dossier of {}: {} evidence files (hash and inclusion proof each), {} claims citing only verified evidence, checkpoint of size {} signed by {}{}",
            r.subject,
            r.evidence,
            r.claims,
            r.tree_size,
            r.vkey,
            if a.vkey.is_none() {
                " (the dossier's own key: pass --vkey to check it against a key you trust)"
            } else {
                ""
            }
        )?;
    }
    Ok(out.flush()?)
}
