//! What-if depeering (docs/whatif.md): cut ASes or links in the AS graph
//! of a moment and say what goes dark (ASes, prefixes, C&C servers,
//! advertised sites), which botnets lose control and how much spam
//! should fall, per botnet and in total, with an interval; and the
//! backtest that sets such a prediction, made just before a detected
//! drop, beside the drop observed.
//!
//! Split by job: [`graph`] (the indexed AS graph and the linear
//! reachability pass), [`moment`] (the graph and prefixes of one moment
//! from the stored history), [`predict`] (the drop model and the
//! families' learned fallback behaviour); this module ties them to the
//! history of a dataset, using only data up to the moment asked about.

pub mod graph;
pub mod moment;
pub mod predict;
pub mod regime;
pub mod substitute;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::hosting::Hosting;
use graph::Cut;
use moment::{LinkEvent, Moment, TimedLink};
use predict::{BotnetInput, Observation, Prediction, learn};

/// Days before the moment whose volumes measure a family's dispersion.
pub const DISPERSION_DAYS: i64 = 7;
/// One hour in µs.
pub const HOUR: i64 = 3_600_000_000;
/// One day in µs.
pub const DAY: i64 = 24 * HOUR;
/// A C&C listing counts at `t` when its last sighting (as known at `t`)
/// is at most this long before `t`: feeds see servers only now and then.
pub const LISTING_GRACE: i64 = DAY;
/// A past loss of all routes teaches responses only when the AS stayed
/// dark at least this long (a flap teaches nothing).
pub const MIN_DARK: i64 = HOUR;
/// The drop is measured from the 24 h before a cut to the 24 h starting
/// this long after it (the simulator's truth measures the same windows).
pub const SETTLE: i64 = HOUR;
/// Copies of one routing event seen by several collectors lie this close.
pub const DEDUP: i64 = 10 * 60_000_000;

/// A C&C listing (`feed_entries` kind `cnc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcListing {
    /// The server's address.
    pub ip: IpAddr,
    /// The family (canonical).
    pub family: String,
    /// The feed's first sighting (Unix µs), when given.
    pub first: Option<i64>,
    /// The feed's last sighting (Unix µs), when given.
    pub last: Option<i64>,
}

/// A bot seen talking to a C&C server (`feed_entries` kind `bots` with an
/// address: a sinkhole's or drone report's contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotContact {
    /// The server's address.
    pub cc: IpAddr,
    /// The bot's family (canonical).
    pub family: String,
    /// When the contact was seen (Unix µs): the listing's first sighting.
    pub time: i64,
}

/// Observed bot contacts count at `t` when seen at most this long before.
pub const CONTACT_WINDOW: i64 = 7 * DAY;

/// Per family, at one moment: listings and contacts, and how many of each
/// go dark.
#[derive(Debug, Clone, Copy, Default)]
struct DarkCounts {
    listed: usize,
    dark: usize,
    contacts: usize,
    contacts_dark: usize,
    weight: f64,
    weight_dark: f64,
    weight_sq: f64,
}

impl DarkCounts {
    fn input(self, botnet: &str, messages: u64) -> BotnetInput {
        BotnetInput {
            dispersion: 1.0,
            botnet: botnet.to_string(),
            messages,
            listed: self.listed,
            dark: self.dark,
            contacts: self.contacts,
            contacts_dark: self.contacts_dark,
            contact_weight: self.weight,
            contact_weight_dark: self.weight_dark,
            contact_weight_sq: self.weight_sq,
        }
    }
}

/// A host advertised in the spam before the moment, at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteHit {
    /// The URL host.
    pub host: String,
    /// An address it had (an IP literal or a passive DNS answer).
    pub ip: IpAddr,
}

/// Everything a what-if reads, for the whole dataset; every question
/// filters it to what was known at its moment.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Links with their first sighting.
    pub links: Vec<TimedLink>,
    /// Provider links and whole ASes lost and gained.
    pub link_events: Vec<LinkEvent>,
    /// C&C listings.
    pub listings: Vec<CcListing>,
    /// Bots seen talking to C&C servers, by time.
    pub contacts: Vec<BotContact>,
    /// Attributed spam: arrival times (Unix µs, ascending) per family.
    pub spam: BTreeMap<String, Vec<i64>>,
}

