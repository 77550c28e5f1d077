//! The dependency graph of one window: spam → campaign → botnet → its C&C
//! servers and advertised sites → where they were hosted then (prefix,
//! origin AS, organisation, upstreams). Pure: the caller hands in the
//! messages (with their attribution and advertised hosts), the feed
//! listings (C&C lists, passive DNS) and the routing history
//! ([`Hosting`]).
//!
//! Definitions (docs/intel.md, "Dependencies"):
//! - A botnet's C&C servers in a window are the C&C listings of its family
//!   whose `[first_seen, last_seen]` overlaps the window; each is placed
//!   where its address was routed at the middle of that overlap.
//! - A campaign's sites are the hosts of its messages' URLs; a host is an
//!   IP literal, or the addresses passive DNS listed for the name (or the
//!   same name with or without `www.`) during the window, each placed at
//!   the middle of the listing's overlap with the window.
//! - A message depends on an AS through C&C when its botnet has a C&C
//!   server there, through sites when one of its advertised sites is
//!   there. `cc_share(AS)` is the number of messages of the window that
//!   depend on the AS through C&C divided by all messages of the window
//!   (attributed or not): the share of all trapped spam that would lose
//!   its control if the AS went dark. Shares of different ASes overlap.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use crate::hosting::{Hosting, Placement};

/// A time window `[start, end)`, Unix microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First microsecond in it.
    pub start: i64,
    /// First microsecond after it.
    pub end: i64,
}

impl Window {
    /// The middle of the overlap of `[first, last]` (open ends: none) with
    /// the window, or `None` when they do not overlap.
    fn overlap_mid(&self, first: Option<i64>, last: Option<i64>) -> Option<i64> {
        let a = first.unwrap_or(i64::MIN).max(self.start);
        let b = last.unwrap_or(i64::MAX).min(self.end.saturating_sub(1));
        (a <= b).then(|| a + (b - a) / 2)
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// What a dependency goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DependencyKind {
    /// A C&C server of the botnet.
    Cc,
    /// An advertised site of the campaign.
    Site,
}

impl DependencyKind {
    /// `cc` or `site`.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Cc => "cc",
            DependencyKind::Site => "site",
        }
    }
}

/// One edge of the graph, placed: a botnet (and for sites, a campaign)
/// depending on an indicator hosted somewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The botnet (`None`: messages without a botnet).
    pub botnet: Option<String>,
    /// The campaign (sites only).
    pub campaign: Option<String>,
    /// C&C or site.
    pub kind: DependencyKind,
    /// The C&C address or the site's host name.
    pub indicator: String,
    /// The address it was placed by.
    pub address: IpAddr,
    /// Where that address was routed (`None`: not routed then).
    pub placement: Option<Placement>,
    /// The organisation of the first origin AS.
    pub org: Option<String>,
    /// Upstreams of the origin ASes then.
    pub upstreams: Vec<u32>,
    /// Messages of the window that depend on it.
    pub messages: u64,
    /// `messages` over all messages of the window.
    pub share: f64,
}

#[derive(Debug, Clone)]
struct Listed {
    address: IpAddr,
    first: Option<i64>,
    last: Option<i64>,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    messages: u64,
    hosts: HashMap<String, u64>,
}

/// The inputs of one window, added one by one.
#[derive(Debug, Clone)]
pub struct DependencyInput {
    window: Window,
    cc: HashMap<String, Vec<Listed>>,
    pdns: HashMap<String, Vec<Listed>>,
    messages: u64,
    /// (botnet, campaign) -> messages and advertised hosts.
    groups: BTreeMap<(Option<String>, Option<String>), Tally>,
    /// Per message: its botnet and hosts (for the per-AS shares).
    per_message: Vec<(Option<String>, Vec<String>)>,
}

/// Where each indicator of the window was placed.
type Placed = Vec<(IpAddr, Option<Placement>, i64)>;

/// The graph of one window.
#[derive(Debug, Clone)]
pub struct WindowGraph {
    /// The window.
    pub window: Window,
    /// Messages in the window (the denominator of every share).
    pub messages: u64,
    /// Messages with a botnet.
    pub attributed: u64,
    /// Messages per botnet.
    pub per_botnet: BTreeMap<String, u64>,
    /// The placed edges, botnet then kind then indicator.
    pub dependencies: Vec<Dependency>,
    /// Per AS: messages depending on it through C&C, through sites.
    by_asn: HashMap<u32, (u64, u64)>,
}

