//! `depeer report`: one self-contained HTML file with the spam rate and
//! its events, botnet shares, the rogue-network ranking, the dependency
//! graph and what-if/backtest. The content is
//! `depeer_ingest::report::gather`, the page `depeer_web::report`; this
//! module parses flags and prints what was written.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::report::ReportOptions;
use depeer_web::report::Written;

const AFTER: &str = "\
The file holds everything it shows (uPlot, styles, data): it opens from
disk in any browser without a network connection. The time charts show
all the data; the dependency graph and the botnet table are of the window
before --at (default: the end of the data). Sections whose command is not
built yet say so.

Examples:
  depeer report --out report.html
  depeer report --out before-the-cut.html --at 2008-11-11T20:00Z --json";

/// Flags of `depeer report`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// The HTML file to write.
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
    /// The moment of the analyses (default: the end of the data).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Length of the window before --at for the graph and the botnet table.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub window: String,
    /// Networks in the dependency graph.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub top: usize,
    /// Print what was written as JSON: path, bytes, sections and their rows.
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// Runs `depeer report`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let at = args
        .at
        .as_deref()
        .map(|s| depeer_core::Timestamp::parse(s).map_err(|e| anyhow::anyhow!("{s:?}: {e}")))
        .transpose()?;
    let opts = ReportOptions {
        at,
        window: args.window.clone(),
        top: args.top,
        focus: Vec::new(),
    };
    let data = depeer_ingest::report::gather(&args.data, &opts)?;
    let written = depeer_web::report::write_report(&args.out, &data)?;
    let sections: serde_json::Map<String, serde_json::Value> = written
        .sections
        .iter()
        .map(|s| (s.name.to_string(), serde_json::json!(s.rows)))
        .collect();
    let summary = serde_json::json!({
        "path": written.path.display().to_string(),
        "bytes": written.bytes,
        "sections": sections,
    });
    crate::output::print_summary(args.json, false, &summary, |out| print_text(&written, out))
}

fn print_text(w: &Written, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "wrote {} ({} bytes)", w.path.display(), w.bytes)?;
    for s in &w.sections {
        match s.rows {
            Some(n) => writeln!(out, "  {:<18} {n:>6}", s.name)?,
            None => writeln!(out, "  {:<18} not built yet", s.name)?,
        }
    }
    Ok(())
}
