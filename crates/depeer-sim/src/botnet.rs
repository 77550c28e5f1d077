//! Botnets, their C&C groups, campaigns and advertised sites, and the
//! volume model: a botnet sends `share × world rate × growth(t) ×
//! Σ weight·activity(group, t)`, where a group is active while its hoster
//! is reachable (and, unless `resume`, only until it is first lost or
//! seized), ramping up linearly after a fallback's `from`.

use std::collections::BTreeMap;

use crate::SimError;
use crate::rng::{Rng, cumulative, label, mix3};
use crate::scenario::{BotnetCfg, CcCfg, EventKind, Scenario};
use crate::text;
use crate::timefmt::parse_duration;
use crate::world::{World, host_in_prefixes};

/// A server at an address during `[from, to)`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Loc {
    #[serde(serialize_with = "ser_ip")]
    pub(crate) ip: u32,
    pub(crate) asn: u32,
    #[serde(serialize_with = "ser_time")]
    pub(crate) from: i64,
    #[serde(serialize_with = "ser_time")]
    pub(crate) to: i64,
}

fn ser_ip<S: serde::Serializer>(ip: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&std::net::Ipv4Addr::from(*ip))
}

fn ser_time<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&crate::timefmt::iso(*t))
}

/// A group of C&C servers.
#[derive(Debug, Clone)]
pub(crate) struct CcGroup {
    pub(crate) hoster: usize,
    pub(crate) weight: f64,
    pub(crate) port: u16,
    pub(crate) bot_fraction: f64,
    pub(crate) from: i64,
    pub(crate) ramp: i64,
    pub(crate) until: i64,
    pub(crate) dead_from: i64,
    pub(crate) reach: Vec<(i64, bool)>,
    pub(crate) servers: Vec<Vec<Loc>>,
    pub(crate) note: String,
    pub(crate) primary: bool,
}

impl CcGroup {
    fn reachable(&self, t: i64) -> bool {
        let i = self.reach.partition_point(|x| x.0 <= t);
        i == 0 || self.reach.get(i - 1).is_some_and(|r| r.1)
    }

    /// Share of its weight the group delivers at `t`.
    pub(crate) fn activity(&self, t: i64) -> f64 {
        if t < self.from || t >= self.until || t >= self.dead_from || !self.reachable(t) {
            return 0.0;
        }
        if self.ramp > 0 && !self.primary {
            (((t - self.from) as f64) / self.ramp as f64).min(1.0)
        } else {
            1.0
        }
    }
}

/// A campaign.
#[derive(Debug, Clone)]
pub(crate) struct Campaign {
    pub(crate) id: String,
    pub(crate) botnet: usize,
    pub(crate) topic: String,
    pub(crate) subjects: Vec<String>,
    pub(crate) sites: Vec<usize>,
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) path: String,
}

/// An advertised site.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) domain: String,
    pub(crate) campaign: usize,
    pub(crate) locations: Vec<Loc>,
}

impl Site {
    pub(crate) fn ip_at(&self, t: i64) -> u32 {
        let i = self.locations.partition_point(|l| l.from <= t);
        self.locations.get(i.saturating_sub(1)).map_or(0, |l| l.ip)
    }
}

/// A botnet at run time.
#[derive(Debug, Clone)]
pub(crate) struct Botnet {
    pub(crate) family: String,
    pub(crate) style: String,
    pub(crate) share: f64,
    pub(crate) bots: u64,
    pub(crate) groups: Vec<CcGroup>,
    pub(crate) growth: Vec<(i64, f64)>,
    pub(crate) campaigns: Vec<usize>,
    /// Cumulative weights over `world.access` for bot homes.
    pub(crate) home_cum: Vec<f64>,
    /// Home of each bot (index into `world.access`), drawn once from
    /// `home_cum`: the mail loop looks homes up several times per message.
    pub(crate) homes: Vec<u32>,
    /// Volume factor per UTC hour (mean 1) from the bots' time zones.
    pub(crate) diurnal: [f64; 24],
    pub(crate) label: u64,
}

