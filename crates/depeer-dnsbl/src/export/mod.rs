//! Exports of listings in the formats operators already load: Spamhaus
//! DROP text and JSON lines, ASN-DROP JSON lines, rbldnsd zone files, a
//! DNS RPZ zone, an nftables set, a BIRD 2 static protocol of blackhole
//! routes and GoBGP command lines. Pure: listings in, text out; one file
//! per format. This module owns the listing model, the merge that makes
//! every output deterministic, and the sanitising of feed-supplied text.
//!
//! ```
//! use depeer_dnsbl::export::{Export, Format, List, Listing, Subject, render};
//! use depeer_core::Timestamp;
//! let l = Listing {
//!     subject: Subject::Net("192.0.2.0/24".parse().unwrap()),
//!     list: List::Drop,
//!     reason: "announced by AS64496".into(),
//!     first_seen: Some(Timestamp::from_secs(1_226_000_000)),
//!     last_seen: None,
//!     source: "spamhaus-asndrop".into(),
//! };
//! let e = Export::new(vec![l], Timestamp::from_secs(1_226_448_000));
//! let out = render(Format::Bird, &e, &[List::Drop]);
//! assert!(out.text.contains("route 192.0.2.0/24 blackhole { bgp_community.add((65535, 666)); };"));
//! ```

mod bird;
mod drop;
mod gobgp;
mod nft;
mod rbldnsd;
mod rpz;

use std::collections::BTreeMap;
use std::net::IpAddr;

use depeer_core::{Prefix, Timestamp};

pub use rbldnsd::{DataZone, data_zones};

/// The lists depeer publishes (issue 20): each is a DNSBL zone
/// (`bots.ORIGIN`, ...) and a filter for the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum List {
    /// Addresses of bots: relays of attributed botnet spam, bot feeds (XBL-like).
    Bots,
    /// C&C servers and addresses hosted by rogue networks (SBL-like).
    Cc,
    /// The announced space of rogue networks (DROP-like).
    Drop,
    /// Domains advertised in botnet spam and listed by URL feeds (DBL-like).
    Dbl,
}

impl List {
    /// Every list, in output order.
    pub const ALL: [List; 4] = [List::Bots, List::Cc, List::Drop, List::Dbl];

    /// The list's name (`bots`, `cc`, `drop`, `dbl`): its zone's first label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bots => "bots",
            Self::Cc => "cc",
            Self::Drop => "drop",
            Self::Dbl => "dbl",
        }
    }

    /// Parses a list name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The DNSBL answer of the list, as Spamhaus' zen codes: XBL 127.0.0.4,
    /// SBL 127.0.0.2, DROP 127.0.0.9, DBL spam domain 127.0.1.2. A mail
    /// server testing "any 127.0.0.x" works, and one that knows Spamhaus'
    /// codes reads ours the same way.
    pub fn code(self) -> [u8; 4] {
        match self {
            Self::Bots => [127, 0, 0, 4],
            Self::Cc => [127, 0, 0, 2],
            Self::Drop => [127, 0, 0, 9],
            Self::Dbl => [127, 0, 1, 2],
        }
    }
}

/// What a listing lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// An address (a host prefix) or a network; host bits are cleared.
    Net(Prefix),
    /// An autonomous system (ASN-DROP).
    Asn(u32),
    /// A DNS name, lowercase, without the trailing dot.
    Domain(String),
}

/// One listing with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// What is listed.
    pub subject: Subject,
    /// On which list.
    pub list: List,
    /// Why, for people (may come from a feed: hostile text is sanitised
    /// per format).
    pub reason: String,
    /// When the evidence starts.
    pub first_seen: Option<Timestamp>,
    /// When it was last seen.
    pub last_seen: Option<Timestamp>,
    /// Who said so (feed source, or `depeer-attribution`).
    pub source: String,
}

/// What depeer knows about an AS, for ASN-DROP's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsInfo {
    /// AS name (`asname`).
    pub name: String,
    /// ISO country code (`cc`).
    pub country: String,
}

/// Listings ready to render: merged (one per list and subject), sorted.
#[derive(Debug, Clone)]
pub struct Export {
    /// The listings, by list then subject.
    pub listings: Vec<Listing>,
    /// The moment the export describes (`--at`).
    pub at: Timestamp,
    /// AS names and countries for ASN-DROP.
    pub as_info: BTreeMap<u32, AsInfo>,
    /// Zone origin for rbldnsd and RPZ (`rpz.depeer.test` / `bl.depeer.test`
    /// by default, set by the caller).
    pub origin: Option<String>,
}

