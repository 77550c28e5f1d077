//! Botnet attribution of every message (issue 17, item 3): which botnet
//! sent it, which campaign it belongs to, how sure we are and why.
//!
//! Three signals ([`Signal`]): per-family signature rules
//! ([`RuleSet`], a readable TOML file, `rules/botnets.toml` shipped), the
//! relay address in a family-tagged bot list at that time ([`BotList`],
//! [`BotListIndex`]), and campaign clustering (advertised sites, sending
//! infrastructure, MinHash LSH over the content fingerprint) with labels
//! propagated from labelled members. How they combine: [`combine`].
//!
//! Pure library: the input is a plain [`MessageFeatures`] per message (the
//! ingest pipeline fills it), the output an [`Attribution`] per message
//! (one `attribution` table row). [`attribute_batch`] takes a time-sorted
//! batch; [`Attributor`] is the streaming form (file each message with
//! [`Attributor::observe`], decide with [`Attributor::decide`], any time
//! later: a decision sees everything observed before it).
//!
//! Invariants: a family name is canonical ([`crate::canonical_family`]);
//! spam no signal supports stays unknown (`botnet` null, signal `none`);
//! mailing-list mail is never labelled from bot lists or clusters.

mod features;
mod index;
mod rules;
mod solve;

use std::net::IpAddr;

pub use features::{HeaderSummary, MAX_HEADER_LINES, MessageFeatures, parse_fingerprint};
pub use rules::{BUILTIN_RULES, RuleSet, RulesError};

use index::{Index, KeyHash, Keys, Own, keys_of, template_signature};
use solve::{Label, NO_FAMILY, Solution, UNIT};

/// Which signal decided an attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// A signature rule fired.
    Rule,
    /// The relay was in a family-tagged bot list at that time.
    BotList,
    /// Labels propagated through the message's campaign cluster.
    Cluster,
    /// Nothing supports a family: `botnet` is null.
    None,
}

impl Signal {
    /// The name stored in the `attribution.signal` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Rule => "rule",
            Signal::BotList => "bot-list",
            Signal::Cluster => "cluster",
            Signal::None => "none",
        }
    }
}

/// One row of the `attribution` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// The message.
    pub sha256: [u8; 32],
    /// Its arrival time, Unix microseconds.
    pub time: i64,
    /// Canonical family name, lowercase; `None` when unknown.
    pub botnet: Option<String>,
    /// Campaign id (`c-` and 12 hex digits of the campaign's earliest
    /// message), `None` for mail with nothing to cluster on and for
    /// mailing-list mail.
    pub campaign: Option<String>,
    /// Confidence in `botnet`, 0..1 (0 when unknown).
    pub confidence: f64,
    /// The signal that decided.
    pub signal: Signal,
}

/// A family-tagged bot list, looked up at a moment.
pub trait BotList {
    /// The canonical family `ip` was listed under at `time` (Unix
    /// microseconds), and the confidence of that listing (0..1).
    fn family_at(&self, ip: IpAddr, time: i64) -> Option<(&str, f64)>;
}

/// A bot list with no entries.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBotList;

impl BotList for NoBotList {
    fn family_at(&self, _ip: IpAddr, _time: i64) -> Option<(&str, f64)> {
        None
    }
}

/// One listing: family id, first and last seen (Unix microseconds).
#[derive(Debug, Clone, Copy)]
struct Listing {
    family: u32,
    first: i64,
    last: i64,
}

/// An in-memory [`BotList`] built from feed entries (`ip, family,
/// first_seen, last_seen`).
///
/// A listing counts at full confidence ([`BotListIndex::INSIDE`]) inside
/// its interval and at lower confidence ([`BotListIndex::NEAR`]) within
/// [`BotListIndex::SLACK`] of it: a bot keeps its address for its DHCP
/// lease, which often outlasts what the list saw. When listings of one
/// address disagree at a moment, the family with most listings wins, at a
/// confidence scaled by its share.
#[derive(Debug, Clone, Default)]
pub struct BotListIndex {
    families: Vec<String>,
    ids: foldhash::HashMap<String, u32>,
    by_ip: foldhash::HashMap<IpAddr, Vec<Listing>>,
}

