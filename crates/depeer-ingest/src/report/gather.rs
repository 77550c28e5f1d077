//! [`gather`]: the report's content read from a dataset, once.
//!
//! The time charts cover all stored messages (the spam rate at a step
//! that keeps about a thousand points, the botnet shares at a coarser one
//! so that each share has messages behind it); the events are those of
//! `depeer events`; the botnet table and the dependency graph are of the
//! window before `at`. Nothing after `at` enters the analyses.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use depeer_analysis::{Window, parse_duration};
use depeer_core::Timestamp;
use depeer_store::Dataset;

use super::{
    BotnetLine, CauseMark, EventMark, Graph, NamedSeries, ReportData, Series, Shares, graph,
};
use crate::read::ReadError;
use crate::read::depends::Inputs;
use crate::read::events::{EventOut, EventScope, events};
use crate::{BotnetsOptions, IngestError};

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The moment of the analyses (default: just after the last message).
    pub at: Option<Timestamp>,
    /// Length of the window before `at` for the graph and the botnet
    /// table (`24h`).
    pub window: String,
    /// Networks in the dependency graph when `focus` is empty.
    pub top: usize,
    /// The networks to draw the graph around (the ranking's top ones,
    /// when there is a ranking); empty: those most spam depends on.
    pub focus: Vec<u32>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            at: None,
            window: "24h".to_string(),
            top: 8,
            focus: Vec::new(),
        }
    }
}

/// Spam-rate steps (seconds) tried in order: the first that gives at most
/// [`RATE_POINTS`] buckets is used.
const RATE_STEPS: [i64; 11] = [
    60, 300, 600, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
];
const RATE_POINTS: i64 = 1500;
/// Buckets of the share chart at most: fewer and wider than the rate's, so
/// that a share is of enough messages to mean something.
const SHARE_POINTS: i64 = 150;
/// Botnets drawn in the share chart; the rest are summed as `other`.
const SHARE_KEYS: usize = 8;

/// The first step of `RATE_STEPS` (from `min_step` on) with at most
/// `max_points` buckets over `span` seconds.
fn step_for(span: i64, max_points: i64, min_step: i64) -> i64 {
    RATE_STEPS
        .iter()
        .copied()
        .filter(|s| *s >= min_step)
        .find(|s| span / s < max_points)
        .unwrap_or(604_800)
}

/// Bucket starts from `first` to `last` (Unix s), aligned to `step`.
fn buckets(first: i64, last: i64, step: i64) -> (i64, usize) {
    let start = first - first.rem_euclid(step);
    let n = usize::try_from((last - start) / step + 1).unwrap_or(0);
    (start, n)
}

fn times(start: i64, n: usize, step: i64) -> Vec<i64> {
    (0..n)
        .map(|i| start + i64::try_from(i).unwrap_or(0) * step)
        .collect()
}

/// Messages per bucket.
fn rate(points: &[(i64, Option<String>)], first: i64, last: i64) -> Series {
    let step = step_for(last - first, RATE_POINTS, 60);
    let (start, n) = buckets(first, last, step);
    let mut values = vec![0.0; n];
    for (t, _) in points {
        if let Some(v) = usize::try_from((t - start) / step)
            .ok()
            .and_then(|i| values.get_mut(i))
        {
            *v += 1.0;
        }
    }
    Series {
        step_secs: step,
        times: times(start, n, step),
        values,
    }
}

/// Each botnet's share of the messages per bucket (`NaN`, drawn as a gap,
/// where a bucket has none); the [`SHARE_KEYS`] largest botnets, the rest
/// as `other`.
fn shares(points: &[(i64, Option<String>)], first: i64, last: i64) -> Shares {
    let step = step_for(last - first, SHARE_POINTS, 3600);
    let (start, n) = buckets(first, last, step);
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, b) in points {
        *totals.entry(b.as_deref().unwrap_or("unknown")).or_default() += 1;
    }
    let mut order: Vec<(&str, u64)> = totals.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut keys: Vec<&str> = order.iter().take(SHARE_KEYS).map(|(k, _)| *k).collect();
    if order.len() > SHARE_KEYS {
        keys.push("other");
    }
    let index: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let other = keys.len().saturating_sub(1);
    let mut counts = vec![vec![0.0f64; n]; keys.len()];
    let mut all = vec![0.0f64; n];
    for (t, b) in points {
        let Some(i) = usize::try_from((t - start) / step).ok().filter(|i| *i < n) else {
            continue;
        };
        let k = index
            .get(b.as_deref().unwrap_or("unknown"))
            .copied()
            .unwrap_or(other);
        if let Some(c) = counts.get_mut(k).and_then(|v| v.get_mut(i)) {
            *c += 1.0;
        }
        if let Some(c) = all.get_mut(i) {
            *c += 1.0;
        }
    }
    let keys = keys
        .iter()
        .zip(counts)
        .map(|(name, c)| NamedSeries {
            name: (*name).to_string(),
            values: c
                .iter()
                .zip(&all)
                .map(|(c, a)| if *a > 0.0 { c / a } else { f64::NAN })
                .collect(),
        })
        .collect();
    Shares {
        step_secs: step,
        times: times(start, n, step),
        keys,
    }
}