impl DependencyInput {
    /// An empty input for `window`.
    pub fn new(window: Window) -> DependencyInput {
        DependencyInput {
            window,
            cc: HashMap::new(),
            pdns: HashMap::new(),
            messages: 0,
            groups: BTreeMap::new(),
            per_message: Vec::new(),
        }
    }

    /// A C&C listing: `address` listed for `family` during `[first, last]`
    /// (open ends: unknown). Listings outside the window are ignored.
    pub fn add_cc(&mut self, address: IpAddr, family: &str, first: Option<i64>, last: Option<i64>) {
        if self.window.overlap_mid(first, last).is_none() {
            return;
        }
        self.cc.entry(family.to_string()).or_default().push(Listed {
            address,
            first,
            last,
        });
    }

    /// A passive DNS listing: `name` resolved to `address` during
    /// `[first, last]`.
    pub fn add_pdns(&mut self, name: &str, address: IpAddr, first: Option<i64>, last: Option<i64>) {
        if self.window.overlap_mid(first, last).is_none() {
            return;
        }
        self.pdns
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(Listed {
                address,
                first,
                last,
            });
    }

    /// A message at `time` with its attribution and the hosts of its URLs.
    /// Messages outside the window are ignored.
    pub fn add_message(
        &mut self,
        time: i64,
        botnet: Option<&str>,
        campaign: Option<&str>,
        hosts: &[String],
    ) {
        if !self.window.contains(time) {
            return;
        }
        self.messages += 1;
        let key = (botnet.map(str::to_string), campaign.map(str::to_string));
        let g = self.groups.entry(key).or_default();
        g.messages += 1;
        let mut uniq: Vec<String> = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        uniq.sort_unstable();
        uniq.dedup();
        for h in &uniq {
            *g.hosts.entry(h.clone()).or_insert(0) += 1;
        }
        self.per_message.push((botnet.map(str::to_string), uniq));
    }

    /// The addresses of a site host in the window, placed.
    fn site_addresses(&self, host: &str, hosting: &Hosting) -> Placed {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let t = self.window.start + (self.window.end - self.window.start) / 2;
            return vec![(ip, hosting.locate(ip, t), t)];
        }
        let alt = match host.strip_prefix("www.") {
            Some(bare) => bare.to_string(),
            None => format!("www.{host}"),
        };
        let listed = self
            .pdns
            .get(host)
            .filter(|v| !v.is_empty())
            .or_else(|| self.pdns.get(&alt));
        self.place_all(listed.map(Vec::as_slice).unwrap_or_default(), hosting)
    }

    fn place_all(&self, listed: &[Listed], hosting: &Hosting) -> Placed {
        let mut out: Placed = Vec::new();
        for l in listed {
            if out.iter().any(|(a, _, _)| *a == l.address) {
                continue;
            }
            if let Some(t) = self.window.overlap_mid(l.first, l.last) {
                out.push((l.address, hosting.locate(l.address, t), t));
            }
        }
        out
    }

    /// Places every indicator and counts, per AS, the messages that depend
    /// on it.
    pub fn build(self, hosting: &Hosting) -> WindowGraph {
        let n = self.messages;
        let share = |m: u64| if n == 0 { 0.0 } else { m as f64 / n as f64 };
        let edge = |botnet: Option<&String>,
                    campaign: Option<&String>,
                    kind,
                    indicator: &str,
                    (address, placement, t): &(IpAddr, Option<Placement>, i64),
                    messages: u64| {
            let first = placement.as_ref().and_then(|p| p.origins.first().copied());
            let mut upstreams: Vec<u32> = placement
                .iter()
                .flat_map(|p| p.origins.iter().flat_map(|&o| hosting.upstreams(o, *t)))
                .collect();
            upstreams.sort_unstable();
            upstreams.dedup();
            Dependency {
                botnet: botnet.cloned(),
                campaign: campaign.cloned(),
                kind,
                indicator: indicator.to_string(),
                address: *address,
                placement: placement.clone(),
                org: first.and_then(|a| hosting.org(a)).map(str::to_string),
                upstreams,
                messages,
                share: share(messages),
            }
        };
        let mut per_botnet: BTreeMap<String, u64> = BTreeMap::new();
        for ((b, _), g) in &self.groups {
            if let Some(b) = b {
                *per_botnet.entry(b.clone()).or_insert(0) += g.messages;
            }
        }
        let mut deps = Vec::new();
        // C&C: per botnet with messages in the window, its servers.
        let mut cc_asns: HashMap<&str, BTreeSet<u32>> = HashMap::new();
        for (botnet, msgs) in &per_botnet {
            let listed = self.cc.get(botnet).map(Vec::as_slice).unwrap_or_default();
            for placed in self.place_all(listed, hosting) {
                let asns = cc_asns.entry(botnet.as_str()).or_default();
                asns.extend(placed.1.iter().flat_map(|p| p.origins.iter().copied()));
                let ind = placed.0.to_string();
                deps.push(edge(
                    Some(botnet),
                    None,
                    DependencyKind::Cc,
                    &ind,
                    &placed,
                    *msgs,
                ));
            }
        }
        // Sites: per (botnet, campaign) and host.
        let mut host_asns: HashMap<String, BTreeSet<u32>> = HashMap::new();
        for ((botnet, campaign), g) in &self.groups {
            let mut hosts: Vec<(&String, &u64)> = g.hosts.iter().collect();
            hosts.sort();
            for (host, msgs) in hosts {
                let placed_all = self.site_addresses(host, hosting);
                let asns = host_asns.entry(host.clone()).or_default();
                for placed in &placed_all {
                    asns.extend(placed.1.iter().flat_map(|p| p.origins.iter().copied()));
                    let (b, c) = (botnet.as_ref(), campaign.as_ref());
                    deps.push(edge(b, c, DependencyKind::Site, host, placed, *msgs));
                }
            }
        }
        let by_asn = count_by_asn(&self.per_message, &cc_asns, &host_asns);
        WindowGraph {
            window: self.window,
            messages: n,
            attributed: per_botnet.values().sum(),
            per_botnet,
            dependencies: deps,
            by_asn,
        }
    }
}