impl BotListIndex {
    /// Confidence of a listing that covers the moment.
    pub const INSIDE: f64 = 0.7;
    /// Confidence of a listing within [`Self::SLACK`] of the moment.
    pub const NEAR: f64 = 0.5;
    /// Confidence of a listing of the address at another time: a static
    /// address, or the same DHCP lease seen at another moment; weak, so
    /// any other signal outweighs it.
    pub const FAR: f64 = 0.35;
    /// How far around a listing it counts as near (24 h, microseconds).
    pub const SLACK: i64 = 86_400_000_000;

    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a listing; the family is canonicalised. Returns false (and
    /// adds nothing) when the family has no usable name.
    pub fn insert(&mut self, ip: IpAddr, family: &str, first_seen: i64, last_seen: i64) -> bool {
        let Some(name) = crate::canonical_family(family) else {
            return false;
        };
        let next = self.families.len() as u32;
        let id = *self.ids.entry(name.clone()).or_insert(next);
        if id == next {
            self.families.push(name);
        }
        self.by_ip.entry(ip).or_default().push(Listing {
            family: id,
            first: first_seen.min(last_seen),
            last: last_seen.max(first_seen),
        });
        true
    }

    /// Number of listed addresses.
    pub fn len(&self) -> usize {
        self.by_ip.len()
    }

    /// Whether nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }
}

impl BotList for BotListIndex {
    fn family_at(&self, ip: IpAddr, time: i64) -> Option<(&str, f64)> {
        let ls = self.by_ip.get(&ip)?;
        // (family, summed weight, any listing covering the moment); an
        // address is listed under a family or two, so the tally lives on
        // the stack until it has more.
        let mut tally = Tally::default();
        let mut total = 0.0;
        for l in ls {
            let inside = l.first <= time && time <= l.last;
            let near = l.first.saturating_sub(Self::SLACK) <= time
                && time <= l.last.saturating_add(Self::SLACK);
            let w = if inside {
                Self::INSIDE
            } else if near {
                Self::NEAR
            } else {
                Self::FAR
            };
            total += w;
            tally.add(l.family, w, inside);
        }
        let &(fam, w, inside) = tally
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        let max_w = if inside {
            Self::INSIDE
        } else {
            tally_best_near(ls, fam, time)
        };
        let name = self.families.get(fam as usize)?;
        Some((name.as_str(), max_w * w / total))
    }
}

/// Families kept on the stack by a [`Tally`].
const TALLY_INLINE: usize = 4;

/// Per family: summed weight and whether a listing covers the moment.
#[derive(Debug, Default)]
struct Tally {
    inline: [(u32, f64, bool); TALLY_INLINE],
    n: usize,
    more: Vec<(u32, f64, bool)>,
}

impl Tally {
    fn add(&mut self, fam: u32, w: f64, inside: bool) {
        let n = self.n;
        let found = self
            .inline
            .iter_mut()
            .take(n)
            .chain(self.more.iter_mut())
            .find(|t| t.0 == fam);
        match found {
            Some(t) => {
                t.1 += w;
                t.2 |= inside;
            }
            None => match self.inline.get_mut(n) {
                Some(slot) => {
                    *slot = (fam, w, inside);
                    self.n += 1;
                }
                None => self.more.push((fam, w, inside)),
            },
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(u32, f64, bool)> {
        self.inline.iter().take(self.n).chain(self.more.iter())
    }
}

/// The best weight class of `fam`'s listings at `time`: near or far.
fn tally_best_near(ls: &[Listing], fam: u32, time: i64) -> f64 {
    let near = ls.iter().any(|l| {
        l.family == fam
            && l.first.saturating_sub(BotListIndex::SLACK) <= time
            && time <= l.last.saturating_add(BotListIndex::SLACK)
    });
    if near {
        BotListIndex::NEAR
    } else {
        BotListIndex::FAR
    }
}

/// Interned family names.
#[derive(Debug, Default)]
struct Families {
    names: Vec<String>,
    ids: foldhash::HashMap<String, u32>,
    /// (address, length) of names already looked up, and their ids.
    seen: Vec<((usize, usize), u32)>,
}

impl Families {
    fn id(&mut self, name: &str) -> u32 {
        // The names come from the rules and the bot list, a handful of
        // strings seen millions of times: found by address (and checked,
        // since another list could reuse an address), without hashing.
        let at = (name.as_ptr() as usize, name.len());
        if let Some(&(_, i)) = self.seen.iter().find(|(p, _)| *p == at)
            && self.names.get(i as usize).is_some_and(|n| n == name)
        {
            return i;
        }
        let i = self.intern(name);
        if self.seen.len() < 64 {
            self.seen.push((at, i));
        }
        i
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), i);
        i
    }
}

/// A message's own signals, as computed by [`Attributor::observe`]; hand
/// it back to [`Attributor::decide`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnSignals {
    own: Own,
}

