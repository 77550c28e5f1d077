//! The read side of what-if depeering (docs/whatif.md): reads the
//! dataset once (routes, AS links with their relationships, routing
//! events, C&C and passive DNS listings, attributed spam, advertised
//! hosts) into [`depeer_analysis::whatif::History`], and answers
//! [`what_if`] (one cut at one moment) and [`backtest`] (every detected
//! drop with a routing cause). The model itself is pure, in
//! depeer-analysis; only data up to the moment asked about is used.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use depeer_analysis::Hosting;
use depeer_analysis::whatif::graph::{Cut, Link, LinkKind};
use depeer_analysis::whatif::moment::{LinkEvent, TimedLink};
use depeer_analysis::whatif::{
    Backtest, BotContact, CcListing, DAY, DropEvent, History, SiteHit, WhatIf,
};
use depeer_core::{Relationship, RoutingEventKind, Timestamp};
use depeer_store::Dataset;
use serde::Serialize;

use crate::IngestError;

mod drops;

/// Seconds each step of one what-if took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WhatIfTiming {
    /// Reading the dataset and indexing the routes.
    pub load_s: f64,
    /// Building the graph and prefix table of the moment.
    pub moment_s: f64,
    /// The cut itself: reachability, prefixes, C&C, sites, prediction.
    pub cut_s: f64,
    /// Of `cut_s`, the reachability pass and the prefix pass alone.
    pub reach_s: f64,
}

/// One what-if with what it was computed on.
#[derive(Debug, Clone)]
pub struct WhatIfAnswer {
    /// The answer.
    pub what_if: WhatIf,
    /// ASes in the graph of the moment.
    pub graph_ases: usize,
    /// Links in it.
    pub graph_links: usize,
    /// Prefixes announced at the moment.
    pub prefixes: usize,
    /// Whether the `attribution` table had rows (without it, nothing is
    /// predicted).
    pub attributed: bool,
    /// Time taken per step.
    pub timing: WhatIfTiming,
}

/// A passive DNS answer: address, first and last seen (Unix µs).
type Answer = (IpAddr, Option<i64>, Option<i64>);

/// The dataset, read once for what-ifs.
pub struct WhatIfData {
    /// The history.
    pub history: History,
    /// The routes, indexed.
    pub hosting: Hosting,
    /// Passive DNS: name -> (address, first, last) in Unix µs.
    pdns: HashMap<String, Vec<Answer>>,
    /// The end of the data (Unix µs): after the last message, else the
    /// last routing record.
    pub end: i64,
    dir: std::path::PathBuf,
}

fn open(data: &Path) -> Result<Dataset, IngestError> {
    Dataset::open(data).map_err(|source| IngestError::OpenStore {
        dir: data.to_path_buf(),
        source,
    })
}

