//! Writing one Parquet part into a staged batch, and reading parts back
//! column by column, in parallel across files.

use std::fmt::{Display, Write as _};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use depeer_core::Timestamp;

use crate::error::{Result, StoreError};
use crate::journal::Batch;

/// Rows per Parquet row group.
const ROW_GROUP: usize = 128 * 1024;

/// Parts of fewer rows (the live trap's commits of a few dozen messages)
/// are written for a cheap write: LZ4 (raw) instead of zstd (the parquet
/// writer makes a zstd compression and decompression context per column,
/// whose set-up cost a tenth of the trap's CPU, measured 2026-12-07 with
/// `perf`), no dictionaries (a dictionary of a few values saves nothing
/// and costs a hash table per column) and statistics per column chunk
/// only, without the page indexes (a small part has one page per column:
/// its chunk statistics prune it as well). Readers handle both layouts.
const SMALL_PART_ROWS: usize = 2048;

/// Buffer of the writer of a part: small parts are written by a few
/// kilobytes, large ones in 1 MiB writes.
fn write_buffer(rows: usize) -> usize {
    if rows < SMALL_PART_ROWS {
        64 << 10
    } else {
        1 << 20
    }
}

fn props(no_dictionary: &[&str], rows: usize) -> WriterProperties {
    let b = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_created_by("depeer-store".to_string());
    let mut b = if rows < SMALL_PART_ROWS {
        b.set_compression(Compression::LZ4_RAW)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
    } else {
        b.set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
    };
    for c in no_dictionary {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    b.build()
}

/// Writes `rb` as the staged file that becomes `final_rel`; `batch`
/// fsyncs it with its other files.
pub(crate) fn write_part(
    batch: &mut Batch,
    final_rel: &str,
    rb: &RecordBatch,
    no_dictionary: &[&str],
) -> Result<()> {
    let (path, file) = batch.create(final_rel)?;
    let mut w = ArrowWriter::try_new(
        BufWriter::with_capacity(write_buffer(rb.num_rows()), file),
        rb.schema(),
        Some(props(no_dictionary, rb.num_rows())),
    )
    .map_err(StoreError::parquet(&path))?;
    w.write(rb).map_err(StoreError::parquet(&path))?;
    let buf = w.into_inner().map_err(StoreError::parquet(&path))?;
    let file = buf
        .into_inner()
        .map_err(|e| StoreError::io("write", &path)(e.into_error()))?;
    batch.written(path, file);
    Ok(())
}

/// Every `*.parquet` file under `dir` (recursively: day partitions), sorted.
pub(crate) fn list_parts(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io("read directory", &d)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(StoreError::io("read directory", &d))?;
            let p = entry.path();
            let ft = entry.file_type().map_err(StoreError::io("stat", &p))?;
            if ft.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The rows of every part of a table directory, from the files' footers
/// (no column is read).
pub(crate) fn count_rows(dir: &Path) -> Result<u64> {
    let mut n = 0u64;
    for p in list_parts(dir)? {
        let file = File::open(&p).map_err(StoreError::io("open", &p))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::parquet(&p))?;
        n += u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    }
    Ok(n)
}

/// Reads the named columns of one file, batch by batch.
pub(crate) fn read_columns(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(StoreError::io("open", path))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::parquet(path))?;
    let arrow_schema = builder.schema().clone();
    // A column the part does not have is left out: a column added to a
    // table later (`feed_entries.sha256`) is absent from older parts, and
    // the caller's `Cols` accessor says so when it needs one.
    let roots: Vec<usize> = columns
        .iter()
        .filter_map(|c| arrow_schema.index_of(c).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(StoreError::parquet(path))?;
    for rb in reader {
        let rb = rb.map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        each(&rb)?;
    }
    Ok(())
}

/// Runs `f` on every file, in parallel (one thread per core), and
/// concatenates the results in file order.
pub(crate) fn par_files<T: Send>(
    files: &[PathBuf],
    f: impl Fn(&Path) -> Result<Vec<T>> + Sync,
) -> Result<Vec<T>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    if threads <= 1 {
        let mut out = Vec::new();
        for p in files {
            out.extend(f(p)?);
        }
        return Ok(out);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<T>)> = Vec::new();
    type PerThread<T> = Result<Vec<(usize, Vec<T>)>>;
    let results: Vec<PerThread<T>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(p) = files.get(i) else { break };
                        mine.push((i, f(p)?));
                    }
                    Ok(mine)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StoreError::Corrupt {
                        path: PathBuf::new(),
                        reason: "reader thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    for r in results {
        parts.extend(r?);
    }
    parts.sort_by_key(|(i, _)| *i);
    Ok(parts.into_iter().flat_map(|(_, v)| v).collect())
}

