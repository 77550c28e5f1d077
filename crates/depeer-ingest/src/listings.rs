//! What depeer lists, read from the dataset as of a moment: the listings
//! behind `depeer export` and the data zones of `depeer serve dnsbl
//! --data`, each with its evidence (reason, first and last seen, source).
//!
//! * **bots**: `feed_entries` of kind `bots`, and the relays of attributed
//!   botnet spam (`attribution` rows with a botnet, per address and botnet).
//! * **cc**: `feed_entries` of kind `cnc`, and rogue-hosted addresses: the
//!   addresses passive DNS gave for advertised names (the dbl below) that
//!   lie inside the drop list's space.
//! * **drop**: `net` feed entries (DROP/EDROP prefixes as listed), and the
//!   rogue ASes: ASN-DROP entries plus [`ListingOptions::rogue_ases`] (the
//!   pluggable source: the ranking adds its ASes there), each listed as an
//!   AS and with every prefix it announced at `at` (`routes`, the time rule
//!   of docs/routing.md).
//! * **dbl**: the registrable domains (else hosts) of the URLs in
//!   attributed botnet spam, and the hosts of `url` feed entries.
//!
//! Only evidence known at `at` counts: a feed entry whose first-seen time
//! (else our ingest time) is later, or a message that arrived later, is
//! left out; so is evidence last seen more than `max_age` before `at`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use depeer_core::{FeedEntryObs, Prefix, RouteObs, Timestamp};
use depeer_dnsbl::export::{AsInfo, Export, List, Listing, Subject};
use depeer_store::Dataset;

use crate::IngestError;

/// A rogue AS from any source: its announced space goes on the drop list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RogueAs {
    /// The AS.
    pub asn: u32,
    /// Why it is rogue (e.g. "ranked 1st: 64 % of C&C servers").
    pub reason: String,
    /// Since when.
    pub first_seen: Option<Timestamp>,
    /// Who says so (e.g. `depeer-rank`).
    pub source: String,
}

/// What [`listings`] reads.
#[derive(Debug, Clone)]
pub struct ListingOptions {
    /// The moment listed (evidence after it is ignored).
    pub at: Timestamp,
    /// Evidence last seen longer ago than this (microseconds) is not
    /// listed any more; `None` keeps everything.
    pub max_age: Option<i64>,
    /// Rogue ASes beyond the ASN-DROP feed entries (the ranking's).
    pub rogue_ases: Vec<RogueAs>,
}

/// The listings of the dataset in `data` as of `opts.at`.
pub fn listings(data: &Path, opts: &ListingOptions) -> Result<Export, IngestError> {
    let ds = Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })?;
    let step = IngestError::store;
    let feeds = ds
        .read_feed_entries()
        .map_err(step("reading feed_entries"))?;
    let attribution = ds.read_attribution().map_err(step("reading attribution"))?;
    let urls = ds.read_url_hosts().map_err(step("reading message_urls"))?;
    let routes = ds.read_routes().map_err(step("reading routes"))?;
    let names = ds.read_as_names().map_err(step("reading as_names"))?;
    let mut b = Builder {
        opts,
        out: Vec::new(),
    };
    let mut rogue = opts.rogue_ases.clone();
    let mut pdns: Vec<&FeedEntryObs> = Vec::new();
    for e in &feeds {
        if !b.known(e.first_seen.unwrap_or(e.ingest_time)) {
            continue;
        }
        let last = e.last_seen.or(e.first_seen).unwrap_or(e.ingest_time);
        if !b.fresh(last) {
            continue;
        }
        b.feed_entry(e, &mut rogue, &mut pdns);
    }
    b.attributed(&attribution, &urls);
    b.rogue_space(&rogue, &routes);
    b.rogue_hosted(&pdns);
    // What was seen after `at` is not known at `at`: a feed's last-seen
    // time later than it reads as `at`.
    for l in &mut b.out {
        l.last_seen = l.last_seen.map(|t| t.min(opts.at));
    }
    let mut export = Export::new(b.out, opts.at);
    for n in names {
        export.as_info.insert(
            n.asn.0,
            AsInfo {
                name: n.name,
                country: n.country.unwrap_or_default(),
            },
        );
    }
    Ok(export)
}

/// One generated zone file of [`write_data_zones`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataZoneFile {
    /// The list, which is the zone's first label (`bots` -> `bots.ORIGIN`).
    pub list: List,
    /// Dataset type of the file.
    pub kind: depeer_dnsbl::ZoneType,
    /// Where it was written.
    pub path: std::path::PathBuf,
    /// Entries in it.
    pub entries: u64,
}

