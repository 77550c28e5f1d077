//! `depeer events`: abrupt drops and rises of the trapped spam, with the
//! routing events that explain them. Detection is
//! `depeer_analysis::volume_events_in_parts` (docs/events.md) on the
//! messages per minute, placed in time by the per-botnet series of the
//! `attribution` table; causes are `depeer_analysis::rank_causes` over
//! the `routing_events` of the two hours before, each AS weighed by the
//! botnets whose C&C servers (`feed_entries` kind `cnc`) it routed just
//! before. This module reads the dataset and prints.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use depeer_analysis::{
    CauseCandidate, Hosting, VolumeEvent, VolumeParams, rank_causes, volume_events,
    volume_events_in_parts,
};
use depeer_core::{RoutingEventKind, Timestamp};
use depeer_store::Dataset;
use serde::Serialize;

use crate::cmd::depends::load_hosting;
use crate::cmd::route::parse_time;

/// Which series events are looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// All trapped spam (key null).
    Total,
    /// Each botnet of the `attribution` table.
    Botnet,
    /// Each sending AS (not built yet).
    SendingAs,
    /// Each hosting AS (not built yet).
    HostingAs,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Total => "total",
            Scope::Botnet => "botnet",
            Scope::SendingAs => "sending-as",
            Scope::HostingAs => "hosting-as",
        }
    }
}

/// Flags of `depeer events`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each event: when (with an interval), the relative change of the rate
over the next 24 hours (-0.66: two thirds fewer messages) with its
interval, a confidence, and for drops and rises of the total the routing
events of the two hours before that explain it, best first, with the
share of the change each explains. Run `depeer attribute` first for
per-botnet placement and causes.

Examples:
  depeer events
  depeer events --from 2008-11-10T00:00Z --until 2008-11-13T00:00Z --json
  depeer events --scope botnet"
)]
pub struct Args {
    /// Start (inclusive; default: the first message).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End (exclusive; default: after the last message).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Which series.
    #[arg(long, value_enum, default_value = "total")]
    pub scope: Scope,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// `depeer events --json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The events, in time order.
    pub events: Vec<EventOut>,
}

/// One event.
#[derive(Debug, Serialize)]
pub struct EventOut {
    /// First minute at the new rate (RFC 3339).
    pub time: String,
    /// Interval of `time`.
    pub time_low: String,
    /// See `time_low`.
    pub time_high: String,
    /// `total` or `botnet`.
    pub scope: &'static str,
    /// The botnet; null for the total.
    pub key: Option<String>,
    /// `drop` or `rise`.
    pub kind: &'static str,
    /// Relative change of the rate (after / before − 1).
    pub magnitude: f64,
    /// 95 % interval of `magnitude`.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// 0..1.
    pub confidence: f64,
    /// Routing events that explain it, best first.
    pub causes: Vec<CauseOut>,
}

/// One cause.
#[derive(Debug, Serialize)]
pub struct CauseOut {
    /// The AS.
    pub asn: u32,
    /// Its organisation, when known.
    pub org: Option<String>,
    /// The routing event's kind.
    pub kind: String,
    /// The routing event's time (RFC 3339).
    pub time: String,
    /// Share of the change explained, 0..1.
    pub explains: f64,
}

/// Seconds per point of the series.
const STEP: i64 = 60;
/// How long before a volume event a routing event may be its cause.
const CAUSE_LOOKBACK: i64 = 2 * 3600;
/// How long after the event's interval a routing event may still be its
/// cause: the collectors see a withdrawal minutes after the network goes
/// dark, and on a trap that gets a few messages an hour the interval of
/// the drop's time is itself only approximate. A late candidate that
/// explains nothing is still left out by its share.
const CAUSE_LAG: i64 = 3600;

/// Runs `depeer events`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if matches!(args.scope, Scope::SendingAs | Scope::HostingAs) {
        anyhow::bail!(
            "--scope {} is not built yet (issue 18); use --scope total or botnet, or `depeer series --by {}` with `depeer detect`",
            args.scope.as_str(),
            args.scope.as_str()
        );
    }
    let ds = Dataset::open(&args.data).with_context(|| {
        format!(
            "{}: no dataset; run `depeer ingest mail` first",
            args.data.display()
        )
    })?;
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let grid = Minutes::read(&ds, from, until)?;
    let events = match args.scope {
        Scope::Botnet => grid.botnet_events()?,
        _ => grid.total_events(&ds)?,
    };
    let report = Report { events };
    crate::output::print_summary(args.json, false, &report, |out| print_table(&report, out))
}