/// A C&C server that goes dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcDark {
    /// Its address.
    pub ip: IpAddr,
    /// Its family.
    pub botnet: String,
    /// The prefix it was routed in.
    pub prefix: String,
    /// The origin AS(es) of that prefix.
    pub origins: Vec<u32>,
}

/// An advertised site that goes dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDark {
    /// The host.
    pub host: String,
    /// Its address.
    pub ip: IpAddr,
    /// The origin AS(es).
    pub origins: Vec<u32>,
}

/// The answer of one what-if.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WhatIf {
    /// The moment (Unix µs).
    pub at: i64,
    /// What was cut.
    pub cut: Cut,
    /// ASes that go dark (the cut ones and those behind them), ascending.
    pub dark_ases: Vec<u32>,
    /// Prefixes announced at the moment whose every origin goes dark.
    pub unreachable_prefixes: Vec<String>,
    /// C&C servers that go dark.
    pub cc_dark: Vec<CcDark>,
    /// Advertised sites that go dark.
    pub sites_dark: Vec<SiteDark>,
    /// The predicted drop.
    pub prediction: Prediction,
    /// Past cuts the families' responses were learned from.
    pub learned_from: usize,
}

fn count_between(times: &[i64], from: i64, to: i64) -> u64 {
    let a = times.partition_point(|&t| t < from);
    let b = times.partition_point(|&t| t < to);
    u64::try_from(b.saturating_sub(a)).unwrap_or(0)
}

impl History {
    /// The graph and the prefixes at `t` (the work done once per moment).
    #[must_use]
    pub fn moment(&self, hosting: &Hosting, t: i64) -> Moment {
        Moment::new(
            &self.links,
            &self.link_events,
            hosting.routes(),
            hosting.collector_end(),
            t,
        )
    }

    /// The listings known and current at `t`, located then: (listing,
    /// prefix, origins). Unrouted ones are left out: the botnet's volume
    /// at `t` does not rest on them.
    fn located(&self, hosting: &Hosting, t: i64) -> Vec<(&CcListing, String, Vec<u32>)> {
        let mut seen = BTreeSet::new();
        self.listings
            .iter()
            .filter(|l| l.first.is_none_or(|f| f <= t))
            .filter(|l| l.last.is_none_or(|x| x.min(t) >= t - LISTING_GRACE))
            .filter(|l| seen.insert((l.ip, l.family.clone())))
            .filter_map(|l| {
                let p = hosting.locate(l.ip, t)?;
                Some((l, p.prefix, p.origins))
            })
            .collect()
    }

    /// Per family, the listings and observed contacts current at `t`
    /// (routed then) and those that go dark; `on_dark` sees each dark
    /// listing.
    fn dark_counts(
        &self,
        hosting: &Hosting,
        t: i64,
        dark: impl Fn(u32) -> bool,
        mut on_dark: impl FnMut(&CcListing, String, Vec<u32>),
    ) -> BTreeMap<String, DarkCounts> {
        let mut per: BTreeMap<String, DarkCounts> = BTreeMap::new();
        for (l, prefix, origins) in self.located(hosting, t) {
            let e = per.entry(l.family.clone()).or_default();
            e.listed += 1;
            if origins.iter().all(|&o| dark(o)) {
                e.dark += 1;
                on_dark(l, prefix, origins);
            }
        }
        let from = self
            .contacts
            .partition_point(|c| c.time < t - CONTACT_WINDOW);
        let to = self.contacts.partition_point(|c| c.time <= t);
        // Per family, its contacts in time order, each dark or not.
        let mut seen: BTreeMap<&str, Vec<(i64, bool)>> = BTreeMap::new();
        for c in self.contacts.get(from..to).unwrap_or_default() {
            let Some(p) = hosting.locate(c.cc, t) else {
                continue;
            };
            let is_dark = p.origins.iter().all(|&o| dark(o));
            seen.entry(c.family.as_str())
                .or_default()
                .push((c.time, is_dark));
        }
        for (family, cs) in seen {
            let e = per.entry(family.to_string()).or_default();
            e.contacts = cs.len();
            e.contacts_dark = cs.iter().filter(|c| c.1).count();
            // Only the latest regime counts, its contacts alike
            // (regime.rs: a botnet that moved is commanded from where
            // its bots went since).
            let now = cs.get(regime::latest(&cs)..).unwrap_or_default();
            e.weight = now.len() as f64;
            e.weight_sq = e.weight;
            e.weight_dark = now.iter().filter(|c| c.1).count() as f64;
        }
        per
    }

