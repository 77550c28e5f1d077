//! The routing and listing claims of a dossier and the logged objects
//! behind them: the MRT records (kind `mrt`) behind each route and routing
//! event of the subject's prefixes, and the feed records (kind `feed`)
//! behind each listing of the subject.
//!
//! How a routing row finds its records: rows do not carry record hashes
//! (an event is derived from many records of many peers), but every stored
//! MRT record carries its collector and prefixes (`evidence_objects`). A
//! route's evidence is the first and the last record of its collector
//! mentioning its prefix within its interval (the announcement or RIB
//! entry that showed it, and the last one seen); an event's evidence is
//! the last record mentioning its prefix at or before its time (for an
//! AS-level event, of any of the AS's prefixes). A listing cites the feed
//! record it was read from (`feed_entries.sha256`).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use depeer_core::{FeedEntryObs, Prefix, Timestamp};
use depeer_store::{Dataset, ObjectRow};

use super::subject::Subject;
use crate::IngestError;

/// Routes, events and listings cited at most, each.
const MAX_ROUTES: usize = 16;
const MAX_EVENTS: usize = 24;
const MAX_LISTINGS: usize = 24;

/// A claim before its evidence files are written: its id, words, figures
/// and the objects it cites.
pub(super) struct Pending {
    pub(super) id: String,
    pub(super) text: String,
    pub(super) value: serde_json::Value,
    pub(super) objects: Vec<ObjectRow>,
}

fn secs(t: Timestamp) -> i64 {
    t.0.div_euclid(1_000_000)
}

fn subject_matches(subject: &Subject, p: &Prefix, origin: u32) -> bool {
    match subject {
        Subject::Asn(a) => origin == *a,
        Subject::Ip(ip) => p.contains(ip),
        Subject::Prefix(n, l) => match Prefix::new(*n, *l) {
            Ok(s) => s.trunc().contains(p) || p.contains(&s.trunc()),
            Err(_) => false,
        },
        Subject::Domain(_) => false,
    }
}

/// The MRT records of `prefixes`, per prefix, in time order.
fn records_by_prefix(
    ds: &Dataset,
    prefixes: &BTreeSet<String>,
) -> Result<HashMap<String, Vec<ObjectRow>>, IngestError> {
    let rows = ds
        .evidence_objects(|r| {
            r.kind == "mrt"
                && r.prefixes
                    .as_deref()
                    .is_some_and(|p| p.split(' ').any(|t| prefixes.contains(t)))
        })
        .map_err(IngestError::store("reading evidence_objects"))?;
    let mut by: HashMap<String, Vec<ObjectRow>> = HashMap::new();
    for r in rows {
        let tokens: Vec<String> = r
            .prefixes
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|t| prefixes.contains(*t))
            .map(str::to_string)
            .collect();
        for t in tokens {
            by.entry(t).or_default().push(r.clone());
        }
    }
    for v in by.values_mut() {
        v.sort_by_key(|o| (o.observed, o.source_index));
    }
    Ok(by)
}

