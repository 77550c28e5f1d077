//! Deciding the family of every campaign from what the index holds.
//!
//! For a campaign `c` and each known family `f` (plus "another family",
//! which is never named), a posterior
//!
//! ```text
//! P(f | c) ∝ prior_c(f) · exp(K · E_c(f))
//! ```
//!
//! * `E_c(f)`: bot-list votes for `f` (one per listed relay window, a
//!   covering listing counting 1, a near or far one less), the campaign's
//!   own plus those lent by campaigns it shares relays with: each lends
//!   its votes (at most [`LEND_CAP`]) times its share of `c`'s relay links
//!   (`w / (W + 1)`), so a single shared address, a DHCP lease passed on
//!   to another botnet's bot, moves little.
//! * `K = ln((1 − ε)(n − 1)/ε)`: a vote names the right family with
//!   probability `1 − ε` ([`EPS`]), else one of the `n − 1` others.
//! * `prior_c`: the mixture of the campaign's templates. A template's
//!   prior is what the bot lists say about its *other* campaigns plus
//!   [`ALPHA`] pseudo-votes: for a rule, its confidence on the rule's
//!   family and the rest spread evenly; for a template no rule names,
//!   evenly. So a rule whose campaigns the bot lists keep naming another
//!   family stops deciding (a new botnet on a known template), and a
//!   template only one listed family uses lends that family to its
//!   campaigns without a listed relay.
//!
//! The top family is the campaign's label when its posterior reaches
//! [`THRESHOLD`]; otherwise the campaign stays unknown. A campaign with a
//! site mostly seen in mailing-list mail gets no label. Sums are taken in
//! a fixed order so the result does not depend on the order of
//! observation.

use super::index::{Index, MAX_RELAY_CAMPAIGNS, Template, Votes};

/// Probability that a covering listing names another family.
pub(crate) const EPS: f64 = 0.05;
/// Weight of the pseudo-votes behind a template's prior.
pub(crate) const ALPHA: f64 = 2.0;
/// Integer weight of one covering listing.
pub(crate) const UNIT: f64 = 100.0;
/// Votes one neighbouring campaign lends at most.
pub(crate) const LEND_CAP: f64 = 3.0;
/// Posterior needed to name a family.
pub(crate) const THRESHOLD: f64 = 0.9;
/// Common multiple of 1..=16: relay link weights stay integers.
const LINK_UNIT: u64 = 720_720;
/// No family.
pub(crate) const NO_FAMILY: u32 = u32::MAX;

/// A decision about a campaign (or one message).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Label {
    /// The family, [`NO_FAMILY`] when none reaches the threshold.
    pub(crate) fam: u32,
    /// Its posterior.
    pub(crate) p: f64,
    /// Votes for it and in all (own and lent).
    pub(crate) ev_fam: f64,
    pub(crate) ev_all: f64,
}

impl Label {
    pub(crate) const NONE: Label = Label {
        fam: NO_FAMILY,
        p: 0.0,
        ev_fam: 0.0,
        ev_all: 0.0,
    };
}

/// The labels of all campaigns, as of `observed` messages.
#[derive(Debug, Default)]
pub(crate) struct Solution {
    /// Per node (meaningful at roots).
    pub(crate) labels: Vec<Label>,
    /// Per node: its root.
    pub(crate) roots: Vec<u32>,
    /// Per node (at roots): a site mostly seen in mailing-list mail.
    pub(crate) tainted: Vec<bool>,
    /// Per node (at roots): its own votes, capped, as lent to neighbours.
    pub(crate) lend: Vec<Vec<(u32, f64)>>,
    /// Per template: how far its rule can be trusted (its prior on the
    /// rule's family; 0 without a rule).
    pub(crate) trust: Vec<f64>,
    pub(crate) observed: u64,
    pub(crate) families: usize,
}

/// Sums in ascending order (the same result for the same multiset).
pub(crate) fn fsum(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.iter().sum()
}

/// A template's prior over `n = families + 1` outcomes (the last:
/// another family), the votes in `minus` (scaled by `share`) left out.
pub(crate) fn template_prior(
    t: &Template,
    families: usize,
    minus: Option<(&Votes, f64)>,
    out: &mut [f64],
) {
    let n = families + 1;
    let mut v = vec![0.0f64; n];
    for &(f, w) in &t.lists {
        if let Some(slot) = v.get_mut(f as usize) {
            *slot += w as f64 / UNIT;
        }
    }
    if let Some((m, share)) = minus {
        for &(f, w) in m {
            if let Some(slot) = v.get_mut(f as usize) {
                *slot = (*slot - share * w as f64 / UNIT).max(0.0);
            }
        }
    }
    let total = fsum(&mut v.clone());
    for (i, (o, vi)) in out.iter_mut().zip(&v).enumerate() {
        let base = match t.rule {
            Some((r, q)) if r as usize == i => q,
            Some((_, q)) => (1.0 - q) / (n - 1).max(1) as f64,
            None => 1.0 / n as f64,
        };
        *o = (vi + ALPHA * base) / (total + ALPHA);
    }
}

