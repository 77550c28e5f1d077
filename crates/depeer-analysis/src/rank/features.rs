//! Places every listing of the window and tallies the evidence per
//! network. A listing counts when it was first seen at or before `at` and
//! was still listed inside the window; its end is cut at `at`, so nothing
//! after `at` is seen. Each listed address is placed where it was routed
//! at the last moment it was seen inside the window (a server moved
//! inside its network then counts at each of its addresses, and the
//! moves are what the `moves` feature counts).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use super::{By, Listing, ListingKind, RankInput};
use crate::depends::{DependencyInput, Window};
use crate::hosting::{Hosting, RouteSpan, UpstreamSpan};

const DAY: i64 = 86_400_000_000;

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceKind {
    /// A listed C&C server.
    Cnc,
    /// An advertised or listed malicious site (a host of the trapped
    /// spam's URLs or of a URL feed, placed by its address).
    Site,
    /// A listed bot.
    Bot,
}

impl EvidenceKind {
    /// `cnc`, `site` or `bot`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Cnc => "cnc",
            EvidenceKind::Site => "site",
            EvidenceKind::Bot => "bot",
        }
    }
}

/// One placed piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// What it is.
    pub kind: EvidenceKind,
    /// The listed address, or the site's host name.
    pub indicator: String,
    /// The address placed.
    pub address: IpAddr,
    /// Family (C&C, bots).
    pub family: Option<String>,
    /// Where the address was routed: prefix and origin ASes.
    pub prefix: Option<String>,
    /// The origin ASes then.
    pub origins: Vec<u32>,
    /// First seen (Unix µs): the listing's first seen, or the first
    /// message advertising the site.
    pub first: i64,
    /// Last seen (Unix µs), at most `at`.
    pub last: i64,
    /// Seen over more than the persistence span (or, sites, advertised on
    /// two or more days).
    pub persistent: bool,
    /// Messages of the window advertising it (sites).
    pub messages: u64,
    /// Where it came from: `file:line (source)` of each listing, or
    /// `messages`.
    pub sources: Vec<String>,
    /// One message advertising it (hex SHA-256), when any.
    pub sample: Option<String>,
    /// The service it belongs to (`cc:family:port`, `site:host`): a
    /// service seen at several addresses of one network has moved.
    pub service: Option<String>,
    /// When the address was first seen active by any source (Unix µs):
    /// a C&C address's first bot contact often comes days before a
    /// tracker lists it. Only `moves` uses it (two servers side by side,
    /// listed a day apart, are not one server renumbered).
    pub active_from: i64,
}

/// The evidence of one network (AS, organisation or prefix), summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Its ASes.
    pub asns: BTreeSet<u32>,
    /// Announced IPv4 space during the window, in /24s (union of its
    /// prefixes; at least 1 for a network that announced anything).
    pub size24: f64,
    /// Distinct prefixes announced during the window.
    pub prefixes: u64,
    /// Distinct persistent C&C addresses.
    pub cc: u64,
    /// Distinct C&C addresses, persistent or not.
    pub cc_all: u64,
    /// Distinct persistent site addresses.
    pub sites: u64,
    /// Distinct site addresses.
    pub sites_all: u64,
    /// Distinct persistent bot addresses.
    pub bots: u64,
    /// Distinct bot addresses.
    pub bots_all: u64,
    /// Σ over listed addresses of the days each was listed inside the
    /// window (CIRCL's daily occurrences, summed).
    pub listed_days: f64,
    /// Services (C&C `family:port`, site hosts): each address they were
    /// listed at, with its first and last seen.
    pub services: BTreeMap<String, Vec<(IpAddr, i64, i64)>>,
    /// Share of the window's spam that depends on it (C&C or sites; the
    /// larger of the two shares, so a lower bound of their union).
    pub dependency: f64,
    /// Distinct providers during the window.
    pub providers: u64,
    /// `upstream-lost` / `upstream-gained` events in the window.
    pub upstream_events: u64,
    /// Announcements of the window that lasted less than a day.
    pub short_lived: u64,
    /// Evidence of its customer cone: Σ credit × persistent C&C and site
    /// addresses of the customers, and their Σ credit × size.
    pub cone_count: f64,
    /// See `cone_count`.
    pub cone_size24: f64,
    /// Indexes of its evidence in the evidence list.
    pub evidence: Vec<usize>,
    /// Indexes of its routing events in the input's list.
    pub routing: Vec<usize>,
    /// C&C addresses whose family's listed bots stopped contacting them
    /// while they went on contacting other networks (its abuse desk
    /// acted).
    pub evicted: Vec<super::Eviction>,
    /// C&C addresses with enough bot contacts there to tell.
    pub judged: u64,
    /// Each listed address's first activity (`Evidence::active_from`).
    pub active: BTreeMap<IpAddr, i64>,
    seen: HashSet<(EvidenceKind, IpAddr)>,
}

