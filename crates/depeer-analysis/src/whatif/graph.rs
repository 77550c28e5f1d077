//! The AS graph of one moment, indexed once, and reachability after a
//! cut as one linear pass over it.
//!
//! Reachability is valley-free in the Gao-Rexford sense: an AS can be
//! reached from the whole Internet while it has a chain of providers up
//! to the top of the hierarchy (an AS with no provider that has peers or
//! customers: the tier-1 clique, or the top of an island) that avoids
//! every cut AS and every cut link. A peer link carries no transit, so an
//! AS whose providers are all gone is dark even if it still peers with
//! someone; an AS with a second provider stays up. Siblings (one
//! organisation) give each other transit both ways.
//!
//! The graph is stored as compressed adjacency (customers of each AS in
//! one array), so a cut costs one breadth-first pass from the tops down
//! the provider-to-customer edges: O(ASes + links), with no allocation
//! besides the answer.

use std::collections::HashMap;

/// What a link is, seen from its first AS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `a` provides transit to `b` (`b` is `a`'s customer).
    ProviderOf,
    /// Settlement-free peers: no transit either way.
    Peer,
    /// One organisation: transit both ways.
    Sibling,
}

/// One link of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The first AS.
    pub a: u32,
    /// The second AS.
    pub b: u32,
    /// What `b` is to `a`: see [`LinkKind`].
    pub kind: LinkKind,
}

/// What to cut: whole ASes and single links (either direction).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cut {
    /// ASes cut off entirely (their own prefixes go dark).
    pub asns: Vec<u32>,
    /// Links taken down, `(a, b)` in any order.
    pub links: Vec<(u32, u32)>,
}

/// The AS graph, indexed for cuts.
#[derive(Debug, Clone, Default)]
pub struct AsGraph {
    /// AS number of each node.
    asns: Vec<u32>,
    index: HashMap<u32, u32>,
    /// `down[down_off[i]..down_off[i + 1]]`: the nodes node `i` gives
    /// transit to (its customers and siblings).
    down_off: Vec<u32>,
    down: Vec<u32>,
    /// Nodes at the top: no provider, at least one peer or customer.
    tops: Vec<u32>,
    links: usize,
}

/// The answer of one cut: which ASes of the graph are still reachable.
#[derive(Debug, Clone)]
pub struct Reach {
    reachable: Vec<bool>,
    cut: Vec<bool>,
}

impl AsGraph {
    /// Indexes `links` (duplicates allowed; a self-link is ignored).
    #[must_use]
    pub fn new(links: &[Link]) -> AsGraph {
        let mut g = AsGraph::default();
        let node = |g: &mut AsGraph, asn: u32| -> u32 {
            let next = u32::try_from(g.asns.len()).unwrap_or(u32::MAX);
            *g.index.entry(asn).or_insert_with(|| {
                g.asns.push(asn);
                next
            })
        };
        // (from, to) transit edges; nodes with a provider; nodes with any link.
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(links.len());
        let mut has_provider = Vec::new();
        for l in links {
            if l.a == l.b {
                continue;
            }
            let (a, b) = (node(&mut g, l.a), node(&mut g, l.b));
            has_provider.resize(g.asns.len(), false);
            match l.kind {
                LinkKind::ProviderOf => {
                    edges.push((a, b));
                    set(&mut has_provider, b);
                }
                LinkKind::Sibling => {
                    edges.push((a, b));
                    edges.push((b, a));
                }
                LinkKind::Peer => {}
            }
            g.links += 1;
        }
        has_provider.resize(g.asns.len(), false);
        edges.sort_unstable();
        edges.dedup();
        // Siblings give transit but do not make a provider: a pair of
        // siblings with no provider above them is a top.
        let n = g.asns.len();
        g.down_off = vec![0; n + 1];
        for &(a, _) in &edges {
            if let Some(c) = g.down_off.get_mut(a as usize + 1) {
                *c += 1;
            }
        }
        for i in 0..n {
            let prev = g.down_off.get(i).copied().unwrap_or(0);
            if let Some(c) = g.down_off.get_mut(i + 1) {
                *c += prev;
            }
        }
        g.down = edges.iter().map(|&(_, b)| b).collect();
        g.tops = (0..n)
            .filter(|&i| !has_provider.get(i).copied().unwrap_or(false))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        g
    }

