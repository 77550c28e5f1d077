//! The MRT pipeline: BGP RIB dumps and update files replayed per collector
//! into the routing history (`routes`, `as_links`, `routing_events`), with
//! each collector's end state (`rib_state`) kept for the next run.
//!
//! Two threads: one decompresses, frames and parses; the caller's thread
//! replays the records into the history (or prints them, for
//! [`dump_mrt`]). On a RIB the two halves cost about the same, so the load
//! takes half the time of one thread. With a store, a third thread keeps
//! every parsed record as evidence (see `records`).

mod order;
mod records;
mod state;

pub use order::collector_name;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use depeer_core::{Quarantine, Relationship};
use depeer_io::Input;
use depeer_mrt::{MrtError, MrtReader, MrtRecord, Summary};
use depeer_routing::{HistoryBuilder, HistoryOptions};
use serde::Serialize;

use crate::IngestError;
use crate::input::{open_input, open_store, single_input, store_history, store_quarantine};
use order::{Planned, plan};

/// How to run [`ingest_mrt`] and [`dump_mrt`].
#[derive(Debug, Clone)]
pub struct MrtOptions {
    /// Data directory; `None` builds the history without storing it.
    pub data: Option<PathBuf>,
    /// Collector name for every input (default: from each path).
    pub collector: Option<String>,
    /// CAIDA as-rel file to use instead of inferring relationships.
    pub as_rel: Option<PathBuf>,
    /// Announcements withdrawn within this many seconds are short-lived events.
    pub short_lived_secs: i64,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    pub max_decompressed: u64,
}

impl Default for MrtOptions {
    /// No store, collectors from paths, inferred relationships, 300 s
    /// short-lived threshold, 64 GiB per input.
    fn default() -> Self {
        MrtOptions {
            data: None,
            collector: None,
            as_rel: None,
            short_lived_secs: 300,
            max_decompressed: 64 << 30,
        }
    }
}

/// The counts of one [`ingest_mrt`] run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MrtSummary {
    /// Files read to the end (or to their first unreadable byte).
    pub files: u64,
    /// Paths or files that could not be opened at all.
    pub unreadable_files: u64,
    /// Records (or corrupt stretches) met.
    pub records_read: u64,
    /// Records parsed and used.
    pub records_used: u64,
    /// Records quarantined.
    pub records_quarantined: u64,
    /// Quarantined records by reason.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Elements (per-prefix entries, state changes) produced.
    pub elems: u64,
    /// Parsed records by type name.
    pub by_type: BTreeMap<String, u64>,
    /// Collectors, in replay order.
    pub collectors: Vec<String>,
    /// `routes` rows made.
    pub routes: usize,
    /// `as_links` rows made.
    pub as_links: usize,
    /// `routing_events` rows made.
    pub routing_events: usize,
    /// Where relationships came from (`as-rel file` or inferred).
    pub relationships: &'static str,
    /// Routes a collector's previous run ended with, replayed first.
    pub seeded_routes: u64,
    /// Collectors whose stored history ends after this run starts (not
    /// continued).
    pub unmerged_collectors: Vec<String>,
    /// Records newly stored and logged as evidence (`mrt` objects).
    pub records_stored: u64,
    /// Wall time.
    pub seconds: f64,
}

/// Records per message from the parsing thread.
const RECORDS_PER_CHUNK: usize = 256;
/// Messages in flight between the two threads.
const CHANNEL_DEPTH: usize = 64;
/// Quarantined records logged one by one; the rest are only counted.
const LOGGED_QUARANTINE: u32 = 20;

/// Ingests MRT files from `paths` (files, directories, `-` for stdin).
pub fn ingest_mrt(paths: &[PathBuf], opts: &MrtOptions) -> Result<MrtSummary, IngestError> {
    let started = Instant::now();
    let (inputs, sum) = walk_inputs(paths)?;
    let plan = plan(&inputs, opts.collector.as_deref(), opts.max_decompressed);
    let as_rel = opts
        .as_rel
        .as_deref()
        .map(|p| read_as_rel(p, opts.max_decompressed))
        .transpose()?;
    let store = opts.data.as_deref().map(open_store).transpose()?;
    let mut replay = Replay::new(
        sum,
        &plan,
        HistoryBuilder::new(HistoryOptions {
            short_lived_secs: opts.short_lived_secs,
            keep_rib_state: store.is_some(),
        }),
        None,
    );
    // A collector ingested before starts from the routes its last run
    // ended with.
    let kept_state = match &store {
        Some(s) => state::seed_from_store(s, &plan, &mut replay.builder, &mut replay.sum)?,
        None => Vec::new(),
    };
    let writer = match &store {
        Some(s) => Some(
            s.object_writer(depeer_store::ObjectKind::Mrt)
                .map_err(IngestError::store("reading the stored MRT records"))?,
        ),
        None => None,
    };
    parse_and_replay(&plan, opts.max_decompressed, &mut replay, writer)?;
    let Replay {
        mut sum,
        builder,
        quarantine,
        ..
    } = replay;
    sum.relationships = if as_rel.is_some() {
        "as-rel file"
    } else {
        "inferred (simplified Gao)"
    };
    let history = builder.finish(as_rel.as_ref());
    sum.routes = history.routes.len();
    sum.as_links = history.links.len();
    sum.routing_events = history.events.len();
    if let Some(store) = &store {
        store_history(store, &history)?;
        store_quarantine(store, &quarantine)?;
        state::save(store, kept_state, history.rib_state)?;
    }
    sum.seconds = started.elapsed().as_secs_f64();
    Ok(sum)
}

