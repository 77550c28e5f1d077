//! Generates a scenario: `simgen NAME OUT [SEED] [SCALE] [gz|zst]` (development helper;
//! the user-facing command is `depeer sim`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let sc = depeer_sim::Scenario::load(&a[1]).expect("scenario");
    let opts = depeer_sim::Options {
        seed: a.get(3).map_or(1, |s| s.parse().expect("seed")),
        scale: a.get(4).map_or(1.0, |s| s.parse().expect("scale")),
        gzip: a.get(5).is_some_and(|s| s == "gz"),
        zstd: a.get(5).is_some_and(|s| s == "zst"),
    };
    let t = std::time::Instant::now();
    let s = depeer_sim::generate(&sc, &opts, std::path::Path::new(&a[2])).expect("generate");
    let el = t.elapsed().as_secs_f64();
    println!(
        "{} messages, {} ASes, {} v4, {} v6, {} updates, drop {:.3} in {el:.2}s ({:.0} msg/s)",
        s.messages,
        s.ases,
        s.prefixes_v4,
        s.prefixes_v6,
        s.bgp_updates,
        s.world_drop,
        s.messages as f64 / el
    );
}