impl Tally {
    /// Persistent C&C and site addresses: the malicious-hosting count.
    pub fn hosting(&self) -> u64 {
        self.cc + self.sites
    }

    fn add(&mut self, i: usize, e: &Evidence, window_days: f64, at: i64) {
        self.evidence.push(i);
        if !self.seen.insert((e.kind, e.address)) {
            return;
        }
        let days = ((e.last.min(at) - e.first).max(0) as f64 / DAY as f64).clamp(1.0, window_days);
        self.listed_days += days;
        let p = u64::from(e.persistent);
        match e.kind {
            EvidenceKind::Cnc => (self.cc, self.cc_all) = (self.cc + p, self.cc_all + 1),
            EvidenceKind::Site => {
                (self.sites, self.sites_all) = (self.sites + p, self.sites_all + 1)
            }
            EvidenceKind::Bot => (self.bots, self.bots_all) = (self.bots + p, self.bots_all + 1),
        }
        let a = self.active.entry(e.address).or_insert(e.active_from);
        *a = (*a).min(e.active_from);
        if let Some(s) = &e.service {
            self.services
                .entry(s.clone())
                .or_default()
                .push((e.address, e.first, e.last));
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.asns.extend(o.asns.iter().copied());
        self.size24 += o.size24;
        self.prefixes += o.prefixes;
        self.providers = self.providers.max(o.providers);
        self.upstream_events += o.upstream_events;
        self.short_lived += o.short_lived;
        self.dependency = self.dependency.max(o.dependency);
        self.routing.extend(o.routing.iter().copied());
    }
}

/// A service's span: first seen at any address to last seen at any.
pub(crate) fn span(spots: &[(IpAddr, i64, i64)]) -> (i64, i64) {
    let first = spots.iter().map(|s| s.1).min().unwrap_or(0);
    let last = spots.iter().map(|s| s.2).max().unwrap_or(first);
    (first, last)
}

/// Whether a service moved: an address of it first seen after another
/// address of it had been listed, that one seen no more than a day after
/// the new one appeared (a server replaced, not a second one beside it).
/// An address's activity starts at the earlier of its listing and its
/// first bot contact (`active`).
pub(crate) fn moved(spots: &[(IpAddr, i64, i64)], active: &BTreeMap<IpAddr, i64>) -> bool {
    let from = |x: &(IpAddr, i64, i64)| active.get(&x.0).map_or(x.1, |&t| t.min(x.1));
    spots.iter().any(|a| {
        spots
            .iter()
            .any(|b| b.0 != a.0 && from(b) > from(a) && a.2 <= b.1 + DAY)
    })
}

/// A listing's interval as seen at `at`: (first, last) with last cut at
/// `at`; `None` when it starts after `at` or has no first seen.
fn seen(l: &Listing, at: i64) -> Option<(i64, i64)> {
    let first = l.first.filter(|&f| f <= at)?;
    Some((first, l.last.unwrap_or(first).clamp(first, at)))
}

fn source(l: &Listing) -> String {
    format!("{}:{} ({})", l.file, l.line, l.source)
}

/// The host of a URL (`http://host:port/path` -> `host`), lowercased.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |x| x.1);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |x| x.1);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn bare(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// Placement parameters.
pub(crate) struct Params {
    pub(crate) persistence: i64,
}

/// Every placed piece of evidence of the window.
pub(crate) fn evidence(input: &RankInput, hosting: &Hosting, p: &Params) -> Vec<Evidence> {
    let (at, start) = (input.at, input.at - input.window);
    let mut out = Vec::new();
    let place = |address: IpAddr, t: i64| {
        let pl = hosting.locate(address, t.clamp(start, at));
        (
            pl.as_ref().map(|p| p.prefix.clone()),
            pl.map(|p| p.origins).unwrap_or_default(),
        )
    };
    // First bot contact of each C&C address.
    let mut contact: HashMap<IpAddr, i64> = HashMap::new();
    for l in &input.listings {
        let (ListingKind::Bots, Some(a), Some((t, _))) =
            (l.kind, l.address.as_deref(), seen(l, at))
        else {
            continue;
        };
        if let Ok(ip) = a.trim().parse::<IpAddr>() {
            let c = contact.entry(ip).or_insert(t);
            *c = (*c).min(t);
        }
    }
    // C&C and bots: one piece per listing (an address listed twice is
    // counted once per network by the tally).
    for l in &input.listings {
        let kind = match l.kind {
            ListingKind::Cnc => EvidenceKind::Cnc,
            ListingKind::Bots => EvidenceKind::Bot,
            _ => continue,
        };
        let Some((first, last)) = seen(l, at).filter(|x| x.1 >= start) else {
            continue;
        };
        let Ok(address) = l.indicator.trim().parse::<IpAddr>() else {
            continue;
        };
        let (prefix, origins) = place(address, last);
        let service = (kind == EvidenceKind::Cnc).then(|| {
            format!(
                "cc:{}:{}",
                l.family.as_deref().unwrap_or("?"),
                l.port.map_or(String::from("?"), |p| p.to_string())
            )
        });
        out.push(Evidence {
            kind,
            indicator: l.indicator.clone(),
            address,
            family: l.family.clone(),
            prefix,
            origins,
            first,
            last,
            persistent: last - first >= p.persistence,
            messages: 0,
            sources: vec![source(l)],
            sample: None,
            service,
            active_from: match kind {
                EvidenceKind::Cnc => contact.get(&address).map_or(first, |&c| c.min(first)),
                _ => first,
            },
        });
    }
    contacted(input, &place, p, &mut out);
    sites(input, &place, p, &mut out);
    out
}

/// C&C addresses no C&C feed lists but the bot lists saw bots contact
/// (`bots` listings with an `address`): one piece per family and address,
/// first contact to last. A tracker lists a new controller days after the
/// bots start talking to it, and a network whose servers are known only
/// from their bots is hosting C&C all the same.
fn contacted(input: &RankInput, place: &Place<'_>, p: &Params, out: &mut Vec<Evidence>) {
    let (at, start) = (input.at, input.at - input.window);
    let listed: HashSet<IpAddr> = out
        .iter()
        .filter(|e| e.kind == EvidenceKind::Cnc)
        .map(|e| e.address)
        .collect();
    let mut ports: HashMap<&str, u16> = HashMap::new();
    for l in &input.listings {
        if let (ListingKind::Cnc, Some(f), Some(port)) = (l.kind, l.family.as_deref(), l.port) {
            ports.entry(f).or_insert(port);
        }
    }
    // (family, address) -> (first, last, contacts, first source)
    let mut seen_at: BTreeMap<(&str, IpAddr), (i64, i64, u64, String)> = BTreeMap::new();
    for l in &input.listings {
        let (ListingKind::Bots, Some(family)) = (l.kind, l.family.as_deref()) else {
            continue;
        };
        let Some(address) = l
            .address
            .as_deref()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
        else {
            continue;
        };
        let Some((first, last)) = seen(l, at).filter(|x| x.1 >= start) else {
            continue;
        };
        if listed.contains(&address) {
            continue;
        }
        let e = seen_at
            .entry((family, address))
            .or_insert_with(|| (first, last, 0, source(l)));
        e.0 = e.0.min(first);
        e.1 = e.1.max(last);
        e.2 += 1;
    }
    for ((family, address), (first, last, n, src)) in seen_at {
        let (prefix, origins) = place(address, last);
        let port = ports.get(family).map_or(String::from("?"), u16::to_string);
        out.push(Evidence {
            kind: EvidenceKind::Cnc,
            indicator: address.to_string(),
            address,
            family: Some(family.to_string()),
            prefix,
            origins,
            first,
            last,
            persistent: last - first >= p.persistence,
            messages: 0,
            sources: vec![format!("contacted by {n} listed bot(s), first {src}")],
            sample: None,
            service: Some(format!("cc:{family}:{port}")),
            active_from: first,
        });
    }
}

type Place<'a> = dyn Fn(IpAddr, i64) -> (Option<String>, Vec<u32>) + 'a;

/// What the window says about one site host.
#[derive(Default)]
struct HostSeen {
    messages: u64,
    days: BTreeSet<i64>,
    first: Option<i64>,
    last: Option<i64>,
    sample: Option<String>,
    listed: Vec<String>,
}

/// Sites: the hosts of the window's messages and of URL listings, placed
/// through passive DNS (or as IP literals).
fn sites(input: &RankInput, place: &Place<'_>, p: &Params, out: &mut Vec<Evidence>) {
    let (at, start) = (input.at, input.at - input.window);
    let mut hosts: BTreeMap<String, HostSeen> = BTreeMap::new();
    for m in &input.messages {
        if m.time < start || m.time > at {
            continue;
        }
        for h in &m.hosts {
            let s = hosts.entry(h.to_ascii_lowercase()).or_default();
            s.messages += 1;
            s.days.insert(m.time.div_euclid(DAY));
            s.first = Some(s.first.map_or(m.time, |f| f.min(m.time)));
            s.last = Some(s.last.map_or(m.time, |f| f.max(m.time)));
            s.sample.get_or_insert_with(|| m.sha256.clone());
        }
    }
    let mut pdns: HashMap<&str, Vec<(IpAddr, i64, i64, String)>> = HashMap::new();
    for l in &input.listings {
        let Some((first, last)) = seen(l, at) else {
            continue;
        };
        match l.kind {
            ListingKind::Url => {
                if let Some(h) = url_host(&l.indicator) {
                    let s = hosts.entry(h).or_default();
                    s.listed.push(source(l));
                    s.first = Some(s.first.map_or(first, |f| f.min(first)));
                }
            }
            ListingKind::Pdns if last >= start => {
                if let Some(a) = l.address.as_deref().and_then(|a| a.trim().parse().ok()) {
                    pdns.entry(bare(&l.indicator))
                        .or_default()
                        .push((a, first, last, source(l)));
                }
            }
            _ => {}
        }
    }
    for (host, s) in hosts {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let spots: Vec<(IpAddr, i64, i64, Vec<String>)> = match literal.parse::<IpAddr>() {
            Ok(ip) => {
                let (f, l) = (s.first.unwrap_or(at), s.last.unwrap_or(at));
                vec![(ip, f, l.max(f), s.listed.clone())]
            }
            Err(_) => pdns
                .get(bare(&host))
                .into_iter()
                .flatten()
                .map(|(a, f, l, src)| {
                    let mut sources = s.listed.clone();
                    sources.push(src.clone());
                    (*a, *f, *l, sources)
                })
                .collect(),
        };
        let advertised_days = s.days.len();
        for (address, first, last, sources) in spots {
            let (prefix, origins) = place(address, last);
            out.push(Evidence {
                kind: EvidenceKind::Site,
                indicator: host.clone(),
                address,
                family: None,
                prefix,
                origins,
                first,
                last,
                persistent: last - first >= p.persistence || advertised_days >= 2,
                messages: s.messages,
                sources,
                sample: s.sample.clone(),
                service: Some(format!("site:{}", bare(&host))),
                active_from: first,
            });
        }
    }
}

/// The routes, links and names of the moment: routes and links first
/// seen after `at` dropped, their ends cut at `at`.
pub(crate) fn hosting_at(input: &RankInput) -> Hosting {
    let at = input.at;
    let routes: Vec<RouteSpan> = input
        .routes
        .iter()
        .filter(|r| r.first <= at)
        .map(|r| RouteSpan {
            last: r.last.min(at),
            ..r.clone()
        })
        .collect();
    let ups: Vec<UpstreamSpan> = input
        .upstreams
        .iter()
        .filter(|l| l.first <= at)
        .map(|l| UpstreamSpan {
            last: l.last.min(at),
            ..*l
        })
        .collect();
    let orgs = input
        .names
        .iter()
        .map(|(a, n)| (*a, n.org.clone().unwrap_or_else(|| n.name.clone())))
        .collect();
    Hosting::new(routes, ups, orgs)
}

/// The entity keys an AS belongs to.
pub(crate) fn org_key(input: &RankInput, asn: u32) -> String {
    input
        .names
        .get(&asn)
        .and_then(|n| n.org.clone().or_else(|| Some(n.name.clone())))
        .unwrap_or_else(|| format!("AS{asn}"))
}

/// IPv4 ranges of a prefix, `[lo, hi]` as u32.
fn v4_range(r: &RouteSpan) -> Option<(u64, u64)> {
    let IpAddr::V4(v4) = r.network else {
        return None;
    };
    let lo = u64::from(u32::from(v4));
    let n = 1u64 << (32 - u32::from(r.len.min(32)));
    Some((lo, lo + n - 1))
}

fn union24(mut ranges: Vec<(u64, u64)>) -> f64 {
    ranges.sort_unstable();
    let (mut total, mut cur): (u64, Option<(u64, u64)>) = (0, None);
    for (lo, hi) in ranges {
        cur = match cur {
            Some((a, b)) if lo <= b + 1 => Some((a, b.max(hi))),
            Some((a, b)) => {
                total += b - a + 1;
                Some((lo, hi))
            }
            None => Some((lo, hi)),
        };
    }
    if let Some((a, b)) = cur {
        total += b - a + 1;
    }
    total as f64 / 256.0
}

/// Per AS: size, prefixes and routing behaviour of the window.
fn routing_tallies(input: &RankInput, tallies: &mut HashMap<u32, Tally>) {
    let (at, start) = (input.at, input.at - input.window);
    let mut ranges: HashMap<u32, Vec<(u64, u64)>> = HashMap::new();
    let mut prefixes: HashMap<u32, HashSet<(IpAddr, u8)>> = HashMap::new();
    let mut short: HashMap<u32, HashSet<(IpAddr, u8, i64)>> = HashMap::new();
    for r in &input.routes {
        if r.first > at || r.last < start {
            continue;
        }
        prefixes
            .entry(r.origin)
            .or_default()
            .insert((r.network, r.len));
        if let Some(x) = v4_range(r) {
            ranges.entry(r.origin).or_default().push(x);
        }
        // Ended before `at`, inside the window, after less than a day.
        if r.first >= start && r.last < at && r.last - r.first < DAY {
            short
                .entry(r.origin)
                .or_default()
                .insert((r.network, r.len, r.first / 60_000_000));
        }
    }
    for (asn, p) in prefixes {
        let t = tallies.entry(asn).or_default();
        t.asns.insert(asn);
        t.prefixes = p.len() as u64;
        t.size24 = union24(ranges.remove(&asn).unwrap_or_default()).max(1.0);
        t.short_lived = short.get(&asn).map_or(0, |s| s.len() as u64);
    }
    let mut providers: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for l in &input.upstreams {
        if l.first <= at && l.last >= start {
            providers.entry(l.asn).or_default().insert(l.provider);
        }
    }
    for (asn, p) in providers {
        tallies.entry(asn).or_default().providers = p.len() as u64;
    }
    for (i, e) in input.routing_events.iter().enumerate() {
        let Some(asn) = e.asn.filter(|_| e.time >= start && e.time <= at) else {
            continue;
        };
        let t = tallies.entry(asn).or_default();
        t.routing.push(i);
        if e.kind == "upstream-lost" || e.kind == "upstream-gained" {
            t.upstream_events += 1;
        }
    }
}

/// The share of the window's spam depending on each AS (the dependency
/// graph of depends.rs), and per prefix.
fn dependency(input: &RankInput, hosting: &Hosting) -> (HashMap<u32, f64>, HashMap<String, f64>) {
    let (at, start) = (input.at, input.at - input.window);
    let mut d = DependencyInput::new(Window { start, end: at + 1 });
    for l in &input.listings {
        let Some((first, last)) = seen(l, at) else {
            continue;
        };
        match (l.kind, l.family.as_deref()) {
            (ListingKind::Cnc, Some(f)) => {
                if let Ok(ip) = l.indicator.trim().parse() {
                    d.add_cc(ip, f, Some(first), Some(last));
                }
            }
            (ListingKind::Pdns, _) => {
                if let Some(ip) = l.address.as_deref().and_then(|a| a.trim().parse().ok()) {
                    d.add_pdns(&l.indicator, ip, Some(first), Some(last));
                }
            }
            _ => {}
        }
    }
    for m in &input.messages {
        d.add_message(m.time, m.botnet.as_deref(), m.campaign.as_deref(), &m.hosts);
    }
    let g = d.build(hosting);
    let by_asn = g
        .asns()
        .into_iter()
        .map(|(a, _, _)| {
            let x = g.for_asn(a);
            (a, x.cc_share.max(x.site_share))
        })
        .collect();
    let mut by_prefix: HashMap<String, f64> = HashMap::new();
    for e in &g.dependencies {
        if let Some(p) = &e.placement {
            let v = by_prefix.entry(p.prefix.clone()).or_insert(0.0);
            *v = v.max(e.share);
        }
    }
    (by_asn, by_prefix)
}

/// Customer-cone evidence: every AS's persistent hosting evidence and
/// size, credited up its providers (split evenly among a customer's
/// providers, at each level), to at most `MAX_DEPTH` levels.
fn cone(input: &RankInput, tallies: &mut HashMap<u32, Tally>) {
    const MAX_DEPTH: usize = 8;
    let (at, start) = (input.at, input.at - input.window);
    let mut providers: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for l in &input.upstreams {
        if l.first <= at && l.last >= start && l.asn != l.provider {
            providers.entry(l.asn).or_default().insert(l.provider);
        }
    }
    let mut credit: HashMap<u32, (f64, f64)> = HashMap::new();
    let own: Vec<(u32, f64, f64)> = tallies
        .iter()
        .map(|(a, t)| (*a, t.hosting() as f64, t.size24))
        .collect();
    for (asn, count, size) in own {
        let mut frontier: Vec<(u32, f64)> = vec![(asn, 1.0)];
        let mut visited: HashSet<u32> = HashSet::from([asn]);
        for _ in 0..MAX_DEPTH {
            let mut next: Vec<(u32, f64)> = Vec::new();
            for (a, c) in frontier {
                let Some(ps) = providers.get(&a) else {
                    continue;
                };
                let share = c / ps.len() as f64;
                for &p in ps {
                    if visited.insert(p) {
                        let e = credit.entry(p).or_insert((0.0, 0.0));
                        e.0 += share * count;
                        e.1 += share * size;
                        next.push((p, share));
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
    }
    for (p, (count, size)) in credit {
        let t = tallies.entry(p).or_default();
        t.cone_count = count;
        t.cone_size24 = size;
    }
}

/// The evidence of the window and the tallies per network.
pub(crate) fn tally(
    input: &RankInput,
    by: By,
    p: &Params,
) -> (Vec<Evidence>, BTreeMap<String, Tally>) {
    let hosting = hosting_at(input);
    let ev = evidence(input, &hosting, p);
    let window_days = (input.window as f64 / DAY as f64).max(1.0);
    let (dep_asn, dep_prefix) = dependency(input, &hosting);
    let mut per_as: HashMap<u32, Tally> = HashMap::new();
    routing_tallies(input, &mut per_as);
    for (i, e) in ev.iter().enumerate() {
        for &o in &e.origins {
            let t = per_as.entry(o).or_default();
            t.asns.insert(o);
            t.add(i, e, window_days, input.at);
        }
    }
    for (a, d) in &dep_asn {
        per_as.entry(*a).or_default().dependency = *d;
    }
    cone(input, &mut per_as);
    let (evicted, judged) = super::evicted::evictions(input, &hosting, by);
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    match by {
        By::As => {
            for (a, mut t) in per_as {
                t.asns.insert(a);
                out.insert(a.to_string(), t);
            }
        }
        By::Org => {
            for (a, t) in &per_as {
                let o = out.entry(org_key(input, *a)).or_default();
                o.merge(t);
                o.cone_count += t.cone_count;
                o.cone_size24 += t.cone_size24;
            }
            // The evidence again, so an address in two ASes of one
            // organisation counts once.
            for (i, e) in ev.iter().enumerate() {
                let keys: BTreeSet<String> = e.origins.iter().map(|&a| org_key(input, a)).collect();
                for k in keys {
                    out.entry(k).or_default().add(i, e, window_days, input.at);
                }
            }
        }
        By::Prefix => {
            for (i, e) in ev.iter().enumerate() {
                let Some(pfx) = &e.prefix else { continue };
                let t = out.entry(pfx.clone()).or_default();
                t.asns.extend(e.origins.iter().copied());
                t.add(i, e, window_days, input.at);
            }
            for (pfx, t) in out.iter_mut() {
                t.prefixes = 1;
                t.size24 = crate::hosting::parse_cidr(pfx).map_or(1.0, |(net, len)| match net {
                    IpAddr::V4(_) => (2f64.powi(32 - i32::from(len)) / 256.0).max(1.0),
                    IpAddr::V6(_) => 1.0,
                });
                t.dependency = dep_prefix.get(pfx).copied().unwrap_or(0.0);
            }
        }
    }
    for (k, t) in &mut out {
        t.evicted = evicted.get(k).cloned().unwrap_or_default();
        t.judged = judged.get(k).copied().unwrap_or(0);
    }
    (ev, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("http://www.X.example:8080/a?b").as_deref(),
            Some("www.x.example")
        );
        assert_eq!(
            url_host("https://u:p@h.example/").as_deref(),
            Some("h.example")
        );
        assert_eq!(
            url_host("http://[2001:db8::1]/x").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(url_host("http:///x"), None);
    }

    #[test]
    fn union_of_nested_and_adjacent_prefixes() {
        let r = |p: &str| {
            let (network, len) = crate::hosting::parse_cidr(p).unwrap();
            v4_range(&RouteSpan {
                network,
                len,
                origin: 1,
                first: 0,
                last: 0,
                collector: String::new(),
            })
            .unwrap()
        };
        // A /22 with one of its /24s and the adjacent /24: five /24s.
        assert_eq!(
            union24(vec![r("10.0.0.0/22"), r("10.0.1.0/24"), r("10.0.4.0/24")]),
            5.0
        );
        assert_eq!(union24(vec![]), 0.0);
    }
}
