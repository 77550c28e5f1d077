//! The `feed_entries` table: typed rows to Arrow, and the listing keys
//! back for de-duplication.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use depeer_core::FeedEntryObs;

use crate::error::{Result, StoreError};
use crate::parquet_io::Cols;
use crate::schema::{names, schema_of};

fn ts_builder(n: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC")
}

/// The rows as one Arrow batch in the table's column order.
pub(crate) fn feed_batch(rows: &[FeedEntryObs]) -> Result<RecordBatch> {
    let n = rows.len();
    let s = |bytes| StringBuilder::with_capacity(n, n * bytes);
    let (mut source, mut kind, mut indicator, mut address, mut family) =
        (s(16), s(4), s(24), s(8), s(8));
    let mut port = Int64Builder::with_capacity(n);
    let (mut first, mut last, mut ingest) = (ts_builder(n), ts_builder(n), ts_builder(n));
    let (mut file, mut key) = (s(24), s(32));
    let mut line = Int64Builder::with_capacity(n);
    for r in rows {
        source.append_value(&r.source);
        kind.append_value(&r.kind);
        indicator.append_value(&r.indicator);
        address.append_option(r.address.as_deref());
        family.append_option(r.family.as_deref());
        port.append_option(r.port.map(i64::from));
        first.append_option(r.first_seen.map(|t| t.0));
        last.append_option(r.last_seen.map(|t| t.0));
        ingest.append_value(r.ingest_time.0);
        file.append_value(&r.source_file);
        line.append_value(i64::try_from(r.source_line).unwrap_or(i64::MAX));
        key.append_value(&r.key);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(source.finish()),
        Arc::new(kind.finish()),
        Arc::new(indicator.finish()),
        Arc::new(address.finish()),
        Arc::new(family.finish()),
        Arc::new(port.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(ingest.finish()),
        Arc::new(file.finish()),
        Arc::new(line.finish()),
        Arc::new(key.finish()),
    ];
    RecordBatch::try_new(schema_of(names::FEED_ENTRIES), cols)
        .map_err(StoreError::arrow("building feed_entries"))
}

pub(crate) const KEY_COLS: &[&str] = &["key"];

pub(crate) fn keys_from(c: &Cols<'_>, out: &mut Vec<String>) -> Result<()> {
    let keys = c.str("key")?;
    out.extend(keys.iter().flatten().map(str::to_string));
    Ok(())
}

/// Collects keys into a set.
pub(crate) fn key_set(keys: Vec<String>) -> HashSet<String> {
    keys.into_iter().collect()
}
