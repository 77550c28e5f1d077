//! The predicted spam drop of a cut, per botnet and in total, with an
//! interval, and the fallback behaviour of each family learned from the
//! cuts of the past (docs/whatif.md).
//!
//! Per botnet `b`:
//!
//! ```text
//! x_b    = contacts of b's bots with servers that go dark / contacts with
//!          servers routed at t (else the same over its C&C listings)
//! drop_b = min(1, r_b · x_b)
//! direct = Σ_b share_b · drop_b
//! total  = direct − min(σ · direct, 1 − direct)
//! ```
//!
//! Where bot lists say which server each bot was seen talking to (a
//! sinkhole's or drone report's contacts, at least [`MIN_CONTACTS`] of
//! them in the week before), `x_b` is the share of those contacts whose
//! server goes dark: a server counts as much as the bots it commands;
//! only the contacts since the last clear change of that share count
//! ([`super::regime`]), so a botnet that moved is placed where its bots
//! went since.
//! Else `x_b` assumes each listed server controls an equal part. `r_b`
//! is the family's response: how much of the expected drop its volume
//! showed when C&C servers of it went dark before (`observed / x`, the
//! mean over past cuts); with no past cut the prior `r = 1` (the family
//! loses what the dark servers controlled, no fallback within the day).
//! `share_b` is the botnet's share of the attributed spam of the 24 h
//! before `t`. `σ` is the share of the loss the untouched botnets make up
//! within the day ([`super::substitute`]).
//!
//! The interval combines, per botnet, the uncertainty of `x_b` (a Wilson
//! interval over its contacts or listings: feeds miss servers and list
//! false ones), of `r_b` (the spread of its past cuts, or the prior's
//! range) and the counting noise of the measure itself (the drop is a
//! ratio of two Poisson counts over 24 h), taken at the worst
//! combination (comonotone), so it is conservative.

use std::collections::BTreeMap;

use super::substitute::Substitution;

/// The prior response when a family has no past cut: it loses what its
/// dark servers controlled.
pub const PRIOR_RESPONSE: f64 = 1.0;
/// The range of the prior response: from losing a quarter less (bots
/// falling back on other servers or generated domains within the day)
/// to a quarter more (listed servers elsewhere that control little).
pub const PRIOR_RANGE: (f64, f64) = (0.75, 1.25);
/// z of the counting noise (90 %, two-sided).
pub const Z: f64 = 1.645;
/// z of the interval of the dark share (one standard error: the
/// response range already covers most of what the listings get wrong).
pub const Z_SHARE: f64 = 1.0;
/// The fewest messages of a family in the 24 h before a past cut for
/// that cut to teach its response.
pub const MIN_LEARN_MESSAGES: u64 = 20;
/// A past cut teaches a family's response only when at least this share
/// of its listed servers went dark.
pub const MIN_LEARN_DARK: f64 = 0.1;
/// The fewest observed bot contacts for a botnet's dark share to be
/// measured on them rather than on its listings: fewer say little about
/// how the bots are spread over the servers. (20 before: at scale 3,
/// Asprox's 10-15 contacts, 9 of 10 with McColo, fell back on its two
/// listings, one at McColo, and was put at 50 % against a true 96-100 %;
/// the Wilson interval already widens with few contacts. Measured in
/// docs/whatif.md.)
pub const MIN_CONTACTS: usize = 10;

/// One family at one past cut: the share of its listings that went dark
/// and the drop of its volume that followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The family.
    pub family: String,
    /// When (Unix µs).
    pub time: i64,
    /// Share of its routed listings that went dark.
    pub dark_share: f64,
    /// Messages in the 24 h before.
    pub before: u64,
    /// Messages in the 24 h from an hour after.
    pub after: u64,
}

impl Observation {
    /// `1 − after / before`.
    #[must_use]
    pub fn drop(&self) -> f64 {
        if self.before == 0 {
            0.0
        } else {
            1.0 - self.after as f64 / self.before as f64
        }
    }
}

