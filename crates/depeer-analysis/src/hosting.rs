//! Where an address was hosted at a moment: the longest announced prefix
//! covering it then, its origin ASes, their organisation and their
//! upstreams (providers) then. Built from the stored routing history
//! (route intervals, AS links, AS names) handed in as plain values.
//!
//! Time rule (the same as `depeer route lookup`, docs/routing.md): an
//! interval is live at `t` when `first <= t <= last`, or when `t` is later
//! than `last` and `last` is the end of that collector's data (still
//! announced when the data ends). Links follow the same rule against the
//! end of all link data.

use std::collections::HashMap;
use std::net::IpAddr;

/// One announced interval of a prefix (a `routes` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpan {
    /// The prefix's network address.
    pub network: IpAddr,
    /// The prefix length.
    pub len: u8,
    /// The origin AS.
    pub origin: u32,
    /// Start of the interval (Unix µs).
    pub first: i64,
    /// End of the interval (Unix µs).
    pub last: i64,
    /// The collector that saw it.
    pub collector: String,
}

impl RouteSpan {
    /// The span of `cidr` (`10.0.0.0/16`) originated by `origin` over
    /// `[first, last]` as `collector` saw it; `None` when `cidr` does not
    /// parse.
    #[must_use]
    pub fn of_cidr(
        cidr: &str,
        origin: u32,
        (first, last): (i64, i64),
        collector: &str,
    ) -> Option<RouteSpan> {
        let (network, len) = parse_cidr(cidr)?;
        Some(RouteSpan {
            network,
            len,
            origin,
            first,
            last,
            collector: collector.to_string(),
        })
    }
}

/// One provider link interval: `provider` was an upstream of `asn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamSpan {
    /// The customer AS.
    pub asn: u32,
    /// Its provider.
    pub provider: u32,
    /// First seen (Unix µs).
    pub first: i64,
    /// Last seen (Unix µs).
    pub last: i64,
}

/// Where an address was hosted at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The longest matching prefix, CIDR.
    pub prefix: String,
    /// Its origin ASes then, ascending (more than one: MOAS).
    pub origins: Vec<u32>,
}

/// The routing history, indexed for "where was this address at `t`".
#[derive(Debug, Clone, Default)]
pub struct Hosting {
    /// Spans by (masked network, length).
    spans: HashMap<(IpAddr, u8), Vec<usize>>,
    routes: Vec<RouteSpan>,
    /// The end of each collector's data.
    collector_end: HashMap<String, i64>,
    lengths_v4: Vec<u8>,
    lengths_v6: Vec<u8>,
    upstreams: HashMap<u32, Vec<UpstreamSpan>>,
    links_end: i64,
    orgs: HashMap<u32, String>,
}

fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

/// Parses `208.66.192.0/22` into (network, length).
pub fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = text.split_once('/')?;
    let ip: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then(|| (mask(ip, len), len))
}

impl Hosting {
    /// Indexes route intervals, provider links and organisation names
    /// (`asn -> org`, the AS name where no organisation is known).
    pub fn new(
        routes: Vec<RouteSpan>,
        upstreams: Vec<UpstreamSpan>,
        orgs: HashMap<u32, String>,
    ) -> Hosting {
        let mut h = Hosting {
            orgs,
            ..Hosting::default()
        };
        for (i, r) in routes.iter().enumerate() {
            let end = h.collector_end.entry(r.collector.clone()).or_insert(r.last);
            *end = (*end).max(r.last);
            let key = (mask(r.network, r.len), r.len);
            h.spans.entry(key).or_default().push(i);
            let lens = if r.network.is_ipv4() {
                &mut h.lengths_v4
            } else {
                &mut h.lengths_v6
            };
            if !lens.contains(&r.len) {
                lens.push(r.len);
            }
        }
        h.lengths_v4.sort_unstable_by(|a, b| b.cmp(a));
        h.lengths_v6.sort_unstable_by(|a, b| b.cmp(a));
        h.routes = routes;
        h.links_end = upstreams.iter().map(|l| l.last).max().unwrap_or(0);
        for l in upstreams {
            h.upstreams.entry(l.asn).or_default().push(l);
        }
        h
    }

