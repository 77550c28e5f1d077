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
//!
//! A botnet can also fall with no routing change at all: its C&C servers
//! are seized or taken down where they stand (Rustock, March 2011) and
//! their networks stay routed. [`hosting_causes`] names those networks
//! for a drop the routing events do not explain: each explains the share
//! of the fallen parts' C&C addresses it hosted,
//!
//! ```text
//! explains(X) = Σ_p min(Δp, 0) · n_p(X) / n_p  /  Σ_p min(Δp, 0)
//! ```
//!
//! with n_p(X) the part's listed C&C addresses in X and n_p all of them:
//! a network holding one of a botnet's five controllers explains a fifth
//! of that botnet's fall, not all of it.

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

/// The networks hosting the C&C of the parts that fell at point `at`,
/// with the share of the fall each explains (module docs), best first
/// (then by AS number), those under `min_share` left out; nobody when the
/// parts' sum did not fall. `hosted[p]`
/// lists part `p`'s listed C&C addresses by the AS that routed each (an
/// AS once per address). Empty for a rise or no change.
#[must_use]
pub fn hosting_causes(
    parts: &[Vec<f64>],
    hosted: &[Vec<u32>],
    at: usize,
    horizon: usize,
    min_share: f64,
) -> Vec<(u32, f64)> {
    let deltas: Vec<f64> = parts.iter().map(|p| delta(p, at, horizon)).collect();
    if deltas.iter().sum::<f64>() >= -f64::EPSILON {
        return Vec::new();
    }
    let falls: Vec<f64> = deltas.iter().map(|d| d.min(0.0)).collect();
    let total: f64 = falls.iter().sum();
    let mut share: Vec<(u32, f64)> = Vec::new();
    for (fall, asns) in falls.iter().zip(hosted) {
        if *fall >= 0.0 || asns.is_empty() {
            continue;
        }
        let each = fall / total / asns.len() as f64;
        for asn in asns {
            match share.iter_mut().find(|(a, _)| a == asn) {
                Some((_, s)) => *s += each,
                None => share.push((*asn, each)),
            }
        }
    }
    share.retain(|(_, s)| *s >= min_share);
    for (_, s) in &mut share {
        *s = s.clamp(0.0, 1.0);
    }
    share.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    share
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
    fn the_networks_of_a_seized_botnet_share_its_fall() {
        // Botnet 0 falls from 8 to 0 with 4 controllers: two in AS 10, one
        // each in 20 and 30. Botnet 1 (C&C in 40) is unchanged; botnet 2
        // (C&C in 50) falls from 2 to 1.
        let parts = vec![
            step(100, 50, 8.0, 0.0),
            step(100, 50, 4.0, 4.0),
            step(100, 50, 2.0, 1.0),
        ];
        let hosted = vec![vec![10, 10, 20, 30], vec![40], vec![50]];
        let got = hosting_causes(&parts, &hosted, 50, 50, 0.05);
        let asns: Vec<u32> = got.iter().map(|c| c.0).collect();
        assert_eq!(asns, vec![10, 20, 30, 50], "{got:?}");
        let explains = |asn: u32| got.iter().find(|c| c.0 == asn).map(|c| c.1);
        assert!((explains(10).unwrap_or(0.0) - 8.0 / 18.0).abs() < 1e-9);
        assert!((explains(50).unwrap_or(0.0) - 1.0 / 9.0).abs() < 1e-9);
        assert!((explains(20).unwrap_or(0.0) - 2.0 / 9.0).abs() < 1e-9);
        // A rise, or no change, names nobody, even where one part fell.
        let rise = vec![step(100, 50, 1.0, 5.0), step(100, 50, 2.0, 1.0)];
        assert!(hosting_causes(&rise, &[vec![10], vec![20]], 50, 50, 0.05).is_empty());
        let flat = vec![step(100, 50, 3.0, 3.0)];
        assert!(hosting_causes(&flat, &[vec![10]], 50, 50, 0.05).is_empty());
        // A part with no listed C&C explains its fall to nobody.
        let lone = vec![step(100, 50, 3.0, 0.0)];
        assert!(hosting_causes(&lone, &[vec![]], 50, 50, 0.05).is_empty());
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
