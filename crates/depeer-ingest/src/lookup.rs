//! What depeer knows about one address, prefix, AS or domain: the read
//! side of the HTTP API's lookups (`/api/v1/ip/{ip}`, `/prefix/{prefix}`,
//! `/as/{asn}`, `/domain/{name}`). [`LookupIndex::read`] reads the dataset
//! once (routes, AS names, provider links, attribution, URL hosts and the
//! listings of [`crate::listings`] as of the end of the data) into hash
//! indexes, so that a lookup is a few dozen hash probes and needs no I/O:
//! the server answers thousands of them a second from one index and
//! rebuilds it when new data is committed.
//!
//! Time: routing is answered at `at` (the time rule of docs/routing.md:
//! a route holds while `first_seen <= at <= last_seen`, or later while it
//! is still announced at the end of its collector's data); listings whose
//! evidence starts after `at` are left out. The message history (count,
//! first and last seen, botnets) is that of the whole dataset.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use depeer_core::{Prefix, RouteObs, Timestamp};
use depeer_dnsbl::export::{Listing, Subject};
use depeer_store::Dataset;
use serde::Serialize;

use crate::{IngestError, ListingOptions};

/// Messages seen from (or advertising) one subject.
#[derive(Debug, Clone, Default)]
struct Seen {
    messages: u64,
    first: i64,
    last: i64,
    botnets: BTreeMap<String, u64>,
}

impl Seen {
    fn add(&mut self, t: i64, botnet: Option<&str>) {
        if self.messages == 0 {
            (self.first, self.last) = (t, t);
        }
        self.messages += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        if let Some(b) = botnet {
            *self.botnets.entry(b.to_string()).or_default() += 1;
        }
    }

    fn merge(&mut self, o: &Seen) {
        if o.messages == 0 {
            return;
        }
        if self.messages == 0 {
            (self.first, self.last) = (o.first, o.last);
        }
        self.messages += o.messages;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        for (b, n) in &o.botnets {
            *self.botnets.entry(b.clone()).or_default() += n;
        }
    }
}

/// A provider link of an AS.
#[derive(Debug, Clone)]
struct Link {
    asn: u32,
    first: i64,
    last: i64,
}

/// The dataset indexed for lookups (see the module header).
#[derive(Debug, Default)]
pub struct LookupIndex {
    end: i64,
    routes: Vec<RouteObs>,
    /// Whether each route is still announced at the end of its collector's data.
    open: Vec<bool>,
    by_prefix: HashMap<Prefix, Vec<usize>>,
    by_origin: HashMap<u32, Vec<usize>>,
    /// Prefix lengths with routes, longest first: IPv4, IPv6.
    lens: [Vec<u8>; 2],
    names: HashMap<u32, (String, Option<String>, Option<String>)>,
    providers: HashMap<u32, Vec<Link>>,
    customers: HashMap<u32, Vec<Link>>,
    listings: Vec<Listing>,
    listed_net: HashMap<Prefix, Vec<usize>>,
    listed_lens: [Vec<u8>; 2],
    listed_asn: HashMap<u32, Vec<usize>>,
    listed_domain: HashMap<String, Vec<usize>>,
    relays: HashMap<IpAddr, Seen>,
    sending_as: HashMap<u32, Seen>,
    domains: HashMap<String, Seen>,
}

/// Where something was routed at the moment asked.
#[derive(Debug, Clone, Serialize)]
pub struct RoutedOut {
    /// The longest announced prefix.
    pub prefix: String,
    /// Its origin AS.
    pub asn: u32,
    /// That AS's organisation (else its name), when known.
    pub org: Option<String>,
}

/// One announcement interval (`routes` row).
#[derive(Debug, Clone, Serialize)]
pub struct RouteOut {
    /// The prefix.
    pub prefix: String,
    /// Its origin AS.
    pub asn: u32,
    /// The collector that saw it.
    pub collector: String,
    /// First seen (RFC 3339).
    pub first_seen: String,
    /// Last seen (RFC 3339).
    pub last_seen: String,
    /// Peers that carried it.
    pub peer_count: u32,
}

/// One listing with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct ListingOut {
    /// `bots`, `cc`, `drop` or `dbl`.
    pub list: &'static str,
    /// What is listed: a prefix, `AS<n>` or a domain.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// When the evidence starts (RFC 3339).
    pub first_seen: Option<String>,
    /// When it was last seen (RFC 3339).
    pub last_seen: Option<String>,
    /// Who said so (feed source, or `depeer-attribution`).
    pub source: String,
}

