//! The `feed_entries` table: typed rows to Arrow, and the listing keys
//! back for de-duplication.

use std::collections::HashSet;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use depeer_core::FeedEntryObs;

use crate::error::{Result, StoreError};
use crate::parquet_io::{Cols, int_col, text_col, time_col};
use crate::schema::{names, schema_of};

/// The rows as one Arrow batch in the table's column order.
pub(crate) fn feed_batch(rows: &[FeedEntryObs]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        text_col(rows, |r| Some(r.source.as_str())),
        text_col(rows, |r| Some(r.kind.as_str())),
        text_col(rows, |r| Some(r.indicator.as_str())),
        text_col(rows, |r| r.address.as_deref()),
        text_col(rows, |r| r.family.as_deref()),
        int_col(rows, |r| r.port.map(i64::from)),
        time_col(rows, |r| r.first_seen),
        time_col(rows, |r| r.last_seen),
        time_col(rows, |r| Some(r.ingest_time)),
        text_col(rows, |r| Some(r.source_file.as_str())),
        int_col(rows, |r| {
            Some(i64::try_from(r.source_line).unwrap_or(i64::MAX))
        }),
        text_col(rows, |r| Some(r.key.as_str())),
        text_col(rows, |r| r.sha256.as_deref()),
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
