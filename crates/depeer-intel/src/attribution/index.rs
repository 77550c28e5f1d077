//! The incremental index behind attribution: campaigns, sending
//! infrastructure and templates, and the evidence each holds.
//!
//! * **Campaigns**: connected components of the advertised sites
//!   (registrable domain or IP-literal host) their messages share, or of
//!   identical content fingerprints for messages that advertise no site
//!   (a union-find, merged as messages arrive). A campaign is the unit a
//!   family is decided for: one campaign is run by one botnet.
//! * **Relays**: the relay address within a [`RELAY_DAYS`]-day window. A
//!   bot keeps its address for its DHCP lease (for ever on a static line)
//!   and sends for one botnet, so campaigns that share relays are likely
//!   the same botnet's: these are the edges along which bot-list
//!   evidence flows from campaign to campaign.
//! * **Templates**: the rule that fires, or, when none does, a signature
//!   of the template engine's quirks ([`template_signature`]). A rule names
//!   a family, but another botnet may send with the same template (a
//!   variant, a successor, a rented engine); what the bot lists say about
//!   the template's campaigns measures how far its name can be trusted.
//!
//! Bot-list evidence is kept once per (relay window, family) and campaign
//! or template: a bot sending many messages from one listed address is
//! one witness, not many. Weights are integers ([`Own::list`]), so that
//! the totals, and the decisions, do not depend on the order messages
//! were observed. Mailing-list mail joins no campaign, relay or template
//! and carries no label; a site mostly seen in mailing-list mail taints
//! its campaign (the solver skips it).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::IpAddr;

use super::features::MessageFeatures;
use super::rules::FirstFields;

/// Days a relay address stays one key (fixed windows since the epoch).
pub(crate) const RELAY_DAYS: i64 = 7;
/// A relay window seen in more campaigns than this links none of them
/// (a shared gateway or proxy, not one bot).
pub(crate) const MAX_RELAY_CAMPAIGNS: usize = 16;
const DAY_MICROS: i64 = 86_400_000_000;
/// No node.
const NONE: u32 = u32::MAX;

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

/// A map keyed by 64-bit hashes.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// An incremental hash of byte strings, eight bytes at a time, with a
/// splitmix finaliser: keys stable within a process (they never leave it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHash(u64);

const K_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

impl KeyHash {
    pub(crate) fn new(tag: u8) -> Self {
        KeyHash(0xcbf2_9ce4_8422_2325 ^ u64::from(tag))
    }
    fn word(self, w: u64) -> Self {
        KeyHash((self.0 ^ w).wrapping_mul(K_MUL).rotate_left(29))
    }
    pub(crate) fn bytes(mut self, b: &[u8]) -> Self {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self = self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(rest) {
            *d = *s;
        }
        self.word(u64::from_le_bytes(w) ^ ((b.len() as u64) << 56 | 0x80))
    }
    pub(crate) fn byte(self, x: u8) -> Self {
        self.word(u64::from(x) | 0x100)
    }
    pub(crate) fn u64(self, n: u64) -> Self {
        self.word(n).word(0x5bd1_e995)
    }
    pub(crate) fn finish(self) -> u64 {
        let mut h = self.0;
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

/// A message's own signals as filed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Own {
    /// Family of the rule that fired.
    pub(crate) rule: Option<u32>,
    /// Template id (the rule's, or the auto signature's).
    pub(crate) template: u32,
    /// Bot-list family and weight (100 = a listing covering the moment).
    pub(crate) list: Option<(u32, u32)>,
    /// Mailing-list headers.
    pub(crate) listy: bool,
    /// Its first site (or fingerprint) key and its relay window, as
    /// filed: dense ids into [`Index::sites`] and [`Index::relays`], so a
    /// decision hashes nothing.
    pub(crate) site: Option<u32>,
    pub(crate) relay: Option<u32>,
}

/// Bot-list votes: (family, summed integer weight).
pub(crate) type Votes = Vec<(u32, u64)>;

pub(crate) fn add_vote(v: &mut Votes, fam: u32, w: u64) {
    match v.iter_mut().find(|x| x.0 == fam) {
        Some(x) => x.1 += w,
        None => v.push((fam, w)),
    }
}

/// What a campaign holds (kept at its root).
#[derive(Debug, Default, Clone)]
pub(crate) struct Camp {
    pub(crate) members: u32,
    /// (template id, members).
    pub(crate) templates: Vec<(u32, u32)>,
    /// Bot-list votes of its members.
    pub(crate) lists: Votes,
}

impl Camp {
    fn merge(&mut self, o: Camp) {
        self.members = self.members.saturating_add(o.members);
        for (t, n) in o.templates {
            match self.templates.iter_mut().find(|x| x.0 == t) {
                Some(x) => x.1 = x.1.saturating_add(n),
                None => self.templates.push((t, n)),
            }
        }
        for (f, w) in o.lists {
            add_vote(&mut self.lists, f, w);
        }
    }
}

/// A site (or fingerprint) key: how many messages, how many of them
/// mailing-list mail, and its campaign node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SiteKey {
    pub(crate) members: u32,
    pub(crate) listy: u32,
    pub(crate) node: u32,
}

