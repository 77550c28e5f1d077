//! The content of `depeer report`: every figure and table of the HTML
//! report as plain data ([`ReportData`]), and [`gather`], which reads it
//! from a dataset. Rendering is `depeer_web::report`; this module owns what
//! is shown, not how.
//!
//! Every string here may come from an adversary (message subjects, domain
//! names, organisation names from as2org, botnet names from feeds): the
//! renderer escapes them, this module passes them on as they are.
//!
//! Ranking, what-if and backtest are computed by other commands (issue 19);
//! they are optional here and shaped like those commands' `--json` rows
//! ([`RankRow`], [`WhatIf`], [`Backtest`]), so that their output can be
//! handed in as it is (they also deserialize from that JSON).

mod gather;
mod graph;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use gather::{ReportOptions, gather};

/// Everything the report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// The report's title.
    pub title: String,
    /// The moment the analyses are made at (RFC 3339): the dependency
    /// graph's window ends here; the charts mark it.
    pub at: String,
    /// What made the report (`depeer 0.1.0`).
    pub generator: String,
    /// Messages per bucket, all trapped spam.
    pub spam: Series,
    /// Drops and rises of the spam volume, with their routing causes.
    pub events: Vec<EventMark>,
    /// Each botnet's share of the trapped spam per bucket (0..1).
    pub botnet_shares: Shares,
    /// The botnets of the window before `at`, with their C&C hosting.
    pub botnets: Vec<BotnetLine>,
    /// The dependency graph around the top networks in the window before `at`.
    pub graph: Graph,
    /// `depeer rank` at `at`; `None` when it cannot answer (no routing data).
    pub ranking: Option<Vec<RankRow>>,
    /// `depeer whatif` answers at `at`; `None` when it cannot answer.
    pub whatif: Option<Vec<WhatIf>>,
    /// `depeer backtest`; `None` when it cannot answer.
    pub backtests: Option<Vec<Backtest>>,
}

/// A regular series: `values[i]` is the bucket starting at `times[i]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Bucket width, seconds.
    pub step_secs: i64,
    /// Bucket starts, Unix seconds, ascending.
    pub times: Vec<i64>,
    /// One value per bucket.
    pub values: Vec<f64>,
}

/// Shares of several keys over the same buckets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    /// Bucket width, seconds.
    pub step_secs: i64,
    /// Bucket starts, Unix seconds, ascending.
    pub times: Vec<i64>,
    /// One series per key, largest overall first; each as long as `times`.
    pub keys: Vec<NamedSeries>,
}

/// One key's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedSeries {
    /// The key (a botnet name, `other`, `unknown`).
    pub name: String,
    /// One value per bucket.
    pub values: Vec<f64>,
}

/// A volume event (as `depeer events --json` has it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventMark {
    /// First minute at the new rate, Unix seconds.
    pub time: i64,
    /// `drop` or `rise`.
    pub kind: String,
    /// The botnet, or `None` for all spam.
    pub key: Option<String>,
    /// Relative change of the rate (after / before − 1).
    pub magnitude: f64,
    /// 95 % interval of `magnitude`.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// 0..1.
    pub confidence: f64,
    /// Routing events that explain it, best first.
    pub causes: Vec<CauseMark>,
}

/// One routing cause of a volume event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CauseMark {
    /// The AS.
    pub asn: u32,
    /// Its organisation, when known.
    pub org: Option<String>,
    /// The routing event's kind (`as-unreachable`, ...).
    pub kind: String,
    /// The routing event's time, Unix seconds.
    pub time: i64,
    /// Share of the change explained, 0..1.
    pub explains: f64,
}

/// One botnet of the window before `at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotnetLine {
    /// The botnet.
    pub botnet: String,
    /// Its messages in the window.
    pub messages: u64,
    /// Share of all messages of the window.
    pub share: f64,
    /// Distinct relays (HyperLogLog estimate).
    pub bots_estimate: u64,
    /// Its C&C servers listed then: `ip AS org` each.
    pub cc: Vec<String>,
}

