//! `depeer depends`: how much of the trapped spam depends on what one AS
//! hosts (C&C servers of the botnets, advertised sites), and `--build`,
//! the `dependencies` table of every window. The graph itself is
//! `depeer_analysis::DependencyInput` (definitions in docs/intel.md,
//! "Dependencies"), read by `depeer_ingest::read::depends`; this module
//! parses the flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_analysis::{AsDependence, Window, parse_duration};
use depeer_core::Timestamp;
use depeer_ingest::read::depends::{build, dependence, to_json};

use crate::cmd::route::parse_time;

/// Flags of `depeer depends`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer depends 26780 --at 2008-11-11T21:30Z           # share of the day's spam controlled from AS26780
  depeer depends AS26780 --at 2008-11-11T21:30Z --window 6h --json
  depeer depends --build --window 24h                   # the `dependencies` table, one graph per day
  depeer sql \"SELECT asn, org, sum(share) FROM dependencies WHERE kind = 'cc' GROUP BY 1, 2 ORDER BY 3 DESC\"")]
pub struct Args {
    /// The AS (`26780` or `AS26780`); not with --build.
    #[arg(value_name = "ASN", required_unless_present = "build")]
    pub asn: Option<String>,
    /// End of the window (default: the end of the mail data).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Length of the window before --at (with --build: of each window).
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub window: String,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the `dependencies` table: one graph per window, from the
    /// first message (or --from) to the last (or --until).
    #[arg(long, conflicts_with = "asn")]
    pub build: bool,
    /// With --build: start of the first window.
    #[arg(long, value_name = "TIME", requires = "build")]
    pub from: Option<String>,
    /// With --build: end of the last window.
    #[arg(long, value_name = "TIME", requires = "build")]
    pub until: Option<String>,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer depends`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.build {
        let (windows, rows) = build(
            &args.data,
            parse_duration(&args.window)?,
            args.from.as_deref().map(parse_time).transpose()?,
            args.until.as_deref().map(parse_time).transpose()?,
        )?;
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"windows": windows, "rows": rows})
            )?;
        } else {
            writeln!(
                out,
                "dependencies: {rows} rows over {windows} windows of {}",
                args.window
            )?;
        }
        return Ok(out.flush()?);
    }
    let asn_text = args.asn.as_deref().unwrap_or_default();
    let asn = asn_text
        .parse::<depeer_core::Asn>()
        .map_err(|_| anyhow::anyhow!("{asn_text:?} is not an AS number (use 26780 or AS26780)"))?;
    let at = args.at.as_deref().map(parse_time).transpose()?;
    let (w, d) = dependence(&args.data, asn.0, at, parse_duration(&args.window)?)?;
    if args.json {
        writeln!(out, "{}", to_json(&w, &args.window, &d))?;
    } else {
        print_text(&mut out, &w, &args.window, &d)?;
    }
    Ok(out.flush()?)
}

fn print_text(
    out: &mut dyn Write,
    w: &Window,
    window: &str,
    d: &AsDependence,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "AS{}: {} messages in the {window} before {}",
        d.asn,
        d.messages,
        Timestamp(w.end).to_rfc3339()
    )?;
    writeln!(
        out,
        "  C&C share   {:6.2} %  (spam of botnets with a C&C server there)",
        d.cc_share * 100.0
    )?;
    writeln!(
        out,
        "  site share  {:6.2} %  (spam advertising a site hosted there)",
        d.site_share * 100.0
    )?;
    if d.botnets.is_empty() {
        writeln!(
            out,
            "no botnet has C&C servers or sites there in this window"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<12} {:>7} {:>8}  {:<34} SITES",
        "BOTNET", "SHARE", "MESSAGES", "C&C SERVERS"
    )?;
    for b in &d.botnets {
        let cc = if b.cc_servers.is_empty() {
            "-".to_string()
        } else {
            b.cc_servers.join(",")
        };
        writeln!(
            out,
            "{:<12} {:>6.2}% {:>8}  {:<34} {}",
            b.botnet,
            b.share * 100.0,
            b.messages,
            cc,
            b.sites.len()
        )?;
    }
    Ok(())
}