/// Unix seconds of an RFC 3339 time written by the read side.
fn secs(t: &str) -> i64 {
    Timestamp::parse(t).map_or(0, Timestamp::secs)
}

fn event_mark(e: &EventOut) -> EventMark {
    EventMark {
        time: secs(&e.time),
        kind: e.kind.to_string(),
        key: e.key.clone(),
        magnitude: e.magnitude,
        low: e.low,
        high: e.high,
        confidence: e.confidence,
        causes: e
            .causes
            .iter()
            .map(|c| CauseMark {
                asn: c.asn,
                org: c.org.clone(),
                kind: c.kind.clone(),
                time: secs(&c.time),
                explains: c.explains,
            })
            .collect(),
    }
}

/// Reads the report's content from the dataset in `data`.
pub fn gather(data: &Path, opts: &ReportOptions) -> Result<ReportData, IngestError> {
    let ds = Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })?;
    let mut messages = ds
        .read_message_points(None, None)
        .map_err(IngestError::store("reading messages"))?;
    messages.sort_by_key(|m| m.time);
    let (Some(first), Some(last)) = (messages.first(), messages.last()) else {
        return Err(IngestError::NoMessages {
            dir: data.to_path_buf(),
        });
    };
    let (first, last) = (first.time, last.time);
    let labels: HashMap<String, Option<String>> = ds
        .read_attribution()
        .map_err(IngestError::store("reading attribution"))?
        .into_iter()
        .map(|r| (r.sha256, r.botnet))
        .collect();
    // Unattributed data: every message under `unknown`.
    let points: Vec<(i64, Option<String>)> = messages
        .iter()
        .map(|m| (m.time.secs(), labels.get(&m.sha256).cloned().flatten()))
        .collect();
    let at = opts.at.unwrap_or(Timestamp(last.0 + 1));
    let len = parse_duration(&opts.window)?;
    let window = Window {
        start: at.0.saturating_sub(len),
        end: at.0,
    };
    // A dataset without routes or attribution has no graph and no causes:
    // the report still shows the rate and says the graph is empty.
    let events = match events(data, EventScope::Total, None, None) {
        Ok(v) => v.iter().map(event_mark).collect(),
        Err(ReadError::Missing { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let graph = match Inputs::read(&ds, Some(Timestamp(window.start)), Some(at)) {
        Ok(inputs) => graph::around(
            &inputs.graph(window),
            inputs.hosting(),
            &opts.focus,
            opts.top,
        ),
        Err(ReadError::Missing { .. }) => Graph::default(),
        Err(e) => return Err(e.into()),
    };
    let botnets = crate::botnets(
        data,
        &BotnetsOptions {
            from: Some(Timestamp(window.start)),
            until: Some(Timestamp(window.end - 1)),
        },
    )?
    .botnets
    .into_iter()
    .map(|b| BotnetLine {
        botnet: b.botnet,
        messages: b.messages,
        share: b.share,
        bots_estimate: b.bots_estimate,
        cc: b
            .cc
            .iter()
            .map(|c| {
                let asn = c
                    .asn
                    .map_or_else(|| "unrouted".to_string(), |a| format!("AS{a}"));
                format!("{} {asn} {}", c.ip, c.org.as_deref().unwrap_or("-"))
            })
            .collect(),
    })
    .collect();
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| data.display().to_string());
    let ranking = ranked(data, at, opts.top);
    let top_asn = ranking.as_ref().and_then(|r| r.first()).map(|r| r.asn);
    let (whatif, backtests) = what_ifs(data, at, top_asn);
    Ok(ReportData {
        title: format!("depeer report: {name}"),
        at: at.to_rfc3339(),
        generator: format!("depeer {}", env!("CARGO_PKG_VERSION")),
        spam: rate(&points, first.secs(), last.secs()),
        events,
        botnet_shares: shares(&points, first.secs(), last.secs()),
        botnets,
        graph,
        ranking,
        whatif,
        backtests,
    })
}

/// `depeer rank`'s top rows (by AS, 30 days before `at`, the built-in
/// weights); `None` when there is nothing to rank (no routing data).
fn ranked(data: &Path, at: Timestamp, top: usize) -> Option<Vec<super::RankRow>> {
    use depeer_analysis::rank::{By, Method, Weights};
    let opts = crate::rank::RankOptions {
        at: Some(at),
        window: 30 * 86_400_000_000,
        by: By::As,
        method: Method::Depeer,
        weights: Weights::builtin().ok()?,
    };
    let r = crate::rank::rank(data, &opts).ok()?;
    Some(
        r.ranking
            .rows
            .iter()
            .take(top.max(1))
            .map(|x| super::RankRow {
                rank: u32::try_from(x.rank).unwrap_or(u32::MAX),
                asn: x.asn,
                org: x.org.clone(),
                score: x.score,
                features: x.features.clone(),
                evidence: Vec::new(),
            })
            .collect(),
    )
}

/// `depeer whatif --cut` of the top-ranked AS at `at`, and `depeer
/// backtest`; `None` each when it cannot be answered (no routing data).
fn what_ifs(
    data: &Path,
    at: Timestamp,
    top: Option<u32>,
) -> (Option<Vec<super::WhatIf>>, Option<Vec<super::Backtest>>) {
    let Ok(d) = crate::whatif::WhatIfData::read(data) else {
        return (None, None);
    };
    let whatif = top.and_then(|asn| {
        let cut = depeer_analysis::whatif::graph::Cut {
            asns: vec![asn],
            links: Vec::new(),
        };
        let a = d.what_if(Some(at.0), &cut).ok()?;
        let r = crate::whatif::WhatIfReport::new(&a);
        Some(vec![super::WhatIf {
            at: r.at,
            cut: r.cut.iter().map(|a| format!("AS{a}")).collect(),
            predicted_drop: r.predicted_drop,
            low: r.low,
            high: r.high,
            per_botnet: r
                .per_botnet
                .into_iter()
                .map(|b| super::WhatIfBotnet {
                    botnet: b.botnet,
                    share: b.share,
                    predicted_drop: b.predicted_drop,
                })
                .collect(),
        }])
    });
    let backtests = d.drops().ok().map(|drops| {
        crate::whatif::BacktestReport::new(&d.backtest(&drops))
            .backtests
            .into_iter()
            .map(|b| super::Backtest {
                event_time: b.event_time,
                cut: b.cut.iter().map(|a| format!("AS{a}")).collect(),
                predicted_drop: b.predicted_drop,
                low: b.low,
                high: b.high,
                observed_drop: b.observed_drop,
            })
            .collect()
    });
    (whatif, backtests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, Option<&str>)]) -> Vec<(i64, Option<String>)> {
        v.iter().map(|(t, b)| (*t, b.map(str::to_string))).collect()
    }

    #[test]
    fn the_rate_keeps_every_message_in_one_bucket() {
        let p = pts(&[
            (0, None),
            (59, None),
            (3600 * 30, Some("a")),
            (86_400 * 30, None),
        ]);
        let s = rate(&p, 0, 86_400 * 30);
        assert_eq!(s.step_secs, 1800);
        assert_eq!(s.values.len(), s.times.len());
        assert!(s.values.len() <= RATE_POINTS as usize);
        assert_eq!(s.values.iter().sum::<f64>(), 4.0);
        assert_eq!(s.values.first(), Some(&2.0));
    }

    #[test]
    fn shares_add_up_to_one_where_there_is_spam() {
        let mut v: Vec<(i64, Option<&str>)> = Vec::new();
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        for (i, n) in names.iter().enumerate() {
            for k in 0..=i {
                v.push((i64::try_from(k).unwrap() * 7200, Some(*n)));
            }
        }
        v.push((100, None));
        let s = shares(&pts(&v), 0, 86_400 * 10);
        // 8 largest botnets, then `other` (the two smallest and `unknown`).
        assert_eq!(s.keys.len(), SHARE_KEYS + 1);
        assert_eq!(s.keys.first().unwrap().name, "j");
        assert_eq!(s.keys.last().unwrap().name, "other");
        for i in 0..s.times.len() {
            let sum: f64 = s
                .keys
                .iter()
                .map(|k| k.values[i])
                .filter(|x| !x.is_nan())
                .sum();
            assert!(sum == 0.0 || (sum - 1.0).abs() < 1e-9, "bucket {i}: {sum}");
        }
        assert!(
            s.keys[0].values.iter().any(|x| x.is_nan()),
            "empty buckets are gaps"
        );
    }

    #[test]
    fn steps_grow_with_the_span() {
        assert_eq!(step_for(3600, RATE_POINTS, 60), 60);
        assert_eq!(step_for(86_400 * 30, RATE_POINTS, 60), 1800);
        assert_eq!(step_for(86_400 * 365, RATE_POINTS, 60), 21_600);
        assert_eq!(step_for(86_400 * 30, SHARE_POINTS, 3600), 21_600);
        assert_eq!(step_for(i64::MAX, RATE_POINTS, 60), 604_800);
    }
}
