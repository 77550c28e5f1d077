//! `depeer series`: trapped messages per time bucket, in total or split by
//! botnet, campaign, sending AS or hosting AS, zero-filled between --from
//! and --until so that `depeer detect` reads it as a regular series.
//! Bucketing is `depeer_analysis::Bucketer`; this module reads and prints.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use depeer_analysis::{Bucketer, Hosting, SeriesRow, Step, split_equally};
use depeer_core::Timestamp;
use depeer_store::Dataset;

use crate::cmd::depends::{load_attribution, load_hosting};
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

/// The C&C hosting of each botnet over time, placed once a minute.
struct CcHosting {
    hosting: Hosting,
    /// family -> (address, first, last)
    cc: HashMap<String, Vec<(IpAddr, i64, i64)>>,
    cache: HashMap<(String, i64), Vec<String>>,
}

impl CcHosting {
    fn read(ds: &Dataset) -> anyhow::Result<CcHosting> {
        let mut cc: HashMap<String, Vec<(IpAddr, i64, i64)>> = HashMap::new();
        for f in ds.read_feed_entries()? {
            let (Some(family), Ok(ip)) = (f.family, f.indicator.parse::<IpAddr>()) else {
                continue;
            };
            if f.kind == "cnc" {
                let first = f.first_seen.map_or(i64::MIN, |t| t.0);
                let last = f.last_seen.map_or(i64::MAX, |t| t.0);
                cc.entry(family).or_default().push((ip, first, last));
            }
        }
        Ok(CcHosting {
            hosting: load_hosting(ds)?,
            cc,
            cache: HashMap::new(),
        })
    }

    /// The ASes hosting `botnet`'s listed C&C servers at `t` (to the minute).
    fn asns(&mut self, botnet: &str, t: i64) -> &[String] {
        let minute = t.div_euclid(60_000_000) * 60_000_000;
        let key = (botnet.to_string(), minute);
        let (hosting, cc) = (&self.hosting, &self.cc);
        self.cache.entry(key).or_insert_with(|| {
            let mut v: Vec<String> = cc
                .get(botnet)
                .into_iter()
                .flatten()
                .filter(|(_, first, last)| *first <= minute && minute <= *last)
                .filter_map(|(ip, _, _)| hosting.locate(*ip, minute))
                .flat_map(|p| p.origins)
                .map(|a| a.to_string())
                .collect();
            v.sort();
            v.dedup();
            v
        })
    }
}

/// The series (the library side of `depeer series`).
pub fn series(
    data: &Path,
    by: By,
    step: Step,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> anyhow::Result<Vec<SeriesRow>> {
    let ds = Dataset::open(data).with_context(|| {
        format!(
            "{}: no dataset; run `depeer ingest mail` first",
            data.display()
        )
    })?;
    let messages = ds.read_message_points(from, until)?;
    let mut b = Bucketer::new(step, from.map(|t| t.0), until.map(|t| t.0));
    let attribution = match by {
        By::Botnet | By::Campaign | By::HostingAs => load_attribution(&ds)?,
        By::Total | By::SendingAs => HashMap::new(),
    };
    let hosting = match by {
        By::SendingAs => Some(load_hosting(&ds)?),
        _ => None,
    };
    let mut cc = match by {
        By::HostingAs => Some(CcHosting::read(&ds)?),
        _ => None,
    };
    if by == By::Total {
        b.ensure_key("total");
    }
    let none = (None, None);
    for m in &messages {
        let t = m.time.0;
        let (botnet, campaign) = attribution.get(&m.sha256).unwrap_or(&none);
        match by {
            By::Total => b.add(t, "total", 1.0),
            By::Botnet => b.add(t, botnet.as_deref().unwrap_or("unknown"), 1.0),
            By::Campaign => b.add(t, campaign.as_deref().unwrap_or("none"), 1.0),
            By::SendingAs => {
                let origins: Vec<String> = m
                    .relay_ip
                    .as_deref()
                    .and_then(|ip| ip.parse::<IpAddr>().ok())
                    .and_then(|ip| hosting.as_ref()?.locate(ip, t))
                    .map(|p| p.origins.iter().map(u32::to_string).collect())
                    .unwrap_or_default();
                add_split(&mut b, t, &origins);
            }
            By::HostingAs => {
                let asns = match (botnet.as_deref(), cc.as_mut()) {
                    (Some(bn), Some(cc)) => cc.asns(bn, t).to_vec(),
                    _ => Vec::new(),
                };
                add_split(&mut b, t, &asns);
            }
        }
    }
    Ok(b.rows()?)
}

/// One message split equally over `keys`, or under `unknown` when none.
fn add_split(b: &mut Bucketer, t: i64, keys: &[String]) {
    if keys.is_empty() {
        b.add(t, "unknown", 1.0);
    }
    for (k, w) in split_equally(keys) {
        b.add(t, k, w);
    }
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
    let mut rows = series(&args.data, args.by, step, from, until)?;
    if let Some(k) = &args.key {
        rows.retain(|r| &r.key == k);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let time = |r: &SeriesRow| Timestamp(r.start).to_rfc3339();
    if args.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({"time": time(r), "key": r.key, "value": r.value}))
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(v))?;
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
