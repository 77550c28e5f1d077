//! Campaign clustering: an incremental index of the keys messages share,
//! with the labels seen under each key, and the campaigns (connected
//! components of shared advertised sites or identical content).
//!
//! Keys a message is filed under:
//!
//! * each advertised site (registrable domain or IP-literal host);
//! * its relay address within the UTC day (shared sending infrastructure:
//!   one bot sends for one botnet while it holds an address);
//! * four LSH bands of its 16-slot MinHash fingerprint (four slots each),
//!   so near-duplicate bodies meet in at least one band with probability
//!   `1 - (1 - J^4)^4` (J = 0.8: 0.87; J = 0.5: 0.23).
//!
//! Why votes per key and not one union-find over everything: a single
//! wrong link (an address reused by another botnet's bot after a DHCP
//! lease, two campaigns on the same topic with the same template text)
//! would merge whole botnets and relabel them all. Each key instead keeps
//! its own tally of the labels of its members, and a message's cluster
//! label is the weighted majority over its keys, each key's weight capped,
//! so one bad key moves few votes. Campaign ids still come from a
//! union-find, but only over the strongest links (shared advertised sites,
//! identical fingerprints for messages without sites), and a campaign id
//! carries no label by itself.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::IpAddr;

use super::features::MessageFeatures;

/// Votes one key can give, at most (why: a key with thousands of labelled
/// members must not drown the message's other keys).
const KEY_CAP: f64 = 10.0;
/// Weight of an advertised-site key.
const W_SITE: f64 = 1.0;
/// Weight of a relay-address-and-day key.
const W_RELAY: f64 = 1.0;
/// Weight of an LSH band key: near-duplicate text also joins campaigns of
/// other botnets on the same topic, so it counts less.
const W_BAND: f64 = 0.3;
/// Weight of the message's campaign (all members of its component).
const W_CAMPAIGN: f64 = 1.0;
const DAY_MICROS: i64 = 86_400_000_000;

/// A hasher for keys that are already 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// FNV-1a then a splitmix finaliser: a stable 64-bit key.
fn hash_bytes(tag: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(tag);
    for p in parts {
        for &b in *p {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A key and its weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) id: u64,
    pub(crate) weight: f64,
    /// Joins campaigns (sites, identical content).
    pub(crate) campaign: bool,
}

/// The keys of a message: its sites, its relay and day, four LSH bands,
/// and its whole fingerprint when it advertises no site.
pub(crate) fn keys_of(f: &MessageFeatures, out: &mut Vec<Key>) {
    out.clear();
    for d in &f.url_domains {
        out.push(Key {
            id: hash_bytes(1, &[d.as_bytes()]),
            weight: W_SITE,
            campaign: true,
        });
    }
    if let Some(ip) = f.relay_ip {
        let day = f.time.div_euclid(DAY_MICROS).to_le_bytes();
        let ipb: Vec<u8> = match ip {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        out.push(Key {
            id: hash_bytes(2, &[&ipb, &day]),
            weight: W_RELAY,
            campaign: false,
        });
    }
    if let Some(fp) = f.fingerprint {
        for (band, slots) in fp.chunks_exact(4).enumerate() {
            let mut b = [0u8; 17];
            let bytes =
                std::iter::once(band as u8).chain(slots.iter().flat_map(|s| s.to_le_bytes()));
            for (dst, src) in b.iter_mut().zip(bytes) {
                *dst = src;
            }
            out.push(Key {
                id: hash_bytes(3, &[&b]),
                weight: W_BAND,
                campaign: false,
            });
        }
        if f.url_domains.is_empty() {
            let mut b = [0u8; 64];
            for (dst, src) in b.iter_mut().zip(fp.iter().flat_map(|s| s.to_le_bytes())) {
                *dst = src;
            }
            out.push(Key {
                id: hash_bytes(4, &[&b]),
                weight: 0.0,
                campaign: true,
            });
        }
    }
}

/// Labels tallied under one key.
#[derive(Debug, Default, Clone)]
struct Tally {
    members: u32,
    /// Members with mailing-list headers.
    listy: u32,
    /// (family id, rule votes, bot-list votes).
    votes: Vec<(u32, u32, u32)>,
}

/// A message's own labels, as filed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Own {
    pub(crate) rule: Option<u32>,
    pub(crate) list: Option<u32>,
    pub(crate) listy: bool,
}

/// What the keys of a message say, its own labels left out.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClusterVote {
    /// (family id, weighted votes of rules and bot lists, of bot lists only).
    pub(crate) votes: Vec<(u32, f64, f64)>,
    pub(crate) total: f64,
    pub(crate) list_total: f64,
    /// Only near-duplicate text (LSH bands) voted.
    pub(crate) weak: bool,
}

