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
use crate::mail::{self, BodyRef, Malformed, Relay, Trap};
use crate::outfile::OutFile;
use crate::rng::{Rng, mix3};
use crate::routing::{self, RoutingCounts, TruthRoutingEvent};
use crate::scenario::Scenario;
use crate::text::{FIRST_NAMES, LAST_NAMES};
use crate::textbuf::{push_all, push_hex_bytes, push_ipv4, push_u64};
use crate::timefmt::{civil, day, iso, parse_duration, push_day, push_iso};
use crate::world::{World, host_in_prefixes};
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
    let node = &w.ases[w.access[b.home(w.seed, bot)]];
    bot_addr(w.seed, b, bot, t, node.lease_secs, &node.v4)
}

/// [`bot_ip`] given the home network's lease and prefixes.
fn bot_addr(seed: u64, b: &Botnet, bot: u64, t: i64, lease_secs: i64, v4: &[(u32, u8)]) -> u32 {
    let h = mix3(seed, b.label ^ 0x5eed, bot);
    let lease = lease_secs.max(1);
    let epoch = (t + (h % lease as u64) as i64).div_euclid(lease);
    host_in_prefixes(v4, mix3(h, epoch as u64, 77))
}

/// What the mail loop reads of an access network, packed so that placing
/// a bot touches few cache lines (the AS records are large).
struct AccessNet<'a> {
    lease_secs: i64,
    tz_min: i32,
    asn: u32,
    rdns_style: u8,
    domain: &'a str,
    /// Its prefixes in [`AccessNets::v4`].
    v4: std::ops::Range<usize>,
}

/// [`AccessNet`] per access network (indexed as `world.access`).
struct AccessNets<'a> {
    nets: Vec<AccessNet<'a>>,
    /// Time zone per access network, apart: the on-line test reads it most.
    tz: Vec<i32>,
    v4: Vec<(u32, u8)>,
}

impl<'a> AccessNets<'a> {
    fn new(w: &'a World) -> Self {
        let mut v4 = Vec::new();
        let nets = w
            .access
            .iter()
            .map(|&a| {
                let n = &w.ases[a];
                let from = v4.len();
                v4.extend_from_slice(&n.v4);
                AccessNet {
                    lease_secs: n.lease_secs,
                    tz_min: n.tz_min,
                    asn: n.asn,
                    rdns_style: n.rdns_style,
                    domain: &n.domain,
                    v4: from..v4.len(),
                }
            })
            .collect::<Vec<_>>();
        AccessNets {
            tz: nets.iter().map(|n| n.tz_min).collect(),
            nets,
            v4,
        }
    }
}

/// Appends the reverse name of an address in an access network; false
/// when the network publishes none.
fn push_rdns(out: &mut Vec<u8>, net: &AccessNet<'_>, ip: u32) -> bool {
    let o = ip.to_be_bytes();
    let (pre, order, sep, mid): (&[u8], [usize; 4], u8, &[u8]) = match net.rdns_style {
        0 => (b"adsl-", [0, 1, 2, 3], b'-', b".dsl."),
        1 => (b"", [3, 2, 1, 0], b'.', b".dynamic."),
        2 => (b"dhcp-", [0, 1, 2, 3], b'-', b".cable."),
        3 => (b"ppp", [0, 1, 2, 3], b'-', b".pool."),
        _ => return false,
    };
    out.extend_from_slice(pre);
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            out.push(sep);
        }
        push_u64(out, u64::from(o[i]));
    }
    push_all(out, &[mid, net.domain.as_bytes()]);
    true
}

/// Appends the HELO name a bot of a style uses.
fn push_helo(out: &mut Vec<u8>, rng: &mut Rng, family: &str, ip: u32, rdns: Option<&[u8]>) {
    let lit = |out: &mut Vec<u8>| {
        out.push(b'[');
        push_ipv4(out, ip);
        out.push(b']');
    };
    match family {
        "rustock" | "storm" => lit(out),
        "cutwail" | "pushdo" => match rdns {
            Some(r) => out.extend_from_slice(r),
            None => lit(out),
        },
        "megad" => push_all(
            out,
            &[
                rng.pick(&FIRST_NAMES).as_bytes(),
                b".",
                ["com", "net", "org"][rng.index(3)].as_bytes(),
            ],
        ),
        _ => push_all(
            out,
            &[
                rng.pick(&FIRST_NAMES).as_bytes(),
                b"-",
                ["pc", "laptop", "home", "desktop"][rng.index(4)].as_bytes(),
            ],
        ),
    }
}

