//! Volume events of a count series in a CSV file, as JSON lines.
//!
//! ```sh
//! cargo run --release --example volume_events -- FILE [--column value] [--parts A,B,...]
//!     [--start UNIX] [--step SECONDS]
//! ```
//!
//! `--parts`: columns whose sum is the total (per botnet, say), used to
//! place each event in time (`volume_events_in_parts`).
//!
//! One line per event: `{"index","low","high","time","magnitude","low_magnitude",
//! "high_magnitude","confidence","kind"}` (`time` = start + index·step).
//! Used by scripts/score/events to score the detector on simulated worlds
//! before `depeer events` reads the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use depeer_analysis::{VolumeParams, parse_series, volume_events_in_parts};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut file, mut column, mut start, mut step) = (None, "value".to_string(), 0i64, 60i64);
    let mut part_names: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--column" => column = args.next().expect("--column NAME"),
            "--start" => {
                start = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--start UNIX")
            }
            "--parts" => {
                part_names = args
                    .next()
                    .expect("--parts A,B")
                    .split(',')
                    .map(String::from)
                    .collect();
            }
            "--step" => {
                step = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--step SECONDS")
            }
            _ => file = Some(a),
        }
    }
    let file = file.expect("usage: volume_events FILE [--column NAME] [--start UNIX] [--step S]");
    let bytes = std::fs::read(&file).expect("read");
    let column_of = |name: &str| -> Vec<f64> {
        let series = parse_series(&bytes, name).expect("parse");
        series.values.iter().map(|v| v.unwrap_or(0.0)).collect()
    };
    let counts = column_of(&column);
    let parts: Vec<Vec<f64>> = part_names.iter().map(|n| column_of(n)).collect();
    let params = VolumeParams {
        step,
        ..VolumeParams::default()
    };
    let t0 = std::time::Instant::now();
    let events = volume_events_in_parts(&counts, &parts, start, &params);
    let secs = t0.elapsed().as_secs_f64();
    let to_time = |i: usize| start + i64::try_from(i).unwrap() * step;
    for e in &events {
        println!(
            "{{\"index\":{},\"low\":{},\"high\":{},\"time\":{},\"time_low\":{},\"time_high\":{},\"magnitude\":{:.6},\"magnitude_low\":{:.6},\"magnitude_high\":{:.6},\"confidence\":{:.4},\"kind\":\"{}\"}}",
            e.index,
            e.low,
            e.high,
            to_time(e.index),
            to_time(e.low),
            to_time(e.high),
            e.magnitude,
            e.magnitude_low,
            e.magnitude_high,
            e.confidence,
            e.direction.as_str()
        );
    }
    eprintln!(
        "{} points, {} events, {:.3} ms",
        counts.len(),
        events.len(),
        secs * 1e3
    );
}
