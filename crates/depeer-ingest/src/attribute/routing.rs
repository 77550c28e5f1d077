//! Addresses as routed at a moment, over the whole routing history of a
//! dataset: the longest prefix announced at that time, its origin AS and
//! that AS's organisation.
//!
//! Time rule (the same as [`depeer_routing::RouteTable`], docs/routing.md):
//! a route row holds at `t` when `first_seen <= t <= last_seen`, or when
//! `t` is later and `last_seen` is the end of its collector's data. Unlike
//! a `RouteTable`, which is one moment, every interval is kept, so each
//! message is looked up at its own time.
//!
//! Lookup: one longest-prefix match ([`Poptrie`]) over every prefix ever
//! announced, then up the chain of covering prefixes until one holds at
//! `t` (usually the first). A hash probe per prefix length, the first
//! form, cost 0.8 µs a lookup on a full-size history (5 M messages: more
//! than the attribution of a message); see docs/intel.md.

use std::collections::HashMap;
use std::net::IpAddr;

use depeer_core::{AsNameObs, Prefix, RouteObs, Timestamp};
use depeer_routing::{NO_ROUTE, Poptrie};

/// One announcement interval of a prefix.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: i64,
    last: i64,
    /// `last` is the end of the collector's data: still announced.
    open: bool,
    origin: u32,
}

/// From `from` until the next segment's start, the lowest origin of the
/// spans that hold ([`NO_ORIGIN`]: none).
#[derive(Debug, Clone, Copy)]
struct Seg {
    from: i64,
    origin: u32,
    /// The origin's organisation: index into [`RoutingAt::org_names`]
    /// ([`NO_ORIGIN`]: unknown), found when the timeline is built.
    org: u32,
}

/// No span holds.
const NO_ORIGIN: u32 = u32::MAX;

/// A prefix's spans as a timeline of segments, each with the lowest origin
/// of the spans that hold then (`first <= t && (t <= last || open)`), so a
/// lookup is one binary search however many intervals the prefix has (a
/// flapping prefix has hundreds; scanning them all was a fifth of the
/// attribution's time).
fn timeline(spans: &[Span], out: &mut Vec<Seg>) {
    let mut ev: Vec<(i64, bool, u32)> = Vec::with_capacity(2 * spans.len());
    for s in spans {
        if s.open {
            ev.push((s.first, true, s.origin));
        } else if s.first <= s.last {
            ev.push((s.first, true, s.origin));
            if let Some(end) = s.last.checked_add(1) {
                ev.push((end, false, s.origin));
            }
        }
    }
    ev.sort_unstable();
    let mut live: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    let (mut i, start) = (0, out.len());
    while let Some(&(t, _, _)) = ev.get(i) {
        while let Some(&(u, start, origin)) = ev.get(i)
            && u == t
        {
            if start {
                *live.entry(origin).or_default() += 1;
            } else if let Some(c) = live.get_mut(&origin) {
                *c -= 1;
                if *c == 0 {
                    live.remove(&origin);
                }
            }
            i += 1;
        }
        let origin = live.keys().next().copied().unwrap_or(NO_ORIGIN);
        if out.len() == start || out.last().is_some_and(|l| l.origin != origin) {
            out.push(Seg {
                from: t,
                origin,
                org: NO_ORIGIN,
            });
        }
    }
}

/// A prefix ever announced: its intervals and the longest prefix that
/// covers it.
#[derive(Debug, Clone)]
struct Node {
    prefix: Prefix,
    /// Its timeline: `segs[start..end]`.
    start: u32,
    end: u32,
    /// Index of the longest strictly covering prefix, or [`NO_ROUTE`].
    parent: u32,
}

/// Where an address was routed at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The longest prefix announced at that time.
    pub prefix: Prefix,
    /// Its origin AS (the lowest when several announced it).
    pub asn: u32,
}

/// Where an address was routed at a moment, as the `attribution` row
/// writes it: borrowed from the index, nothing formatted per lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoutedText<'a> {
    /// The longest prefix announced at that time, as text.
    pub(crate) prefix: &'a str,
    /// Its origin AS (the lowest when several announced it).
    pub(crate) asn: u32,
    /// The organisation (else the name) of that AS, when known.
    pub(crate) org: Option<&'a str>,
}

/// The routing history of a dataset, for lookups at any time.
#[derive(Debug)]
pub struct RoutingAt {
    nodes: Vec<Node>,
    /// Each node's prefix as text (written once, not per row).
    texts: Vec<String>,
    segs: Vec<Seg>,
    /// Organisation names, by [`Seg::org`].
    org_names: Vec<String>,
    v4: Poptrie<u32>,
    v6: Poptrie<u128>,
    orgs: HashMap<u32, String>,
    routes: usize,
}

