//! `depeer export FORMAT`: the listings of the dataset as of `--at`
//! ([`depeer_ingest::listings`]) rendered by [`depeer_dnsbl::export`].

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_dnsbl::export::{Format, List, Rendered, render};
use serde::Serialize;

const AFTER: &str = "\
Formats:
  drop        Spamhaus DROP text: `CIDR ; evidence` lines, `;` header
  drop-json   Spamhaus DROP JSON lines (drop_v4.json layout), metadata line last
  asndrop     Spamhaus ASN-DROP JSON lines (asndrop.json layout), metadata line last
  rbldnsd     rbldnsd zone: ip4set with per-list answers (dnset with --list dbl)
  rpz         DNS response policy zone (rpz-ip and name triggers, CNAME .)
  nft         nftables table of interval sets, for `nft -f`
  bird        BIRD 2 static protocols of blackhole routes (community 65535:666)
  gobgp       `gobgp` command lines: global rib add -a ipv4 PREFIX community 65535:666

Lists: bots (relays of botnet spam, bot feeds), cc (C&C servers, rogue-hosted
addresses), drop (rogue networks: DROP feeds, ASN-DROP ASes and their announced
prefixes), dbl (advertised domains). Each format has default lists
(docs/export.md); --list restricts.

Examples:
  depeer export drop --out drop.txt
  depeer export rbldnsd --list bots --at 2008-11-11T21:30Z --out bots.zone
  depeer export rpz --origin rpz.example.net --out depeer.rpz
  depeer export nft --out depeer.nft && nft -f depeer.nft
  depeer export gobgp --out routes.txt --json";

/// Flags of `depeer export`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// drop, drop-json, asndrop, rbldnsd, rpz, nft, bird or gobgp.
    #[arg(value_parser = parse_format)]
    pub format: Format,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Write the export here (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The moment listed (default: now); later evidence is left out.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Lists to export: bots, cc, drop, dbl (repeatable or comma-separated).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_list)]
    pub list: Vec<List>,
    /// Zone origin (rpz: default rpz.depeer.test; rbldnsd: bl.depeer.test).
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
    /// Leave out evidence last seen more than this many days before --at (0: keep all).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub max_age: u32,
    /// Print a JSON summary on stdout (needs --out).
    #[arg(long, requires = "out")]
    pub json: bool,
    /// Which ranked networks the drop list adds.
    #[command(flatten)]
    pub rank: RankArgs,
}

/// The ranked rogue networks a drop list adds (`depeer rank` at the
/// listed moment; docs/export.md).
#[derive(Debug, Clone, clap::Args)]
pub struct RankArgs {
    /// Add at most this many ranked networks to the drop list (0: none,
    /// only ASN-DROP and DROP feed entries).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub rank_top: usize,
    /// Add only ranked networks scoring at least this (0..1).
    #[arg(long, value_name = "SCORE", default_value_t = 0.5)]
    pub rank_min_score: f64,
    /// The ranking's window before the listed moment.
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub rank_window: String,
}

impl RankArgs {
    /// The ranked networks at `at` that pass these flags.
    pub fn rogue_ases(
        &self,
        data: &std::path::Path,
        at: depeer_core::Timestamp,
    ) -> anyhow::Result<Vec<depeer_ingest::RogueAs>> {
        let policy = depeer_ingest::RankListing {
            top: self.rank_top,
            min_score: self.rank_min_score,
            window: depeer_analysis::parse_duration(&self.rank_window)
                .map_err(|e| anyhow::anyhow!("--rank-window: {e}"))?,
        };
        Ok(depeer_ingest::ranked_rogue_ases(data, at, &policy)?)
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        "expected drop, drop-json, asndrop, rbldnsd, rpz, nft, bird or gobgp".to_string()
    })
}

fn parse_list(s: &str) -> Result<List, String> {
    List::parse(s).ok_or_else(|| "expected bots, cc, drop or dbl".to_string())
}

/// The `--json` summary.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    format: &'static str,
    out: Option<String>,
    at: String,
    lists: Vec<&'static str>,
    entries: u64,
    by_list: &'a std::collections::BTreeMap<&'static str, u64>,
    skipped: &'a std::collections::BTreeMap<&'static str, u64>,
    bytes: usize,
}

/// The moment of `--at`, else now.
pub fn at_or_now(at: Option<&str>) -> anyhow::Result<depeer_core::Timestamp> {
    match at {
        Some(s) => depeer_core::Timestamp::parse(s).map_err(|e| anyhow::anyhow!("--at: {e}")),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Ok(depeer_core::Timestamp::from_secs(
                i64::try_from(secs).unwrap_or(i64::MAX),
            ))
        }
    }
}

/// `--max-age` days as microseconds (`None` for 0).
pub fn max_age(days: u32) -> Option<i64> {
    (days > 0).then(|| i64::from(days) * 86_400 * 1_000_000)
}

/// Runs `depeer export`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let at = at_or_now(args.at.as_deref())?;
    let opts = depeer_ingest::ListingOptions {
        at,
        max_age: max_age(args.max_age),
        rogue_ases: args.rank.rogue_ases(&args.data, at)?,
    };
    let mut export = depeer_ingest::listings(&args.data, &opts)?;
    export.origin.clone_from(&args.origin);
    let r = render(args.format, &export, &args.list);
    match &args.out {
        Some(path) => write_atomic(path, r.text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(r.text.as_bytes())?;
            out.flush()?;
        }
    }
    let lists: &[List] = if args.list.is_empty() {
        args.format.default_lists()
    } else {
        &args.list
    };
    let summary = Summary {
        format: args.format.as_str(),
        out: args.out.as_ref().map(|p| p.display().to_string()),
        at: at.to_rfc3339(),
        lists: lists.iter().map(|l| l.as_str()).collect(),
        entries: r.total(),
        by_list: &r.entries,
        skipped: &r.skipped,
        bytes: r.text.len(),
    };
    if args.out.is_some() {
        crate::output::print_summary(args.json, false, &summary, |out| {
            print_text(&summary, &r, out)
        })?;
    }
    Ok(())
}

fn print_text(s: &Summary<'_>, r: &Rendered, out: &mut dyn Write) -> std::io::Result<()> {
    let per: Vec<String> = r.entries.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        out,
        "{}: {} entries ({}) as of {} -> {}",
        s.format,
        s.entries,
        if per.is_empty() {
            "none".into()
        } else {
            per.join(", ")
        },
        s.at,
        s.out.as_deref().unwrap_or("-")
    )?;
    if !r.skipped.is_empty() {
        let sk: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "not expressible in this format: {}", sk.join(", "))?;
    }
    Ok(())
}

/// Writes `path` through a temporary file in the same directory and a
/// rename, so a reader (rbldnsd, a cron job) never sees half a file.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    // Readable by the daemon that loads it (a temporary file is 0600).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