/// Writes the data zones of `depeer serve dnsbl --data` (`bots`, `cc`,
/// `drop`: an ip4set and an ip6trie each; `dbl`: a dnset) into `dir`, each
/// through a temporary file and a rename, so that a reload reads whole
/// files. The zone text is the rbldnsd export's
/// ([`depeer_dnsbl::export::data_zones`]): the server reads it with the same
/// loader as any `--zone` file.
pub fn write_data_zones(
    data: &Path,
    opts: &ListingOptions,
    origin: &str,
    dir: &Path,
) -> Result<Vec<DataZoneFile>, IngestError> {
    let mut export = listings(data, opts)?;
    export.origin = Some(origin.to_string());
    let mut out = Vec::new();
    for z in depeer_dnsbl::export::data_zones(&export) {
        let path = dir.join(format!("{}.{}", z.list.as_str(), z.kind.as_str()));
        let tmp = dir.join(format!(".{}.{}.tmp", z.list.as_str(), z.kind.as_str()));
        let werr = |source| IngestError::WriteFile {
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, z.text.as_bytes()).map_err(werr)?;
        std::fs::rename(&tmp, &path).map_err(werr)?;
        out.push(DataZoneFile {
            list: z.list,
            kind: z.kind,
            path,
            entries: z.entries,
        });
    }
    Ok(out)
}

struct Builder<'a> {
    opts: &'a ListingOptions,
    out: Vec<Listing>,
}

