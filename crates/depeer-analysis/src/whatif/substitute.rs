//! Substitution: how much of the spam a cut takes the botnets it does
//! not touch make up within the day (docs/whatif.md).
//!
//! A cut that silences botnets leaves their customers' campaigns to the
//! others. The public figures of two takedowns bound how fast
//! (../shared/SCENARIOS.md): McColo's botnets were about 70 % of spam
//! and spam fell by about 66 % (a twentieth of the loss made up within
//! the day); Rustock was about 40 % and spam fell by 33.6 % over the two
//! days after ("other botnets filling the rest": about a sixth). The
//! prior, a tenth of the loss made up, sits between them; every past cut
//! in the data that took at least [`MIN_LEARN_LOSS`] of the attributed
//! spam teaches what the untouched botnets of that world did:
//!
//! ```text
//! σ_i = Σ_untouched (after − before) / Σ_touched (before − after)
//! σ   = (k·σ₀ + Σ L_i·σ_i) / (k + Σ L_i)       L_i: share of spam cut i took
//! ```
//!
//! The predicted total is then `D − min(σ·D, 1 − D)` for a direct loss
//! `D` (the untouched can at most double within the day). Per botnet the
//! prediction stays what the cut takes from it: substitution is spread
//! over every untouched botnet and is not told apart per family.

use std::collections::BTreeMap;

use super::predict::Observation;

/// The prior share of a cut's loss the untouched botnets make up within
/// the day.
pub const PRIOR_SUBSTITUTION: f64 = 0.1;
/// Its range: from none (McColo's first day) to a fifth (a little above
/// Rustock's two days).
pub const PRIOR_SUBSTITUTION_RANGE: (f64, f64) = (0.0, 0.2);
/// The prior's weight, as that of a past cut that took this share of the
/// attributed spam.
pub const PRIOR_WEIGHT: f64 = 0.3;
/// A past cut teaches substitution only when it took at least this share
/// of the attributed spam of the day before (a smaller loss is lost in
/// the noise of everyone else's volume).
pub const MIN_LEARN_LOSS: f64 = 0.1;
/// A past cut's σ is taken within these bounds (a cut in a week of big
/// campaigns elsewhere says little).
pub const SIGMA_BOUNDS: (f64, f64) = (-0.5, 1.0);

/// How much of a cut's loss the untouched botnets make up.
#[derive(Debug, Clone, PartialEq)]
pub struct Substitution {
    /// `σ`: share of the loss made up within the day.
    pub ratio: f64,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Past cuts it was learned from (0: the prior).
    pub events: usize,
}

impl Default for Substitution {
    fn default() -> Substitution {
        Substitution {
            ratio: PRIOR_SUBSTITUTION,
            low: PRIOR_SUBSTITUTION_RANGE.0,
            high: PRIOR_SUBSTITUTION_RANGE.1,
            events: 0,
        }
    }
}

impl Substitution {
    /// What the untouched make up of a direct loss `d` (0..1 of the
    /// total) at the substitution `sigma`: at most what they sent (they
    /// at most double within the day).
    #[must_use]
    pub fn gain(sigma: f64, d: f64) -> f64 {
        (sigma.max(0.0) * d).min((1.0 - d).max(0.0))
    }
}

/// Learns the substitution from the families' observations at past cuts
/// (those with no dark share are the untouched), shrunk to the prior.
#[must_use]
pub fn learn(observations: &[Observation]) -> Substitution {
    // Per past cut: messages before (all), loss of the touched, gain of
    // the untouched.
    let mut by: BTreeMap<i64, (f64, f64, f64)> = BTreeMap::new();
    for o in observations {
        let e = by.entry(o.time).or_default();
        let (before, after) = (o.before as f64, o.after as f64);
        e.0 += before;
        if o.dark_share > 0.0 {
            e.1 += before - after;
        } else {
            e.2 += after - before;
        }
    }
    let cuts: Vec<(f64, f64)> = by
        .into_values()
        .filter(|&(total, loss, _)| total > 0.0 && loss / total >= MIN_LEARN_LOSS)
        .map(|(total, loss, gain)| {
            let s = (gain / loss).clamp(SIGMA_BOUNDS.0, SIGMA_BOUNDS.1);
            (s, loss / total)
        })
        .collect();
    if cuts.is_empty() {
        return Substitution::default();
    }
    let w: f64 = PRIOR_WEIGHT + cuts.iter().map(|c| c.1).sum::<f64>();
    let mean =
        (PRIOR_WEIGHT * PRIOR_SUBSTITUTION + cuts.iter().map(|c| c.0 * c.1).sum::<f64>()) / w;
    let spread =
        (cuts.iter().map(|c| c.1 * (c.0 - mean).powi(2)).sum::<f64>() / (w - PRIOR_WEIGHT)).sqrt();
    // The prior's half-width shrinks with the weight of what was learned.
    let prior_half = (PRIOR_SUBSTITUTION_RANGE.1 - PRIOR_SUBSTITUTION_RANGE.0) / 2.0;
    let half = spread.max(prior_half * (PRIOR_WEIGHT / w).sqrt());
    let ratio = mean.max(0.0);
    Substitution {
        ratio,
        low: (mean - half).max(0.0).min(ratio),
        high: (mean + half).max(ratio),
        events: cuts.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(time: i64, family: &str, dark_share: f64, before: u64, after: u64) -> Observation {
        Observation {
            family: family.into(),
            time,
            dark_share,
            before,
            after,
        }
    }

    #[test]
    fn no_past_cut_is_the_prior() {
        let s = learn(&[]);
        assert_eq!(s, Substitution::default());
        assert!(s.low <= s.ratio && s.ratio <= s.high);
    }

    #[test]
    fn a_past_cut_where_the_others_did_not_grow_pulls_it_to_none() {
        // a (60 %) silenced; b and c untouched and unchanged.
        let s = learn(&[
            obs(1, "a", 1.0, 600, 0),
            obs(1, "b", 0.0, 300, 300),
            obs(1, "c", 0.0, 100, 100),
        ]);
        assert_eq!(s.events, 1);
        // (0.3 · 0.1 + 0.6 · 0) / 0.9
        assert!((s.ratio - 0.1 / 3.0).abs() < 1e-9, "{s:?}");
        assert!(s.low <= s.ratio && s.high > s.ratio);
    }

    #[test]
    fn a_past_cut_where_the_others_took_over_teaches_it() {
        // a (40 %) silenced, the others grew by 100 of its 400: σ = 0.25.
        let s = learn(&[
            obs(1, "a", 1.0, 400, 0),
            obs(1, "b", 0.0, 400, 470),
            obs(1, "c", 0.0, 200, 230),
        ]);
        assert!((s.ratio - (0.03 + 0.4 * 0.25) / 0.7).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn a_small_cut_teaches_nothing() {
        // a is 5 % of the spam: the others' noise would swamp it.
        let s = learn(&[obs(1, "a", 1.0, 50, 0), obs(1, "b", 0.0, 950, 1100)]);
        assert_eq!(s, Substitution::default());
    }

    #[test]
    fn the_gain_is_at_most_what_the_untouched_sent() {
        assert!((Substitution::gain(0.1, 0.5) - 0.05).abs() < 1e-12);
        assert!((Substitution::gain(0.2, 0.9) - 0.1).abs() < 1e-12);
        assert_eq!(Substitution::gain(0.1, 1.0), 0.0);
        assert_eq!(Substitution::gain(-0.1, 0.5), 0.0);
    }
}
