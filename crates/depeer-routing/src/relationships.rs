//! AS business relationships: a simplified Gao (2001) inference from AS
//! paths, or CAIDA's `as-rel` files when given.
//!
//! The inference (documented in docs/routing.md):
//!
//! 1. the degree of an AS is its number of distinct neighbours over all
//!    paths;
//! 2. in every path (prepending removed, cut at the first AS_SET) the AS
//!    with the highest degree is the top: links before it (towards the
//!    collector) go downhill towards the collector, links after it go
//!    downhill towards the origin, so each link gets a provider->customer
//!    vote;
//! 3. a link voted both ways more than once each is a sibling link; else
//!    the majority wins;
//! 4. a link whose every vote came from the top of a path, between ASes
//!    whose degrees differ by less than a factor `R = 60`, is a peering
//!    link (Gao's phase 3);
//! 5. but a link that would be a peering link between a stub (an AS never
//!    seen between two others in a path: transit degree 0) and an AS that
//!    gives transit is the stub's link to a provider. Gao's degree ratio
//!    assumes the Internet's scale: a two-homed hoster (degree 2) and a
//!    regional transit of degree 100 differ by less than 60 times, and a
//!    stub's link to its second upstream, seen only from that upstream's
//!    side, would be a peering (so a what-if that cuts its first upstream
//!    darkens it). CAIDA's AS-Rank infers stub-to-clique links as
//!    customer links for the same reason (Luckie et al., IMC 2013). The
//!    cost: a stub's true peerings (a content network at an IXP) become
//!    provider links, so reachability after a cut is overstated there.
//!
//! The map key is `(a, b)` with `a < b`; the value is what `b` is to `a`.

use std::collections::HashMap;
use std::io::BufRead;

use depeer_core::Relationship;

use crate::RoutingError;

const PEER_DEGREE_RATIO: f64 = 60.0;
const SIBLING_VOTES: u32 = 1;

#[derive(Default, Clone, Copy)]
struct Votes {
    /// Votes for "the smaller ASN is the provider".
    low_provides: u32,
    /// Votes for "the larger ASN is the provider".
    high_provides: u32,
    /// Votes cast next to a path's top between ASes of similar degree.
    top_similar: u32,
}

