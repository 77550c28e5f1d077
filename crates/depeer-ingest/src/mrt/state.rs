//! Continuing a collector's history across runs: each run stores the routes
//! every (collector, peer, prefix) still held at its end (`rib_state`), and
//! the next run of that collector starts from them, so that a RIB and its
//! update files ingested separately give the history of one run.

use std::collections::{BTreeMap, HashSet};

use depeer_core::{RibStateObs, Timestamp};
use depeer_routing::HistoryBuilder;
use depeer_store::{Store, TableRows};

use super::MrtSummary;
use super::order::Planned;
use crate::IngestError;

/// Seeds `builder` with the stored end state of every collector this run
/// continues (its first file starts at or after the state's time); returns
/// the stored rows of the other collectors, which stay as they are.
pub(super) fn seed_from_store(
    store: &Store,
    plan: &[Planned<'_>],
    builder: &mut HistoryBuilder,
    sum: &mut MrtSummary,
) -> Result<Vec<RibStateObs>, IngestError> {
    let state = store
        .read_rib_state()
        .map_err(IngestError::store("reading rib_state"))?;
    let mut by_collector: BTreeMap<&str, Vec<&RibStateObs>> = BTreeMap::new();
    for r in &state {
        by_collector
            .entry(r.collector.as_str())
            .or_default()
            .push(r);
    }
    let mut kept = Vec::new();
    for (collector, rows) in by_collector {
        let first = plan
            .iter()
            .filter(|p| p.collector == collector)
            .map(|p| i64::from(p.first))
            .min();
        let state_time = rows.iter().map(|r| r.time.secs()).max().unwrap_or(0);
        let rows = rows.into_iter().cloned();
        match first {
            Some(first) if first >= state_time => {
                let rows: Vec<RibStateObs> = rows.collect();
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
                kept.extend(rows);
            }
            None => kept.extend(rows),
        }
    }
    Ok(kept)
}

/// Replaces `rib_state`: collectors not in this run keep their old state; a
/// collector of this run gets its new state, also when it was not continued
/// (its latest data wins).
pub(super) fn save(
    store: &Store,
    mut kept: Vec<RibStateObs>,
    mut renewed: Vec<RibStateObs>,
) -> Result<(), IngestError> {
    let collectors: HashSet<&str> = renewed.iter().map(|r| r.collector.as_str()).collect();
    kept.retain(|r| !collectors.contains(r.collector.as_str()));
    kept.append(&mut renewed);
    store
        .replace_table(TableRows::RibState(&kept))
        .map_err(IngestError::store("writing rib_state"))
}