    /// Messages per family in `[from, to)`.
    fn counts(&self, from: i64, to: i64) -> BTreeMap<&str, u64> {
        self.spam
            .iter()
            .map(|(f, ts)| (f.as_str(), count_between(ts, from, to)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// How much more `family`'s daily volume varied over the week before
    /// `t` than Poisson counts would ([`predict::dispersion`]).
    fn dispersion(&self, family: &str, t: i64) -> f64 {
        let times = self.spam.get(family).map(Vec::as_slice).unwrap_or_default();
        // Whole days only: a day that began before the family's first
        // message (the data's start, most often) is a part of one.
        let first = times.first().copied().unwrap_or(t);
        let days: Vec<u64> = (0..DISPERSION_DAYS)
            .rev()
            .filter(|i| t - (i + 1) * DAY >= first)
            .map(|i| count_between(times, t - (i + 1) * DAY, t - i * DAY))
            .collect();
        predict::dispersion(&days)
    }

    /// The past losses of all routes an AS suffered that can teach a
    /// response at `at`: whole 25 h after them known by `at`, the AS dark
    /// for at least [`MIN_DARK`] and not dark in the day before.
    #[must_use]
    pub fn past_cuts(&self, at: i64) -> Vec<(i64, u32)> {
        let mut by_as: BTreeMap<u32, Vec<(i64, bool)>> = BTreeMap::new();
        for e in self.link_events.iter().filter(|e| e.upstream.is_none()) {
            by_as.entry(e.asn).or_default().push((e.time, e.up));
        }
        let mut out = Vec::new();
        for (asn, mut evs) in by_as {
            evs.sort_unstable();
            for &(t, up) in &evs {
                if up || t + SETTLE + DAY > at {
                    continue;
                }
                // Routes came or went in the day before (a copy of this
                // event from another collector is minutes away): the
                // volume before was not the normal one.
                let unsettled = evs.iter().any(|&(u, _)| u >= t - DAY && u < t - DEDUP);
                let back_soon = evs.iter().any(|&(u, up)| up && u > t && u <= t + MIN_DARK);
                let copy = out.last().is_some_and(|&(p, a)| a == asn && t - p < DEDUP);
                if !unsettled && !back_soon && !copy {
                    out.push((t, asn));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// What each family did at each past cut known at `at`: those that
    /// lost C&C servers (dark share above 0) and the untouched.
    #[must_use]
    pub fn observations(&self, hosting: &Hosting, at: i64) -> Vec<Observation> {
        let mut out = Vec::new();
        for (t, asn) in self.past_cuts(at) {
            let before_t = t - 60_000_000;
            let graph = moment::graph_at(&self.links, &self.link_events, before_t);
            let base = graph.reach(&Cut::default());
            let cut = Cut {
                asns: vec![asn],
                links: vec![],
            };
            let after = graph.reach(&cut);
            let dark = |o: u32| {
                o == asn
                    || (graph.contains(o)
                        && graph.is_reachable(&base, o, &Cut::default())
                        && !graph.is_reachable(&after, o, &cut))
            };
            let per = self.dark_counts(hosting, before_t, dark, |_, _, _| {});
            // Every family that sent spam around it: the untouched ones
            // (dark share 0) teach the substitution.
            for (family, times) in &self.spam {
                let x = per
                    .get(family)
                    .map_or(0.0, |c| c.input(family, 0).dark_share());
                let before = count_between(times, t - DAY, t);
                let after = count_between(times, t + SETTLE, t + SETTLE + DAY);
                if before + after > 0 {
                    out.push(Observation {
                        family: family.clone(),
                        time: t,
                        dark_share: x,
                        before,
                        after,
                    });
                }
            }
        }
        out
    }

    /// The what-if of `cut` at the moment `m` (from [`History::moment`]).
    /// `sites`: hosts advertised in the day before, with addresses.
    #[must_use]
    pub fn what_if(&self, hosting: &Hosting, m: &Moment, cut: &Cut, sites: &[SiteHit]) -> WhatIf {
        let t = m.at;
        let after = m.graph.reach(cut);
        let mut dark_ases = m.graph.newly_dark(&m.base, &after);
        for a in &cut.asns {
            if !dark_ases.contains(a) {
                dark_ases.push(*a);
            }
        }
        dark_ases.sort_unstable();
        let dark = |o: u32| dark_ases.binary_search(&o).is_ok();
        let unreachable_prefixes = m.prefixes.unreachable(dark);
        let mut cc_dark = Vec::new();
        let per = self.dark_counts(hosting, t, dark, |l, prefix, origins| {
            cc_dark.push(CcDark {
                ip: l.ip,
                botnet: l.family.clone(),
                prefix,
                origins,
            });
        });
        let mut sites_dark: Vec<SiteDark> = sites
            .iter()
            .filter_map(|s| {
                let p = hosting.locate(s.ip, t)?;
                p.origins.iter().all(|&o| dark(o)).then(|| SiteDark {
                    host: s.host.clone(),
                    ip: s.ip,
                    origins: p.origins,
                })
            })
            .collect();
        sites_dark.sort_by(|a, b| (&a.host, a.ip).cmp(&(&b.host, b.ip)));
        sites_dark.dedup();
        let inputs: Vec<BotnetInput> = self
            .counts(t - DAY, t)
            .into_iter()
            .map(|(family, messages)| {
                let mut input = per
                    .get(family)
                    .copied()
                    .unwrap_or_default()
                    .input(family, messages);
                input.dispersion = self.dispersion(family, t);
                input
            })
            .collect();
        let observations = self.observations(hosting, t);
        let learned_from = observations
            .iter()
            .filter(|o| o.dark_share > 0.0)
            .map(|o| o.time)
            .collect::<BTreeSet<_>>()
            .len();
        let prediction = predict::predict(
            &inputs,
            &learn(&observations),
            &substitute::learn(&observations),
        );
        WhatIf {
            at: t,
            cut: cut.clone(),
            dark_ases,
            unreachable_prefixes,
            cc_dark,
            sites_dark,
            prediction,
            learned_from,
        }
    }
}

/// A detected drop of the total with its routing causes (what `depeer
/// events` finds).
#[derive(Debug, Clone, PartialEq)]
pub struct DropEvent {
    /// First minute at the new rate (Unix µs).
    pub time: i64,
    /// Earliest minute of its interval (Unix µs).
    pub time_low: i64,
    /// The observed drop, 0..1 (minus the relative change).
    pub observed_drop: f64,
    /// The ASes of its causes that lost routes, with the routing
    /// events' times (Unix µs).
    pub causes: Vec<(u32, i64)>,
}

/// One backtest: the what-if made just before a drop beside the drop.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The drop's time (Unix µs).
    pub event_time: i64,
    /// The moment the what-if was made at (Unix µs).
    pub at: i64,
    /// The ASes cut.
    pub cut: Vec<u32>,
    /// The what-if's answer.
    pub what_if: WhatIf,
    /// The drop observed.
    pub observed_drop: f64,
}

/// For each drop with a cause: the what-if of cutting its causes' ASes,
/// made a minute before the earliest of the drop's interval and its
/// causes, with only what was known then.
#[must_use]
pub fn backtest(history: &History, hosting: &Hosting, drops: &[DropEvent]) -> Vec<Backtest> {
    drops
        .iter()
        .filter(|d| !d.causes.is_empty())
        .map(|d| {
            let first_cause = d.causes.iter().map(|c| c.1).min().unwrap_or(d.time_low);
            let at = d.time_low.min(first_cause) - 60_000_000;
            let mut asns: Vec<u32> = d.causes.iter().map(|c| c.0).collect();
            asns.sort_unstable();
            asns.dedup();
            let cut = Cut {
                asns: asns.clone(),
                links: vec![],
            };
            let m = history.moment(hosting, at);
            Backtest {
                event_time: d.time,
                at,
                cut: asns,
                what_if: history.what_if(hosting, &m, &cut, &[]),
                observed_drop: d.observed_drop,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