/// Parses MRT files and writes what was parsed to `out`, one `bgpdump
/// -m`-like line per element (for scripts/conformance/mrt); builds and
/// stores nothing. `opts.data` and `opts.as_rel` are not used.
pub fn dump_mrt(
    paths: &[PathBuf],
    opts: &MrtOptions,
    out: &mut dyn Write,
) -> Result<MrtSummary, IngestError> {
    let started = Instant::now();
    let (inputs, sum) = walk_inputs(paths)?;
    let plan = plan(&inputs, opts.collector.as_deref(), opts.max_decompressed);
    let builder = HistoryBuilder::new(HistoryOptions {
        short_lived_secs: opts.short_lived_secs,
        keep_rib_state: false,
    });
    let mut replay = Replay::new(sum, &plan, builder, Some(out));
    parse_and_replay(&plan, opts.max_decompressed, &mut replay, None)?;
    if let Some(out) = replay.dump {
        out.flush()
            .map_err(|source| IngestError::Output { source })?;
    }
    let mut sum = replay.sum;
    sum.seconds = started.elapsed().as_secs_f64();
    Ok(sum)
}

/// Expands the paths; a path that cannot be read is counted and logged,
/// and the run goes on if anything is left.
fn walk_inputs(paths: &[PathBuf]) -> Result<(Vec<Input>, MrtSummary), IngestError> {
    let (inputs, errors) = depeer_io::walk(paths);
    let mut sum = MrtSummary::default();
    for e in &errors {
        tracing::error!("{e}");
        sum.unreadable_files += 1;
    }
    if inputs.is_empty() {
        return Err(IngestError::NothingToRead {
            expected: "MRT files, directories of them or `-`",
            problems: errors.iter().map(ToString::to_string).collect(),
        });
    }
    Ok((inputs, sum))
}

/// Reads a CAIDA as-rel file (`a|b|-1` provider-customer, `a|b|0` peers).
fn read_as_rel(
    path: &Path,
    max_decompressed: u64,
) -> Result<HashMap<(u32, u32), Relationship>, IngestError> {
    let input = single_input(path, "a CAIDA as-rel file")?;
    let reader = open_input(&input, max_decompressed)?;
    Ok(depeer_routing::read_as_rel(reader, &input.display)?)
}

/// What the parsing thread sends on.
enum Parsed<'a> {
    /// An input that could not be opened.
    Unreadable(IngestError),
    /// Parsed records (or their quarantine) of `collector`'s current file.
    Records(&'a str, Vec<Result<MrtRecord, MrtError>>),
    /// The end of one file, with its counts.
    EndFile(&'a str, Box<Summary>),
}

/// The caller's side: replays records into the history, or dumps them.
struct Replay<'o> {
    sum: MrtSummary,
    builder: HistoryBuilder,
    /// The counts of every file read.
    total: Summary,
    quarantine: Vec<Quarantine>,
    logged: u32,
    dump: Option<&'o mut dyn Write>,
    lines: Vec<String>,
}

