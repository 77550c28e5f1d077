//! Opening inputs and writing the rows every routing pipeline writes.

use std::path::{Path, PathBuf};

use depeer_core::Quarantine;
use depeer_io::Input;
use depeer_routing::History;
use depeer_store::Store;

use crate::IngestError;

/// Opens one input, decompressed behind depeer-io's capped reader.
pub(crate) fn open_input(
    input: &Input,
    max_decompressed: u64,
) -> Result<Box<dyn std::io::BufRead + Send>, IngestError> {
    let raw = input.open()?;
    let limits = depeer_io::Limits {
        max_total: max_decompressed,
        ..depeer_io::Limits::default()
    };
    let decoded = depeer_io::open_decoded(raw, limits).map_err(|source| IngestError::Read {
        path: input.display.clone(),
        source,
    })?;
    Ok(decoded.reader)
}

/// The one input a single-file command reads (`ingest ipasn`, `ingest
/// as2org`): the first file `path` expands to.
pub(crate) fn single_input(path: &Path, expected: &'static str) -> Result<Input, IngestError> {
    let (inputs, errors) = depeer_io::walk(std::slice::from_ref(&path.to_path_buf()));
    let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
    match inputs.into_iter().next() {
        Some(input) if problems.is_empty() => Ok(input),
        _ => Err(IngestError::NothingToRead { expected, problems }),
    }
}

/// Opens (creating if missing) the data directory.
pub(crate) fn open_store(dir: &Path) -> Result<Store, IngestError> {
    Store::open(dir).map_err(|source| IngestError::OpenStore {
        dir: PathBuf::from(dir),
        source,
    })
}

/// Writes quarantined records (those that kept bytes) in one commit.
pub(crate) fn store_quarantine(store: &Store, q: &[Quarantine]) -> Result<(), IngestError> {
    if q.is_empty() {
        return Ok(());
    }
    let step = IngestError::store;
    let mut w = store.message_writer();
    for item in q.iter().filter(|q| !q.bytes.is_empty()) {
        w.add_quarantine(item).map_err(step("writing quarantine"))?;
    }
    w.finish().map_err(step("committing quarantine"))
}

/// Appends a history's routes, links and events to the dataset.
pub(crate) fn store_history(store: &Store, h: &History) -> Result<(), IngestError> {
    let step = IngestError::store;
    store
        .append_routes(&h.routes)
        .map_err(step("writing routes"))?;
    store
        .append_as_links(&h.links)
        .map_err(step("writing as_links"))?;
    store
        .append_routing_events(&h.events)
        .map_err(step("writing routing_events"))
}