impl Builder<'_> {
    fn known(&self, t: Timestamp) -> bool {
        t <= self.opts.at
    }

    fn fresh(&self, last: Timestamp) -> bool {
        self.opts
            .max_age
            .is_none_or(|age| last.0 >= self.opts.at.0.saturating_sub(age))
    }

    fn push(&mut self, subject: Subject, list: List, reason: String, e: &FeedEntryObs) {
        self.out.push(Listing {
            subject,
            list,
            reason,
            first_seen: e.first_seen.or(Some(e.ingest_time)),
            last_seen: e.last_seen,
            source: e.source.clone(),
        });
    }

    fn feed_entry<'e>(
        &mut self,
        e: &'e FeedEntryObs,
        rogue: &mut Vec<RogueAs>,
        pdns: &mut Vec<&'e FeedEntryObs>,
    ) {
        let family = e.family.as_deref();
        match e.kind.as_str() {
            "bots" => {
                if let Some(p) = host_net(&e.indicator) {
                    let reason = family.map_or("listed bot".into(), |f| format!("bot of {f}"));
                    self.push(Subject::Net(p), List::Bots, reason, e);
                }
            }
            "cnc" => {
                if let Some(p) = host_net(&e.indicator) {
                    let mut reason = format!("C&C server of {}", family.unwrap_or("a botnet"));
                    if let Some(port) = e.port {
                        reason.push_str(&format!(" on port {port}"));
                    }
                    self.push(Subject::Net(p), List::Cc, reason, e);
                }
            }
            "net" => {
                if let Some(asn) = e.indicator.strip_prefix("AS").and_then(|n| n.parse().ok()) {
                    rogue.push(RogueAs {
                        asn,
                        reason: format!("AS listed by {}", e.source),
                        first_seen: e.first_seen.or(Some(e.ingest_time)),
                        source: e.source.clone(),
                    });
                } else if let Ok(p) = e.indicator.parse::<Prefix>() {
                    let reason = format!("network listed by {}", e.source);
                    self.push(Subject::Net(p.trunc()), List::Drop, reason, e);
                }
            }
            "url" => {
                if let Some(host) = url_host(&e.indicator) {
                    let reason = match family {
                        Some(f) => format!("host of a listed URL ({f})"),
                        None => "host of a listed URL".into(),
                    };
                    self.push(Subject::Domain(host), List::Dbl, reason, e);
                }
            }
            "pdns" => pdns.push(e),
            _ => {}
        }
    }

    /// Relays and advertised domains of attributed botnet spam.
    fn attributed(
        &mut self,
        rows: &[depeer_store::AttributionRow],
        urls: &[(String, String, Option<String>)],
    ) {
        type Agg = (u64, Timestamp, Timestamp);
        let add = |m: &mut BTreeMap<(String, String), Agg>, k: (String, String), t: Timestamp| {
            let a = m.entry(k).or_insert((0, t, t));
            a.0 += 1;
            a.1 = a.1.min(t);
            a.2 = a.2.max(t);
        };
        let mut relays: BTreeMap<(String, String), Agg> = BTreeMap::new();
        let mut by_msg: HashMap<&str, (&str, Timestamp)> = HashMap::new();
        for r in rows.iter().filter(|r| r.time <= self.opts.at) {
            let Some(botnet) = &r.botnet else { continue };
            by_msg.insert(&r.sha256, (botnet, r.time));
            if let Some(ip) = &r.relay_ip {
                add(&mut relays, (ip.clone(), botnet.clone()), r.time);
            }
        }
        let mut domains: BTreeMap<(String, String), Agg> = BTreeMap::new();
        for (sha, host, reg) in urls {
            let Some(&(botnet, t)) = by_msg.get(sha.as_str()) else {
                continue;
            };
            if host.parse::<IpAddr>().is_ok() || host.starts_with('[') {
                continue;
            }
            let d = reg.clone().unwrap_or_else(|| host.clone());
            add(&mut domains, (d, botnet.to_string()), t);
        }
        for ((ip, botnet), (n, first, last)) in relays {
            let Some(p) = host_net(&ip).filter(|_| self.fresh(last)) else {
                continue;
            };
            self.out.push(attributed(
                Subject::Net(p),
                List::Bots,
                (n, first, last),
                &format!("relayed {} of botnet {botnet}", messages(n)),
            ));
        }
        for ((d, botnet), (n, first, last)) in domains {
            if self.fresh(last) {
                let reason = format!("advertised in {} of botnet {botnet}", messages(n));
                self.out.push(attributed(
                    Subject::Domain(d),
                    List::Dbl,
                    (n, first, last),
                    &reason,
                ));
            }
        }
    }

    /// Rogue ASes, and the prefixes each announced at `at`.
    fn rogue_space(&mut self, rogue: &[RogueAs], routes: &[RouteObs]) {
        let ases: HashSet<u32> = rogue.iter().map(|r| r.asn).collect();
        let mut announced: BTreeMap<u32, BTreeMap<Prefix, Timestamp>> = BTreeMap::new();
        for r in announced_at(routes, self.opts.at) {
            if ases.contains(&r.origin_asn.0) {
                let e = announced
                    .entry(r.origin_asn.0)
                    .or_default()
                    .entry(r.prefix.trunc())
                    .or_insert(r.first_seen);
                *e = (*e).min(r.first_seen);
            }
        }
        for a in rogue {
            self.out.push(Listing {
                subject: Subject::Asn(a.asn),
                list: List::Drop,
                reason: a.reason.clone(),
                first_seen: a.first_seen,
                last_seen: None,
                source: a.source.clone(),
            });
            for (p, since) in announced.get(&a.asn).into_iter().flatten() {
                self.out.push(Listing {
                    subject: Subject::Net(*p),
                    list: List::Drop,
                    reason: format!("announced by AS{} ({})", a.asn, a.reason),
                    first_seen: Some(*since),
                    last_seen: Some(self.opts.at),
                    source: a.source.clone(),
                });
            }
        }
    }

    /// Addresses of advertised names inside the drop list's space.
    fn rogue_hosted(&mut self, pdns: &[&FeedEntryObs]) {
        let drop: Vec<(Prefix, String)> = self
            .out
            .iter()
            .filter(|l| l.list == List::Drop)
            .filter_map(|l| match &l.subject {
                Subject::Net(p) => Some((*p, l.reason.clone())),
                _ => None,
            })
            .collect();
        let advertised: HashSet<String> = self
            .out
            .iter()
            .filter(|l| l.list == List::Dbl)
            .filter_map(|l| match &l.subject {
                Subject::Domain(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        if drop.is_empty() || advertised.is_empty() {
            return;
        }
        let set = NetSet::new(drop.iter().map(|(p, _)| *p));
        for e in pdns {
            let name = e.indicator.as_str();
            let listed = advertised.contains(name)
                || name
                    .strip_prefix("www.")
                    .is_some_and(|n| advertised.contains(n))
                || parents(name).any(|p| advertised.contains(p));
            let Some(ip) = e.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) else {
                continue;
            };
            let Some(p) = listed.then(|| set.find(ip)).flatten() else {
                continue;
            };
            let why = drop
                .iter()
                .find(|(q, _)| *q == p)
                .map_or("", |(_, r)| r.as_str());
            let reason =
                format!("hosts {name}, advertised in spam, inside rogue network {p} ({why})");
            self.push(Subject::Net(Prefix::from(ip)), List::Cc, reason, e);
        }
    }
}

fn attributed(
    subject: Subject,
    list: List,
    agg: (u64, Timestamp, Timestamp),
    reason: &str,
) -> Listing {
    Listing {
        subject,
        list,
        reason: reason.to_string(),
        first_seen: Some(agg.1),
        last_seen: Some(agg.2),
        source: "depeer-attribution".into(),
    }
}

/// `1 message`, `2 messages`.
fn messages(n: u64) -> String {
    if n == 1 {
        "1 message".into()
    } else {
        format!("{n} messages")
    }
}

/// `a.b.example` -> `b.example`, `example`.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.')
        .filter_map(move |(i, _)| name.get(i + 1..))
}