impl ClusterVote {
    /// The family with the most votes, its share and the total.
    pub(crate) fn top(&self) -> Option<(u32, f64, f64)> {
        let best = self
            .votes
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        (self.total > 0.0).then(|| (best.0, best.1 / self.total, self.total))
    }

    /// The same, over bot-list votes only.
    pub(crate) fn top_list(&self) -> Option<(u32, f64, f64)> {
        let best = self
            .votes
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)))?;
        (self.list_total > 0.0).then(|| (best.0, best.2 / self.list_total, self.list_total))
    }

    /// Bot-list share of one family.
    pub(crate) fn list_share(&self, fam: u32) -> f64 {
        if self.list_total <= 0.0 {
            return 0.0;
        }
        self.votes
            .iter()
            .find(|v| v.0 == fam)
            .map_or(0.0, |v| v.2 / self.list_total)
    }
}

/// The incremental index.
#[derive(Debug, Default)]
pub(crate) struct ClusterIndex {
    tallies: IdMap<Tally>,
    /// Campaign key -> union-find node.
    nodes: IdMap<u32>,
    parent: Vec<u32>,
    /// Per node: the earliest member (time, sha256), kept at the root.
    first: Vec<(i64, [u8; 32])>,
    /// Per node: the labels of the campaign's members, kept at the root
    /// (merged when two campaigns join).
    camp: Vec<Tally>,
}

impl Tally {
    fn add(&mut self, own: Own) {
        self.members = self.members.saturating_add(1);
        self.listy = self.listy.saturating_add(u32::from(own.listy));
        if own.listy {
            return;
        }
        for (fam, is_rule) in [(own.rule, true), (own.list, false)] {
            let Some(fam) = fam else { continue };
            match self.votes.iter_mut().find(|v| v.0 == fam) {
                Some(v) if is_rule => v.1 = v.1.saturating_add(1),
                Some(v) => v.2 = v.2.saturating_add(1),
                None => self
                    .votes
                    .push((fam, u32::from(is_rule), u32::from(!is_rule))),
            }
        }
    }

    fn merge(&mut self, o: Tally) {
        self.members = self.members.saturating_add(o.members);
        self.listy = self.listy.saturating_add(o.listy);
        for (fam, r, l) in o.votes {
            match self.votes.iter_mut().find(|v| v.0 == fam) {
                Some(v) => {
                    v.1 = v.1.saturating_add(r);
                    v.2 = v.2.saturating_add(l);
                }
                None => self.votes.push((fam, r, l)),
            }
        }
    }
}

impl ClusterIndex {
    /// Files a message under its keys.
    pub(crate) fn observe(&mut self, f: &MessageFeatures, keys: &[Key], own: Own) {
        let mut root: Option<u32> = None;
        for k in keys {
            if k.weight > 0.0 {
                self.tallies.entry(k.id).or_default().add(own);
            }
            if k.campaign && !own.listy {
                let n = self.node(k.id, f);
                root = Some(match root {
                    None => self.find(n),
                    Some(r) => self.union(r, n),
                });
            }
        }
        if let Some(r) = root
            && let Some(t) = self.camp.get_mut(r as usize)
        {
            t.add(own);
        }
    }

    fn node(&mut self, key: u64, f: &MessageFeatures) -> u32 {
        let next = self.parent.len() as u32;
        let n = *self.nodes.entry(key).or_insert(next);
        if n == next {
            self.parent.push(n);
            self.first.push((f.time, f.sha256));
            self.camp.push(Tally::default());
        }
        let r = self.find(n);
        if let Some(slot) = self.first.get_mut(r as usize)
            && (f.time, f.sha256) < *slot
        {
            *slot = (f.time, f.sha256);
        }
        n
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while let Some(&p) = self.parent.get(n as usize) {
            if p == n {
                break;
            }
            let gp = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(n as usize) {
                *slot = gp;
            }
            n = p;
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) -> u32 {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return ra;
        }
        let fa = self.first.get(ra as usize).copied();
        let fb = self.first.get(rb as usize).copied();
        let (keep, drop) = if fa <= fb { (ra, rb) } else { (rb, ra) };
        if let Some(slot) = self.parent.get_mut(drop as usize) {
            *slot = keep;
        }
        let moved = self.camp.get_mut(drop as usize).map(std::mem::take);
        if let (Some(m), Some(t)) = (moved, self.camp.get_mut(keep as usize)) {
            t.merge(m);
        }
        keep
    }

