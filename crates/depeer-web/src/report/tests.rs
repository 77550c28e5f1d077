//! The whole page with hostile strings in every field of the data.

use std::collections::BTreeMap;

use depeer_ingest::report::{
    Backtest, BotnetLine, CauseMark, EventMark, EvidenceRow, Graph, GraphEdge, GraphNode,
    NamedSeries, NodeKind, RankRow, ReportData, Series, Shares, WhatIf, WhatIfBotnet,
};

use super::*;

const EVIL: &str = "</script><script>alert(1)</script><!--<script>\"'&\u{2028}";

fn hostile() -> ReportData {
    let s = || EVIL.to_string();
    ReportData {
        title: s(),
        at: s(),
        generator: s(),
        spam: Series {
            step_secs: 3600,
            times: vec![0, 3600, 7200],
            values: vec![1.0, 2.0, 0.0],
        },
        events: vec![EventMark {
            time: 3600,
            kind: s(),
            key: Some(s()),
            causes: vec![CauseMark {
                org: Some(s()),
                kind: s(),
                ..CauseMark::default()
            }],
            ..EventMark::default()
        }],
        botnet_shares: Shares {
            step_secs: 3600,
            times: vec![0, 3600],
            keys: vec![NamedSeries {
                name: s(),
                values: vec![0.5, 1.0],
            }],
        },
        botnets: vec![BotnetLine {
            botnet: s(),
            cc: vec![s()],
            ..BotnetLine::default()
        }],
        graph: Graph {
            window_start: 0,
            window_end: 86_400,
            messages: 3,
            nodes: vec![
                GraphNode {
                    label: s(),
                    detail: s(),
                    ..GraphNode::default()
                },
                GraphNode {
                    kind: NodeKind::Hosting,
                    label: s(),
                    detail: s(),
                    ..GraphNode::default()
                },
            ],
            edges: vec![GraphEdge {
                from: 0,
                to: 1,
                ..GraphEdge::default()
            }],
        },
        ranking: Some(vec![RankRow {
            rank: 1,
            asn: 1,
            org: Some(s()),
            score: 1.0,
            features: BTreeMap::from([(s(), 0.5)]),
            evidence: vec![EvidenceRow {
                feature: s(),
                what: s(),
                first_seen: Some(s()),
                last_seen: Some(s()),
            }],
        }]),
        whatif: Some(vec![WhatIf {
            at: s(),
            cut: vec![s()],
            per_botnet: vec![WhatIfBotnet {
                botnet: s(),
                ..WhatIfBotnet::default()
            }],
            ..WhatIf::default()
        }]),
        backtests: Some(vec![Backtest {
            event_time: s(),
            cut: vec![s()],
            ..Backtest::default()
        }]),
    }
}

#[test]
fn hostile_data_cannot_add_markup_or_scripts() {
    let page = render(&hostile()).html;
    let lower = page.to_ascii_lowercase();
    // Our three script elements, and no other.
    assert_eq!(lower.matches("<script").count(), 3, "{page}");
    assert_eq!(lower.matches("</script").count(), 3);
    assert!(!lower.contains("<!--"));
    assert!(!page.contains("alert(1)</"));
    // The JSON parses back to the hostile strings.
    let start = page.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
    let end = start + page.get(start..).unwrap().find("</script>").unwrap();
    let v: serde_json::Value = serde_json::from_str(page.get(start..end).unwrap()).unwrap();
    assert_eq!(v["shares"]["keys"][0]["name"], EVIL);
    assert_eq!(v["events"][0]["kind"], EVIL);
}

#[test]
fn every_section_is_there_and_counted() {
    let r = render(&hostile());
    for id in [
        "spam-chart",
        "shares-chart",
        "data-table=\"events\"",
        "data-table=\"botnets\"",
        "data-table=\"ranking\"",
        "dep-graph",
        "data-table=\"whatif\"",
        "data-table=\"backtests\"",
    ] {
        assert!(r.html.contains(id), "no {id}");
    }
    assert!(!r.html.contains("not available"));
    let rows: Vec<(&str, Option<usize>)> = r.sections.iter().map(|s| (s.name, s.rows)).collect();
    assert_eq!(
        rows,
        [
            ("spam_rate", Some(3)),
            ("events", Some(1)),
            ("botnet_shares", Some(1)),
            ("botnets", Some(1)),
            ("dependency_graph", Some(2)),
            ("ranking", Some(1)),
            ("whatif", Some(1)),
            ("backtests", Some(1)),
        ]
    );
}

#[test]
fn missing_commands_say_they_are_not_built() {
    let d = ReportData {
        ranking: None,
        whatif: None,
        backtests: None,
        ..hostile()
    };
    let r = render(&d);
    for cmd in ["depeer rank", "depeer whatif", "depeer backtest"] {
        let line = format!("not available: <code>{cmd}</code> needs routing data");
        assert!(r.html.contains(&line), "no {line:?}");
    }
    assert!(r.sections.iter().filter(|s| s.rows.is_none()).count() == 3);
}

#[test]
fn the_page_fetches_nothing_and_hashes_its_scripts() {
    let page = render(&ReportData::default()).html;
    // uPlot's licence comment names its home page; the rest must name nothing.
    let lower = page.replace(UPLOT_JS, "").to_ascii_lowercase();
    assert!(!UPLOT_JS.contains("fetch(") && !UPLOT_JS.contains("XMLHttpRequest"));
    for outside in ["src=", "href=", "http://", "https://", "@import", "url("] {
        // The SVG namespace is an identifier, not a request.
        let n = lower.matches(outside).count();
        let ns = lower
            .matches("xmlns=\"http://www.w3.org/2000/svg\"")
            .count();
        let allowed = if outside == "http://" { ns } else { 0 };
        assert!(n <= allowed, "{outside} appears {n} times");
    }
    assert!(page.contains(&csp_hash(UPLOT_JS)));
    assert!(page.contains(&csp_hash(REPORT_JS)));
    assert!(page.contains("default-src 'none'"));
}

#[test]
fn written_atomically_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let w = write_report(&path, &hostile()).unwrap();
    assert_eq!(w.bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let err = write_report(&dir.path().join("no/such/dir/r.html"), &hostile());
    assert!(matches!(err, Err(WebError::Write { .. })));
}