/// The open mbox per trap: its day and the file.
struct TrapFiles {
    files: Vec<Option<(i64, OutFile)>>,
}

impl TrapFiles {
    /// Appends `parts` (messages of day `t`) to trap `ti`'s mbox of that
    /// day, closing the previous day's file into `done`.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        ti: usize,
        domain: &str,
        t: i64,
        parts: &mut [std::io::IoSlice<'_>],
        out_dir: &Path,
        comp: Comp,
        done: &mut Vec<(PathBuf, u64)>,
    ) -> Result<(), SimError> {
        let day_start = t - t.rem_euclid(86_400);
        let slot = &mut self.files[ti];
        if !matches!(slot, Some((d, _)) if *d == day_start) {
            if let Some((_, f)) = slot.take() {
                done.push(f.finish()?);
            }
            let p = out_dir.join("mail").join(domain).join(format!(
                "{}.mbox{}",
                day(t),
                comp.zstd_suffix()
            ));
            *slot = Some((day_start, OutFile::create(&p, comp.gzip_plain())?));
        }
        match slot {
            Some((_, f)) => f.write_parts(parts),
            None => Ok(()),
        }
    }
}

/// Appends 1-2 URLs of a campaign's sites, each followed by `\n`;
/// Storm-style messages sometimes link the site's address at `t`.
fn campaign_urls(
    rng: &mut Rng,
    cast: &Cast,
    camp: &crate::botnet::Campaign,
    links_ip: bool,
    t: Option<i64>,
    out: &mut Vec<u8>,
) {
    for _ in 0..1 + rng.index(2) {
        let s = &cast.sites[*rng.pick(&camp.sites)];
        out.extend_from_slice(b"http://");
        match t {
            Some(t) if links_ip && rng.chance(0.5) => push_ipv4(out, s.ip_at(t)),
            _ if rng.chance(0.3) => push_all(out, &[b"www.", s.domain.as_bytes()]),
            _ => out.extend_from_slice(s.domain.as_bytes()),
        }
        out.extend_from_slice(camp.path.as_bytes());
        if camp.path.ends_with('=') {
            push_u64(out, rng.below(100_000));
        }
        out.push(b'\n');
    }
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
    let mut traps: Vec<Trap> = Vec::new();
    for _ in 0..sc.mail.traps {
        let h = *trng.pick(&w.hosters);
        let domain = format!(
            "{}{}",
            ["mail-", "trap-", "", "info-"][trng.index(4)],
            w.ases[h].domain
        );
        traps.push(Trap {
            mx: format!("mx{}.{domain}", 1 + trng.below(3)),
            domain,
        });
    }
    traps.sort_by(|a, b| a.domain.cmp(&b.domain));
    traps.dedup_by(|a, b| a.domain == b.domain);
    let mut trap_files = TrapFiles {
        files: traps.iter().map(|_| None).collect(),
    };
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
    let mut scratch = mail::Scratch::default();
    let mut urls = Vec::new();
    let pools: Vec<Vec<mail::Body>> = cast
        .campaigns
        .iter()
        .map(|c| {
            let st = mail::style(&cast.botnets[c.botnet].style);
            (0..24)
                .map(|_| {
                    urls.clear();
                    campaign_urls(&mut prng, &cast, c, st.per_message_body, None, &mut urls);
                    let mut bytes = Vec::new();
                    let charset = mail::render_body(
                        &mut prng,
                        st,
                        &c.topic,
                        &urls,
                        None,
                        &mut scratch,
                        &mut bytes,
                    );
                    mail::Body::new(charset, bytes)
                })
                .collect()
        })
        .collect();
    let comp = Comp {
        gzip: opts.gzip,
        zstd: opts.zstd,
    };
    let mut truth_out = OutFile::create(
        &out_dir.join(format!("truth-messages.jsonl{}", comp.zstd_suffix())),
        comp.gzip_plain(),
    )?;
    let ctx = MailCtx {
        w: &w,
        sc,
        cast: &cast,
        styles: cast.botnets.iter().map(|b| mail::style(&b.style)).collect(),
        access: AccessNets::new(&w),
        pools: &pools,
        traps: &traps,
        legit: &legit,
        base_rate: sc.mail.rate_per_hour * opts.scale / 3600.0,
        comp,
    };
    let mut counts = (0u64, 0u64, 0u64, 0u64); // messages, spam, legit, malformed
    let n_slices = ((w.end - w.start) as u64).div_ceil(60);
    // Minutes go to the workers in chunks of about CHUNK_MESSAGES messages
    // (a chunk depends on the scenario and scale only, never on the thread
    // count), so that small worlds are not handed out a few messages at a
    // time and `--zstd` frames are big enough to compress well.
    let per_minute = (ctx.base_rate * 60.0 * (1.0 + sc.mail.legit_share)).max(1e-9);
    let chunk = ((CHUNK_MESSAGES / per_minute).ceil() as u64).clamp(1, 60);
    let n_chunks = n_slices.div_ceil(chunk);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    // Minutes are rendered in parallel by `threads` workers (chunk i by
    // worker i mod threads; each minute has its own random stream, so the
    // bytes do not depend on the thread count) while this thread writes
    // them in order. Each worker has a bounded queue, and written minutes
    // go back to their worker for reuse, so memory stays bounded and the
    // buffers are allocated once. The routing files are written meanwhile.
    let mut rfiles: Vec<(PathBuf, u64)> = Vec::new();
    let (routing_out, side_files) = std::thread::scope(|scope| -> Result<_, SimError> {
        let routing = scope.spawn(|| routing::write_all(&w, sc, out_dir, opts.gzip, &mut rfiles));
        let side = scope.spawn(|| -> Result<_, SimError> {
            let mut v = feeds::write_feeds(&w, sc, &cast, out_dir, opts.gzip)?;
            v.push(feeds::write_as2org(&w, out_dir, opts.gzip)?);
            v.push(write_ases(&w, out_dir, opts.gzip)?);
            Ok(v)
        });
        let mut lanes = Vec::with_capacity(threads);
        for k in 0..threads {
            let (tx, rx) = std::sync::mpsc::sync_channel::<SliceOut>(SLICE_QUEUE);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<SliceOut>();
            let ctx = &ctx;
            scope.spawn(move || {
                let mut wk = WorkerBufs::default();
                for i in (k as u64..n_chunks).step_by(threads) {
                    let mut so = back_rx.try_recv().unwrap_or_default();
                    so.clear(ctx.traps.len());
                    for m in i * chunk..((i + 1) * chunk).min(n_slices) {
                        render_slice(ctx, m, &mut wk, &mut so);
                    }
                    if ctx.comp.zstd {
                        compress_slice(ctx, &mut wk, &mut so);
                    }
                    if tx.send(so).is_err() {
                        return;
                    }
                }
            });
            lanes.push((rx, back_tx));
        }
        for i in 0..n_chunks {
            let (rx, back) = &lanes[(i % threads as u64) as usize];
            // A closed lane means its worker panicked; the scope re-raises that.
            let Ok(mut so) = rx.recv() else { break };
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
            }
            if let Some(reason) = so.zerr.take() {
                return Err(SimError::Compress {
                    what: format!("chunk {i} of the mail ({chunk} minutes each)"),
                    reason,
                });
            }
            if comp.zstd {
                // Compressed by the worker: one frame per trap and day run.
                for r in &so.zruns {
                    let mut part = [std::io::IoSlice::new(&so.zmail[r.bytes.clone()])];
                    trap_files.write(
                        r.ti,
                        &traps[r.ti].domain,
                        r.t0,
                        &mut part,
                        out_dir,
                        comp,
                        &mut files,
                    )?;
                }
                truth_out.write(&so.ztruth)?;
            } else {
                // Each trap's messages of the chunk are one run of segments
                // per day: one vectored write each.
                let mut iov = Vec::new();
                for (ti, trap) in traps.iter().enumerate().take(so.segs.len()) {
                    for (t0, from, end) in day_runs(&so, ti) {
                        let parts = gather(&so.segs[ti][from..end], &so.mbox[ti], &pools, &mut iov);
                        trap_files.write(ti, &trap.domain, t0, parts, out_dir, comp, &mut files)?;
                    }
                }
                truth_out.write(&so.truth)?;
            }
            let _ = back.send(so);
        }
        drop(lanes);
        Ok((joined(routing)?, joined(side)?))
    })?;
    let (rcounts, tevents) = routing_out;
    files.splice(0..0, rfiles);
    for f in trap_files.files.iter_mut() {
        if let Some((_, f)) = f.take() {
            files.push(f.finish()?);
        }
    }
    files.push(truth_out.finish()?);
    files.extend(side_files);

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
        let kind = if kind.contains(".jsonl") {
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

/// Rendered chunks a worker may queue ahead of the writer.
const SLICE_QUEUE: usize = 3;

/// Messages a chunk of minutes holds on average (at most an hour's worth
/// of minutes): about 6 MB of mail, 120 messages per trap and zstd frame
/// at full scale.
const CHUNK_MESSAGES: f64 = 4000.0;

/// What the mail loop shares with its workers.
struct MailCtx<'a> {
    w: &'a World,
    sc: &'a Scenario,
    cast: &'a Cast,
    /// Template style per botnet.
    styles: Vec<&'static mail::Style>,
    access: AccessNets<'a>,
    pools: &'a [Vec<mail::Body>],
    traps: &'a [Trap],
    legit: &'a [(usize, u32, String)],
    base_rate: f64,
    comp: Comp,
}

