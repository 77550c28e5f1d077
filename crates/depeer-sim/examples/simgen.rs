//! Generates a scenario: `simgen NAME OUT [SEED] [SCALE] [gz|zst]` (development helper;
//! the user-facing command is `depeer sim`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let (Some(name), Some(out)) = (a.get(1), a.get(2)) else {
        return Err("usage: simgen NAME OUT [SEED] [SCALE] [gz|zst]".into());
    };
    let sc = depeer_sim::Scenario::load(name)?;
    let opts = depeer_sim::Options {
        seed: a.get(3).map_or(Ok(1), |s| s.parse())?,
        scale: a.get(4).map_or(Ok(1.0), |s| s.parse())?,
        gzip: a.get(5).is_some_and(|s| s == "gz"),
        zstd: a.get(5).is_some_and(|s| s == "zst"),
    };
    let t = std::time::Instant::now();
    let s = depeer_sim::generate(&sc, &opts, std::path::Path::new(out))?;
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
    Ok(())
}