/// A relay window: the campaign nodes seen under it (at most
/// [`MAX_RELAY_CAMPAIGNS`] + 1 kept), its bot-list votes, and which
/// (family, campaign node or template) its votes were already counted for.
#[derive(Debug, Default, Clone)]
pub(crate) struct RelayKey {
    pub(crate) nodes: Vec<u32>,
    pub(crate) lists: Votes,
    /// (tag, family, node or template) counted: a bot sending many
    /// messages from one listed address is one witness.
    voted: Vec<(u8, u32, u32)>,
}

impl RelayKey {
    /// Records a vote of `fam` for `who` (kind `tag`); false when it was
    /// already counted.
    fn first_vote(&mut self, tag: u8, fam: u32, who: u32) -> bool {
        let k = (tag, fam, who);
        if self.voted.contains(&k) {
            return false;
        }
        self.voted.push(k);
        true
    }
}

/// A template: the rule's family and confidence (none for an auto
/// signature) and the bot-list votes of the messages sent with it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Template {
    pub(crate) rule: Option<(u32, f64)>,
    pub(crate) lists: Votes,
}

/// The incremental index. Keys (64-bit hashes) are mapped once to dense
/// ids; everything else is kept in vectors indexed by those ids.
#[derive(Debug, Default)]
pub(crate) struct Index {
    site_ids: IdMap<u32>,
    /// Per site (or fingerprint) key, by dense id.
    pub(crate) sites: Vec<SiteKey>,
    pub(crate) parent: Vec<u32>,
    /// Per node: the earliest member (time, sha256), kept at the root.
    pub(crate) first: Vec<(i64, [u8; 32])>,
    pub(crate) camp: Vec<Camp>,
    relay_ids: IdMap<u32>,
    /// Per relay window, by dense id.
    pub(crate) relays: Vec<RelayKey>,
    pub(crate) templates: Vec<Template>,
    template_ids: IdMap<u32>,
    /// Messages observed (the solution is stale when this moved).
    pub(crate) observed: u64,
}

/// Site keys kept inline: most messages advertise one or two sites, so
/// computing a message's keys allocates nothing.
const INLINE_SITES: usize = 4;

/// The site keys of one message (the fingerprint key when there is no
/// site): up to [`INLINE_SITES`] inline, the rest beside.
#[derive(Debug, Default, Clone)]
pub(crate) struct SiteKeys {
    inline: [u64; INLINE_SITES],
    n: usize,
    more: Vec<u64>,
}

impl SiteKeys {
    fn clear(&mut self) {
        self.n = 0;
        self.more.clear();
    }
    fn push(&mut self, k: u64) {
        match self.inline.get_mut(self.n) {
            Some(slot) => {
                *slot = k;
                self.n += 1;
            }
            None => self.more.push(k),
        }
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.inline
            .iter()
            .take(self.n)
            .chain(self.more.iter())
            .copied()
    }
}

/// The keys of one message.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keys {
    /// Site keys (or the fingerprint key when there is no site).
    pub(crate) sites: SiteKeys,
    /// The relay window.
    pub(crate) relay: Option<u64>,
}