fn missing(path: &Path, name: &str, want: &str) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("column {name} is missing or not {want}"),
    }
}

/// An Arrow array type a reader can ask [`Cols`] for.
pub(crate) trait Column: Array + 'static {
    /// What an error says the column should have been.
    const WANT: &'static str;
}

impl Column for StringArray {
    const WANT: &'static str = "text";
}

impl Column for Int64Array {
    const WANT: &'static str = "int64";
}

impl Column for TimestampMicrosecondArray {
    const WANT: &'static str = "timestamp(us)";
}

/// Typed column access for the readers.
pub(crate) struct Cols<'a> {
    pub(crate) rb: &'a RecordBatch,
    pub(crate) path: &'a Path,
}

impl<'a> Cols<'a> {
    /// The named column as an `A`, or why not.
    pub(crate) fn get<A: Column>(&self, name: &str) -> Result<&'a A> {
        self.rb
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<A>())
            .ok_or_else(|| missing(self.path, name, A::WANT))
    }
    /// Several columns of one type, in the order named.
    fn all<A: Column, const N: usize>(&self, names: [&str; N]) -> Result<[&'a A; N]> {
        let got = names
            .iter()
            .map(|n| self.get(n))
            .collect::<Result<Vec<&'a A>>>()?;
        got.try_into()
            .map_err(|_| missing(self.path, &names.join(","), A::WANT))
    }
    pub(crate) fn str(&self, name: &str) -> Result<&'a StringArray> {
        self.get(name)
    }
    pub(crate) fn i64(&self, name: &str) -> Result<&'a Int64Array> {
        self.get(name)
    }
    pub(crate) fn ts(&self, name: &str) -> Result<&'a TimestampMicrosecondArray> {
        self.get(name)
    }
    pub(crate) fn texts<const N: usize>(&self, names: [&str; N]) -> Result<[&'a StringArray; N]> {
        self.all(names)
    }
    pub(crate) fn ints<const N: usize>(&self, names: [&str; N]) -> Result<[&'a Int64Array; N]> {
        self.all(names)
    }
    pub(crate) fn times<const N: usize>(
        &self,
        names: [&str; N],
    ) -> Result<[&'a TimestampMicrosecondArray; N]> {
        self.all(names)
    }
}

/// A builder for a UTC microsecond timestamp column of about `n` rows.
pub(crate) fn ts_builder(n: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC")
}

// Whole columns from a value of each row, for the tables written from typed
// rows; `None` is a null.

/// A text column.
pub(crate) fn text_col<'r, T>(rows: &'r [T], get: impl Fn(&'r T) -> Option<&'r str>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
    for r in rows {
        b.append_option(get(r));
    }
    Arc::new(b.finish())
}

/// A text column of values written with their `Display`.
pub(crate) fn shown_col<T, D: Display>(rows: &[T], get: impl Fn(&T) -> Option<D>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
    let mut buf = String::new();
    for r in rows {
        match get(r) {
            Some(v) => {
                buf.clear();
                let _ = write!(buf, "{v}");
                b.append_value(&buf);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// An int64 column.
pub(crate) fn int_col<T>(rows: &[T], get: impl Fn(&T) -> Option<i64>) -> ArrayRef {
    let mut b = Int64Builder::with_capacity(rows.len());
    for r in rows {
        b.append_option(get(r));
    }
    Arc::new(b.finish())
}

/// A timestamp column.
pub(crate) fn time_col<T>(rows: &[T], get: impl Fn(&T) -> Option<Timestamp>) -> ArrayRef {
    let mut b = ts_builder(rows.len());
    for r in rows {
        b.append_option(get(r).map(|t| t.0));
    }
    Arc::new(b.finish())
}

/// The value of a nullable text cell.
pub(crate) fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    if a.is_null(i) { None } else { Some(a.value(i)) }
}
