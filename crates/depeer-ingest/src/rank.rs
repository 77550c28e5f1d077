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

/// Which ranked networks go on the drop list ([`ranked_rogue_ases`]).
///
/// A DROP-like list blocks whole networks, so the policy is precision
/// first: only networks whose score is at least `min_score` (the score is
/// the weighted mean of features each on a 0..1 scale, so 0.5 means half
/// the weighted evidence at the window's maximum) and at most the first
/// `top` of them. docs/export.md gives what this lists on the simulated
/// worlds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankListing {
    /// At most this many networks (0: none).
    pub top: usize,
    /// Only networks scoring at least this.
    pub min_score: f64,
    /// The ranking's window before the moment (µs).
    pub window: i64,
}

impl Default for RankListing {
    fn default() -> Self {
        RankListing {
            top: 10,
            min_score: 0.5,
            window: 30 * 86_400 * 1_000_000,
        }
    }
}

/// The ranking at `at` turned into drop-list sources: each AS that passes
/// `policy`, with its place and main features as the reason. An empty
/// dataset (no routes, no messages) gives none rather than an error, so a
/// zone rebuild on a fresh data directory still works.
pub fn ranked_rogue_ases(
    data: &Path,
    at: Timestamp,
    policy: &RankListing,
) -> Result<Vec<crate::RogueAs>, IngestError> {
    if policy.top == 0 || !data.join("tables").is_dir() {
        return Ok(Vec::new());
    }
    let weights = Weights::builtin().map_err(|e| IngestError::Rank(e.to_string()))?;
    let report = rank(
        data,
        &RankOptions {
            at: Some(at),
            window: policy.window,
            by: By::As,
            method: Method::Depeer,
            weights,
        },
    )?;
    if report.input.routes.is_empty() {
        return Ok(Vec::new());
    }
    let of = report.ranking.rows.len();
    let feature =
        |r: &depeer_analysis::rank::RankRow, k: &str| r.features.get(k).copied().unwrap_or(0.0);
    Ok(report
        .ranking
        .rows
        .iter()
        .filter(|r| r.score >= policy.min_score)
        .take(policy.top)
        .map(|r| crate::RogueAs {
            asn: r.asn,
            reason: format!(
                "ranked {} of {of} by depeer rank (score {:.2}): {:.0} % of the spam depends on it, {:.2} C&C and {:.2} site addresses per /24",
                r.rank,
                r.score,
                feature(r, "dependency") * 100.0,
                feature(r, "cc_density"),
                feature(r, "site_density"),
            ),
            first_seen: None,
            source: "depeer-rank".to_string(),
        })
        .collect())
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
