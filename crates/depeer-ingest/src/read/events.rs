//! Volume events of the trapped spam and the routing events that explain
//! them (`depeer events`). Detection is
//! `depeer_analysis::volume_events_in_parts` (docs/events.md) on the
//! messages per minute, placed in time by the per-botnet series of the
//! `attribution` table; causes are `depeer_analysis::rank_causes` over the
//! `routing_events` of the two hours before, each AS weighed by the botnets
//! whose C&C servers (`feed_entries` kind `cnc`) it routed just before.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use depeer_analysis::{
    CauseCandidate, Hosting, VolumeEvent, VolumeParams, hosting_causes, rank_causes, volume_events,
    volume_events_in_parts,
};
use depeer_core::{RoutingEventKind, Timestamp};
use depeer_store::Dataset;
use serde::Serialize;

use super::series::{Keyer, SeriesBy};
use super::{ReadError, load_cc_spans, load_hosting, missing, open};

/// Which series events are looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventScope {
    /// All trapped spam (key null); drops and rises get their causes.
    Total,
    /// Each botnet of the `attribution` table.
    Botnet,
    /// Each sending AS: the origin of the relay address at the message
    /// time (`depeer series --by sending-as`).
    SendingAs,
    /// Each AS hosting the C&C servers of the message's botnet at the
    /// message time (`depeer series --by hosting-as`).
    HostingAs,
}