/// Messages of one botnet.
#[derive(Debug, Clone, Serialize)]
pub struct BotnetCount {
    /// The botnet.
    pub botnet: String,
    /// Messages.
    pub messages: u64,
}

/// The trapped mail behind a subject.
#[derive(Debug, Clone, Serialize)]
pub struct MailSeen {
    /// Messages.
    pub messages: u64,
    /// First message (RFC 3339), when any.
    pub first_seen: Option<String>,
    /// Last message (RFC 3339), when any.
    pub last_seen: Option<String>,
    /// Messages per botnet, most first.
    pub botnets: Vec<BotnetCount>,
}

/// A neighbour AS over an interval.
#[derive(Debug, Clone, Serialize)]
pub struct NeighbourOut {
    /// The AS.
    pub asn: u32,
    /// Its organisation (else its name), when known.
    pub org: Option<String>,
    /// First seen (RFC 3339).
    pub first_seen: String,
    /// Last seen (RFC 3339).
    pub last_seen: String,
    /// Whether the link had been seen by the moment asked.
    pub current: bool,
}

/// `/api/v1/ip/{ip}`.
#[derive(Debug, Clone, Serialize)]
pub struct IpLookup {
    /// The address.
    pub ip: String,
    /// The moment (RFC 3339).
    pub at: String,
    /// Where it was routed then.
    pub routed: Option<RoutedOut>,
    /// Listings covering it.
    pub listings: Vec<ListingOut>,
    /// Announcements of the prefixes covering it, over the whole data.
    pub history: Vec<RouteOut>,
    /// Mail relayed from it.
    pub mail: MailSeen,
}

/// `/api/v1/prefix/{prefix}`.
#[derive(Debug, Clone, Serialize)]
pub struct PrefixLookup {
    /// The prefix (host bits cleared).
    pub prefix: String,
    /// The moment (RFC 3339).
    pub at: String,
    /// The longest announced prefix covering its network address then.
    pub routed: Option<RoutedOut>,
    /// Listings of this prefix, of prefixes covering it or inside it.
    pub listings: Vec<ListingOut>,
    /// Announcements of this prefix and of the prefixes covering it.
    pub history: Vec<RouteOut>,
    /// Mail relayed from addresses inside it.
    pub mail: MailSeen,
}

/// `/api/v1/as/{asn}`.
#[derive(Debug, Clone, Serialize)]
pub struct AsLookup {
    /// The AS.
    pub asn: u32,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its organisation, when known.
    pub org: Option<String>,
    /// Its country, when known.
    pub country: Option<String>,
    /// The moment (RFC 3339).
    pub at: String,
    /// Prefixes it announced then.
    pub prefixes: Vec<String>,
    /// Its providers (upstreams) over the data; `current`: seen by `at`.
    pub upstreams: Vec<NeighbourOut>,
    /// Its customers over the data.
    pub downstreams: Vec<NeighbourOut>,
    /// Listings of the AS and of the prefixes it announced then.
    pub listings: Vec<ListingOut>,
    /// Its announcements over the whole data.
    pub history: Vec<RouteOut>,
    /// Mail relayed from its space (the relay's origin AS at the message time).
    pub mail: MailSeen,
}

/// `/api/v1/domain/{name}`.
#[derive(Debug, Clone, Serialize)]
pub struct DomainLookup {
    /// The name, lowercase.
    pub name: String,
    /// The moment (RFC 3339).
    pub at: String,
    /// Listings of the name.
    pub listings: Vec<ListingOut>,
    /// Mail advertising it (URL host or registrable domain).
    pub mail: MailSeen,
}

fn time(t: i64) -> String {
    Timestamp(t).to_rfc3339()
}

fn bits(ip: IpAddr) -> usize {
    usize::from(ip.is_ipv6())
}

fn sorted_lens(it: impl Iterator<Item = (usize, u8)>) -> [Vec<u8>; 2] {
    let mut out: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (fam, len) in it {
        if let Some(v) = out.get_mut(fam) {
            v.push(len);
        }
    }
    for v in &mut out {
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
    }
    out
}

