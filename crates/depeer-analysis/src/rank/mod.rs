//! Rogue-network ranking (issue 19, item 1): which networks host
//! malicious infrastructure out of proportion to their size, keep it up
//! after it is reported, move it around inside themselves, carry the
//! spam's dependencies, behave in routing like bulletproof hosters, or
//! resell transit to networks that do. Pure: the caller hands in the
//! feed listings, the window's messages and the routing history as plain
//! values ([`RankInput`]); nothing after `at` is used.
//!
//! Split by job: [`features`](self::features) places every listing and
//! tallies the evidence per network (AS, organisation or prefix),
//! [`score`](self::score) turns the tallies into normalised features and
//! a weighted score (weights from a TOML file, [`Weights`]),
//! [`baselines`](self::baselines) computes the CIRCL BGP Ranking formula
//! and a FIRE-style density on the same tallies, [`explain`] sets each
//! feature of a row beside its evidence rows. The method and every
//! feature are documented in docs/rank.md.

mod baselines;
mod evicted;
mod explain;
mod features;
mod score;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::hosting::{RouteSpan, UpstreamSpan};

pub use evicted::Eviction;
pub use explain::{EvidenceRow, Explanation, FeatureExplained, explain};
pub use features::{Evidence, EvidenceKind, Tally};
pub use score::{
    DEFAULT_WEIGHTS, FEATURES, RankRow, Ranking, Weights, WeightsError, rank, tallies,
};

/// What a feed listing lists (the `feed_entries.kind` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListingKind {
    /// A C&C server (`cnc`).
    Cnc,
    /// A malicious URL (`url`: spam-advertised, phishing, malware).
    Url,
    /// A passive DNS resolution (`pdns`).
    Pdns,
    /// A bot address (`bots`).
    Bots,
}

impl ListingKind {
    /// The `feed_entries.kind` text; `None` for kinds the ranking does not
    /// use (`net` lists name networks, not hosted servers).
    pub fn parse(kind: &str) -> Option<ListingKind> {
        match kind {
            "cnc" => Some(ListingKind::Cnc),
            "url" => Some(ListingKind::Url),
            "pdns" => Some(ListingKind::Pdns),
            "bots" => Some(ListingKind::Bots),
            _ => None,
        }
    }

    /// The `feed_entries.kind` text.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingKind::Cnc => "cnc",
            ListingKind::Url => "url",
            ListingKind::Pdns => "pdns",
            ListingKind::Bots => "bots",
        }
    }
}

/// One feed listing (a `feed_entries` row), with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// What is listed.
    pub kind: ListingKind,
    /// The publisher.
    pub source: String,
    /// The listed thing: address, URL or DNS name.
    pub indicator: String,
    /// Passive DNS: the address the name resolved to.
    pub address: Option<String>,
    /// Botnet or malware family.
    pub family: Option<String>,
    /// C&C port.
    pub port: Option<u16>,
    /// First seen (Unix µs); a listing without one is not used (its time
    /// cannot be checked against `at`).
    pub first: Option<i64>,
    /// Last seen (Unix µs); none: only `first` is known.
    pub last: Option<i64>,
    /// File it was read from.
    pub file: String,
    /// Its line in that file.
    pub line: u64,
}

/// One trapped message of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Arrival (Unix µs).
    pub time: i64,
    /// Its botnet (attribution), if known.
    pub botnet: Option<String>,
    /// Its campaign, if known.
    pub campaign: Option<String>,
    /// The hosts of its URLs.
    pub hosts: Vec<String>,
}

/// One routing event (a `routing_events` row).
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingEvent {
    /// When (Unix µs).
    pub time: i64,
    /// `upstream-lost`, `short-lived`, ...
    pub kind: String,
    /// The AS concerned.
    pub asn: Option<u32>,
    /// The prefix concerned (CIDR).
    pub prefix: Option<String>,
    /// Free text.
    pub detail: String,
}

/// Name and organisation of an AS (`as_names`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsName {
    /// The AS name.
    pub name: String,
    /// Its organisation, when known.
    pub org: Option<String>,
}

/// Everything a ranking is computed from. Rows later than `at` may be
/// handed in: they are ignored.
#[derive(Debug, Clone, Default)]
pub struct RankInput {
    /// The moment of the ranking (Unix µs, inclusive).
    pub at: i64,
    /// Length of the window ending at `at` (µs).
    pub window: i64,
    /// Route intervals (`routes`).
    pub routes: Vec<RouteSpan>,
    /// Provider links (`as_links` with relationship provider).
    pub upstreams: Vec<UpstreamSpan>,
    /// AS names and organisations.
    pub names: HashMap<u32, AsName>,
    /// Feed listings.
    pub listings: Vec<Listing>,
    /// Messages (those outside the window are ignored).
    pub messages: Vec<Message>,
    /// Routing events.
    pub routing_events: Vec<RoutingEvent>,
}

/// What is ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Autonomous systems.
    As,
    /// Organisations (as2org): the sum of their ASes.
    Org,
    /// Announced prefixes (the most specific covering the evidence).
    Prefix,
}

impl By {
    /// `as`, `org` or `prefix`.
    pub fn as_str(self) -> &'static str {
        match self {
            By::As => "as",
            By::Org => "org",
            By::Prefix => "prefix",
        }
    }
}

/// Which score orders the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// depeer's score (docs/rank.md).
    Depeer,
    /// The CIRCL BGP Ranking formula.
    Circl,
    /// A FIRE-style density of long-lived malicious servers.
    Fire,
}

impl Method {
    /// `depeer`, `circl` or `fire`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Depeer => "depeer",
            Method::Circl => "circl",
            Method::Fire => "fire",
        }
    }
}
