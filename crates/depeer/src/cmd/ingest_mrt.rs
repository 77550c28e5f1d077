//! `depeer ingest mrt`: BGP RIB dumps and update files into the routing
//! history (`routes`, `as_links`, `routing_events`).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use depeer_core::{Quarantine, Relationship, Timestamp};
use depeer_mrt::{Framer, MrtReader, Summary};
use depeer_routing::{History, HistoryBuilder, HistoryOptions};

const AFTER: &str = "\
Inputs: MRT files as RouteViews and RIPE RIS publish them (TABLE_DUMP,
TABLE_DUMP_V2 RIBs; BGP4MP / BGP4MP_ET updates and state changes; IPv4 and
IPv6), plain or gzip / bzip2 / zstd / xz (told by magic bytes), directories
of them, or `-`. Files are replayed per collector in the order of their
first record's time; the collector is taken from the path (rrc00,
route-views.jinx, ...) unless --collector says otherwise.

A record that cannot be framed or parsed is reported with file, byte
offset and record index, kept in quarantine with its bytes, and skipped;
the rest of the file is used.

Examples:
  depeer ingest mrt rib.20081111.0000.bz2 updates.20081111.*.bz2
  depeer ingest mrt --json --collector route-views2 ris/rrc00/";

/// Flags of `depeer ingest mrt`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Data directory (created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Print one JSON summary object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Collector name for every input (default: from each path).
    #[arg(long, value_name = "NAME")]
    pub collector: Option<String>,
    /// CAIDA as-rel file (`a|b|-1` provider-customer, `a|b|0` peers) to use
    /// instead of inferring relationships.
    #[arg(long, value_name = "FILE")]
    pub as_rel: Option<PathBuf>,
    /// Announcements withdrawn within this many seconds are short-lived events.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub short_lived: i64,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_decompressed: u64,
    /// Parse and build the history only; store nothing (for benchmarks).
    #[arg(long)]
    pub no_store: bool,
    /// Print what was parsed, one `bgpdump -m`-like line per element, and
    /// store nothing (for scripts/conformance/mrt).
    #[arg(long, hide = true)]
    pub dump: bool,
    /// Files, directories or `-` (stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Opens one input, decompressed behind depeer-io's capped reader.
pub(crate) fn open_input(
    input: &depeer_io::Input,
    max_decompressed: u64,
) -> anyhow::Result<Box<dyn std::io::BufRead + Send>> {
    let raw = input.open()?;
    let limits = depeer_io::Limits {
        max_total: max_decompressed,
        ..depeer_io::Limits::default()
    };
    let decoded = depeer_io::open_decoded(raw, limits)
        .with_context(|| format!("{}: cannot read", input.display))?;
    Ok(decoded.reader)
}

/// The collector a file came from, by its path: `rrc00`, `route-views.jinx`,
/// `route-views2`, ... else the name of its directory.
pub(crate) fn collector_name(path: &Path) -> String {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for c in comps.iter().rev() {
        for token in c.split(['.', '_', '-']) {
            if token.len() == 5
                && token.starts_with("rrc")
                && token[3..].bytes().all(|b| b.is_ascii_digit())
            {
                return token.to_string();
            }
        }
        if let Some(i) = c.find("route-views") {
            let rest = &c[i..];
            let end = rest
                .find(".updates")
                .or_else(|| rest.find(".rib"))
                .or_else(|| rest.find(".bview"))
                .unwrap_or(rest.len());
            return rest[..end].to_string();
        }
        if let Some(rest) = c.strip_prefix("routeviews") {
            let n: String = rest.chars().take_while(|ch| ch.is_ascii_digit()).collect();
            return format!("route-views{n}");
        }
    }
    match comps.len() {
        0 => "-".into(),
        1 => comps[0].clone(),
        n => comps[n - 2].clone(),
    }
}

/// What the parsing thread sends on.
enum Parsed<'a> {
    /// An input that could not be opened.
    Unreadable(String),
    /// Parsed records (or their quarantine) of `collector`'s current file.
    Records(
        &'a str,
        Vec<Result<depeer_mrt::MrtRecord, depeer_mrt::MrtError>>,
    ),
    /// The end of one file, with its counts.
    EndFile(&'a str, Box<Summary>),
}

/// Counts of one `ingest mrt` run.
#[derive(Debug, Default, serde::Serialize)]
struct RunSummary {
    files: u64,
    unreadable_files: u64,
    records_read: u64,
    records_used: u64,
    records_quarantined: u64,
    quarantine_reasons: BTreeMap<String, u64>,
    elems: u64,
    by_type: BTreeMap<String, u64>,
    collectors: Vec<String>,
    routes: usize,
    as_links: usize,
    routing_events: usize,
    relationships: &'static str,
    /// Routes a collector's previous run ended with, replayed first.
    seeded_routes: u64,
    /// Collectors whose stored history ends after this run starts (not
    /// continued).
    unmerged_collectors: Vec<String>,
    seconds: f64,
}