impl<'o> Replay<'o> {
    fn new(
        mut sum: MrtSummary,
        plan: &[Planned<'_>],
        builder: HistoryBuilder,
        dump: Option<&'o mut dyn Write>,
    ) -> Self {
        for p in plan {
            if !sum.collectors.contains(&p.collector) {
                sum.collectors.push(p.collector.clone());
            }
        }
        Replay {
            sum,
            builder,
            total: Summary::default(),
            quarantine: Vec::new(),
            logged: 0,
            dump,
            lines: Vec::new(),
        }
    }

    fn take(&mut self, msg: Parsed<'_>) -> Result<(), IngestError> {
        match msg {
            Parsed::Unreadable(e) => {
                tracing::error!("{}", crate::error::chain(&e));
                self.sum.unreadable_files += 1;
            }
            Parsed::Records(collector, items) => {
                for item in items {
                    self.record(collector, item)?;
                }
            }
            Parsed::EndFile(collector, summary) => {
                self.sum.files += 1;
                self.builder.end_file(collector);
                self.total.add(&summary);
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        collector: &str,
        item: Result<MrtRecord, MrtError>,
    ) -> Result<(), IngestError> {
        match (item, self.dump.as_deref_mut()) {
            (Ok(rec), Some(out)) => {
                self.lines.clear();
                depeer_mrt::dump_lines(&rec, &mut self.lines);
                for l in &self.lines {
                    writeln!(out, "{l}").map_err(|source| IngestError::Output { source })?;
                }
            }
            (Ok(rec), None) => self.builder.add_record(collector, &rec),
            (Err(e), _) => {
                if self.logged < LOGGED_QUARANTINE {
                    tracing::warn!("quarantined: {e}");
                }
                self.logged += 1;
                self.quarantine.push(e.to_quarantine());
            }
        }
        Ok(())
    }

    /// Copies the file counts into the summary.
    fn close(&mut self) {
        let (sum, total) = (&mut self.sum, &self.total);
        sum.records_read = total.records_read;
        sum.records_used = total.records_used;
        sum.records_quarantined = total.quarantined_total();
        sum.quarantine_reasons = total.quarantined.clone();
        sum.elems = total.elems;
        sum.by_type = total.by_type.clone();
    }
}

/// Parses the planned files on a second thread and replays them on this
/// one; with a `writer`, a third thread stores the records.
fn parse_and_replay(
    plan: &[Planned<'_>],
    max_decompressed: u64,
    replay: &mut Replay<'_>,
    writer: Option<depeer_store::ObjectWriter>,
) -> Result<(), IngestError> {
    let (tx, rx) = crossbeam_channel::bounded::<Parsed<'_>>(CHANNEL_DEPTH);
    let (otx, orx) = crossbeam_channel::bounded::<records::RecordChunk<'_>>(CHANNEL_DEPTH);
    let result = std::thread::scope(|scope| {
        let keeper = writer.map(|w| {
            let orx = orx.clone();
            scope.spawn(move || records::store_records(w, &orx))
        });
        drop(orx);
        let otx = keeper.as_ref().map(|_| otx);
        scope.spawn(move || parse_files(plan, max_decompressed, &tx, otx.as_ref()));
        let replayed = (|| -> Result<(), IngestError> {
            for msg in rx {
                replay.take(msg)?;
            }
            Ok(())
        })();
        let kept = match keeper.map(|h| h.join()) {
            None => Ok(0),
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(IngestError::Thread {
                thread: "MRT record store",
            }),
        };
        replayed?;
        replay.sum.records_stored = kept?;
        Ok(())
    });
    replay.close();
    result
}

/// The parsing thread: every planned file, record by record, in chunks.
/// Stops when the receiver is gone (the replay failed).
fn parse_files<'a>(
    plan: &'a [Planned<'_>],
    max_decompressed: u64,
    tx: &crossbeam_channel::Sender<Parsed<'a>>,
    records: Option<&crossbeam_channel::Sender<records::RecordChunk<'a>>>,
) {
    for p in plan {
        let collector = p.collector.as_str();
        let reader = match open_input(p.input, max_decompressed) {
            Ok(r) => r,
            Err(e) => {
                if tx.send(Parsed::Unreadable(e)).is_err() {
                    return;
                }
                continue;
            }
        };
        let mut mrt = MrtReader::new(reader, p.input.display.clone()).keep_raw(records.is_some());
        let mut chunk = Vec::with_capacity(RECORDS_PER_CHUNK);
        let mut objects = Vec::new();
        for mut item in mrt.by_ref() {
            if let (Some(_), Ok(rec)) = (records, item.as_mut()) {
                objects.push(records::RecordObject::take(rec));
            }
            chunk.push(item);
            if chunk.len() == RECORDS_PER_CHUNK
                && (send_records(records, collector, &mut objects).is_err()
                    || tx
                        .send(Parsed::Records(collector, std::mem::take(&mut chunk)))
                        .is_err())
            {
                return;
            }
        }
        let end = Parsed::EndFile(collector, Box::new(mrt.summary().clone()));
        if send_records(records, collector, &mut objects).is_err()
            || tx.send(Parsed::Records(collector, chunk)).is_err()
            || tx.send(end).is_err()
        {
            return;
        }
    }
}

/// Sends the records kept so far to the record thread (nothing without
/// one); an error when it has stopped.
fn send_records<'a>(
    records: Option<&crossbeam_channel::Sender<records::RecordChunk<'a>>>,
    collector: &'a str,
    objects: &mut Vec<records::RecordObject>,
) -> Result<(), ()> {
    match records {
        Some(s) if !objects.is_empty() => {
            s.send((collector, std::mem::take(objects))).map_err(|_| ())
        }
        _ => Ok(()),
    }
}
