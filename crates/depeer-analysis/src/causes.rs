//! How much of a volume event each candidate cause explains.
//!
//! A volume event of the total (see [`crate::volume_events_in_parts`]) is
//! the sum of its parts' changes (one part per botnet). A routing event
//! concerning AS X explains the share of the total's change made by the
//! parts whose C&C servers X hosted just before the event:
//!
//! ```text
//! explains(X) = Σ_{parts p hosted in X} Δp / Σ_p Δp,   clamped to 0..1
//! ```
//!
//! where Δp is the part's rate over `horizon` points after the event minus
//! its rate over `horizon` points before (raw counts: whole days, so the
//! time of day cancels). A network that lost its upstreams minutes before
//! a drop but hosted no C&C of the botnets that fell explains nothing and
//! ranks after one that did; a drop no candidate explains gets no cause.

/// A routing event near a volume event.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseCandidate {
    /// The AS the routing event concerns.
    pub asn: u32,
    /// Its kind (`upstream-lost`, `as-unreachable`, ...).
    pub kind: String,
    /// Its time (Unix seconds).
    pub time: i64,
}

/// A candidate with the share of the event it explains.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// The AS.
    pub asn: u32,
    /// The routing event's kind.
    pub kind: String,
    /// The routing event's time (Unix seconds).
    pub time: i64,
    /// Share of the volume change explained, 0..1.
    pub explains: f64,
}

/// Ranks `candidates` for the change at point `at` of the parts' sum:
/// best first (by `explains`, then the latest routing event), those that
/// explain less than `min_share` left out. `hosted[p]` lists the ASes
/// hosting part `p`'s C&C servers before the event. One routing event per
/// AS is kept (the latest).
#[must_use]
pub fn rank_causes(
    parts: &[Vec<f64>],
    hosted: &[Vec<u32>],
    at: usize,
    horizon: usize,
    candidates: &[CauseCandidate],
    min_share: f64,
) -> Vec<Cause> {
    let deltas: Vec<f64> = parts.iter().map(|p| delta(p, at, horizon)).collect();
    let total: f64 = deltas.iter().sum();
    if total.abs() <= f64::EPSILON {
        return Vec::new();
    }
    let mut latest: Vec<&CauseCandidate> = Vec::new();
    for c in candidates {
        match latest.iter_mut().find(|l| l.asn == c.asn) {
            Some(l) if l.time < c.time => *l = c,
            Some(_) => {}
            None => latest.push(c),
        }
    }
    let mut out: Vec<Cause> = latest
        .into_iter()
        .map(|c| {
            let moved: f64 = deltas
                .iter()
                .zip(hosted)
                .filter(|(_, h)| h.contains(&c.asn))
                .map(|(d, _)| d)
                .sum();
            Cause {
                asn: c.asn,
                kind: c.kind.clone(),
                time: c.time,
                explains: (moved / total).clamp(0.0, 1.0),
            }
        })
        .filter(|c| c.explains >= min_share)
        .collect();
    out.sort_by(|a, b| b.explains.total_cmp(&a.explains).then(b.time.cmp(&a.time)));
    out
}

/// Rate over `horizon` points from `at` minus the rate over the `horizon`
/// before it (fewer at the ends of the series).
fn delta(xs: &[f64], at: usize, horizon: usize) -> f64 {
    let rate = |a: usize, b: usize| -> f64 {
        let s = xs.get(a..b.min(xs.len())).unwrap_or(&[]);
        if s.is_empty() {
            0.0
        } else {
            s.iter().map(|c| c.max(0.0)).sum::<f64>() / s.len() as f64
        }
    };
    rate(at, at + horizon) - rate(at.saturating_sub(horizon), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(n: usize, at: usize, before: f64, after: f64) -> Vec<f64> {
        (0..n)
            .map(|i| if i < at { before } else { after })
            .collect()
    }

    #[test]
    fn the_network_that_hosted_the_fallen_botnets_explains_the_drop() {
        // Two botnets fall to nothing (C&C in AS 100), one is unchanged
        // (C&C in AS 200); AS 300 lost a link minutes before and hosts nothing.
        let parts = vec![
            step(100, 50, 6.0, 0.0),
            step(100, 50, 2.0, 0.0),
            step(100, 50, 4.0, 4.0),
        ];
        let hosted = vec![vec![100], vec![100, 400], vec![200]];
        let cands = vec![
            CauseCandidate {
                asn: 300,
                kind: "upstream-lost".into(),
                time: 40,
            },
            CauseCandidate {
                asn: 100,
                kind: "upstream-lost".into(),
                time: 10,
            },
            CauseCandidate {
                asn: 100,
                kind: "as-unreachable".into(),
                time: 20,
            },
            CauseCandidate {
                asn: 400,
                kind: "prefix-withdrawn".into(),
                time: 30,
            },
        ];
        let ranked = rank_causes(&parts, &hosted, 50, 50, &cands, 0.05);
        assert_eq!(ranked.len(), 2, "{ranked:?}");
        assert_eq!(
            (ranked[0].asn, ranked[0].kind.as_str()),
            (100, "as-unreachable")
        );
        assert!((ranked[0].explains - 1.0).abs() < 1e-9);
        assert_eq!(ranked[1].asn, 400);
        assert!((ranked[1].explains - 0.25).abs() < 1e-9);
    }

    #[test]
    fn no_change_or_no_candidate_gives_no_cause() {
        let parts = vec![step(10, 5, 1.0, 1.0)];
        let cands = vec![CauseCandidate {
            asn: 1,
            kind: "upstream-lost".into(),
            time: 0,
        }];
        assert!(rank_causes(&parts, &[vec![1]], 5, 5, &cands, 0.05).is_empty());
        let parts = vec![step(10, 5, 1.0, 0.0)];
        assert!(rank_causes(&parts, &[vec![1]], 5, 5, &[], 0.05).is_empty());
        assert!(rank_causes(&[], &[], 5, 5, &cands, 0.05).is_empty());
    }
}
