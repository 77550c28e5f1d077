//! `depeer sim`: generate a synthetic world (MRT, mbox, feeds, as2org,
//! truth) from a built-in scenario or a scenario file. See docs/sim.md.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// Flags of `depeer sim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Built-in scenario (mccolo-2008, intercage-2008, 3fn-2009, rustock-2011) or a TOML file.
    #[arg(long, default_value = "mccolo-2008")]
    pub scenario: String,
    /// Output directory (created; existing files with the same names are overwritten).
    #[arg(long, default_value = "sim-out")]
    pub out: PathBuf,
    /// Seed: the same seed and scenario give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// World size: 1.0 is a small demo world (a few thousand messages);
    /// about 2000 gives >= 10 million messages and a full-size table.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Gzip every output file.
    #[arg(long)]
    pub gzip: bool,
    /// Compress the mbox files and truth-messages.jsonl (the bulk of the
    /// output) with zstd, in the rendering threads (`.zst`); MRT, feeds and
    /// as2org stay plain, or gzip with --gzip. About 5x smaller, and the
    /// fastest way to write the full scale to a disk (see docs/sim.md).
    #[arg(long)]
    pub zstd: bool,
    /// Print the built-in scenario's TOML and exit (a starting point for your own).
    #[arg(long)]
    pub print_scenario: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `depeer sim`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    if args.print_scenario {
        let text = depeer_sim::builtin_text(&args.scenario).with_context(|| {
            format!(
                "{:?} is not a built-in scenario (built-in: {})",
                args.scenario,
                depeer_sim::builtin_names().join(", ")
            )
        })?;
        write!(std::io::stdout().lock(), "{text}")?;
        return Ok(());
    }
    let scenario = depeer_sim::Scenario::load(&args.scenario)?;
    let opts = depeer_sim::Options {
        seed: args.seed,
        scale: args.scale,
        gzip: args.gzip,
        zstd: args.zstd,
    };
    if !quiet {
        eprintln!(
            "depeer sim: {} (seed {}, scale {}) -> {}",
            scenario.name,
            args.seed,
            args.scale,
            args.out.display()
        );
    }
    let started = std::time::Instant::now();
    let s = depeer_sim::generate(&scenario, &opts, &args.out)
        .with_context(|| format!("simulating {}", scenario.name))?;
    let secs = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&s)?)?;
        return Ok(());
    }
    if !quiet {
        let bytes: u64 = s.files.iter().map(|f| f.1).sum();
        writeln!(
            out,
            "{} messages ({} deliberately malformed), {} ASes, {} IPv4 + {} IPv6 prefixes, {} BGP updates",
            s.messages, s.malformed, s.ases, s.prefixes_v4, s.prefixes_v6, s.bgp_updates
        )?;
        writeln!(
            out,
            "main event at {}: world spam {:+.1}% (24 h after vs 24 h before)",
            s.main_event_time,
            -100.0 * s.world_drop
        )?;
        writeln!(
            out,
            "{} files, {:.1} MB in {}, {:.1} s ({:.0} messages/s)",
            s.files.len(),
            bytes as f64 / 1e6,
            args.out.display(),
            secs,
            s.messages as f64 / secs.max(1e-9)
        )?;
        writeln!(
            out,
            "ground truth: {}",
            args.out.join("truth.json").display()
        )?;
    }
    Ok(())
}
