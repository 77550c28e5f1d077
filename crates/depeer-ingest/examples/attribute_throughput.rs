//! Throughput of enrichment + attribution (issue 17, `scripts/bench/intel`):
//! the library path of `depeer attribute` between reading the dataset and
//! writing the table, [`depeer_ingest::attribute_features`] (observe every
//! message, decide every one, look its relay up as routed at its time:
//! prefix, origin AS, organisation), timed on the messages of a simulated
//! world. Parsing is excluded: the mail is read and extracted first (two
//! threads, untimed) into `MessageFeatures`, as `attribute` gets them from
//! the `messages` table.
//!
//! ```sh
//! depeer sim --scenario mccolo-2008 --scale 910 --zstd --out /tmp/w
//! depeer ingest mrt /tmp/w/bgp/* --data /tmp/d; depeer ingest as2org ...;
//! depeer ingest feed --kind bots /tmp/w/feeds/bots.csv --data /tmp/d
//! cargo run --release -p depeer-ingest --example attribute_throughput -- \
//!     --world /tmp/w --data /tmp/d [--rounds 3] [--out attribution.jsonl]
//! ```
//!
//! Prints messages, wall and CPU seconds per round, messages/s, the parts
//! (observe, decide + enrich, the routing lookups alone) and peak RSS, with
//! the load average. `--out` writes `sha256, botnet, campaign, confidence,
//! signal` per message for `scripts/score/intel`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use depeer_core::{SourceRef, Timestamp};
use depeer_ingest::{RoutingAt, attribute_features, attribute_features_on, bot_list};
use depeer_intel::{Attributor, HeaderSummary, MessageFeatures, RuleSet, parse_fingerprint};
use depeer_mail::{ExtractContext, MessageReader, TrustConfig, extract};
use depeer_store::Dataset;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut ents: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        ents.sort();
        for e in ents {
            walk(&e, out);
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

/// The attribution input of every message of one (possibly compressed)
/// mbox file, as `depeer attribute` builds it from the stored row.
fn features_of(path: &Path, trust: &TrustConfig, out: &mut Vec<MessageFeatures>) -> usize {
    let f = std::fs::File::open(path).unwrap();
    let decoded = depeer_io::open_decoded(f, depeer_io::Limits::default()).unwrap();
    let Ok(reader) = MessageReader::sniffed(decoded.reader) else {
        return 1;
    };
    let name = path.display().to_string();
    let mut failed = 0;
    for raw in reader {
        let Ok(raw) = raw else {
            failed += 1;
            continue;
        };
        let mut ctx = ExtractContext::new(
            trust,
            SourceRef::new(&name, raw.offset, raw.index),
            Timestamp::from_secs(2_000_000_000),
        );
        ctx.mbox_from_time = raw.mbox_from_time;
        let Ok(e) = extract(&raw.bytes, &ctx) else {
            failed += 1;
            continue;
        };
        let m = e.message;
        let mut sites: Vec<String> = Vec::new();
        for u in &e.urls {
            let d = match &u.registrable_domain {
                Some(d) => d.clone(),
                None if u.host.parse::<std::net::IpAddr>().is_ok() => u.host.clone(),
                None => continue,
            };
            if !sites.contains(&d) {
                sites.push(d);
            }
        }
        out.push(MessageFeatures {
            sha256: m.sha256,
            time: m.arrival_time.0,
            relay_ip: m.relay_ip,
            relay_helo: m.relay_helo,
            relay_rdns: m.relay_rdns,
            from_addr: m.from_addr,
            subject: m.subject,
            message_id: m.message_id,
            headers: HeaderSummary::from_raw(&raw.bytes),
            url_domains: sites,
            fingerprint: parse_fingerprint(&m.fingerprint),
        });
    }
    failed
}

/// CPU seconds of the whole process so far (user + system, all threads).
fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the ')'.
    (tick(11) + tick(12)) / 100.0
}

