//! Volume events of a count series in a CSV file, as JSON lines.
//!
//! ```sh
//! cargo run --release --example volume_events -- FILE [--column value] [--start UNIX] [--step SECONDS]
//! ```
//!
//! One line per event: `{"index","low","high","time","magnitude","low_magnitude",
//! "high_magnitude","confidence","kind"}` (`time` = start + index·step).
//! Used by scripts/score/events to score the detector on simulated worlds
//! before `depeer events` reads the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use depeer_analysis::{VolumeParams, read_series, volume_events};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut file, mut column, mut start, mut step) = (None, "value".to_string(), 0i64, 60i64);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--column" => column = args.next().expect("--column NAME"),
            "--start" => start = args.next().and_then(|v| v.parse().ok()).expect("--start UNIX"),
            "--step" => step = args.next().and_then(|v| v.parse().ok()).expect("--step SECONDS"),
            _ => file = Some(a),
        }
    }
    let file = file.expect("usage: volume_events FILE [--column NAME] [--start UNIX] [--step S]");
    let series = read_series(std::fs::File::open(&file).expect("open"), &column).expect("read");
    let counts: Vec<f64> = series.values.iter().map(|v| v.unwrap_or(0.0)).collect();
    let params = VolumeParams { step, ..VolumeParams::default() };
    let t0 = std::time::Instant::now();
    let events = volume_events(&counts, start, &params);
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
    eprintln!("{} points, {} events, {:.3} ms", counts.len(), events.len(), secs * 1e3);
}
