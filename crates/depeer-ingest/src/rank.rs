//! The read side of the rogue-network ranking (`depeer rank`, `depeer
//! explain`): reads the dataset's routing history (`routes`, `as_links`,
//! `routing_events`), AS names, feed listings and the window's messages
//! with their attribution and URL hosts, hands them to
//! `depeer_analysis::rank` and returns its ranking. Rows later than `at`
//! are dropped here already (the pure code drops them again).

use std::collections::HashMap;
use std::path::Path;

use depeer_analysis::rank::{
    AsName, By, EvidenceRow, Explanation, Listing, ListingKind, Message, Method, RankInput,
    RankRow, Ranking, RoutingEvent, Weights,
};
use depeer_core::Timestamp;
use depeer_store::Dataset;

use crate::IngestError;

/// What to rank.
#[derive(Debug, Clone)]
pub struct RankOptions {
    /// The moment (default: the last message, else the end of the routing
    /// data).
    pub at: Option<Timestamp>,
    /// Window length before `at` (µs).
    pub window: i64,
    /// AS, organisation or prefix.
    pub by: By,
    /// Which score orders the ranking.
    pub method: Method,
    /// depeer's weights.
    pub weights: Weights,
}

/// A ranking with the input it was computed from (the evidence rows of
/// `depeer explain` index into it).
#[derive(Debug, Clone)]
pub struct RankReport {
    /// The input (everything up to `at`).
    pub input: RankInput,
    /// The ranking.
    pub ranking: Ranking,
}

fn open(data: &Path) -> Result<Dataset, IngestError> {
    Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })
}

/// Reads everything a ranking at `at` (default: the end of the data) over
/// `window` µs needs. Returns the input with `at` resolved.
pub fn read_rank_input(
    data: &Path,
    at: Option<Timestamp>,
    window: i64,
) -> Result<RankInput, IngestError> {
    let ds = open(data)?;
    let step = IngestError::store;
    let routes = crate::read::route_spans(&ds).map_err(step("reading routes"))?;
    let messages_all = ds
        .read_message_points(None, at.map(|t| Timestamp(t.0.saturating_add(1))))
        .map_err(step("reading messages"))?;
    let at = match at {
        Some(t) => t.0,
        None => messages_all
            .iter()
            .map(|m| m.time.0)
            .max()
            .or_else(|| routes.iter().map(|r| r.last).max())
            .unwrap_or(0),
    };
    let start = at.saturating_sub(window);
    let upstreams = crate::read::upstream_spans(&ds)
        .map_err(step("reading as_links"))?
        .into_iter()
        .filter(|u| u.first <= at)
        .collect();
    let names = ds
        .read_as_names()
        .map_err(step("reading as_names"))?
        .into_iter()
        .map(|n| {
            (
                n.asn.0,
                AsName {
                    name: n.name,
                    org: n.org,
                },
            )
        })
        .collect();
    let listings = ds
        .read_feed_entries()
        .map_err(step("reading feed_entries"))?
        .into_iter()
        .filter(|f| f.first_seen.is_some_and(|t| t.0 <= at))
        .filter_map(|f| {
            Some(Listing {
                kind: ListingKind::parse(&f.kind)?,
                source: f.source,
                indicator: f.indicator,
                address: f.address,
                family: f.family,
                port: f.port,
                first: f.first_seen.map(|t| t.0),
                last: f.last_seen.map(|t| t.0),
                file: f.source_file,
                line: f.source_line,
            })
        })
        .collect();
    let routing_events = ds
        .read_routing_events()
        .map_err(step("reading routing_events"))?
        .into_iter()
        .filter(|e| e.time.0 <= at && e.time.0 >= start)
        .map(|e| RoutingEvent {
            time: e.time.0,
            kind: e.kind.as_str().to_string(),
            asn: e.asn.map(|a| a.0),
            prefix: e.prefix.map(|p| p.to_string()),
            detail: e.detail,
        })
        .collect();
    let messages = window_messages(&ds, messages_all, start, at)?;
    Ok(RankInput {
        at,
        window,
        routes: routes.into_iter().filter(|r| r.first <= at).collect(),
        upstreams,
        names,
        listings,
        messages,
        routing_events,
    })
}

