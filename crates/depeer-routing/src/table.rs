//! The routing table of one moment: which origin ASes announced the longest
//! prefix covering an address, built from the `routes` history.
//!
//! Time rule (see docs/routing.md): a route row is in the table at `T` when
//! `first_seen <= T <= last_seen`, or when `T` is later than `last_seen`
//! and `last_seen` is the end of that collector's data (the route was still
//! announced when the data ends, so it is assumed to stay until evidence
//! says otherwise). Without `T` the table is the state at the end of the
//! data.
//!
//! The table is immutable; [`SharedTable`] lets readers on many threads use
//! one while a writer swaps in a newer one atomically.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use depeer_core::{Asn, Prefix, RouteObs, Timestamp};

use crate::poptrie::{NO_ROUTE, Poptrie};

/// One prefix of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    /// The prefix.
    pub prefix: Prefix,
    /// Its origin ASes at that moment, ascending (more than one: MOAS or an
    /// AS_SET origin).
    pub origins: Vec<Asn>,
    /// Peers that saw it, summed over collectors.
    pub peer_count: u32,
}

/// An immutable LPM table for one moment.
#[derive(Debug, Clone)]
pub struct RouteTable {
    entries: Vec<TableEntry>,
    v4: Poptrie<u32>,
    v6: Poptrie<u128>,
    at: Option<Timestamp>,
}

impl RouteTable {
    /// Builds the table at `at` (or at the end of the data) from route rows.
    pub fn from_routes<'a>(
        routes: impl IntoIterator<Item = &'a RouteObs> + Clone,
        at: Option<Timestamp>,
    ) -> RouteTable {
        let mut end: HashMap<&str, Timestamp> = HashMap::new();
        for r in routes.clone() {
            let e = end.entry(r.collector.as_str()).or_insert(r.last_seen);
            *e = (*e).max(r.last_seen);
        }
        let mut by_prefix: HashMap<Prefix, TableEntry> = HashMap::new();
        for r in routes {
            let col_end = end
                .get(r.collector.as_str())
                .copied()
                .unwrap_or(r.last_seen);
            let live = match at {
                None => r.last_seen == col_end,
                Some(t) => r.first_seen <= t && (t <= r.last_seen || r.last_seen == col_end),
            };
            if !live {
                continue;
            }
            let e = by_prefix.entry(r.prefix).or_insert_with(|| TableEntry {
                prefix: r.prefix,
                origins: Vec::new(),
                peer_count: 0,
            });
            if !e.origins.contains(&r.origin_asn) {
                e.origins.push(r.origin_asn);
            }
            e.peer_count += r.peer_count;
        }
        let mut entries: Vec<TableEntry> = by_prefix.into_values().collect();
        for e in &mut entries {
            e.origins.sort();
        }
        entries.sort_by_key(|a| a.prefix);
        RouteTable::from_entries(entries, at)
    }

    /// Builds the table from entries (one per prefix).
    pub fn from_entries(entries: Vec<TableEntry>, at: Option<Timestamp>) -> RouteTable {
        // (network, length, entry index) of each family, in entry order.
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (i, e) in entries.iter().enumerate() {
            let len = u32::from(e.prefix.prefix_len());
            match e.prefix {
                Prefix::V4(n) => v4.push((u32::from(n.network()), len, i as u32)),
                Prefix::V6(n) => v6.push((u128::from(n.network()), len, i as u32)),
            }
        }
        RouteTable {
            entries,
            v4: Poptrie::build(v4),
            v6: Poptrie::build(v6),
            at,
        }
    }

    /// The moment this table is for (`None`: the end of the data).
    pub fn at(&self) -> Option<Timestamp> {
        self.at
    }

    /// All entries, sorted by prefix.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// Longest-prefix match of one address.
    pub fn lookup(&self, ip: IpAddr) -> Option<&TableEntry> {
        let i = match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.lookup(u32::from(v4)),
                None => self.v6.lookup(u128::from(a)),
            },
        };
        self.entry(i)
    }

    /// The entry behind an index from [`RouteTable::lookup_v4_many`].
    pub fn entry(&self, index: u32) -> Option<&TableEntry> {
        if index == NO_ROUTE {
            return None;
        }
        self.entries.get(index as usize)
    }

    /// Bulk IPv4 lookup: `out[i]` is the entry index for `addrs[i]` (host
    /// byte order `u32`), [`NO_ROUTE`] when nothing matches.
    pub fn lookup_v4_many(&self, addrs: &[u32], out: &mut [u32]) {
        self.v4.lookup_many(addrs, out);
    }

    /// Bulk IPv6 lookup, like [`RouteTable::lookup_v4_many`].
    pub fn lookup_v6_many(&self, addrs: &[u128], out: &mut [u32]) {
        self.v6.lookup_many(addrs, out);
    }

    /// Bytes of the two LPM structures.
    pub fn index_bytes(&self) -> (usize, usize) {
        (self.v4.memory_bytes(), self.v6.memory_bytes())
    }
}

