//! Feed ingest throughput: writes a generated feed of N lines (default 5 M)
//! in one layout, then reads it back single-threaded through
//! [`depeer_intel::read_feed`] from the (page-cached) file, computing each
//! entry's dedup key as the store will, and prints lines/s.
//!
//! ```text
//! cargo run --release -p depeer-intel --example feed_throughput -- \
//!     [--lines N] [--format depeer|feodo-csv|urlhaus-csv|cof] [--rounds R] [--keep FILE]
//! ```
//! `--keep FILE` keeps the generated feed (and reuses it when it exists).
//! Every tenth C&C row uses a family alias (`Trojan.Srizbi`, `RUSTOCK`) and
//! one row in 10,000 is malformed, so canonical naming and the error path are
//! in the figure.
// The generator picks from fixed tables by `x % len`.
#![allow(clippy::indexing_slicing)]

use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

use depeer_core::Timestamp;
use depeer_intel::{FeedOptions, Format, read_feed};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FAMILIES: [&str; 8] = [
    "srizbi",
    "Trojan.Srizbi",
    "rustock",
    "RUSTOCK",
    "megad",
    "cutwail",
    "storm",
    "Win32/Pushdo.B",
];

fn iso(secs: i64) -> String {
    Timestamp::from_secs(secs).to_rfc3339()
}

fn generate(path: &std::path::Path, format: Format, lines: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let base = 1_220_000_000i64;
    match format {
        Format::Depeer => writeln!(w, "ip,port,family,first_seen,last_seen")?,
        Format::FeodoCsv => {
            writeln!(
                w,
                "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)\n#"
            )?;
            writeln!(
                w,
                "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\""
            )?;
        }
        Format::UrlhausCsv => writeln!(
            w,
            "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"
        )?,
        _ => {}
    }
    for i in 0..lines {
        let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 29;
        let ip = format!(
            "{}.{}.{}.{}",
            1 + (x >> 8) % 222,
            (x >> 16) % 256,
            (x >> 24) % 256,
            1 + x % 254
        );
        let first = base + (x % 10_000_000) as i64;
        let last = first + (x % 500_000) as i64;
        let fam = FAMILIES[(x % 8) as usize];
        let port = [80, 443, 8080, 6667][(x % 4) as usize];
        if i % 10_000 == 9_999 {
            writeln!(w, "not,a,valid,row")?;
            continue;
        }
        match format {
            Format::Depeer => writeln!(w, "{ip},{port},{fam},{},{}", iso(first), iso(last)),
            Format::FeodoCsv => {
                let f = Timestamp::from_secs(first)
                    .to_rfc3339()
                    .replace('T', " ")
                    .replace('Z', "");
                writeln!(
                    w,
                    "\"{f}\",\"{ip}\",\"{port}\",\"online\",\"{}\",\"{fam}\"",
                    Timestamp::from_secs(last).day()
                )
            }
            Format::UrlhausCsv => writeln!(
                w,
                "\"{i}\",\"{}\",\"http://{ip}/p/{x:x}.exe\",\"online\",\"\",\"malware_download\",\"exe\",\"https://urlhaus.abuse.ch/url/{i}/\",\"r\"",
                Timestamp::from_secs(first)
                    .to_rfc3339()
                    .replace('T', " ")
                    .replace('Z', "")
            ),
            Format::Cof => writeln!(
                w,
                "{{\"count\": 1, \"time_first\": {first}, \"rrtype\": \"A\", \"rrname\": \"h{x:x}.example.com\", \"rdata\": \"{ip}\", \"time_last\": {last}}}"
            ),
            f => return Err(std::io::Error::other(format!("no generator for {f}"))),
        }?;
    }
    w.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lines: u64 = 5_000_000;
    let mut format = Format::Depeer;
    let mut rounds = 3;
    let mut keep: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => lines = value(&mut args, &a)?.replace('_', "").parse()?,
            "--format" => format = value(&mut args, &a)?.parse()?,
            "--rounds" => rounds = value(&mut args, &a)?.parse()?,
            "--keep" => keep = Some(value(&mut args, &a)?.into()),
            o => return Err(format!("unknown argument {o}").into()),
        }
    }
    let path = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("depeer-feed-bench-{}.txt", std::process::id()))
    });
    let t = Instant::now();
    // `--keep FILE` of an existing file reads it again without regenerating.
    if !(keep.is_some() && path.exists()) {
        generate(&path, format, lines)?;
    }
    let size = std::fs::metadata(&path)?.len();
    eprintln!(
        "generated {lines} lines ({:.1} MB) of {format} in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    for round in 1..=rounds {
        let f = std::fs::File::open(&path)?;
        let mut o = FeedOptions::new(
            path.display().to_string(),
            Timestamp::from_secs(1_800_000_000),
        );
        o.format = Some(format);
        let t = Instant::now();
        let mut r = read_feed(BufReader::with_capacity(1 << 18, f), o);
        let mut keys = 0u64;
        let mut xor = [0u8; 16];
        for e in r.by_ref().flatten() {
            let k = e.dedup_key();
            xor.iter_mut().zip(k).for_each(|(a, b)| *a ^= b);
            keys += 1;
        }
        let s = t.elapsed().as_secs_f64();
        let st = r.stats();
        println!(
            "round {round}: {format}: {} lines, {} entries, {} errors in {s:.3} s = {:.0} lines/s ({:.0} MB/s); key xor {:02x}{:02x}",
            st.lines,
            keys,
            st.errors,
            st.lines as f64 / s,
            size as f64 / 1e6 / s,
            xor[0],
            xor[1]
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

/// The value after option `name`.
fn value(args: &mut impl Iterator<Item = String>, name: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{name} needs a value"))
}