/// Messages per minute: the total and one series per botnet.
struct Minutes {
    start: i64,
    total: Vec<f64>,
    /// Botnet name (`unknown` when unattributed) and its series; empty
    /// when the `attribution` table is.
    parts: BTreeMap<String, Vec<f64>>,
}

impl Minutes {
    fn read(
        ds: &Dataset,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> anyhow::Result<Minutes> {
        let rows = ds.read_attribution()?;
        let inside = |t: Timestamp| from.is_none_or(|f| t >= f) && until.is_none_or(|u| t < u);
        let points: Vec<(i64, Option<String>)> = if rows.is_empty() {
            ds.read_message_points(from, until)?
                .into_iter()
                .map(|m| (m.time.secs(), None))
                .collect()
        } else {
            rows.into_iter()
                .filter(|r| inside(r.time))
                .map(|r| {
                    (
                        r.time.secs(),
                        Some(r.botnet.unwrap_or_else(|| "unknown".into())),
                    )
                })
                .collect()
        };
        let first = from
            .map(Timestamp::secs)
            .or_else(|| points.iter().map(|p| p.0).min());
        let last = until
            .map(|u| u.secs() - 1)
            .or_else(|| points.iter().map(|p| p.0).max());
        let (Some(first), Some(last)) = (first, last) else {
            anyhow::bail!("no messages in that time; run `depeer ingest mail` first");
        };
        let start = first - first.rem_euclid(STEP);
        let n = usize::try_from((last - start) / STEP + 1).unwrap_or(0);
        let mut total = vec![0.0; n];
        let mut parts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (t, botnet) in points {
            let Ok(i) = usize::try_from((t - start) / STEP) else {
                continue;
            };
            if let Some(c) = total.get_mut(i) {
                *c += 1.0;
            }
            if let Some(b) = botnet {
                let series = parts.entry(b).or_insert_with(|| vec![0.0; n]);
                if let Some(c) = series.get_mut(i) {
                    *c += 1.0;
                }
            }
        }
        Ok(Minutes {
            start,
            total,
            parts,
        })
    }

    fn time(&self, i: usize) -> String {
        Timestamp::from_secs(self.start + i64::try_from(i).unwrap_or(0) * STEP).to_rfc3339()
    }

    fn out(&self, e: &VolumeEvent, scope: &'static str, key: Option<String>) -> EventOut {
        EventOut {
            time: self.time(e.index),
            time_low: self.time(e.low),
            time_high: self.time(e.high),
            scope,
            key,
            kind: e.direction.as_str(),
            magnitude: e.magnitude,
            low: e.magnitude_low,
            high: e.magnitude_high,
            confidence: e.confidence,
            causes: Vec::new(),
        }
    }

    fn botnet_events(&self) -> anyhow::Result<Vec<EventOut>> {
        if self.parts.is_empty() {
            anyhow::bail!("the `attribution` table is empty: run `depeer attribute` first");
        }
        let params = VolumeParams::default();
        let mut out: Vec<EventOut> = self
            .parts
            .iter()
            .flat_map(|(name, series)| {
                volume_events(series, self.start, &params)
                    .into_iter()
                    .map(|e| self.out(&e, "botnet", Some(name.clone())))
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort_by(|a, b| a.time.cmp(&b.time));
        Ok(out)
    }

    fn total_events(&self, ds: &Dataset) -> anyhow::Result<Vec<EventOut>> {
        let params = VolumeParams::default();
        let names: Vec<&String> = self.parts.keys().collect();
        let series: Vec<Vec<f64>> = self.parts.values().cloned().collect();
        let found = volume_events_in_parts(&self.total, &series, self.start, &params);
        let causes = if found.is_empty() || series.is_empty() {
            None
        } else {
            Some(CauseData::read(ds)?)
        };
        let horizon = usize::try_from(params.horizon / STEP).unwrap_or(1440);
        Ok(found
            .iter()
            .map(|e| {
                let mut o = self.out(e, "total", None);
                if let Some(c) = &causes {
                    let t_low = self.start + i64::try_from(e.low).unwrap_or(0) * STEP;
                    let t_high = self.start + i64::try_from(e.high).unwrap_or(0) * STEP;
                    o.causes = c.rank(&names, &series, e.index, horizon, (t_low, t_high));
                }
                o
            })
            .collect())
    }
}

/// What ranking causes needs from the dataset.
struct CauseData {
    hosting: Hosting,
    routing: Vec<(i64, RoutingEventKind, u32)>,
    /// family -> C&C addresses with their listing interval (Unix s).
    cc: HashMap<String, Vec<(IpAddr, i64, i64)>>,
}

impl CauseData {
    fn read(ds: &Dataset) -> anyhow::Result<CauseData> {
        let hosting = load_hosting(ds)?;
        let routing = ds
            .read_routing_events()?
            .into_iter()
            .filter_map(|r| Some((r.time.secs(), r.kind, r.asn?.0)))
            .collect();
        let mut cc: HashMap<String, Vec<(IpAddr, i64, i64)>> = HashMap::new();
        for f in ds.read_feed_entries()? {
            if f.kind != "cnc" {
                continue;
            }
            let (Some(family), Ok(ip)) = (f.family, f.indicator.parse::<IpAddr>()) else {
                continue;
            };
            let first = f.first_seen.map_or(i64::MIN, Timestamp::secs);
            let last = f.last_seen.map_or(i64::MAX, Timestamp::secs);
            cc.entry(family).or_default().push((ip, first, last));
        }
        Ok(CauseData {
            hosting,
            routing,
            cc,
        })
    }

    /// The causes of the change at point `at`; `(t_low, t_high)` is the
    /// event's time interval (Unix s).
    fn rank(
        &self,
        names: &[&String],
        series: &[Vec<f64>],
        at: usize,
        horizon: usize,
        (t_low, t_high): (i64, i64),
    ) -> Vec<CauseOut> {
        let candidates: Vec<CauseCandidate> = self
            .routing
            .iter()
            .filter(|(t, kind, _)| {
                *t >= t_low - CAUSE_LOOKBACK
                    && *t <= t_high + CAUSE_LAG
                    && matches!(
                        kind,
                        RoutingEventKind::UpstreamLost
                            | RoutingEventKind::AsUnreachable
                            | RoutingEventKind::PrefixWithdrawn
                            | RoutingEventKind::UpstreamGained
                            | RoutingEventKind::AsReachable
                            | RoutingEventKind::PrefixAnnounced
                    )
            })
            .map(|&(time, kind, asn)| CauseCandidate {
                asn,
                kind: kind.as_str().to_string(),
                time,
            })
            .collect();
        // Where each botnet's C&C servers were routed before the first
        // candidate (after a cut they are not routed at all).
        let before = candidates.iter().map(|c| c.time).min().unwrap_or(t_low) - 60;
        let hosted: Vec<Vec<u32>> = names
            .iter()
            .map(|name| {
                let mut asns: Vec<u32> = self
                    .cc
                    .get(name.as_str())
                    .into_iter()
                    .flatten()
                    // Feeds list late and keep listings a while: a server
                    // counts from two days before its first listing to
                    // three days after its last.
                    .filter(|(_, first, last)| {
                        first.saturating_sub(2 * 86_400) <= before
                            && before <= last.saturating_add(3 * 86_400)
                    })
                    .filter_map(|(ip, _, _)| self.hosting.locate(*ip, before * 1_000_000))
                    .flat_map(|p| p.origins)
                    .collect();
                asns.sort_unstable();
                asns.dedup();
                asns
            })
            .collect();
        rank_causes(series, &hosted, at, horizon, &candidates, 0.05)
            .into_iter()
            .map(|c| CauseOut {
                asn: c.asn,
                org: self.hosting.org(c.asn).map(str::to_string),
                kind: c.kind,
                time: Timestamp::from_secs(c.time).to_rfc3339(),
                explains: c.explains,
            })
            .collect()
    }
}

fn print_table(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if r.events.is_empty() {
        return writeln!(out, "no events");
    }
    for e in &r.events {
        writeln!(
            out,
            "{} {} {} {:+.1} % [{:+.1} %, {:+.1} %] at {} (between {} and {}), confidence {:.2}",
            e.scope,
            e.key.as_deref().unwrap_or("spam"),
            e.kind,
            100.0 * e.magnitude,
            100.0 * e.low,
            100.0 * e.high,
            e.time,
            e.time_low,
            e.time_high,
            e.confidence
        )?;
        if e.scope == "total" && e.causes.is_empty() {
            writeln!(
                out,
                "  no routing event of the two hours before explains it"
            )?;
        }
        for c in &e.causes {
            writeln!(
                out,
                "  AS{} {}: {} at {} explains {:.0} %",
                c.asn,
                c.org.as_deref().unwrap_or("-"),
                c.kind,
                c.time,
                100.0 * c.explains
            )?;
        }
    }
    Ok(())
}