/// A message's signals before filing: see [`Attributor::prepare`].
#[derive(Debug, Clone, Default)]
pub struct Prepared<'a> {
    time: i64,
    sha256: [u8; 32],
    listy: bool,
    /// Template key: the rule's, or the template signature.
    key: u64,
    /// The rule that fired: its family and confidence.
    rule: Option<(&'a str, f64)>,
    /// The listing of the relay at that time.
    list: Option<(&'a str, f64)>,
    keys: Keys,
}

impl Prepared<'_> {
    /// The message's time (Unix microseconds).
    pub fn time(&self) -> i64 {
        self.time
    }

    /// The message's SHA-256.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
}

/// The streaming attributor: an incremental index of campaigns, relays
/// and templates over the messages observed so far, the rules and the
/// family names.
///
/// [`Attributor::decide`] decides with everything observed before it. The
/// campaigns' families are solved again when messages were observed since
/// the last solution (linear in the index), so observe a batch, then
/// decide it, rather than alternating message by message.
#[derive(Debug)]
pub struct Attributor<'r> {
    rules: &'r RuleSet,
    index: Index,
    families: Families,
    keys: Keys,
    solution: Solution,
}

impl<'r> Attributor<'r> {
    /// An attributor with no message observed yet.
    pub fn new(rules: &'r RuleSet) -> Self {
        Self {
            rules,
            index: Index::default(),
            families: Families::default(),
            keys: Keys::default(),
            solution: Solution::default(),
        }
    }

    /// Computes a message's own signals (rule, bot list, template) and
    /// files it in the index.
    pub fn observe(&mut self, f: &MessageFeatures, bots: &dyn BotList) -> OwnSignals {
        let listy = f.headers.is_list_mail();
        let mut own = Own {
            listy,
            ..Own::default()
        };
        if !listy {
            let (key, rule) = match self.rules.first_match_at(f) {
                Some((i, fam, c)) => {
                    let id = self.families.id(fam);
                    own.rule = Some(id);
                    (KeyHash::new(9).u64(i as u64).finish(), Some((id, c)))
                }
                None => (template_signature(f), None),
            };
            own.template = self.index.template(key, rule);
            if let Some(ip) = f.relay_ip
                && let Some((fam, c)) = bots.family_at(ip, f.time)
            {
                let w = (c / BotListIndex::INSIDE * UNIT).round().clamp(1.0, UNIT) as u32;
                own.list = Some((self.families.id(fam), w));
            }
        }
        keys_of(f, &mut self.keys);
        (own.site, own.relay) = self.index.observe(f.time, f.sha256, &self.keys, own);
        OwnSignals { own }
    }