/// Writes quarantined records through the store's writer.
pub(crate) fn store_quarantine(
    store: &depeer_store::Store,
    q: &[Quarantine],
) -> anyhow::Result<()> {
    if q.is_empty() {
        return Ok(());
    }
    let mut w = store.message_writer();
    for item in q.iter().filter(|q| !q.bytes.is_empty()) {
        w.add_quarantine(item)?;
    }
    w.finish()?;
    Ok(())
}

/// Stores a history (appending to what is there).
pub(crate) fn store_history(store: &depeer_store::Store, h: &History) -> anyhow::Result<()> {
    store.append_routes(&h.routes)?;
    store.append_as_links(&h.links)?;
    store.append_routing_events(&h.events)?;
    Ok(())
}

/// Runs `depeer ingest mrt`.
pub fn run(args: &Args, quiet: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let (inputs, errors) = depeer_io::walk(&args.paths);
    let mut sum = RunSummary::default();
    for e in &errors {
        tracing::error!("{e}");
        sum.unreadable_files += 1;
    }
    if inputs.is_empty() {
        anyhow::bail!("no readable input among the paths given");
    }
    // Order: per collector, by the time of the first record, then by name.
    let mut order: Vec<(String, u32, usize)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let collector = args
            .collector
            .clone()
            .unwrap_or_else(|| collector_name(Path::new(&input.display)));
        let first = if matches!(input.path, depeer_io::InputPath::Stdin) {
            0
        } else {
            open_input(input, args.max_decompressed)
                .ok()
                .and_then(|r| Framer::new(r.take(1 << 20), "").next())
                .and_then(Result::ok)
                .map_or(0, |r| r.header.timestamp)
        };
        order.push((collector, first, i));
    }
    order.sort_by(|a, b| (&a.0, a.1, &inputs[a.2].display).cmp(&(&b.0, b.1, &inputs[b.2].display)));

    let as_rel: Option<HashMap<(u32, u32), Relationship>> = match &args.as_rel {
        Some(p) => {
            let (found, _) = depeer_io::walk(std::slice::from_ref(p));
            let input = found
                .first()
                .ok_or_else(|| anyhow::anyhow!("{}: cannot open the as-rel file", p.display()))?;
            let reader = open_input(input, args.max_decompressed)?;
            Some(depeer_routing::read_as_rel(reader, &input.display)?)
        }
        None => None,
    };
    let mut builder = HistoryBuilder::new(HistoryOptions {
        short_lived_secs: args.short_lived,
        keep_rib_state: !args.no_store && !args.dump,
    });
    // Open the store first: a collector ingested before starts from the
    // routes its last run ended with (`rib_state`).
    let store =
        if args.no_store || args.dump {
            None
        } else {
            Some(depeer_store::Store::open(&args.data).with_context(|| {
                format!("{}: cannot open the data directory", args.data.display())
            })?)
        };
    let mut kept_state = Vec::new();
    if let Some(store) = &store {
        let state = store.read_rib_state()?;
        let mut by_collector: BTreeMap<&str, Vec<&depeer_core::RibStateObs>> = BTreeMap::new();
        for r in &state {
            by_collector
                .entry(r.collector.as_str())
                .or_default()
                .push(r);
        }
        for (collector, rows) in by_collector {
            let first = order
                .iter()
                .filter(|o| o.0 == collector)
                .map(|o| i64::from(o.1))
                .min();
            let state_time = rows.iter().map(|r| r.time.secs()).max().unwrap_or(0);
            match first {
                Some(first) if first >= state_time => {
                    let rows: Vec<depeer_core::RibStateObs> = rows.into_iter().cloned().collect();
                    sum.seeded_routes += builder.seed(collector, &rows) as u64;
                }
                Some(first) => {
                    tracing::warn!(
                        "{collector}: this run starts at {} but the stored history of the \
                         collector ends at {}; not continuing from it (ingest the files of one \
                         collector in time order)",
                        Timestamp::from_secs(first),
                        Timestamp::from_secs(state_time)
                    );
                    sum.unmerged_collectors.push(collector.to_string());
                    kept_state.extend(rows.into_iter().cloned());
                }
                None => kept_state.extend(rows.into_iter().cloned()),
            }
        }
    }
    let mut quarantine: Vec<Quarantine> = Vec::new();
    let mut total = Summary::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut reported = 0u32;
    for c in order.iter().map(|o| &o.0) {
        if !sum.collectors.contains(c) {
            sum.collectors.push(c.clone());
        }
    }
    // Two threads: this one decompresses, frames and parses; the caller's
    // replays into the history (or prints, for --dump). On a RIB the two
    // halves cost about the same, so the load takes half the time.
    let (tx, rx) = crossbeam_channel::bounded::<Parsed<'_>>(64);
    let result: anyhow::Result<()> = std::thread::scope(|scope| {
        let inputs = &inputs;
        let order = &order;
        scope.spawn(move || {
            for (collector, _, i) in order {
                let input = &inputs[*i];
                let reader = match open_input(input, args.max_decompressed) {
                    Ok(r) => r,
                    Err(e) => {
                        if tx.send(Parsed::Unreadable(format!("{e:#}"))).is_err() {
                            return;
                        }
                        continue;
                    }
                };
                let mut mrt = MrtReader::new(reader, input.display.clone());
                let mut chunk = Vec::with_capacity(256);
                for item in mrt.by_ref() {
                    chunk.push(item);
                    if chunk.len() == 256
                        && tx
                            .send(Parsed::Records(collector, std::mem::take(&mut chunk)))
                            .is_err()
                    {
                        return;
                    }
                }
                let end = Parsed::EndFile(collector, Box::new(mrt.summary().clone()));
                if tx.send(Parsed::Records(collector, chunk)).is_err() || tx.send(end).is_err() {
                    return;
                }
            }
        });
        let mut lines = Vec::new();
        for msg in rx {
            match msg {
                Parsed::Unreadable(e) => {
                    tracing::error!("{e}");
                    sum.unreadable_files += 1;
                }
                Parsed::Records(collector, items) => {
                    for item in items {
                        match item {
                            Ok(rec) if args.dump => {
                                lines.clear();
                                depeer_mrt::dump_lines(&rec, &mut lines);
                                for l in &lines {
                                    writeln!(out, "{l}")?;
                                }
                            }
                            Ok(rec) => builder.add_record(collector, &rec),
                            Err(e) => {
                                if reported < 20 {
                                    tracing::warn!("quarantined: {e}");
                                }
                                reported += 1;
                                quarantine.push(e.to_quarantine());
                            }
                        }
                    }
                }
                Parsed::EndFile(collector, summary) => {
                    sum.files += 1;
                    builder.end_file(collector);
                    total.add(&summary);
                }
            }
        }
        Ok(())
    });
    result?;
    out.flush()?;
    drop(out);
    sum.records_read = total.records_read;
    sum.records_used = total.records_used;
    sum.records_quarantined = total.quarantined_total();
    sum.quarantine_reasons = total.quarantined.clone();
    sum.elems = total.elems;
    sum.by_type = total.by_type.clone();
    if args.dump {
        eprintln!(
            "read {} used {} quarantined {:?}",
            sum.records_read, sum.records_used, sum.quarantine_reasons
        );
        return Ok(());
    }
    sum.relationships = if as_rel.is_some() {
        "as-rel file"
    } else {
        "inferred (simplified Gao)"
    };
    let mut history = builder.finish(as_rel.as_ref());
    sum.routes = history.routes.len();
    sum.as_links = history.links.len();
    sum.routing_events = history.events.len();
    if let Some(store) = &store {
        store_history(store, &history)?;
        store_quarantine(store, &quarantine)?;
        // Collectors not continued keep their old state; an unmerged
        // collector's new state replaces it (its latest data wins).
        let renewed: std::collections::HashSet<String> = history
            .rib_state
            .iter()
            .map(|r| r.collector.clone())
            .collect();
        kept_state.retain(|r| !renewed.contains(&r.collector));
        kept_state.append(&mut history.rib_state);
        store.replace_table(depeer_store::TableRows::RibState(&kept_state))?;
    }
    sum.seconds = started.elapsed().as_secs_f64();
    print_summary(&sum, args.json, quiet)
}

