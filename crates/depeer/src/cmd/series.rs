//! `depeer series`: trapped messages per time bucket, in total or split by
//! botnet, campaign, sending AS or hosting AS, zero-filled between --from
//! and --until so that `depeer detect` reads it as a regular series.
//! The series are `depeer_ingest::read::series`; this module parses the
//! flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_analysis::{SeriesRow, Step};
use depeer_core::Timestamp;
use depeer_ingest::read::series::{SeriesBy, series};

use crate::cmd::route::parse_time;

/// What the messages are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// One series: all messages (key `total`).
    Total,
    /// The botnet of the `attribution` table (`unknown` when none).
    Botnet,
    /// The campaign of the `attribution` table (`none` when none).
    Campaign,
    /// The origin AS of the relay address as routed at the message time.
    SendingAs,
    /// The AS hosting the C&C servers of the message's botnet at that time
    /// (split equally when several).
    HostingAs,
}

impl From<By> for SeriesBy {
    fn from(by: By) -> SeriesBy {
        match by {
            By::Total => SeriesBy::Total,
            By::Botnet => SeriesBy::Botnet,
            By::Campaign => SeriesBy::Campaign,
            By::SendingAs => SeriesBy::SendingAs,
            By::HostingAs => SeriesBy::HostingAs,
        }
    }
}

/// Flags of `depeer series`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Output columns: time (bucket start), key, value. Rows are ordered by key,
then time, with every bucket present (zero where nothing arrived).

Examples:
  depeer series --by total --step 1h --csv > total.csv && depeer detect --csv total.csv
  depeer series --by botnet --key srizbi --step 1m --from 2008-11-11T00:00Z --until 2008-11-12T00:00Z --csv
  depeer series --by hosting-as --json"
)]
pub struct Args {
    /// What to split by.
    #[arg(long, value_enum, default_value = "total")]
    pub by: By,
    /// Bucket width: 1s, 1m, 1h (any whole number of s, m, h or d).
    #[arg(long, default_value = "1h", value_name = "STEP")]
    pub step: String,
    /// Start (inclusive; default: the first message's bucket).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End (exclusive; default: the last message's bucket).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only this key (one series: what `depeer detect` wants).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// CSV on stdout: time,key,value.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// JSON on stdout: [{"time","key","value"}].
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

fn value_text(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}

/// Runs `depeer series`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let step = Step::parse(&args.step)?;
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let mut rows = series(&args.data, args.by.into(), step, from, until)?;
    if let Some(k) = &args.key {
        rows.retain(|r| &r.key == k);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let time = |r: &SeriesRow| Timestamp(r.start).to_rfc3339();
    if args.json {
        writeln!(out, "{}", depeer_ingest::read::series::to_json(&rows))?;
    } else if args.csv {
        writeln!(out, "time,key,value")?;
        for r in &rows {
            let key = r.key.replace([',', '"', '\n', '\r'], "_");
            writeln!(out, "{},{key},{}", time(r), value_text(r.value))?;
        }
    } else {
        writeln!(out, "{:<20}  {:<16}  {:>10}", "TIME", "KEY", "MESSAGES")?;
        for r in &rows {
            writeln!(
                out,
                "{:<20}  {:<16}  {:>10}",
                time(r),
                r.key,
                value_text(r.value)
            )?;
        }
    }
    Ok(out.flush()?)
}