    /// The part of [`Attributor::observe`] that reads only the message,
    /// the rules and the bot list (rule match or template signature, the
    /// listing, the keys): no attributor needed, so a batch can be
    /// prepared on other threads while one files it with
    /// [`Attributor::observe_prepared`]. Same result as `observe`.
    pub fn prepare<'a>(
        rules: &'a RuleSet,
        f: &MessageFeatures,
        bots: &'a dyn BotList,
    ) -> Prepared<'a> {
        let mut p = Prepared {
            time: f.time,
            sha256: f.sha256,
            listy: f.headers.is_list_mail(),
            ..Prepared::default()
        };
        if !p.listy {
            match rules.first_match_at(f) {
                Some((i, fam, c)) => {
                    p.key = KeyHash::new(9).u64(i as u64).finish();
                    p.rule = Some((fam, c));
                }
                None => p.key = template_signature(f),
            }
            if let Some(ip) = f.relay_ip {
                p.list = bots.family_at(ip, f.time);
            }
        }
        keys_of(f, &mut p.keys);
        p
    }

    /// Files a message prepared by [`Attributor::prepare`] (observe =
    /// prepare + this); `f` is the message `p` was prepared from.
    pub fn observe_prepared(&mut self, f: &MessageFeatures, p: Prepared<'_>) -> OwnSignals {
        debug_assert!(f.time == p.time && f.sha256 == p.sha256);
        self.file(p)
    }

    /// Files a message prepared by [`Attributor::prepare`]: `p` carries
    /// all the message's signals, so the features themselves need not be
    /// kept (a caller holding millions of messages keeps only these).
    pub fn file(&mut self, p: Prepared<'_>) -> OwnSignals {
        let mut own = Own {
            listy: p.listy,
            ..Own::default()
        };
        if !p.listy {
            let rule = p.rule.map(|(fam, c)| (self.families.id(fam), c));
            own.rule = rule.map(|r| r.0);
            own.template = self.index.template(p.key, rule);
            if let Some((fam, c)) = p.list {
                let w = (c / BotListIndex::INSIDE * UNIT).round().clamp(1.0, UNIT) as u32;
                own.list = Some((self.families.id(fam), w));
            }
        }
        (own.site, own.relay) = self.index.observe(p.time, p.sha256, &p.keys, own);
        OwnSignals { own }
    }

    fn refresh(&mut self) {
        let families = self.families.names.len();
        if self.solution.observed != self.index.observed || self.solution.families != families {
            self.solution = solve::solve(&self.index, families);
        }
    }

    /// Decides a message observed before, from its own signals (which
    /// carry its keys: `f` only gives the SHA-256 and time) and what its
    /// campaign, relays and template say now.
    pub fn decide(&mut self, f: &MessageFeatures, own: OwnSignals) -> Attribution {
        self.refresh();
        self.decide_solved(f, own)
    }

    /// Solves the campaigns' families for everything observed so far (what
    /// [`Attributor::decide`] does first when messages were observed since),
    /// so that [`Attributor::decide_solved`] can then decide from `&self`,
    /// from several threads at once.
    pub fn solve(&mut self) {
        self.refresh();
    }

    /// [`Attributor::decide`] with the solution of the last
    /// [`Attributor::solve`] (or `decide`): the same answer when nothing
    /// was observed since. Messages observed after that solution are
    /// decided from a stale one; call `solve` after the last `observe`.
    pub fn decide_solved(&self, f: &MessageFeatures, own: OwnSignals) -> Attribution {
        self.decide_solved_at(f.sha256, f.time, own)
    }

    /// [`Attributor::decide_solved`] from the message's SHA-256 and time
    /// alone (all a decision reads of the message besides `own`).
    pub fn decide_solved_at(&self, sha256: [u8; 32], time: i64, own: OwnSignals) -> Attribution {
        let o = own.own;
        let (label, campaign) = if o.listy {
            (Label::NONE, None)
        } else {
            let root = self.index.campaign_root(&o);
            let sol = &self.solution;
            let label = match root {
                Some(r) if !sol.tainted.get(r as usize).copied().unwrap_or(true) => {
                    sol.labels.get(r as usize).copied().unwrap_or(Label::NONE)
                }
                _ => solve::lone(&self.index, sol, o),
            };
            (label, root.and_then(|r| self.index.campaign_id(r)))
        };
        let (botnet, confidence, signal) = self.verdict(label, o);
        Attribution {
            sha256,
            time,
            botnet,
            campaign,
            confidence,
            signal,
        }
    }

    /// Name, confidence and deciding signal of a label for a message.
    fn verdict(&self, label: Label, o: Own) -> (Option<String>, f64, Signal) {
        let fam = label.fam;
        if fam == NO_FAMILY {
            return (None, 0.0, Signal::None);
        }
        let list_w = |l: Option<(u32, u32)>| l.map_or(0.0, |(_, w)| f64::from(w) / UNIT);
        let own_all = list_w(o.list);
        let own_fam = list_w(o.list.filter(|l| l.0 == fam));
        let trust = self.solution.trust.get(o.template as usize).copied();
        let signal = if o.rule == Some(fam) && trust.unwrap_or(0.0) >= 0.5 {
            Signal::Rule
        } else if own_fam > 0.0 && label.ev_fam - own_fam < own_fam {
            Signal::BotList
        } else {
            Signal::Cluster
        };
        let agree = (1.0 + label.ev_fam + own_fam) / (1.0 + label.ev_all + own_all);
        let conf = (label.p * agree).clamp(0.0, 0.999);
        let conf = (conf * 1e6).round() / 1e6;
        (self.families.names.get(fam as usize).cloned(), conf, signal)
    }

    /// Makes room for `n` more messages (a batch of known size), so the
    /// index's maps do not rehash as they grow.
    pub fn reserve(&mut self, n: usize) {
        self.index.reserve(n);
    }

    /// Keys in the index (memory grows with these).
    pub fn indexed_keys(&self) -> usize {
        self.index.key_count()
    }
}

