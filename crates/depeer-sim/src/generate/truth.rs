//! The truth of a run: per-window and per-hour counts measured from the
//! messages as they are written ([`Tally`]), then `truth.json` (counts,
//! events, hosters, botnets, campaigns, sites, the summary around the main
//! event) and `truth-ases.jsonl`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::botnet::Cast;
use crate::outfile::JsonLines;
use crate::routing::{self, RoutingCounts, TruthRoutingEvent};
use crate::scenario::Scenario;
use crate::timefmt::{iso, parse_duration};
use crate::world::{Role, World};
use crate::{Options, SimError};

use super::chunk::Item;
use super::render::LEGIT;

/// Per-window counters for the summary.
#[derive(Default, Clone)]
pub(super) struct Window {
    from: i64,
    to: i64,
    spam: Vec<u64>,
}

impl Window {
    fn new(from: i64, to: i64, n: usize) -> Window {
        Window {
            from,
            to,
            spam: vec![0; n],
        }
    }
    fn add(&mut self, t: i64, b: usize) {
        if t >= self.from && t < self.to {
            bump(self.spam.get_mut(b));
        }
    }
    fn total(&self) -> u64 {
        self.spam.iter().sum()
    }
}

/// What the summary and the truth count, message by message.
pub(super) struct Tally {
    before: Window,
    after: Window,
    checkpoints: Vec<(String, Window)>,
    /// Spam per botnet and hour.
    hourly: Vec<Vec<u64>>,
    hourly_legit: Vec<u64>,
    per_botnet: Vec<u64>,
    per_campaign: Vec<u64>,
    malformed_by_kind: BTreeMap<String, u64>,
    pub(super) messages: u64,
    spam: u64,
    legit: u64,
    pub(super) malformed: u64,
    start: i64,
}

impl Tally {
    /// Empty counts; the windows are the day before the main event at
    /// `main_t`, the day from an hour after it, and the scenario's checkpoints.
    pub(super) fn new(w: &World, sc: &Scenario, cast: &Cast, main_t: i64) -> Tally {
        let nb = cast.botnets.len();
        let checkpoints = sc
            .checkpoints
            .iter()
            .map(|c| {
                let t = World::resolve_time(&w.event_times, &c.at).unwrap_or(w.start);
                let len = parse_duration(&c.window).unwrap_or(86_400);
                (c.name.clone(), Window::new(t, t + len, nb))
            })
            .collect();
        let hours = ((w.end - w.start) as usize).div_ceil(3600);
        Tally {
            before: Window::new(main_t - 86_400, main_t, nb),
            after: Window::new(main_t + 3600, main_t + 25 * 3600, nb),
            checkpoints,
            hourly: vec![vec![0u64; hours]; nb],
            hourly_legit: vec![0u64; hours],
            per_botnet: vec![0u64; nb],
            per_campaign: vec![0u64; cast.campaigns.len()],
            malformed_by_kind: BTreeMap::new(),
            messages: 0,
            spam: 0,
            legit: 0,
            malformed: 0,
            start: w.start,
        }
    }

    /// Counts one written message.
    pub(super) fn count(&mut self, it: &Item) {
        let t = it.t;
        let hour = ((t - self.start) / 3600) as usize;
        if it.bi == LEGIT {
            bump(self.hourly_legit.get_mut(hour));
            self.legit += 1;
        } else {
            bump(self.per_botnet.get_mut(it.bi));
            bump(self.per_campaign.get_mut(it.ci));
            bump(self.hourly.get_mut(it.bi).and_then(|h| h.get_mut(hour)));
            self.before.add(t, it.bi);
            self.after.add(t, it.bi);
            for (_, cw) in &mut self.checkpoints {
                cw.add(t, it.bi);
            }
            self.spam += 1;
        }
        if let Some(m) = it.malformed {
            *self
                .malformed_by_kind
                .entry(m.as_str().to_string())
                .or_default() += 1;
            self.malformed += 1;
        }
        self.messages += 1;
    }

    /// Measured world spam drop: 1 - spam of the day after / the day before.
    pub(super) fn world_drop(&self) -> f64 {
        round6(1.0 - self.after.total() as f64 / self.spam_before())
    }

    /// Spam of the day before the main event (at least 1, a divisor).
    fn spam_before(&self) -> f64 {
        self.before.total().max(1) as f64
    }

