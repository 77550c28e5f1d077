//! The generation run: world, routing files, the minute-by-minute message
//! stream into the trap mboxes with its per-message truth, feeds, as2org
//! and truth.json.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::botnet::{Botnet, Cast};
use crate::mail::{self, Malformed, Relay, Trap};
use crate::outfile::OutFile;
use crate::rng::{Rng, mix3};
use crate::routing::{self, RoutingCounts, TruthRoutingEvent};
use crate::scenario::Scenario;
use crate::text::{FIRST_NAMES, LAST_NAMES};
use crate::timefmt::{asctime, civil, day, iso, parse_duration};
use crate::world::World;
use crate::{Options, SimError, feeds};

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Scale.
    pub scale: f64,
    /// Messages written (spam, legitimate and malformed).
    pub messages: u64,
    /// Of which deliberately malformed.
    pub malformed: u64,
    /// ASes in the world.
    pub ases: u64,
    /// IPv4 prefixes in the RIB.
    pub prefixes_v4: u64,
    /// IPv6 prefixes in the RIB.
    pub prefixes_v6: u64,
    /// BGP UPDATE messages written.
    pub bgp_updates: u64,
    /// Every file written, relative to the output directory, with its size on disk.
    pub files: Vec<(String, u64)>,
    /// Measured world spam drop around the main event (0..1).
    pub world_drop: f64,
    /// Time of the main event (RFC 3339).
    pub main_event_time: String,
}

/// Address of bot `bot` of botnet `b` at time `t`: a host in one of its
/// home network's prefixes, changing every DHCP lease of that network.
pub(crate) fn bot_ip(w: &World, b: &Botnet, bot: u64, t: i64) -> u32 {
    let home = w.access[b.home(w.seed, bot)];
    let node = &w.ases[home];
    let h = mix3(w.seed, b.label ^ 0x5eed, bot);
    let lease = node.lease_secs.max(1);
    let epoch = (t + (h % lease as u64) as i64).div_euclid(lease);
    w.host_in(home, mix3(h, epoch as u64, 77))
}

fn rdns(w: &World, as_idx: usize, ip: u32) -> Option<String> {
    let n = &w.ases[as_idx];
    let [a, b, c, d] = Ipv4Addr::from(ip).octets();
    Some(match n.rdns_style {
        0 => format!("adsl-{a}-{b}-{c}-{d}.dsl.{}", n.domain),
        1 => format!("{d}.{c}.{b}.{a}.dynamic.{}", n.domain),
        2 => format!("dhcp-{a}-{b}-{c}-{d}.cable.{}", n.domain),
        3 => format!("ppp{a}-{b}-{c}-{d}.pool.{}", n.domain),
        _ => return None,
    })
}

fn helo_for(rng: &mut Rng, family: &str, ip: u32, rdns: Option<&str>) -> String {
    let lit = format!("[{}]", Ipv4Addr::from(ip));
    match family {
        "rustock" | "storm" => lit,
        "cutwail" | "pushdo" => rdns.map_or(lit, str::to_string),
        "megad" => format!(
            "{}.{}",
            rng.pick(&FIRST_NAMES),
            ["com", "net", "org"][rng.index(3)]
        ),
        _ => format!(
            "{}-{}",
            rng.pick(&FIRST_NAMES),
            ["pc", "laptop", "home", "desktop"][rng.index(4)]
        ),
    }
}

struct Traps {
    traps: Vec<Trap>,
    /// Open mbox per trap: its day, the file, its path relative to the output.
    files: Vec<Option<(i64, OutFile, String)>>,
}

/// 1-2 URLs of a campaign's sites; Storm-style messages sometimes link the
/// site's address at `t`.
fn campaign_urls(
    rng: &mut Rng,
    cast: &Cast,
    camp: &crate::botnet::Campaign,
    style: &str,
    t: Option<i64>,
) -> Vec<String> {
    let mut urls = Vec::new();
    for _ in 0..1 + rng.index(2) {
        let s = &cast.sites[*rng.pick(&camp.sites)];
        let host = match t {
            Some(t) if style == "storm" && rng.chance(0.5) => {
                Ipv4Addr::from(s.ip_at(t)).to_string()
            }
            _ if rng.chance(0.3) => format!("www.{}", s.domain),
            _ => s.domain.clone(),
        };
        let id = if camp.path.ends_with('=') {
            rng.below(100_000).to_string()
        } else {
            String::new()
        };
        urls.push(format!("http://{host}{}{id}", camp.path));
    }
    urls
}

