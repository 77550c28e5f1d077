//! Observation records: one struct per row of a store table. The store
//! (`depeer-store`) maps each to a Parquet schema documented in
//! `docs/schema.md`; the field names here are the column names there.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{Asn, Prefix, SourceRef, Timestamp};

/// Which clock the arrival time of a message came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalSource {
    /// The date of the trap's own (topmost trusted) `Received:` hop.
    Received,
    /// The date on the mbox `From ` separator line.
    MboxFrom,
    /// The modification time of the file the message was read from.
    FileTime,
    /// The time of ingestion (nothing else was available).
    IngestTime,
}

impl ArrivalSource {
    /// The value stored in the `arrival_source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalSource::Received => "received",
            ArrivalSource::MboxFrom => "mbox-from",
            ArrivalSource::FileTime => "file-time",
            ArrivalSource::IngestTime => "ingest-time",
        }
    }
}

/// One row of the `messages` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageObs {
    /// SHA-256 of the raw message bytes (as framed; mboxrd `>From ` unquoted).
    pub sha256: [u8; 32],
    /// When the trap received it.
    pub arrival_time: Timestamp,
    /// Which clock `arrival_time` came from.
    pub arrival_source: ArrivalSource,
    /// The relay that handed the message to the trusted side: the first
    /// untrusted hop of the `Received:` chain.
    pub relay_ip: Option<IpAddr>,
    /// The HELO/EHLO name that relay gave.
    pub relay_helo: Option<String>,
    /// The reverse-DNS name the receiving hop recorded for the relay.
    pub relay_rdns: Option<String>,
    /// Envelope sender (`Return-Path:`), without angle brackets.
    pub envelope_from: Option<String>,
    /// Address in `From:`.
    pub from_addr: Option<String>,
    /// First address in `To:`.
    pub to_addr: Option<String>,
    /// Decoded `Subject:`.
    pub subject: Option<String>,
    /// `Message-ID:` without angle brackets.
    pub message_id: Option<String>,
    /// `Date:` header, when it parses.
    pub date_header: Option<Timestamp>,
    /// Size of the raw message in bytes.
    pub size: u64,
    /// Content fingerprint for campaign clustering (hex MinHash signature,
    /// see docs/mail.md).
    pub fingerprint: String,
    /// Number of distinct URLs found.
    pub url_count: u32,
    /// Where the message was read.
    pub source: SourceRef,
}

/// One row of the `message_urls` table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UrlObs {
    /// The message the URL was found in.
    pub sha256: [u8; 32],
    /// The URL, normalised (scheme added to `www.` forms, host lowercased).
    pub url: String,
    /// Host name or IP literal, lowercased, without port.
    pub host: String,
    /// Registrable domain (eTLD+1 by the Public Suffix List); `None` for IP
    /// literals and hosts under a bare public suffix.
    pub registrable_domain: Option<String>,
}

/// One row of the `routes` table: an origin AS announcing a prefix during an
/// interval, as seen from one collector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteObs {
    /// The announced prefix.
    pub prefix: Prefix,
    /// Origin AS (last AS of the path; for an AS_SET origin, one row per member).
    pub origin_asn: Asn,
    /// Start of the interval.
    pub first_seen: Timestamp,
    /// End of the interval (last time known announced).
    pub last_seen: Timestamp,
    /// How many peers of the collector saw the announcement (max over the interval).
    pub peer_count: u32,
    /// Collector name (e.g. `route-views2`, `rrc00`, or the file's name).
    pub collector: String,
}

/// Business relationship of an AS link, seen from `asn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// `neighbor_asn` is a provider (upstream) of `asn`.
    Provider,
    /// `neighbor_asn` is a customer of `asn`.
    Customer,
    /// Settlement-free peers.
    Peer,
    /// Siblings (same organisation).
    Sibling,
    /// Not inferred.
    Unknown,
}

