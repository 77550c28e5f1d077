//! depeer-store: the dataset. Observations as Parquet tables (partitioned
//! by day where they have a day), raw messages content-addressed in zstd
//! packs, crash-safe commits through a roll-forward journal, and SQL with
//! DataFusion. This is the only crate of depeer that depends on
//! arrow / parquet / DataFusion.
//!
//! Layout of a data directory:
//!
//! ```text
//! LOCK                                   writer lock (flock)
//! tables/<table>/day=YYYY-MM-DD/part-<batch>-<n>.parquet   messages, message_urls, quarantine
//! tables/<table>/part-<batch>-<n>.parquet                  routes, as_links, routing_events, as_names
//! raw/pack-<batch>.zst                   raw messages, one zstd frame each
//! raw/qpack-<batch>.zst                  quarantined records, one zstd frame each
//! raw/opack-<batch>.zst                  feed and MRT records (evidence_objects), frames of several
//! staging/<batch>/                       batches being committed (see the journal)
//! ```
//!
//! ```no_run
//! # fn main() -> Result<(), depeer_store::StoreError> {
//! let store = depeer_store::Store::open("depeer-data")?;
//! let mut w = store.message_writer();
//! // w.add(msg, urls, depeer_store::compress_raw(&raw))?;
//! w.finish()?;
//! let rows = depeer_store::sql("depeer-data".as_ref(), "SELECT count(*) FROM messages")?;
//! depeer_store::render(&rows, depeer_store::OutputFormat::Table, &mut std::io::stdout())?;
//! # Ok(()) }
//! ```

mod attribution;
mod audit;
mod error;
mod events;
mod evidence;
mod feeds;
mod fsync;
mod journal;
mod objects;
mod objects_read;
mod parquet_io;
mod raw;
mod read;
mod routing;
mod schema;
mod series;
mod sql;
mod state;
mod store;
mod writer;

pub use attribution::{AttributionRow, MessageScan, attribution_day};
pub use audit::RawCheck;
pub use error::{Result, StoreError};
pub use events::{EVENTS, EventRow, events_schema};
pub use journal::Recovery;
pub use objects::{EvidenceObject, ObjectKind, ObjectWriter, sha256_hex, sha256_of};
pub use objects_read::{ObjectCheck, ObjectRow};
pub use raw::{FRAME_TARGET_BYTES, FrameCompressor, RAW_ZSTD_LEVEL, compress_raw};
pub use read::{Dataset, RawLocation};
pub use routing::TableRows;
pub use schema::{DAY_COLUMN, Layout, TableDef, names, table, tables};
pub use series::{DEPENDENCIES, DependencyRow, MessagePoint, dependencies_schema};
pub use sql::{
    FilelessTables, OutputFormat, QueryLimits, check_read_only, query_error, read_only_options,
    register_tables, render, sql, sql_with_limits,
};
pub use state::Warm;
pub use store::{LOCK_FILE, Store};
pub use writer::{AddOutcome, BatchLimits, FrameMember, MessageWriter};

/// The Arrow record batch type results come in.
pub use datafusion::arrow::array::RecordBatch;
