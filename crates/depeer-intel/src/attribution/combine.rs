//! Combining the three signals into one decision with a confidence.
//!
//! Candidates: the message's own rule (confidence of the rule), its own
//! bot-list entry (confidence of the listing), and its cluster label (the
//! weighted majority of its keys' labels, when at least [`MIN_SUPPORT`]
//! votes back it with a share of at least [`MIN_SHARE`]). Scores of the
//! same family add; the family with the highest score wins. Its confidence
//! is `1 - prod(1 - c)` over the signals that agree, scaled by its share of
//! all scores (so disagreement lowers it). The recorded signal is the
//! strongest agreeing one.
//!
//! Two guards: mailing-list mail is never labelled from bot lists or
//! clusters (rules never match it either); and a rule is overruled when the
//! bot lists of its cluster agree on another family and almost never on
//! the rule's (a new botnet imitating a known one's template).

use super::Signal;
use super::cluster::{ClusterVote, Own};

/// Cluster votes needed before a cluster label counts: one labelled
/// member of the campaign, site or relay suffices (bot lists cover few
/// messages of a new botnet: ~1.5 % in a simulated world at scale 1).
pub(crate) const MIN_SUPPORT: f64 = 1.0;
/// Votes needed when only near-duplicate text (LSH bands) voted.
const WEAK_SUPPORT: f64 = 3.0;
/// Share needed then.
const WEAK_SHARE: f64 = 0.9;
/// Share of the cluster votes the top family needs.
pub(crate) const MIN_SHARE: f64 = 0.6;
/// Bot-list votes in a cluster needed to overrule a rule.
const OVERRULE_SUPPORT: f64 = 8.0;

/// The decision: family id, confidence, signal.
pub(crate) type Decision = Option<(u32, f64, Signal)>;

/// Confidences of the message's own signals.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OwnConf {
    pub(crate) rule: f64,
    pub(crate) list: f64,
}

pub(crate) fn decide(own: Own, conf: OwnConf, vote: &ClusterVote) -> Decision {
    let mut cands: [(u32, f64, f64, Signal); 3] = [(0, 0.0, 0.0, Signal::None); 3];
    let mut n = 0usize;
    let mut add = |fam: u32, c: f64, s: Signal| {
        if let Some(slot) = cands.get_mut(n) {
            *slot = (fam, c, c, s);
            n += 1;
        }
    };
    let mut rule = own.rule;
    if let Some(r) = rule
        && let Some((g, share, support)) = vote.top_list()
        && g != r
        && support >= OVERRULE_SUPPORT
        && share >= 0.8
        && vote.list_share(r) < 0.1
    {
        rule = None;
        add(g, 0.9 * share, Signal::Cluster);
    }
    if let Some(r) = rule {
        add(r, conf.rule, Signal::Rule);
    }
    if !own.listy {
        if let Some(l) = own.list {
            add(l, conf.list, Signal::BotList);
        }
        let (need_support, need_share) = if vote.weak {
            (WEAK_SUPPORT, WEAK_SHARE)
        } else {
            (MIN_SUPPORT, MIN_SHARE)
        };
        if let Some((fam, share, support)) = vote.top()
            && support >= need_support
            && share >= need_share
            && (rule.is_none() || rule == Some(fam))
        {
            let c = 0.95 * share * support / (support + 1.0);
            add(fam, c, Signal::Cluster);
        }
    }
    let cands = cands.get(..n).unwrap_or_default();
    let total: f64 = cands.iter().map(|c| c.1).sum();
    let mut best: Option<(u32, f64)> = None;
    for &(fam, _, _, _) in cands {
        let score: f64 = cands.iter().filter(|c| c.0 == fam).map(|c| c.1).sum();
        if best.is_none_or(|(bf, bs)| score > bs || (score == bs && fam < bf)) {
            best = Some((fam, score));
        }
    }
    let (fam, score) = best?;
    let agree = cands.iter().filter(|c| c.0 == fam);
    let joint = 1.0 - agree.clone().map(|c| 1.0 - c.2).product::<f64>();
    let signal = agree
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.3.rank().cmp(&a.3.rank())))
        .map_or(Signal::None, |c| c.3);
    let conf = (joint * score / total).clamp(0.0, 0.999);
    Some((fam, conf, signal))
}
