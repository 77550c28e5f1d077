//! The report's dependency graph: one window's [`WindowGraph`] cut down to
//! the networks that matter most (the ones given, else the ones most of
//! the spam depends on through C&C, then sites), the botnets that depend
//! on them and their upstreams. Pure.

use std::collections::{BTreeMap, BTreeSet};

use depeer_analysis::{DependencyKind, Hosting, WindowGraph};

use super::{EdgeKind, Graph, GraphEdge, GraphNode, NodeKind};

/// Botnet key of the messages without a botnet.
const UNKNOWN: &str = "unknown";

fn as_label(asn: u32, hosting: &Hosting) -> String {
    match hosting.org(asn) {
        Some(org) => format!("AS{asn} {org}"),
        None => format!("AS{asn}"),
    }
}

/// The graph around `focus` (or the `top` networks most spam depends on).
pub(crate) fn around(g: &WindowGraph, hosting: &Hosting, focus: &[u32], top: usize) -> Graph {
    let networks: Vec<u32> = if focus.is_empty() {
        g.asns()
            .into_iter()
            .filter(|(_, cc, site)| cc + site > 0)
            .take(top)
            .map(|(a, _, _)| a)
            .collect()
    } else {
        focus.to_vec()
    };
    let share = |m: u64| {
        if g.messages == 0 {
            0.0
        } else {
            m as f64 / g.messages as f64
        }
    };
    let botnet_share = |b: &str| share(g.per_botnet.get(b).copied().unwrap_or(0));
    // (botnet, network index or None for unrouted, kind) -> share
    let mut links: BTreeMap<(String, Option<usize>, EdgeKind), f64> = BTreeMap::new();
    let mut upstreams: BTreeMap<usize, BTreeSet<u32>> = BTreeMap::new();
    let mut detail: BTreeMap<Option<usize>, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for d in &g.dependencies {
        let botnet = d.botnet.clone().unwrap_or_else(|| UNKNOWN.to_string());
        let kind = match d.kind {
            DependencyKind::Cc => EdgeKind::Cc,
            DependencyKind::Site => EdgeKind::Site,
        };
        let targets: Vec<Option<usize>> = match &d.placement {
            Some(p) => p
                .origins
                .iter()
                .filter_map(|o| networks.iter().position(|n| n == o))
                .map(Some)
                .collect(),
            // Unrouted C&C servers are what a cut leaves behind: shown;
            // unrouted sites are too many to be telling.
            None if kind == EdgeKind::Cc => vec![None],
            None => Vec::new(),
        };
        for t in targets {
            let e = links.entry((botnet.clone(), t, kind)).or_insert(0.0);
            *e = match kind {
                // Every message of the botnet depends on its C&C.
                EdgeKind::Cc => botnet_share(&botnet),
                _ => (*e + d.share).min(botnet_share(&botnet).max(d.share)),
            };
            let det = detail.entry(t).or_default();
            match kind {
                EdgeKind::Cc => det.0.insert(d.indicator.as_str()),
                _ => det.1.insert(d.indicator.as_str()),
            };
            if let Some(i) = t {
                upstreams.entry(i).or_default().extend(&d.upstreams);
            }
        }
    }
    let mut out = Graph {
        window_start: g.window.start.div_euclid(1_000_000),
        window_end: g.window.end.div_euclid(1_000_000),
        messages: g.messages,
        ..Graph::default()
    };
    // Botnets, largest share first.
    let mut botnets: Vec<&str> = links.keys().map(|(b, _, _)| b.as_str()).collect();
    botnets.sort_unstable();
    botnets.dedup();
    botnets.sort_by(|a, b| botnet_share(b).total_cmp(&botnet_share(a)).then(a.cmp(b)));
    for b in &botnets {
        out.nodes.push(GraphNode {
            kind: NodeKind::Botnet,
            asn: None,
            label: (*b).to_string(),
            share: botnet_share(b),
            detail: format!("{} messages", g.per_botnet.get(*b).copied().unwrap_or(0)),
        });
    }
    let describe = |t: Option<usize>| {
        let (cc, sites) = detail.get(&t).cloned().unwrap_or_default();
        let mut parts = Vec::new();
        if !cc.is_empty() {
            parts.push(format!("C&C {}", list(&cc)));
        }
        if !sites.is_empty() {
            parts.push(format!("sites {}", list(&sites)));
        }
        parts.join("; ")
    };
    let mut node_of: BTreeMap<Option<usize>, usize> = BTreeMap::new();
    for (i, asn) in networks.iter().enumerate() {
        let dep = g.for_asn(*asn);
        node_of.insert(Some(i), out.nodes.len());
        out.nodes.push(GraphNode {
            kind: NodeKind::Hosting,
            asn: Some(*asn),
            label: as_label(*asn, hosting),
            share: dep.cc_share.max(dep.site_share),
            detail: describe(Some(i)),
        });
    }
    if links.keys().any(|(_, t, _)| t.is_none()) {
        node_of.insert(None, out.nodes.len());
        out.nodes.push(GraphNode {
            kind: NodeKind::Unrouted,
            asn: None,
            label: "not routed".to_string(),
            share: 0.0,
            detail: describe(None),
        });
    }
    for ((b, t, kind), s) in &links {
        let (Some(from), Some(to)) = (
            botnets.iter().position(|x| *x == b.as_str()),
            node_of.get(t).copied(),
        ) else {
            continue;
        };
        out.edges.push(GraphEdge {
            from,
            to,
            kind: *kind,
            share: *s,
        });
    }
    let mut upstream_node: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, ups) in &upstreams {
        let Some(from) = node_of.get(&Some(*i)).copied() else {
            continue;
        };
        for up in ups {
            let to = *upstream_node.entry(*up).or_insert_with(|| {
                out.nodes.push(GraphNode {
                    kind: NodeKind::Upstream,
                    asn: Some(*up),
                    label: as_label(*up, hosting),
                    share: 0.0,
                    detail: String::new(),
                });
                out.nodes.len() - 1
            });
            out.edges.push(GraphEdge {
                from,
                to,
                kind: EdgeKind::Upstream,
                share: 0.0,
            });
        }
    }
    out
}