    /// Spam of botnet `bi` in the day before the main event.
    fn before_of(&self, bi: usize) -> u64 {
        self.before.spam.get(bi).copied().unwrap_or(0)
    }
}

/// Adds one to a counter that exists.
fn bump(c: Option<&mut u64>) {
    if let Some(c) = c {
        *c += 1;
    }
}

#[derive(Serialize)]
pub(super) struct TruthFile {
    schema: &'static str,
    scenario: String,
    description: String,
    seed: u64,
    scale: f64,
    start: String,
    end: String,
    files: BTreeMap<String, Vec<String>>,
    counts: TruthCounts,
    collector: TruthCollector,
    events: Vec<TruthRoutingEvent>,
    hosters: Vec<TruthHoster>,
    botnets: Vec<TruthBotnet>,
    campaigns: Vec<TruthCampaign>,
    sites: Vec<TruthSite>,
    summary: TruthSummary,
    hourly: TruthHourly,
}

#[derive(Serialize)]
struct TruthCounts {
    messages: u64,
    spam: u64,
    legit: u64,
    malformed: u64,
    malformed_by_kind: BTreeMap<String, u64>,
    ases: u64,
    routing: RoutingCounts,
}

#[derive(Serialize)]
struct TruthCollector {
    asn: u32,
    peers: Vec<(u32, String)>,
}

#[derive(Serialize)]
struct TruthHoster {
    key: String,
    asn: u32,
    name: String,
    org: String,
    bulletproof: bool,
    prefixes_v4: Vec<String>,
    prefixes_v6: Vec<String>,
    upstreams_at_start: Vec<u32>,
    reachable: Vec<(String, bool)>,
}

#[derive(Serialize)]
struct TruthCc {
    hoster_asn: u32,
    weight: f64,
    port: u16,
    bot_fraction: f64,
    primary: bool,
    active_from: String,
    lost_at: Option<String>,
    note: String,
    servers: Vec<Vec<crate::botnet::Loc>>,
}

#[derive(Serialize)]
struct TruthBotnet {
    family: String,
    share_param: f64,
    bots: u64,
    messages: u64,
    share_before: f64,
    drop: f64,
    cc_at_main_event_as: bool,
    cc: Vec<TruthCc>,
}

#[derive(Serialize)]
struct TruthCampaign {
    id: String,
    botnet: String,
    topic: String,
    from: String,
    to: String,
    domains: Vec<String>,
    subjects: Vec<String>,
    messages: u64,
}

#[derive(Serialize)]
struct TruthSite {
    domain: String,
    campaign: String,
    locations: Vec<crate::botnet::Loc>,
}

#[derive(Serialize)]
struct TruthCheckpoint {
    name: String,
    from: String,
    to: String,
    world_relative: f64,
    per_botnet_relative: BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct TruthSummary {
    main_event: String,
    main_event_time: String,
    main_event_asn: u32,
    before: (String, String),
    after: (String, String),
    spam_before: u64,
    spam_after: u64,
    world_drop: f64,
    shares_before: BTreeMap<String, f64>,
    drop_per_botnet: BTreeMap<String, f64>,
    dependent_share: f64,
    checkpoints: Vec<TruthCheckpoint>,
}

#[derive(Serialize)]
struct TruthHourly {
    start: String,
    spam: BTreeMap<String, Vec<u64>>,
    legit: Vec<u64>,
}

/// What [`truth_file`] is made of besides the world and the tally.
pub(super) struct RunFacts<'a> {
    pub(super) sc: &'a Scenario,
    pub(super) opts: &'a Options,
    pub(super) w: &'a World,
    pub(super) cast: &'a Cast,
    pub(super) main_t: i64,
    pub(super) main_as: usize,
    pub(super) rcounts: &'a RoutingCounts,
    pub(super) events: Vec<TruthRoutingEvent>,
    /// Every written file, relative to the output directory, per kind.
    pub(super) files: BTreeMap<String, Vec<String>>,
}

