//! The read side: what the analyses of depeer-analysis need, read from the
//! dataset once. `depeer series`, `depeer depends` and `depeer events` call
//! these (and later the HTTP API and the report do), so the binary's
//! command files only parse flags and print.
//!
//! * [`depends`]: the dependency graph of a window (`depeer depends`) and
//!   the `dependencies` table of every window (`--build`).
//! * [`events`]: volume events of the trapped spam and the routing events
//!   that explain them (`depeer events`).
//! * [`follow`]: volume events as data is committed (`depeer events
//!   --follow`).
//! * [`series`]: messages per time bucket, in total or split
//!   (`depeer series`).

pub mod depends;
pub mod events;
pub mod follow;
pub mod series;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use depeer_analysis::{Hosting, RouteSpan, UpstreamSpan};
use depeer_core::{Relationship, Timestamp};
use depeer_store::{Dataset, StoreError};

/// Why a read-side answer could not be given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The data directory is not a dataset (or cannot be opened).
    #[error("{}: no dataset; {hint}", .dir.display())]
    NoDataset {
        /// The directory.
        dir: PathBuf,
        /// What to run first.
        hint: &'static str,
        /// The cause.
        source: StoreError,
    },
    /// A table the answer needs is empty, or holds nothing in the range.
    #[error("{}: {what}; {hint}", .dir.display())]
    Missing {
        /// The directory.
        dir: PathBuf,
        /// What is missing.
        what: &'static str,
        /// What to run first.
        hint: &'static str,
    },
    /// Reading or writing a table failed.
    #[error("reading the dataset")]
    Store(#[from] StoreError),
    /// A series could not be built (too many buckets, ...).
    #[error(transparent)]
    Series(#[from] depeer_analysis::SeriesError),
}

/// Opens the dataset at `data`; `hint` says what to run when there is none.
pub fn open(data: &Path, hint: &'static str) -> Result<Dataset, ReadError> {
    Dataset::open(data).map_err(|source| ReadError::NoDataset {
        dir: data.to_path_buf(),
        hint,
        source,
    })
}

fn missing(ds: &Dataset, what: &'static str, hint: &'static str) -> ReadError {
    ReadError::Missing {
        dir: ds.dir().to_path_buf(),
        what,
        hint,
    }
}

/// Every stored route interval (`routes`), as the analyses take them.
pub fn route_spans(ds: &Dataset) -> Result<Vec<RouteSpan>, StoreError> {
    Ok(ds
        .read_routes()?
        .into_iter()
        .map(|r| RouteSpan {
            network: r.prefix.network(),
            len: r.prefix.prefix_len(),
            origin: r.origin_asn.0,
            first: r.first_seen.0,
            last: r.last_seen.0,
            collector: r.collector,
        })
        .collect())
}

/// Every stored customer -> provider interval (`as_links` of relationship
/// provider).
pub fn upstream_spans(ds: &Dataset) -> Result<Vec<UpstreamSpan>, StoreError> {
    Ok(ds
        .read_as_links()?
        .into_iter()
        .filter(|l| l.relationship == Relationship::Provider)
        .map(|l| UpstreamSpan {
            asn: l.asn.0,
            provider: l.neighbor_asn.0,
            first: l.first_seen.0,
            last: l.last_seen.0,
        })
        .collect())
}

/// The routing history of the dataset, indexed for placements.
pub fn load_hosting(ds: &Dataset) -> Result<Hosting, ReadError> {
    let routes = route_spans(ds)?;
    if routes.is_empty() {
        return Err(missing(
            ds,
            "no routes stored",
            "run `depeer ingest mrt` (or `ingest ipasn`) first",
        ));
    }
    let ups = upstream_spans(ds)?;
    let orgs = ds
        .read_as_names()?
        .into_iter()
        .map(|n| (n.asn.0, n.org.unwrap_or(n.name)))
        .collect();
    Ok(Hosting::new(routes, ups, orgs))
}

/// Botnet and campaign by message (hex SHA-256).
pub type Labels = HashMap<String, (Option<String>, Option<String>)>;

/// Botnet and campaign per message, from the `attribution` table; a clear
/// error when `depeer attribute` has not run.
pub fn load_attribution(ds: &Dataset) -> Result<Labels, ReadError> {
    let rows = ds.read_attribution()?;
    if rows.is_empty() {
        return Err(missing(
            ds,
            "the `attribution` table is empty",
            "run `depeer attribute` first (it decides each message's botnet and campaign)",
        ));
    }
    Ok(rows
        .into_iter()
        .map(|r| (r.sha256, (r.botnet, r.campaign)))
        .collect())
}

/// A listed C&C server: its address and the publisher's first and last
/// seen times (absent when the feed gives none).
pub type CcListing = (IpAddr, Option<Timestamp>, Option<Timestamp>);

/// The C&C servers (`feed_entries` kind `cnc` with a family and an address
/// for an indicator) by family.
pub fn load_cc(ds: &Dataset) -> Result<HashMap<String, Vec<CcListing>>, ReadError> {
    let mut cc: HashMap<String, Vec<CcListing>> = HashMap::new();
    for f in ds.read_feed_entries()? {
        if f.kind != "cnc" {
            continue;
        }
        let (Some(family), Ok(ip)) = (f.family, f.indicator.parse::<IpAddr>()) else {
            continue;
        };
        cc.entry(family)
            .or_default()
            .push((ip, f.first_seen, f.last_seen));
    }
    Ok(cc)
}

/// A listed C&C server and its listing interval in a caller's unit.
pub type CcSpan = (IpAddr, i64, i64);

/// [`load_cc`] with the listing interval in the unit `unit` gives (µs:
/// `|t| t.0`, s: `Timestamp::secs`); a missing end is open (`i64::MIN`,
/// `i64::MAX`).
pub fn load_cc_spans(
    ds: &Dataset,
    unit: fn(Timestamp) -> i64,
) -> Result<HashMap<String, Vec<CcSpan>>, ReadError> {
    Ok(load_cc(ds)?
        .into_iter()
        .map(|(family, list)| {
            let spans = list
                .into_iter()
                .map(|(ip, first, last)| {
                    (
                        ip,
                        first.map_or(i64::MIN, unit),
                        last.map_or(i64::MAX, unit),
                    )
                })
                .collect();
            (family, spans)
        })
        .collect())
}