/// A line of /proc/self/status in MiB (`VmHWM`, `VmRSS`).
fn status_mib(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A digest of every field of a row (to compare two runs row by row
/// without keeping both in memory).
fn digest(r: &depeer_store::AttributionRow) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        &r.sha256,
        r.time.0,
        &r.botnet,
        &r.campaign,
        r.confidence.to_bits(),
    )
        .hash(&mut h);
    (
        &r.signal,
        &r.relay_ip,
        &r.relay_prefix,
        r.relay_asn,
        &r.relay_org,
    )
        .hash(&mut h);
    h.finish()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The parts on one thread (prepare, file, solve, decide), then the whole
/// path on one thread (its CPU cost per message); returns a digest of
/// each of its rows, the reference the threaded rounds must give.
fn one_thread(
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &depeer_intel::BotListIndex,
    routing: &RoutingAt,
    lookups: Duration,
) -> Vec<u64> {
    // The whole path on one thread (its CPU cost per message; its rows
    // are the reference the threaded rounds must give, row by row), and
    // the filing of the index alone.
    let t = Instant::now();
    let mut at = Attributor::new(rules);
    at.reserve(feats.len());
    let prepared: Vec<_> = feats
        .iter()
        .map(|f| Attributor::prepare(rules, f, bots))
        .collect();
    let prepare = t.elapsed();
    let own: Vec<_> = feats
        .iter()
        .zip(prepared)
        .map(|(f, p)| at.observe_prepared(f, p))
        .collect();
    let observe = t.elapsed();
    eprintln!(
        "observe, one thread: prepare {:.3} s (rules, template, bot list, keys), file {:.3} s (the index)",
        prepare.as_secs_f64(),
        (observe - prepare).as_secs_f64()
    );
    let keys = at.indexed_keys();
    let t = Instant::now();
    at.solve();
    let solve = t.elapsed();
    let t = Instant::now();
    let named = feats
        .iter()
        .zip(&own)
        .filter(|(f, o)| at.decide_solved(f, **o).botnet.is_some())
        .count();
    let decide = t.elapsed();
    drop((at, own));
    eprintln!(
        "parts, one thread: observe {:.3} s, solve {:.3} s, decide {:.3} s ({named} named), routing lookups {:.3} s",
        observe.as_secs_f64(),
        solve.as_secs_f64(),
        decide.as_secs_f64(),
        lookups.as_secs_f64()
    );
    let (c0, t) = (cpu_s(), Instant::now());
    let sequential = attribute_features_on(feats, rules, bots, routing, 1);
    let one = t.elapsed();
    let n_one = sequential.len();
    let sequential: Vec<u64> = sequential.iter().map(digest).collect();
    eprintln!(
        "one thread: {} messages in {:.3} s = {:.0} messages/s (CPU {:.2} s); observe alone {:.3} s; {} keys indexed",
        n_one,
        one.as_secs_f64(),
        n_one as f64 / one.as_secs_f64().max(1e-9),
        cpu_s() - c0,
        observe.as_secs_f64(),
        keys
    );

    sequential
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut world, mut data, mut out) = (None, None, None);
    let (mut rounds, mut limit) = (3usize, usize::MAX);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--world" => world = Some(PathBuf::from(args.next().unwrap())),
            "--data" => data = Some(PathBuf::from(args.next().unwrap())),
            "--out" => out = Some(PathBuf::from(args.next().unwrap())),
            "--rounds" => rounds = args.next().unwrap().parse().unwrap(),
            "--limit" => limit = args.next().unwrap().parse().unwrap(),
            o => panic!("unknown option {o}"),
        }
    }
    let world = world.expect("--world DIR");
    let data = data.expect("--data DIR (routes, as_names and the bots feed ingested)");
    let ds = Dataset::open(&data).unwrap();
    let routing = RoutingAt::new(&ds.read_routes().unwrap(), &ds.read_as_names().unwrap());
    let bots = bot_list(&ds).unwrap();
    drop(ds);
    let rules = RuleSet::builtin().unwrap();

    let mut files = Vec::new();
    walk(&world.join("mail"), &mut files);
    let t0 = Instant::now();
    let trust = TrustConfig::default();
    let threads = 2;
    let (mut feats, failed) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|k| {
                let (files, trust) = (&files, &trust);
                s.spawn(move || {
                    let (mut v, mut failed) = (Vec::new(), 0);
                    for f in files.iter().skip(k).step_by(threads) {
                        failed += features_of(f, trust, &mut v);
                    }
                    (v, failed)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut failed = 0;
        for h in hs {
            let (v, f) = h.join().unwrap();
            all.extend(v);
            failed += f;
        }
        (all, failed)
    });
    feats.sort_by_key(|f| (f.time, f.sha256));
    feats.truncate(limit);
    feats.shrink_to_fit();
    let rss_features = status_mib("VmRSS:");
    eprintln!(
        "{} messages ({} unreadable) from {} files, extracted in {:.1} s (untimed); \
         {} route rows, {} bot-list addresses; RSS with the features {:.0} MiB",
        feats.len(),
        failed,
        files.len(),
        t0.elapsed().as_secs_f64(),
        routing.routes(),
        bots.len(),
        rss_features
    );

    // The routing lookups alone (part of the figure below, shown apart).
    let t = Instant::now();
    let mut routed = 0usize;
    for f in &feats {
        if let Some(ip) = f.relay_ip
            && routing.lookup(ip, Timestamp(f.time)).is_some()
        {
            routed += 1;
        }
    }
    let lookups = t.elapsed();
    eprintln!(
        "routing lookups alone: {:.3} s ({:.0} /s), {} of {} relays routed",
        lookups.as_secs_f64(),
        feats.len() as f64 / lookups.as_secs_f64().max(1e-9),
        routed,
        feats.iter().filter(|f| f.relay_ip.is_some()).count()
    );

    let sequential = one_thread(&feats, &rules, &bots, &routing, lookups);

    let mut best = Duration::MAX;
    let mut rows = Vec::new();
    for r in 0..rounds.max(1) {
        drop(std::mem::take(&mut rows));
        let (c0, l0) = (cpu_s(), load());
        let t = Instant::now();
        rows = attribute_features(&feats, &rules, &bots, &routing);
        let wall = t.elapsed();
        let cpu = cpu_s() - c0;
        best = best.min(wall);
        eprintln!(
            "round {}: {} messages in {:.3} s wall = {:.0} messages/s; CPU {:.2} s = {:.0} messages/s per CPU-second; load {} -> {}",
            r + 1,
            rows.len(),
            wall.as_secs_f64(),
            rows.len() as f64 / wall.as_secs_f64().max(1e-9),
            cpu,
            rows.len() as f64 / cpu.max(1e-9),
            l0,
            load()
        );
    }
    // The threaded path gives what one thread gives, row by row.
    assert!(
        rows.iter().map(digest).eq(sequential.iter().copied()),
        "threaded rows differ from one thread's"
    );
    drop(sequential);
    let attributed = rows.iter().filter(|r| r.botnet.is_some()).count();
    let enriched = rows.iter().filter(|r| r.relay_asn.is_some()).count();
    println!(
        "enrichment+attribution: {} messages, best {:.3} s = {:.0} messages/s; attributed {:.2} %, relays routed {:.2} %; peak RSS {:.0} MiB (features alone {:.0} MiB)",
        rows.len(),
        best.as_secs_f64(),
        rows.len() as f64 / best.as_secs_f64().max(1e-9),
        100.0 * attributed as f64 / rows.len().max(1) as f64,
        100.0 * enriched as f64 / rows.len().max(1) as f64,
        status_mib("VmHWM:"),
        rss_features
    );
    if let Some(p) = out {
        let mut w = std::io::BufWriter::new(std::fs::File::create(p).unwrap());
        for r in &rows {
            let line = serde_json::json!({
                "sha256": r.sha256, "botnet": r.botnet, "campaign": r.campaign,
                "confidence": r.confidence, "signal": r.signal,
            });
            writeln!(w, "{line}").unwrap();
        }
        w.flush().unwrap();
    }
}