/// The prefixes of length in `lens` that cover `ip`, longest first.
fn covering(ip: IpAddr, lens: &[u8]) -> impl Iterator<Item = Prefix> + '_ {
    lens.iter()
        .filter_map(move |&l| Prefix::new(ip, l).ok().map(|p| p.trunc()))
}

impl LookupIndex {
    /// Reads the dataset in `data` (see the module header).
    pub fn read(data: &Path) -> Result<LookupIndex, IngestError> {
        let ds = Dataset::open(data).map_err(|source| IngestError::OpenStore {
            dir: data.to_path_buf(),
            source,
        })?;
        let step = IngestError::store;
        let routes = ds.read_routes().map_err(step("reading routes"))?;
        let attribution = ds.read_attribution().map_err(step("reading attribution"))?;
        let end = attribution
            .iter()
            .map(|a| a.time.0)
            .chain(routes.iter().map(|r| r.last_seen.0))
            .max()
            .unwrap_or(0);
        let mut ix = LookupIndex {
            end,
            ..LookupIndex::default()
        };
        ix.index_routes(routes);
        for n in ds.read_as_names().map_err(step("reading as_names"))? {
            ix.names.insert(n.asn.0, (n.name, n.org, n.country));
        }
        for u in crate::read::upstream_spans(&ds).map_err(step("reading as_links"))? {
            let (first, last) = (u.first, u.last);
            ix.providers.entry(u.asn).or_default().push(Link {
                asn: u.provider,
                first,
                last,
            });
            ix.customers.entry(u.provider).or_default().push(Link {
                asn: u.asn,
                first,
                last,
            });
        }
        let mut times: HashMap<String, (i64, Option<String>)> = HashMap::new();
        for a in &attribution {
            times.insert(a.sha256.clone(), (a.time.0, a.botnet.clone()));
            let Some(ip) = a.relay_ip.as_deref().and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            ix.relays
                .entry(ip)
                .or_default()
                .add(a.time.0, a.botnet.as_deref());
            if let Some(asn) = a.relay_asn {
                ix.sending_as
                    .entry(asn)
                    .or_default()
                    .add(a.time.0, a.botnet.as_deref());
            }
        }
        for (sha, host, domain) in ds.read_url_hosts().map_err(step("reading message_urls"))? {
            let Some((t, botnet)) = times.get(&sha) else {
                continue;
            };
            let host = host.to_ascii_lowercase();
            if let Some(d) = domain
                .map(|d| d.to_ascii_lowercase())
                .filter(|d| *d != host)
            {
                ix.domains.entry(d).or_default().add(*t, botnet.as_deref());
            }
            ix.domains
                .entry(host)
                .or_default()
                .add(*t, botnet.as_deref());
        }
        let export = crate::listings(
            data,
            &ListingOptions {
                at: Timestamp(end),
                max_age: None,
                rogue_ases: Vec::new(),
            },
        )?;
        ix.index_listings(export.listings);
        Ok(ix)
    }

    fn index_routes(&mut self, routes: Vec<RouteObs>) {
        let mut col_end: HashMap<&str, i64> = HashMap::new();
        for r in &routes {
            let e = col_end.entry(r.collector.as_str()).or_insert(r.last_seen.0);
            *e = (*e).max(r.last_seen.0);
        }
        self.open = routes
            .iter()
            .map(|r| col_end.get(r.collector.as_str()) == Some(&r.last_seen.0))
            .collect();
        for (i, r) in routes.iter().enumerate() {
            self.by_prefix.entry(r.prefix.trunc()).or_default().push(i);
            self.by_origin.entry(r.origin_asn.0).or_default().push(i);
        }
        self.lens = sorted_lens(
            self.by_prefix
                .keys()
                .map(|p| (bits(p.network()), p.prefix_len())),
        );
        self.routes = routes;
    }

    fn index_listings(&mut self, listings: Vec<Listing>) {
        for (i, l) in listings.iter().enumerate() {
            match &l.subject {
                Subject::Net(p) => self.listed_net.entry(p.trunc()).or_default().push(i),
                Subject::Asn(a) => self.listed_asn.entry(*a).or_default().push(i),
                Subject::Domain(d) => self
                    .listed_domain
                    .entry(d.to_ascii_lowercase())
                    .or_default()
                    .push(i),
            }
        }
        self.listed_lens = sorted_lens(
            self.listed_net
                .keys()
                .map(|p| (bits(p.network()), p.prefix_len())),
        );
        self.listings = listings;
    }