    /// Number of ASes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.asns.len()
    }

    /// Whether the graph has no AS.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// Number of links given (after dropping self-links).
    #[must_use]
    pub fn link_count(&self) -> usize {
        self.links
    }

    /// The ASes at the top (no provider), ascending.
    #[must_use]
    pub fn tops(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .tops
            .iter()
            .filter_map(|&i| self.asns.get(i as usize).copied())
            .collect();
        v.sort_unstable();
        v
    }

    /// Whether `asn` is in the graph.
    #[must_use]
    pub fn contains(&self, asn: u32) -> bool {
        self.index.contains_key(&asn)
    }

    fn down_of(&self, i: u32) -> &[u32] {
        let lo = self.down_off.get(i as usize).copied().unwrap_or(0) as usize;
        let hi = self.down_off.get(i as usize + 1).copied().unwrap_or(0) as usize;
        self.down.get(lo..hi).unwrap_or_default()
    }

    /// Reachability after `cut`: one breadth-first pass from the tops that
    /// are not cut, down the transit edges that are not cut, into ASes that
    /// are not cut.
    #[must_use]
    pub fn reach(&self, cut: &Cut) -> Reach {
        let n = self.asns.len();
        let mut is_cut = vec![false; n];
        for a in &cut.asns {
            if let Some(&i) = self.index.get(a) {
                set(&mut is_cut, i);
            }
        }
        let mut cut_links: Vec<(u32, u32)> = cut
            .links
            .iter()
            .filter_map(|(a, b)| Some((*self.index.get(a)?, *self.index.get(b)?)))
            .flat_map(|(a, b)| [(a, b), (b, a)])
            .collect();
        cut_links.sort_unstable();
        let mut reachable = vec![false; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        for &t in &self.tops {
            if !get(&is_cut, t) {
                set(&mut reachable, t);
                queue.push(t);
            }
        }
        let mut head = 0;
        while let Some(&a) = queue.get(head) {
            head += 1;
            for &b in self.down_of(a) {
                if get(&reachable, b) || get(&is_cut, b) {
                    continue;
                }
                if !cut_links.is_empty() && cut_links.binary_search(&(a, b)).is_ok() {
                    continue;
                }
                set(&mut reachable, b);
                queue.push(b);
            }
        }
        Reach {
            reachable,
            cut: is_cut,
        }
    }

    /// The ASes that are dark after the cut but were reachable before it,
    /// ascending; `before` is [`AsGraph::reach`] of an empty cut.
    #[must_use]
    pub fn newly_dark(&self, before: &Reach, after: &Reach) -> Vec<u32> {
        let mut v: Vec<u32> = (0..self.asns.len())
            .filter(|&i| {
                before.reachable.get(i).copied().unwrap_or(false)
                    && !after.reachable.get(i).copied().unwrap_or(false)
            })
            .filter_map(|i| self.asns.get(i).copied())
            .collect();
        v.sort_unstable();
        v
    }

    /// Whether `asn` can be reached in `reach`. An AS the graph does not
    /// know (no link seen) is reachable unless it was cut by name.
    #[must_use]
    pub fn is_reachable(&self, reach: &Reach, asn: u32, cut: &Cut) -> bool {
        match self.index.get(&asn) {
            Some(&i) => get(&reach.reachable, i),
            None => !cut.asns.contains(&asn),
        }
    }

    /// Whether `asn` was cut by name in `reach`.
    #[must_use]
    pub fn was_cut(&self, reach: &Reach, asn: u32) -> bool {
        self.index.get(&asn).is_some_and(|&i| get(&reach.cut, i))
    }
}

impl Reach {
    /// Number of reachable ASes.
    #[must_use]
    pub fn reachable_count(&self) -> usize {
        self.reachable.iter().filter(|r| **r).count()
    }
}

fn get(v: &[bool], i: u32) -> bool {
    v.get(i as usize).copied().unwrap_or(false)
}