/// The messages of `[start, at]` with their attribution (none when
/// `depeer attribute` has not run) and URL hosts.
fn window_messages(
    ds: &Dataset,
    all: Vec<depeer_store::MessagePoint>,
    start: i64,
    at: i64,
) -> Result<Vec<Message>, IngestError> {
    let step = IngestError::store;
    let mut messages: HashMap<String, Message> = all
        .into_iter()
        .filter(|m| m.time.0 >= start && m.time.0 <= at)
        .map(|m| {
            (
                m.sha256.clone(),
                Message {
                    sha256: m.sha256,
                    time: m.time.0,
                    botnet: None,
                    campaign: None,
                    hosts: Vec::new(),
                },
            )
        })
        .collect();
    for r in ds.read_attribution().map_err(step("reading attribution"))? {
        if let Some(m) = messages.get_mut(&r.sha256) {
            m.botnet = r.botnet;
            m.campaign = r.campaign;
        }
    }
    for (sha, host, _) in ds.read_url_hosts().map_err(step("reading message_urls"))? {
        if let Some(m) = messages.get_mut(&sha) {
            m.hosts.push(host);
        }
    }
    let mut v: Vec<Message> = messages.into_values().collect();
    v.sort_by(|a, b| a.time.cmp(&b.time).then(a.sha256.cmp(&b.sha256)));
    Ok(v)
}

/// Reads the dataset in `data` and ranks its networks.
pub fn rank(data: &Path, opts: &RankOptions) -> Result<RankReport, IngestError> {
    let input = read_rank_input(data, opts.at, opts.window)?;
    let ranking = depeer_analysis::rank::rank(&input, opts.by, opts.method, &opts.weights);
    Ok(RankReport { input, ranking })
}

/// One row of `depeer rank --json` (and of `/api/v1/rank`).
pub fn rank_row_json(r: &RankRow, by: By) -> serde_json::Value {
    let mut v = serde_json::json!({
        "rank": r.rank,
        "asn": r.asn,
        "org": r.org,
        "score": r.score,
        "features": r.features,
    });
    if let (By::Prefix, Some(o)) = (by, v.as_object_mut()) {
        o.insert("prefix".into(), serde_json::json!(r.prefix));
    }
    v
}

/// `depeer rank --json` (and `/api/v1/rank`): the first `top` rows.
pub fn rank_json(r: &RankReport, by: By, top: usize) -> serde_json::Value {
    let ranking: Vec<serde_json::Value> = r
        .ranking
        .rows
        .iter()
        .take(top)
        .map(|x| rank_row_json(x, by))
        .collect();
    let at = Timestamp(r.ranking.at).to_rfc3339();
    serde_json::json!({"at": at, "by": by.as_str(), "ranking": ranking})
}

fn evidence_json(e: &EvidenceRow) -> serde_json::Value {
    let time = |t: i64| Timestamp(t).to_rfc3339();
    serde_json::json!({
        "kind": e.kind,
        "indicator": e.indicator,
        "address": e.address,
        "family": e.family,
        "prefix": e.prefix,
        "first_seen": time(e.first),
        "last_seen": time(e.last),
        "messages": e.messages,
        "sources": e.sources,
        "sample": e.sample,
        "detail": e.detail,
    })
}

/// `depeer explain --json` (and `/api/v1/explain/{asn}`): each feature of
/// one AS with its evidence rows.
pub fn explain_json(x: &Explanation, at: i64, window: &str) -> serde_json::Value {
    let features: serde_json::Map<String, serde_json::Value> = x
        .features
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                serde_json::json!({
                    "value": f.value,
                    "contribution": f.contribution,
                    "evidence": f.evidence.iter().map(evidence_json).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    serde_json::json!({
        "asn": x.row.asn,
        "org": x.row.org,
        "at": Timestamp(at).to_rfc3339(),
        "window": window,
        "rank": x.row.rank,
        "of": x.of,
        "score": x.row.score,
        "features": features,
    })
}
