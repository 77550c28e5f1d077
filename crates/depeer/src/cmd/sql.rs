//! `depeer sql`: runs one SQL query over the dataset with DataFusion and
//! prints the result as a table, JSON or CSV.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use depeer_store::OutputFormat;

/// Flags of `depeer sql`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Tables: messages, message_urls, quarantine, routes, as_links, \
routing_events, as_names, rib_state, feed_entries (columns in docs/schema.md). Day-partitioned tables have a `day` \
column ('YYYY-MM-DD') that prunes files.

The query runs read-only, under a memory and a time limit (--memory-limit, --timeout).

Examples:
  depeer sql \"SELECT count(*) FROM messages\"
  depeer sql --json \"SELECT relay_ip, count(*) AS n FROM messages GROUP BY 1 ORDER BY n DESC LIMIT 10\"
  depeer sql --csv \"SELECT * FROM message_urls WHERE day = '2008-11-11'\" > urls.csv
  depeer sql --ballista df://10.0.0.1:50050 --data /shared/depeer-data \"SELECT count(*) FROM messages\""
)]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print a JSON array of row objects (timestamps as RFC 3339).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header line.
    #[arg(long)]
    pub csv: bool,
    /// Memory the query may hold for sorts, joins and aggregations, in MiB;
    /// a query past it stops with an error (nothing spills to disk).
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: u64,
    /// Time the query may take, in seconds; a query past it stops with an error.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub timeout: f64,
    /// Run the query on a Ballista cluster (`depeer ballista scheduler`)
    /// instead of in this process; --data must be a path every node sees.
    /// The same read-only rules; --timeout is the client's, the executors'
    /// memory is bounded by their own --memory-limit.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub ballista: Option<String>,
    /// The query: one SELECT, WITH, VALUES, EXPLAIN, SHOW or DESCRIBE
    /// statement. `depeer sql` is read-only: INSERT, COPY, CREATE, DROP,
    /// SET and every other write or session statement are refused.
    pub query: String,
}

/// Runs `depeer sql`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if !args.data.join("tables").is_dir() {
        anyhow::bail!(
            "no dataset at {}: run `depeer ingest mail --data {} ...` first (or pass --data DIR)",
            args.data.display(),
            args.data.display()
        );
    }
    let format = if args.json {
        OutputFormat::Json
    } else if args.csv {
        OutputFormat::Csv
    } else {
        OutputFormat::Table
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let limits = depeer_store::QueryLimits {
        memory_bytes: usize::try_from(args.memory_limit.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        time: std::time::Duration::from_secs_f64(args.timeout),
    };
    let batches = match &args.ballista {
        Some(scheduler) => depeer_cluster::ballista::sql(&depeer_cluster::ballista::SqlOptions {
            scheduler,
            data: &args.data,
            query: &args.query,
            limits,
        })?,
        None => depeer_store::sql_with_limits(&args.data, &args.query, &limits)?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    depeer_store::render(&batches, format, &mut out)?;
    out.flush().context("writing the result")?;
    Ok(())
}
