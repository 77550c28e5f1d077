//! The pyasn pipeline: an IP->AS table becomes the routes of one moment, as
//! if one peer of the collector `ipasn:<file name>` had seen every prefix
//! then. Lines that do not parse are quarantined with their line number.

use std::path::{Path, PathBuf};

use depeer_core::{Quarantine, Timestamp};
use depeer_routing::{HistoryBuilder, HistoryOptions};
use serde::Serialize;

use crate::IngestError;
use crate::input::{open_input, open_store, single_input, store_history, store_quarantine};

/// How to run [`ingest_ipasn`].
#[derive(Debug, Clone)]
pub struct IpasnOptions {
    /// Data directory (created if missing).
    pub data: PathBuf,
    /// When the table was valid (e.g. the time of the RIB it was made from).
    pub at: Timestamp,
    /// Collector name (default `ipasn:<file name>`).
    pub collector: Option<String>,
    /// Largest decompressed size, in bytes (bomb guard).
    pub max_decompressed: u64,
}

/// Quarantine counts of an [`ingest_ipasn`] run, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpasnQuarantine {
    /// Lines that are not `prefix<TAB>asn`.
    #[serde(rename = "bad-line")]
    pub bad_line: usize,
}

/// The counts of one [`ingest_ipasn`] run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpasnSummary {
    // Fields in name order: the JSON keys come out sorted, as they always did.
    /// The moment of the table (RFC 3339).
    pub at: String,
    /// The collector the routes are stored under.
    pub collector: String,
    /// The input as named.
    pub file: String,
    /// Quarantined lines by reason.
    pub quarantined: IpasnQuarantine,
    /// `routes` rows stored.
    pub routes: usize,
    /// Lines with a prefix or a bad line (comments and blank lines not counted).
    pub rows_read: usize,
    /// Lines that became routes.
    pub rows_used: usize,
}

/// Ingests one pyasn table (`path` may be `-`).
pub fn ingest_ipasn(path: &Path, opts: &IpasnOptions) -> Result<IpasnSummary, IngestError> {
    let input = single_input(path, "a pyasn IP->AS table or `-`")?;
    let reader = open_input(&input, opts.max_decompressed)?;
    let table = depeer_routing::read_ipasn(reader, &input.display)?;
    let collector = opts.collector.clone().unwrap_or_else(|| {
        let name = Path::new(&input.display).file_name().map_or_else(
            || input.display.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("ipasn:{name}")
    });
    let mut b = HistoryBuilder::new(HistoryOptions::default());
    b.add_static(&collector, opts.at, &table.rows);
    let history = b.finish(None);
    let quarantine: Vec<Quarantine> = table
        .bad_lines
        .iter()
        .map(|(src, text)| Quarantine {
            source: src.clone(),
            reason: "bad-line".into(),
            detail: format!("{src}: not `prefix<TAB>asn`"),
            bytes: text.as_bytes().to_vec(),
            truncated: false,
        })
        .collect();
    let store = open_store(&opts.data)?;
    store_history(&store, &history)?;
    store_quarantine(&store, &quarantine)?;
    Ok(IpasnSummary {
        file: input.display,
        collector,
        at: opts.at.to_rfc3339(),
        rows_read: table.rows.len() + table.bad_lines.len(),
        rows_used: table.rows.len(),
        quarantined: IpasnQuarantine {
            bad_line: table.bad_lines.len(),
        },
        routes: history.routes.len(),
    })
}