fn print_summary(sum: &RunSummary, json: bool, quiet: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer(&mut out, sum)?;
        writeln!(out)?;
        return Ok(());
    }
    if quiet {
        return Ok(());
    }
    writeln!(
        out,
        "files {}  records read {}  used {}  quarantined {}",
        sum.files, sum.records_read, sum.records_used, sum.records_quarantined
    )?;
    for (k, v) in &sum.quarantine_reasons {
        writeln!(out, "  quarantined {k}: {v}")?;
    }
    writeln!(
        out,
        "collectors {}  routes {}  as_links {}  routing_events {}  ({:.1} s; relationships {})",
        sum.collectors.join(","),
        sum.routes,
        sum.as_links,
        sum.routing_events,
        sum.seconds,
        sum.relationships
    )?;
    Ok(())
}

/// Parses `--at` style times.
pub(crate) fn parse_time(s: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_names_from_paths() {
        for (p, want) in [
            (
                "data/mrt/bgpkit/rrc00/2000.01/bview.20000111.0032.gz",
                "rrc00",
            ),
            (
                "x/routeviews.route-views.jinx.updates.1427846400.bz2",
                "route-views.jinx",
            ),
            ("x/ris.rrc06.updates.1427846400.gz", "rrc06"),
            (
                "mrt/routeviews2-2008-02/updates.20080224.1824.bz2",
                "route-views2",
            ),
            (
                "mrt/bgpdump/test_data/updates.20020722.2238.gz",
                "test_data",
            ),
            ("rib.bz2", "rib.bz2"),
        ] {
            assert_eq!(collector_name(Path::new(p)), want, "{p}");
        }
    }
}
