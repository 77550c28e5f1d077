//! The botnet table of a time window, from the `attribution` table and the
//! feeds: per botnet its messages and share of all spam, its bot population
//! (distinct relay addresses, a HyperLogLog estimate, and how many of them
//! were not seen before the window), and its C&C servers from the C&C
//! feeds with the AS and organisation that routed them when first seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use depeer_analysis::Hll;
use depeer_core::Timestamp;
use depeer_store::Dataset;
use serde::Serialize;

use super::RoutingAt;
use crate::IngestError;

/// The window of [`botnets`]; `None` ends take the data's.
#[derive(Debug, Clone, Copy, Default)]
pub struct BotnetsOptions {
    /// First moment (inclusive).
    pub from: Option<Timestamp>,
    /// Last moment (inclusive).
    pub until: Option<Timestamp>,
}

/// The botnet table of a window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BotnetReport {
    /// The window's start (RFC 3339); `None` for an empty table.
    pub from: Option<String>,
    /// The window's end (RFC 3339).
    pub until: Option<String>,
    /// Messages in the window.
    pub messages: u64,
    /// Of which no botnet is known.
    pub unattributed: u64,
    /// One row per botnet, most messages first.
    pub botnets: Vec<BotnetRow>,
}

/// One botnet in the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BotnetRow {
    /// Canonical family name.
    pub botnet: String,
    /// Its messages in the window.
    pub messages: u64,
    /// Its share of all messages in the window, 0..1.
    pub share: f64,
    /// Distinct relay addresses (HyperLogLog estimate; exact below 4,096).
    pub bots_estimate: u64,
    /// Of those, addresses it had not sent from before the window.
    pub new_bots: u64,
    /// Its C&C servers listed in the window.
    pub cc: Vec<CcRow>,
}

/// One C&C server of a botnet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CcRow {
    /// Its address.
    pub ip: String,
    /// Its port, when listed.
    pub port: Option<u16>,
    /// Origin AS of the address as routed at `first_seen`.
    pub asn: Option<u32>,
    /// That AS's organisation (else its name).
    pub org: Option<String>,
    /// First listed (earliest over the feeds).
    pub first_seen: Option<String>,
    /// Last listed (latest over the feeds).
    pub last_seen: Option<String>,
}

/// Per-botnet tallies.
#[derive(Default)]
struct Tally {
    messages: u64,
    bots: Hll,
    new: Hll,
    before: HashSet<IpAddr>,
}

/// Builds the botnet table of the dataset in `data`.
pub fn botnets(data: &Path, opts: &BotnetsOptions) -> Result<BotnetReport, IngestError> {
    let ds = Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })?;
    let step = IngestError::store;
    let mut rows = ds.read_attribution().map_err(step("reading attribution"))?;
    rows.sort_by_key(|r| r.time);
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(BotnetReport {
            from: opts.from.map(Timestamp::to_rfc3339),
            until: opts.until.map(Timestamp::to_rfc3339),
            messages: 0,
            unattributed: 0,
            botnets: Vec::new(),
        });
    };
    let (from, until) = (
        opts.from.unwrap_or(first.time),
        opts.until.unwrap_or(last.time),
    );
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut messages, mut unattributed) = (0u64, 0u64);
    // Time order: every address seen before the window is known when the
    // window's rows come.
    for r in rows.iter().filter(|r| r.time <= until) {
        let in_window = r.time >= from;
        if in_window {
            messages += 1;
        }
        let Some(b) = &r.botnet else {
            unattributed += u64::from(in_window);
            continue;
        };
        let t = tallies.entry(b.clone()).or_default();
        let ip = r.relay_ip.as_deref().and_then(|s| s.parse::<IpAddr>().ok());
        match (in_window, ip) {
            (false, Some(ip)) => {
                t.before.insert(ip);
            }
            (true, ip) => {
                t.messages += 1;
                if let Some(ip) = ip {
                    t.bots.add_ip(ip);
                    if !t.before.contains(&ip) {
                        t.new.add_ip(ip);
                    }
                }
            }
            (false, None) => {}
        }
    }
    drop(rows);
    let cc = cc_servers(&ds, from, until)?;
    let mut out: Vec<BotnetRow> = tallies
        .into_iter()
        .filter(|(_, t)| t.messages > 0)
        .map(|(botnet, t)| BotnetRow {
            cc: cc.get(&botnet).cloned().unwrap_or_default(),
            botnet,
            messages: t.messages,
            share: t.messages as f64 / messages.max(1) as f64,
            bots_estimate: t.bots.estimate().round() as u64,
            new_bots: t.new.estimate().round() as u64,
        })
        .collect();
    out.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.botnet.cmp(&b.botnet)));
    Ok(BotnetReport {
        from: Some(from.to_rfc3339()),
        until: Some(until.to_rfc3339()),
        messages,
        unattributed,
        botnets: out,
    })
}

/// The C&C listings (`feed_entries` kind `cnc`) alive in the window, per
/// family, one row per address and port, enriched at their first sighting.
fn cc_servers(
    ds: &Dataset,
    from: Timestamp,
    until: Timestamp,
) -> Result<HashMap<String, Vec<CcRow>>, IngestError> {
    let step = IngestError::store;
    let entries = ds
        .read_feed_entries()
        .map_err(step("reading feed_entries"))?;
    // (family, ip, port) -> (first, last)
    type Span = (Option<Timestamp>, Option<Timestamp>);
    let mut servers: BTreeMap<(String, String, Option<u16>), Span> = BTreeMap::new();
    for e in &entries {
        let Some(family) = e.family.as_ref().filter(|_| e.kind == "cnc") else {
            continue;
        };
        let alive =
            e.first_seen.is_none_or(|t| t <= until) && e.last_seen.is_none_or(|t| t >= from);
        if !alive {
            continue;
        }
        let key = (family.clone(), e.indicator.clone(), e.port);
        let s = servers.entry(key).or_insert((e.first_seen, e.last_seen));
        s.0 = match (s.0, e.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        s.1 = s.1.max(e.last_seen);
    }
    if servers.is_empty() {
        return Ok(HashMap::new());
    }
    let routing = RoutingAt::new(
        &ds.read_routes().map_err(step("reading routes"))?,
        &ds.read_as_names().map_err(step("reading as_names"))?,
    );
    let mut out: HashMap<String, Vec<CcRow>> = HashMap::new();
    for ((family, ip, port), (first, last)) in servers {
        let routed = ip
            .parse::<IpAddr>()
            .ok()
            .and_then(|a| routing.lookup(a, first.unwrap_or(from)));
        out.entry(family).or_default().push(CcRow {
            ip,
            port,
            asn: routed.as_ref().map(|r| r.asn),
            org: routed
                .as_ref()
                .and_then(|r| routing.org(r.asn))
                .map(str::to_string),
            first_seen: first.map(Timestamp::to_rfc3339),
            last_seen: last.map(Timestamp::to_rfc3339),
        });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.ip.cmp(&b.ip)));
    }
    Ok(out)
}
