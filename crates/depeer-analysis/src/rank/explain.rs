//! Why a network ranks where it does: each feature of its row with the
//! evidence rows behind it (feed listings, the messages advertising its
//! sites, its routing events, the customers of its cone), each with its
//! first and last seen.

use std::collections::BTreeMap;

use super::RankInput;
use super::features::{EvidenceKind, moved, span};
use super::score::{FEATURES, RankRow, Ranking};

/// One row of evidence behind a feature.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRow {
    /// `cnc`, `site`, `bot`, `service`, `routing`, `customer`.
    pub kind: String,
    /// The listed thing (address, host, service, prefix, AS).
    pub indicator: String,
    /// The address placed, when any.
    pub address: Option<String>,
    /// Family, when known.
    pub family: Option<String>,
    /// Where it was routed.
    pub prefix: Option<String>,
    /// First seen (Unix µs).
    pub first: i64,
    /// Last seen (Unix µs).
    pub last: i64,
    /// Messages of the window behind it.
    pub messages: u64,
    /// Where it came from (feed file and line, `messages`, `routing_events`).
    pub sources: Vec<String>,
    /// One message (hex SHA-256).
    pub sample: Option<String>,
    /// Free text.
    pub detail: String,
}

/// One feature of a row, explained.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureExplained {
    /// Its raw value.
    pub value: f64,
    /// Its part of the score.
    pub contribution: f64,
    /// The evidence behind it.
    pub evidence: Vec<EvidenceRow>,
}

/// A network's row with every feature explained.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The row (rank, score, raw features).
    pub row: RankRow,
    /// Networks ranked.
    pub of: usize,
    /// Per feature (every name of [`FEATURES`]).
    pub features: BTreeMap<String, FeatureExplained>,
}

fn evidence_rows(ranking: &Ranking, row: &RankRow, kind: EvidenceKind) -> Vec<EvidenceRow> {
    let mut v: Vec<EvidenceRow> = row
        .tally
        .evidence
        .iter()
        .filter_map(|&i| ranking.evidence.get(i))
        .filter(|e| e.kind == kind)
        .map(|e| EvidenceRow {
            kind: kind.as_str().to_string(),
            indicator: e.indicator.clone(),
            address: Some(e.address.to_string()),
            family: e.family.clone(),
            prefix: e.prefix.clone(),
            first: e.first,
            last: e.last,
            messages: e.messages,
            sources: e.sources.clone(),
            sample: e.sample.clone(),
            detail: if e.persistent {
                "persistent".into()
            } else {
                "seen less than the persistence span (not counted in the density)".into()
            },
        })
        .collect();
    v.sort_by(|a, b| a.first.cmp(&b.first).then(a.indicator.cmp(&b.indicator)));
    v
}

fn service_rows(row: &RankRow) -> Vec<EvidenceRow> {
    row.tally
        .services
        .iter()
        .map(|(s, spots)| {
            let (first, last) = span(spots);
            let mut addrs: Vec<String> = spots.iter().map(|x| x.0.to_string()).collect();
            addrs.sort();
            addrs.dedup();
            EvidenceRow {
                kind: "service".into(),
                indicator: s.clone(),
                address: Some(addrs.join(" ")),
                family: None,
                prefix: None,
                first,
                last,
                messages: 0,
                sources: Vec::new(),
                sample: None,
                detail: format!(
                    "{} address(es){}; up {:.1} days after first listing",
                    addrs.len(),
                    if moved(spots, &row.tally.active) {
                        ", moved inside the network"
                    } else {
                        ""
                    },
                    (last - first) as f64 / 86_400_000_000.0
                ),
            }
        })
        .collect()
}