/// The events of `[from, until)` in `scope`, in time order.
pub fn events(
    data: &Path,
    scope: EventScope,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<EventOut>, ReadError> {
    let ds = open(data, "run `depeer ingest mail` first")?;
    match scope {
        EventScope::Botnet => Minutes::read(&ds, from, until)?.botnet_events(&ds),
        EventScope::Total => Minutes::read(&ds, from, until)?.total_events(&ds),
        EventScope::SendingAs => keyed_events(&ds, SeriesBy::SendingAs, "sending-as", from, until),
        EventScope::HostingAs => keyed_events(&ds, SeriesBy::HostingAs, "hosting-as", from, until),
    }
}

/// The events of each AS's series (`unknown`, messages with no AS, is
/// left out). Each key's minutes are kept sparse until its detection, so
/// thousands of sending ASes over months fit in memory.
fn keyed_events(
    ds: &Dataset,
    by: SeriesBy,
    scope: &'static str,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<EventOut>, ReadError> {
    let messages = ds.read_message_points(from, until)?;
    let (start, n) = grid_of(ds, from, until, messages.iter().map(|m| m.time.secs()))?;
    let mut keyer = Keyer::read(ds, by)?;
    let mut sparse: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
    for m in &messages {
        let Ok(i) = usize::try_from((m.time.secs() - start) / STEP) else {
            continue;
        };
        keyer.split(m, |k, w| {
            if k != "unknown" {
                sparse.entry(k.to_string()).or_default().push((i, w));
            }
        });
    }
    let grid = Minutes {
        start,
        total: Vec::new(),
        parts: BTreeMap::new(),
    };
    let params = VolumeParams::default();
    let mut dense = vec![0.0; n];
    let mut out = Vec::new();
    let mut keys = Vec::new();
    for (key, points) in sparse {
        dense.iter_mut().for_each(|c| *c = 0.0);
        for (i, w) in points {
            if let Some(c) = dense.get_mut(i) {
                *c += w;
            }
        }
        out.extend(
            volume_events(&dense, start, &params)
                .iter()
                .map(|e| grid.out(e, scope, Some(key.clone()))),
        );
        keys.push(key);
    }
    out.extend(as_routing_events(ds, scope, &keys, from, until)?);
    out.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(out)
}

/// The AS-level routing events (upstreams lost or gained, reachability)
/// of the ASes in `keys` within `[from, until)`, as events of `kind`
/// `routing`, so each AS's volume changes and what happened to its
/// routes read as one timeline.
fn as_routing_events(
    ds: &Dataset,
    scope: &'static str,
    keys: &[String],
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<EventOut>, ReadError> {
    let wanted: std::collections::HashSet<u32> =
        keys.iter().filter_map(|k| k.parse().ok()).collect();
    Ok(ds
        .read_routing_events()?
        .into_iter()
        .filter(|r| {
            matches!(
                r.kind,
                RoutingEventKind::UpstreamLost
                    | RoutingEventKind::UpstreamGained
                    | RoutingEventKind::AsUnreachable
                    | RoutingEventKind::AsReachable
            ) && r.asn.is_some_and(|a| wanted.contains(&a.0))
                && from.is_none_or(|f| r.time >= f)
                && until.is_none_or(|u| r.time < u)
        })
        .map(|r| {
            let time = r.time.to_rfc3339();
            EventOut {
                time_low: time.clone(),
                time_high: time.clone(),
                time,
                scope,
                key: r.asn.map(|a| a.0.to_string()),
                kind: "routing",
                magnitude: 0.0,
                low: 0.0,
                high: 0.0,
                confidence: 1.0,
                causes: Vec::new(),
                routing: Some(RoutingOut {
                    kind: r.kind.as_str().to_string(),
                    detail: r.detail,
                }),
            }
        })
        .collect())
}

/// `depeer events --json`.
#[derive(Debug, Serialize)]
pub struct EventsReport {
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
    /// `total`, `botnet`, `sending-as` or `hosting-as`.
    pub scope: &'static str,
    /// The botnet or the AS number; null for the total.
    pub key: Option<String>,
    /// `drop`, `rise`, or `routing` (an AS's routing event, in the per-AS
    /// scopes; magnitude 0, confidence 1).
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
    /// For `kind` `routing`: what the routing history shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingOut>,
}

/// A routing event of an AS in the per-AS scopes (`kind` `routing`).
#[derive(Debug, Serialize)]
pub struct RoutingOut {
    /// `upstream-lost`, `upstream-gained`, `as-unreachable` or
    /// `as-reachable`.
    pub kind: String,
    /// Its details (`upstream AS6939 (collector rrc00)`).
    pub detail: String,
}

/// One cause.
#[derive(Debug, Serialize)]
pub struct CauseOut {
    /// The AS.
    pub asn: u32,
    /// Its organisation, when known.
    pub org: Option<String>,
    /// The routing event's kind (`upstream-lost`, `as-unreachable`,
    /// `prefix-withdrawn`, ...), or `cc-hosted`: no routing change, the
    /// network hosted C&C servers of the botnets that fell (a seizure or
    /// a takedown where they stood).
    pub kind: String,
    /// The routing event's time (RFC 3339); for `cc-hosted` the start of
    /// the drop's interval.
    pub time: String,
    /// Share of the change explained, 0..1.
    pub explains: f64,
}

/// The kind of a cause that is no routing event: the network hosted C&C
/// servers of the botnets that fell and stayed routed.
pub const CC_HOSTED: &str = "cc-hosted";

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

/// The minute grid of `[from, until)`, open ends taken from the message
/// times (Unix s): its first minute and its length.
fn grid_of(
    ds: &Dataset,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    times: impl Iterator<Item = i64> + Clone,
) -> Result<(i64, usize), ReadError> {
    let first = from.map(Timestamp::secs).or_else(|| times.clone().min());
    let last = until.map(|u| u.secs() - 1).or_else(|| times.max());
    let (Some(first), Some(last)) = (first, last) else {
        return Err(missing(
            ds,
            "no messages in that time",
            "run `depeer ingest mail` first, or widen --from/--until",
        ));
    };
    let start = first - first.rem_euclid(STEP);
    Ok((
        start,
        usize::try_from((last - start) / STEP + 1).unwrap_or(0),
    ))
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
    ) -> Result<Minutes, ReadError> {
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
        let (start, n) = grid_of(ds, from, until, points.iter().map(|p| p.0))?;
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
            routing: None,
        }
    }

    fn botnet_events(&self, ds: &Dataset) -> Result<Vec<EventOut>, ReadError> {
        if self.parts.is_empty() {
            return Err(missing(
                ds,
                "the `attribution` table is empty",
                "run `depeer attribute` first",
            ));
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

    fn total_events(&self, ds: &Dataset) -> Result<Vec<EventOut>, ReadError> {
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
    fn read(ds: &Dataset) -> Result<CauseData, ReadError> {
        let hosting = load_hosting(ds)?;
        let routing = ds
            .read_routing_events()?
            .into_iter()
            .filter_map(|r| Some((r.time.secs(), r.kind, r.asn?.0)))
            .collect();
        let mut cc = load_cc_spans(ds, Timestamp::secs)?;
        add_contacted(ds, &mut cc)?;
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
        // Each listed address's origin ASes; every AS once for the
        // routing causes, one per address for the shares of a seizure.
        let origins: Vec<Vec<Vec<u32>>> = names
            .iter()
            .map(|name| {
                self.cc
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
                    .map(|p| p.origins)
                    .collect()
            })
            .collect();
        let by_address: Vec<Vec<u32>> = origins
            .iter()
            .map(|addrs| {
                addrs
                    .iter()
                    .filter_map(|o| o.iter().min().copied())
                    .collect()
            })
            .collect();
        let hosted: Vec<Vec<u32>> = origins
            .iter()
            .map(|addrs| {
                let mut asns: Vec<u32> = addrs.iter().flatten().copied().collect();
                asns.sort_unstable();
                asns.dedup();
                asns
            })
            .collect();
        let mut causes: Vec<CauseOut> =
            rank_causes(series, &hosted, at, horizon, &candidates, 0.05)
                .into_iter()
                .map(|c| CauseOut {
                    asn: c.asn,
                    org: self.hosting.org(c.asn).map(str::to_string),
                    kind: c.kind,
                    time: Timestamp::from_secs(c.time).to_rfc3339(),
                    explains: c.explains,
                })
                .collect();
        // A fall the routing does not explain (at least half of it), with
        // no network gone dark near it: the networks that hosted the
        // fallen botnets' C&C and stayed routed (a seizure or takedown
        // where the servers stood). A network that went dark is a cause
        // the feeds may not show (its servers not yet listed); then no
        // still-routed network is named in its place.
        let dark = candidates.iter().any(|c| c.kind == "as-unreachable");
        if !dark && causes.first().is_none_or(|c| c.explains < 0.5) {
            let time = Timestamp::from_secs(t_low).to_rfc3339();
            for (asn, explains) in hosting_causes(series, &by_address, at, horizon, 0.05) {
                if causes.iter().all(|c| c.asn != asn) {
                    causes.push(CauseOut {
                        asn,
                        org: self.hosting.org(asn).map(str::to_string),
                        kind: CC_HOSTED.to_string(),
                        time: time.clone(),
                        explains,
                    });
                }
            }
            causes.sort_by(|a, b| b.explains.total_cmp(&a.explains));
        }
        causes
    }
}

/// Adds to `cc` the C&C addresses the bot lists saw bots contact (kind
/// `bots`, `address` = the C&C), one span per family and address from the
/// first contact to the last, where no C&C feed lists the address: a
/// botnet's new controllers are contacted for days before a tracker lists
/// them (Srizbi's Estonian servers in November 2008 were cut before any
/// listing), and a network cut off then must still explain the fall.
fn add_contacted(
    ds: &Dataset,
    cc: &mut HashMap<String, Vec<(IpAddr, i64, i64)>>,
) -> Result<(), ReadError> {
    let mut seen: HashMap<(String, IpAddr), (i64, i64)> = HashMap::new();
    for f in ds.read_feed_entries()? {
        let (Some(family), Some(ip)) = (
            f.family.filter(|_| f.kind == "bots"),
            f.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()),
        ) else {
            continue;
        };
        let first = f.first_seen.or(f.last_seen).map(Timestamp::secs);
        let last = f.last_seen.or(f.first_seen).map(Timestamp::secs);
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        let span = seen.entry((family, ip)).or_insert((first, last));
        span.0 = span.0.min(first);
        span.1 = span.1.max(last);
    }
    for ((family, ip), (first, last)) in seen {
        let listed = cc.entry(family).or_default();
        if listed.iter().all(|(l, _, _)| *l != ip) {
            listed.push((ip, first, last));
        }
    }
    Ok(())
}

/// What [`build`] stored: events per scope, in scope order.
#[derive(Debug, Serialize)]
pub struct BuildSummary {
    /// `(scope, events)`; a scope whose inputs are missing (no
    /// `attribution` for botnet and hosting-as) is left out.
    pub scopes: Vec<(&'static str, usize)>,
    /// Rows written to the `events` table.
    pub rows: usize,
}

/// Detects the events of every scope in `[from, until)` and replaces the
/// `events` table with them (`depeer events --build`).
pub fn build(
    data: &Path,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<BuildSummary, ReadError> {
    let scopes = [
        ("total", EventScope::Total),
        ("botnet", EventScope::Botnet),
        ("sending-as", EventScope::SendingAs),
        ("hosting-as", EventScope::HostingAs),
    ];
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for (name, scope) in scopes {
        let found = match events(data, scope, from, until) {
            Ok(found) => found,
            // A scope that needs attribution (or routes) is skipped
            // without it; the total's errors are the caller's.
            Err(ReadError::Missing { .. }) if scope != EventScope::Total => continue,
            Err(e) => return Err(e),
        };
        summary.push((name, found.len()));
        rows.extend(found.iter().map(row));
    }
    let store = depeer_store::Store::open(data)?;
    store.replace_events(&rows)?;
    Ok(BuildSummary {
        scopes: summary,
        rows: rows.len(),
    })
}

fn row(e: &EventOut) -> depeer_store::EventRow {
    let t = |s: &str| Timestamp::parse(s).unwrap_or(Timestamp(0));
    let first = e.causes.first();
    depeer_store::EventRow {
        time: t(&e.time),
        time_low: t(&e.time_low),
        time_high: t(&e.time_high),
        scope: e.scope.to_string(),
        key: e.key.clone(),
        kind: e.kind.to_string(),
        magnitude: e.magnitude,
        low: e.low,
        high: e.high,
        confidence: e.confidence,
        cause_asn: first.map(|c| c.asn),
        cause_kind: first.map(|c| c.kind.clone()),
        cause_time: first.and_then(|c| Timestamp::parse(&c.time).ok()),
        cause_explains: first.map(|c| c.explains),
        causes: serde_json::to_string(&e.causes).unwrap_or_else(|_| "[]".to_string()),
        routing_kind: e.routing.as_ref().map(|r| r.kind.clone()),
        routing_detail: e.routing.as_ref().map(|r| r.detail.clone()),
    }
}