impl Default for RoutingAt {
    fn default() -> Self {
        RoutingAt::new(&[], &[])
    }
}

/// A prefix as (IPv6?, network as u128, length): the sort order that puts
/// every prefix after those covering it.
fn key(p: &Prefix) -> (bool, u128, u8) {
    match p.network() {
        IpAddr::V4(a) => (false, u128::from(u32::from(a)), p.prefix_len()),
        IpAddr::V6(a) => (true, u128::from(a), p.prefix_len()),
    }
}

/// Whether `outer` covers `inner` (same family, shorter or equal length,
/// same leading bits).
fn covers(outer: (bool, u128, u8), inner: (bool, u128, u8)) -> bool {
    let bits: u32 = if outer.0 { 128 } else { 32 };
    if outer.0 != inner.0 || outer.2 > inner.2 {
        return false;
    }
    let shift = bits - u32::from(outer.2);
    shift >= 128 || (outer.1 >> shift) == (inner.1 >> shift)
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
        let mut by_prefix: HashMap<Prefix, Vec<Span>> = HashMap::new();
        for r in routes {
            by_prefix.entry(r.prefix.trunc()).or_default().push(Span {
                first: r.first_seen.0,
                last: r.last_seen.0,
                open: end.get(r.collector.as_str()) == Some(&r.last_seen.0),
                origin: r.origin_asn.0,
            });
        }
        let mut prefixes: Vec<(Prefix, Vec<Span>)> = by_prefix.into_iter().collect();
        prefixes.sort_unstable_by_key(|(p, _)| key(p));
        let (mut nodes, mut segs) = (Vec::with_capacity(prefixes.len()), Vec::new());
        // Parents: in this order a prefix's covering prefixes are on the
        // stack of those not yet left behind.
        let mut stack: Vec<(u32, (bool, u128, u8))> = Vec::new();
        for (i, (prefix, s)) in prefixes.into_iter().enumerate() {
            let k = key(&prefix);
            while stack.last().is_some_and(|&(_, top)| !covers(top, k)) {
                stack.pop();
            }
            let parent = stack.last().map_or(NO_ROUTE, |&(j, _)| j);
            let start = segs.len() as u32;
            timeline(&s, &mut segs);
            nodes.push(Node {
                prefix,
                start,
                end: segs.len() as u32,
                parent,
            });
            stack.push((i as u32, k));
        }
        let entries = |v6: bool| {
            nodes.iter().enumerate().filter_map(move |(i, n)| {
                let (is6, net, len) = key(&n.prefix);
                (is6 == v6).then_some((net, u32::from(len), i as u32))
            })
        };
        let texts = nodes.iter().map(|n| n.prefix.to_string()).collect();
        let v4 = Poptrie::build(entries(false).map(|(n, l, i)| (n as u32, l, i)));
        let v6 = Poptrie::build(entries(true));
        let mut orgs = HashMap::new();
        for n in names {
            let org = n.org.clone().unwrap_or_else(|| n.name.clone());
            orgs.insert(n.asn.0, org);
        }
        let mut org_names: Vec<String> = Vec::new();
        let mut org_ids: HashMap<u32, u32> = HashMap::new();
        for seg in &mut segs {
            if let Some(name) = orgs.get(&seg.origin) {
                seg.org = *org_ids.entry(seg.origin).or_insert_with(|| {
                    org_names.push(name.clone());
                    org_names.len() as u32 - 1
                });
            }
        }
        RoutingAt {
            nodes,
            texts,
            segs,
            org_names,
            v4,
            v6,
            orgs,
            routes: routes.len(),
        }
    }

    /// Route rows indexed (0: no routing data).
    pub fn routes(&self) -> usize {
        self.routes
    }

    /// Where `ip` was routed at `t`; `None` when no announced prefix
    /// covered it then.
    pub fn lookup(&self, ip: IpAddr, t: Timestamp) -> Option<Routed> {
        let (i, seg) = self.find(ip, t)?;
        let n = self.nodes.get(i as usize)?;
        Some(Routed {
            prefix: n.prefix,
            asn: seg.origin,
        })
    }

    /// [`RoutingAt::lookup`] as the `attribution` row writes it, with the
    /// organisation.
    pub(crate) fn lookup_at(&self, ip: IpAddr, t: Timestamp) -> Option<RoutedText<'_>> {
        let (i, seg) = self.find(ip, t)?;
        Some(RoutedText {
            prefix: self.texts.get(i as usize)?.as_str(),
            asn: seg.origin,
            org: self.org_names.get(seg.org as usize).map(String::as_str),
        })
    }

    /// The node of the longest prefix routed to `ip` at `t`, and its origin.
    fn find(&self, ip: IpAddr, t: Timestamp) -> Option<(u32, Seg)> {
        let mut i = match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        };
        while i != NO_ROUTE {
            let n = self.nodes.get(i as usize)?;
            let segs = self.segs.get(n.start as usize..n.end as usize)?;
            let at = segs.partition_point(|s| s.from <= t.0);
            if let Some(s) = at.checked_sub(1).and_then(|k| segs.get(k))
                && s.origin != NO_ORIGIN
            {
                return Some((i, *s));
            }
            i = n.parent;
        }
        None
    }

    /// The organisation (else the name) of an AS, when known.
    pub fn org(&self, asn: u32) -> Option<&str> {
        self.orgs.get(&asn).map(String::as_str)
    }
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

    /// The index against a brute force over the rows (longest covering
    /// prefix holding at `t`, lowest origin) on nested random prefixes and
    /// intervals, two collectors, IPv4 and IPv6.
    #[test]
    fn agrees_with_brute_force() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut routes = Vec::new();
        for i in 0..600 {
            let r = rnd();
            let (prefix, collector) = if i % 5 == 0 {
                let len = 24 + (r % 25) as u8;
                let net = (0x2001_0db8u128 << 96) | (u128::from(r as u16 & 0x0f0f) << 80);
                (
                    Prefix::new(IpAddr::V6(net.into()), len).unwrap().trunc(),
                    "b",
                )
            } else {
                let len = 8 + (r % 21) as u8;
                let net = 0x0a00_0000u32 | ((r >> 8) as u32 & 0x00f0_f0f0);
                (
                    Prefix::new(IpAddr::V4(net.into()), len).unwrap().trunc(),
                    "a",
                )
            };
            let first = (rnd() % 1000) as i64;
            let last = first + (rnd() % 400) as i64;
            routes.push(RouteObs {
                prefix,
                origin_asn: Asn((rnd() % 7) as u32 + 1),
                first_seen: Timestamp::from_secs(first),
                last_seen: Timestamp::from_secs(last),
                peer_count: 1,
                collector: collector.into(),
            });
        }
        let names: Vec<AsNameObs> = (1..4)
            .map(|a| AsNameObs {
                asn: Asn(a),
                name: format!("AS{a}"),
                org: (a != 2).then(|| format!("Org {a}")),
                country: None,
            })
            .collect();
        let r = RoutingAt::new(&routes, &names);
        let end = |c: &str| {
            routes
                .iter()
                .filter(|o| o.collector == c)
                .map(|o| o.last_seen)
                .max()
        };
        for _ in 0..20_000 {
            let v = rnd();
            let ip = if v % 5 == 0 {
                let a = (0x2001_0db8u128 << 96)
                    | (u128::from(v as u16 & 0x0f0f) << 80)
                    | u128::from(v >> 20);
                IpAddr::V6(a.into())
            } else {
                IpAddr::V4(
                    (0x0a00_0000u32
                        | ((v >> 8) as u32 & 0x00f0_f0f0)
                        | (v >> 40) as u32 & 0x0f0f_0f0f)
                        .into(),
                )
            };
            let t = Timestamp::from_secs((rnd() % 1600) as i64 - 100);
            let want = routes
                .iter()
                .filter(|o| {
                    o.prefix.contains(&ip)
                        && o.first_seen <= t
                        && (t <= o.last_seen || Some(o.last_seen) == end(&o.collector))
                })
                .map(|o| {
                    (
                        std::cmp::Reverse(o.prefix.prefix_len()),
                        o.origin_asn.0,
                        o.prefix,
                    )
                })
                .min()
                .map(|(_, asn, prefix)| Routed { prefix, asn });
            assert_eq!(r.lookup(ip, t), want, "{ip} at {t:?}");
            let text = r.lookup_at(ip, t);
            assert_eq!(
                text.map(|x| x.prefix.to_string()),
                want.as_ref().map(|w| w.prefix.to_string())
            );
            assert_eq!(text.map(|x| x.asn), want.as_ref().map(|w| w.asn));
            assert_eq!(text.and_then(|x| x.org), want.and_then(|w| r.org(w.asn)));
        }
    }
}