/// The first few of a set, and how many more.
fn list(items: &BTreeSet<&str>) -> String {
    const SHOWN: usize = 4;
    let mut s: Vec<&str> = items.iter().take(SHOWN).copied().collect();
    let more = items.len().saturating_sub(SHOWN);
    let more = (more > 0).then(|| format!("+{more} more"));
    s.extend(more.as_deref());
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use depeer_analysis::{DependencyInput, RouteSpan, UpstreamSpan, Window};
    use std::collections::HashMap;

    const H: i64 = 3_600_000_000;

    fn hosting() -> Hosting {
        let span = |p: &str, origin: u32| RouteSpan::of_cidr(p, origin, (0, 100 * H), "c").unwrap();
        Hosting::new(
            vec![span("10.0.0.0/16", 100), span("20.0.0.0/16", 200)],
            vec![UpstreamSpan {
                asn: 100,
                provider: 7,
                first: 0,
                last: 100 * H,
            }],
            HashMap::from([(100, "Rogue <b>Hosting</b>".to_string())]),
        )
    }

    #[test]
    fn botnets_networks_upstreams_and_the_unrouted() {
        let mut input = DependencyInput::new(Window {
            start: 0,
            end: 10 * H,
        });
        input.add_cc("10.0.0.1".parse().unwrap(), "alpha", None, None);
        input.add_cc("30.0.0.1".parse().unwrap(), "beta", None, None);
        input.add_cc("20.0.0.1".parse().unwrap(), "gamma", None, None);
        for i in 0..6 {
            input.add_message(i * H, Some("alpha"), None, &[]);
        }
        for i in 0..3 {
            input.add_message(i * H, Some("beta"), None, &[]);
        }
        input.add_message(H, Some("gamma"), None, &[]);
        let g = input.build(&hosting());
        let out = around(&g, &hosting(), &[], 1);
        let labels: Vec<&str> = out.nodes.iter().map(|n| n.label.as_str()).collect();
        // Only the top network (AS100, 60 %), its upstream, the unrouted
        // C&C of beta; gamma's network is not in the top 1.
        assert_eq!(
            labels,
            [
                "alpha",
                "beta",
                "AS100 Rogue <b>Hosting</b>",
                "not routed",
                "AS7"
            ]
        );
        assert_eq!(out.messages, 10);
        let alpha = out.nodes.first().unwrap();
        assert!((alpha.share - 0.6).abs() < 1e-9);
        let kinds: Vec<(usize, usize, EdgeKind)> =
            out.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                (0, 2, EdgeKind::Cc),
                (1, 3, EdgeKind::Cc),
                (2, 4, EdgeKind::Upstream)
            ]
        );
        assert!(out.nodes.get(2).unwrap().detail.contains("10.0.0.1"));
        // A given focus wins over the top networks.
        let focused = around(&g, &hosting(), &[200], 5);
        assert!(focused.nodes.iter().any(|n| n.label == "AS200"));
        assert!(!focused.nodes.iter().any(|n| n.asn == Some(100)));
    }
}