/// Attributes a batch (sorted by time, though the result does not depend
/// on the order): every message is observed, then every one decided, so
/// each decision sees the whole batch.
pub fn attribute_batch(
    batch: &[MessageFeatures],
    rules: &RuleSet,
    bots: &dyn BotList,
) -> Vec<Attribution> {
    let mut a = Attributor::new(rules);
    let own: Vec<OwnSignals> = batch.iter().map(|f| a.observe(f, bots)).collect();
    batch.iter().zip(own).map(|(f, o)| a.decide(f, o)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
version = 1
[[rule]]
id = "oldnet-imit"
family = "oldnet"
confidence = 0.93
x_mailer = ["Imit 1.0"]
content_type = "text/plain"
received_below = 0
"#;

    /// Message `i` of campaign `site`, sent by relay `relay` with the
    /// template the rule above names.
    fn msg(site: &str, i: u8, relay: u8) -> MessageFeatures {
        let mut sha = [0u8; 32];
        sha[0] = i;
        sha[1] = site.len() as u8;
        sha[2] = site.as_bytes()[0];
        MessageFeatures {
            sha256: sha,
            time: i64::from(i) * 1_000_000,
            relay_ip: Some(IpAddr::from([192, 0, 2, relay])),
            url_domains: vec![site.to_owned()],
            headers: HeaderSummary {
                names: vec!["Received".into(), "X-Mailer".into()],
                x_mailer: Some("Imit 1.0".into()),
                received: vec!["from x".into()],
                ..HeaderSummary::default()
            },
            ..MessageFeatures::default()
        }
    }

    /// Three campaigns of ten messages on distinct relays; the first relay
    /// of the campaigns in `listed` is listed under `family`.
    fn world(family: &str, listed: &[usize]) -> Vec<Attribution> {
        let rules = RuleSet::parse(RULES, "test").unwrap();
        let mut bots = BotListIndex::new();
        let mut batch = Vec::new();
        for (c, site) in ["a.example", "b.example", "c.example"].iter().enumerate() {
            for i in 0..10u8 {
                let relay = (c as u8) * 10 + i + 1;
                batch.push(msg(site, i, relay));
            }
            if listed.contains(&c) {
                let ip = IpAddr::from([192, 0, 2, (c as u8) * 10 + 1]);
                bots.insert(ip, family, 0, 100_000_000);
            }
        }
        attribute_batch(&batch, &rules, &bots)
    }

    #[test]
    fn a_rule_the_bot_lists_confirm_decides_even_unlisted_campaigns() {
        for a in world("oldnet", &[0, 1]) {
            assert_eq!(a.botnet.as_deref(), Some("oldnet"), "{a:?}");
            assert_eq!(a.signal, Signal::Rule);
        }
    }

    #[test]
    fn a_rule_whose_campaigns_the_lists_name_otherwise_stops_deciding() {
        // Every listed campaign of the template is another family's: the
        // listed ones go to it, the unlisted one to nobody (its only
        // evidence is a template the lists contradict).
        let out = world("newnet", &[0, 1]);
        for a in out.get(..20).unwrap() {
            assert_eq!(a.botnet.as_deref(), Some("newnet"), "{a:?}");
            assert_ne!(a.signal, Signal::Rule, "{a:?}");
        }
        for a in out.get(20..).unwrap() {
            assert_ne!(a.botnet.as_deref(), Some("oldnet"), "{a:?}");
        }
    }

    #[test]
    fn one_mislabelled_listing_does_not_move_a_confirmed_rule() {
        let rules = RuleSet::parse(RULES, "test").unwrap();
        let mut bots = BotListIndex::new();
        let mut batch = Vec::new();
        for (c, site) in ["a.example", "b.example", "c.example", "d.example"]
            .iter()
            .enumerate()
        {
            for i in 0..10u8 {
                batch.push(msg(site, i, (c as u8) * 10 + i + 1));
            }
            let fam = if c == 3 { "newnet" } else { "oldnet" };
            // Campaigns 0-2: two listings each; campaign 3: one, wrong.
            for k in 0..(if c == 3 { 1 } else { 2 }) {
                let ip = IpAddr::from([192, 0, 2, (c as u8) * 10 + 1 + k]);
                bots.insert(ip, fam, 0, 100_000_000);
            }
        }
        for a in attribute_batch(&batch, &rules, &bots) {
            assert_ne!(a.botnet.as_deref(), Some("newnet"), "{a:?}");
        }
    }

    /// prepare + observe_prepared + solve + decide_solved is observe +
    /// decide, listing by listing (rule, bot list, unknown families).
    #[test]
    fn prepared_observe_and_solved_decide_give_what_observe_and_decide_give() {
        let rules = RuleSet::parse(RULES, "test").unwrap();
        let mut bots = BotListIndex::new();
        let mut batch = Vec::new();
        for (c, site) in ["a.example", "b.example", "c.example"].iter().enumerate() {
            for i in 0..12u8 {
                let mut m = msg(site, i, (c as u8) * 20 + i % 7 + 1);
                if c == 2 {
                    m.headers.x_mailer = Some("Other 2.0".into());
                }
                batch.push(m);
            }
            let fam = ["oldnet", "Trojan.Newnet", "SRIZBI"][c];
            bots.insert(
                IpAddr::from([192, 0, 2, (c as u8) * 20 + 1]),
                fam,
                0,
                100_000_000,
            );
        }
        let want = attribute_batch(&batch, &rules, &bots);
        let mut a = Attributor::new(&rules);
        let own: Vec<OwnSignals> = batch
            .iter()
            .map(|f| {
                let p = Attributor::prepare(&rules, f, &bots);
                a.observe_prepared(f, p)
            })
            .collect();
        a.solve();
        let got: Vec<Attribution> = batch
            .iter()
            .zip(own)
            .map(|(f, o)| a.decide_solved(f, o))
            .collect();
        assert_eq!(got, want);
        assert!(got.iter().any(|x| x.botnet.as_deref() == Some("srizbi")));
    }
}
