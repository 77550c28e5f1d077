//! `depeer backtest`: for every detected drop of the spam with a routing
//! cause (`depeer events`), the what-if of cutting its causes' ASes made a
//! minute before it with only the data known then, beside the drop
//! observed. The work is `depeer_ingest::whatif::backtest`
//! (docs/whatif.md); this module parses flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::whatif::BacktestReport;

const AFTER: &str = "\
Drops are those of `depeer events` (run `depeer attribute` first for their
causes); each prediction uses only data from before the drop, so the
families' responses are learned from the cuts before it alone.

Examples:
  depeer backtest
  depeer backtest --json";

/// Flags of `depeer backtest`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer backtest`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let report = depeer_ingest::whatif::backtest(&args.data)?;
    crate::output::print_summary(args.json, false, &report, |out| print_table(&report, out))
}

fn print_table(r: &BacktestReport, out: &mut dyn Write) -> std::io::Result<()> {
    if r.backtests.is_empty() {
        return writeln!(
            out,
            "no detected drop with a routing cause (depeer events; run depeer attribute first)"
        );
    }
    writeln!(
        out,
        "{:<21} {:<24} {:>9} {:>15} {:>8} {:>6}",
        "DROP AT", "CUT", "PREDICTED", "INTERVAL", "OBSERVED", "ERROR"
    )?;
    for b in &r.backtests {
        let cut: Vec<String> = b.cut.iter().map(|a| format!("AS{a}")).collect();
        writeln!(
            out,
            "{:<21} {:<24} {:>8.1}% {:>6.1}%-{:>5.1}% {:>7.1}% {:>5.1}",
            b.event_time,
            cut.join(","),
            100.0 * b.predicted_drop,
            100.0 * b.low,
            100.0 * b.high,
            100.0 * b.observed_drop,
            100.0 * (b.predicted_drop - b.observed_drop).abs()
        )?;
    }
    Ok(())
}