/// The dependency graph: botnets → the networks hosting their C&C servers
/// and advertised sites → those networks' upstreams.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Window start, Unix seconds.
    pub window_start: i64,
    /// Window end (exclusive), Unix seconds.
    pub window_end: i64,
    /// Messages in the window (the denominator of the shares).
    pub messages: u64,
    /// The nodes.
    pub nodes: Vec<GraphNode>,
    /// The edges, by index into `nodes`.
    pub edges: Vec<GraphEdge>,
}

/// What a node of the graph is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A botnet (or `unknown`: messages without one).
    #[default]
    Botnet,
    /// A network hosting C&C servers or sites (an origin AS).
    Hosting,
    /// Indicators that were not routed at the time.
    Unrouted,
    /// An upstream of a hosting network.
    Upstream,
}

/// One node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// What it is.
    pub kind: NodeKind,
    /// The AS number (hosting and upstream nodes).
    pub asn: Option<u32>,
    /// What it shows (`srizbi`, `AS26780 McColo Corp.`).
    pub label: String,
    /// Share of the window's spam that depends on it (botnets: their
    /// share; networks: through C&C or sites).
    pub share: f64,
    /// A line of detail (C&C servers and sites there).
    pub detail: String,
}

/// What an edge goes through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A botnet's C&C server hosted there.
    #[default]
    Cc,
    /// An advertised site hosted there.
    Site,
    /// A network's upstream.
    Upstream,
}

/// One edge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Index of the source node.
    pub from: usize,
    /// Index of the target node.
    pub to: usize,
    /// What it goes through.
    pub kind: EdgeKind,
    /// Share of the window's spam that depends on it (0 for upstreams).
    pub share: f64,
}

/// One row of `depeer rank --json`'s `ranking`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    /// 1 for the first.
    pub rank: u32,
    /// The AS.
    pub asn: u32,
    /// Its organisation.
    #[serde(default)]
    pub org: Option<String>,
    /// The score.
    pub score: f64,
    /// Feature name → value.
    #[serde(default)]
    pub features: BTreeMap<String, f64>,
    /// The evidence behind the features (`depeer explain`), when given.
    #[serde(default)]
    pub evidence: Vec<EvidenceRow>,
}

/// One piece of evidence behind a feature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// The feature it supports.
    pub feature: String,
    /// What it is (a feed entry, a message, a routing event), as text.
    pub what: String,
    /// First seen (RFC 3339).
    #[serde(default)]
    pub first_seen: Option<String>,
    /// Last seen (RFC 3339).
    #[serde(default)]
    pub last_seen: Option<String>,
}

/// One answer of `depeer whatif --json` (drops as fractions 0..1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The moment (RFC 3339).
    pub at: String,
    /// What is cut: ASNs (`26780`) and links (`A-B`).
    #[serde(deserialize_with = "cut_list")]
    pub cut: Vec<String>,
    /// Predicted drop of all spam.
    pub predicted_drop: f64,
    /// Interval of `predicted_drop`.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// Per botnet.
    #[serde(default)]
    pub per_botnet: Vec<WhatIfBotnet>,
}

/// One botnet of a what-if.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhatIfBotnet {
    /// The botnet.
    pub botnet: String,
    /// Its share of the spam before.
    pub share: f64,
    /// Its predicted drop.
    pub predicted_drop: f64,
}

/// One row of `depeer backtest --json`'s `backtests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// The drop event's time (RFC 3339).
    pub event_time: String,
    /// What was cut.
    #[serde(deserialize_with = "cut_list")]
    pub cut: Vec<String>,
    /// Predicted drop with data up to just before the event.
    pub predicted_drop: f64,
    /// Interval of `predicted_drop`.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// The drop observed after it.
    pub observed_drop: f64,
}

/// `cut` as the commands may write it: `26780`, `"26780"`, `"1-2"` or a
/// list of those.
fn cut_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum One {
        Number(u64),
        Text(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cut {
        One(One),
        Many(Vec<One>),
    }
    let text = |o: One| match o {
        One::Number(n) => n.to_string(),
        One::Text(s) => s,
    };
    Ok(match Cut::deserialize(d)? {
        Cut::One(o) => vec![text(o)],
        Cut::Many(v) => v.into_iter().map(text).collect(),
    })
}
