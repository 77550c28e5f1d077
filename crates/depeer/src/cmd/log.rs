//! `depeer log`: the evidence log of a data directory (docs/evidence.md):
//! the verifier key, the latest signed checkpoint, inclusion and
//! consistency proofs, and the whole-store verification. The work is in
//! `depeer_ingest::evidence`; this module parses the flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::evidence::{log_checkpoint, log_consistency, log_prove, log_vkey, verify_log};

/// `depeer log ...`
#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Print the verifier key (NAME+KEYID+BASE64, Go sumdb/note form).
    Vkey(Common),
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint, signed note).
    Checkpoint(Common),
    /// Print a c2sp.org/tlog-proof@v1 proof of one object's entry.
    Prove(ProveArgs),
    /// Print the consistency proof from an earlier size to the latest checkpoint.
    Consistency(ConsistencyArgs),
    /// Re-read the whole store: every object's hash, every entry, every checkpoint.
    Verify(Common),
}

/// Flags every `depeer log` command takes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer log vkey > depeer.vkey
  depeer log checkpoint
  depeer log verify --json")]
pub struct Common {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `depeer log prove`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer log prove 3f5a0c1e...64 hex digits... > msg.tlog-proof
  depeer sql \"SELECT sha256 FROM evidence_log LIMIT 1\" --csv | tail -1 | xargs depeer log prove")]
pub struct ProveArgs {
    /// SHA-256 (hex) of the stored object.
    #[arg(value_name = "SHA256")]
    pub sha256: String,
    /// --data and --json.
    #[command(flatten)]
    pub common: Common,
}

/// Flags of `depeer log consistency`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer log consistency 50000          # one base64 hash a line (RFC 6962 §2.1.2)")]
pub struct ConsistencyArgs {
    /// The earlier tree size.
    #[arg(value_name = "OLD_SIZE")]
    pub old_size: u64,
    /// --data and --json.
    #[command(flatten)]
    pub common: Common,
}

/// Runs a `depeer log` command.
pub fn run(cmd: &LogCommand) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cmd {
        LogCommand::Vkey(c) => {
            let k = log_vkey(&c.data)?;
            if c.json {
                writeln!(out, "{}", serde_json::json!({ "vkey": k }))?;
            } else {
                writeln!(out, "{k}")?;
            }
        }
        LogCommand::Checkpoint(c) => {
            let note = log_checkpoint(&c.data)?;
            if c.json {
                writeln!(out, "{}", serde_json::json!({ "checkpoint": note }))?;
            } else {
                write!(out, "{note}")?;
            }
        }
        LogCommand::Prove(a) => {
            let p = log_prove(&a.common.data, &a.sha256)?;
            if a.common.json {
                writeln!(out, "{}", serde_json::to_string(&p)?)?;
            } else {
                write!(out, "{}", p.proof)?;
            }
        }
        LogCommand::Consistency(a) => {
            let p = log_consistency(&a.common.data, a.old_size)?;
            if a.common.json {
                writeln!(out, "{}", serde_json::to_string(&p)?)?;
            } else {
                for h in &p.hashes {
                    writeln!(out, "{h}")?;
                }
            }
        }
        LogCommand::Verify(c) => {
            let r = verify_log(&c.data)?;
            if c.json {
                writeln!(out, "{}", serde_json::to_string(&r)?)?;
            } else {
                let kinds: Vec<String> =
                    r.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
                writeln!(
                    out,
                    "log verified: {} entries ({}), {} signed checkpoints (latest size {}), {} stored objects re-hashed, each with exactly one entry; key {}",
                    r.entries,
                    if kinds.is_empty() {
                        "none".to_string()
                    } else {
                        kinds.join(", ")
                    },
                    r.checkpoints,
                    r.tree_size,
                    r.objects,
                    r.vkey
                )?;
            }
        }
    }
    Ok(out.flush()?)
}