    /// The end of the data (Unix µs): the default moment of a lookup.
    pub fn end(&self) -> i64 {
        self.end
    }

    fn holds(&self, i: usize, t: i64) -> bool {
        let (Some(r), Some(open)) = (self.routes.get(i), self.open.get(i)) else {
            return false;
        };
        r.first_seen.0 <= t && (t <= r.last_seen.0 || *open)
    }

    fn org(&self, asn: u32) -> Option<String> {
        self.names
            .get(&asn)
            .map(|(name, org, _)| org.clone().unwrap_or_else(|| name.clone()))
    }

    fn routed(&self, ip: IpAddr, t: i64) -> Option<RoutedOut> {
        let lens = self.lens.get(bits(ip))?;
        covering(ip, lens).find_map(|p| {
            let asn = self
                .by_prefix
                .get(&p)?
                .iter()
                .filter(|&&i| self.holds(i, t))
                .filter_map(|&i| self.routes.get(i).map(|r| r.origin_asn.0))
                .min()?;
            Some(RoutedOut {
                prefix: p.to_string(),
                asn,
                org: self.org(asn),
            })
        })
    }

    fn route_out(&self, i: usize) -> Option<RouteOut> {
        let r = self.routes.get(i)?;
        Some(RouteOut {
            prefix: r.prefix.trunc().to_string(),
            asn: r.origin_asn.0,
            collector: r.collector.clone(),
            first_seen: time(r.first_seen.0),
            last_seen: time(r.last_seen.0),
            peer_count: r.peer_count,
        })
    }