impl Export {
    /// Merges and sorts `listings` as of `at`.
    pub fn new(listings: Vec<Listing>, at: Timestamp) -> Self {
        Self {
            listings: merge(listings),
            at,
            as_info: BTreeMap::new(),
            origin: None,
        }
    }

    /// The listings of `lists` (every list when empty).
    pub fn of<'a>(&'a self, lists: &'a [List]) -> impl Iterator<Item = &'a Listing> + 'a {
        self.listings
            .iter()
            .filter(move |l| lists.is_empty() || lists.contains(&l.list))
    }

    /// The serial of generated zones: `at` in Unix seconds, clamped to 32
    /// bits (RFC 1982 arithmetic makes any later export newer).
    pub fn serial(&self) -> u32 {
        u32::try_from(self.at.secs().max(1)).unwrap_or(u32::MAX)
    }
}

/// One listing per (list, subject): the earliest first-seen, the latest
/// last-seen, the reason of the earliest evidence (ties: the smaller
/// reason), sources joined. Sorted by list, then subject (IPv4 before
/// IPv6, by address then length), so the same data gives the same bytes.
fn merge(mut listings: Vec<Listing>) -> Vec<Listing> {
    listings.sort_by(|a, b| {
        (
            a.list,
            &a.subject,
            a.first_seen.is_none(),
            a.first_seen,
            &a.reason,
            &a.source,
        )
            .cmp(&(
                b.list,
                &b.subject,
                b.first_seen.is_none(),
                b.first_seen,
                &b.reason,
                &b.source,
            ))
    });
    let mut out: Vec<Listing> = Vec::with_capacity(listings.len());
    for l in listings {
        match out.last_mut() {
            Some(prev) if prev.list == l.list && prev.subject == l.subject => {
                prev.first_seen = min_opt(prev.first_seen, l.first_seen);
                prev.last_seen = prev.last_seen.max(l.last_seen);
                if !prev.source.split(',').any(|s| s == l.source) {
                    let mut all: Vec<&str> = prev.source.split(',').collect();
                    all.push(&l.source);
                    all.sort_unstable();
                    prev.source = all.join(",");
                }
            }
            _ => out.push(l),
        }
    }
    out
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The export formats (`depeer export FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Spamhaus DROP text: `CIDR ; evidence`, `;` header lines.
    Drop,
    /// Spamhaus DROP JSON lines (`drop_v4.json` layout), metadata last.
    DropJson,
    /// Spamhaus ASN-DROP JSON lines (`asndrop.json` layout), metadata last.
    Asndrop,
    /// An rbldnsd zone file: ip4set (dnset for `--list dbl`).
    Rbldnsd,
    /// A DNS RPZ zone (RFC-style master file).
    Rpz,
    /// An nftables table of interval sets (`nft -f` input).
    Nft,
    /// A BIRD 2 static protocol of blackhole routes.
    Bird,
    /// `gobgp` command lines (without the program name).
    Gobgp,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 8] = [
        Format::Drop,
        Format::DropJson,
        Format::Asndrop,
        Format::Rbldnsd,
        Format::Rpz,
        Format::Nft,
        Format::Bird,
        Format::Gobgp,
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Drop => "drop",
            Self::DropJson => "drop-json",
            Self::Asndrop => "asndrop",
            Self::Rbldnsd => "rbldnsd",
            Self::Rpz => "rpz",
            Self::Nft => "nft",
            Self::Bird => "bird",
            Self::Gobgp => "gobgp",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The lists a format exports when `--list` is not given: DROP and
    /// ASN-DROP are the drop list; an rbldnsd ip4set the three address
    /// lists; RPZ all four; the firewall set every address list; routers
    /// blackhole rogue space and C&C servers (bots are for mail servers).
    pub fn default_lists(self) -> &'static [List] {
        match self {
            Self::Drop | Self::DropJson | Self::Asndrop => &[List::Drop],
            Self::Rbldnsd | Self::Nft => &[List::Bots, List::Cc, List::Drop],
            Self::Rpz => &List::ALL,
            Self::Bird | Self::Gobgp => &[List::Cc, List::Drop],
        }
    }
}

/// A rendered export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The file's text.
    pub text: String,
    /// Entries written, per list name.
    pub entries: BTreeMap<&'static str, u64>,
    /// Listings of the chosen lists the format cannot hold (an IPv6
    /// network in an ip4set, a domain in a route table, an invalid DNS
    /// name), per list name.
    pub skipped: BTreeMap<&'static str, u64>,
}

impl Rendered {
    fn wrote(&mut self, l: List) {
        *self.entries.entry(l.as_str()).or_insert(0) += 1;
    }

    fn skip(&mut self, l: List) {
        *self.skipped.entry(l.as_str()).or_insert(0) += 1;
    }

    /// Entries written over all lists.
    pub fn total(&self) -> u64 {
        self.entries.values().sum()
    }
}

/// Renders `export` in `format`, restricted to `lists` (the format's
/// default lists when empty).
pub fn render(format: Format, export: &Export, lists: &[List]) -> Rendered {
    let lists = if lists.is_empty() {
        format.default_lists()
    } else {
        lists
    };
    match format {
        Format::Drop => drop::drop_text(export, lists),
        Format::DropJson => drop::drop_json(export, lists),
        Format::Asndrop => drop::asndrop_json(export, lists),
        Format::Rbldnsd => rbldnsd::zone_file(export, lists),
        Format::Rpz => rpz::rpz_zone(export, lists),
        Format::Nft => nft::nft_sets(export, lists),
        Format::Bird => bird::bird_static(export, lists),
        Format::Gobgp => gobgp::gobgp_lines(export, lists),
    }
}

/// Feed text made safe for a one-line slot: printable ASCII only (other
/// characters become `?`, runs of blanks and control characters one
/// space), without the characters in `forbid` (replaced by `_`), at most
/// `max` bytes.
pub(crate) fn clean(s: &str, forbid: &[char], max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    let mut space = false;
    for c in s.chars() {
        if out.len() >= max {
            break;
        }
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
            if out.len() >= max {
                break;
            }
        }
        let c = if !c.is_ascii() {
            '?'
        } else if forbid.contains(&c) {
            '_'
        } else {
            c
        };
        out.push(c);
    }
    out
}

/// `2008-11-11` of a time, `-` when unknown.
pub(crate) fn day(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), Timestamp::day)
}

/// The evidence of a listing as one line of text: `reason; first seen
/// DAY; last seen DAY; source SRC`, cleaned of `forbid`, at most `max`.
pub(crate) fn evidence(l: &Listing, forbid: &[char], max: usize) -> String {
    let text = format!(
        "{}: {}; first seen {}; last seen {}; source {}",
        l.list.as_str(),
        l.reason,
        day(l.first_seen),
        day(l.last_seen),
        l.source
    );
    clean(&text, forbid, max)
}

/// The prefix of a network listing, `None` for ASes and domains.
pub(crate) fn net(l: &Listing) -> Option<Prefix> {
    match &l.subject {
        Subject::Net(p) => Some(p.trunc()),
        _ => None,
    }
}

/// Whether a prefix is IPv4.
pub(crate) fn is_v4(p: &Prefix) -> bool {
    matches!(p.addr(), IpAddr::V4(_))
}

/// A DNS name as a list of valid labels (letters, digits, `-`, `_`; 1 to
/// 63 bytes each; at most 253 bytes with `room` more), or `None`.
pub(crate) fn dns_name(name: &str, room: usize) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.len() + room > 253 {
        return None;
    }
    let ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    ok.then_some(name)
}

/// Drops networks contained in another network of the same set (an
/// interval set or route table needs no covered entry; nft refuses
/// overlapping elements). `nets` must be sorted by address then length,
/// as [`Export`] keeps them; returns the kept indices.
pub(crate) fn outermost(nets: &[Prefix]) -> Vec<usize> {
    let mut keep: Vec<usize> = Vec::new();
    let mut sorted: Vec<usize> = (0..nets.len()).collect();
    sorted.sort_by(|&a, &b| {
        let (pa, pb) = (nets.get(a), nets.get(b));
        pa.map(|p| (p.network(), p.prefix_len()))
            .cmp(&pb.map(|p| (p.network(), p.prefix_len())))
    });
    let mut last: Option<Prefix> = None;
    for i in sorted {
        let Some(p) = nets.get(i) else { continue };
        if last.is_some_and(|c| c.contains(p)) {
            continue;
        }
        last = Some(*p);
        keep.push(i);
    }
    keep.sort_unstable();
    keep
}

#[cfg(test)]
mod tests;
