//! The routing tables (`routes`, `as_links`, `routing_events`, `as_names`):
//! typed rows to Arrow and back.

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use depeer_core::{
    AsLinkObs, AsNameObs, Asn, Prefix, Relationship, RibStateObs, RouteObs, RoutingEventKind,
    RoutingEventObs, Timestamp,
};

use crate::error::{Result, StoreError};
use crate::parquet_io::{Cols, int_col, opt_str, shown_col, text_col, time_col};
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
        let cols: Vec<ArrayRef> = match self {
            TableRows::FeedEntries(rows) => return crate::feeds::feed_batch(rows),
            TableRows::Routes(rows) => vec![
                shown_col(rows, |r| Some(r.prefix)),
                int_col(rows, |r| Some(r.origin_asn.0.into())),
                time_col(rows, |r| Some(r.first_seen)),
                time_col(rows, |r| Some(r.last_seen)),
                int_col(rows, |r| Some(r.peer_count.into())),
                text_col(rows, |r| Some(r.collector.as_str())),
            ],
            TableRows::AsLinks(rows) => vec![
                int_col(rows, |r| Some(r.asn.0.into())),
                int_col(rows, |r| Some(r.neighbor_asn.0.into())),
                text_col(rows, |r| Some(r.relationship.as_str())),
                time_col(rows, |r| Some(r.first_seen)),
                time_col(rows, |r| Some(r.last_seen)),
            ],
            TableRows::RoutingEvents(rows) => vec![
                time_col(rows, |r| Some(r.time)),
                text_col(rows, |r| Some(r.kind.as_str())),
                int_col(rows, |r| r.asn.map(|a| a.0.into())),
                shown_col(rows, |r| r.prefix),
                text_col(rows, |r| Some(r.detail.as_str())),
            ],
            TableRows::AsNames(rows) => vec![
                int_col(rows, |r| Some(r.asn.0.into())),
                text_col(rows, |r| Some(r.name.as_str())),
                text_col(rows, |r| r.org.as_deref()),
                text_col(rows, |r| r.country.as_deref()),
            ],
            TableRows::RibState(rows) => vec![
                text_col(rows, |r| Some(r.collector.as_str())),
                shown_col(rows, |r| Some(r.peer_ip)),
                int_col(rows, |r| Some(r.peer_asn.0.into())),
                shown_col(rows, |r| Some(r.prefix)),
                text_col(rows, |r| Some(r.as_path.as_str())),
                time_col(rows, |r| Some(r.time)),
            ],
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

pub(crate) fn routes_from(c: &Cols<'_>, out: &mut Vec<RouteObs>) -> Result<()> {
    const T: &str = names::ROUTES;
    let [p, col] = c.texts(["prefix", "collector"])?;
    let [o, n] = c.ints(["origin_asn", "peer_count"])?;
    let [f, l] = c.times(["first_seen", "last_seen"])?;
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

pub(crate) fn links_from(c: &Cols<'_>, out: &mut Vec<AsLinkObs>) -> Result<()> {
    const T: &str = names::AS_LINKS;
    let [a, nb] = c.ints(["asn", "neighbor_asn"])?;
    let r = c.str("relationship")?;
    let [f, l] = c.times(["first_seen", "last_seen"])?;
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

pub(crate) fn events_from(c: &Cols<'_>, out: &mut Vec<RoutingEventObs>) -> Result<()> {
    use datafusion::arrow::array::Array;
    const T: &str = names::ROUTING_EVENTS;
    let t = c.ts("time")?;
    let [k, p, d] = c.texts(["kind", "prefix", "detail"])?;
    let a = c.i64("asn")?;
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

pub(crate) fn names_from(c: &Cols<'_>, out: &mut Vec<AsNameObs>) -> Result<()> {
    const T: &str = names::AS_NAMES;
    let a = c.i64("asn")?;
    let [n, o, co] = c.texts(["name", "org", "country"])?;
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

pub(crate) fn rib_state_from(c: &Cols<'_>, out: &mut Vec<RibStateObs>) -> Result<()> {
    const T: &str = names::RIB_STATE;
    let [co, ip, p, path] = c.texts(["collector", "peer_ip", "prefix", "as_path"])?;
    let pa = c.i64("peer_asn")?;
    let t = c.ts("time")?;
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