fn set(v: &mut [bool], i: u32) {
    if let Some(x) = v.get_mut(i as usize) {
        *x = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: u32, b: u32) -> Link {
        Link {
            a,
            b,
            kind: LinkKind::ProviderOf,
        }
    }

    fn peer(a: u32, b: u32) -> Link {
        Link {
            a,
            b,
            kind: LinkKind::Peer,
        }
    }

    /// Tier-1s 1 and 2 peer; transits 10 (under 1) and 20 (under 2);
    /// hoster 100 multihomed under 10 and 20; hoster 200 single-homed
    /// under 10, with its own customer 201; 300 peers with 10 only
    /// besides its single provider 20.
    fn world() -> AsGraph {
        AsGraph::new(&[
            peer(1, 2),
            p(1, 10),
            p(2, 20),
            p(10, 100),
            p(20, 100),
            p(10, 200),
            p(200, 201),
            p(20, 300),
            peer(10, 300),
        ])
    }

    fn dark(g: &AsGraph, cut: &Cut) -> Vec<u32> {
        let before = g.reach(&Cut::default());
        g.newly_dark(&before, &g.reach(cut))
    }

    #[test]
    fn nothing_cut_everything_reachable() {
        let g = world();
        assert_eq!(g.reach(&Cut::default()).reachable_count(), g.len());
        assert_eq!(g.len(), 8);
    }

    #[test]
    fn a_multihomed_as_stays_up_a_customer_behind_the_cut_goes_dark() {
        let g = world();
        let cut = Cut {
            asns: vec![10],
            links: vec![],
        };
        // 100 keeps 20; 200 and its customer 201 lose their only chain.
        assert_eq!(dark(&g, &cut), vec![10, 200, 201]);
        let r = g.reach(&cut);
        assert!(g.is_reachable(&r, 100, &cut));
        assert!(!g.is_reachable(&r, 201, &cut));
        assert!(g.was_cut(&r, 10) && !g.was_cut(&r, 200));
    }

    #[test]
    fn a_peer_link_gives_no_transit() {
        let g = world();
        // 300 still peers with 10 but has lost its only provider.
        let cut = Cut {
            asns: vec![20],
            links: vec![],
        };
        assert_eq!(dark(&g, &cut), vec![20, 300]);
    }

    #[test]
    fn cutting_a_link_either_way_round() {
        let g = world();
        for link in [(10, 200), (200, 10)] {
            let cut = Cut {
                asns: vec![],
                links: vec![link],
            };
            assert_eq!(dark(&g, &cut), vec![200, 201]);
        }
        // One of two upstream links: nothing goes dark.
        let cut = Cut {
            asns: vec![],
            links: vec![(10, 100)],
        };
        assert!(dark(&g, &cut).is_empty());
        // Both: the hoster goes dark, its upstreams do not.
        let cut = Cut {
            asns: vec![],
            links: vec![(10, 100), (100, 20)],
        };
        assert_eq!(dark(&g, &cut), vec![100]);
    }

    #[test]
    fn cutting_a_top_keeps_its_multihomed_cone() {
        let g = world();
        let cut = Cut {
            asns: vec![1],
            links: vec![],
        };
        // 10 hangs under 1 only: it and its single-homed cone fall; 100 has 20.
        assert_eq!(dark(&g, &cut), vec![1, 10, 200, 201]);
    }

    #[test]
    fn siblings_carry_each_other_and_unknown_ases_are_up() {
        let g = AsGraph::new(&[
            p(1, 5),
            Link {
                a: 5,
                b: 6,
                kind: LinkKind::Sibling,
            },
            p(2, 6),
            p(1, 1),
        ]);
        let cut = Cut {
            asns: vec![1],
            links: vec![],
        };
        let r = g.reach(&cut);
        assert!(g.is_reachable(&r, 5, &cut), "via sibling 6 under 2");
        assert!(g.is_reachable(&r, 999, &cut));
        assert!(!g.is_reachable(&r, 1, &cut));
        let r = g.reach(&Cut {
            asns: vec![999],
            links: vec![],
        });
        assert!(!g.is_reachable(
            &r,
            999,
            &Cut {
                asns: vec![999],
                links: vec![]
            }
        ));
    }

    #[test]
    fn a_provider_cycle_does_not_hang() {
        // Inference errors can make cycles; the pass visits each AS once.
        let g = AsGraph::new(&[p(1, 2), p(2, 3), p(3, 2), peer(1, 9)]);
        let cut = Cut {
            asns: vec![1],
            links: vec![],
        };
        assert_eq!(dark(&g, &cut), vec![1, 2, 3]);
    }
}