/// A table shared read-only across threads and replaced atomically when a
/// newer one is built: readers call [`SharedTable::load`] and keep the
/// `Arc` for as long as they need a consistent view.
#[derive(Debug)]
pub struct SharedTable(ArcSwap<RouteTable>);

impl SharedTable {
    /// Shares `t`.
    pub fn new(t: RouteTable) -> SharedTable {
        SharedTable(ArcSwap::from_pointee(t))
    }

    /// The current table.
    pub fn load(&self) -> Arc<RouteTable> {
        self.0.load_full()
    }

    /// Replaces the table; readers holding the old one keep it until they
    /// drop it.
    pub fn store(&self, t: RouteTable) {
        self.0.store(Arc::new(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str, asn: u32, first: i64, last: i64, col: &str) -> RouteObs {
        RouteObs {
            prefix: p.parse().unwrap(),
            origin_asn: Asn(asn),
            first_seen: Timestamp::from_secs(first),
            last_seen: Timestamp::from_secs(last),
            peer_count: 2,
            collector: col.into(),
        }
    }

    #[test]
    fn time_rule_and_moas() {
        let rows = vec![
            r("208.66.192.0/22", 26780, 100, 500, "rv2"),
            r("208.66.192.0/22", 666, 200, 300, "rv2"),
            r("208.66.0.0/16", 3549, 100, 1000, "rv2"),
            r("2001:db8::/32", 6939, 100, 1000, "rv2"),
        ];
        let ip: IpAddr = "208.66.193.7".parse().unwrap();
        let at = |s| RouteTable::from_routes(&rows, Some(Timestamp::from_secs(s)));
        let t = at(250);
        let e = t.lookup(ip).unwrap();
        assert_eq!(e.origins, vec![Asn(666), Asn(26780)]);
        assert_eq!(e.peer_count, 4);
        assert_eq!(at(400).lookup(ip).unwrap().origins, vec![Asn(26780)]);
        // After McColo's last_seen (not the end of data): the /16 covers it.
        assert_eq!(at(600).lookup(ip).unwrap().origins, vec![Asn(3549)]);
        // After the end of the data: still-announced routes stay.
        assert_eq!(at(5000).lookup(ip).unwrap().origins, vec![Asn(3549)]);
        assert!(at(50).lookup(ip).is_none());
        let end = RouteTable::from_routes(&rows, None);
        assert_eq!(
            end.lookup("2001:db8::1".parse().unwrap()).unwrap().origins,
            vec![Asn(6939)]
        );
        let shared = SharedTable::new(end);
        let old = shared.load();
        shared.store(at(250));
        assert!(old.lookup(ip).is_some());
        assert_eq!(shared.load().at(), Some(Timestamp::from_secs(250)));
    }
}