fn eviction_rows(row: &RankRow) -> Vec<EvidenceRow> {
    row.tally
        .evicted
        .iter()
        .map(|e| {
            let elsewhere: Vec<String> = e
                .now_at
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect();
            EvidenceRow {
                kind: "eviction".into(),
                indicator: format!("cc:{}", e.family),
                address: Some(e.address.to_string()),
                family: Some(e.family.clone()),
                prefix: None,
                first: e.first,
                last: e.last,
                messages: 0,
                sources: vec![e.source.clone()],
                sample: None,
                detail: format!(
                    "contacted by {} listed bot(s), then silent while the family's bots made {} contact(s) elsewhere: {}",
                    e.contacts,
                    e.after,
                    if elsewhere.is_empty() {
                        "(unplaced)".to_string()
                    } else {
                        elsewhere.join(", ")
                    }
                ),
            }
        })
        .collect()
}

fn routing_rows(input: &RankInput, row: &RankRow, kinds: &[&str]) -> Vec<EvidenceRow> {
    row.tally
        .routing
        .iter()
        .filter_map(|&i| input.routing_events.get(i))
        .filter(|e| kinds.is_empty() || kinds.contains(&e.kind.as_str()))
        .map(|e| EvidenceRow {
            kind: "routing".into(),
            indicator: e.kind.clone(),
            address: None,
            family: None,
            prefix: e.prefix.clone(),
            first: e.time,
            last: e.time,
            messages: 0,
            sources: vec!["routing_events".into()],
            sample: None,
            detail: e.detail.clone(),
        })
        .collect()
}

/// The customers of `asn` in the window with evidence of their own.
fn customer_rows(input: &RankInput, ranking: &Ranking, asn: u32) -> Vec<EvidenceRow> {
    let start = input.at - input.window;
    let mut v: Vec<EvidenceRow> = Vec::new();
    for l in &input.upstreams {
        if l.provider != asn || l.first > input.at || l.last < start {
            continue;
        }
        let Some(r) = ranking
            .rows
            .iter()
            .find(|r| r.asn == l.asn && r.tally.hosting() > 0)
        else {
            continue;
        };
        if v.iter().any(|x| x.indicator == format!("AS{}", l.asn)) {
            continue;
        }
        v.push(EvidenceRow {
            kind: "customer".into(),
            indicator: format!("AS{}", l.asn),
            address: None,
            family: None,
            prefix: None,
            first: l.first,
            last: l.last.min(input.at),
            messages: 0,
            sources: vec!["as_links".into()],
            sample: None,
            detail: format!(
                "{} persistent listings in {:.0} /24s; rank {}",
                r.tally.hosting(),
                r.tally.size24,
                r.rank
            ),
        });
    }
    v
}

/// Explains the row of `asn` in a ranking by AS (`None`: no evidence).
pub fn explain(input: &RankInput, ranking: &Ranking, asn: u32) -> Option<Explanation> {
    let row = ranking.rows.iter().find(|r| r.asn == asn)?.clone();
    let mut features = BTreeMap::new();
    for f in FEATURES {
        let evidence = match f {
            "cc_density" => evidence_rows(ranking, &row, EvidenceKind::Cnc),
            "site_density" | "dependency" => evidence_rows(ranking, &row, EvidenceKind::Site),
            "bot_density" => evidence_rows(ranking, &row, EvidenceKind::Bot),
            "persistence" | "longevity" | "moves" => service_rows(&row),
            "upstream_churn" => routing_rows(input, &row, &["upstream-lost", "upstream-gained"]),
            "short_lived" | "fragmentation" => routing_rows(
                input,
                &row,
                &[
                    "prefix-announced",
                    "prefix-withdrawn",
                    "short-lived",
                    "origin-change",
                ],
            ),
            "cone" => customer_rows(input, ranking, asn),
            "evicted" => eviction_rows(&row),
            _ => Vec::new(),
        };
        let evidence = if f == "dependency" {
            let mut cc = evidence_rows(ranking, &row, EvidenceKind::Cnc);
            cc.extend(evidence);
            cc
        } else {
            evidence
        };
        features.insert(
            f.to_string(),
            FeatureExplained {
                value: row.features.get(f).copied().unwrap_or(0.0),
                contribution: row.contributions.get(f).copied().unwrap_or(0.0),
                evidence,
            },
        );
    }
    Some(Explanation {
        of: ranking.rows.len(),
        row,
        features,
    })
}