/// How the mail and the message truth are compressed.
#[derive(Clone, Copy)]
struct Comp {
    gzip: bool,
    zstd: bool,
}

impl Comp {
    /// Suffix the mbox and truth-messages files get for zstd.
    fn zstd_suffix(self) -> &'static str {
        if self.zstd { ".zst" } else { "" }
    }

    /// Whether those files go through [`OutFile`]'s gzip (not with zstd:
    /// the workers compress them).
    fn gzip_plain(self) -> bool {
        self.gzip && !self.zstd
    }

    /// Suffix after `.mbox`.
    fn mbox_suffix(self) -> &'static str {
        match (self.zstd, self.gzip) {
            (true, _) => ".zst",
            (false, true) => ".gz",
            (false, false) => "",
        }
    }
}

/// A trap's compressed day run of a minute (`--zstd`).
struct ZRun {
    ti: usize,
    /// Arrival time of its first message (gives the day's file).
    t0: i64,
    /// Its zstd frame in [`SliceOut::zmail`].
    bytes: std::ops::Range<usize>,
}

/// One message of a rendered minute.
struct Item {
    ti: usize,
    t: i64,
    /// Botnet index, `usize::MAX` for legitimate mail.
    bi: usize,
    ci: usize,
    malformed: Option<Malformed>,
    /// Its mbox entry: a range of the trap's segments.
    segs: std::ops::Range<usize>,
}