/// The key of an advertised site seen at `time`. A registrable domain is
/// its own key; an address literal (`192.0.2.1`, `[2001:db8::1]`) is keyed
/// with its [`RELAY_DAYS`]-day window, as relays are: a hoster hands an
/// address to another customer when a site leaves it, so the same
/// address weeks apart is not the same site, and must not join two
/// campaigns (the 5 M-message bench world has six hosting addresses that
/// served sites of two campaigns at different times).
///
/// `None` for a name under no known public suffix: a URL cut off mid-host
/// (a truncated message: `http://www.mar`) leaves a fragment such as
/// `www.mar` that many campaigns share by chance; as a key it merged the
/// campaigns of two botnets into one at 5 M messages.
pub(crate) fn site_key(site: &str, time: i64) -> Option<u64> {
    let bare = site
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(site);
    let literal = site
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'[')
        && bare.parse::<IpAddr>().is_ok();
    if literal {
        let window = time.div_euclid(DAY_MICROS * RELAY_DAYS) as u64;
        Some(KeyHash::new(3).u64(window).bytes(bare.as_bytes()).finish())
    } else if psl::suffix(site.as_bytes()).is_some_and(|s| s.is_known()) || special_use(site) {
        Some(KeyHash::new(1).bytes(site.as_bytes()).finish())
    } else {
        None
    }
}

/// Names under the special-use top-level domains of RFC 2606 and 6761,
/// which the Public Suffix List does not carry (documentation and test
/// mail uses them).
fn special_use(site: &str) -> bool {
    let tld = site.rsplit('.').next().unwrap_or(site);
    ["example", "test", "invalid", "localhost"]
        .iter()
        .any(|t| tld.eq_ignore_ascii_case(t))
}

/// Fills `out` with the keys of `f`.
pub(crate) fn keys_of(f: &MessageFeatures, out: &mut Keys) {
    out.sites.clear();
    for d in &f.url_domains {
        if let Some(k) = site_key(d, f.time) {
            out.sites.push(k);
        }
    }
    if out.sites.n == 0
        && let Some(fp) = f.fingerprint
    {
        let mut h = KeyHash::new(4);
        for pair in fp.chunks_exact(2) {
            let (a, b) = match pair {
                [a, b] => (*a, *b),
                _ => (0, 0),
            };
            h = h.word(u64::from(a) | u64::from(b) << 32);
        }
        out.sites.push(h.finish());
    }
    out.relay = f.relay_ip.map(|ip| {
        let window = f.time.div_euclid(DAY_MICROS * RELAY_DAYS) as u64;
        let h = KeyHash::new(2).u64(window);
        match ip {
            IpAddr::V4(a) => h.bytes(&a.octets()),
            IpAddr::V6(a) => h.bytes(&a.octets()),
        }
        .finish()
    });
}

/// The signature of a message's template when no rule fires: the mailer
/// it names, the first header fields in order, the shape of its
/// Message-ID's left part (runs of letters and digits as one `x`) and
/// whether its right part is an address literal, the forged `Received:`
/// hops below the relay's and the top-level media type. Campaign text,
/// addresses and sites do not enter it.
pub(crate) fn template_signature(f: &MessageFeatures) -> u64 {
    let h = &f.headers;
    let mut k = KeyHash::new(5).bytes(h.x_mailer.as_deref().unwrap_or("\0").as_bytes());
    for n in FirstFields::of(&h.names).names().iter().take(6) {
        for b in n.bytes() {
            k = k.byte(b.to_ascii_lowercase());
        }
        k = k.byte(b':');
    }
    let mid = f.message_id.as_deref().unwrap_or("");
    let (left, right) = mid.split_once('@').unwrap_or((mid, ""));
    let mut run = false;
    for b in left.bytes() {
        if b.is_ascii_alphanumeric() {
            if !run {
                k = k.byte(b'x');
            }
            run = true;
        } else {
            k = k.byte(b);
            run = false;
        }
    }
    k = k.byte(if right.starts_with('[') { b'[' } else { b'@' });
    k = k.u64(h.received.len().saturating_sub(1) as u64);
    let media = h
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .unwrap_or("text/plain");
    for b in media.trim().bytes() {
        k = k.byte(b.to_ascii_lowercase());
    }
    k.finish()
}

