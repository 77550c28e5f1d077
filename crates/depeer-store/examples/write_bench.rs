//! Write/read throughput of the store on realistic rows.
//!
//! `cargo run --release -p depeer-store --example write_bench -- [N] [DIR]`
//! (default 200,000 messages of ~6 KB in a temporary directory).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use depeer_core::{ArrivalSource, Asn, MessageObs, RouteObs, SourceRef, Timestamp, UrlObs};
use depeer_store::{AddOutcome, Store, compress_raw};
use sha2::{Digest, Sha256};

const WORDS: &[&str] = &[
    "viagra",
    "cheap",
    "pharmacy",
    "online",
    "best",
    "price",
    "order",
    "now",
    "discount",
    "replica",
    "watches",
    "rolex",
    "the",
    "and",
    "you",
    "your",
    "offer",
    "limited",
    "time",
    "click",
    "here",
    "http://",
    "www",
    "meds",
    "quality",
    "shipping",
    "worldwide",
    "secure",
];

fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn message(i: u64) -> Vec<u8> {
    let mut s = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut m = format!(
        "Return-Path: <u{i}@bulk{}.example>\nReceived: from host{} ([10.{}.{}.{}]) by trap.example.org \
         (Postfix) with SMTP id {i:X}; Tue, 11 Nov 2008 21:30:00 +0000\nFrom: \"Shop\" <s{i}@shop.example>\n\
         To: trap{}@example.org\nSubject: offer {i}\nMessage-ID: <{i}.{}@bulk.example>\n\
         Date: Tue, 11 Nov 2008 21:29:58 +0000\nMIME-Version: 1.0\nContent-Type: text/html\n\n",
        rng(&mut s) % 100,
        rng(&mut s) % 10000,
        rng(&mut s) % 256,
        rng(&mut s) % 256,
        rng(&mut s) % 256,
        rng(&mut s) % 1000,
        rng(&mut s)
    );
    let target = 4000 + (rng(&mut s) % 4000) as usize;
    while m.len() < target {
        let w = WORDS[(rng(&mut s) % WORDS.len() as u64) as usize];
        m.push_str(w);
        m.push(if rng(&mut s).is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
        if rng(&mut s).is_multiple_of(50) {
            m.push_str(&format!(
                "http://site{}.example/p?{} ",
                rng(&mut s) % 500,
                rng(&mut s)
            ));
        }
    }
    m.into_bytes()
}

fn row(i: u64, raw: &[u8]) -> (MessageObs, Vec<UrlObs>) {
    let sha: [u8; 32] = Sha256::digest(raw).into();
    let t = Timestamp::from_secs(1_226_439_000 + (i as i64 % 86_400));
    let msg = MessageObs {
        sha256: sha,
        arrival_time: t,
        arrival_source: ArrivalSource::Received,
        relay_ip: Some(
            format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 199)
                .parse()
                .unwrap(),
        ),
        relay_helo: Some(format!("host{}", i % 10000)),
        relay_rdns: Some(format!("host{}.dsl.example.net", i % 10000)),
        envelope_from: Some(format!("u{i}@bulk{}.example", i % 100)),
        from_addr: Some(format!("s{i}@shop.example")),
        to_addr: Some(format!("trap{}@example.org", i % 1000)),
        subject: Some(format!("offer {i} limited time only")),
        message_id: Some(format!("{i}.{}@bulk.example", i * 31)),
        date_header: Some(t),
        size: raw.len() as u64,
        fingerprint: format!("{:032x}", u128::from(i) * 0x1234_5678_9abc),
        url_count: 3,
        source: SourceRef::new("spam/bench.mbox", i * 6000, i),
    };
    let urls = (0..3)
        .map(|k| UrlObs {
            sha256: sha,
            url: format!("http://site{}.example/p?{i}", (i + k) % 500),
            host: format!("site{}.example", (i + k) % 500),
            registrable_domain: Some(format!("site{}.example", (i + k) % 500)),
        })
        .collect();
    (msg, urls)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = args
        .next()
        .map_or_else(|| tmp.path().to_path_buf(), Into::into);

    let distinct = 20_000u64.min(n);
    let raws: Vec<Vec<u8>> = (0..distinct).map(message).collect();
    let raw_bytes: usize = raws.iter().map(Vec::len).sum();
    println!(
        "{} distinct synthetic messages, mean {} bytes",
        distinct,
        raw_bytes / distinct as usize
    );
    for level in [-5, -3, -1, 1, 2, 3] {
        let t = Instant::now();
        let mut out = 0usize;
        for r in &raws {
            out += zstd::bulk::compress(r, level).unwrap().len();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "zstd level {level} (new context per call): {:.0} msgs/s/core, {:.0} MB/s, ratio {:.2}",
            distinct as f64 / s,
            raw_bytes as f64 / s / 1e6,
            raw_bytes as f64 / out as f64
        );
    }
    let t = Instant::now();
    let frames: Vec<Vec<u8>> = raws.iter().map(|r| compress_raw(r)).collect();
    let s = t.elapsed().as_secs_f64();
    let comp: usize = frames.iter().map(Vec::len).sum();
    println!(
        "compress_raw (level {}): {:.0} msgs/s/core, {:.0} MB/s, ratio {:.2}",
        depeer_store::RAW_ZSTD_LEVEL,
        distinct as f64 / s,
        raw_bytes as f64 / s / 1e6,
        raw_bytes as f64 / comp as f64
    );

    // Rows are built before timing (the parser's job); distinct hashes by
    // salting the sha with i.
    let mut rows: Vec<(MessageObs, Vec<UrlObs>, Vec<u8>)> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let k = (i % distinct) as usize;
        let (mut m, mut u) = row(i, &raws[k]);
        m.sha256 = Sha256::digest([&m.sha256[..], &i.to_le_bytes()].concat()).into();
        for x in &mut u {
            x.sha256 = m.sha256;
        }
        rows.push((m, u, frames[k].clone()));
    }
    let store = Store::open(&dir).unwrap();
    let t = Instant::now();
    let mut w = store.message_writer();
    let mut stored = 0;
    for (m, u, f) in rows.drain(..) {
        if w.add(m, u, f).unwrap() == AddOutcome::Stored {
            stored += 1;
        }
    }
    w.finish().unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "add+commit: {stored} messages in {s:.2} s = {:.0} msgs/s ({:.0} MB/s of raw mail)",
        stored as f64 / s,
        (raw_bytes as f64 / distinct as f64) * stored as f64 / s / 1e6
    );
    drop(store);
    let t = Instant::now();
    let store = Store::open(&dir).unwrap();
    println!(
        "reopen (load {} message hashes for dedup): {:.3} s",
        store.message_count(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let b = depeer_store::sql(
        &dir,
        "SELECT count(*), count(DISTINCT sha256) FROM messages",
    )
    .unwrap();
    println!(
        "sql count(*), count(DISTINCT sha256): {:.3} s ({} rows)",
        t.elapsed().as_secs_f64(),
        b[0].num_rows()
    );

    let routes: Vec<RouteObs> = (0..1_000_000u32)
        .map(|i| RouteObs {
            prefix: format!("{}.{}.{}.0/24", 1 + i / 65536 % 200, i / 256 % 256, i % 256)
                .parse()
                .unwrap(),
            origin_asn: Asn(i % 70_000 + 1),
            first_seen: Timestamp::from_secs(1_226_000_000 + i64::from(i)),
            last_seen: Timestamp::from_secs(1_227_000_000 + i64::from(i)),
            peer_count: i % 40,
            collector: ["route-views2", "rrc00", "rrc01"][(i % 3) as usize].into(),
        })
        .collect();
    let t = Instant::now();
    store.append_routes(&routes).unwrap();
    println!(
        "append_routes 1,000,000: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let back = store.read_routes().unwrap();
    println!(
        "read_routes {}: {:.3} s",
        back.len(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(back.len(), routes.len());
}
