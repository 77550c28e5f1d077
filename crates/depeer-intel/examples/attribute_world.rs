//! Attributes every message of a simulated world (or any mbox files) and
//! writes one JSON line per message: `sha256, time, botnet, campaign,
//! confidence, signal`. Until ingest calls attribution itself, this is how
//! `scripts/score/intel` gets depeer's answers.
//!
//! ```sh
//! cargo run --release -p depeer-intel --example attribute_world -- \
//!     --world /tmp/w1 --out /tmp/w1/attribution.jsonl
//! cargo run --release -p depeer-intel --example attribute_world -- \
//!     --mail ../shared/data/spam --out /tmp/real.jsonl      # no bot list
//! ```
//!
//! Options: `--world DIR` (mail from `DIR/mail`, bots from
//! `DIR/feeds/bots.csv`), `--mail PATH` (file or directory, repeatable),
//! `--bots FILE` (`ip,family,first_seen,last_seen`), `--rules FILE`,
//! `--no-bots`, `--no-rules`, `--repeat N` (time N runs, report the best),
//! `--out FILE` (default stdout). Plain files only
//! (a simulated world without `--gzip`/`--zstd`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use depeer_core::{SourceRef, Timestamp};
use depeer_intel::{
    Attributor, BotListIndex, HeaderSummary, MessageFeatures, RuleSet, attribute_batch,
    parse_fingerprint,
};
use depeer_mail::{ExtractContext, MessageReader, TrustConfig, extract};

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

fn features_of(path: &Path, trust: &TrustConfig, out: &mut Vec<MessageFeatures>) -> usize {
    let f = std::fs::File::open(path).unwrap();
    let Ok(reader) = MessageReader::sniffed(std::io::BufReader::new(f)) else {
        return 1;
    };
    let mut failed = 0;
    let name = path.display().to_string();
    let mut last_raw: Option<Vec<u8>> = None;
    let start = out.len();
    for raw in reader {
        let Ok(raw) = raw else {
            failed += 1;
            continue;
        };
        last_raw = Some(raw.bytes.clone());
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
        let mut domains: Vec<String> = Vec::new();
        for u in &e.urls {
            let d = match &u.registrable_domain {
                Some(d) => d.clone(),
                None if u.host.parse::<std::net::IpAddr>().is_ok() => u.host.clone(),
                None => continue,
            };
            if !domains.contains(&d) {
                domains.push(d);
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
            url_domains: domains,
            fingerprint: parse_fingerprint(&m.fingerprint),
        });
    }
    // Work-around (depeer-mail working tree, 2026-12-06): the last message
    // of an mbox keeps the separator's empty line, so its SHA-256 differs
    // from the simulator's; hash it without that line.
    if out.len() > start
        && let (Some(raw), Some(last)) = (last_raw, out.last_mut())
        && raw.ends_with(b"\n\n")
    {
        use sha2::Digest;
        let h = sha2::Sha256::digest(&raw[..raw.len() - 1]);
        if last.sha256 == <[u8; 32]>::from(sha2::Sha256::digest(&raw)) {
            last.sha256 = h.into();
        }
    }
    failed
}

fn read_bots(path: &Path) -> BotListIndex {
    let mut idx = BotListIndex::new();
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    for line in f.lines().skip(1) {
        let line = line.unwrap();
        let c: Vec<&str> = line.split(',').collect();
        if c.len() < 4 {
            continue;
        }
        let (Ok(ip), Ok(a), Ok(b)) = (c[0].parse(), Timestamp::parse(c[2]), Timestamp::parse(c[3]))
        else {
            continue;
        };
        idx.insert(ip, c[1], a.0, b.0);
    }
    idx
}