/// The posterior's top family from a prior (len `families + 1`) and
/// evidence (len `families`, vote units).
pub(crate) fn posterior(prior: &[f64], ev: &[f64]) -> Label {
    let n = prior.len();
    if n < 2 {
        return Label::NONE;
    }
    let k = ((1.0 - EPS) * (n - 1) as f64 / EPS).ln();
    let score: Vec<f64> = prior
        .iter()
        .enumerate()
        .map(|(i, &p)| p.max(1e-300).ln() + k * ev.get(i).copied().unwrap_or(0.0))
        .collect();
    let Some((best, &top)) = score
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
    else {
        return Label::NONE;
    };
    let mut terms: Vec<f64> = score.iter().map(|s| (s - top).exp()).collect();
    let p = 1.0 / fsum(&mut terms);
    let ev_all = fsum(&mut ev.to_vec());
    if best + 1 == n || p < THRESHOLD {
        return Label {
            fam: NO_FAMILY,
            p,
            ev_fam: 0.0,
            ev_all,
        };
    }
    Label {
        fam: best as u32,
        p,
        ev_fam: ev.get(best).copied().unwrap_or(0.0),
        ev_all,
    }
}

/// Relay links between campaign roots: (a, b, weight), both directions,
/// sorted.
fn links(ix: &Index, roots: &[u32], tainted: &[bool]) -> Vec<(u32, u32, u64)> {
    let mut out: Vec<(u32, u32, u64)> = Vec::new();
    let mut rs: Vec<u32> = Vec::new();
    for rk in &ix.relays {
        if rk.nodes.len() < 2 || rk.nodes.len() > MAX_RELAY_CAMPAIGNS {
            continue;
        }
        rs.clear();
        rs.extend(
            rk.nodes
                .iter()
                .filter_map(|&n| roots.get(n as usize).copied())
                .filter(|&r| !tainted.get(r as usize).copied().unwrap_or(true)),
        );
        rs.sort_unstable();
        rs.dedup();
        if rs.len() < 2 {
            continue;
        }
        let w = LINK_UNIT / (rs.len() as u64 - 1);
        for &a in &rs {
            for &b in &rs {
                if a != b {
                    out.push((a, b, w));
                }
            }
        }
    }
    out.sort_unstable();
    let mut merged: Vec<(u32, u32, u64)> = Vec::with_capacity(out.len());
    for (a, b, w) in out {
        match merged.last_mut() {
            Some(m) if m.0 == a && m.1 == b => m.2 += w,
            _ => merged.push((a, b, w)),
        }
    }
    merged
}

