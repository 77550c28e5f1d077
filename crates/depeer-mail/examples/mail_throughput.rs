//! Measures framing + extraction throughput on real mail, single-threaded,
//! with every file already in memory (so the figure is parse + extract, not
//! I/O). With `--dump` it prints one JSON line per message instead
//! (`id`, `ip`, `hosts`, or `error`), for the conformance comparison.
//!
//! ```text
//! cargo run --release -p depeer-mail --example mail_throughput -- [--dump|--full] [--rounds N] [--list FILE] PATH...
//! ```
//! PATH defaults to ../shared/data/spam (files and directories, recursively).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use depeer_core::{SourceRef, Timestamp};
use depeer_mail::{ExtractContext, Extractor, MessageReader, RawMessage, TrustConfig};
use mail_parser::MimeHeaders;

/// The allocator the `depeer` binary uses, so profiles of this example
/// count allocation as the ingest pays it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else if p
        .file_name()
        .is_some_and(|n| n != "SHA256SUMS" && !n.to_string_lossy().ends_with(".md"))
    {
        out.push(p.to_path_buf());
    }
}

/// User + system CPU seconds of this process (from /proc; the machine is
/// shared, so wall time over-states the cost).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// What the command line asks for.
struct Args {
    dump: bool,
    full: bool,
    rounds: usize,
    paths: Vec<PathBuf>,
}

/// Parses the command line; `None` when a one-off printing option
/// (`--html`, `--parts`) already did the work.
fn parse_args() -> Option<Args> {
    let mut a = Args {
        dump: false,
        full: false,
        rounds: 5,
        paths: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dump" => a.dump = true,
            "--full" => {
                // Every field of every message (Debug form), one line each:
                // for checking that an optimisation changes no output.
                a.dump = true;
                a.full = true;
            }
            "--html" => {
                let f = args.next().unwrap_or_default();
                let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                print_html(&f, n);
                return None;
            }
            "--parts" => {
                print_parts(args.by_ref());
                return None;
            }
            "--list" => {
                // A file that names one input path per line.
                let list = std::fs::read_to_string(args.next().unwrap_or_default());
                a.paths
                    .extend(list.iter().flat_map(|l| l.lines()).map(PathBuf::from));
            }
            "--rounds" => a.rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            _ => a.paths.push(PathBuf::from(arg)),
        }
    }
    if a.paths.is_empty() {
        a.paths.push(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/spam"
        )));
    }
    Some(a)
}

/// Prints the decoded HTML and text parts of message `n` of file `f`.
fn print_html(f: &str, n: u64) {
    let data = std::fs::read(f).unwrap_or_default();
    for m in MessageReader::sniffed(&data[..])
        .into_iter()
        .flatten()
        .flatten()
        .filter(|m| m.index == n)
    {
        if let Some(msg) = mail_parser::MessageParser::default().parse(&m.bytes[..]) {
            for p in &msg.parts {
                if let mail_parser::PartType::Html(h) | mail_parser::PartType::Text(h) = &p.body {
                    println!("{h}");
                }
            }
        }
    }
}

/// Prints the MIME parts mail-parser finds in every message of `files`.
fn print_parts(files: impl Iterator<Item = String>) {
    for f in files {
        let data = std::fs::read(&f).unwrap_or_default();
        for m in MessageReader::sniffed(&data[..])
            .into_iter()
            .flatten()
            .flatten()
        {
            let msg = mail_parser::MessageParser::default().parse(&m.bytes[..]);
            for p in msg.iter().flat_map(|x| x.parts.iter()) {
                let kind = match &p.body {
                    mail_parser::PartType::Text(t) => format!("text {}", t.len()),
                    mail_parser::PartType::Html(t) => format!("html {}", t.len()),
                    mail_parser::PartType::Binary(t) => format!("binary {}", t.len()),
                    mail_parser::PartType::InlineBinary(t) => format!("inline {}", t.len()),
                    mail_parser::PartType::Message(_) => "message".into(),
                    mail_parser::PartType::Multipart(v) => format!("multipart {v:?}"),
                };
                println!(
                    "{f}#{}: {kind} {:?}",
                    m.index,
                    p.content_type().map(|c| (c.ctype(), c.subtype()))
                );
            }
        }
    }
}

/// Every message of `files`, with an id (the file, and `#index` in an
/// mbox); the bytes read and the framing time in seconds.
fn frame_all(files: &[PathBuf]) -> (Vec<(String, RawMessage)>, usize, f64) {
    let t0 = Instant::now();
    let mut msgs = Vec::new();
    let mut bytes = 0usize;
    for f in files {
        let Ok(data) = std::fs::read(f) else { continue };
        bytes += data.len();
        let Ok(reader) = MessageReader::sniffed(&data[..]) else {
            continue;
        };
        let mbox = f.extension().is_some_and(|e| e == "mbox");
        for m in reader.flatten() {
            let id = if mbox {
                format!("{}#{}", f.display(), m.index)
            } else {
                f.display().to_string()
            };
            msgs.push((id, m));
        }
    }
    (msgs, bytes, t0.elapsed().as_secs_f64())
}