/// Per-window counters for the summary.
#[derive(Default, Clone)]
struct Window {
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
            self.spam[b] += 1;
        }
    }
    fn total(&self) -> u64 {
        self.spam.iter().sum()
    }
}

#[derive(Serialize)]
struct TruthFile {
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

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Generates the world of `sc` into `out_dir`.
pub fn generate(sc: &Scenario, opts: &Options, out_dir: &Path) -> Result<Summary, SimError> {
    if !(opts.scale > 0.0 && opts.scale.is_finite()) {
        return Err(SimError::BadOption {
            option: "scale",
            reason: format!("{} is not > 0", opts.scale),
        });
    }
    sc.validate()?;
    std::fs::create_dir_all(out_dir).map_err(|e| SimError::Write {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let w = World::build(sc, opts)?;
    let cast = Cast::build(&w, sc, opts.scale)?;
    let mut files: Vec<(PathBuf, u64)> = Vec::new();
    let (rcounts, tevents) = routing::write_all(&w, sc, out_dir, opts.gzip, &mut files)?;

    // Main event and windows.
    let main_t = w
        .event_times
        .get(&sc.main_event)
        .copied()
        .unwrap_or(w.start);
    let main_as = w
        .events
        .iter()
        .find(|e| e.key == sc.main_event)
        .map_or(0, |e| e.as_idx);
    let nb = cast.botnets.len();
    let mut before = Window::new(main_t - 86_400, main_t, nb);
    let mut after = Window::new(main_t + 3600, main_t + 25 * 3600, nb);
    let mut cps: Vec<(String, Window)> = Vec::new();
    for c in &sc.checkpoints {
        let t = World::resolve_time(&w.event_times, &c.at).unwrap_or(w.start);
        let len = parse_duration(&c.window).unwrap_or(86_400);
        cps.push((c.name.clone(), Window::new(t, t + len, nb)));
    }
    let hours = ((w.end - w.start) as usize).div_ceil(3600);
    let mut hourly = vec![vec![0u64; hours]; nb];
    let mut hourly_legit = vec![0u64; hours];
    let mut per_botnet = vec![0u64; nb];
    let mut per_campaign = vec![0u64; cast.campaigns.len()];
    let mut malformed_by_kind: BTreeMap<String, u64> = BTreeMap::new();

    // Traps.
    let mut trng = Rng::stream(w.seed, "traps", 0);
    let mut traps = Traps {
        traps: Vec::new(),
        files: Vec::new(),
    };
    for _ in 0..sc.mail.traps {
        let h = *trng.pick(&w.hosters);
        let domain = format!(
            "{}{}",
            ["mail-", "trap-", "", "info-"][trng.index(4)],
            w.ases[h].domain
        );
        traps.traps.push(Trap {
            mx: format!("mx{}.{domain}", 1 + trng.below(3)),
            domain,
        });
        traps.files.push(None);
    }
    traps.traps.sort_by(|a, b| a.domain.cmp(&b.domain));
    traps.traps.dedup_by(|a, b| a.domain == b.domain);
    traps.files.truncate(traps.traps.len());
    // Legitimate senders: mail servers at ordinary hosters.
    let legit: Vec<(usize, u32, String)> = (0..8)
        .map(|_| {
            let h = *trng.pick(&w.hosters);
            (h, w.host_in(h, trng.next_u64()), w.ases[h].domain.clone())
        })
        .collect();

    // Body pools: each campaign sends a few dozen body variants (its
    // templates), rendered once; Storm-style bodies link site addresses that
    // move, so they are rendered per message.
    let mut prng = Rng::stream(w.seed, "bodies", 0);
    let pools: Vec<Vec<mail::Body>> = cast
        .campaigns
        .iter()
        .map(|c| {
            let style = &cast.botnets[c.botnet].style;
            (0..24)
                .map(|_| {
                    let urls = campaign_urls(&mut prng, &cast, c, style, None);
                    mail::render_body(&mut prng, style, &c.topic, &urls, None)
                })
                .collect()
        })
        .collect();
    let mut truth_out = OutFile::create(&out_dir.join("truth-messages.jsonl"), opts.gzip)?;
    let ctx = MailCtx {
        w: &w,
        sc,
        cast: &cast,
        pools: &pools,
        traps: &traps.traps,
        legit: &legit,
        base_rate: sc.mail.rate_per_hour * opts.scale / 3600.0,
        gz: opts.gzip,
    };
    let mut counts = (0u64, 0u64, 0u64, 0u64); // messages, spam, legit, malformed
    let n_slices = ((w.end - w.start) as u64).div_ceil(60);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    // Minutes are rendered in parallel (each has its own random stream, so
    // the bytes do not depend on the thread count) and written in order; a
    // batch of about one hour per thread bounds the memory.
    let batch = 60 * threads as u64;
    let mut first = 0;
    while first < n_slices {
        let last = (first + batch).min(n_slices);
        let outs: Vec<SliceOut> = if threads <= 1 {
            (first..last).map(|i| render_slice(&ctx, i)).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads as u64)
                    .map(|k| {
                        let ctx = &ctx;
                        scope.spawn(move || {
                            (first + k..last)
                                .step_by(threads)
                                .map(|i| (i, render_slice(ctx, i)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let mut all: Vec<(u64, SliceOut)> = Vec::new();
                for h in handles {
                    match h.join() {
                        Ok(v) => all.extend(v),
                        Err(e) => std::panic::resume_unwind(e),
                    }
                }
                all.sort_by_key(|x| x.0);
                all.into_iter().map(|x| x.1).collect()
            })
        };
        for so in outs {
            for it in &so.items {
                let t = it.t;
                let hour = ((t - w.start) / 3600) as usize;
                if it.bi == usize::MAX {
                    hourly_legit[hour] += 1;
                    counts.2 += 1;
                } else {
                    per_botnet[it.bi] += 1;
                    per_campaign[it.ci] += 1;
                    hourly[it.bi][hour] += 1;
                    before.add(t, it.bi);
                    after.add(t, it.bi);
                    for (_, cw) in &mut cps {
                        cw.add(t, it.bi);
                    }
                    counts.1 += 1;
                }
                if let Some(m) = it.malformed {
                    *malformed_by_kind.entry(m.as_str().to_string()).or_default() += 1;
                    counts.3 += 1;
                }
                counts.0 += 1;
                // Append to the trap's mbox of the day.
                let day_start = t - t.rem_euclid(86_400);
                let needs_new = !matches!(&traps.files[it.ti], Some((d, _, _)) if *d == day_start);
                if needs_new {
                    if let Some((_, f, _)) = traps.files[it.ti].take() {
                        files.push(f.finish()?);
                    }
                    let p = out_dir
                        .join("mail")
                        .join(&traps.traps[it.ti].domain)
                        .join(format!("{}.mbox", day(t)));
                    let f = OutFile::create(&p, opts.gzip)?;
                    traps.files[it.ti] = Some((day_start, f, String::new()));
                }
                if let Some((_, f, _)) = traps.files[it.ti].as_mut() {
                    f.write(&so.mbox[it.mbox.clone()])?;
                }
            }
            truth_out.write(&so.truth)?;
        }
        first = last;
    }
    for f in traps.files.iter_mut() {
        if let Some((_, f, _)) = f.take() {
            files.push(f.finish()?);
        }
    }
    files.push(truth_out.finish()?);
    files.extend(feeds::write_feeds(&w, sc, &cast, out_dir, opts.gzip)?);
    files.push(feeds::write_as2org(&w, out_dir, opts.gzip)?);
    files.push(write_ases(&w, out_dir, opts.gzip)?);

    // Summary measured from the messages.
    let tb = before.total().max(1) as f64;
    let ta = after.total() as f64;
    let mut shares_before = BTreeMap::new();
    let mut drop_per = BTreeMap::new();
    let mut dependent = 0u64;
    let mut tbotnets = Vec::new();
    for (bi, b) in cast.botnets.iter().enumerate() {
        let sb = before.spam[bi] as f64 / tb;
        let d = if before.spam[bi] > 0 {
            1.0 - after.spam[bi] as f64 / before.spam[bi] as f64
        } else {
            0.0
        };
        shares_before.insert(b.family.clone(), round6(sb));
        drop_per.insert(b.family.clone(), round6(d));
        let at_main = b.groups.iter().any(|g| g.primary && g.hoster == main_as);
        if at_main {
            dependent += before.spam[bi];
        }
        tbotnets.push(TruthBotnet {
            family: b.family.clone(),
            share_param: b.share,
            bots: b.bots,
            messages: per_botnet[bi],
            share_before: round6(sb),
            drop: round6(d),
            cc_at_main_event_as: at_main,
            cc: b
                .groups
                .iter()
                .map(|g| TruthCc {
                    hoster_asn: w.ases[g.hoster].asn,
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
    let checkpoints = cps
        .iter()
        .map(|(name, cw)| TruthCheckpoint {
            name: name.clone(),
            from: iso(cw.from),
            to: iso(cw.to),
            world_relative: round6(
                cw.total() as f64 / tb * 86_400.0 / (cw.to - cw.from).max(1) as f64,
            ),
            per_botnet_relative: cast
                .botnets
                .iter()
                .enumerate()
                .map(|(bi, b)| {
                    let r = if before.spam[bi] > 0 {
                        cw.spam[bi] as f64 / before.spam[bi] as f64 * 86_400.0
                            / (cw.to - cw.from).max(1) as f64
                    } else {
                        0.0
                    };
                    (b.family.clone(), round6(r))
                })
                .collect(),
        })
        .collect();
    let world_drop = round6(1.0 - ta / tb);
    let mut tfiles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut summary_files = Vec::new();
    for (p, size) in &files {
        let r = rel(out_dir, p);
        let kind = r.split('/').next().unwrap_or("").to_string();
        let kind = if kind.ends_with(".jsonl") || kind.ends_with(".jsonl.gz") {
            kind.split('.').next().unwrap_or("").to_string()
        } else {
            kind
        };
        tfiles.entry(kind).or_default().push(r.clone());
        summary_files.push((r, *size));
    }
    for v in tfiles.values_mut() {
        v.sort();
    }
    let truth = TruthFile {
        schema: "depeer-sim-truth/1",
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        seed: opts.seed,
        scale: opts.scale,
        start: iso(w.start),
        end: iso(w.end),
        files: tfiles,
        counts: TruthCounts {
            messages: counts.0,
            spam: counts.1,
            legit: counts.2,
            malformed: counts.3,
            malformed_by_kind,
            ases: w.ases.len() as u64,
            routing: rcounts.clone(),
        },
        collector: TruthCollector {
            asn: routing::COLLECTOR_AS,
            peers: w
                .peers
                .iter()
                .map(|&p| (w.ases[p].asn, w.ases[p].name.clone()))
                .collect(),
        },
        events: tevents,
        hosters: w
            .keyed
            .iter()
            .filter(|(_, i)| w.ases[**i].role == crate::world::Role::Named)
            .map(|(k, &i)| {
                let a = &w.ases[i];
                TruthHoster {
                    key: k.clone(),
                    asn: a.asn,
                    name: a.name.clone(),
                    org: a.org_name.clone(),
                    bulletproof: a.bulletproof,
                    prefixes_v4: a
                        .v4
                        .iter()
                        .map(|&(n, l)| format!("{}/{l}", Ipv4Addr::from(n)))
                        .collect(),
                    prefixes_v6: a
                        .v6
                        .iter()
                        .map(|&(n, l)| format!("{}/{l}", std::net::Ipv6Addr::from(n)))
                        .collect(),
                    upstreams_at_start: a.providers.iter().map(|&p| w.ases[p].asn).collect(),
                    reachable: cast
                        .reach
                        .get(&i)
                        .map(|v| v.iter().map(|&(t, r)| (iso(t), r)).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
        botnets: tbotnets,
        campaigns: cast
            .campaigns
            .iter()
            .enumerate()
            .map(|(ci, c)| TruthCampaign {
                id: c.id.clone(),
                botnet: cast.botnets[c.botnet].family.clone(),
                topic: c.topic.clone(),
                from: iso(c.from),
                to: iso(c.to),
                domains: c
                    .sites
                    .iter()
                    .map(|&s| cast.sites[s].domain.clone())
                    .collect(),
                subjects: c.subjects.clone(),
                messages: per_campaign[ci],
            })
            .collect(),
        sites: cast
            .sites
            .iter()
            .map(|s| TruthSite {
                domain: s.domain.clone(),
                campaign: cast.campaigns[s.campaign].id.clone(),
                locations: s.locations.clone(),
            })
            .collect(),
        summary: TruthSummary {
            main_event: sc.main_event.clone(),
            main_event_time: iso(main_t),
            main_event_asn: w.ases[main_as].asn,
            before: (iso(before.from), iso(before.to)),
            after: (iso(after.from), iso(after.to)),
            spam_before: before.total(),
            spam_after: after.total(),
            world_drop,
            shares_before,
            drop_per_botnet: drop_per,
            dependent_share: round6(dependent as f64 / tb),
            checkpoints,
        },
        hourly: TruthHourly {
            start: iso(w.start),
            spam: cast
                .botnets
                .iter()
                .enumerate()
                .map(|(bi, b)| (b.family.clone(), hourly[bi].clone()))
                .collect(),
            legit: hourly_legit,
        },
    };
    let json = serde_json::to_vec_pretty(&truth).map_err(|e| SimError::Write {
        path: out_dir.join("truth.json"),
        source: std::io::Error::other(e),
    })?;
    let tp = out_dir.join("truth.json");
    std::fs::write(&tp, &json).map_err(|e| SimError::Write {
        path: tp.clone(),
        source: e,
    })?;
    summary_files.push(("truth.json".to_string(), json.len() as u64));
    Ok(Summary {
        scenario: sc.name.clone(),
        seed: opts.seed,
        scale: opts.scale,
        messages: counts.0,
        malformed: counts.3,
        ases: w.ases.len() as u64,
        prefixes_v4: rcounts.rib_v4_prefixes,
        prefixes_v6: rcounts.rib_v6_prefixes,
        bgp_updates: rcounts.update_messages,
        files: summary_files,
        world_drop,
        main_event_time: iso(main_t),
    })
}

/// What the mail loop shares with its workers.
struct MailCtx<'a> {
    w: &'a World,
    sc: &'a Scenario,
    cast: &'a Cast,
    pools: &'a [Vec<mail::Body>],
    traps: &'a [Trap],
    legit: &'a [(usize, u32, String)],
    base_rate: f64,
    gz: bool,
}

/// One message of a rendered minute.
struct Item {
    ti: usize,
    t: i64,
    /// Botnet index, `usize::MAX` for legitimate mail.
    bi: usize,
    ci: usize,
    malformed: Option<Malformed>,
    mbox: std::ops::Range<usize>,
}

/// A rendered minute: its messages framed for the mbox, and their truth lines.
struct SliceOut {
    items: Vec<Item>,
    mbox: Vec<u8>,
    truth: Vec<u8>,
}

fn push_json_str(out: &mut Vec<u8>, key: &str, v: Option<&str>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    match v {
        Some(v) => {
            out.push(b'"');
            out.extend_from_slice(v.as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// Renders minute `idx` of the window: how many messages each botnet sends
/// (Poisson), who sends them, what they say.
fn render_slice(ctx: &MailCtx<'_>, idx: u64) -> SliceOut {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let w = ctx.w;
    let cast = ctx.cast;
    let slice_t = w.start + 60 * idx as i64;
    let slice_end = (slice_t + 60).min(w.end);
    let mut rng = Rng::stream(w.seed, "mail", idx);
    let mut out = SliceOut {
        items: Vec::new(),
        mbox: Vec::new(),
        truth: Vec::new(),
    };
    let hour = civil(slice_t).hour as usize;
    let mid = slice_t + 30;
    let legit_idx = usize::MAX;
    let mut plan: Vec<(i64, u32, usize)> = Vec::new();
    for (bi, b) in cast.botnets.iter().enumerate() {
        let lambda = ctx.base_rate * 60.0 * b.share * b.diurnal[hour] * b.multiplier(mid);
        for _ in 0..rng.poisson(lambda) {
            plan.push((
                slice_t + rng.below((slice_end - slice_t) as u64) as i64,
                rng.next_u64() as u32,
                bi,
            ));
        }
    }
    for _ in 0..rng.poisson(ctx.base_rate * 60.0 * ctx.sc.mail.legit_share) {
        plan.push((
            slice_t + rng.below((slice_end - slice_t) as u64) as i64,
            rng.next_u64() as u32,
            legit_idx,
        ));
    }
    if plan.is_empty() {
        return out;
    }
    plan.sort_unstable();
    out.mbox.reserve(plan.len() * 2048);
    out.truth.reserve(plan.len() * 360);
    out.items.reserve(plan.len());
    // Per botnet in this minute: C&C group weights and active campaigns.
    let group_cum: Vec<Vec<f64>> = cast
        .botnets
        .iter()
        .map(|b| crate::rng::cumulative(b.groups.iter().map(|g| g.weight * g.activity(mid))))
        .collect();
    let active_camps: Vec<Vec<usize>> = cast
        .botnets
        .iter()
        .map(|b| {
            let v: Vec<usize> = b
                .campaigns
                .iter()
                .copied()
                .filter(|&c| cast.campaigns[c].from <= mid && mid < cast.campaigns[c].to)
                .collect();
            if v.is_empty() {
                vec![b.campaigns[0]]
            } else {
                v
            }
        })
        .collect();
    let mut msg = Vec::with_capacity(4096);
    for &(t, _, bi) in &plan {
        msg.clear();
        let ti = rng.index(ctx.traps.len());
        let trap = &ctx.traps[ti];
        let rcpt = match rng.below(4) {
            0 => format!(
                "{}.{}@{}",
                rng.pick(&FIRST_NAMES),
                rng.pick(&LAST_NAMES),
                trap.domain
            ),
            1 => format!(
                "{}{}@{}",
                rng.pick(&FIRST_NAMES),
                rng.below(100),
                trap.domain
            ),
            2 => format!(
                "{}@{}",
                ["info", "sales", "webmaster", "admin", "contact"][rng.index(5)],
                trap.domain
            ),
            _ => format!(
                "{}{}@{}",
                rng.pick(&LAST_NAMES),
                1950 + rng.below(60),
                trap.domain
            ),
        };
        let malformed = if rng.chance(ctx.sc.mail.malformed_share) {
            Some(*rng.pick(&Malformed::ALL))
        } else {
            None
        };
        let (env, family, campaign, relay_ip, bot, asn, ci);
        if bi == legit_idx {
            let (h, ip, dom) = &ctx.legit[rng.index(ctx.legit.len())];
            let rd = format!("mail{}.{dom}", ip & 7);
            let relay = Relay {
                ip: *ip,
                helo: &rd,
                rdns: Some(&rd),
                tz_min: 0,
            };
            env = mail::render_legit(&mut msg, &mut rng, t, trap, &rcpt, &relay, dom);
            family = None;
            campaign = None;
            relay_ip = *ip;
            bot = None;
            asn = w.ases[*h].asn;
            ci = 0;
        } else {
            let b = &cast.botnets[bi];
            // C&C group by its current contribution, then a bot of that group, on line.
            let gi = rng.weighted(&group_cum[bi]).unwrap_or(0);
            let frac = b.groups[gi].bot_fraction;
            let pool = ((b.bots as f64 * frac).ceil() as u64).max(1);
            let utc_hour = civil(t).hour as i32;
            let mut bot_i = rng.below(pool);
            for _ in 0..6 {
                let home = w.access[b.home(w.seed, bot_i)];
                let local = ((utc_hour * 60 + w.ases[home].tz_min).rem_euclid(1440) / 60) as u32;
                if rng.chance(crate::botnet::online(local) / 0.95) {
                    break;
                }
                bot_i = rng.below(pool);
            }
            let home = w.access[b.home(w.seed, bot_i)];
            let ip = bot_ip(w, b, bot_i, t);
            let rd = rdns(w, home, ip);
            let helo = helo_for(&mut rng, &b.style, ip, rd.as_deref());
            let relay = Relay {
                ip,
                helo: &helo,
                rdns: rd.as_deref(),
                tz_min: w.ases[home].tz_min,
            };
            ci = *rng.pick(&active_camps[bi]);
            let camp = &cast.campaigns[ci];
            let fresh;
            let body = if malformed.is_some() || b.style == "storm" {
                let urls = campaign_urls(&mut rng, cast, camp, &b.style, Some(t));
                fresh = mail::render_body(&mut rng, &b.style, &camp.topic, &urls, malformed);
                &fresh
            } else {
                rng.pick(&ctx.pools[ci])
            };
            env = mail::render_spam(
                &mut msg, &mut rng, t, &b.style, camp, body, trap, &rcpt, &relay, malformed,
            );
            family = Some(b.family.as_str());
            campaign = Some(camp.id.as_str());
            relay_ip = ip;
            bot = Some(bot_i);
            asn = w.ases[home].asn;
        }
        let digest = Sha256::digest(&msg);
        let start = out.mbox.len();
        mail::mboxrd_append(&mut out.mbox, &env, &asctime(t), &msg);
        out.items.push(Item {
            ti,
            t,
            bi,
            ci,
            malformed,
            mbox: start..out.mbox.len(),
        });
        let tl = &mut out.truth;
        tl.extend_from_slice(b"{\"sha256\":\"");
        for byte in digest {
            tl.push(HEX[usize::from(byte >> 4)]);
            tl.push(HEX[usize::from(byte & 15)]);
        }
        let _ = write!(
            tl,
            "\",\"file\":\"mail/{}/{}.mbox{}\",\"time\":\"{}\",\"trap\":\"{}\",\"relay_ip\":\"{}\",\"relay_asn\":{asn}",
            trap.domain,
            day(t),
            if ctx.gz { ".gz" } else { "" },
            iso(t),
            trap.domain,
            Ipv4Addr::from(relay_ip),
        );
        push_json_str(tl, "botnet", family);
        push_json_str(tl, "campaign", campaign);
        match bot {
            Some(b) => {
                let _ = write!(tl, ",\"bot\":{b}");
            }
            None => tl.extend_from_slice(b",\"bot\":null"),
        }
        let _ = write!(tl, ",\"size\":{}", msg.len());
        push_json_str(tl, "malformed", malformed.map(Malformed::as_str));
        tl.extend_from_slice(b"}\n");
    }
    out
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// truth-ases.jsonl: every AS with its role, names, initial providers and prefixes.
fn write_ases(w: &World, dir: &Path, gzip: bool) -> Result<(PathBuf, u64), SimError> {
    let mut out = OutFile::create(&dir.join("truth-ases.jsonl"), gzip)?;
    let mut buf = Vec::with_capacity(1 << 16);
    for a in &w.ases {
        let line = serde_json::json!({
            "asn": a.asn,
            "role": a.role.as_str(),
            "key": a.key,
            "name": a.name,
            "org": a.org_name,
            "country": a.country,
            "bulletproof": a.bulletproof,
            "providers": a.providers.iter().map(|&p| w.ases[p].asn).collect::<Vec<_>>(),
            "v4": a.v4.iter().map(|&(n, l)| format!("{}/{l}", Ipv4Addr::from(n))).collect::<Vec<_>>(),
            "v6": a.v6.iter().map(|&(n, l)| format!("{}/{l}", std::net::Ipv6Addr::from(n))).collect::<Vec<_>>(),
        });
        let _ = writeln!(buf, "{line}");
        if buf.len() > 1 << 16 {
            out.write(&buf)?;
            buf.clear();
        }
    }
    out.write(&buf)?;
    out.finish()
}
