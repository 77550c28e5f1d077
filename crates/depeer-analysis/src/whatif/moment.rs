//! The routing state of one moment, built from the stored history with
//! only what was known then: the AS graph (links first seen by then,
//! minus the provider links lost by then) and the prefixes announced
//! then with their origins. A cut of that moment is then a linear pass
//! ([`AsGraph::reach`]) and a pass over the prefixes.
//!
//! Links: `as_links` only says when a link was first and last *seen in a
//! path*, not when it went away, so a provider link counts as up at `t`
//! when it was first seen by `t` and no later loss of it (an
//! `upstream-lost` of that upstream, or the customer becoming unreachable)
//! happened by `t` without a gain after it.

use std::collections::HashMap;
use std::net::IpAddr;

use super::graph::{AsGraph, Cut, Link, LinkKind, Reach};
use crate::hosting::RouteSpan;

/// A link with the time it was first seen (Unix µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedLink {
    /// The link.
    pub link: Link,
    /// First seen (Unix µs).
    pub first: i64,
}

/// A change of a provider link or of a whole AS, from `routing_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkEvent {
    /// When (Unix µs).
    pub time: i64,
    /// The customer AS.
    pub asn: u32,
    /// The upstream concerned; `None`: every upstream of `asn` (the AS
    /// became unreachable or reachable).
    pub upstream: Option<u32>,
    /// Gained (`true`) or lost.
    pub up: bool,
}

/// The prefixes announced at one moment, with their origins.
#[derive(Debug, Clone, Default)]
pub struct Prefixes {
    nets: Vec<(IpAddr, u8)>,
    /// `origins[off[i]..off[i + 1]]`: origin ASes of prefix `i`.
    off: Vec<u32>,
    origins: Vec<u32>,
}

impl Prefixes {
    /// The prefixes of `routes` live at `t` (the time rule of
    /// [`crate::Hosting`]: `first <= t <= last`, or past `last` when
    /// `last` is the end of that collector's data).
    #[must_use]
    pub fn at(routes: &[RouteSpan], collector_end: &HashMap<String, i64>, t: i64) -> Prefixes {
        let mut live: Vec<((IpAddr, u8), u32)> = routes
            .iter()
            .filter(|r| {
                r.first <= t
                    && (t <= r.last || collector_end.get(&r.collector).copied() == Some(r.last))
            })
            .map(|r| ((r.network, r.len), r.origin))
            .collect();
        live.sort_unstable();
        live.dedup();
        let mut p = Prefixes {
            off: vec![0],
            ..Prefixes::default()
        };
        for (net, origin) in live {
            if p.nets.last() != Some(&net) {
                p.nets.push(net);
                p.off
                    .push(u32::try_from(p.origins.len()).unwrap_or(u32::MAX));
            }
            p.origins.push(origin);
            if let Some(last) = p.off.last_mut() {
                *last = u32::try_from(p.origins.len()).unwrap_or(u32::MAX);
            }
        }
        p
    }

    /// Number of prefixes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The prefixes whose every origin is unreachable after `cut`, as CIDR
    /// text. `dark(asn)` says whether an origin is dark.
    pub fn unreachable(&self, mut dark: impl FnMut(u32) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut memo: HashMap<u32, bool> = HashMap::new();
        for (i, (net, len)) in self.nets.iter().enumerate() {
            let lo = self.off.get(i).copied().unwrap_or(0) as usize;
            let hi = self.off.get(i + 1).copied().unwrap_or(0) as usize;
            let origins = self.origins.get(lo..hi).unwrap_or_default();
            let all_dark = !origins.is_empty()
                && origins
                    .iter()
                    .all(|&o| *memo.entry(o).or_insert_with(|| dark(o)));
            if all_dark {
                out.push(format!("{net}/{len}"));
            }
        }
        out
    }
}

/// The AS graph at `t`: links first seen by `t`, minus provider links
/// lost by `t` (see the module header).
#[must_use]
pub fn graph_at(links: &[TimedLink], events: &[LinkEvent], t: i64) -> AsGraph {
    AsGraph::new(&links_at(links, events, t))
}