/// A family's response to losing C&C servers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `r`: observed drop over dark share.
    pub ratio: f64,
    /// Low end of `r`.
    pub low: f64,
    /// High end of `r`.
    pub high: f64,
    /// Past cuts it was learned from (0: the prior).
    pub events: usize,
}

impl Default for Response {
    fn default() -> Response {
        Response {
            ratio: PRIOR_RESPONSE,
            low: PRIOR_RANGE.0,
            high: PRIOR_RANGE.1,
            events: 0,
        }
    }
}

/// Learns each family's response from its past cuts (the mean ratio,
/// weighted by the dark share; its range: ± the spread of the ratios, at
/// least 0.25/√n).
#[must_use]
pub fn learn(observations: &[Observation]) -> BTreeMap<String, Response> {
    let mut by: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for o in observations {
        if o.before < MIN_LEARN_MESSAGES || o.dark_share < MIN_LEARN_DARK {
            continue;
        }
        let r = (o.drop().max(0.0) / o.dark_share).min(1.0 / o.dark_share);
        by.entry(o.family.clone())
            .or_default()
            .push((r, o.dark_share));
    }
    by.into_iter()
        .map(|(family, rs)| {
            let w: f64 = rs.iter().map(|x| x.1).sum();
            let mean = rs.iter().map(|x| x.0 * x.1).sum::<f64>() / w.max(f64::EPSILON);
            let var = rs.iter().map(|x| x.1 * (x.0 - mean).powi(2)).sum::<f64>() / w.max(1e-9);
            let n = rs.len() as f64;
            let half = var.sqrt().max(0.25 / n.sqrt());
            (
                family,
                Response {
                    ratio: mean,
                    low: (mean - half).max(0.0),
                    high: mean + half,
                    events: rs.len(),
                },
            )
        })
        .collect()
}

/// One botnet's part in a cut.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BotnetInput {
    /// The family.
    pub botnet: String,
    /// Its messages in the 24 h before.
    pub messages: u64,
    /// Its C&C listings routed at the time.
    pub listed: usize,
    /// Those that go dark.
    pub dark: usize,
    /// Its bots seen talking to a C&C server routed at the time, in the
    /// [`super::CONTACT_WINDOW`] before.
    pub contacts: usize,
    /// Those whose server goes dark.
    pub contacts_dark: usize,
    /// The contacts that count, weighted (the latest regime's, each 1:
    /// see [`super::regime`]): the sum of the weights.
    pub contact_weight: f64,
    /// The weights of those whose server goes dark.
    pub contact_weight_dark: f64,
    /// The sum of the squared weights (for the effective count).
    pub contact_weight_sq: f64,
    /// How much more its daily volume varies than Poisson counts would
    /// ([`dispersion`]; 0 or 1: as Poisson).
    pub dispersion: f64,
}

/// The fewest messages on both days of a pair for it to count in
/// [`dispersion`].
pub const MIN_DISPERSION_DAY: u64 = 5;
/// The most [`dispersion`] is taken as.
pub const MAX_DISPERSION: f64 = 25.0;

/// How much more a volume varies from one day to the next than the
/// ratio of two Poisson counts would: `Σ (1 − k)² / Σ (k + k²)/c` over
/// consecutive days `(c, c')` with `k = c'/c` (1 with fewer than three
/// pairs of at least [`MIN_DISPERSION_DAY`] messages; at least 1, at
/// most [`MAX_DISPERSION`]). Campaigns make spam burstier than Poisson:
/// a botnet whose volume moves by a fifth from one ordinary day to the
/// next cannot be predicted closer than that, and the interval says so.
#[must_use]
pub fn dispersion(days: &[u64]) -> f64 {
    let (mut dev, mut var, mut n) = (0.0, 0.0, 0usize);
    for w in days.windows(2) {
        let (Some(&c), Some(&c2)) = (w.first(), w.get(1)) else {
            continue;
        };
        if c < MIN_DISPERSION_DAY || c2 < MIN_DISPERSION_DAY {
            continue;
        }
        let k = c2 as f64 / c as f64;
        dev += (1.0 - k) * (1.0 - k);
        var += (k + k * k) / c as f64;
        n += 1;
    }
    if n < 3 || var <= 0.0 {
        return 1.0;
    }
    (dev / var).clamp(1.0, MAX_DISPERSION)
}

