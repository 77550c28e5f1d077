//! Addresses as routed at a moment, over the whole routing history of a
//! dataset: the longest prefix announced at that time, its origin AS and
//! that AS's organisation.
//!
//! Time rule (the same as [`depeer_routing::RouteTable`], docs/routing.md):
//! a route row holds at `t` when `first_seen <= t <= last_seen`, or when
//! `t` is later and `last_seen` is the end of its collector's data. Unlike
//! a `RouteTable`, which is one moment, every interval is kept, so each
//! message is looked up at its own time. Lookup: one hash probe per prefix
//! length present (at most 33 for IPv4, 129 for IPv6), longest first.

use std::collections::HashMap;
use std::net::IpAddr;

use depeer_core::{AsNameObs, Prefix, RouteObs, Timestamp};

/// One announcement interval of a prefix.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: i64,
    last: i64,
    /// `last` is the end of the collector's data: still announced.
    open: bool,
    origin: u32,
}

impl Span {
    fn holds(&self, t: i64) -> bool {
        self.first <= t && (t <= self.last || self.open)
    }
}

/// Where an address was routed at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The longest prefix announced at that time.
    pub prefix: Prefix,
    /// Its origin AS (the lowest when several announced it).
    pub asn: u32,
}

/// The routing history of a dataset, for lookups at any time.
#[derive(Debug, Default)]
pub struct RoutingAt {
    /// Spans by (address bits: 32 or 128, prefix length, network).
    spans: HashMap<(u32, u8, u128), Vec<Span>>,
    /// Prefix lengths present, longest first: IPv4, IPv6.
    lens: [Vec<u8>; 2],
    orgs: HashMap<u32, String>,
    routes: usize,
}

/// The first `len` of the `bits` low bits of `a`.
fn mask(a: u128, len: u8, bits: u32) -> u128 {
    let keep = u32::from(len).min(bits);
    if keep == 0 {
        0
    } else {
        a & (u128::MAX << (bits - keep))
    }
}

/// An address or prefix as (bits, value).
fn bits_of(ip: IpAddr) -> (u32, u128) {
    match ip {
        IpAddr::V4(a) => (32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128, u128::from(a)),
    }
}

impl RoutingAt {
    /// Builds the index from route rows and AS names (organisation, else
    /// the AS name).
    pub fn new(routes: &[RouteObs], names: &[AsNameObs]) -> RoutingAt {
        let mut end: HashMap<&str, i64> = HashMap::new();
        for r in routes {
            let e = end.entry(r.collector.as_str()).or_insert(r.last_seen.0);
            *e = (*e).max(r.last_seen.0);
        }
        let mut out = RoutingAt {
            routes: routes.len(),
            ..RoutingAt::default()
        };
        for r in routes {
            let span = Span {
                first: r.first_seen.0,
                last: r.last_seen.0,
                open: end.get(r.collector.as_str()) == Some(&r.last_seen.0),
                origin: r.origin_asn.0,
            };
            let (bits, net) = bits_of(r.prefix.network());
            let len = r.prefix.prefix_len();
            let key = (bits, len, mask(net, len, bits));
            out.spans.entry(key).or_default().push(span);
        }
        for (i, bits) in [32, 128].into_iter().enumerate() {
            if let Some(l) = out.lens.get_mut(i) {
                *l = lens(out.spans.keys().filter(|k| k.0 == bits).map(|k| k.1));
            }
        }
        for n in names {
            let org = n.org.clone().unwrap_or_else(|| n.name.clone());
            out.orgs.insert(n.asn.0, org);
        }
        out
    }

    /// Route rows indexed (0: no routing data).
    pub fn routes(&self) -> usize {
        self.routes
    }

    /// Where `ip` was routed at `t`; `None` when no announced prefix
    /// covered it then.
    pub fn lookup(&self, ip: IpAddr, t: Timestamp) -> Option<Routed> {
        let (bits, a) = bits_of(ip);
        let lens = self.lens.get(usize::from(bits == 128))?;
        lens.iter().find_map(|&len| {
            let net = mask(a, len, bits);
            let asn = live_origin(self.spans.get(&(bits, len, net))?, t.0)?;
            let addr = match ip {
                IpAddr::V4(_) => IpAddr::V4(u32::try_from(net).ok()?.into()),
                IpAddr::V6(_) => IpAddr::V6(net.into()),
            };
            let prefix = Prefix::new(addr, len).ok()?;
            Some(Routed { prefix, asn })
        })
    }

    /// The organisation (else the name) of an AS, when known.
    pub fn org(&self, asn: u32) -> Option<&str> {
        self.orgs.get(&asn).map(String::as_str)
    }
}

/// Distinct prefix lengths, longest first.
fn lens(it: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut v: Vec<u8> = it.collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v.dedup();
    v
}

/// The lowest origin among the spans that hold at `t`.
fn live_origin(spans: &[Span], t: i64) -> Option<u32> {
    spans.iter().filter(|s| s.holds(t)).map(|s| s.origin).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use depeer_core::Asn;

    #[test]
    fn longest_prefix_at_the_time_asked() {
        // (prefix, origin, first, last) in seconds, one collector.
        let routes: Vec<RouteObs> = [
            ("208.66.192.0/22", 26780, 0, 100),
            ("208.66.0.0/16", 3356, 0, 1000),
            ("2001:db8::/32", 64500, 50, 1000),
            ("0.0.0.0/0", 1, 500, 600),
        ]
        .into_iter()
        .map(|(p, asn, first, last)| RouteObs {
            prefix: p.parse().unwrap(),
            origin_asn: Asn(asn),
            first_seen: Timestamp::from_secs(first),
            last_seen: Timestamp::from_secs(last),
            peer_count: 1,
            collector: "rv".into(),
        })
        .collect();
        let names = vec![AsNameObs {
            asn: Asn(26780),
            name: "MCCOLO".into(),
            org: Some("McColo Corp".into()),
            country: None,
        }];
        let r = RoutingAt::new(&routes, &names);
        let ip: IpAddr = "208.66.195.1".parse().unwrap();
        let at = |s| r.lookup(ip, Timestamp::from_secs(s));
        assert_eq!(at(50).unwrap().asn, 26780);
        assert_eq!(at(50).unwrap().prefix.to_string(), "208.66.192.0/22");
        // After the /22 was withdrawn the /16 covers it; before anything, nothing.
        assert_eq!(at(200).unwrap().asn, 3356);
        assert_eq!(at(-5), None);
        // The end of the collector's data: still announced afterwards.
        assert_eq!(at(5000).unwrap().asn, 3356);
        assert_eq!(
            r.lookup("10.0.0.1".parse().unwrap(), Timestamp::from_secs(550))
                .unwrap()
                .prefix
                .to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            r.lookup("2001:db8::1".parse().unwrap(), Timestamp::from_secs(60))
                .unwrap()
                .asn,
            64500
        );
        assert_eq!(r.org(26780), Some("McColo Corp"));
        assert_eq!(r.org(1), None);
    }
}