/// Fraction of bots of a home network on line at a local hour.
pub(crate) fn online(local_hour: u32) -> f64 {
    // Home PCs: lowest at 04-06, highest in the evening.
    const P: [f64; 24] = [
        0.55, 0.45, 0.38, 0.33, 0.30, 0.30, 0.33, 0.40, 0.50, 0.58, 0.62, 0.64, 0.66, 0.67, 0.68,
        0.70, 0.73, 0.78, 0.85, 0.92, 0.95, 0.90, 0.80, 0.66,
    ];
    P.get((local_hour % 24) as usize).copied().unwrap_or(0.0)
}

impl Botnet {
    /// Growth multiplier: 1 before the first point, linear between points,
    /// the last factor after the last point.
    pub(crate) fn growth_at(&self, t: i64) -> f64 {
        let g = &self.growth;
        let Some(first) = g.first() else { return 1.0 };
        if t < first.0 {
            return 1.0;
        }
        let i = g.partition_point(|x| x.0 <= t);
        match (g.get(i.wrapping_sub(1)), g.get(i)) {
            (Some(&(t0, f0)), Some(&(t1, f1))) => {
                f0 + (f1 - f0) * ((t - t0) as f64 / (t1 - t0).max(1) as f64)
            }
            _ => g.last().map_or(1.0, |l| l.1),
        }
    }

    /// Volume multiplier relative to the share before the event.
    pub(crate) fn multiplier(&self, t: i64) -> f64 {
        self.growth_at(t)
            * self
                .groups
                .iter()
                .map(|g| g.weight * g.activity(t))
                .sum::<f64>()
    }

    /// Home network (index into `world.access`) of bot `i`.
    pub(crate) fn home(&self, seed: u64, i: u64) -> usize {
        match self.homes.get(i as usize) {
            Some(&h) => h as usize,
            None => self.draw_home(seed, i),
        }
    }