/// CPU time of this thread so far (Linux `schedstat`, nanoseconds): on a
/// shared machine wall time says little about the code.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut mail, mut bots, mut out, mut rules_file) = (Vec::new(), None, None, None);
    let (mut no_bots, mut no_rules, mut repeat) = (false, false, 1usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--world" => {
                let d = PathBuf::from(args.next().unwrap());
                mail.push(d.join("mail"));
                bots = Some(d.join("feeds/bots.csv"));
            }
            "--mail" => mail.push(PathBuf::from(args.next().unwrap())),
            "--bots" => bots = Some(PathBuf::from(args.next().unwrap())),
            "--rules" => rules_file = Some(PathBuf::from(args.next().unwrap())),
            "--out" => out = Some(PathBuf::from(args.next().unwrap())),
            "--no-bots" => no_bots = true,
            "--no-rules" => no_rules = true,
            "--repeat" => repeat = args.next().unwrap().parse().unwrap(),
            o => panic!("unknown option {o}"),
        }
    }
    let rules = match (&rules_file, no_rules) {
        (_, true) => RuleSet::default(),
        (Some(p), _) => RuleSet::parse(
            &std::fs::read_to_string(p).unwrap(),
            &p.display().to_string(),
        )
        .unwrap(),
        (None, _) => RuleSet::builtin().unwrap(),
    };
    let bot_list = match (&bots, no_bots) {
        (Some(p), false) => read_bots(p),
        _ => BotListIndex::new(),
    };
    let trust = TrustConfig::default();
    let mut files = Vec::new();
    for m in &mail {
        walk(m, &mut files);
    }
    let t0 = Instant::now();
    let mut feats = Vec::new();
    let mut failed = 0;
    for f in &files {
        failed += features_of(f, &trust, &mut feats);
    }
    let parse = t0.elapsed();
    feats.sort_by_key(|f| (f.time, f.sha256));
    // Timed in its two phases: observe every message (own signals, the
    // index), then decide every one (solving the campaigns once). The
    // machine is shared: the best of `--repeat` runs is reported.
    let (mut observe, mut attr) = (std::time::Duration::MAX, std::time::Duration::MAX);
    let mut cpu = u64::MAX;
    let mut result = Vec::new();
    for _ in 0..repeat.max(1) {
        let c0 = cpu_ns();
        let t1 = Instant::now();
        let mut attributor = Attributor::new(&rules);
        let own: Vec<_> = feats
            .iter()
            .map(|f| attributor.observe(f, &bot_list))
            .collect();
        let o = t1.elapsed();
        result = feats
            .iter()
            .zip(own)
            .map(|(f, o)| attributor.decide(f, o))
            .collect();
        let a = t1.elapsed();
        if a < attr {
            (observe, attr) = (o, a);
        }
        if let (Some(c0), Some(c1)) = (c0, cpu_ns()) {
            cpu = cpu.min(c1 - c0);
        }
    }
    if std::env::var_os("ATTRIBUTE_WORLD_CHECK").is_some() {
        assert_eq!(result, attribute_batch(&feats, &rules, &bot_list));
    }
    let mut w: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).unwrap())),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut by_signal = std::collections::BTreeMap::new();
    for a in &result {
        *by_signal.entry(a.signal.as_str()).or_insert(0usize) += 1;
        let line = serde_json::json!({
            "sha256": hex(&a.sha256),
            "time": Timestamp(a.time).to_rfc3339(),
            "botnet": a.botnet,
            "campaign": a.campaign,
            "confidence": (a.confidence * 1000.0).round() / 1000.0,
            "signal": a.signal.as_str(),
        });
        writeln!(w, "{line}").unwrap();
    }
    w.flush().unwrap();
    eprintln!(
        "{} messages ({} unreadable) from {} files; parse {:.2}s; attribution {:.3}s (observe {:.3}s) = {:.0} messages/s (1 thread); CPU {:.3}s = {:.0} messages/s per core; {} bot-list addresses; signals {:?}",
        feats.len(),
        failed,
        files.len(),
        parse.as_secs_f64(),
        attr.as_secs_f64(),
        observe.as_secs_f64(),
        feats.len() as f64 / attr.as_secs_f64().max(1e-9),
        cpu as f64 / 1e9,
        feats.len() as f64 * 1e9 / (cpu as f64).max(1.0),
        bot_list.len(),
        by_signal
    );
}