/// A piece of a trap's mbox stream in a rendered minute.
#[derive(Clone, Copy)]
enum Seg {
    /// Bytes of the trap's buffer.
    Own(usize, usize),
    /// A campaign's shared body (`pools[campaign][index]`), written from
    /// where it is instead of being copied into every message.
    Pool(usize, usize),
}

/// A rendered chunk of minutes: per trap its messages framed for the mbox (bytes
/// and the segments that put them together with shared bodies), and the
/// messages' truth lines. Reused from minute to minute.
#[derive(Default)]
struct SliceOut {
    items: Vec<Item>,
    mbox: Vec<Vec<u8>>,
    segs: Vec<Vec<Seg>>,
    truth: Vec<u8>,
    /// With `--zstd`: the frames of every trap's day runs, their places,
    /// the truth lines' frame, and the error if zstd refused.
    zmail: Vec<u8>,
    zruns: Vec<ZRun>,
    ztruth: Vec<u8>,
    zerr: Option<String>,
}

impl SliceOut {
    /// Empties it for the next chunk (keeping the buffers).
    fn clear(&mut self, traps: usize) {
        self.items.clear();
        self.truth.clear();
        self.mbox.resize_with(traps, Vec::new);
        self.segs.resize_with(traps, Vec::new);
        for m in &mut self.mbox {
            m.clear();
        }
        for m in &mut self.segs {
            m.clear();
        }
    }
}

