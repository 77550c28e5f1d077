//! In-process timings for scripts/bench/dnsbl, without the network: the
//! rebuild of an ip4set zone (what a reload costs) and the answer path
//! (parse, answer, encode) over a dnsperf query file.
//!
//! ```text
//! dnsbl_time ZONEFILE [QUERYFILE]
//! ```
//!
//! Prints `rebuild: N entries in S s (best of 3)` and, with a query file
//! (`NAME TYPE` per line, as dnsperf reads it), `answer: N queries, X ns
//! per query (best of 3), A answered, F FORMERR`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

/// CPU time of this thread in seconds (the first field of
/// /proc/thread-self/schedstat, in ns): robust to other processes
/// competing for the CPUs, as wall-clock time is not.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

use depeer_dnsbl::{Handled, LoadOptions, Transport, ZoneSpec, Zones, handle, warm};

/// A query packet for `name` (dotted) and `qtype`: ID, RD, one question.
fn packet(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let labels = name
        .trim_end_matches('.')
        .split('.')
        .flat_map(|l| std::iter::once(l.len() as u8).chain(l.bytes()));
    id.to_be_bytes()
        .into_iter()
        .chain([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        .chain(labels)
        .chain([0])
        .chain(qtype.to_be_bytes())
        .chain([0, 1])
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let zone = args
        .first()
        .expect("usage: dnsbl_time ZONEFILE [QUERYFILE]");
    let spec = ZoneSpec::parse(&format!("@=ip4set:{zone}"), "bl.depeer.test").unwrap();
    let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
    let mut zones = Zones::default();
    for _ in 0..3 {
        drop(zones);
        let (t, c) = (Instant::now(), cpu_seconds());
        zones = Zones::load(std::slice::from_ref(&spec), &LoadOptions::default()).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - c);
    }
    let ds = &zones.zones()[0].datasets()[0];
    println!(
        "rebuild: {} entries in {best:.3} s, {best_cpu:.3} CPU-s (best of 3); {} intervals, {:.1} MB of lookup data",
        ds.entries(),
        ds.size(),
        ds.heap_bytes() as f64 / 1e6
    );
    let Some(qfile) = args.get(1) else { return };
    let text = std::fs::read_to_string(qfile).unwrap();
    let packets: Vec<Vec<u8>> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let (name, t) = l.split_once(' ')?;
            let qtype = match t {
                "A" => 1,
                "TXT" => 16,
                "ANY" => 255,
                _ => 28,
            };
            Some(packet(i as u16, name, qtype))
        })
        .collect();
    let mut out = Vec::with_capacity(1500);
    let mut best = f64::MAX;
    let (mut answered, mut formerr) = (0u64, 0u64);
    for _ in 0..3 {
        (answered, formerr) = (0, 0);
        let c = cpu_seconds();
        for p in &packets {
            match handle(&zones, p, Transport::Udp, &mut out) {
                Handled::Answered(_) => answered += 1,
                Handled::FormErr => formerr += 1,
                Handled::Dropped => {}
            }
        }
        best = best.min(cpu_seconds() - c);
    }
    println!(
        "answer: {} queries, {:.0} CPU-ns per query (best of 3), {answered} answered, {formerr} FORMERR",
        packets.len(),
        best * 1e9 / packets.len().max(1) as f64
    );
    // As the UDP server does: batches of 32, their lookups warmed first.
    let mut best_warm = f64::MAX;
    for _ in 0..3 {
        let c = cpu_seconds();
        for chunk in packets.chunks(32) {
            warm(&zones, chunk.iter().map(Vec::as_slice));
            for p in chunk {
                handle(&zones, p, Transport::Udp, &mut out);
            }
        }
        best_warm = best_warm.min(cpu_seconds() - c);
    }
    println!(
        "answer in batches of 32, lookups warmed first (as the UDP server): {:.0} CPU-ns per query (best of 3)",
        best_warm * 1e9 / packets.len().max(1) as f64
    );
}