impl Index {
    /// The template id of a rule (by its index in the rules file) or of
    /// an auto signature.
    pub(crate) fn template(&mut self, key: u64, rule: Option<(u32, f64)>) -> u32 {
        let next = self.templates.len() as u32;
        let id = *self.template_ids.entry(key).or_insert(next);
        if id == next {
            self.templates.push(Template {
                rule,
                lists: Votes::new(),
            });
        }
        id
    }

    /// Room for `n` more messages' keys (a batch of known size: the maps
    /// grow once instead of rehashing at every doubling).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.site_ids.reserve(n);
        self.relay_ids.reserve(n);
        self.sites.reserve(n);
        self.relays.reserve(n);
    }

    /// Files a message under its keys; returns the dense ids of its first
    /// site key and of its relay window (for [`Own::site`], [`Own::relay`]).
    pub(crate) fn observe(
        &mut self,
        time: i64,
        sha256: [u8; 32],
        keys: &Keys,
        own: Own,
    ) -> (Option<u32>, Option<u32>) {
        let at = (time, sha256);
        self.observed += 1;
        let mut root: Option<u32> = None;
        let mut first_node = NONE;
        let mut first_site = None;
        for k in keys.sites.iter() {
            let next_site = self.sites.len() as u32;
            let id = *self.site_ids.entry(k).or_insert(next_site);
            if id == next_site {
                self.sites.push(SiteKey {
                    members: 0,
                    listy: 0,
                    node: NONE,
                });
            }
            first_site.get_or_insert(id);
            let next = self.parent.len() as u32;
            let Some(sk) = self.sites.get_mut(id as usize) else {
                continue;
            };
            sk.members = sk.members.saturating_add(1);
            if own.listy {
                sk.listy = sk.listy.saturating_add(1);
                continue;
            }
            let n = if sk.node == NONE {
                sk.node = next;
                self.parent.push(next);
                self.first.push(at);
                self.camp.push(Camp::default());
                next
            } else {
                sk.node
            };
            if first_node == NONE {
                first_node = n;
            }
            let r = self.find(n);
            if let Some(slot) = self.first.get_mut(r as usize)
                && at < *slot
            {
                *slot = at;
            }
            root = Some(match root {
                None => r,
                Some(a) => self.union(a, r),
            });
        }
        if own.listy {
            // Mailing-list mail joins no relay window either.
            return (first_site, None);
        }
        let relay = keys.relay.map(|rk| {
            let next = self.relays.len() as u32;
            let id = *self.relay_ids.entry(rk).or_insert(next);
            if id == next {
                self.relays.push(RelayKey::default());
            }
            id
        });
        if let Some(r) = root
            && let Some(c) = self.camp.get_mut(r as usize)
        {
            c.members = c.members.saturating_add(1);
            match c.templates.iter_mut().find(|x| x.0 == own.template) {
                Some(x) => x.1 = x.1.saturating_add(1),
                None => c.templates.push((own.template, 1)),
            }
        }
        let mut rk = relay.and_then(|id| self.relays.get_mut(id as usize));
        if let Some(e) = rk.as_deref_mut()
            && first_node != NONE
            && e.nodes.len() <= MAX_RELAY_CAMPAIGNS
            && !e.nodes.contains(&first_node)
        {
            e.nodes.push(first_node);
        }
        let Some((fam, w)) = own.list else {
            return (first_site, relay);
        };
        let w = u64::from(w);
        // Without a relay every message counts (there is no witness to
        // count once).
        let mut first = |tag: u8, who: u32| {
            rk.as_deref_mut()
                .is_none_or(|e| e.first_vote(tag, fam, who))
        };
        let vote_relay = relay.is_some() && first(6, 0);
        let vote_camp = root.is_some() && first(7, first_node);
        let vote_template = first(8, own.template);
        if vote_relay && let Some(e) = rk {
            add_vote(&mut e.lists, fam, w);
        }
        if vote_camp
            && let Some(r) = root
            && let Some(c) = self.camp.get_mut(r as usize)
        {
            add_vote(&mut c.lists, fam, w);
        }
        if vote_template && let Some(t) = self.templates.get_mut(own.template as usize) {
            add_vote(&mut t.lists, fam, w);
        }
        (first_site, relay)
    }

    pub(crate) fn find(&mut self, mut n: u32) -> u32 {
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

    /// The root of a node without path compression.
    pub(crate) fn root_of(&self, mut n: u32) -> u32 {
        while let Some(&p) = self.parent.get(n as usize) {
            if p == n {
                break;
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

    /// The campaign root of a message filed under `keys` (none for
    /// mailing-list mail, which joins no campaign), from its first key.
    pub(crate) fn campaign_root(&self, own: &Own) -> Option<u32> {
        let s = self.sites.get(own.site? as usize)?;
        (s.node != NONE).then(|| self.root_of(s.node))
    }

    /// The campaign id of a root: `c-` and 12 hex digits of the SHA-256
    /// of its earliest member.
    pub(crate) fn campaign_id(&self, root: u32) -> Option<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let (_, sha) = self.first.get(root as usize)?;
        let mut s = String::with_capacity(14);
        s.push_str("c-");
        for &b in sha.iter().take(6) {
            for nib in [b >> 4, b & 15] {
                s.push(char::from(
                    HEX.get(usize::from(nib)).copied().unwrap_or(b'0'),
                ));
            }
        }
        Some(s)
    }

    /// Keys indexed (for memory accounting).
    pub(crate) fn key_count(&self) -> usize {
        self.sites.len() + self.relays.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderSummary;

    fn m(mailer: &str, mid: &str, subject: &str) -> MessageFeatures {
        MessageFeatures {
            message_id: Some(mid.into()),
            subject: Some(subject.into()),
            headers: HeaderSummary {
                names: ["Received", "Message-ID", "Date", "From", "X-Mailer"]
                    .map(String::from)
                    .to_vec(),
                x_mailer: Some(mailer.into()),
                received: vec!["top".into(), "forged".into()],
                ..HeaderSummary::default()
            },
            ..MessageFeatures::default()
        }
    }

    #[test]
    fn a_template_signature_keeps_the_engine_and_drops_the_text() {
        let a = template_signature(&m("Bat 1", "a1b2c3.77@x.example", "Pills"));
        let b = template_signature(&m("Bat 1", "ffee0099.1@other.example", "Watches"));
        assert_eq!(a, b);
        assert_ne!(
            a,
            template_signature(&m("Bat 2", "a1b2c3.77@x.example", "Pills"))
        );
        assert_ne!(
            a,
            template_signature(&m("Bat 1", "a1b2c3$77@x.example", "Pills"))
        );
        assert_ne!(
            a,
            template_signature(&m("Bat 1", "a1b2c3.77@[192.0.2.1]", "Pills"))
        );
    }

    #[test]
    fn site_keys_split_ip_literals_by_week_and_drop_cut_names() {
        let day = DAY_MICROS;
        let k = |s: &str, t: i64| site_key(s, t);
        assert_eq!(k("example.com", 0), k("example.com", 400 * day));
        assert_eq!(k("192.0.2.1", day), k("192.0.2.1", 2 * day));
        assert_ne!(k("192.0.2.1", day), k("192.0.2.1", 60 * day));
        assert_eq!(k("[2001:db8::1]", day), k("2001:db8::1", day));
        assert!(k("192.0.2.1", day).is_some() && k("example.co.uk", 0).is_some());
        // A host cut off mid-name by a truncated message.
        assert_eq!(k("www.mar", 0), None);
        assert_eq!(k("www.stock-p", 0), None);
        assert!(k("a.example", 0).is_some() && k("mail.test", 0).is_some());
    }

    #[test]
    fn key_hashes_separate_tags_lengths_and_bytes() {
        let h = |tag: u8, b: &[u8]| KeyHash::new(tag).bytes(b).finish();
        assert_ne!(h(1, b"abc"), h(2, b"abc"));
        assert_ne!(h(1, b"abc"), h(1, b"abc\0"));
        assert_ne!(h(1, b"12345678a"), h(1, b"12345678b"));
        assert_eq!(h(1, b"same"), h(1, b"same"));
    }
}