impl Relationship {
    /// The value stored in the `relationship` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Provider => "provider",
            Relationship::Customer => "customer",
            Relationship::Peer => "peer",
            Relationship::Sibling => "sibling",
            Relationship::Unknown => "unknown",
        }
    }
}

/// One row of the `as_links` table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsLinkObs {
    /// The AS.
    pub asn: Asn,
    /// Its neighbour.
    pub neighbor_asn: Asn,
    /// What the neighbour is to `asn`.
    pub relationship: Relationship,
    /// First time the link was seen in a path.
    pub first_seen: Timestamp,
    /// Last time the link was seen in a path.
    pub last_seen: Timestamp,
}

/// Kinds of routing event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoutingEventKind {
    /// A prefix was withdrawn by every peer that had it.
    PrefixWithdrawn,
    /// A prefix came back after being withdrawn everywhere.
    PrefixAnnounced,
    /// A prefix gained a second origin (MOAS) or changed origin.
    OriginChange,
    /// An AS lost an upstream.
    UpstreamLost,
    /// An AS gained an upstream.
    UpstreamGained,
    /// No prefix of the AS was reachable any more.
    AsUnreachable,
    /// The AS became reachable again.
    AsReachable,
    /// An announcement that lived shorter than the short-lived threshold.
    ShortLived,
}

impl RoutingEventKind {
    /// Every kind, in declaration order.
    pub const ALL: [RoutingEventKind; 8] = [
        RoutingEventKind::PrefixWithdrawn,
        RoutingEventKind::PrefixAnnounced,
        RoutingEventKind::OriginChange,
        RoutingEventKind::UpstreamLost,
        RoutingEventKind::UpstreamGained,
        RoutingEventKind::AsUnreachable,
        RoutingEventKind::AsReachable,
        RoutingEventKind::ShortLived,
    ];

    /// The kind stored as `s` in the `kind` column.
    pub fn parse(s: &str) -> Option<RoutingEventKind> {
        RoutingEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingEventKind::PrefixWithdrawn => "prefix-withdrawn",
            RoutingEventKind::PrefixAnnounced => "prefix-announced",
            RoutingEventKind::OriginChange => "origin-change",
            RoutingEventKind::UpstreamLost => "upstream-lost",
            RoutingEventKind::UpstreamGained => "upstream-gained",
            RoutingEventKind::AsUnreachable => "as-unreachable",
            RoutingEventKind::AsReachable => "as-reachable",
            RoutingEventKind::ShortLived => "short-lived",
        }
    }
}

/// One row of the `routing_events` table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoutingEventObs {
    /// When it happened.
    pub time: Timestamp,
    /// What happened.
    pub kind: RoutingEventKind,
    /// The AS concerned.
    pub asn: Option<Asn>,
    /// The prefix concerned.
    pub prefix: Option<Prefix>,
    /// Free text for people (e.g. `upstream AS6939`).
    pub detail: String,
}

/// One row of the `as_names` table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsNameObs {
    /// The AS.
    pub asn: Asn,
    /// Its name (e.g. `MCCOLO`).
    pub name: String,
    /// Its organisation's name.
    pub org: Option<String>,
    /// ISO country code of the organisation.
    pub country: Option<String>,
}

/// One row of the `rib_state` table: a route a collector's peer still had
/// when the last `ingest mrt` run of that collector ended. The next run of
/// the same collector starts from these routes, so that a withdrawal in a
/// later update file closes a route seen in an earlier RIB.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RibStateObs {
    /// Collector name.
    pub collector: String,
    /// The peer's address.
    pub peer_ip: IpAddr,
    /// The peer's AS.
    pub peer_asn: Asn,
    /// The prefix.
    pub prefix: Prefix,
    /// The AS path in bgpdump's text form (`1 2 {3,4}`).
    pub as_path: String,
    /// When the run ended (the collector's last record time).
    pub time: Timestamp,
}