/// Per AS, the messages depending on it through C&C and through sites
/// (each message counted once per AS and kind).
fn count_by_asn(
    per_message: &[(Option<String>, Vec<String>)],
    cc_asns: &HashMap<&str, BTreeSet<u32>>,
    host_asns: &HashMap<String, BTreeSet<u32>>,
) -> HashMap<u32, (u64, u64)> {
    let mut by_asn: HashMap<u32, (u64, u64)> = HashMap::new();
    let mut sites: BTreeSet<u32> = BTreeSet::new();
    for (botnet, hosts) in per_message {
        if let Some(asns) = botnet.as_deref().and_then(|b| cc_asns.get(b)) {
            for a in asns {
                by_asn.entry(*a).or_default().0 += 1;
            }
        }
        sites.clear();
        for h in hosts {
            sites.extend(host_asns.get(h).into_iter().flatten().copied());
        }
        for a in &sites {
            by_asn.entry(*a).or_default().1 += 1;
        }
    }
    by_asn
}

/// What one botnet has in an AS.
#[derive(Debug, Clone, PartialEq)]
pub struct BotnetInAs {
    /// The botnet.
    pub botnet: String,
    /// Its messages over all messages of the window.
    pub share: f64,
    /// Its messages in the window.
    pub messages: u64,
    /// Its C&C addresses hosted in the AS.
    pub cc_servers: Vec<String>,
    /// Its advertised hosts with an address in the AS.
    pub sites: Vec<String>,
}

/// How much of a window's spam depends on one AS.
#[derive(Debug, Clone, PartialEq)]
pub struct AsDependence {
    /// The AS.
    pub asn: u32,
    /// Messages in the window.
    pub messages: u64,
    /// Share of all messages whose botnet has a C&C server in the AS.
    pub cc_share: f64,
    /// Share of all messages advertising a site hosted in the AS.
    pub site_share: f64,
    /// The botnets with C&C servers or sites there, largest share first.
    pub botnets: Vec<BotnetInAs>,
}