/// What the dark share of a botnet was measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Basis {
    /// Its C&C listings, each server counted as an equal part.
    #[default]
    Listings,
    /// Its bots' observed contacts with C&C servers: a server counts as
    /// much as the bots seen talking to it.
    Contacts,
}

impl Basis {
    /// Lowercase name, as printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Listings => "listings",
            Basis::Contacts => "contacts",
        }
    }
}

impl BotnetInput {
    /// `(dark, of, basis)`: the dark share's counts. Observed bot
    /// contacts, when there are at least [`MIN_CONTACTS`], say how much
    /// of the botnet each server commands, which its listings cannot
    /// (a listed straggler counts as much as the master, a feed's false
    /// positive as much as a real server); else the listings. The
    /// contacts are weighted (each of the latest regime 1, the others
    /// 0: [`super::regime`]), so their counts are the effective number
    /// `(Σw)² / Σw²` and its dark part.
    #[must_use]
    pub fn dark_counts(&self) -> (f64, f64, Basis) {
        if self.contacts >= MIN_CONTACTS && self.contact_weight > 0.0 {
            let n = if self.contact_weight_sq > 0.0 {
                self.contact_weight * self.contact_weight / self.contact_weight_sq
            } else {
                self.contacts as f64
            };
            let x = (self.contact_weight_dark / self.contact_weight).clamp(0.0, 1.0);
            (x * n, n, Basis::Contacts)
        } else {
            (self.dark as f64, self.listed as f64, Basis::Listings)
        }
    }

    /// The dark share `x`, 0..1.
    #[must_use]
    pub fn dark_share(&self) -> f64 {
        match self.dark_counts() {
            (k, n, _) if n > 0.0 => k / n,
            _ => 0.0,
        }
    }
}

/// One botnet's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct BotnetDrop {
    /// The family.
    pub botnet: String,
    /// Its share of the attributed spam of the 24 h before.
    pub share: f64,
    /// Messages in the 24 h before.
    pub messages: u64,
    /// C&C listings routed at the time.
    pub cc_listed: usize,
    /// Those that go dark.
    pub cc_dark: usize,
    /// Bots seen talking to a routed C&C server in the week before.
    pub contacts: usize,
    /// Those whose server goes dark.
    pub contacts_dark: usize,
    /// The contacts the dark share was measured on (the latest regime;
    /// 0 when on listings).
    pub contacts_used: usize,
    /// Those whose server goes dark.
    pub contacts_used_dark: usize,
    /// What the dark share was measured on.
    pub basis: Basis,
    /// Predicted drop, 0..1.
    pub predicted_drop: f64,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// The response used.
    pub response: Response,
    /// Its volume's dispersion (1: Poisson).
    pub dispersion: f64,
}

/// The prediction of a cut.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prediction {
    /// Predicted drop of the total, 0..1 of the rate of the 24 h before:
    /// the direct loss less what the untouched botnets make up.
    pub predicted_drop: f64,
    /// What the cut takes directly: `Σ share · drop` over the botnets.
    pub direct_drop: f64,
    /// The substitution used.
    pub substitution: Substitution,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Attributed messages of the 24 h before.
    pub messages: u64,
    /// Per botnet, largest share first.
    pub per_botnet: Vec<BotnetDrop>,
}

/// Wilson score interval of `k` of `n` (effective counts) at [`Z_SHARE`].
fn wilson(k: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 0.0);
    }
    let p = k / n;
    let z2 = Z_SHARE * Z_SHARE;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_SHARE * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Counting noise of a measured drop `d` from `before` messages: the
