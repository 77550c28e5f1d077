//! A loaded dataset (one zone file, or several read as one): its entries in
//! lookup form, its values, substitutions, TTL and apex records. Immutable
//! once built; a reload builds a new one.

use std::collections::{HashMap, HashSet};

use crate::ZoneType;
use crate::error::DnsblError;
use crate::ipmap::{IntervalMap, NONE, SetTable};
use crate::name;
use crate::value::{Subst, Value};

type Map<V> = HashMap<Box<[u8]>, V, foldhash::fast::RandomState>;

/// `$SOA ttl origindn persondn serial refresh retry expire minttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// TTL of the SOA record itself.
    pub ttl: u32,
    /// Primary name server (lowercase wire format, no root byte).
    pub mname: Box<[u8]>,
    /// Responsible person's mailbox as a name (same form).
    pub rname: Box<[u8]>,
    /// Serial.
    pub serial: u32,
    /// Refresh interval.
    pub refresh: u32,
    /// Retry interval.
    pub retry: u32,
    /// Expiry.
    pub expire: u32,
    /// Negative-caching TTL (RFC 2308).
    pub minimum: u32,
}

/// `$NS ttl nameserverdn...`.
#[derive(Debug, Clone)]
pub(crate) struct Ns {
    pub(crate) ttl: u32,
    pub(crate) names: Vec<Box<[u8]>>,
}

/// dnset entries: names relative to the zone, lowercase wire format.
#[derive(Debug, Default)]
pub(crate) struct DnSet {
    exact: Map<u32>,
    wild: Map<u32>,
    /// Names that exist only because a listed name lies below them.
    ents: HashSet<Box<[u8]>, foldhash::fast::RandomState>,
}

impl DnSet {
    pub(crate) fn build(
        exact: HashMap<Box<[u8]>, (bool, Vec<u32>)>,
        wild: HashMap<Box<[u8]>, (bool, Vec<u32>)>,
        sets: &mut SetTable,
    ) -> Self {
        let mut s = Self::default();
        for (k, e) in exact {
            s.exact.insert(k, dn_set(e, sets));
        }
        for (k, e) in wild {
            s.wild.insert(k, dn_set(e, sets));
        }
        let mut ents = HashSet::default();
        for (k, &v) in &s.exact {
            if v != NONE {
                let mut p = name::parent(k);
                while let Some(n) = p.filter(|n| !n.is_empty()) {
                    ents.insert(Box::<[u8]>::from(n));
                    p = name::parent(n);
                }
            }
        }
        for (k, &v) in &s.wild {
            if v != NONE {
                let mut p = Some(&k[..]);
                while let Some(n) = p.filter(|n| !n.is_empty()) {
                    ents.insert(Box::<[u8]>::from(n));
                    p = name::parent(n);
                }
            }
        }
        s.ents = ents;
        s
    }

    /// rbldnsd's dnset lookup: the exact name first (an exclusion there
    /// ends the search), then `*.parent` wildcards from the nearest parent
    /// up. Returns the set id and the listed entry's name (for `$`).
    pub(crate) fn lookup<'a>(&'a self, rel: &'a [u8]) -> Option<(u32, &'a [u8])> {
        if rel.is_empty() {
            return None;
        }
        if let Some((k, &v)) = self.exact.get_key_value(rel) {
            return (v != NONE).then_some((v, &k[..]));
        }
        let mut p = name::parent(rel);
        while let Some(n) = p.filter(|n| !n.is_empty()) {
            if let Some((k, &v)) = self.wild.get_key_value(n) {
                return (v != NONE).then_some((v, &k[..]));
            }
            p = name::parent(n);
        }
        None
    }

    pub(crate) fn is_ent(&self, rel: &[u8]) -> bool {
        self.ents.contains(rel)
    }

    pub(crate) fn ensure_test_entries(&mut self, test_value: u32, sets: &mut SetTable) {
        // RFC 5782 section 5: domain-name-based lists "MUST contain an entry
        // for the reserved domain name "TEST"" and "MUST NOT contain an
        // entry for the reserved domain name "INVALID"".
        if self.lookup(b"\x04test").is_none() {
            let id = sets.intern(&[test_value]);
            self.exact.insert((*b"\x04test").into(), id);
        }
        if self.lookup(b"\x07invalid").is_some() {
            self.exact.insert((*b"\x07invalid").into(), NONE);
        }
    }

    fn len(&self) -> usize {
        self.exact.len() + self.wild.len()
    }

    fn bytes(&self) -> usize {
        let keys: usize = self
            .exact
            .keys()
            .chain(self.wild.keys())
            .chain(self.ents.iter())
            .map(|k| k.len() + 16 + 8)
            .sum();
        keys + (self.exact.capacity() + self.wild.capacity() + self.ents.capacity()) * 8
    }
}

/// The lookup form of the entries.
#[derive(Debug)]
pub(crate) enum Data {
    Ip4(IntervalMap<u32>),
    Ip6(IntervalMap<u128>),
    Dn(DnSet),
}

/// One loaded dataset.
#[derive(Debug)]
pub struct Dataset {
    pub(crate) kind: ZoneType,
    pub(crate) data: Data,
    pub(crate) values: Vec<Value>,
    pub(crate) sets: SetTable,
    pub(crate) subst: Subst,
    pub(crate) ttl: u32,
    pub(crate) soa: Option<Soa>,
    pub(crate) ns: Option<Ns>,
    pub(crate) entries: u64,
    pub(crate) warnings: Vec<DnsblError>,
    pub(crate) warning_count: u64,
}

impl Dataset {
    /// The values (A, TXT template) of a set id.
    pub(crate) fn values_of(&self, set: u32) -> impl Iterator<Item = &Value> {
        self.sets
            .get(set)
            .iter()
            .filter_map(|&v| self.values.get(v as usize))
    }

    /// Dataset type.
    pub fn kind(&self) -> ZoneType {
        self.kind
    }

    /// Entry lines read (listings and exclusions).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Malformed lines skipped.
    pub fn warning_count(&self) -> u64 {
        self.warning_count
    }

    /// The first 100 malformed lines, located (file, line).
    pub fn warnings(&self) -> &[DnsblError] {
        &self.warnings
    }

    /// Lookup units built: address intervals or names.
    pub fn size(&self) -> usize {
        match &self.data {
            Data::Ip4(m) => m.len(),
            Data::Ip6(m) => m.len(),
            Data::Dn(d) => d.len(),
        }
    }

    /// Approximate heap bytes of the lookup structures and values.
    pub fn heap_bytes(&self) -> usize {
        let data = match &self.data {
            Data::Ip4(m) => m.bytes(),
            Data::Ip6(m) => m.bytes(),
            Data::Dn(d) => d.bytes(),
        };
        data + self.sets.bytes() + self.values.iter().map(|v| 40 + v.txt.len()).sum::<usize>()
    }
}

/// The set id of collected (excluded, values) for one dnset key.
fn dn_set(e: (bool, Vec<u32>), sets: &mut SetTable) -> u32 {
    let (excluded, mut ids) = e;
    if excluded {
        return NONE;
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        NONE
    } else {
        sets.intern(&ids)
    }
}
