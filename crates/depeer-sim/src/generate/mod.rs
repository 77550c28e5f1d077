//! The generation run: world, routing files, the minute-by-minute message
//! stream into the trap mboxes with its per-message truth, feeds, as2org
//! and truth.json.
//!
//! The steps, in order: the world and its cast ([`World::build`],
//! [`Cast::build`]); the traps, legitimate senders and campaign body pools
//! ([`setup`]); the mail, rendered by workers ([`render`]) in chunks
//! ([`chunk`]) and written in order while the routing files and feeds are
//! written beside it ([`write_streams`]); then the truth ([`truth`]).

mod chunk;
mod render;
mod sender;
mod truth;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::botnet::Cast;
use crate::mail::{self, Trap};
use crate::outfile::OutFile;
use crate::rng::Rng;
use crate::routing::{self, RoutingCounts, TruthRoutingEvent};
use crate::scenario::Scenario;
use crate::timefmt::iso;
use crate::world::World;
use crate::{Options, SimError, feeds};

use chunk::{CHUNK_MESSAGES, Comp, MailCtx, SLICE_QUEUE, SliceOut, TrapFiles, WorkerBufs};
use chunk::{compress_slice, day_runs, gather};
use render::render_slice;
use sender::{AccessNets, campaign_urls};
use truth::{RunFacts, Tally, truth_file, write_ases, write_truth_json};

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
    let mut tally = Tally::new(&w, sc, &cast, main_t);
    let (traps, legit) = setup(&w, sc);
    let pools = body_pools(&w, &cast);
    let comp = Comp {
        gzip: opts.gzip,
        zstd: opts.zstd,
    };
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
    let (files, rcounts, events) = write_streams(&ctx, opts, out_dir, &mut tally)?;
    let (index, mut summary_files) = file_index(out_dir, &files);
    let world_drop = tally.world_drop();
    let (messages, malformed) = (tally.messages, tally.malformed);
    let run = RunFacts {
        sc,
        opts,
        w: &w,
        cast: &cast,
        main_t,
        main_as,
        rcounts: &rcounts,
        events,
        files: index,
    };
    let size = write_truth_json(&truth_file(run, tally), out_dir)?;
    summary_files.push(("truth.json".to_string(), size));
    Ok(Summary {
        scenario: sc.name.clone(),
        seed: opts.seed,
        scale: opts.scale,
        messages,
        malformed,
        ases: w.ases.len() as u64,
        prefixes_v4: rcounts.rib_v4_prefixes,
        prefixes_v6: rcounts.rib_v6_prefixes,
        bgp_updates: rcounts.update_messages,
        files: summary_files,
        world_drop,
        main_event_time: iso(main_t),
    })
}

/// A legitimate sender: its hoster, its address and its domain.
type LegitSender = (usize, u32, String);

/// The traps (sorted by domain, one per domain) and the legitimate
/// senders, mail servers at ordinary hosters.
fn setup(w: &World, sc: &Scenario) -> (Vec<Trap>, Vec<LegitSender>) {
    let mut trng = Rng::stream(w.seed, "traps", 0);
    let mut traps: Vec<Trap> = Vec::new();
    for _ in 0..sc.mail.traps {
        let h = *trng.pick(&w.hosters);
        let prefix = *trng.pick(&["mail-", "trap-", "", "info-"]);
        let domain = format!("{prefix}{}", w.domain_of(h));
        traps.push(Trap {
            mx: format!("mx{}.{domain}", 1 + trng.below(3)),
            domain,
        });
    }
    traps.sort_by(|a, b| a.domain.cmp(&b.domain));
    traps.dedup_by(|a, b| a.domain == b.domain);
    let legit = (0..8)
        .map(|_| {
            let h = *trng.pick(&w.hosters);
            (h, w.host_in(h, trng.next_u64()), w.domain_of(h).to_string())
        })
        .collect();
    (traps, legit)
}