/// A worker's reused buffers.
#[derive(Default)]
struct WorkerBufs {
    mail: mail::Scratch,
    rcpt: Vec<u8>,
    helo: Vec<u8>,
    rdns: Vec<u8>,
    urls: Vec<u8>,
    body: Vec<u8>,
    quote: Vec<u8>,
    plan: Vec<(i64, u32, usize)>,
    group_cum: Vec<Vec<f64>>,
    active_camps: Vec<Vec<usize>>,
    /// The worker's zstd context (`--zstd`), made on first use.
    zctx: Option<zstd::zstd_safe::CCtx<'static>>,
}

/// zstd level of `--zstd`: the fastest of the regular levels. Spam
/// templates repeat, so even this compresses the mail about 5x.
const ZSTD_LEVEL: i32 = 1;

/// Trap `ti`'s messages of a rendered minute, as runs of one day each
/// (a minute crosses midnight at most once): `(time of the first, first
/// segment, end segment)`.
fn day_runs(so: &SliceOut, ti: usize) -> Vec<(i64, usize, usize)> {
    let mut runs: Vec<(i64, usize, usize)> = Vec::new();
    for it in so.items.iter().filter(|it| it.ti == ti) {
        match runs.last_mut() {
            Some((t0, _, end)) if t0.div_euclid(86_400) == it.t.div_euclid(86_400) => {
                *end = it.segs.end;
            }
            _ => runs.push((it.t, it.segs.start, it.segs.end)),
        }
    }
    runs
}

/// Compresses a rendered chunk (`--zstd`): one frame per trap and day
/// run into `so.zmail`, one for the truth lines into `so.ztruth`. Runs in
/// the rendering worker, so compression uses every core while the writer
/// thread only appends bytes; concatenated frames are one valid zstd
/// stream. An error is left in `so.zerr` for the writer to report.
fn compress_slice(ctx: &MailCtx<'_>, wk: &mut WorkerBufs, so: &mut SliceOut) {
    use zstd::zstd_safe::{CCtx, CParameter};
    so.zmail.clear();
    so.zruns.clear();
    so.ztruth.clear();
    so.zerr = None;
    let cctx = match &mut wk.zctx {
        Some(c) => c,
        None => {
            let mut c = CCtx::create();
            if let Err(code) = c.set_parameter(CParameter::CompressionLevel(ZSTD_LEVEL)) {
                so.zerr = Some(zstd::zstd_safe::get_error_name(code).to_string());
                return;
            }
            wk.zctx.insert(c)
        }
    };
    let mut iov = Vec::new();
    for ti in 0..so.segs.len() {
        for (t0, from, end) in day_runs(so, ti) {
            let parts = gather(&so.segs[ti][from..end], &so.mbox[ti], ctx.pools, &mut iov);
            let start = so.zmail.len();
            if let Err(e) = zstd_frame(cctx, parts.iter().map(|p| &p[..]), &mut so.zmail) {
                so.zerr = Some(format!("trap {ti}: {e}"));
                return;
            }
            so.zruns.push(ZRun {
                ti,
                t0,
                bytes: start..so.zmail.len(),
            });
        }
    }
    if !so.truth.is_empty()
        && let Err(e) = zstd_frame(cctx, std::iter::once(&so.truth[..]), &mut so.ztruth)
    {
        so.zerr = Some(format!("truth lines: {e}"));
    }
}

