//! Read-only access to a data directory: typed reads of the routing
//! tables, raw message lookup, SQL. Takes no lock: readers only ever see
//! committed files (see the journal).

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use depeer_core::{AsLinkObs, AsNameObs, RouteObs, RoutingEventObs};

use crate::error::{Result, StoreError};
use crate::parquet_io::{self, Cols, list_parts};
use crate::raw;
use crate::routing;
use crate::schema::{names, schema_of};

/// A data directory opened for reading.
#[derive(Debug, Clone)]
pub struct Dataset {
    dir: PathBuf,
}

/// Where a stored message's (or quarantined record's) raw bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLocation {
    /// Hex SHA-256 of the raw bytes.
    pub sha256: String,
    /// Whether it is a quarantined record rather than a message.
    pub quarantined: bool,
    /// Pack file name under `raw/`.
    pub pack: String,
    /// Byte offset of the zstd frame in the pack.
    pub offset: u64,
    /// Length of the zstd frame.
    pub len: u64,
    /// Where the record starts in the decompressed frame (0 when the frame
    /// holds only this record).
    pub inner_offset: u64,
    /// The record's length in the decompressed frame; `None`: the whole
    /// frame.
    pub inner_len: Option<u64>,
}

impl Dataset {
    /// Opens `dir` for reading; fails with [`StoreError::NoDataset`] when it
    /// holds no dataset.
    pub fn open(dir: impl AsRef<Path>) -> Result<Dataset> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.join("tables").is_dir() {
            return Err(StoreError::NoDataset { dir });
        }
        Ok(Dataset { dir })
    }

    pub(crate) fn at(dir: PathBuf) -> Dataset {
        Dataset { dir }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The rows of `table` (one of [`crate::tables`]), from the Parquet
    /// footers alone: cheap, for deciding whether work is due.
    pub fn row_count(&self, table: &str) -> Result<u64> {
        crate::parquet_io::count_rows(&self.dir.join("tables").join(table))
    }

    /// Runs a SQL query over the dataset (see [`crate::sql`]).
    pub fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        crate::sql::sql(&self.dir, query)
    }

    fn read<T: Send>(
        &self,
        table: &str,
        cols: &[&str],
        conv: impl Fn(&Cols<'_>, &mut Vec<T>) -> Result<()> + Sync,
    ) -> Result<Vec<T>> {
        let files = list_parts(&self.dir.join("tables").join(table))?;
        parquet_io::par_files(&files, |p| {
            let mut v = Vec::new();
            parquet_io::read_columns(p, cols, |rb| conv(&Cols { rb, path: p }, &mut v))?;
            Ok(v)
        })
    }

    /// Every column of `table`, in its schema's order.
    pub(crate) fn read_all<T: Send>(
        &self,
        table: &str,
        conv: impl Fn(&Cols<'_>, &mut Vec<T>) -> Result<()> + Sync,
    ) -> Result<Vec<T>> {
        let schema = schema_of(table);
        let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        self.read(table, &cols, conv)
    }

    /// The keys of every listing in `feed_entries` (see
    /// [`depeer_core::FeedEntryObs::key`]).
    pub fn read_feed_keys(&self) -> Result<std::collections::HashSet<String>> {
        let keys = self.read(
            crate::schema::names::FEED_ENTRIES,
            crate::feeds::KEY_COLS,
            crate::feeds::keys_from,
        )?;
        Ok(crate::feeds::key_set(keys))
    }

    /// Every row of `routes`.
    pub fn read_routes(&self) -> Result<Vec<RouteObs>> {
        self.read_all(names::ROUTES, routing::routes_from)
    }

    /// Every row of `as_links`.
    pub fn read_as_links(&self) -> Result<Vec<AsLinkObs>> {
        self.read_all(names::AS_LINKS, routing::links_from)
    }

    /// Every row of `routing_events`.
    pub fn read_routing_events(&self) -> Result<Vec<RoutingEventObs>> {
        self.read_all(names::ROUTING_EVENTS, routing::events_from)
    }

    /// Every row of `rib_state`.
    pub fn read_rib_state(&self) -> Result<Vec<depeer_core::RibStateObs>> {
        self.read_all(names::RIB_STATE, routing::rib_state_from)
    }

    /// Every row of `as_names`.
    pub fn read_as_names(&self) -> Result<Vec<AsNameObs>> {
        self.read_all(names::AS_NAMES, routing::names_from)
    }

    /// The raw bytes of the message with this SHA-256, decompressed;
    /// `None` when no such message is stored.
    pub fn raw_message(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        let hex = hex::encode(sha256);
        let found = self.locate_in(names::MESSAGES, "sha256", &hex)?;
        match found.first() {
            Some(loc) => self.read_raw(loc).map(Some),
            None => Ok(None),
        }
    }

    /// Finds the message or quarantined record whose hex SHA-256 starts
    /// with `prefix` (at least 8 hex digits). Messages win over quarantine.
    /// `Ok(None)` when nothing matches; [`StoreError::AmbiguousHash`] when
    /// several distinct hashes do.
    pub fn find_raw(&self, prefix: &str) -> Result<Option<RawLocation>> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 8 || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::BadHash {
                prefix: prefix.to_string(),
            });
        }
        for (table, col) in [
            (names::MESSAGES, "sha256"),
            (names::QUARANTINE, "raw_sha256"),
        ] {
            let mut found = self.locate_in(table, col, &p)?;
            found.sort_by(|a, b| a.sha256.cmp(&b.sha256));
            found.dedup_by(|a, b| a.sha256 == b.sha256);
            match found.len() {
                0 => continue,
                1 => return Ok(found.pop()),
                count => {
                    return Err(StoreError::AmbiguousHash {
                        prefix: prefix.to_string(),
                        count,
                    });
                }
            }
        }
        Ok(None)
    }

    /// Reads and decompresses the raw bytes at `loc`.
    pub fn read_raw(&self, loc: &RawLocation) -> Result<Vec<u8>> {
        raw::read_frame_part(
            &self.dir,
            &loc.pack,
            loc.offset,
            loc.len,
            loc.inner_offset,
            loc.inner_len,
        )
    }

    /// Rows of `table` whose `col` starts with the lowercase hex `prefix`.
    /// Scans only the needed columns, filtering before materialising.
    fn locate_in(&self, table: &str, col: &str, prefix: &str) -> Result<Vec<RawLocation>> {
        let files = list_parts(&self.dir.join("tables").join(table))?;
        let quarantined = table == names::QUARANTINE;
        parquet_io::par_files(&files, |p| {
            let mut v = Vec::new();
            let mut cols = vec![col, "raw_pack", "raw_offset", "raw_len"];
            if !quarantined {
                cols.extend(["raw_inner_offset", "size"]);
            }
            parquet_io::read_columns(p, &cols, |rb| {
                let c = Cols { rb, path: p };
                let sha: &StringArray = c.str(col)?;
                let (pack, off, len): (&StringArray, &Int64Array, &Int64Array) =
                    (c.str("raw_pack")?, c.i64("raw_offset")?, c.i64("raw_len")?);
                let inner = if quarantined {
                    None
                } else {
                    Some((c.i64("raw_inner_offset")?, c.i64("size")?))
                };
                for i in 0..sha.len() {
                    if !sha.is_null(i) && sha.value(i).starts_with(prefix) {
                        v.push(RawLocation {
                            sha256: sha.value(i).to_string(),
                            quarantined,
                            pack: pack.value(i).to_string(),
                            offset: off.value(i) as u64,
                            len: len.value(i) as u64,
                            inner_offset: inner.map_or(0, |(o, _)| o.value(i) as u64),
                            inner_len: inner.map(|(_, n)| n.value(i) as u64),
                        });
                    }
                }
                Ok(())
            })?;
            Ok(v)
        })
    }
}