/// One line per message: every field (`full`), or id, relay IP and hosts
/// as JSON.
fn dump(msgs: &[(String, RawMessage)], full: bool) {
    let trust = TrustConfig::default();
    let mut ex = Extractor::new();
    for (id, m) in msgs {
        let ctx = ExtractContext::new(&trust, SourceRef::new(id.clone(), m.offset, m.index), NOW);
        match ex.extract(&m.bytes, &ctx) {
            Ok(e) if full => println!("{id}\t{e:?}"),
            Ok(e) => {
                let mut hosts: Vec<&str> = e.urls.iter().map(|u| u.host.as_str()).collect();
                hosts.sort_unstable();
                hosts.dedup();
                let ip = e.message.relay_ip.map(|i| i.to_string());
                println!(
                    "{}",
                    serde_json::json!({"id": id, "ip": ip, "hosts": hosts})
                );
            }
            Err(err) => println!("{}", serde_json::json!({"id": id, "error": err.reason()})),
        }
    }
}

/// Messages per CPU second of `f` run on every message `rounds` times.
fn rate(msgs: &[(String, RawMessage)], rounds: usize, mut f: impl FnMut(&RawMessage)) -> f64 {
    let c = cpu_secs();
    for _ in 0..rounds {
        for (_, m) in msgs {
            f(m);
        }
    }
    (msgs.len() * rounds) as f64 / (cpu_secs() - c).max(0.01)
}

/// The floors: mail-parser alone with extract's configuration, SHA-256
/// alone, and the slowest messages.
fn floors(msgs: &[(String, RawMessage)], rounds: usize) {
    let parser = mail_parser::MessageParser::new()
        .with_mime_headers()
        .header_date(mail_parser::HeaderName::Date)
        .header_text(mail_parser::HeaderName::Subject)
        .header_address(mail_parser::HeaderName::From)
        .header_address(mail_parser::HeaderName::To)
        .header_id(mail_parser::HeaderName::MessageId)
        .default_header_ignore();
    let r = rate(msgs, rounds, |m| {
        std::hint::black_box(parser.parse(&m.bytes[..]));
    });
    println!("mail-parser alone: {r:.0} msgs per CPU second");
    let r = rate(msgs, rounds, |m| {
        use sha2::Digest;
        std::hint::black_box(sha2::Sha256::digest(&m.bytes[..]));
    });
    println!("SHA-256 alone: {r:.0} msgs per CPU second");
    let trust = TrustConfig::default();
    let mut ex = Extractor::new();
    let mut times: Vec<(f64, &str, usize)> = msgs
        .iter()
        .map(|(id, m)| {
            let t = Instant::now();
            let ctx = ExtractContext::new(&trust, SourceRef::new(id.as_str(), 0, 0), NOW);
            std::hint::black_box(ex.extract(&m.bytes, &ctx).ok());
            (t.elapsed().as_secs_f64(), id.as_str(), m.bytes.len())
        })
        .collect();
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = times.iter().map(|t| t.0).sum();
    println!("extract total {total:.3}s; slowest:");
    for (t, id, n) in times.iter().take(8) {
        println!("  {:.2} ms {n} bytes {id}", t * 1e3);
    }
}

/// The ingest time every message is extracted with.
const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);

fn main() {
    let Some(args) = parse_args() else {
        return;
    };
    let mut files = Vec::new();
    for p in &args.paths {
        walk(p, &mut files);
    }
    // Frame everything once (framing is timed separately).
    let (msgs, bytes, frame_secs) = frame_all(&files);
    if args.dump {
        dump(&msgs, args.full);
        return;
    }
    if std::env::var_os("MP_ONLY").is_some() {
        floors(&msgs, args.rounds);
        return;
    }
    let rounds = args.rounds;
    let trust = TrustConfig::default();
    let mut ex = Extractor::new();
    let msg_bytes: usize = msgs.iter().map(|(_, m)| m.bytes.len()).sum();
    let (mut ok, mut failed) = (0usize, 0usize);
    let t1 = Instant::now();
    let c1 = cpu_secs();
    for _ in 0..rounds {
        for (id, m) in &msgs {
            let ctx =
                ExtractContext::new(&trust, SourceRef::new(id.as_str(), m.offset, m.index), NOW);
            match ex.extract(&m.bytes, &ctx) {
                Ok(e) => {
                    ok += 1;
                    std::hint::black_box(e);
                }
                Err(_) => failed += 1,
            }
        }
    }
    let secs = t1.elapsed().as_secs_f64();
    let cpu = cpu_secs() - c1;
    let n = msgs.len() * rounds;
    println!(
        "files={} messages={} avg_size={} framing={:.0} MB/s extract: {} msgs in {:.3}s wall = {:.0} msgs/s, {:.1} MB/s; per CPU second {:.0} msgs/s (ok={} errors={})",
        files.len(),
        msgs.len(),
        msg_bytes / msgs.len().max(1),
        bytes as f64 / frame_secs / 1e6,
        n,
        secs,
        n as f64 / secs,
        (msg_bytes * rounds) as f64 / secs / 1e6,
        n as f64 / cpu.max(0.01),
        ok,
        failed
    );
}
