//! Online volume-event detection (`depeer events --follow`) throughput:
//! messages pushed through `OnlineVolume` with a detection run at every
//! completed hour, as the follower does.
//!
//! ```sh
//! cargo run --release -p depeer-analysis --example volume_online_bench -- [--messages 20000000] [--days 30] [--parts 10]
//! ```
//!
//! The stream is generated first (not timed): `--messages` arrival times
//! spread over `--days` days with an hour-of-day swing, in `--parts`
//! botnets, the first half of which stop a third of the way through (a
//! depeering); then every message is pushed and `poll` called after each,
//! and the wall time of that is printed as JSON with messages per second
//! and the events confirmed (with the drop's delay after its time).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Instant;

use depeer_analysis::{OnlineParams, OnlineVolume};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    let messages = arg("--messages", 20_000_000);
    let days = arg("--days", 30).max(3) as i64;
    let parts = arg("--parts", 10).max(2) as usize;
    let names: Vec<String> = (0..parts).map(|k| format!("botnet{k}")).collect();
    let start = 1_226_016_000i64; // 2008-11-07T00:00Z
    let span = days * 86_400;
    let cut = start + span / 3 + 13 * 3600 + 17 * 60;
    // Arrival times: uniform in time, thinned by the hour-of-day swing
    // and by the cut for the first half of the parts.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut stream: Vec<(i64, u16)> = Vec::with_capacity(messages as usize);
    while (stream.len() as u64) < messages {
        let r = next();
        let t = start + (r % span as u64) as i64;
        let part = (next() % parts as u64) as u16;
        let hour = (t.rem_euclid(86_400) / 3600) as f64;
        let swing = 1.0 + 0.3 * (hour / 24.0 * std::f64::consts::TAU).sin();
        let keep = (next() >> 11) as f64 / (1u64 << 53) as f64 <= swing / 1.3;
        if keep && !(t >= cut && (part as usize) < parts / 2) {
            stream.push((t, part));
        }
    }
    stream.sort_unstable();

    let mut online = OnlineVolume::new(OnlineParams::default());
    let mut confirmed = Vec::new();
    let t0 = Instant::now();
    for &(t, part) in &stream {
        online.push(t, Some(names[part as usize].as_str()));
        confirmed.extend(online.poll());
    }
    let seconds = t0.elapsed().as_secs_f64();
    let drop = confirmed
        .iter()
        .filter(|c| c.event.magnitude < 0.0)
        .min_by_key(|c| (c.time - cut).abs());
    println!(
        "{{\"messages\":{},\"days\":{days},\"parts\":{parts},\"seconds\":{seconds:.4},\"messages_per_second\":{:.0},\"events\":{},\"drop_time_error_s\":{},\"drop_delay_s\":{},\"drop_magnitude\":{}}}",
        stream.len(),
        stream.len() as f64 / seconds,
        confirmed.len(),
        drop.map_or("null".to_string(), |d| (d.time - cut).to_string()),
        drop.map_or("null".to_string(), |d| d.delay().to_string()),
        drop.map_or("null".to_string(), |d| format!("{:.3}", d.event.magnitude)),
    );
}