    /// Draws the home of bot `i` from its hash and `home_cum`.
    fn draw_home(&self, seed: u64, i: u64) -> usize {
        let h = mix3(seed, self.label, i);
        let total = self.home_cum.last().copied().unwrap_or(0.0);
        let x = (h >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.home_cum
            .partition_point(|&c| c <= x)
            .min(self.home_cum.len().saturating_sub(1))
    }
}

/// The whole cast: botnets, campaigns, sites.
#[derive(Debug)]
pub(crate) struct Cast {
    pub(crate) botnets: Vec<Botnet>,
    pub(crate) campaigns: Vec<Campaign>,
    pub(crate) sites: Vec<Site>,
    pub(crate) reach: BTreeMap<usize, Vec<(i64, bool)>>,
}

fn locations(w: &World, rng: &mut Rng, hoster: usize, from: i64, to: i64) -> Vec<Loc> {
    let mut v = Vec::new();
    let mut t = from;
    let (move_every, asn) = w
        .ases
        .get(hoster)
        .map_or((None, 0), |a| (a.move_every, a.asn));
    while t < to {
        let next = match move_every {
            Some(m) if m > 0 => (t + rng.exp(m as f64) as i64 + 3600).min(to),
            _ => to,
        };
        v.push(Loc {
            ip: w.host_in(hoster, rng.next_u64()),
            asn,
            from: t,
            to: next,
        });
        t = next;
    }
    v
}

fn fill(template: &str, rng: &mut Rng, word: &str) -> String {
    let first: &&str = rng.pick(&text::FIRST_NAMES);
    let name = text::title_case(first);
    template
        .replace("{n}", &(5 + rng.below(90)).to_string())
        .replace("{name}", &name)
        .replace("{w}", word)
}

impl Cast {
    pub(crate) fn build(w: &World, sc: &Scenario, scale: f64) -> Result<Cast, SimError> {
        let reach = crate::routing::reach_timeline(w)?;
        let mut rng = Rng::stream(w.seed, "cast", 0);
        let mut botnets = Vec::new();
        let mut campaigns = Vec::new();
        let mut sites: Vec<Site> = Vec::new();
        let mut domains_used = std::collections::BTreeSet::new();
        for (bi, b) in sc.botnets.iter().enumerate() {
            let lab = label(&b.family);
            let mut groups = Vec::new();
            for (gi, c) in b.cc.iter().enumerate() {
                groups.push(cc_group(w, sc, &reach, &mut rng, b, gi, c)?);
            }
            let mut growth: Vec<(i64, f64)> = Vec::new();
            for g in &b.growth {
                let t = World::resolve_time(&w.event_times, &g.at).ok_or_else(|| {
                    invalid(sc, format!("botnet.{}.growth", b.family), g.at.clone())
                })?;
                growth.push((t, g.factor));
            }
            growth.sort_by_key(|g| g.0);
            let (home_cum, diurnal) = homes_and_diurnal(w, lab);
            let bots = (f64::from(b.bots) * scale)
                .round()
                .clamp(1.0, f64::from(b.max_bots)) as u64;
            // Campaigns.
            let mut cids = Vec::new();
            for k in 0..sc.mail.campaigns_per_botnet.max(1) {
                let topic = b
                    .topics
                    .get(k as usize % b.topics.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                let words = text::domain_words(&topic);
                let subj_t = text::subjects(&topic);
                let subjects = (0..6)
                    .map(|_| {
                        let t = *rng.pick(subj_t);
                        let wd = *rng.pick(words);
                        fill(t, &mut rng, wd)
                    })
                    .collect();
                let (from, to) = if k == 0 {
                    (w.start, w.end)
                } else {
                    let len = ((w.end - w.start) as f64 * rng.range(0.4, 0.9)) as i64;
                    let s = w.start + rng.below((w.end - w.start - len).max(1) as u64) as i64;
                    (s, s + len)
                };
                let cid = campaigns.len();
                let mut site_ids = Vec::new();
                for _ in 0..sc.mail.domains_per_campaign.max(1) {
                    let domain = loop {
                        let d = format!(
                            "{}{}{}.{}",
                            rng.pick(words),
                            rng.pick(&["", "-", ""]),
                            rng.pick(words),
                            rng.pick(&text::SPAM_TLDS)
                        );
                        let d = if domains_used.contains(&d) {
                            format!("{}{}", rng.below(1000), d)
                        } else {
                            d
                        };
                        if domains_used.insert(d.clone()) {
                            break d;
                        }
                    };
                    let hk = rng.pick(&b.sites).clone();
                    let hoster = resolve_hoster(w, &mut rng, &hk);
                    let locs = locations(w, &mut rng, hoster, w.start, w.end);
                    site_ids.push(sites.len());
                    sites.push(Site {
                        domain,
                        campaign: cid,
                        locations: locs,
                    });
                }
                campaigns.push(Campaign {
                    id: format!("{}-{}", b.family, k + 1),
                    botnet: bi,
                    topic,
                    subjects,
                    sites: site_ids,
                    from,
                    to,
                    path: rng
                        .pick(&["/", "/index.php", "/shop/", "/?id=", "/rx/", "/p/"])
                        .to_string(),
                });
                cids.push(cid);
            }
            let mut botnet = Botnet {
                family: b.family.clone(),
                style: b.style.clone().unwrap_or_else(|| b.family.clone()),
                share: b.share,
                bots,
                groups,
                growth,
                campaigns: cids,
                home_cum,
                homes: Vec::new(),
                diurnal,
                label: lab,
            };
            botnet.homes = draw_homes(&botnet, w.seed);
            botnets.push(botnet);
        }
        Ok(Cast {
            botnets,
            campaigns,
            sites,
            reach,
        })
    }
}

/// The home of every bot of `b`, drawn on all cores (a full-size world has
/// over a million bots; each draw is a binary search over the access networks).
fn draw_homes(b: &Botnet, seed: u64) -> Vec<u32> {
    let n = b.bots as usize;
    let mut homes = vec![0u32; n];
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = n.div_ceil(threads).max(1 << 14);
    std::thread::scope(|scope| {
        for (k, part) in homes.chunks_mut(chunk).enumerate() {
            scope.spawn(move || {
                for (j, h) in part.iter_mut().enumerate() {
                    *h = b.draw_home(seed, (k * chunk + j) as u64) as u32;
                }
            });
        }
    });
    homes
}

fn is_seize(w: &World, hoster: usize, family: &str, t: i64) -> bool {
    w.events.iter().any(|e| {
        e.kind == EventKind::Seize
            && e.as_idx == hoster
            && e.family.as_deref() == Some(family)
            && e.time == t
    })
}

/// The error of a scenario field that cannot be used.
fn invalid(sc: &Scenario, field: String, reason: String) -> SimError {
    SimError::ScenarioInvalid {
        name: sc.name.clone(),
        field,
        reason,
    }
}

/// The AS of a hoster key of the scenario: `*` draws an ordinary hoster;
/// an unknown key is the first hoster.
fn resolve_hoster(w: &World, rng: &mut Rng, key: &str) -> usize {
    if key == "*" {
        *rng.pick(&w.hosters)
    } else {
        w.keyed
            .get(key)
            .copied()
            .unwrap_or_else(|| w.hosters.first().copied().unwrap_or(0))
    }
}

/// C&C group `gi` of botnet `b`: when it starts and stops, when it dies
/// (its hoster cut off or seized), its servers and their moves.
fn cc_group(
    w: &World,
    sc: &Scenario,
    reach: &BTreeMap<usize, Vec<(i64, bool)>>,
    rng: &mut Rng,
    b: &BotnetCfg,
    gi: usize,
    c: &CcCfg,
) -> Result<CcGroup, SimError> {
    let hoster = resolve_hoster(w, rng, &c.hoster);
    let from = match &c.from {
        None => w.start,
        Some(s) => {
            let t = World::resolve_time(&w.event_times, s).ok_or_else(|| {
                invalid(sc, format!("botnet.{}.cc[{gi}].from", b.family), s.clone())
            })?;
            let j = c.jitter.as_deref().and_then(parse_duration).unwrap_or(0);
            t + if j > 0 {
                rng.below(2 * j as u64 + 1) as i64 - j
            } else {
                0
            }
        }
    };
    let until = match &c.until {
        None => i64::MAX,
        Some(s) => World::resolve_time(&w.event_times, s)
            .ok_or_else(|| invalid(sc, format!("botnet.{}.cc[{gi}].until", b.family), s.clone()))?,
    };
    let ramp = c.ramp.as_deref().and_then(parse_duration).unwrap_or(0);
    let tl = reach
        .get(&hoster)
        .cloned()
        .unwrap_or_else(|| vec![(w.start, true)]);
    let mut dead_from = i64::MAX;
    if let (false, Some(&(t, _))) = (c.resume, tl.iter().find(|&&(t, r)| !r && t >= from)) {
        dead_from = t;
    }
    for ev in &w.events {
        if ev.kind == EventKind::Seize
            && ev.as_idx == hoster
            && ev.family.as_deref() == Some(b.family.as_str())
            && ev.time >= from
        {
            dead_from = dead_from.min(ev.time);
        }
    }
    let seized = is_seize(w, hoster, &b.family, dead_from);
    let start = from.max(w.start);
    let end = w.end.min(until);
    // Takedowns come from their own stream, so that every other draw of
    // the world (campaigns, sites, mail) stays what it was without them.
    let mut desk = Rng::stream(w.seed, "takedown", mix3(label(&b.family), gi as u64, 0));
    let servers = (0..c.servers)
        .map(|_| {
            let mut l = locations(w, rng, hoster, start, end.max(start + 1));
            // Seized servers disappear; servers cut off stay where they are.
            if seized {
                l.retain(|x| x.from < dead_from);
                for x in &mut l {
                    x.to = x.to.min(dead_from);
                }
            }
            abuse_desks(w, &mut desk, hoster, l)
        })
        .collect();
    Ok(CcGroup {
        hoster,
        weight: c.weight,
        port: c.port,
        bot_fraction: c.bot_fraction,
        from,
        ramp,
        until,
        dead_from,
        reach: tl,
        servers,
        note: c.note.clone(),
        primary: c.from.is_none(),
    })
}

/// A C&C server's addresses after the abuse desks of the hosters it sits
/// at: a hoster with a `takedown` mean takes the server down after an
/// exponential time (at least an hour) from when it came to that hoster;
/// the botnet sets it up again at once at another ordinary hoster, whose
/// own desk then does the same. The volume model does not see the moves
/// (a botnet's bots follow their C&C); the feeds and the bots' contacts do.
fn abuse_desks(w: &World, rng: &mut Rng, hoster: usize, chain: Vec<Loc>) -> Vec<Loc> {
    let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
        return chain;
    };
    let (mut t, end) = (first.from, last.to);
    let mut at = hoster;
    let mut here = chain;
    let mut out = Vec::new();
    loop {
        let down = w
            .ases
            .get(at)
            .and_then(|a| a.takedown)
            .map_or(i64::MAX, |m| t + rng.exp(m as f64) as i64 + 3600);
        if down >= end {
            out.extend(here);
            return out;
        }
        out.extend(here.into_iter().filter(|l| l.from < down).map(|l| Loc {
            to: l.to.min(down),
            ..l
        }));
        let mut next = *rng.pick(&w.hosters);
        for _ in 0..4 {
            if next != at {
                break;
            }
            next = *rng.pick(&w.hosters);
        }
        t = down;
        at = next;
        here = vec![Loc {
            ip: w.host_in(next, rng.next_u64()),
            asn: w.ases.get(next).map_or(0, |a| a.asn),
            from: t,
            to: end,
        }];
    }
}

/// Bot homes of a family (access networks, weighted, with a per-family
/// bias by country) as cumulative weights, and the family's diurnal
/// activity per UTC hour (mean 1).
fn homes_and_diurnal(w: &World, lab: u64) -> (Vec<f64>, [f64; 24]) {
    let home_cum = cumulative(w.access.iter().map(|&i| {
        let Some(a) = w.ases.get(i) else {
            return 0.0;
        };
        let bias = 0.5 + (mix3(w.seed, lab, label(&a.country)) % 1000) as f64 / 1000.0;
        a.bot_weight * bias
    }));
    let mut diurnal = [0.0; 24];
    let total: f64 = home_cum.last().copied().unwrap_or(1.0);
    let mut prev = 0.0;
    for (&cum, &i) in home_cum.iter().zip(&w.access) {
        let wgt = (cum - prev) / total;
        prev = cum;
        let tz = w.ases.get(i).map_or(0, |a| a.tz_min);
        for (h, d) in diurnal.iter_mut().enumerate() {
            let local = ((h as i32 * 60 + tz).rem_euclid(1440) / 60) as u32;
            *d += wgt * online(local);
        }
    }
    let mean = diurnal.iter().sum::<f64>() / 24.0;
    for d in &mut diurnal {
        *d /= mean.max(1e-9);
    }
    (home_cum, diurnal)
}

/// Address of bot `bot` of botnet `b` at time `t`: a host in one of its
/// home network's prefixes, changing every DHCP lease of that network.
pub(crate) fn bot_ip(w: &World, b: &Botnet, bot: u64, t: i64) -> u32 {
    let node = w
        .access
        .get(b.home(w.seed, bot))
        .and_then(|&a| w.ases.get(a));
    node.map_or(0x0101_0101, |n| {
        bot_addr(w.seed, b, bot, t, n.lease_secs, &n.v4)
    })
}

/// [`bot_ip`] given the home network's lease and prefixes.
pub(crate) fn bot_addr(
    seed: u64,
    b: &Botnet,
    bot: u64,
    t: i64,
    lease_secs: i64,
    v4: &[(u32, u8)],
) -> u32 {
    let h = mix3(seed, b.label ^ 0x5eed, bot);
    let lease = lease_secs.max(1);
    let epoch = (t + (h % lease as u64) as i64).div_euclid(lease);
    host_in_prefixes(v4, mix3(h, epoch as u64, 77))
}
