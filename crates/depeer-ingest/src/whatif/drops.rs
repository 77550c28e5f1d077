//! The drops the backtest is made for: the drops of the total spam that
//! `depeer events` finds (`crate::read::events`, docs/events.md), with
//! their causes that lost routes (upstream lost, AS unreachable, prefix
//! withdrawn): the ASes the backtest cuts.

use std::path::Path;

use depeer_analysis::whatif::DropEvent;
use depeer_core::Timestamp;

use crate::IngestError;
use crate::read::events::{EventOut, EventScope, events};

fn is_loss(kind: &str) -> bool {
    matches!(
        kind,
        "upstream-lost" | "as-unreachable" | "prefix-withdrawn"
    )
}

fn micros(text: &str) -> Option<i64> {
    Timestamp::parse(text).ok().map(|t| t.0)
}

/// A detected drop with at least one cause that lost routes.
fn drop_event(e: &EventOut) -> Option<DropEvent> {
    if e.kind != "drop" || e.key.is_some() {
        return None;
    }
    let causes: Vec<(u32, i64)> = e
        .causes
        .iter()
        .filter(|c| is_loss(&c.kind))
        .filter_map(|c| Some((c.asn, micros(&c.time)?)))
        .collect();
    (!causes.is_empty()).then_some(DropEvent {
        time: micros(&e.time)?,
        time_low: micros(&e.time_low)?,
        observed_drop: -e.magnitude,
        causes,
    })
}

/// The drops of the total in `data` with routing causes.
pub(super) fn detect(data: &Path) -> Result<Vec<DropEvent>, IngestError> {
    Ok(events(data, EventScope::Total, None, None)?
        .iter()
        .filter_map(drop_event)
        .collect())
}