/// after-count is Poisson around `before · (1 − d)`, its variance times
/// the volume's `dispersion` (at least 1).
fn counting_noise(d: f64, before: u64, dispersion: f64) -> f64 {
    if before == 0 {
        return 0.0;
    }
    // after ~ Poisson(before · (1 − d)), before ~ Poisson too:
    // var(1 − after/before) ≈ ((1 − d) + (1 − d)²) / before.
    let k = (1.0 - d).max(0.0);
    Z * (dispersion.max(1.0) * (k + k * k) / before as f64).sqrt()
}

/// Predicts the drop of every botnet of `inputs` with the learned
/// `responses` (the prior for a family not in it), and of the total with
/// the `substitution` by the untouched.
#[must_use]
pub fn predict(
    inputs: &[BotnetInput],
    responses: &BTreeMap<String, Response>,
    substitution: &Substitution,
) -> Prediction {
    let total: u64 = inputs.iter().map(|b| b.messages).sum();
    let mut out = Prediction {
        messages: total,
        substitution: substitution.clone(),
        ..Prediction::default()
    };
    if total == 0 {
        return out;
    }
    let (mut model_lo, mut model_hi, mut spread_weight) = (0.0, 0.0, 0.0);
    for b in inputs {
        let share = b.messages as f64 / total as f64;
        let response = responses.get(&b.botnet).cloned().unwrap_or_default();
        let (k, n, basis) = b.dark_counts();
        let x = b.dark_share();
        let (x_lo, x_hi) = if k <= 0.0 { (0.0, 0.0) } else { wilson(k, n) };
        let d = (response.ratio * x).min(1.0);
        let lo = (response.low * x_lo).min(d);
        let hi = (response.high * x_hi).clamp(d, 1.0);
        let noise = counting_noise(d, b.messages, b.dispersion);
        spread_weight += b.dispersion.max(1.0) * b.messages as f64;
        out.direct_drop += share * d;
        model_lo += share * lo;
        model_hi += share * hi;
        out.per_botnet.push(BotnetDrop {
            botnet: b.botnet.clone(),
            share,
            messages: b.messages,
            cc_listed: b.listed,
            cc_dark: b.dark,
            contacts: b.contacts,
            contacts_dark: b.contacts_dark,
            contacts_used: if basis == Basis::Contacts {
                n.round() as usize
            } else {
                0
            },
            contacts_used_dark: if basis == Basis::Contacts {
                k.round() as usize
            } else {
                0
            },
            basis,
            predicted_drop: d,
            low: (lo - noise).max(0.0),
            high: (hi + noise).min(1.0),
            response,
            dispersion: b.dispersion.max(1.0),
        });
    }
    let s = substitution;
    out.predicted_drop = out.direct_drop - Substitution::gain(s.ratio, out.direct_drop);
    let model_lo = model_lo - Substitution::gain(s.high, model_lo);
    let model_hi = model_hi - Substitution::gain(s.low, model_hi);
    // The total's counting noise, not the sum of the parts' (mostly
    // independent: their sum would overstate it).
    // Independent families: the total's dispersion is theirs weighted
    // by their messages.
    let noise = counting_noise(out.predicted_drop, total, spread_weight / total as f64);
    out.low = (model_lo - noise).clamp(0.0, out.predicted_drop);
    out.high = (model_hi + noise).clamp(out.predicted_drop, 1.0);
    out.per_botnet.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then_with(|| a.botnet.cmp(&b.botnet))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(botnet: &str, messages: u64, listed: usize, dark: usize) -> BotnetInput {
        BotnetInput {
            botnet: botnet.into(),
            messages,
            listed,
            dark,
            ..BotnetInput::default()
        }
    }

    #[test]
    fn the_prior_loses_what_the_dark_servers_controlled() {
        // a: 60 % of spam, all 4 servers dark; b: 30 %, half; c: 10 %, none.
        let p = predict(
            &[
                input("a", 600, 4, 4),
                input("b", 300, 2, 1),
                input("c", 100, 3, 0),
            ],
            &BTreeMap::new(),
            &Substitution::default(),
        );
        assert!((p.direct_drop - (0.6 + 0.15)).abs() < 1e-9, "{p:?}");
        // The untouched make up a tenth of the loss (the prior).
        assert!((p.predicted_drop - 0.75 * 0.9).abs() < 1e-9, "{p:?}");
        assert!(p.low < p.predicted_drop && p.predicted_drop < p.high);
        assert!(p.low > 0.25 && p.high < 1.0, "{p:?}");
        let a = &p.per_botnet[0];
        assert_eq!((a.botnet.as_str(), a.predicted_drop), ("a", 1.0));
        let c = &p.per_botnet[2];
        assert_eq!(c.predicted_drop, 0.0);
        assert!(c.high < 0.3, "only counting noise: {c:?}");
        assert_eq!(p.messages, 1000);
    }

    #[test]
    fn a_family_with_a_fallback_learns_to_drop_less() {
        // Family f lost all its listed servers twice and fell by 40 % and
        // 50 %: it falls back. g lost half and fell by all of it.
        let obs = |family: &str, dark_share: f64, after: u64| Observation {
            family: family.into(),
            time: 0,
            dark_share,
            before: 1000,
            after,
        };
        let learned = learn(&[
            obs("f", 1.0, 600),
            obs("f", 1.0, 500),
            obs("g", 0.5, 0),
            // Too little of g dark to teach anything.
            obs("g", 0.05, 1000),
        ]);
        let f = &learned["f"];
        assert!((f.ratio - 0.45).abs() < 1e-9 && f.events == 2, "{f:?}");
        let g = &learned["g"];
        assert!((g.ratio - 2.0).abs() < 1e-9 && g.events == 1, "{g:?}");
        let p = predict(
            &[input("f", 500, 2, 2), input("g", 500, 4, 1)],
            &learned,
            &Substitution::default(),
        );
        let by = |n: &str| p.per_botnet.iter().find(|b| b.botnet == n).unwrap();
        assert!((by("f").predicted_drop - 0.45).abs() < 1e-9);
        assert!((by("g").predicted_drop - 0.5).abs() < 1e-9);
        assert!((p.direct_drop - 0.475).abs() < 1e-9);
        assert!((p.predicted_drop - 0.475 * 0.9).abs() < 1e-9);
    }

    #[test]
    fn nothing_attributed_predicts_nothing() {
        let p = predict(
            &[input("a", 0, 3, 3)],
            &BTreeMap::new(),
            &Substitution::default(),
        );
        assert_eq!((p.predicted_drop, p.low, p.high), (0.0, 0.0, 0.0));
        assert!(p.per_botnet.is_empty());
    }

    #[test]
    fn a_bursty_volume_widens_the_interval() {
        // Poisson-like days: about 1; days moving by a half: far more.
        let steady = dispersion(&[400, 420, 390, 410, 405, 395, 400]);
        assert!((1.0..1.5).contains(&steady), "{steady}");
        let bursty = dispersion(&[400, 200, 400, 200, 400, 200, 400]);
        assert!(bursty > 10.0, "{bursty}");
        assert_eq!(dispersion(&[400, 0, 0, 400]), 1.0, "too few pairs");
        let mut a = input("a", 2000, 4, 1);
        let calm = predict(&[a.clone()], &BTreeMap::new(), &Substitution::default());
        a.dispersion = bursty;
        let wide = predict(&[a], &BTreeMap::new(), &Substitution::default());
        assert_eq!(calm.predicted_drop, wide.predicted_drop);
        let (c, w) = (&calm.per_botnet[0], &wide.per_botnet[0]);
        assert!(w.low < c.low && w.high > c.high, "{c:?} {w:?}");
        assert!(wide.low < calm.low && wide.high > calm.high);
    }

    #[test]
    fn wilson_bounds() {
        let (lo, hi) = wilson(3.0, 4.0);
        assert!(lo > 0.4 && lo < 0.75 && hi > 0.75 && hi < 1.0, "{lo} {hi}");
        assert_eq!(wilson(0.0, 0.0), (0.0, 0.0));
    }
}