/// A campaign's own votes, capped at [`LEND_CAP`], as it lends them.
fn lendable(lists: &Votes) -> Vec<(u32, f64)> {
    let total: f64 = lists.iter().map(|v| v.1 as f64 / UNIT).sum();
    let scale = if total > LEND_CAP {
        LEND_CAP / total
    } else {
        1.0
    };
    let mut v: Vec<(u32, f64)> = lists
        .iter()
        .map(|&(f, w)| (f, scale * w as f64 / UNIT))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

/// Decides every campaign.
pub(crate) fn solve(ix: &Index, families: usize) -> Solution {
    let nodes = ix.parent.len();
    let roots: Vec<u32> = (0..nodes as u32).map(|n| ix.root_of(n)).collect();
    let mut tainted = vec![false; nodes];
    for s in &ix.sites {
        if u64::from(s.listy) * 2 > u64::from(s.members)
            && let Some(&r) = roots.get(s.node as usize)
            && let Some(t) = tainted.get_mut(r as usize)
        {
            *t = true;
        }
    }
    let lend: Vec<Vec<(u32, f64)>> = ix.camp.iter().map(|c| lendable(&c.lists)).collect();
    let edges = links(ix, &roots, &tainted);
    let mut labels = vec![Label::NONE; nodes];
    let n = families + 1;
    let mut prior = vec![0.0; n];
    let mut tp = vec![0.0; n];
    let mut ev = vec![0.0; families];
    let mut i = 0usize;
    for r in 0..nodes {
        let start = i;
        while edges.get(i).is_some_and(|e| e.0 as usize == r) {
            i += 1;
        }
        if roots.get(r).copied() != Some(r as u32) || tainted.get(r).copied().unwrap_or(true) {
            continue;
        }
        let Some(c) = ix.camp.get(r) else { continue };
        if c.members == 0 {
            continue;
        }
        ev.iter_mut().for_each(|x| *x = 0.0);
        for &(f, w) in &c.lists {
            if let Some(slot) = ev.get_mut(f as usize) {
                *slot += w as f64 / UNIT;
            }
        }
        let mine = edges.get(start..i).unwrap_or_default();
        let total: u64 = mine.iter().map(|e| e.2).sum();
        for &(_, b, w) in mine {
            let share = w as f64 / (total + LINK_UNIT) as f64;
            for &(f, v) in lend.get(b as usize).map(Vec::as_slice).unwrap_or_default() {
                if let Some(slot) = ev.get_mut(f as usize) {
                    *slot += share * v;
                }
            }
        }
        campaign_prior(ix, c, families, &mut tp, &mut prior);
        if let Some(slot) = labels.get_mut(r) {
            *slot = posterior(&prior, &ev);
        }
    }
    let trust = ix
        .templates
        .iter()
        .map(|t| {
            let Some((r, _)) = t.rule else { return 0.0 };
            template_prior(t, families, None, &mut tp);
            tp.get(r as usize).copied().unwrap_or(0.0)
        })
        .collect();
    Solution {
        labels,
        roots,
        tainted,
        lend,
        trust,
        observed: ix.observed,
        families,
    }
}

/// The mixture of a campaign's template priors, each leaving the
/// campaign's own votes out.
fn campaign_prior(
    ix: &Index,
    c: &super::index::Camp,
    families: usize,
    tp: &mut [f64],
    prior: &mut [f64],
) {
    prior.iter_mut().for_each(|x| *x = 0.0);
    let members = f64::from(c.members.max(1));
    let mut ts = c.templates.clone();
    ts.sort_unstable();
    for (t, k) in ts {
        let Some(tpl) = ix.templates.get(t as usize) else {
            continue;
        };
        let share = f64::from(k) / members;
        template_prior(tpl, families, Some((&c.lists, share)), tp);
        for (p, q) in prior.iter_mut().zip(tp.iter()) {
            *p += share * q;
        }
    }
}

/// The label of a message decided on its own (no campaign, or one that
/// carries no label): its template's prior, the votes of its relay window
/// and those lent by the campaigns seen under that window.
pub(crate) fn lone(ix: &Index, sol: &Solution, own: super::index::Own) -> Label {
    let families = sol.families;
    let mut prior = vec![0.0; families + 1];
    let mut ev = vec![0.0; families];
    if let Some(t) = ix.templates.get(own.template as usize) {
        let mine: Votes = own
            .list
            .map(|(f, w)| (f, u64::from(w)))
            .into_iter()
            .collect();
        template_prior(t, families, Some((&mine, 1.0)), &mut prior);
    } else {
        prior
            .iter_mut()
            .for_each(|x| *x = 1.0 / (families + 1) as f64);
    }
    match own.relay.and_then(|k| ix.relays.get(k as usize)) {
        Some(rk) => {
            for &(f, w) in &rk.lists {
                if let Some(slot) = ev.get_mut(f as usize) {
                    *slot += w as f64 / UNIT;
                }
            }
            let mut rs: Vec<u32> = rk
                .nodes
                .iter()
                .filter_map(|&n| sol.roots.get(n as usize).copied())
                .filter(|&r| !sol.tainted.get(r as usize).copied().unwrap_or(true))
                .collect();
            rs.sort_unstable();
            rs.dedup();
            let share = 1.0 / (rs.len() + 1) as f64;
            for r in rs {
                for &(f, v) in sol
                    .lend
                    .get(r as usize)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let Some(slot) = ev.get_mut(f as usize) {
                        *slot += share * v;
                    }
                }
            }
        }
        None => {
            if let Some((f, w)) = own.list
                && let Some(slot) = ev.get_mut(f as usize)
            {
                *slot += f64::from(w) / UNIT;
            }
        }
    }
    posterior(&prior, &ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_covering_vote_under_an_even_prior_gives_one_minus_eps() {
        for families in [1usize, 3, 12] {
            let prior = vec![1.0 / (families + 1) as f64; families + 1];
            let mut ev = vec![0.0; families];
            ev[0] = 1.0;
            let l = posterior(&prior, &ev);
            assert_eq!(l.fam, 0);
            assert!((l.p - (1.0 - EPS)).abs() < 1e-9, "{families}: {}", l.p);
        }
        let l = posterior(&[0.5, 0.5], &[0.0]);
        assert_eq!(l.fam, NO_FAMILY, "no evidence names nobody");
    }

    #[test]
    fn a_template_prior_follows_the_lists_and_leaves_a_campaign_out() {
        let t = Template {
            rule: Some((0, 0.95)),
            lists: vec![(1, 500)],
        };
        let mut p = vec![0.0; 3];
        template_prior(&t, 2, None, &mut p);
        assert!(p[1] > 0.7 && p[0] < 0.3, "{p:?}");
        let mine: Votes = vec![(1, 500)];
        template_prior(&t, 2, Some((&mine, 1.0)), &mut p);
        assert!(p[0] > 0.9, "its own votes left out: the rule again {p:?}");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn sums_do_not_depend_on_order() {
        let mut a = vec![1e16, 1.0, -1e16, 3.0];
        let mut b = vec![3.0, -1e16, 1.0, 1e16];
        assert_eq!(fsum(&mut a).to_bits(), fsum(&mut b).to_bits());
    }
}