/// The routing claims of the window `(from, at]`.
pub(super) fn routing(
    ds: &Dataset,
    subject: &Subject,
    from: Timestamp,
    at: Timestamp,
) -> Result<Vec<Pending>, IngestError> {
    let mut routes: Vec<depeer_core::RouteObs> = ds
        .read_routes()
        .map_err(IngestError::store("reading routes"))?
        .into_iter()
        .filter(|r| r.first_seen.0 <= at.0 && r.last_seen.0 > from.0)
        .filter(|r| subject_matches(subject, &r.prefix, r.origin_asn.0))
        .collect();
    routes.sort_by(|a, b| {
        (a.first_seen, a.prefix.to_string(), &a.collector).cmp(&(
            b.first_seen,
            b.prefix.to_string(),
            &b.collector,
        ))
    });
    // The same history stored twice (a collector's files ingested again)
    // is claimed once.
    routes.dedup_by(|a, b| {
        (
            a.prefix,
            a.origin_asn,
            a.first_seen,
            a.last_seen,
            &a.collector,
        ) == (
            b.prefix,
            b.origin_asn,
            b.first_seen,
            b.last_seen,
            &b.collector,
        )
    });
    let prefixes: BTreeSet<String> = routes.iter().map(|r| r.prefix.to_string()).collect();
    let mut events: Vec<depeer_core::RoutingEventObs> = ds
        .read_routing_events()
        .map_err(IngestError::store("reading routing_events"))?
        .into_iter()
        .filter(|e| e.time.0 > from.0 && e.time.0 <= at.0)
        .filter(|e| match (&e.prefix, subject) {
            (Some(p), _) => prefixes.contains(&p.to_string()),
            (None, Subject::Asn(a)) => e.asn.is_some_and(|x| x.0 == *a),
            (None, _) => false,
        })
        .collect();
    events.sort_by(|a, b| {
        (
            a.time,
            a.kind.as_str(),
            a.prefix.map(|p| p.to_string()),
            &a.detail,
        )
            .cmp(&(
                b.time,
                b.kind.as_str(),
                b.prefix.map(|p| p.to_string()),
                &b.detail,
            ))
    });
    events.dedup_by(|a, b| {
        (a.time, a.kind, a.prefix, a.asn, &a.detail) == (b.time, b.kind, b.prefix, b.asn, &b.detail)
    });
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let by = records_by_prefix(ds, &prefixes)?;
    let mut tables = PeerTables::default();
    let mut out = Vec::new();
    for (n, r) in routes.iter().take(MAX_ROUTES).enumerate() {
        let p = r.prefix.to_string();
        let (lo, hi) = (secs(r.first_seen), secs(r.last_seen));
        let seen: Vec<&ObjectRow> = by
            .get(&p)
            .map(|v| {
                v.iter()
                    .filter(|o| o.collector.as_deref() == Some(r.collector.as_str()))
                    .filter(|o| o.observed >= lo && o.observed <= hi)
                    .collect()
            })
            .unwrap_or_default();
        let mut objects: Vec<ObjectRow> = Vec::new();
        for o in [seen.first(), seen.last()].into_iter().flatten() {
            if !objects.iter().any(|x| x.sha256 == o.sha256) {
                objects.push((*o).clone());
            }
        }
        if objects.is_empty() {
            continue;
        }
        // A RIB entry names its peers by index: cite the dump's peer table.
        if let Some(first) = objects.first()
            && let Some(t) = tables.of(ds, first)?
        {
            objects.insert(0, t);
        }
        out.push(Pending {
            id: format!("route-{}", n + 1),
            text: format!(
                "{p} was announced with origin AS{} as seen by {} peer(s) of the collector {} from {} to {}",
                r.origin_asn.0, r.peer_count, r.collector, r.first_seen, r.last_seen
            ),
            value: serde_json::json!({"prefix": p, "origin_asn": r.origin_asn.0, "collector": r.collector,
                "first_seen": r.first_seen.to_string(), "last_seen": r.last_seen.to_string(), "peer_count": r.peer_count}),
            objects,
        });
    }
    for (i, e) in events.iter().take(MAX_EVENTS).enumerate() {
        let t = secs(e.time);
        let keys: Vec<String> = match &e.prefix {
            Some(p) => vec![p.to_string()],
            None => prefixes.iter().cloned().collect(),
        };
        let mut cands: Vec<&ObjectRow> = keys
            .iter()
            .filter_map(|k| by.get(k))
            .filter_map(|v| v.iter().rev().find(|o| o.observed <= t))
            .collect();
        cands.sort_by_key(|o| std::cmp::Reverse(o.observed));
        let mut objects: Vec<ObjectRow> = Vec::new();
        for o in cands.into_iter().take(3) {
            if !objects.iter().any(|x| x.sha256 == o.sha256) {
                objects.push(o.clone());
            }
        }
        if objects.is_empty() {
            continue;
        }
        let what = e.prefix.map_or_else(
            || e.asn.map_or_else(String::new, |a| format!("AS{}", a.0)),
            |p| p.to_string(),
        );
        out.push(Pending {
            id: format!("event-{}", i + 1),
            text: format!(
                "{} of {what} at {} ({})",
                e.kind.as_str(),
                e.time,
                e.detail
            ),
            value: serde_json::json!({"kind": e.kind.as_str(), "time": e.time.to_string(),
                "asn": e.asn.map(|a| a.0), "prefix": e.prefix.map(|p| p.to_string()), "detail": e.detail}),
            objects,
        });
    }
    Ok(out)
}

/// The MRT type and subtype of a record (bytes 4..8 of its header).
fn mrt_type(bytes: &[u8]) -> Option<(u16, u16)> {
    let t = u16::from_be_bytes([*bytes.get(4)?, *bytes.get(5)?]);
    let s = u16::from_be_bytes([*bytes.get(6)?, *bytes.get(7)?]);
    Some((t, s))
}

/// The PEER_INDEX_TABLE records of the files of cited RIB records, found
/// once per file.
#[derive(Default)]
struct PeerTables {
    /// Per file: its peer tables (records without prefixes whose header
    /// says TABLE_DUMP_V2 PEER_INDEX_TABLE), by offset.
    files: HashMap<String, Vec<ObjectRow>>,
}

impl PeerTables {
    /// The peer table a TABLE_DUMP_V2 RIB record's indices refer to: the
    /// last one before it in its file. `None` for other records.
    fn of(&mut self, ds: &Dataset, rec: &ObjectRow) -> Result<Option<ObjectRow>, IngestError> {
        let read = |o: &ObjectRow| {
            ds.object_bytes(o)
                .map_err(IngestError::store("reading an MRT record"))
        };
        if !matches!(mrt_type(&read(rec)?), Some((13, 2..=6))) {
            return Ok(None);
        }
        if !self.files.contains_key(&rec.source_file) {
            let mut found = Vec::new();
            let cands = ds
                .evidence_objects(|o| {
                    o.kind == "mrt" && o.prefixes.is_none() && o.source_file == rec.source_file
                })
                .map_err(IngestError::store("reading evidence_objects"))?;
            for c in cands {
                if mrt_type(&read(&c)?) == Some((13, 1)) {
                    found.push(c);
                }
            }
            found.sort_by_key(|o| o.source_offset);
            self.files.insert(rec.source_file.clone(), found);
        }
        Ok(self.files.get(&rec.source_file).and_then(|v| {
            v.iter()
                .rev()
                .find(|t| t.source_offset < rec.source_offset)
                .cloned()
        }))
    }
}