/// The links of [`graph_at`].
#[must_use]
pub fn links_at(links: &[TimedLink], events: &[LinkEvent], t: i64) -> Vec<Link> {
    // Latest loss and gain per (customer, upstream) and per whole AS, by `t`.
    let mut lost: HashMap<(u32, Option<u32>), i64> = HashMap::new();
    let mut gained: HashMap<(u32, Option<u32>), i64> = HashMap::new();
    for e in events.iter().filter(|e| e.time <= t) {
        let m = if e.up { &mut gained } else { &mut lost };
        let v = m.entry((e.asn, e.upstream)).or_insert(e.time);
        *v = (*v).max(e.time);
    }
    let live: Vec<Link> = links
        .iter()
        .filter(|l| l.first <= t)
        .filter(|l| {
            if l.link.kind != LinkKind::ProviderOf {
                return true;
            }
            let (provider, customer) = (l.link.a, l.link.b);
            let down = [Some(provider), None]
                .iter()
                .filter_map(|u| lost.get(&(customer, *u)))
                .max()
                .copied();
            let up = [Some(provider), None]
                .iter()
                .filter_map(|u| gained.get(&(customer, *u)))
                .max()
                .copied()
                .unwrap_or(i64::MIN)
                .max(l.first);
            down.is_none_or(|d| d < up)
        })
        .map(|l| l.link)
        .collect();
    live
}

/// One moment, ready for cuts.
#[derive(Debug, Clone)]
pub struct Moment {
    /// The time (Unix µs).
    pub at: i64,
    /// The AS graph then.
    pub graph: AsGraph,
    /// The prefixes announced then.
    pub prefixes: Prefixes,
    /// Reachability with nothing cut.
    pub base: Reach,
}

impl Moment {
    /// Builds the graph and prefix table of `t`.
    #[must_use]
    pub fn new(
        links: &[TimedLink],
        events: &[LinkEvent],
        routes: &[RouteSpan],
        collector_end: &HashMap<String, i64>,
        t: i64,
    ) -> Moment {
        let graph = graph_at(links, events, t);
        let base = graph.reach(&Cut::default());
        Moment {
            at: t,
            prefixes: Prefixes::at(routes, collector_end, t),
            graph,
            base,
        }
    }

    /// Whether `asn` is dark after a cut whose reachability is `after`:
    /// cut by name, or reachable before and not after.
    #[must_use]
    pub fn dark(&self, after: &Reach, cut: &Cut, asn: u32) -> bool {
        if cut.asns.contains(&asn) {
            return true;
        }
        self.graph.contains(asn)
            && self.graph.is_reachable(&self.base, asn, &Cut::default())
            && !self.graph.is_reachable(after, asn, cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosting::parse_cidr;

    fn tl(a: u32, b: u32, first: i64) -> TimedLink {
        TimedLink {
            link: Link {
                a,
                b,
                kind: LinkKind::ProviderOf,
            },
            first,
        }
    }

    #[test]
    fn lost_links_leave_the_graph_until_regained() {
        // 1 and 2 tops; 100 under both; 100 loses 2 at t=10, regains at 30.
        let links = [tl(1, 100, 0), tl(2, 100, 0), tl(3, 200, 20)];
        let ev = [
            LinkEvent {
                time: 10,
                asn: 100,
                upstream: Some(2),
                up: false,
            },
            LinkEvent {
                time: 30,
                asn: 100,
                upstream: Some(2),
                up: true,
            },
        ];
        let cut = Cut {
            asns: vec![1],
            links: vec![],
        };
        let dark_at = |t: i64| {
            let g = graph_at(&links, &ev, t);
            let r = g.reach(&cut);
            !g.is_reachable(&r, 100, &cut)
        };
        assert!(!dark_at(5), "both upstreams then");
        assert!(dark_at(15), "only AS1 left at 15");
        assert!(!dark_at(35));
        // A link first seen later is not in the earlier graph.
        assert!(!graph_at(&links, &ev, 5).contains(200));
        assert!(graph_at(&links, &ev, 25).contains(200));
    }

    #[test]
    fn prefixes_live_at_a_time_and_moas() {
        let span = |p: &str, origin: u32, first: i64, last: i64| {
            let (network, len) = parse_cidr(p).unwrap();
            RouteSpan {
                network,
                len,
                origin,
                first,
                last,
                collector: "c".into(),
            }
        };
        let routes = [
            span("10.0.0.0/8", 1, 0, 100),
            span("10.1.0.0/16", 2, 0, 50),
            span("10.2.0.0/16", 2, 0, 100),
            span("10.2.0.0/16", 3, 0, 100),
        ];
        let end = HashMap::from([("c".to_string(), 100)]);
        let p = Prefixes::at(&routes, &end, 60);
        assert_eq!(p.len(), 2, "10.1/16 ended at 50");
        // AS2 dark: the MOAS prefix stays up through AS3.
        assert!(p.unreachable(|a| a == 2).is_empty());
        assert_eq!(p.unreachable(|a| a == 2 || a == 3), vec!["10.2.0.0/16"]);
        // Past the end of the data: still announced.
        assert_eq!(Prefixes::at(&routes, &end, 500).len(), 2);
    }
}