    fn live(&self, r: &RouteSpan, t: i64) -> bool {
        let end = self.collector_end.get(&r.collector).copied();
        r.first <= t && (t <= r.last || Some(r.last) == end)
    }

    /// The longest prefix covering `ip` announced at `t`, and its origins.
    pub fn locate(&self, ip: IpAddr, t: i64) -> Option<Placement> {
        let lens = if ip.is_ipv4() {
            &self.lengths_v4
        } else {
            &self.lengths_v6
        };
        for &len in lens {
            let net = mask(ip, len);
            let Some(ids) = self.spans.get(&(net, len)) else {
                continue;
            };
            let mut origins: Vec<u32> = ids
                .iter()
                .filter_map(|&i| self.routes.get(i))
                .filter(|r| self.live(r, t))
                .map(|r| r.origin)
                .collect();
            if origins.is_empty() {
                continue;
            }
            origins.sort_unstable();
            origins.dedup();
            return Some(Placement {
                prefix: format!("{net}/{len}"),
                origins,
            });
        }
        None
    }

    /// The providers of `asn` at `t`, ascending.
    pub fn upstreams(&self, asn: u32, t: i64) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .upstreams
            .get(&asn)
            .map(|ls| {
                ls.iter()
                    .filter(|l| l.first <= t && (t <= l.last || l.last == self.links_end))
                    .map(|l| l.provider)
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The route intervals, as given.
    #[must_use]
    pub fn routes(&self) -> &[RouteSpan] {
        &self.routes
    }

    /// The end of each collector's data (Unix µs).
    #[must_use]
    pub fn collector_end(&self) -> &HashMap<String, i64> {
        &self.collector_end
    }

    /// The organisation (or name) of `asn`, when known.
    pub fn org(&self, asn: u32) -> Option<&str> {
        self.orgs.get(&asn).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(p: &str, origin: u32, first: i64, last: i64) -> RouteSpan {
        let (network, len) = parse_cidr(p).unwrap();
        RouteSpan {
            network,
            len,
            origin,
            first,
            last,
            collector: "c".into(),
        }
    }

    #[test]
    fn longest_live_prefix_at_a_time() {
        let h = Hosting::new(
            vec![
                span("10.0.0.0/8", 1, 0, 100),
                span("10.1.0.0/16", 2, 0, 50),
                span("10.1.0.0/16", 3, 40, 60),
                span("2001:db8::/32", 4, 0, 100),
            ],
            vec![
                UpstreamSpan {
                    asn: 2,
                    provider: 1,
                    first: 0,
                    last: 50,
                },
                UpstreamSpan {
                    asn: 2,
                    provider: 9,
                    first: 0,
                    last: 100,
                },
            ],
            HashMap::from([(2, "Two Inc".to_string())]),
        );
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(h.locate(ip, 10).unwrap().origins, vec![2]);
        assert_eq!(h.locate(ip, 45).unwrap().origins, vec![2, 3]);
        let late = h.locate(ip, 70).unwrap();
        assert_eq!(
            (late.prefix.as_str(), late.origins),
            ("10.0.0.0/8", vec![1])
        );
        // Past the end of the data: still announced.
        assert_eq!(h.locate(ip, 500).unwrap().origins, vec![1]);
        assert_eq!(h.locate("11.0.0.1".parse().unwrap(), 10), None);
        assert_eq!(
            h.locate("2001:db8::1".parse().unwrap(), 10).unwrap().prefix,
            "2001:db8::/32"
        );
        assert_eq!(h.upstreams(2, 10), vec![1, 9]);
        assert_eq!(h.upstreams(2, 70), vec![9]);
        assert_eq!(h.org(2), Some("Two Inc"));
    }

    #[test]
    fn cidr_parsing_masks() {
        assert_eq!(
            parse_cidr("10.1.2.3/8"),
            Some(("10.0.0.0".parse().unwrap(), 8))
        );
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("0.0.0.0/0").map(|x| x.1), Some(0));
    }
}
