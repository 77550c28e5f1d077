//! The drops the backtest is made for: the volume events of the total
//! spam per minute, placed with the per-botnet series, with the routing
//! events of the two hours before (to an hour after) that explain them,
//! as `depeer events` finds them (docs/events.md: the same detector,
//! `depeer_analysis::volume_events_in_parts`, and the same ranking,
//! `depeer_analysis::rank_causes`, with the same windows). A drop's
//! causes that lost routes are the ASes the backtest cuts.

use depeer_analysis::whatif::DropEvent;
use depeer_analysis::{CauseCandidate, Direction, VolumeParams, rank_causes, volume_events_in_parts};
use depeer_core::RoutingEventKind;

use super::WhatIfData;

/// Seconds per point of the series.
const STEP: i64 = 60;
/// How long before a volume event a routing event may be its cause.
const CAUSE_LOOKBACK: i64 = 2 * 3600;
/// How long after the event's interval a routing event may be its cause.
const CAUSE_LAG: i64 = 3600;
/// Causes that explain less are left out.
const MIN_SHARE: f64 = 0.05;

/// Whether a routing event of this kind can cause a volume event.
pub(super) fn is_cause(k: RoutingEventKind) -> bool {
    matches!(
        k,
        RoutingEventKind::UpstreamLost
            | RoutingEventKind::AsUnreachable
            | RoutingEventKind::PrefixWithdrawn
            | RoutingEventKind::UpstreamGained
            | RoutingEventKind::AsReachable
            | RoutingEventKind::PrefixAnnounced
    )
}

fn is_loss(kind: &str) -> bool {
    matches!(
        kind,
        "upstream-lost" | "as-unreachable" | "prefix-withdrawn"
    )
}

/// Counts per minute from `start` over `n` minutes.
fn per_minute(times: &[i64], start: i64, n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    for t in times {
        if let Ok(i) = usize::try_from((t / 1_000_000 - start) / STEP)
            && let Some(c) = v.get_mut(i)
        {
            *c += 1.0;
        }
    }
    v
}

/// The drops of the total with at least one cause that lost routes.
pub(super) fn detect(d: &WhatIfData) -> Vec<DropEvent> {
    let all = d
        .history
        .spam
        .values()
        .flatten()
        .chain(&d.unattributed)
        .copied();
    let (Some(first), Some(last)) = (all.clone().min(), all.max()) else {
        return Vec::new();
    };
    let start = first / 1_000_000 - (first / 1_000_000).rem_euclid(STEP);
    let n = usize::try_from((last / 1_000_000 - start) / STEP + 1).unwrap_or(0);
    let names: Vec<&String> = d.history.spam.keys().collect();
    let mut parts: Vec<Vec<f64>> = d
        .history
        .spam
        .values()
        .map(|ts| per_minute(ts, start, n))
        .collect();
    parts.push(per_minute(&d.unattributed, start, n));
    let mut total = vec![0.0; n];
    for p in &parts {
        for (t, x) in total.iter_mut().zip(p) {
            *t += x;
        }
    }
    let params = VolumeParams::default();
    let horizon = usize::try_from(params.horizon / STEP).unwrap_or(1440);
    let minute = |i: usize| start + i64::try_from(i).unwrap_or(0) * STEP;
    volume_events_in_parts(&total, &parts, start, &params)
        .into_iter()
        .filter(|e| e.direction == Direction::Drop)
        .filter_map(|e| {
            let (t_low, t_high) = (minute(e.low), minute(e.high));
            let candidates: Vec<CauseCandidate> = d
                .routing
                .iter()
                .filter(|(t, _, _)| *t >= t_low - CAUSE_LOOKBACK && *t <= t_high + CAUSE_LAG)
                .map(|&(time, kind, asn)| CauseCandidate {
                    asn,
                    kind: kind.as_str().to_string(),
                    time,
                })
                .collect();
            let before = candidates.iter().map(|c| c.time).min().unwrap_or(t_low) - 60;
            let hosted = hosted(d, &names, before);
            let causes: Vec<(u32, i64)> =
                rank_causes(&parts, &hosted, e.index, horizon, &candidates, MIN_SHARE)
                    .into_iter()
                    .filter(|c| is_loss(&c.kind))
                    .map(|c| (c.asn, c.time * 1_000_000))
                    .collect();
            (!causes.is_empty()).then(|| DropEvent {
                time: minute(e.index) * 1_000_000,
                time_low: t_low * 1_000_000,
                observed_drop: -e.magnitude,
                causes,
            })
        })
        .collect()
}

/// Per part (the botnets, then the unattributed, which hosts nothing):
/// the ASes that routed its C&C servers at `before` (Unix s). Feeds list
/// late and keep listings a while: a server counts from two days before
/// its first listing to three days after its last.
fn hosted(d: &WhatIfData, names: &[&String], before: i64) -> Vec<Vec<u32>> {
    let t = before * 1_000_000;
    let day = 86_400_000_000;
    let mut out: Vec<Vec<u32>> = names
        .iter()
        .map(|name| {
            let mut asns: Vec<u32> = d
                .history
                .listings
                .iter()
                .filter(|l| &&l.family == name)
                .filter(|l| {
                    l.first.is_none_or(|f| f.saturating_sub(2 * day) <= t)
                        && l.last.is_none_or(|x| t <= x.saturating_add(3 * day))
                })
                .filter_map(|l| d.hosting.locate(l.ip, t))
                .flat_map(|p| p.origins)
                .collect();
            asns.sort_unstable();
            asns.dedup();
            asns
        })
        .collect();
    out.push(Vec::new());
    out
}
