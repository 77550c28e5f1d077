//! depeer's routing history.
//!
//! * [`HistoryBuilder`] replays MRT records ([`depeer_mrt::MrtRecord`]) per
//!   collector into a [`History`]: route intervals (`routes`), AS links with
//!   inferred relationships (`as_links`) and routing events
//!   (`routing_events`), the rows depeer-store writes.
//! * [`RouteTable`] is the table of one moment, built from route rows, with
//!   a hand-written [`Poptrie`] LPM index for IPv4 and one for IPv6;
//!   [`SharedTable`] shares it across threads and swaps it atomically.
//! * Readers for pyasn tables ([`read_ipasn`]), AS names ([`read_as_names`])
//!   and CAIDA `as-rel` files ([`read_as_rel`]).
//!
//! ```
//! use depeer_core::{Asn, RouteObs, Timestamp};
//! use depeer_routing::RouteTable;
//! let rows = vec![RouteObs {
//!     prefix: "208.66.192.0/22".parse().unwrap(),
//!     origin_asn: Asn(26780),
//!     first_seen: Timestamp::from_secs(0),
//!     last_seen: Timestamp::from_secs(10),
//!     peer_count: 1,
//!     collector: "rv2".into(),
//! }];
//! let t = RouteTable::from_routes(&rows, None);
//! assert_eq!(t.lookup("208.66.195.1".parse().unwrap()).unwrap().origins, vec![Asn(26780)]);
//! ```

mod as2org;
mod history;
mod ipasn;
mod poptrie;
mod relationships;
mod table;

pub use as2org::read_as_names;
pub use history::{History, HistoryBuilder, HistoryOptions};
pub use ipasn::{IpasnTable, read_ipasn};
pub use poptrie::{LpmKey, NO_ROUTE, Poptrie};
pub use relationships::{infer_relationships, invert, read_as_rel};
pub use table::{RouteTable, SharedTable, TableEntry};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingError {
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line that is not in the expected format.
    #[error("{path}:{line}: cannot read {text:?}")]
    BadLine {
        /// The file.
        path: String,
        /// 1-based line number.
        line: u64,
        /// The line (at most 200 characters).
        text: String,
    },
}