fn key(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// Infers relationships from de-prepended hop sequences (nearest AS first).
pub fn infer_relationships(paths: &[Vec<u32>]) -> HashMap<(u32, u32), Relationship> {
    let mut neighbours: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in paths {
        for w in p.windows(2) {
            if let [a, b] = *w
                && a != b
            {
                neighbours.entry(a).or_default().push(b);
                neighbours.entry(b).or_default().push(a);
            }
        }
    }
    let degree: HashMap<u32, usize> = neighbours
        .into_iter()
        .map(|(a, mut v)| {
            v.sort_unstable();
            v.dedup();
            (a, v.len())
        })
        .collect();
    let deg = |a: u32| degree.get(&a).copied().unwrap_or(0);
    // ASes seen between two others: they give transit to someone.
    let transit: std::collections::HashSet<u32> = paths
        .iter()
        .flat_map(|p| {
            p.windows(3).filter_map(|w| match *w {
                [a, x, b] if a != x && x != b => Some(x),
                _ => None,
            })
        })
        .collect();
    let mut votes: HashMap<(u32, u32), Votes> = HashMap::new();
    for p in paths {
        let Some(top) =
            (0..p.len()).max_by_key(|&i| (p.get(i).map_or(0, |&a| deg(a)), std::cmp::Reverse(i)))
        else {
            continue;
        };
        for (i, w) in p.windows(2).enumerate() {
            let [a, b] = *w else { continue };
            if a == b {
                continue;
            }
            // Before the top: b provides for a; from the top on: a provides for b.
            let provider = if i < top { b } else { a };
            let v = votes.entry(key(a, b)).or_default();
            if provider == a.min(b) {
                v.low_provides += 1;
            } else {
                v.high_provides += 1;
            }
            if i + 1 == top || i == top {
                let (da, db) = (deg(a) as f64, deg(b) as f64);
                if da.max(db) / da.min(db).max(1.0) < PEER_DEGREE_RATIO {
                    v.top_similar += 1;
                }
            }
        }
    }
    // A would-be peering of a stub with an AS that gives transit: the
    // stub's provider link (rule 5).
    let stub_link = |(a, b): (u32, u32)| match (transit.contains(&a), transit.contains(&b)) {
        (true, false) => Some(Relationship::Customer),
        (false, true) => Some(Relationship::Provider),
        _ => None,
    };
    votes
        .into_iter()
        .map(|(k, v)| {
            let total = v.low_provides + v.high_provides;
            let rel = if v.top_similar == total && total > 0 {
                stub_link(k).unwrap_or(Relationship::Peer)
            } else if v.low_provides > SIBLING_VOTES && v.high_provides > SIBLING_VOTES {
                Relationship::Sibling
            } else if v.low_provides > v.high_provides {
                // The smaller ASN (k.0) provides for k.1: k.1 is a customer of k.0.
                Relationship::Customer
            } else if v.high_provides > v.low_provides {
                Relationship::Provider
            } else {
                stub_link(k).unwrap_or(Relationship::Peer)
            };
            (k, rel)
        })
        .collect()
}

/// Reads a CAIDA `as-rel` file (`provider|customer|-1`, `peer|peer|0`,
/// serial-2's extra source column ignored, `#` comments).
pub fn read_as_rel(
    r: impl BufRead,
    path: &str,
) -> Result<HashMap<(u32, u32), Relationship>, RoutingError> {
    let mut out = HashMap::new();
    for (n, line) in r.lines().enumerate() {
        let line = line.map_err(|e| RoutingError::Io {
            path: path.to_string(),
            source: e,
        })?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || RoutingError::BadLine {
            path: path.to_string(),
            line: n as u64 + 1,
            text: line.chars().take(200).collect(),
        };
        let mut f = line.split('|');
        let a: u32 = f
            .next()
            .and_then(|x| x.trim().parse().ok())
            .ok_or_else(bad)?;
        let b: u32 = f
            .next()
            .and_then(|x| x.trim().parse().ok())
            .ok_or_else(bad)?;
        let rel: i32 = f
            .next()
            .and_then(|x| x.trim().parse().ok())
            .ok_or_else(bad)?;
        let what_b_is_to_a = match rel {
            -1 => Relationship::Customer,
            0 => Relationship::Peer,
            1 => Relationship::Sibling,
            _ => return Err(bad()),
        };
        let r = if a < b {
            what_b_is_to_a
        } else {
            invert(what_b_is_to_a)
        };
        out.insert(key(a, b), r);
    }
    Ok(out)
}

/// The same link seen from the other side.
pub fn invert(r: Relationship) -> Relationship {
    match r {
        Relationship::Provider => Relationship::Customer,
        Relationship::Customer => Relationship::Provider,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mccolo_like_paths() {
        // Tier-1s 3356/1239/701 with many customers; 3549 and 6939 transit
        // for 26780 (McColo).
        let mut paths = Vec::new();
        for c in 100..140 {
            paths.push(vec![3356, 1239, c]);
            paths.push(vec![701, 3356, c + 100]);
            paths.push(vec![1239, 701, c + 200]);
        }
        paths.push(vec![3356, 3549, 26780]);
        paths.push(vec![1239, 6939, 26780]);
        paths.push(vec![3549, 26780]);
        for c in 400..410 {
            paths.push(vec![3356, 3549, c]);
        }
        paths.push(vec![1239, 3356, 3549, 26780]);
        let r = infer_relationships(&paths);
        // 3549 is a provider of 26780 (key (3549, 26780): what 26780 is to 3549).
        assert_eq!(r[&(3549, 26780)], Relationship::Customer);
        assert_eq!(r[&(6939, 26780)], Relationship::Customer);
        assert_eq!(r[&(3356, 3549)], Relationship::Customer);
        assert_eq!(r[&(1239, 3356)], Relationship::Peer);
        assert!(r.values().all(|x| *x != Relationship::Unknown));
    }

    #[test]
    fn a_stub_next_to_a_small_transits_top_is_its_customer() {
        // A small world: transit 20 with 30 customers; the two-homed stub
        // 99 is seen from 20's side only as the top's neighbour (degrees
        // 31 and 2: under Gao's 60x), and from 10's side below it.
        let mut paths = Vec::new();
        for c in 100..130 {
            paths.push(vec![20, c]);
            paths.push(vec![10, 20, c]);
        }
        paths.push(vec![20, 99]);
        paths.push(vec![10, 99]);
        paths.push(vec![30, 10, 99]);
        // 10 and 20 are transits that peer (each the other's top).
        let r = infer_relationships(&paths);
        assert_eq!(r[&(20, 99)], Relationship::Customer);
        assert_eq!(r[&(10, 99)], Relationship::Customer);
        // Two ASes that both give transit stay peers.
        assert_eq!(r[&(10, 20)], Relationship::Peer);
    }

    #[test]
    fn caida_as_rel() {
        let text = "# comment\n3549|26780|-1\n1239|701|0|bgp\n26780|64512|-1\n";
        let r = read_as_rel(text.as_bytes(), "x").unwrap();
        assert_eq!(r[&(3549, 26780)], Relationship::Customer);
        assert_eq!(r[&(701, 1239)], Relationship::Peer);
        assert_eq!(r[&(26780, 64512)], Relationship::Customer);
        assert!(read_as_rel("1|2|7\n".as_bytes(), "x").is_err());
    }
}
