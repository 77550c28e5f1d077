//! The report's tables as HTML: volume events with their causes, the
//! botnets of the window, the ranking with its evidence, what-if and
//! backtest. Every cell from the data goes through [`html`]; a section
//! whose command could not answer (no routing data) says so instead of
//! showing a table.

use std::fmt::Write;

use depeer_ingest::report::{Backtest, BotnetLine, EventMark, RankRow, WhatIf};

use super::escape::{clip, html};
use super::time_text;

/// Characters of an evidence line shown (the rest is cut with an ellipsis).
const EVIDENCE_CHARS: usize = 200;
/// Evidence lines shown per ranked network.
const EVIDENCE_ROWS: usize = 20;

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn signed_pct(x: f64) -> String {
    format!("{:+.1} %", 100.0 * x)
}

fn org(o: Option<&str>) -> String {
    html(o.unwrap_or("-"))
}

/// `<table>` with `head` columns and `rows` (already escaped cells); an
/// empty table says `empty` in one row.
fn table(id: &str, head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    let mut s = format!("<table class=\"data\" id=\"{id}\" data-table=\"{id}\">\n<thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "<tr class=\"empty\"><td colspan=\"{}\">{empty}</td></tr>",
            head.len()
        );
    }
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// A paragraph for a section whose command could not answer.
pub(crate) fn not_built(command: &str) -> String {
    format!(
        "<p class=\"not-built\">not available: <code>{command}</code> needs routing data (depeer ingest mrt)</p>\n"
    )
}

pub(crate) fn events(events: &[EventMark]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let causes: Vec<String> = e
                .causes
                .iter()
                .map(|c| {
                    format!(
                        "AS{} {}: {} at {} explains {}",
                        c.asn,
                        org(c.org.as_deref()),
                        html(&c.kind),
                        time_text(c.time),
                        pct(c.explains)
                    )
                })
                .collect();
            vec![
                time_text(e.time),
                html(e.key.as_deref().unwrap_or("all spam")),
                html(&e.kind),
                format!(
                    "{} [{}, {}]",
                    signed_pct(e.magnitude),
                    signed_pct(e.low),
                    signed_pct(e.high)
                ),
                format!("{:.2}", e.confidence),
                if causes.is_empty() {
                    "no routing event of the two hours before explains it".to_string()
                } else {
                    causes.join("<br>")
                },
            ]
        })
        .collect();
    table(
        "events",
        &[
            "time",
            "series",
            "kind",
            "change (95 % interval)",
            "confidence",
            "routing causes",
        ],
        &rows,
        "no drop or rise found",
    )
}

pub(crate) fn botnets(botnets: &[BotnetLine]) -> String {
    let rows: Vec<Vec<String>> = botnets
        .iter()
        .map(|b| {
            let cc: Vec<String> = b.cc.iter().map(|c| html(&clip(c, 120))).collect();
            vec![
                html(&b.botnet),
                b.messages.to_string(),
                pct(b.share),
                b.bots_estimate.to_string(),
                if cc.is_empty() {
                    "none listed".to_string()
                } else {
                    cc.join("<br>")
                },
            ]
        })
        .collect();
    table(
        "botnets",
        &[
            "botnet",
            "messages",
            "share",
            "bots (estimate)",
            "C&amp;C servers (AS, organisation)",
        ],
        &rows,
        "no attributed messages in this window",
    )
}

