//! Lookup throughput of the Poptrie index on a pyasn table (used by
//! scripts/bench/route): builds the table, then times single-threaded bulk
//! lookups of pseudo-random IPv4 addresses and prints figures as
//! `key=value` lines.
//!
//! Usage: `lpm_bench TABLE.dat[.gz] [N_LOOKUPS]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::Read;
use std::time::Instant;

use depeer_core::Timestamp;
use depeer_core::test_support::xorshift_u32s;
use depeer_routing::{NO_ROUTE, RouteTable, read_ipasn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: lpm_bench TABLE [N]")?;
    let n: usize = args.get(1).map_or(Ok(50_000_000), |s| s.parse())?;
    let mut text = Vec::new();
    depeer_io::open_decoded(std::fs::File::open(path)?, depeer_io::Limits::default())?
        .reader
        .read_to_end(&mut text)?;
    let t0 = Instant::now();
    let table = read_ipasn(&text[..], path)?;
    let rows = table.routes_at(Timestamp(0), "");
    let parsed = t0.elapsed();
    let t1 = Instant::now();
    let rt = RouteTable::from_routes(&rows, None);
    let built = t1.elapsed();
    let (b4, b6) = rt.index_bytes();
    println!("prefixes={}", rt.entries().len());
    println!("parse_seconds={:.3}", parsed.as_secs_f64());
    println!("build_seconds={:.3}", built.as_secs_f64());
    println!("index_bytes_v4={b4}");
    println!("index_bytes_v6={b6}");
    // xorshift addresses, generated before timing.
    let addrs = xorshift_u32s(0x9e37_79b9_7f4a_7c15, 1 << 20);
    let mut out = vec![0u32; addrs.len()];
    let mut hits = 0u64;
    let rounds = n.div_ceil(addrs.len());
    let t2 = Instant::now();
    for _ in 0..rounds {
        rt.lookup_v4_many(&addrs, &mut out);
        hits += out.iter().filter(|&&x| x != NO_ROUTE).count() as u64;
    }
    let secs = t2.elapsed().as_secs_f64();
    let total = (rounds * addrs.len()) as f64;
    println!("lookups={}", total as u64);
    println!("hit_ratio={:.3}", hits as f64 / total);
    println!("lookups_per_second={:.0}", total / secs);
    // Baseline ("before"): one hash map per prefix length, longest first,
    // the obvious structure without a hand-written trie.
    let mut by_len: Vec<HashMap<u32, u32>> = vec![HashMap::new(); 33];
    for (i, e) in rt.entries().iter().enumerate() {
        if let depeer_core::Prefix::V4(n) = e.prefix
            && let Some(m) = by_len.get_mut(usize::from(n.prefix_len()))
        {
            m.insert(u32::from(n.network()), i as u32);
        }
    }
    let lens: Vec<usize> = (0..=32)
        .rev()
        .filter(|&l| by_len.get(l).is_some_and(|m| !m.is_empty()))
        .collect();
    let t3 = Instant::now();
    let mut agree = 0u64;
    for (a, want) in addrs.iter().zip(out.iter()) {
        let mut got = NO_ROUTE;
        for &l in &lens {
            let mask = if l == 0 { 0 } else { u32::MAX << (32 - l) };
            if let Some(v) = by_len.get(l).and_then(|m| m.get(&(a & mask))) {
                got = *v;
                break;
            }
        }
        agree += u64::from(got == *want);
    }
    let base_secs = t3.elapsed().as_secs_f64();
    println!(
        "baseline_hash_per_length_lookups_per_second={:.0}",
        addrs.len() as f64 / base_secs
    );
    println!("baseline_agrees={}", agree == addrs.len() as u64);
    Ok(())
}