impl WindowGraph {
    /// The roll-up for one AS.
    pub fn for_asn(&self, asn: u32) -> AsDependence {
        let (cc, site) = self.by_asn.get(&asn).copied().unwrap_or((0, 0));
        let share = |m: u64| {
            if self.messages == 0 {
                0.0
            } else {
                m as f64 / self.messages as f64
            }
        };
        let mut per: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for d in &self.dependencies {
            let in_as = d
                .placement
                .as_ref()
                .is_some_and(|p| p.origins.contains(&asn));
            let Some(b) = d.botnet.as_deref().filter(|_| in_as) else {
                continue;
            };
            let e = per.entry(b).or_default();
            match d.kind {
                DependencyKind::Cc => e.0.insert(d.indicator.clone()),
                DependencyKind::Site => e.1.insert(d.indicator.clone()),
            };
        }
        let mut botnets: Vec<BotnetInAs> = per
            .into_iter()
            .map(|(b, (cc, sites))| {
                let messages = self.per_botnet.get(b).copied().unwrap_or(0);
                BotnetInAs {
                    botnet: b.to_string(),
                    share: share(messages),
                    messages,
                    cc_servers: cc.into_iter().collect(),
                    sites: sites.into_iter().collect(),
                }
            })
            .collect();
        botnets.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.botnet.cmp(&b.botnet)));
        AsDependence {
            asn,
            messages: self.messages,
            cc_share: share(cc),
            site_share: share(site),
            botnets,
        }
    }

    /// The ASes any message depends on, with (C&C, site) message counts,
    /// most C&C-dependent first.
    pub fn asns(&self) -> Vec<(u32, u64, u64)> {
        let mut v: Vec<(u32, u64, u64)> =
            self.by_asn.iter().map(|(a, (c, s))| (*a, *c, *s)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosting::{RouteSpan, UpstreamSpan};

    const H: i64 = 3_600_000_000;

    fn hosting() -> Hosting {
        let span = |p: &str, origin: u32| RouteSpan::of_cidr(p, origin, (0, 100 * H), "c").unwrap();
        Hosting::new(
            vec![span("10.0.0.0/16", 100), span("20.0.0.0/16", 200)],
            vec![UpstreamSpan {
                asn: 100,
                provider: 7,
                first: 0,
                last: 100 * H,
            }],
            HashMap::from([(100, "Rogue Hosting".to_string())]),
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn shares_count_every_message_of_a_dependent_botnet() {
        let w = Window {
            start: 10 * H,
            end: 34 * H,
        };
        let mut input = DependencyInput::new(w);
        input.add_cc(ip("10.0.0.5"), "srizbi", Some(0), None);
        input.add_cc(ip("20.0.0.5"), "srizbi", Some(0), None);
        input.add_cc(ip("20.0.0.6"), "cutwail", Some(0), Some(50 * H));
        // Listed only before the window: not a C&C of the window.
        input.add_cc(ip("10.0.0.9"), "cutwail", Some(0), Some(5 * H));
        input.add_pdns("pills.example", ip("10.0.0.80"), Some(0), None);
        let hosts = vec!["www.pills.example".to_string()];
        for i in 0..6 {
            input.add_message(11 * H + i, Some("srizbi"), Some("c-1"), &hosts);
        }
        for i in 0..3 {
            input.add_message(
                12 * H + i,
                Some("cutwail"),
                Some("c-2"),
                &["1.2.3.4".to_string()],
            );
        }
        input.add_message(13 * H, None, None, &[]);
        input.add_message(40 * H, Some("cutwail"), None, &[]); // outside
        let g = input.build(&hosting());
        assert_eq!((g.messages, g.attributed), (10, 9));
        let d = g.for_asn(100);
        assert!((d.cc_share - 0.6).abs() < 1e-9, "{d:?}");
        assert!((d.site_share - 0.6).abs() < 1e-9, "{d:?}");
        assert_eq!(d.botnets.len(), 1);
        assert_eq!(d.botnets[0].cc_servers, vec!["10.0.0.5".to_string()]);
        assert_eq!(d.botnets[0].sites, vec!["www.pills.example".to_string()]);
        let d200 = g.for_asn(200);
        assert!((d200.cc_share - 0.9).abs() < 1e-9, "{d200:?}");
        assert_eq!(d200.site_share, 0.0);
        let cc100 = g
            .dependencies
            .iter()
            .find(|d| d.kind == DependencyKind::Cc && d.indicator == "10.0.0.5")
            .unwrap();
        assert_eq!(cc100.upstreams, vec![7]);
        assert_eq!(cc100.org.as_deref(), Some("Rogue Hosting"));
        assert_eq!(cc100.messages, 6);
        // The unrouted IP-literal site is an edge without a placement.
        assert!(
            g.dependencies
                .iter()
                .any(|d| d.indicator == "1.2.3.4" && d.placement.is_none())
        );
        assert_eq!(g.asns().first().map(|a| a.0), Some(200));
    }

    #[test]
    fn empty_window_has_zero_shares() {
        let g = DependencyInput::new(Window { start: 0, end: H }).build(&hosting());
        let d = g.for_asn(100);
        assert_eq!((d.messages, d.cc_share, d.site_share), (0, 0.0, 0.0));
    }
}