    /// The campaign root of a message filed under `keys`.
    fn root(&self, keys: &[Key]) -> Option<u32> {
        let k = keys.iter().find(|k| k.campaign)?;
        let mut n = *self.nodes.get(&k.id)?;
        while let Some(&p) = self.parent.get(n as usize) {
            if p == n {
                break;
            }
            n = p;
        }
        Some(n)
    }

    /// The campaign id of a message filed under `keys`: the earliest
    /// member of its component, as `c-` and 12 hex digits of its SHA-256.
    pub(crate) fn campaign(&self, keys: &[Key]) -> Option<String> {
        let n = self.root(keys)?;
        let (_, sha) = self.first.get(n as usize)?;
        let mut s = String::with_capacity(14);
        s.push_str("c-");
        for b in sha.iter().take(6) {
            s.push_str(&format!("{b:02x}"));
        }
        Some(s)
    }

    /// What the keys say about a message, its own labels taken out: its
    /// campaign, its sites and its relay first; only when those carry no
    /// label, its LSH bands (near-duplicate text is shared by campaigns of
    /// other botnets on the same topic, so it never outvotes them).
    pub(crate) fn vote(&self, keys: &[Key], own: Own, out: &mut ClusterVote) {
        out.votes.clear();
        out.total = 0.0;
        out.list_total = 0.0;
        out.weak = false;
        if let Some(t) = self.root(keys).and_then(|r| self.camp.get(r as usize)) {
            add_tally(t, W_CAMPAIGN, own, out);
        }
        for k in keys.iter().filter(|k| k.weight >= W_SITE) {
            if let Some(t) = self.tallies.get(&k.id) {
                add_tally(t, k.weight, own, out);
            }
        }
        if out.total > 0.0 {
            return;
        }
        out.weak = true;
        for k in keys.iter().filter(|k| k.weight > 0.0 && k.weight < W_SITE) {
            if let Some(t) = self.tallies.get(&k.id) {
                add_tally(t, k.weight, own, out);
            }
        }
    }

    /// Keys indexed (for memory accounting).
    pub(crate) fn key_count(&self) -> usize {
        self.tallies.len()
    }
}

/// Adds one key's tally to a vote, the message's own labels left out.
fn add_tally(t: &Tally, weight: f64, own: Own, out: &mut ClusterVote) {
    // A key dominated by mailing-list mail carries no label.
    if u64::from(t.listy) * 2 > u64::from(t.members) {
        return;
    }
    let mine = |fam: u32, rule: bool| -> u32 {
        let o = if rule { own.rule } else { own.list };
        u32::from(!own.listy && o == Some(fam))
    };
    let mut labelled = 0u64;
    let mut list_labelled = 0u64;
    for &(fam, r, l) in &t.votes {
        let (r, l) = (r - mine(fam, true).min(r), l - mine(fam, false).min(l));
        labelled += u64::from(r) + u64::from(l);
        list_labelled += u64::from(l);
    }
    if labelled == 0 {
        return;
    }
    let scale = weight * (labelled as f64).min(KEY_CAP) / labelled as f64;
    let lscale = if list_labelled > 0 {
        weight * (list_labelled as f64).min(KEY_CAP) / list_labelled as f64
    } else {
        0.0
    };
    for &(fam, r, l) in &t.votes {
        let (r, l) = (r - mine(fam, true).min(r), l - mine(fam, false).min(l));
        if r + l == 0 {
            continue;
        }
        let add = scale * f64::from(r + l);
        let ladd = lscale * f64::from(l);
        match out.votes.iter_mut().find(|v| v.0 == fam) {
            Some(v) => {
                v.1 += add;
                v.2 += ladd;
            }
            None => out.votes.push((fam, add, ladd)),
        }
        out.total += add;
        out.list_total += ladd;
    }
}
