//! The routing tables (`routes`, `as_links`, `routing_events`, `as_names`):
//! typed rows to Arrow and back.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use depeer_core::{
    AsLinkObs, AsNameObs, Asn, Prefix, Relationship, RibStateObs, RouteObs, RoutingEventKind,
    RoutingEventObs, Timestamp,
};

use crate::error::{Result, StoreError};
use crate::parquet_io::{Cols, opt_str};
use crate::schema::{names, schema_of};

/// Rows for one routing table, for [`crate::Store::append`] and
/// [`crate::Store::replace_table`].
#[derive(Debug, Clone, Copy)]
pub enum TableRows<'a> {
    /// Rows of `routes`.
    Routes(&'a [RouteObs]),
    /// Rows of `as_links`.
    AsLinks(&'a [AsLinkObs]),
    /// Rows of `routing_events`.
    RoutingEvents(&'a [RoutingEventObs]),
    /// Rows of `as_names`.
    AsNames(&'a [AsNameObs]),
    /// Rows of `rib_state`.
    RibState(&'a [RibStateObs]),
    /// Rows of `feed_entries`.
    FeedEntries(&'a [depeer_core::FeedEntryObs]),
}

fn ts_builder(n: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC")
}

impl<'a> TableRows<'a> {
    /// The table the rows belong to.
    pub fn table(&self) -> &'static str {
        match self {
            TableRows::Routes(_) => names::ROUTES,
            TableRows::AsLinks(_) => names::AS_LINKS,
            TableRows::RoutingEvents(_) => names::ROUTING_EVENTS,
            TableRows::AsNames(_) => names::AS_NAMES,
            TableRows::RibState(_) => names::RIB_STATE,
            TableRows::FeedEntries(_) => names::FEED_ENTRIES,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            TableRows::Routes(r) => r.len(),
            TableRows::AsLinks(r) => r.len(),
            TableRows::RoutingEvents(r) => r.len(),
            TableRows::AsNames(r) => r.len(),
            TableRows::RibState(r) => r.len(),
            TableRows::FeedEntries(r) => r.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn slice(&self, start: usize, end: usize) -> TableRows<'a> {
        match *self {
            TableRows::Routes(r) => TableRows::Routes(r.get(start..end).unwrap_or(&[])),
            TableRows::AsLinks(r) => TableRows::AsLinks(r.get(start..end).unwrap_or(&[])),
            TableRows::RoutingEvents(r) => {
                TableRows::RoutingEvents(r.get(start..end).unwrap_or(&[]))
            }
            TableRows::AsNames(r) => TableRows::AsNames(r.get(start..end).unwrap_or(&[])),
            TableRows::RibState(r) => TableRows::RibState(r.get(start..end).unwrap_or(&[])),
            TableRows::FeedEntries(r) => TableRows::FeedEntries(r.get(start..end).unwrap_or(&[])),
        }
    }

    pub(crate) fn to_batch(self) -> Result<RecordBatch> {
        let n = self.len();
        let cols: Vec<ArrayRef> = match self {
            TableRows::FeedEntries(rows) => return crate::feeds::feed_batch(rows),
            TableRows::Routes(rows) => {
                let mut prefix = StringBuilder::with_capacity(n, n * 18);
                let mut origin = Int64Builder::with_capacity(n);
                let mut first = ts_builder(n);
                let mut last = ts_builder(n);
                let mut peers = Int64Builder::with_capacity(n);
                let mut collector = StringBuilder::with_capacity(n, n * 8);
                let mut buf = String::new();
                for r in rows {
                    buf.clear();
                    use std::fmt::Write;
                    let _ = write!(buf, "{}", r.prefix);
                    prefix.append_value(&buf);
                    origin.append_value(i64::from(r.origin_asn.0));
                    first.append_value(r.first_seen.0);
                    last.append_value(r.last_seen.0);
                    peers.append_value(i64::from(r.peer_count));
                    collector.append_value(&r.collector);
                }
                vec![
                    Arc::new(prefix.finish()),
                    Arc::new(origin.finish()),
                    Arc::new(first.finish()),
                    Arc::new(last.finish()),
                    Arc::new(peers.finish()),
                    Arc::new(collector.finish()),
                ]
            }
            TableRows::AsLinks(rows) => {
                let mut asn = Int64Builder::with_capacity(n);
                let mut nb = Int64Builder::with_capacity(n);
                let mut rel = StringBuilder::with_capacity(n, n * 8);
                let mut first = ts_builder(n);
                let mut last = ts_builder(n);
                for r in rows {
                    asn.append_value(i64::from(r.asn.0));
                    nb.append_value(i64::from(r.neighbor_asn.0));
                    rel.append_value(r.relationship.as_str());
                    first.append_value(r.first_seen.0);
                    last.append_value(r.last_seen.0);
                }
                vec![
                    Arc::new(asn.finish()),
                    Arc::new(nb.finish()),
                    Arc::new(rel.finish()),
                    Arc::new(first.finish()),
                    Arc::new(last.finish()),
                ]
            }
            TableRows::RoutingEvents(rows) => {
                let mut time = ts_builder(n);
                let mut kind = StringBuilder::with_capacity(n, n * 14);
                let mut asn = Int64Builder::with_capacity(n);
                let mut prefix = StringBuilder::with_capacity(n, n * 18);
                let mut detail = StringBuilder::with_capacity(n, n * 16);
                for r in rows {
                    time.append_value(r.time.0);
                    kind.append_value(r.kind.as_str());
                    asn.append_option(r.asn.map(|a| i64::from(a.0)));
                    prefix.append_option(r.prefix.map(|p| p.to_string()));
                    detail.append_value(&r.detail);
                }
                vec![
                    Arc::new(time.finish()),
                    Arc::new(kind.finish()),
                    Arc::new(asn.finish()),
                    Arc::new(prefix.finish()),
                    Arc::new(detail.finish()),
                ]
            }
            TableRows::AsNames(rows) => {
                let mut asn = Int64Builder::with_capacity(n);
                let mut name = StringBuilder::with_capacity(n, n * 12);
                let mut org = StringBuilder::with_capacity(n, n * 16);
                let mut country = StringBuilder::with_capacity(n, n * 2);
                for r in rows {
                    asn.append_value(i64::from(r.asn.0));
                    name.append_value(&r.name);
                    org.append_option(r.org.as_deref());
                    country.append_option(r.country.as_deref());
                }
                vec![
                    Arc::new(asn.finish()),
                    Arc::new(name.finish()),
                    Arc::new(org.finish()),
                    Arc::new(country.finish()),
                ]
            }
            TableRows::RibState(rows) => {
                let mut collector = StringBuilder::with_capacity(n, n * 8);
                let mut peer_ip = StringBuilder::with_capacity(n, n * 14);
                let mut peer_asn = Int64Builder::with_capacity(n);
                let mut prefix = StringBuilder::with_capacity(n, n * 18);
                let mut path = StringBuilder::with_capacity(n, n * 24);
                let mut time = ts_builder(n);
                for r in rows {
                    collector.append_value(&r.collector);
                    peer_ip.append_value(r.peer_ip.to_string());
                    peer_asn.append_value(i64::from(r.peer_asn.0));
                    prefix.append_value(r.prefix.to_string());
                    path.append_value(&r.as_path);
                    time.append_value(r.time.0);
                }
                vec![
                    Arc::new(collector.finish()),
                    Arc::new(peer_ip.finish()),
                    Arc::new(peer_asn.finish()),
                    Arc::new(prefix.finish()),
                    Arc::new(path.finish()),
                    Arc::new(time.finish()),
                ]
            }
        };
        RecordBatch::try_new(schema_of(self.table()), cols)
            .map_err(StoreError::arrow("routing rows"))
    }
}

fn bad(table: &'static str, row: usize, reason: String) -> StoreError {
    StoreError::BadRow { table, row, reason }
}

fn asn(table: &'static str, row: usize, v: i64) -> Result<Asn> {
    u32::try_from(v)
        .map(Asn)
        .map_err(|_| bad(table, row, format!("ASN {v} out of range")))
}

fn prefix(table: &'static str, row: usize, s: &str) -> Result<Prefix> {
    s.parse()
        .map_err(|_| bad(table, row, format!("prefix {s:?} is not CIDR")))
}

pub(crate) fn relationship(s: &str) -> Relationship {
    match s {
        "provider" => Relationship::Provider,
        "customer" => Relationship::Customer,
        "peer" => Relationship::Peer,
        "sibling" => Relationship::Sibling,
        _ => Relationship::Unknown,
    }
}

pub(crate) fn event_kind(s: &str) -> Option<RoutingEventKind> {
    RoutingEventKind::parse(s)
}

pub(crate) const ROUTE_COLS: &[&str] = &[
    "prefix",
    "origin_asn",
    "first_seen",
    "last_seen",
    "peer_count",
    "collector",
];

pub(crate) fn routes_from(c: &Cols<'_>, out: &mut Vec<RouteObs>) -> Result<()> {
    const T: &str = names::ROUTES;
    let (p, o, f, l, n, col) = (
        c.str("prefix")?,
        c.i64("origin_asn")?,
        c.ts("first_seen")?,
        c.ts("last_seen")?,
        c.i64("peer_count")?,
        c.str("collector")?,
    );
    out.reserve(c.rb.num_rows());
    // Collectors repeat: share one String per distinct run.
    let mut last_collector = String::new();
    for i in 0..c.rb.num_rows() {
        let cv = col.value(i);
        if cv != last_collector {
            last_collector = cv.to_string();
        }
        out.push(RouteObs {
            prefix: prefix(T, i, p.value(i))?,
            origin_asn: asn(T, i, o.value(i))?,
            first_seen: Timestamp(f.value(i)),
            last_seen: Timestamp(l.value(i)),
            peer_count: u32::try_from(n.value(i)).unwrap_or(u32::MAX),
            collector: last_collector.clone(),
        });
    }
    Ok(())
}

pub(crate) const LINK_COLS: &[&str] = &[
    "asn",
    "neighbor_asn",
    "relationship",
    "first_seen",
    "last_seen",
];

pub(crate) fn links_from(c: &Cols<'_>, out: &mut Vec<AsLinkObs>) -> Result<()> {
    const T: &str = names::AS_LINKS;
    let (a, nb, r, f, l) = (
        c.i64("asn")?,
        c.i64("neighbor_asn")?,
        c.str("relationship")?,
        c.ts("first_seen")?,
        c.ts("last_seen")?,
    );
    for i in 0..c.rb.num_rows() {
        out.push(AsLinkObs {
            asn: asn(T, i, a.value(i))?,
            neighbor_asn: asn(T, i, nb.value(i))?,
            relationship: relationship(r.value(i)),
            first_seen: Timestamp(f.value(i)),
            last_seen: Timestamp(l.value(i)),
        });
    }
    Ok(())
}

pub(crate) const EVENT_COLS: &[&str] = &["time", "kind", "asn", "prefix", "detail"];

pub(crate) fn events_from(c: &Cols<'_>, out: &mut Vec<RoutingEventObs>) -> Result<()> {
    use datafusion::arrow::array::Array;
    const T: &str = names::ROUTING_EVENTS;
    let (t, k, a, p, d) = (
        c.ts("time")?,
        c.str("kind")?,
        c.i64("asn")?,
        c.str("prefix")?,
        c.str("detail")?,
    );
    for i in 0..c.rb.num_rows() {
        let kind = event_kind(k.value(i))
            .ok_or_else(|| bad(T, i, format!("unknown event kind {:?}", k.value(i))))?;
        out.push(RoutingEventObs {
            time: Timestamp(t.value(i)),
            kind,
            asn: if a.is_null(i) {
                None
            } else {
                Some(asn(T, i, a.value(i))?)
            },
            prefix: match opt_str(p, i) {
                Some(s) => Some(prefix(T, i, s)?),
                None => None,
            },
            detail: d.value(i).to_string(),
        });
    }
    Ok(())
}

pub(crate) const NAME_COLS: &[&str] = &["asn", "name", "org", "country"];

pub(crate) fn names_from(c: &Cols<'_>, out: &mut Vec<AsNameObs>) -> Result<()> {
    const T: &str = names::AS_NAMES;
    let (a, n, o, co) = (
        c.i64("asn")?,
        c.str("name")?,
        c.str("org")?,
        c.str("country")?,
    );
    for i in 0..c.rb.num_rows() {
        out.push(AsNameObs {
            asn: asn(T, i, a.value(i))?,
            name: n.value(i).to_string(),
            org: opt_str(o, i).map(str::to_string),
            country: opt_str(co, i).map(str::to_string),
        });
    }
    Ok(())
}

pub(crate) const RIB_STATE_COLS: &[&str] = &[
    "collector",
    "peer_ip",
    "peer_asn",
    "prefix",
    "as_path",
    "time",
];

pub(crate) fn rib_state_from(c: &Cols<'_>, out: &mut Vec<RibStateObs>) -> Result<()> {
    const T: &str = names::RIB_STATE;
    let (co, ip, pa, p, path, t) = (
        c.str("collector")?,
        c.str("peer_ip")?,
        c.i64("peer_asn")?,
        c.str("prefix")?,
        c.str("as_path")?,
        c.ts("time")?,
    );
    for i in 0..c.rb.num_rows() {
        out.push(RibStateObs {
            collector: co.value(i).to_string(),
            peer_ip: ip
                .value(i)
                .parse()
                .map_err(|_| bad(T, i, format!("peer_ip {:?}", ip.value(i))))?,
            peer_asn: asn(T, i, pa.value(i))?,
            prefix: prefix(T, i, p.value(i))?,
            as_path: path.value(i).to_string(),
            time: Timestamp(t.value(i)),
        });
    }
    Ok(())
}