/// `upstream AS6939 (collector x)` -> 6939.
fn upstream_of(detail: &str) -> Option<u32> {
    let rest = detail.strip_prefix("upstream AS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl WhatIfData {
    /// Reads what the what-ifs of `data` need.
    pub fn read(data: &Path) -> Result<WhatIfData, IngestError> {
        let ds = open(data)?;
        let step = IngestError::store;
        let hosting = crate::read::load_hosting(&ds)?;
        let mut links = Vec::new();
        for l in ds.read_as_links().map_err(step("reading as_links"))? {
            let (a, b) = (l.asn.0, l.neighbor_asn.0);
            let kind = match l.relationship {
                Relationship::Customer => LinkKind::ProviderOf,
                Relationship::Peer if a < b => LinkKind::Peer,
                Relationship::Sibling if a < b => LinkKind::Sibling,
                _ => continue,
            };
            links.push(TimedLink {
                link: Link { a, b, kind },
                first: l.first_seen.0,
            });
        }
        let link_events = ds
            .read_routing_events()
            .map_err(step("reading routing_events"))?
            .into_iter()
            .filter_map(|e| {
                let asn = e.asn?.0;
                let (upstream, up) = match e.kind {
                    RoutingEventKind::UpstreamLost => (Some(upstream_of(&e.detail)?), false),
                    RoutingEventKind::UpstreamGained => (Some(upstream_of(&e.detail)?), true),
                    RoutingEventKind::AsUnreachable => (None, false),
                    RoutingEventKind::AsReachable => (None, true),
                    _ => return None,
                };
                Some(LinkEvent {
                    time: e.time.0,
                    asn,
                    upstream,
                    up,
                })
            })
            .collect();
        let mut listings = Vec::new();
        let mut contacts = Vec::new();
        let mut pdns: HashMap<String, Vec<Answer>> = HashMap::new();
        for f in ds
            .read_feed_entries()
            .map_err(step("reading feed_entries"))?
        {
            let (first, last) = (f.first_seen.map(|t| t.0), f.last_seen.map(|t| t.0));
            match (f.kind.as_str(), f.family) {
                ("cnc", Some(family)) => {
                    if let Ok(ip) = f.indicator.parse::<IpAddr>() {
                        listings.push(CcListing {
                            ip,
                            family,
                            first,
                            last,
                        });
                    }
                }
                ("bots", Some(family)) => {
                    let cc = f.address.as_deref().and_then(|a| a.parse().ok());
                    if let (Some(cc), Some(time)) = (cc, first.or(last)) {
                        contacts.push(BotContact { cc, family, time });
                    }
                }
                ("pdns", _) => {
                    if let Some(ip) = f.address.as_deref().and_then(|a| a.parse().ok()) {
                        pdns.entry(f.indicator.to_ascii_lowercase())
                            .or_default()
                            .push((ip, first, last));
                    }
                }
                _ => {}
            }
        }
        let mut spam: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut last_message = None;
        for r in ds.read_attribution().map_err(step("reading attribution"))? {
            last_message = Some(last_message.map_or(r.time.0, |l: i64| l.max(r.time.0)));
            if let Some(b) = r.botnet {
                spam.entry(b).or_default().push(r.time.0);
            }
        }
        for v in spam.values_mut() {
            v.sort_unstable();
        }
        contacts.sort_by_key(|c: &BotContact| (c.time, c.cc));
        let routes_end = hosting.routes().iter().map(|r| r.last).max().unwrap_or(0);
        Ok(WhatIfData {
            history: History {
                links,
                link_events,
                listings,
                contacts,
                spam,
            },
            hosting,
            pdns,
            end: last_message.map_or(routes_end, |t| t + 1),
            dir: data.to_path_buf(),
        })
    }

    /// The hosts advertised in the day before `at` with their addresses
    /// then (IP literals, or passive DNS answers current at `at`).
    fn sites(&self, at: i64) -> Result<Vec<SiteHit>, IngestError> {
        let ds = open(&self.dir)?;
        let step = IngestError::store;
        let points = ds
            .read_message_points(Some(Timestamp(at - DAY)), Some(Timestamp(at)))
            .map_err(step("reading messages"))?;
        if points.is_empty() {
            return Ok(Vec::new());
        }
        let window: std::collections::HashSet<String> =
            points.into_iter().map(|p| p.sha256).collect();
        let mut hosts: Vec<String> = ds
            .read_url_hosts()
            .map_err(step("reading message_urls"))?
            .into_iter()
            .filter(|(sha, _, _)| window.contains(sha))
            .map(|(_, host, _)| host)
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut out = Vec::new();
        for host in hosts {
            if let Ok(ip) = host.parse::<IpAddr>() {
                out.push(SiteHit { host, ip });
                continue;
            }
            for &(ip, first, last) in self.pdns.get(&host).map(Vec::as_slice).unwrap_or_default() {
                let current =
                    first.is_none_or(|f| f <= at) && last.is_none_or(|l| l.min(at) >= at - DAY);
                if current {
                    out.push(SiteHit {
                        host: host.clone(),
                        ip,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The what-if of `cut` at `at` (default: the end of the data).
    pub fn what_if(&self, at: Option<i64>, cut: &Cut) -> Result<WhatIfAnswer, IngestError> {
        let at = at.unwrap_or(self.end);
        let t0 = Instant::now();
        let m = self.history.moment(&self.hosting, at);
        let moment_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let r = m.graph.reach(cut);
        let n = m
            .prefixes
            .unreachable(|o| cut.asns.contains(&o) || m.dark(&r, cut, o))
            .len();
        let reach_s = t1.elapsed().as_secs_f64();
        let sites = self.sites(at)?;
        let t2 = Instant::now();
        let what_if = self.history.what_if(&self.hosting, &m, cut, &sites);
        let cut_s = t2.elapsed().as_secs_f64();
        debug_assert_eq!(n, what_if.unreachable_prefixes.len());
        Ok(WhatIfAnswer {
            graph_ases: m.graph.len(),
            graph_links: m.graph.link_count(),
            prefixes: m.prefixes.len(),
            attributed: !self.history.spam.is_empty(),
            what_if,
            timing: WhatIfTiming {
                load_s: 0.0,
                moment_s,
                cut_s,
                reach_s,
            },
        })
    }

    /// Writes the graph at `at` (default: the end of the data) in CAIDA's
    /// serial-2 `as-rel` form (`provider|customer|-1|bgp`,
    /// `peer|peer|0|bgp`; siblings as peers, which is how CAIDA files
    /// them too), with the tops as the `# input clique` line, for other
    /// simulators (scripts/bench/whatif gives it to BGPy). Returns the
    /// number of links written.
    pub fn export_as_rel(&self, at: Option<i64>, out: &Path) -> Result<usize, IngestError> {
        use std::io::Write;
        let at = at.unwrap_or(self.end);
        let links = depeer_analysis::whatif::moment::links_at(
            &self.history.links,
            &self.history.link_events,
            at,
        );
        let graph = depeer_analysis::whatif::graph::AsGraph::new(&links);
        let io = |source| IngestError::Write {
            path: out.to_path_buf(),
            source,
        };
        let mut w = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
        let tops: Vec<String> = graph.tops().iter().map(u32::to_string).collect();
        writeln!(
            w,
            "# as-rel of depeer's inferred graph at {}",
            Timestamp(at).to_rfc3339()
        )
        .map_err(io)?;
        writeln!(w, "# input clique: {}", tops.join(" ")).map_err(io)?;
        let mut seen = std::collections::HashSet::new();
        for l in &links {
            let (a, b, rel) = match l.kind {
                LinkKind::ProviderOf => (l.a, l.b, -1),
                _ => (l.a.min(l.b), l.a.max(l.b), 0),
            };
            if a != b && seen.insert((a.min(b), a.max(b))) {
                writeln!(w, "{a}|{b}|{rel}|bgp").map_err(io)?;
            }
        }
        w.flush().map_err(io)?;
        Ok(seen.len())
    }

    /// The backtests of `drops` (see [`depeer_analysis::whatif::backtest`]).
    #[must_use]
    pub fn backtest(&self, drops: &[DropEvent]) -> Vec<Backtest> {
        depeer_analysis::whatif::backtest(&self.history, &self.hosting, drops)
    }

    /// The drops of the total spam with routing causes, as `depeer
    /// events` finds them.
    pub fn drops(&self) -> Result<Vec<DropEvent>, IngestError> {
        drops::detect(&self.dir)
    }
}

/// Reads `data` and backtests every drop with a routing cause.
pub fn backtest(data: &Path) -> Result<BacktestReport, IngestError> {
    let d = WhatIfData::read(data)?;
    Ok(BacktestReport::new(&d.backtest(&d.drops()?)))
}

/// Reads `data` and answers the what-if of `cut` at `at`.
pub fn what_if(data: &Path, at: Option<i64>, cut: &Cut) -> Result<WhatIfAnswer, IngestError> {
    let t = Instant::now();
    let d = WhatIfData::read(data)?;
    let load_s = t.elapsed().as_secs_f64();
    let mut a = d.what_if(at, cut)?;
    a.timing.load_s = load_s;
    Ok(a)
}

/// `depeer whatif --json`.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfReport {
    /// The moment (RFC 3339).
    pub at: String,
    /// The ASes cut.
    pub cut: Vec<u32>,
    /// The links cut, `[a, b]`.
    pub cut_links: Vec<[u32; 2]>,
    /// Prefixes announced then whose every origin goes dark (CIDR).
    pub unreachable_prefixes: Vec<String>,
    /// Their number.
    pub unreachable_prefix_count: usize,
    /// ASes that go dark: the cut ones and those with no provider chain left.
    pub dark_ases: Vec<u32>,
    /// C&C servers that go dark.
    pub cc_dark: Vec<CcDarkOut>,
    /// Botnets that lose C&C servers (all or some).
    pub botnets_losing_control: Vec<String>,
    /// Advertised sites (hosts of the day before) that go dark.
    pub sites_dark: Vec<SiteDarkOut>,
    /// Predicted drop of the spam rate, 0..1 of the rate of the 24 h before.
    pub predicted_drop: f64,
    /// Low end of the interval.
    pub low: f64,
    /// High end of the interval.
    pub high: f64,
    /// What the cut takes directly (`Σ share · drop` over the botnets),
    /// before the untouched botnets make part of it up.
    pub direct_drop: f64,
    /// How much of the direct loss the untouched botnets make up within
    /// the day.
    pub substitution: SubstitutionOut,
    /// Per botnet of the 24 h before, largest share first.
    pub per_botnet: Vec<BotnetOut>,
    /// Attributed messages of the 24 h before.
    pub messages_before: u64,
    /// Past cuts the families' responses were learned from.
    pub learned_from: usize,
    /// The graph of the moment.
    pub graph: GraphOut,
    /// Seconds per step.
    pub timing: TimingOut,
    /// Why nothing could be predicted, when so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A C&C server that goes dark.
#[derive(Debug, Clone, Serialize)]
pub struct CcDarkOut {
    /// Its address.
    pub ip: String,
    /// Its family.
    pub botnet: String,
    /// The prefix it is routed in.
    pub prefix: String,
    /// The origin AS(es).
    pub asns: Vec<u32>,
}

/// An advertised site that goes dark.
#[derive(Debug, Clone, Serialize)]
pub struct SiteDarkOut {
    /// The host.
    pub host: String,
    /// Its address.
    pub ip: String,
    /// The origin AS(es).
    pub asns: Vec<u32>,
}

/// One botnet's prediction.
#[derive(Debug, Clone, Serialize)]
pub struct BotnetOut {
    /// The family.
    pub botnet: String,
    /// Its share of the attributed spam of the 24 h before.
    pub share: f64,
    /// Predicted drop of its rate, 0..1.
    pub predicted_drop: f64,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Its messages in the 24 h before.
    pub messages: u64,
    /// Its C&C listings routed then.
    pub cc_listed: usize,
    /// Those that go dark.
    pub cc_dark: usize,
    /// Its bots seen talking to a routed C&C server in the week before.
    pub contacts: usize,
    /// Those whose server goes dark.
    pub contacts_dark: usize,
    /// The contacts the dark share was measured on: those since the last
    /// clear change of the share going dark (0 when on listings).
    pub contacts_used: usize,
    /// Those whose server goes dark.
    pub contacts_used_dark: usize,
    /// What the dark share was measured on: `contacts` (bots seen per
    /// server) or `listings` (each listed server an equal part).
    pub basis: &'static str,
    /// Its response (observed drop over dark share; 1 = the prior).
    pub response: f64,
    /// Past cuts the response was learned from (0: the prior).
    pub response_events: usize,
    /// How much more its daily volume varied over the week before than
    /// Poisson counts would (1: as Poisson); widens its interval.
    pub dispersion: f64,
}

/// The substitution of a prediction (docs/whatif.md).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SubstitutionOut {
    /// Share of the direct loss made up within the day.
    pub ratio: f64,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// Past cuts it was learned from (0: the prior).
    pub events: usize,
}

impl SubstitutionOut {
    fn new(s: &depeer_analysis::whatif::substitute::Substitution) -> SubstitutionOut {
        SubstitutionOut {
            ratio: round6(s.ratio),
            low: round6(s.low),
            high: round6(s.high),
            events: s.events,
        }
    }
}

/// Size of the graph of the moment.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GraphOut {
    /// ASes.
    pub ases: usize,
    /// Links.
    pub links: usize,
    /// Prefixes announced.
    pub prefixes: usize,
}

/// Seconds per step.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TimingOut {
    /// Reading the dataset.
    pub load_s: f64,
    /// The graph and prefix table of the moment (once per moment).
    pub moment_s: f64,
    /// Reachability after the cut and the unreachable prefixes.
    pub reach_s: f64,
    /// The whole cut: reachability, prefixes, C&C, sites, prediction.
    pub cut_s: f64,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl WhatIfReport {
    /// The report of one answer.
    #[must_use]
    pub fn new(a: &WhatIfAnswer) -> WhatIfReport {
        let w = &a.what_if;
        let p = &w.prediction;
        let mut losing: Vec<String> = w.cc_dark.iter().map(|c| c.botnet.clone()).collect();
        losing.sort_unstable();
        losing.dedup();
        let note = if !a.attributed {
            Some("the `attribution` table is empty: nothing to predict (ingest mail, then `depeer attribute`)".to_string())
        } else if p.messages == 0 {
            Some("no attributed spam in the 24 h before: nothing to predict".to_string())
        } else {
            None
        };
        WhatIfReport {
            at: Timestamp(w.at).to_rfc3339(),
            cut: w.cut.asns.clone(),
            cut_links: w.cut.links.iter().map(|&(a, b)| [a, b]).collect(),
            unreachable_prefix_count: w.unreachable_prefixes.len(),
            unreachable_prefixes: w.unreachable_prefixes.clone(),
            dark_ases: w.dark_ases.clone(),
            cc_dark: w
                .cc_dark
                .iter()
                .map(|c| CcDarkOut {
                    ip: c.ip.to_string(),
                    botnet: c.botnet.clone(),
                    prefix: c.prefix.clone(),
                    asns: c.origins.clone(),
                })
                .collect(),
            botnets_losing_control: losing,
            sites_dark: w
                .sites_dark
                .iter()
                .map(|s| SiteDarkOut {
                    host: s.host.clone(),
                    ip: s.ip.to_string(),
                    asns: s.origins.clone(),
                })
                .collect(),
            predicted_drop: round6(p.predicted_drop),
            low: round6(p.low),
            high: round6(p.high),
            direct_drop: round6(p.direct_drop),
            substitution: SubstitutionOut::new(&p.substitution),
            per_botnet: p.per_botnet.iter().map(botnet_out).collect(),
            messages_before: p.messages,
            learned_from: w.learned_from,
            graph: GraphOut {
                ases: a.graph_ases,
                links: a.graph_links,
                prefixes: a.prefixes,
            },
            timing: TimingOut {
                load_s: a.timing.load_s,
                moment_s: a.timing.moment_s,
                reach_s: a.timing.reach_s,
                cut_s: a.timing.cut_s,
            },
            note,
        }
    }
}

/// `depeer backtest --json`.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestReport {
    /// One per detected drop with a routing cause, in time order.
    pub backtests: Vec<BacktestOut>,
}

/// One backtest.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestOut {
    /// The detected drop's time (RFC 3339).
    pub event_time: String,
    /// The moment the what-if was made at (RFC 3339).
    pub at: String,
    /// The ASes cut: the drop's causes that lost routes.
    pub cut: Vec<u32>,
    /// Predicted drop, 0..1.
    pub predicted_drop: f64,
    /// Low end.
    pub low: f64,
    /// High end.
    pub high: f64,
    /// What the cut takes directly, before substitution.
    pub direct_drop: f64,
    /// The substitution used.
    pub substitution: SubstitutionOut,
    /// The drop observed (depeer events' magnitude, as a positive fraction).
    pub observed_drop: f64,
    /// Past cuts the responses were learned from.
    pub learned_from: usize,
    /// Per botnet, as in `depeer whatif`.
    pub per_botnet: Vec<BotnetOut>,
}

impl BacktestReport {
    /// The report of `backtests`.
    #[must_use]
    pub fn new(backtests: &[Backtest]) -> BacktestReport {
        BacktestReport {
            backtests: backtests
                .iter()
                .map(|b| {
                    let p = &b.what_if.prediction;
                    BacktestOut {
                        event_time: Timestamp(b.event_time).to_rfc3339(),
                        at: Timestamp(b.at).to_rfc3339(),
                        cut: b.cut.clone(),
                        predicted_drop: round6(p.predicted_drop),
                        low: round6(p.low),
                        high: round6(p.high),
                        direct_drop: round6(p.direct_drop),
                        substitution: SubstitutionOut::new(&p.substitution),
                        observed_drop: round6(b.observed_drop),
                        learned_from: b.what_if.learned_from,
                        per_botnet: p.per_botnet.iter().map(botnet_out).collect(),
                    }
                })
                .collect(),
        }
    }
}

fn botnet_out(b: &depeer_analysis::whatif::predict::BotnetDrop) -> BotnetOut {
    BotnetOut {
        botnet: b.botnet.clone(),
        share: round6(b.share),
        predicted_drop: round6(b.predicted_drop),
        low: round6(b.low),
        high: round6(b.high),
        messages: b.messages,
        cc_listed: b.cc_listed,
        cc_dark: b.cc_dark,
        contacts: b.contacts,
        contacts_dark: b.contacts_dark,
        contacts_used: b.contacts_used,
        contacts_used_dark: b.contacts_used_dark,
        basis: b.basis.as_str(),
        response: round6(b.response.ratio),
        response_events: b.response.events,
        dispersion: round6(b.dispersion),
    }
}

/// Parses a cut link `A-B` (`AS` prefixes allowed).
pub fn parse_link(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let asn = |s: &str| {
        let s = s.trim();
        let s = s
            .strip_prefix("AS")
            .or_else(|| s.strip_prefix("as"))
            .unwrap_or(s);
        s.parse::<u32>().ok()
    };
    Some((asn(a)?, asn(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_from_the_event_detail() {
        assert_eq!(upstream_of("upstream AS6939 (collector c)"), Some(6939));
        assert_eq!(upstream_of("upstream AS"), None);
        assert_eq!(upstream_of("prefix"), None);
    }

    #[test]
    fn cut_links_parse() {
        assert_eq!(parse_link("3549-26780"), Some((3549, 26780)));
        assert_eq!(parse_link("AS3549-AS26780"), Some((3549, 26780)));
        assert_eq!(parse_link("3549"), None);
        assert_eq!(parse_link("a-1"), None);
    }
}