    fn history_of(&self, prefixes: impl Iterator<Item = Prefix>) -> Vec<RouteOut> {
        let mut idx: Vec<usize> = prefixes
            .filter_map(|p| self.by_prefix.get(&p))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.dedup();
        let mut out: Vec<RouteOut> = idx.into_iter().filter_map(|i| self.route_out(i)).collect();
        out.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then(a.prefix.cmp(&b.prefix))
        });
        out
    }

    fn listing_out(&self, i: usize, t: i64) -> Option<ListingOut> {
        let l = self.listings.get(i)?;
        if l.first_seen.is_some_and(|f| f.0 > t) {
            return None;
        }
        Some(ListingOut {
            list: l.list.as_str(),
            subject: match &l.subject {
                Subject::Net(p) => p.to_string(),
                Subject::Asn(a) => format!("AS{a}"),
                Subject::Domain(d) => d.clone(),
            },
            reason: l.reason.clone(),
            first_seen: l.first_seen.map(|x| time(x.0)),
            last_seen: l.last_seen.map(|x| time(x.0)),
            source: l.source.clone(),
        })
    }

    fn listings_of(&self, idx: impl Iterator<Item = usize>, t: i64) -> Vec<ListingOut> {
        let mut v: Vec<usize> = idx.collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter()
            .filter_map(|i| self.listing_out(i, t))
            .collect()
    }

    fn listed_covering(&self, ip: IpAddr) -> impl Iterator<Item = usize> + '_ {
        let lens = self
            .listed_lens
            .get(bits(ip))
            .map_or(&[][..], Vec::as_slice);
        covering(ip, lens)
            .filter_map(|p| self.listed_net.get(&p))
            .flatten()
            .copied()
    }

    fn at(&self, at: Option<Timestamp>) -> i64 {
        at.map_or(self.end, |t| t.0)
    }

    /// What is known about `ip`.
    pub fn ip(&self, ip: IpAddr, at: Option<Timestamp>) -> IpLookup {
        let t = self.at(at);
        let lens = self.lens.get(bits(ip)).map_or(&[][..], Vec::as_slice);
        IpLookup {
            ip: ip.to_string(),
            at: time(t),
            routed: self.routed(ip, t),
            listings: self.listings_of(self.listed_covering(ip), t),
            history: self.history_of(covering(ip, lens)),
            mail: mail(self.relays.get(&ip)),
        }
    }

    /// What is known about `prefix`.
    pub fn prefix(&self, prefix: Prefix, at: Option<Timestamp>) -> PrefixLookup {
        let t = self.at(at);
        let p = prefix.trunc();
        let net = p.network();
        let lens: Vec<u8> = self
            .lens
            .get(bits(net))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|&l| l <= p.prefix_len())
            .collect();
        let inside = self
            .listed_net
            .iter()
            .filter(|(q, _)| p.contains(*q) && **q != p)
            .flat_map(|(_, v)| v.iter().copied());
        let mut seen = Seen::default();
        for (ip, s) in &self.relays {
            if p.contains(ip) {
                seen.merge(s);
            }
        }
        PrefixLookup {
            prefix: p.to_string(),
            at: time(t),
            routed: self.routed(net, t),
            listings: self.listings_of(
                self.listed_covering(net)
                    .filter(|&i| {
                        self.listings
                            .get(i)
                            .is_some_and(|l| matches!(&l.subject, Subject::Net(q) if q.prefix_len() <= p.prefix_len()))
                    })
                    .chain(inside),
                t,
            ),
            history: self.history_of(covering(net, &lens)),
            mail: mail(Some(&seen)),
        }
    }

    fn neighbours(&self, links: Option<&Vec<Link>>, t: i64) -> Vec<NeighbourOut> {
        let mut out: Vec<NeighbourOut> = links
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|l| NeighbourOut {
                asn: l.asn,
                org: self.org(l.asn),
                first_seen: time(l.first),
                last_seen: time(l.last),
                // `as_links` rows are sightings (a RIB or an update that
                // showed the link), not intervals that end when the link
                // goes: a link counts from its first sighting on.
                current: l.first <= t,
            })
            .collect();
        out.sort_by(|a, b| b.current.cmp(&a.current).then(a.asn.cmp(&b.asn)));
        out
    }

    /// What is known about AS `asn`.
    pub fn asn(&self, asn: u32, at: Option<Timestamp>) -> AsLookup {
        let t = self.at(at);
        let mine = self.by_origin.get(&asn).map_or(&[][..], Vec::as_slice);
        let mut prefixes: Vec<Prefix> = mine
            .iter()
            .filter(|&&i| self.holds(i, t))
            .filter_map(|&i| self.routes.get(i).map(|r| r.prefix.trunc()))
            .collect();
        prefixes.sort();
        prefixes.dedup();
        let listed = self
            .listed_asn
            .get(&asn)
            .into_iter()
            .flatten()
            .copied()
            .chain(
                prefixes
                    .iter()
                    .filter_map(|p| self.listed_net.get(p))
                    .flatten()
                    .copied(),
            );
        let name = self.names.get(&asn);
        let mut history: Vec<RouteOut> = mine.iter().filter_map(|&i| self.route_out(i)).collect();
        history.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then(a.prefix.cmp(&b.prefix))
        });
        AsLookup {
            asn,
            name: name.map(|n| n.0.clone()),
            org: name.and_then(|n| n.1.clone()),
            country: name.and_then(|n| n.2.clone()),
            at: time(t),
            prefixes: prefixes.iter().map(ToString::to_string).collect(),
            upstreams: self.neighbours(self.providers.get(&asn), t),
            downstreams: self.neighbours(self.customers.get(&asn), t),
            listings: self.listings_of(listed, t),
            history,
            mail: mail(self.sending_as.get(&asn)),
        }
    }

    /// What is known about the DNS name `name` (lowercased, without a
    /// trailing dot).
    pub fn domain(&self, name: &str, at: Option<Timestamp>) -> DomainLookup {
        let t = self.at(at);
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let listed = self.listed_domain.get(&name).into_iter().flatten().copied();
        DomainLookup {
            listings: self.listings_of(listed, t),
            mail: mail(self.domains.get(&name)),
            name,
            at: time(t),
        }
    }

    /// A few addresses that sent trapped mail (for examples and benchmarks).
    pub fn sample_relays(&self, n: usize) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.relays.keys().copied().collect();
        v.sort_unstable();
        v.truncate(n);
        v
    }
}

fn mail(s: Option<&Seen>) -> MailSeen {
    let Some(s) = s.filter(|s| s.messages > 0) else {
        return MailSeen {
            messages: 0,
            first_seen: None,
            last_seen: None,
            botnets: Vec::new(),
        };
    };
    let mut botnets: Vec<BotnetCount> = s
        .botnets
        .iter()
        .map(|(b, n)| BotnetCount {
            botnet: b.clone(),
            messages: *n,
        })
        .collect();
    botnets.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.botnet.cmp(&b.botnet)));
    MailSeen {
        messages: s.messages,
        first_seen: Some(time(s.first)),
        last_seen: Some(time(s.last)),
        botnets,
    }
}