/// Appends one zstd frame holding the concatenation of `parts` to `out`.
fn zstd_frame<'a>(
    cctx: &mut zstd::zstd_safe::CCtx<'static>,
    parts: impl Iterator<Item = &'a [u8]> + Clone,
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    use zstd::zstd_safe::{InBuffer, OutBuffer, ResetDirective, get_error_name, zstd_sys};
    let total: usize = parts.clone().map(<[u8]>::len).sum();
    let err = |code| get_error_name(code);
    cctx.reset(ResetDirective::SessionOnly).map_err(err)?;
    cctx.set_pledged_src_size(Some(total as u64)).map_err(err)?;
    // Room for the whole frame, so no call runs out of output space.
    out.reserve(zstd::zstd_safe::compress_bound(total) + 64);
    let pos = out.len();
    let mut ob = OutBuffer::around_pos(out, pos);
    for p in parts {
        let mut ib = InBuffer::around(p);
        while ib.pos() < p.len() {
            cctx.compress_stream2(
                &mut ob,
                &mut ib,
                zstd_sys::ZSTD_EndDirective::ZSTD_e_continue,
            )
            .map_err(err)?;
        }
    }
    loop {
        let mut ib = InBuffer::around(&[]);
        let left = cctx
            .compress_stream2(&mut ob, &mut ib, zstd_sys::ZSTD_EndDirective::ZSTD_e_end)
            .map_err(err)?;
        if left == 0 {
            return Ok(());
        }
        if ob.pos() == ob.capacity() {
            return Err("output buffer full");
        }
    }
}

fn push_json_str(out: &mut Vec<u8>, key: &str, v: Option<&str>) {
    push_all(out, &[b",\"", key.as_bytes(), b"\":"]);
    match v {
        Some(v) => push_all(out, &[b"\"", v.as_bytes(), b"\""]),
        None => out.extend_from_slice(b"null"),
    }
}

