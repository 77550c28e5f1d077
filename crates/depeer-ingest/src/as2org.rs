//! The AS names pipeline: CAIDA as2org (JSON lines or the older pipe
//! format), pyasn's asnames.json or `ASN<TAB>name` lists into `as_names`.

use std::io::Read;
use std::path::Path;
use std::path::PathBuf;

use serde::Serialize;

use crate::IngestError;
use crate::input::{open_input, open_store, single_input};

/// How to run [`ingest_as2org`].
#[derive(Debug, Clone)]
pub struct As2orgOptions {
    /// Data directory (created if missing).
    pub data: PathBuf,
    /// Largest decompressed size, in bytes (bomb guard).
    pub max_decompressed: u64,
}

/// The counts of one [`ingest_as2org`] run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct As2orgSummary {
    // Fields in name order: the JSON keys come out sorted, as they always did.
    /// `as_names` rows stored.
    pub as_names: usize,
    /// The input as named.
    pub file: String,
    /// Of them, rows with an organisation.
    pub with_org: usize,
}

/// Ingests one AS names file (`path` may be `-`); the format is recognised
/// by content.
pub fn ingest_as2org(path: &Path, opts: &As2orgOptions) -> Result<As2orgSummary, IngestError> {
    let input = single_input(path, "an as2org or AS names file or `-`")?;
    let mut bytes = Vec::new();
    open_input(&input, opts.max_decompressed)?
        .read_to_end(&mut bytes)
        .map_err(|source| IngestError::Read {
            path: input.display.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&bytes);
    let names = depeer_routing::read_as_names(&text, &input.display)?;
    let store = open_store(&opts.data)?;
    store
        .append_as_names(&names)
        .map_err(IngestError::store("writing as_names"))?;
    Ok(As2orgSummary {
        with_org: names.iter().filter(|n| n.org.is_some()).count(),
        as_names: names.len(),
        file: input.display,
    })
}