fn listing_matches(subject: &Subject, f: &FeedEntryObs, nets: &[Prefix]) -> bool {
    let ip = f.indicator.parse::<IpAddr>().ok();
    let net = f.indicator.parse::<Prefix>().ok();
    let addr = f.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok());
    let in_nets = |ip: IpAddr| nets.iter().any(|n| n.contains(&ip));
    match subject {
        Subject::Asn(a) => {
            f.indicator.eq_ignore_ascii_case(&format!("AS{a}"))
                || ip.is_some_and(in_nets)
                || addr.is_some_and(in_nets)
                || net.is_some_and(|n| nets.iter().any(|x| x.contains(&n)))
        }
        Subject::Ip(want) => {
            ip == Some(*want) || addr == Some(*want) || net.is_some_and(|n| n.contains(want))
        }
        Subject::Prefix(..) => ip.is_some_and(in_nets) || addr.is_some_and(in_nets),
        Subject::Domain(d) => {
            let host = url_host(&f.indicator);
            host == *d || host.ends_with(&format!(".{d}"))
        }
    }
}

/// The host of a URL listing, or the indicator itself, lowercase.
fn url_host(s: &str) -> String {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The listing claims: feed entries of the subject first seen by `at`.
pub(super) fn listings(
    ds: &Dataset,
    subject: &Subject,
    at: Timestamp,
) -> Result<Vec<Pending>, IngestError> {
    // An AS's networks: the prefixes it originated (any time up to `at`).
    let nets: Vec<Prefix> = match subject {
        Subject::Asn(a) => ds
            .read_routes()
            .map_err(IngestError::store("reading routes"))?
            .into_iter()
            .filter(|r| r.origin_asn.0 == *a && r.first_seen.0 <= at.0)
            .map(|r| r.prefix)
            .collect(),
        Subject::Prefix(n, l) => Prefix::new(*n, *l)
            .map(|p| vec![p.trunc()])
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut rows: Vec<FeedEntryObs> = ds
        .read_feed_entries()
        .map_err(IngestError::store("reading feed_entries"))?
        .into_iter()
        .filter(|f| f.sha256.is_some())
        .filter(|f| f.first_seen.is_none_or(|t| t.0 <= at.0))
        .filter(|f| listing_matches(subject, f, &nets))
        .collect();
    // C&C and network listings say most about a network; then bots,
    // URLs, passive DNS; each in time order.
    let rank = |k: &str| match k {
        "cnc" => 0,
        "net" => 1,
        "bots" => 2,
        "url" => 3,
        _ => 4,
    };
    rows.sort_by(|a, b| {
        (rank(&a.kind), a.first_seen, &a.source, &a.indicator).cmp(&(
            rank(&b.kind),
            b.first_seen,
            &b.source,
            &b.indicator,
        ))
    });
    rows.truncate(MAX_LISTINGS);
    let wanted: BTreeSet<String> = rows.iter().filter_map(|f| f.sha256.clone()).collect();
    let objects: HashMap<String, ObjectRow> = ds
        .evidence_objects(|r| r.kind == "feed" && wanted.contains(&r.sha256))
        .map_err(IngestError::store("reading evidence_objects"))?
        .into_iter()
        .map(|r| (r.sha256.clone(), r))
        .collect();
    let mut out = Vec::new();
    for (i, f) in rows.iter().enumerate() {
        let Some(o) = f.sha256.as_ref().and_then(|s| objects.get(s)) else {
            continue;
        };
        let mut text = format!("{} lists {} as {}", f.source, f.indicator, f.kind);
        if let Some(fam) = &f.family {
            text.push_str(&format!(" (family {fam})"));
        }
        if let Some(a) = &f.address {
            text.push_str(&format!(", resolving to {a}"));
        }
        if let Some(t) = f.first_seen {
            text.push_str(&format!(", first seen {t}"));
        }
        if let Some(t) = f.last_seen {
            text.push_str(&format!(", last seen {t}"));
        }
        out.push(Pending {
            id: format!("listing-{}", i + 1),
            text,
            value: serde_json::json!({"source": f.source, "kind": f.kind, "indicator": f.indicator,
                "address": f.address, "family": f.family, "port": f.port,
                "first_seen": f.first_seen.map(|t| t.to_string()), "last_seen": f.last_seen.map(|t| t.to_string()),
                "file": f.source_file, "line": f.source_line}),
            objects: vec![o.clone()],
        });
    }
    Ok(out)
}