/// Renders minute `idx` of the window, appending to `out` (cleared by the
/// caller per chunk): how many messages each botnet sends (Poisson), who
/// sends them, what they say.
fn render_slice(ctx: &MailCtx<'_>, idx: u64, wk: &mut WorkerBufs, out: &mut SliceOut) {
    let w = ctx.w;
    let cast = ctx.cast;
    let slice_t = w.start + 60 * idx as i64;
    let slice_end = (slice_t + 60).min(w.end);
    let mut rng = Rng::stream(w.seed, "mail", idx);
    let hour = civil(slice_t).hour as usize;
    let mid = slice_t + 30;
    let legit_idx = usize::MAX;
    let plan = &mut wk.plan;
    plan.clear();
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
        return;
    }
    plan.sort_unstable();
    // Per botnet in this minute: C&C group weights and active campaigns.
    wk.group_cum.resize_with(cast.botnets.len(), Vec::new);
    wk.active_camps.resize_with(cast.botnets.len(), Vec::new);
    for (bi, b) in cast.botnets.iter().enumerate() {
        let gc = &mut wk.group_cum[bi];
        gc.clear();
        let mut acc = 0.0;
        for g in &b.groups {
            acc += (g.weight * g.activity(mid)).max(0.0);
            gc.push(acc);
        }
        let ac = &mut wk.active_camps[bi];
        ac.clear();
        ac.extend(
            b.campaigns
                .iter()
                .copied()
                .filter(|&c| cast.campaigns[c].from <= mid && mid < cast.campaigns[c].to),
        );
        if ac.is_empty() {
            ac.push(b.campaigns[0]);
        }
    }
    for &(t, _, bi) in plan.iter() {
        let ti = rng.index(ctx.traps.len());
        let trap = &ctx.traps[ti];
        let dom = trap.domain.as_bytes();
        let rcpt = &mut wk.rcpt;
        rcpt.clear();
        match rng.below(4) {
            0 => push_all(
                rcpt,
                &[
                    rng.pick(&FIRST_NAMES).as_bytes(),
                    b".",
                    rng.pick(&LAST_NAMES).as_bytes(),
                ],
            ),
            1 => {
                rcpt.extend_from_slice(rng.pick(&FIRST_NAMES).as_bytes());
                push_u64(rcpt, rng.below(100));
            }
            2 => rcpt.extend_from_slice(
                ["info", "sales", "webmaster", "admin", "contact"][rng.index(5)].as_bytes(),
            ),
            _ => {
                rcpt.extend_from_slice(rng.pick(&LAST_NAMES).as_bytes());
                push_u64(rcpt, 1950 + rng.below(60));
            }
        }
        push_all(rcpt, &[b"@", dom]);
        let malformed = if rng.chance(ctx.sc.mail.malformed_share) {
            Some(*rng.pick(&Malformed::ALL))
        } else {
            None
        };
        let mbox = &mut out.mbox[ti];
        let segs = &mut out.segs[ti];
        let entry_start = mbox.len();
        let seg_start = segs.len();
        // The shared body a message refers to, if any.
        let mut shared: Option<(usize, usize)> = None;
        let (msg_start, family, campaign, relay_ip, bot, asn, ci);
        if bi == legit_idx {
            let (h, ip, sender) = &ctx.legit[rng.index(ctx.legit.len())];
            let rd = &mut wk.helo;
            rd.clear();
            rd.extend_from_slice(b"mail");
            push_u64(rd, u64::from(ip & 7));
            push_all(rd, &[b".", sender.as_bytes()]);
            let relay = Relay {
                ip: *ip,
                helo: rd,
                rdns: Some(rd),
                tz_min: 0,
            };
            msg_start =
                mail::render_legit(mbox, &mut wk.mail, &mut rng, t, trap, rcpt, &relay, sender);
            family = None;
            campaign = None;
            relay_ip = *ip;
            bot = None;
            asn = w.ases[*h].asn;
            ci = 0;
        } else {
            let b = &cast.botnets[bi];
            let st = ctx.styles[bi];
            // C&C group by its current contribution, then a bot of that group, on line.
            let gi = rng.weighted(&wk.group_cum[bi]).unwrap_or(0);
            let frac = b.groups[gi].bot_fraction;
            let pool = ((b.bots as f64 * frac).ceil() as u64).max(1);
            let utc_hour = civil(t).hour as i32;
            let mut bot_i = rng.below(pool);
            for _ in 0..6 {
                let tz = ctx.access.tz[b.home(w.seed, bot_i)];
                let local = ((utc_hour * 60 + tz).rem_euclid(1440) / 60) as u32;
                if rng.chance(crate::botnet::online(local) / 0.95) {
                    break;
                }
                bot_i = rng.below(pool);
            }
            let net = &ctx.access.nets[b.home(w.seed, bot_i)];
            let v4 = &ctx.access.v4[net.v4.clone()];
            let ip = bot_addr(w.seed, b, bot_i, t, net.lease_secs, v4);
            wk.rdns.clear();
            let rd = push_rdns(&mut wk.rdns, net, ip).then_some(&wk.rdns[..]);
            wk.helo.clear();
            push_helo(&mut wk.helo, &mut rng, &b.style, ip, rd);
            let relay = Relay {
                ip,
                helo: &wk.helo,
                rdns: rd,
                tz_min: net.tz_min,
            };
            ci = *rng.pick(&wk.active_camps[bi]);
            let camp = &cast.campaigns[ci];
            let body = if malformed.is_some() || st.per_message_body {
                wk.urls.clear();
                campaign_urls(
                    &mut rng,
                    cast,
                    camp,
                    st.per_message_body,
                    Some(t),
                    &mut wk.urls,
                );
                wk.body.clear();
                let charset = mail::render_body(
                    &mut rng,
                    st,
                    &camp.topic,
                    &wk.urls,
                    malformed,
                    &mut wk.mail,
                    &mut wk.body,
                );
                BodyRef {
                    charset,
                    bytes: &wk.body,
                    by_reference: false,
                }
            } else {
                let k = rng.index(ctx.pools[ci].len());
                let p = &ctx.pools[ci][k];
                // A body mboxrd must quote is copied and quoted with its message.
                if !p.needs_quoting {
                    shared = Some((ci, k));
                }
                BodyRef {
                    charset: p.charset,
                    bytes: &p.bytes,
                    by_reference: !p.needs_quoting,
                }
            };
            msg_start = mail::render_spam(
                mbox,
                &mut wk.mail,
                &mut rng,
                t,
                st,
                camp,
                &body,
                trap,
                rcpt,
                &relay,
                malformed,
            );
            family = Some(b.family.as_str());
            campaign = Some(camp.id.as_str());
            relay_ip = ip;
            bot = Some(bot_i);
            asn = net.asn;
        }
        let body: &[u8] = shared.map_or(&[], |(c, k)| &ctx.pools[c][k].bytes);
        let size = mbox.len() - msg_start + body.len();
        let digest = Sha256::new()
            .chain_update(&mbox[msg_start..])
            .chain_update(body)
            .finalize();
        if shared.is_some() && memchr::memmem::find(&mbox[msg_start..], b"From ").is_some() {
            // Headers that need quoting (not generated today): quote the
            // whole message in the buffer.
            mbox.extend_from_slice(body);
            shared = None;
        }
        match shared {
            Some((c, k)) => {
                segs.push(Seg::Own(entry_start, mbox.len()));
                segs.push(Seg::Pool(c, k));
                mbox.push(b'\n');
                segs.push(Seg::Own(mbox.len() - 1, mbox.len()));
            }
            None => {
                mail::mboxrd_finish(mbox, msg_start, &mut wk.quote);
                segs.push(Seg::Own(entry_start, mbox.len()));
            }
        }
        out.items.push(Item {
            ti,
            t,
            bi,
            ci,
            malformed,
            segs: seg_start..segs.len(),
        });
        let tl = &mut out.truth;
        tl.extend_from_slice(b"{\"sha256\":\"");
        push_hex_bytes(tl, &digest);
        push_all(tl, &[b"\",\"file\":\"mail/", dom, b"/"]);
        push_day(tl, t);
        tl.extend_from_slice(b".mbox");
        tl.extend_from_slice(ctx.comp.mbox_suffix().as_bytes());
        tl.extend_from_slice(b"\",\"time\":\"");
        push_iso(tl, t);
        push_all(tl, &[b"\",\"trap\":\"", dom, b"\",\"relay_ip\":\""]);
        push_ipv4(tl, relay_ip);
        tl.extend_from_slice(b"\",\"relay_asn\":");
        push_u64(tl, u64::from(asn));
        push_json_str(tl, "botnet", family);
        push_json_str(tl, "campaign", campaign);
        tl.extend_from_slice(b",\"bot\":");
        match bot {
            Some(b) => push_u64(tl, b),
            None => tl.extend_from_slice(b"null"),
        }
        tl.extend_from_slice(b",\"size\":");
        push_u64(tl, size as u64);
        push_json_str(tl, "malformed", malformed.map(Malformed::as_str));
        tl.extend_from_slice(b"}\n");
    }
}

/// The byte slices of `segs` (own ranges of `buf` and shared bodies) in
/// `iov`, adjacent own ranges merged.
fn gather<'a, 'b>(
    segs: &[Seg],
    buf: &'a [u8],
    pools: &'a [Vec<mail::Body>],
    iov: &'b mut Vec<std::io::IoSlice<'a>>,
) -> &'b mut [std::io::IoSlice<'a>] {
    iov.clear();
    let mut own: Option<(usize, usize)> = None;
    for &s in segs {
        match s {
            Seg::Own(a, b) => match &mut own {
                Some((_, end)) if *end == a => *end = b,
                _ => {
                    if let Some((x, y)) = own.replace((a, b)) {
                        iov.push(std::io::IoSlice::new(&buf[x..y]));
                    }
                }
            },
            Seg::Pool(c, k) => {
                if let Some((x, y)) = own.take() {
                    iov.push(std::io::IoSlice::new(&buf[x..y]));
                }
                iov.push(std::io::IoSlice::new(&pools[c][k].bytes));
            }
        }
    }
    if let Some((x, y)) = own {
        iov.push(std::io::IoSlice::new(&buf[x..y]));
    }
    iov
}

/// The result of a scoped thread; its panic, re-raised.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e),
    }
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