/// Builds `truth.json`.
pub(super) fn truth_file(run: RunFacts<'_>, tally: Tally) -> TruthFile {
    let (w, cast) = (run.w, run.cast);
    let (botnets, summary) = botnets_and_summary(&run, &tally);
    TruthFile {
        schema: "depeer-sim-truth/1",
        scenario: run.sc.name.clone(),
        description: run.sc.description.clone(),
        seed: run.opts.seed,
        scale: run.opts.scale,
        start: iso(w.start),
        end: iso(w.end),
        files: run.files,
        counts: TruthCounts {
            messages: tally.messages,
            spam: tally.spam,
            legit: tally.legit,
            malformed: tally.malformed,
            malformed_by_kind: tally.malformed_by_kind,
            ases: w.ases.len() as u64,
            routing: run.rcounts.clone(),
        },
        collector: TruthCollector {
            asn: routing::COLLECTOR_AS,
            peers: w
                .peers
                .iter()
                .filter_map(|&p| w.ases.get(p))
                .map(|a| (a.asn, a.name.clone()))
                .collect(),
        },
        events: run.events,
        hosters: hosters(w, cast),
        botnets,
        campaigns: campaigns(cast, &tally.per_campaign),
        sites: cast
            .sites
            .iter()
            .map(|s| TruthSite {
                domain: s.domain.clone(),
                campaign: cast
                    .campaigns
                    .get(s.campaign)
                    .map(|c| c.id.clone())
                    .unwrap_or_default(),
                locations: s.locations.clone(),
            })
            .collect(),
        summary,
        hourly: TruthHourly {
            start: iso(w.start),
            spam: cast
                .botnets
                .iter()
                .zip(tally.hourly)
                .map(|(b, h)| (b.family.clone(), h))
                .collect(),
            legit: tally.hourly_legit,
        },
    }
}

/// The botnets' truth and the summary measured around the main event.
fn botnets_and_summary(run: &RunFacts<'_>, tally: &Tally) -> (Vec<TruthBotnet>, TruthSummary) {
    let (w, cast) = (run.w, run.cast);
    let tb = tally.spam_before();
    let mut shares_before = BTreeMap::new();
    let mut drop_per = BTreeMap::new();
    let mut dependent = 0u64;
    let mut tbotnets = Vec::new();
    for (bi, b) in cast.botnets.iter().enumerate() {
        let before = tally.before_of(bi);
        let after = tally.after.spam.get(bi).copied().unwrap_or(0);
        let sb = before as f64 / tb;
        let d = if before > 0 {
            1.0 - after as f64 / before as f64
        } else {
            0.0
        };
        shares_before.insert(b.family.clone(), round6(sb));
        drop_per.insert(b.family.clone(), round6(d));
        let at_main = b
            .groups
            .iter()
            .any(|g| g.primary && g.hoster == run.main_as);
        if at_main {
            dependent += before;
        }
        tbotnets.push(TruthBotnet {
            family: b.family.clone(),
            share_param: b.share,
            bots: b.bots,
            messages: tally.per_botnet.get(bi).copied().unwrap_or(0),
            share_before: round6(sb),
            drop: round6(d),
            cc_at_main_event_as: at_main,
            cc: b
                .groups
                .iter()
                .map(|g| TruthCc {
                    hoster_asn: w.ases.get(g.hoster).map_or(0, |a| a.asn),
                    weight: g.weight,
                    port: g.port,
                    bot_fraction: g.bot_fraction,
                    primary: g.primary,
                    active_from: iso(g.from.max(w.start)),
                    lost_at: (g.dead_from < w.end).then(|| iso(g.dead_from)),
                    note: g.note.clone(),
                    servers: g.servers.clone(),
                })
                .collect(),
        });
    }
    let (before, after) = (&tally.before, &tally.after);
    let summary = TruthSummary {
        main_event: run.sc.main_event.clone(),
        main_event_time: iso(run.main_t),
        main_event_asn: w.ases.get(run.main_as).map_or(0, |a| a.asn),
        before: (iso(before.from), iso(before.to)),
        after: (iso(after.from), iso(after.to)),
        spam_before: before.total(),
        spam_after: after.total(),
        world_drop: tally.world_drop(),
        shares_before,
        drop_per_botnet: drop_per,
        dependent_share: round6(dependent as f64 / tb),
        checkpoints: checkpoints(cast, tally),
    };
    (tbotnets, summary)
}

