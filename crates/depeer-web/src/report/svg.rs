//! The dependency graph as server-side SVG: three columns (botnets, the
//! networks hosting their C&C servers and sites, those networks'
//! upstreams), edges as curves whose width follows the share of spam that
//! depends on them. Drawn here rather than with a graph library in the
//! browser because the layout is fixed by the columns and Cytoscape.js,
//! the maintained candidate, is 443 KB minified against uPlot's 51 KB
//! (assets/README.md); SVG also prints and shows without JavaScript.

use std::fmt::Write;

use depeer_ingest::report::{EdgeKind, Graph, NodeKind};

use super::escape::{clip, html};

const WIDTH: f64 = 960.0;
const ROW: f64 = 38.0;
const TOP: f64 = 34.0;
const BOX_W: f64 = 250.0;
const BOX_H: f64 = 26.0;
/// Characters of a label shown in a box (the full text is in its tooltip).
const LABEL_CHARS: usize = 26;

fn column(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Botnet => 0,
        NodeKind::Hosting | NodeKind::Unrouted => 1,
        NodeKind::Upstream => 2,
    }
}

fn column_x(col: usize) -> f64 {
    // Columns at 0, 355, 710: a box is 250 wide, the rest is for curves.
    10.0 + col as f64 * (WIDTH - 20.0 - BOX_W) / 2.0
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Botnet => "botnet",
        NodeKind::Hosting => "hosting",
        NodeKind::Unrouted => "unrouted",
        NodeKind::Upstream => "upstream",
    }
}

fn edge_name(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Cc => "cc",
        EdgeKind::Site => "site",
        EdgeKind::Upstream => "upstream",
    }
}

/// The graph's `<svg>` element (or a paragraph saying it is empty).
pub(crate) fn graph(g: &Graph) -> String {
    if g.nodes.is_empty() {
        return "<p class=\"empty\" id=\"dep-graph-empty\">No botnet had C&amp;C servers or advertised sites in a routed network in this window.</p>\n".to_string();
    }
    // (x, y) of each node's box, column by column in the graph's order.
    let mut rows = [0usize; 3];
    let mut pos = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let col = column(n.kind);
        let row = rows.get(col).copied().unwrap_or(0);
        if let Some(r) = rows.get_mut(col) {
            *r += 1;
        }
        pos.push((column_x(col), TOP + row as f64 * ROW));
    }
    let height = TOP + rows.iter().copied().max().unwrap_or(0) as f64 * ROW + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg id=\"dep-graph\" class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" aria-label=\"dependency graph\" data-node-count=\"{}\" data-edge-count=\"{}\">",
        g.nodes.len(),
        g.edges.len()
    );
    for (col, title) in [
        "botnets",
        "hosting networks (C&amp;C, sites)",
        "their upstreams",
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(
            s,
            "<text class=\"col-title\" x=\"{:.0}\" y=\"16\">{title}</text>",
            column_x(col)
        );
    }
    for e in &g.edges {
        let (Some(a), Some(b)) = (pos.get(e.from), pos.get(e.to)) else {
            continue;
        };
        let (x1, y1) = (a.0 + BOX_W, a.1 + BOX_H / 2.0);
        let (x2, y2) = (b.0, b.1 + BOX_H / 2.0);
        let mid = (x1 + x2) / 2.0;
        let width = 1.0 + 14.0 * e.share.clamp(0.0, 1.0);
        let share = if e.kind == EdgeKind::Upstream {
            String::new()
        } else {
            format!(": {:.1} % of the spam", 100.0 * e.share)
        };
        let _ = writeln!(
            s,
            "<path class=\"edge edge-{k}\" d=\"M{x1:.1} {y1:.1} C{mid:.1} {y1:.1} {mid:.1} {y2:.1} {x2:.1} {y2:.1}\" stroke-width=\"{width:.1}\"><title>{k}{share}</title></path>",
            k = edge_name(e.kind),
        );
    }
    for (n, (x, y)) in g.nodes.iter().zip(&pos) {
        let share = if n.share > 0.0 {
            format!(" ({:.1} %)", 100.0 * n.share)
        } else {
            String::new()
        };
        let label = html(&clip(&n.label, LABEL_CHARS));
        let tip = if n.detail.is_empty() {
            html(&n.label)
        } else {
            format!("{}: {}", html(&n.label), html(&n.detail))
        };
        let asn = n
            .asn
            .map(|a| format!(" data-asn=\"{a}\""))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "<g class=\"node node-{k}\"{asn}><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"5\"/><text x=\"{:.1}\" y=\"{:.1}\">{label}{share}</text><title>{tip}</title></g>",
            x + 8.0,
            y + 17.0,
            k = kind_name(n.kind),
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use depeer_ingest::report::{GraphEdge, GraphNode};

    #[test]
    fn hostile_labels_stay_text() {
        let node = |kind, label: &str| GraphNode {
            kind,
            asn: Some(1),
            label: label.to_string(),
            share: 0.5,
            detail: "C&C </title><script>alert(1)</script>".to_string(),
        };
        let g = Graph {
            nodes: vec![
                node(NodeKind::Botnet, "<script>alert(1)</script>"),
                node(NodeKind::Hosting, "AS1 \"><svg onload=alert(1)>"),
            ],
            edges: vec![GraphEdge {
                from: 0,
                to: 1,
                kind: EdgeKind::Cc,
                share: 0.5,
            }],
            ..Graph::default()
        };
        let svg = graph(&g);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<svg onload"), "{svg}");
        assert!(!svg.contains("\"><svg"), "{svg}");
        assert!(!svg.contains("</title><script"), "{svg}");
        assert_eq!(svg.matches("<g class=\"node").count(), 2);
        assert_eq!(svg.matches("<path class=\"edge").count(), 1);
        assert!(svg.contains("data-node-count=\"2\""));
    }

    #[test]
    fn an_edge_to_a_missing_node_is_left_out() {
        let g = Graph {
            nodes: vec![GraphNode::default()],
            edges: vec![GraphEdge {
                from: 0,
                to: 9,
                ..GraphEdge::default()
            }],
            ..Graph::default()
        };
        assert_eq!(graph(&g).matches("<path").count(), 0);
    }
}