/// An address as a host prefix (`/32`, `/128`).
fn host_net(s: &str) -> Option<Prefix> {
    s.parse::<IpAddr>().ok().map(Prefix::from)
}

/// The route rows holding at `t`: `first_seen <= t <= last_seen`, or `t`
/// later and `last_seen` the end of the collector's data (still announced).
fn announced_at(routes: &[RouteObs], t: Timestamp) -> impl Iterator<Item = &RouteObs> {
    let mut end: HashMap<&str, Timestamp> = HashMap::new();
    for r in routes {
        let e = end.entry(r.collector.as_str()).or_insert(r.last_seen);
        *e = (*e).max(r.last_seen);
    }
    routes.iter().filter(move |r| {
        r.first_seen <= t
            && (t <= r.last_seen || end.get(r.collector.as_str()) == Some(&r.last_seen))
    })
}

/// The host of a URL, lowercase, or `None` for an IP literal or no host.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split(['/', '?', '#']).next()?;
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    if host.starts_with('[') {
        return None;
    }
    let host = host
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host.is_empty() || host.parse::<IpAddr>().is_ok() || !host.contains('.') {
        return None;
    }
    Some(host)
}

/// Networks for containment lookups: one hash probe per prefix length.
struct NetSet {
    by_len: BTreeMap<(bool, u8), HashSet<IpAddr>>,
}

impl NetSet {
    fn new(nets: impl Iterator<Item = Prefix>) -> Self {
        let mut by_len: BTreeMap<(bool, u8), HashSet<IpAddr>> = BTreeMap::new();
        for p in nets {
            let p = p.trunc();
            by_len
                .entry((p.addr().is_ipv4(), p.prefix_len()))
                .or_default()
                .insert(p.network());
        }
        Self { by_len }
    }

    /// The longest network containing `ip`.
    fn find(&self, ip: IpAddr) -> Option<Prefix> {
        self.by_len
            .iter()
            .rev()
            .filter(|((v4, _), _)| *v4 == ip.is_ipv4())
            .find_map(|(&(_, len), nets)| {
                let p = Prefix::new(ip, len).ok()?.trunc();
                nets.contains(&p.network()).then_some(p)
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use depeer_core::Asn;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("http://Shop.Example.com/x?y").as_deref(),
            Some("shop.example.com")
        );
        assert_eq!(
            url_host("https://u:p@a.example:8080/").as_deref(),
            Some("a.example")
        );
        assert_eq!(url_host("http://192.0.2.1/x"), None);
        assert_eq!(url_host("http://[2001:db8::1]/"), None);
        assert_eq!(
            url_host("www.example.org/path").as_deref(),
            Some("www.example.org")
        );
        assert_eq!(url_host("http://localhost/"), None);
    }

    #[test]
    fn netset_finds_the_longest() {
        let s = NetSet::new(
            ["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"]
                .iter()
                .map(|p| p.parse().unwrap()),
        );
        assert_eq!(
            s.find("10.1.2.3".parse().unwrap()),
            Some("10.1.0.0/16".parse().unwrap())
        );
        assert_eq!(
            s.find("10.2.2.3".parse().unwrap()),
            Some("10.0.0.0/8".parse().unwrap())
        );
        assert_eq!(s.find("11.0.0.1".parse().unwrap()), None);
        assert_eq!(
            s.find("2001:db8::5".parse().unwrap()),
            Some("2001:db8::/32".parse().unwrap())
        );
    }

    #[test]
    fn announced_at_uses_the_time_rule() {
        let r = |p: &str, asn: u32, first: i64, last: i64, c: &str| RouteObs {
            prefix: p.parse().unwrap(),
            origin_asn: Asn(asn),
            first_seen: Timestamp::from_secs(first),
            last_seen: Timestamp::from_secs(last),
            peer_count: 1,
            collector: c.into(),
        };
        let routes = vec![
            r("192.0.2.0/24", 1, 0, 100, "a"),
            r("198.51.100.0/24", 1, 0, 50, "a"),
            r("203.0.113.0/24", 1, 200, 300, "a"),
        ];
        let at = |t| {
            announced_at(&routes, Timestamp::from_secs(t))
                .map(|r| r.prefix.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(10), ["192.0.2.0/24", "198.51.100.0/24"]);
        assert_eq!(at(60), ["192.0.2.0/24"]);
        // After the collector's data ends, what was still announced holds.
        assert_eq!(at(400), ["203.0.113.0/24"]);
        assert_eq!(at(150), Vec::<String>::new());
    }

    #[test]
    fn parent_names() {
        assert_eq!(
            parents("a.b.example").collect::<Vec<_>>(),
            ["b.example", "example"]
        );
    }
}