/// Spam in each checkpoint window relative to the day before the main
/// event (per day), for the world and per botnet.
fn checkpoints(cast: &Cast, tally: &Tally) -> Vec<TruthCheckpoint> {
    let tb = tally.spam_before();
    tally
        .checkpoints
        .iter()
        .map(|(name, cw)| {
            let len = (cw.to - cw.from).max(1) as f64;
            TruthCheckpoint {
                name: name.clone(),
                from: iso(cw.from),
                to: iso(cw.to),
                world_relative: round6(cw.total() as f64 / tb * 86_400.0 / len),
                per_botnet_relative: cast
                    .botnets
                    .iter()
                    .enumerate()
                    .map(|(bi, b)| {
                        let before = tally.before_of(bi);
                        let spam = cw.spam.get(bi).copied().unwrap_or(0);
                        let r = if before > 0 {
                            spam as f64 / before as f64 * 86_400.0 / len
                        } else {
                            0.0
                        };
                        (b.family.clone(), round6(r))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The named hosters with their prefixes, upstreams and reachability.
fn hosters(w: &World, cast: &Cast) -> Vec<TruthHoster> {
    let asn_of = |i: usize| w.ases.get(i).map_or(0, |a| a.asn);
    w.keyed
        .iter()
        .filter_map(|(k, &i)| Some((k, i, w.ases.get(i)?)))
        .filter(|(_, _, a)| a.role == Role::Named)
        .map(|(k, i, a)| TruthHoster {
            key: k.clone(),
            asn: a.asn,
            name: a.name.clone(),
            org: a.org_name.clone(),
            bulletproof: a.bulletproof,
            prefixes_v4: v4_texts(&a.v4),
            prefixes_v6: v6_texts(&a.v6),
            upstreams_at_start: a.providers.iter().map(|&p| asn_of(p)).collect(),
            reachable: cast
                .reach
                .get(&i)
                .map(|v| v.iter().map(|&(t, r)| (iso(t), r)).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// The campaigns with their domains and message counts.
fn campaigns(cast: &Cast, per_campaign: &[u64]) -> Vec<TruthCampaign> {
    cast.campaigns
        .iter()
        .zip(per_campaign)
        .map(|(c, &messages)| TruthCampaign {
            id: c.id.clone(),
            botnet: cast
                .botnets
                .get(c.botnet)
                .map(|b| b.family.clone())
                .unwrap_or_default(),
            topic: c.topic.clone(),
            from: iso(c.from),
            to: iso(c.to),
            domains: c
                .sites
                .iter()
                .filter_map(|&s| cast.sites.get(s))
                .map(|s| s.domain.clone())
                .collect(),
            subjects: c.subjects.clone(),
            messages,
        })
        .collect()
}

/// `a.b.c.d/len` of each IPv4 prefix.
fn v4_texts(v4: &[(u32, u8)]) -> Vec<String> {
    v4.iter()
        .map(|&(n, l)| format!("{}/{l}", Ipv4Addr::from(n)))
        .collect()
}

/// `x:y::/len` of each IPv6 prefix.
fn v6_texts(v6: &[(u128, u8)]) -> Vec<String> {
    v6.iter()
        .map(|&(n, l)| format!("{}/{l}", Ipv6Addr::from(n)))
        .collect()
}

/// Writes `truth.json`; returns its size.
pub(super) fn write_truth_json(truth: &TruthFile, out_dir: &Path) -> Result<u64, SimError> {
    let tp = out_dir.join("truth.json");
    let json = serde_json::to_vec_pretty(truth).map_err(|e| SimError::Write {
        path: tp.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&tp, &json).map_err(|e| SimError::Write {
        path: tp.clone(),
        source: e,
    })?;
    Ok(json.len() as u64)
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// truth-ases.jsonl: every AS with its role, names, initial providers and prefixes.
pub(super) fn write_ases(w: &World, dir: &Path, gzip: bool) -> Result<(PathBuf, u64), SimError> {
    let mut out = JsonLines::create(&dir.join("truth-ases.jsonl"), gzip)?;
    for a in &w.ases {
        out.push_flushing(&serde_json::json!({
            "asn": a.asn,
            "role": a.role.as_str(),
            "key": a.key,
            "name": a.name,
            "org": a.org_name,
            "country": a.country,
            "bulletproof": a.bulletproof,
            "providers": a.providers.iter().filter_map(|&p| w.ases.get(p)).map(|p| p.asn).collect::<Vec<_>>(),
            "v4": v4_texts(&a.v4),
            "v6": v6_texts(&a.v6),
        }))?;
    }
    out.finish()
}
