//! Batch volume-event detection over many year-long minute series.
//!
//! ```sh
//! cargo run --release --example volume_bench -- [--keys 10000] [--days 365] [--threads 2] [--distinct 16]
//! ```
//!
//! `--distinct` different series are generated first (counts per minute:
//! Poisson around a rate with an hour-of-day profile, each with its own
//! rate from 0.02 to 50 a minute and, for half of them, a drop or a rise
//! at a random minute); then `--keys` detections run over them, round
//! robin, on `--threads` threads. Prints the detection wall time (the
//! generation is not timed), points per second and events found. Used by
//! scripts/bench/events.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Instant;

use depeer_analysis::{VolumeParams, volume_events};

/// xorshift64*: a few instructions per draw, enough for test counts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Poisson by inversion under 30, normal approximation above.
    fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda < 30.0 {
            let (mut k, mut p, l) = (0.0, 1.0, (-lambda).exp());
            loop {
                p *= self.next();
                if p <= l {
                    return k;
                }
                k += 1.0;
            }
        }
        let (u1, u2) = (self.next().max(1e-12), self.next());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (lambda + z * lambda.sqrt()).round().max(0.0)
    }
}

fn series(k: usize, minutes: usize) -> Vec<f64> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (k as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    let rate = 0.02 * (2500.0f64).powf(rng.next());
    let change = k.is_multiple_of(2).then(|| {
        (
            (rng.next() * minutes as f64) as usize,
            0.2 + 1.5 * rng.next(),
        )
    });
    (0..minutes)
        .map(|i| {
            let hour = (i / 60) % 24;
            let diurnal = 0.6
                + 0.8
                    * ((hour as f64 - 6.0) / 24.0 * std::f64::consts::TAU)
                        .sin()
                        .max(0.0);
            let level = match change {
                Some((at, f)) if i >= at => f,
                _ => 1.0,
            };
            rng.poisson(rate * diurnal * level)
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut keys, mut days, mut threads, mut distinct) = (10_000usize, 365usize, 2usize, 16usize);
    while let Some(a) = args.next() {
        let v: usize = args
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number after each flag");
        match a.as_str() {
            "--keys" => keys = v,
            "--days" => days = v,
            "--threads" => threads = v.max(1),
            "--distinct" => distinct = v.max(1),
            _ => panic!("unknown flag {a}"),
        }
    }
    let minutes = days * 1440;
    let data: Vec<Vec<f64>> = (0..distinct).map(|k| series(k, minutes)).collect();
    let params = VolumeParams::default();
    let start = 1_199_145_600; // 2008-01-01T00:00:00Z
    let t0 = Instant::now();
    let events: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (data, params) = (&data, &params);
                s.spawn(move || {
                    (t..keys)
                        .step_by(threads)
                        .map(|k| volume_events(&data[k % data.len()], start, params).len())
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let secs = t0.elapsed().as_secs_f64();
    let points = keys as f64 * minutes as f64;
    println!(
        "{{\"keys\":{keys},\"days\":{days},\"threads\":{threads},\"distinct\":{distinct},\"points\":{points},\"seconds\":{secs:.3},\"points_per_second\":{:.0},\"events\":{events}}}",
        points / secs
    );
}