pub(crate) fn ranking(rank: &[RankRow]) -> String {
    let rows: Vec<Vec<String>> = rank
        .iter()
        .map(|r| {
            let features: Vec<String> = r
                .features
                .iter()
                .map(|(k, v)| format!("{} {v:.3}", html(k)))
                .collect();
            let mut evidence = String::new();
            if !r.evidence.is_empty() {
                let _ = write!(
                    evidence,
                    "<details><summary>{} rows</summary><ul>",
                    r.evidence.len()
                );
                for e in r.evidence.iter().take(EVIDENCE_ROWS) {
                    let _ = write!(
                        evidence,
                        "<li>{}: {} ({} .. {})</li>",
                        html(&e.feature),
                        html(&clip(&e.what, EVIDENCE_CHARS)),
                        html(e.first_seen.as_deref().unwrap_or("?")),
                        html(e.last_seen.as_deref().unwrap_or("?"))
                    );
                }
                evidence.push_str("</ul></details>");
            }
            vec![
                r.rank.to_string(),
                format!("AS{}", r.asn),
                org(r.org.as_deref()),
                format!("{:.3}", r.score),
                features.join("<br>"),
                evidence,
            ]
        })
        .collect();
    table(
        "ranking",
        &[
            "rank",
            "AS",
            "organisation",
            "score",
            "features",
            "evidence",
        ],
        &rows,
        "no network ranked",
    )
}

pub(crate) fn whatif(w: &[WhatIf]) -> String {
    let rows: Vec<Vec<String>> = w
        .iter()
        .map(|w| {
            let per: Vec<String> = w
                .per_botnet
                .iter()
                .map(|b| {
                    format!(
                        "{} (share {}): {}",
                        html(&b.botnet),
                        pct(b.share),
                        pct(b.predicted_drop)
                    )
                })
                .collect();
            vec![
                html(&w.at),
                html(&w.cut.join(", ")),
                format!(
                    "{} [{}, {}]",
                    pct(w.predicted_drop),
                    pct(w.low),
                    pct(w.high)
                ),
                per.join("<br>"),
            ]
        })
        .collect();
    table(
        "whatif",
        &["at", "cut", "predicted drop (interval)", "per botnet"],
        &rows,
        "no what-if asked",
    )
}

pub(crate) fn backtests(b: &[Backtest]) -> String {
    let rows: Vec<Vec<String>> = b
        .iter()
        .map(|b| {
            vec![
                html(&b.event_time),
                html(&b.cut.join(", ")),
                format!(
                    "{} [{}, {}]",
                    pct(b.predicted_drop),
                    pct(b.low),
                    pct(b.high)
                ),
                pct(b.observed_drop),
                format!(
                    "{:+.1} points",
                    100.0 * (b.predicted_drop - b.observed_drop)
                ),
            ]
        })
        .collect();
    table(
        "backtests",
        &[
            "event",
            "cut",
            "predicted drop (interval)",
            "observed drop",
            "error",
        ],
        &rows,
        "no drop event with a routing cause",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use depeer_ingest::report::{CauseMark, EvidenceRow};

    const EVIL: &str = "</td></tr></table><script>alert(1)</script>";

    #[test]
    fn hostile_cells_are_escaped() {
        let r = RankRow {
            rank: 1,
            asn: 7,
            org: Some(EVIL.into()),
            score: 0.9,
            features: [(EVIL.to_string(), 1.0)].into(),
            evidence: vec![EvidenceRow {
                feature: EVIL.into(),
                what: EVIL.into(),
                first_seen: Some(EVIL.into()),
                last_seen: None,
            }],
        };
        let e = EventMark {
            key: Some(EVIL.into()),
            kind: EVIL.into(),
            causes: vec![CauseMark {
                org: Some(EVIL.into()),
                kind: EVIL.into(),
                ..CauseMark::default()
            }],
            ..EventMark::default()
        };
        let b = BotnetLine {
            botnet: EVIL.into(),
            cc: vec![EVIL.into()],
            ..BotnetLine::default()
        };
        let w = WhatIf {
            at: EVIL.into(),
            cut: vec![EVIL.into()],
            ..WhatIf::default()
        };
        for html in [ranking(&[r]), events(&[e]), botnets(&[b]), whatif(&[w])] {
            assert!(!html.contains("<script"), "{html}");
            assert_eq!(html.matches("</table>").count(), 1, "{html}");
            assert_eq!(html.matches("<td").count(), html.matches("</td>").count());
        }
    }

    #[test]
    fn an_empty_table_says_so() {
        let t = backtests(&[]);
        assert!(t.contains("no drop event with a routing cause"));
        assert!(t.contains("class=\"empty\""));
    }
}