/// Body pools: each campaign sends a few dozen body variants (its
/// templates), rendered once; Storm-style bodies link site addresses that
/// move, so they are rendered per message.
fn body_pools(w: &World, cast: &Cast) -> Vec<Vec<mail::Body>> {
    let mut prng = Rng::stream(w.seed, "bodies", 0);
    let mut scratch = mail::Scratch::default();
    let mut urls = Vec::new();
    cast.campaigns
        .iter()
        .map(|c| {
            let style = cast.botnets.get(c.botnet).map_or("", |b| b.style.as_str());
            let st = mail::style(style);
            (0..24)
                .map(|_| {
                    urls.clear();
                    campaign_urls(&mut prng, cast, c, st.per_message_body, None, &mut urls);
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
        .collect()
}

/// The files of a run with their sizes, in the order of the summary.
type Written = Vec<(PathBuf, u64)>;

/// Writes the mail, the routing files and the side files (feeds, as2org,
/// truth-ases): minutes are rendered in parallel by up to 8 workers (chunk
/// `i` by worker `i mod threads`; each minute has its own random stream, so
/// the bytes do not depend on the thread count) while this thread writes
/// them in order and counts them into `tally`. Each worker has a bounded
/// queue, and written chunks go back to their worker for reuse, so memory
/// stays bounded and the buffers are allocated once. The routing files and
/// side files are written meanwhile by two more threads.
fn write_streams(
    ctx: &MailCtx<'_>,
    opts: &Options,
    out_dir: &Path,
    tally: &mut Tally,
) -> Result<(Written, RoutingCounts, Vec<TruthRoutingEvent>), SimError> {
    let (w, sc) = (ctx.w, ctx.sc);
    let comp = ctx.comp;
    let mut truth_out = OutFile::create(
        &out_dir.join(format!("truth-messages.jsonl{}", comp.zstd_suffix())),
        comp.gzip_plain(),
    )?;
    let mut trap_files = TrapFiles {
        files: ctx.traps.iter().map(|_| None).collect(),
    };
    let mut files: Written = Vec::new();
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
    let mut rfiles: Written = Vec::new();
    let (routing_out, side_files) = std::thread::scope(|scope| -> Result<_, SimError> {
        let routing = scope.spawn(|| routing::write_all(w, sc, out_dir, opts.gzip, &mut rfiles));
        let side = scope.spawn(|| -> Result<_, SimError> {
            let mut v = feeds::write_feeds(w, sc, ctx.cast, out_dir, opts.gzip)?;
            v.push(feeds::write_as2org(w, out_dir, opts.gzip)?);
            v.push(write_ases(w, out_dir, opts.gzip)?);
            Ok(v)
        });
        let mut lanes = Vec::with_capacity(threads);
        for k in 0..threads {
            let (tx, rx) = std::sync::mpsc::sync_channel::<SliceOut>(SLICE_QUEUE);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<SliceOut>();
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
        for (i, (rx, back)) in (0..n_chunks).zip(lanes.iter().cycle()) {
            // A closed lane means its worker panicked; the scope re-raises that.
            let Ok(mut so) = rx.recv() else { break };
            for it in &so.items {
                tally.count(it);
            }
            if let Some(reason) = so.zerr.take() {
                return Err(SimError::Compress {
                    what: format!("chunk {i} of the mail ({chunk} minutes each)"),
                    reason,
                });
            }
            write_chunk(
                ctx,
                &so,
                out_dir,
                &mut trap_files,
                &mut truth_out,
                &mut files,
            )?;
            let _ = back.send(so);
        }
        drop(lanes);
        Ok((joined(routing)?, joined(side)?))
    })?;
    let (rcounts, events) = routing_out;
    files.splice(0..0, rfiles);
    for f in trap_files.files.iter_mut() {
        if let Some((_, f)) = f.take() {
            files.push(f.finish()?);
        }
    }
    files.push(truth_out.finish()?);
    files.extend(side_files);
    Ok((files, rcounts, events))
}

/// Appends a rendered chunk to the trap mboxes and truth-messages.jsonl.
fn write_chunk(
    ctx: &MailCtx<'_>,
    so: &SliceOut,
    out_dir: &Path,
    trap_files: &mut TrapFiles,
    truth_out: &mut OutFile,
    files: &mut Written,
) -> Result<(), SimError> {
    let comp = ctx.comp;
    if comp.zstd {
        // Compressed by the worker: one frame per trap and day run.
        for r in &so.zruns {
            let (Some(trap), Some(frame)) = (ctx.traps.get(r.ti), so.zmail.get(r.bytes.clone()))
            else {
                continue;
            };
            let mut part = [std::io::IoSlice::new(frame)];
            trap_files.write(r.ti, &trap.domain, r.t0, &mut part, out_dir, comp, files)?;
        }
        truth_out.write(&so.ztruth)
    } else {
        // Each trap's messages of the chunk are one run of segments
        // per day: one vectored write each.
        let mut iov = Vec::new();
        let per_trap = ctx.traps.iter().zip(so.segs.iter().zip(&so.mbox));
        for (ti, (trap, (segs, mbox))) in per_trap.enumerate() {
            for (t0, from, end) in day_runs(so, ti) {
                let segs = segs.get(from..end).unwrap_or_default();
                let parts = gather(segs, mbox, ctx.pools, &mut iov);
                trap_files.write(ti, &trap.domain, t0, parts, out_dir, comp, files)?;
            }
        }
        truth_out.write(&so.truth)
    }
}

/// Written files per kind, relative to the output directory.
type FileIndex = BTreeMap<String, Vec<String>>;

/// Every written file relative to `dir`: per kind (its first path
/// component, `truth-messages` for `truth-messages.jsonl`), and as the
/// summary lists them with their sizes.
fn file_index(dir: &Path, files: &[(PathBuf, u64)]) -> (FileIndex, Vec<(String, u64)>) {
    let mut index = FileIndex::new();
    let mut summary_files = Vec::new();
    for (p, size) in files {
        let r = rel(dir, p);
        let kind = r.split('/').next().unwrap_or("").to_string();
        let kind = if kind.contains(".jsonl") {
            kind.split('.').next().unwrap_or("").to_string()
        } else {
            kind
        };
        index.entry(kind).or_default().push(r.clone());
        summary_files.push((r, *size));
    }
    for v in index.values_mut() {
        v.sort();
    }
    (index, summary_files)
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The result of a scoped thread; its panic, re-raised.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e),
    }
}
