//! `depeer detect`: change points of one numeric CSV column, with the
//! detector's default parameters (depeer-analysis; method and measurements
//! in docs/detect.md).
//!
//! Output: JSON `{"n": N, "change_points": [i, ...]}` (`i`: the 0-based
//! data row at which a new segment starts) with `--json`; otherwise a table
//! of the segments for people.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_analysis::{Detection, Params, Series, detect, read_series};

/// Flags of `depeer detect`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer detect --csv spam_per_hour.csv
  depeer detect --csv series.csv.gz --column count --json
  some-producer | depeer detect --csv -")]
pub struct Args {
    /// The CSV file (header line first; `-`: stdin; gzip/bzip2/xz/zstd are
    /// read transparently). Empty cells are missing values.
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The column holding the values; other columns are ignored.
    #[arg(long, value_name = "NAME", default_value = "value")]
    pub column: String,
    /// JSON on stdout: {"n": N, "change_points": [i, ...]}.
    #[arg(long)]
    pub json: bool,
}

/// The JSON answer.
#[derive(Debug, serde::Serialize)]
struct Answer<'a> {
    n: usize,
    change_points: &'a [usize],
}

/// Runs `depeer detect`, printing to stdout.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_to(args, &mut out)
}

/// Runs `depeer detect`, printing to `out` (what a test calls).
pub fn run_to(args: &Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let series = read(args)?;
    let found = detect(&series.values, &Params::default());
    if args.json {
        serde_json::to_writer(
            &mut *out,
            &Answer {
                n: found.n,
                change_points: &found.change_points,
            },
        )
        .context("writing the answer")?;
        writeln!(out).context("writing the answer")?;
    } else {
        write_table(&series, &found, out).context("writing the answer")?;
    }
    out.flush().context("writing the answer")?;
    Ok(())
}

fn read(args: &Args) -> anyhow::Result<Series> {
    let name = args.csv.display();
    let input: Box<dyn std::io::Read + Send> = if args.csv.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.csv).with_context(|| format!("opening {name}"))?)
    };
    let decoded = depeer_io::open_decoded(input, depeer_io::Limits::default())
        .with_context(|| format!("reading {name}"))?;
    read_series(decoded.reader, &args.column).with_context(|| format!("reading {name}"))
}

/// One line per segment: where it starts and ends, how many values it has
/// and their median, so a person sees what changed and by how much.
fn write_table(series: &Series, found: &Detection, out: &mut dyn Write) -> std::io::Result<()> {
    let missing = series.values.iter().filter(|v| v.is_none()).count();
    writeln!(
        out,
        "{} rows ({} missing), column {:?}: {} change point{}",
        found.n,
        missing,
        series.column,
        found.change_points.len(),
        if found.change_points.len() == 1 {
            ""
        } else {
            "s"
        }
    )?;
    writeln!(
        out,
        "{:>10} {:>10} {:>8} {:>14}",
        "start", "end", "values", "median"
    )?;
    let mut bounds = vec![0];
    bounds.extend(&found.change_points);
    bounds.push(found.n);
    for w in bounds.windows(2) {
        let &[start, end] = <&[usize; 2]>::try_from(w).unwrap_or(&[0, 0]);
        let mut vals: Vec<f64> = series
            .values
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .flatten()
            .copied()
            .collect();
        vals.sort_by(f64::total_cmp);
        let median = match vals.len() {
            0 => "-".to_string(),
            k if k % 2 == 1 => number(vals.get(k / 2).copied().unwrap_or(f64::NAN)),
            k => {
                let a = vals.get(k / 2 - 1).copied().unwrap_or(f64::NAN);
                let b = vals.get(k / 2).copied().unwrap_or(f64::NAN);
                number((a + b) / 2.0)
            }
        };
        writeln!(
            out,
            "{start:>10} {:>10} {:>8} {median:>14}",
            end.saturating_sub(1),
            vals.len()
        )?;
    }
    Ok(())
}

/// At most six decimals, trailing zeros dropped (8.158, not 8.158000000000001).
fn number(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}
