//! Writing one Parquet part into a staged batch, and reading parts back
//! column by column, in parallel across files.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{
    Array, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::error::{Result, StoreError};
use crate::journal::{Batch, sync_file};

/// Rows per Parquet row group.
const ROW_GROUP: usize = 128 * 1024;

fn props(no_dictionary: &[&str]) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_created_by("depeer-store".to_string());
    for c in no_dictionary {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    b.build()
}

/// Writes `rb` as the staged file that becomes `final_rel`, fsynced.
pub(crate) fn write_part(
    batch: &mut Batch,
    final_rel: &str,
    rb: &RecordBatch,
    no_dictionary: &[&str],
) -> Result<()> {
    let (path, file) = batch.create(final_rel)?;
    let mut w = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        rb.schema(),
        Some(props(no_dictionary)),
    )
    .map_err(StoreError::parquet(&path))?;
    w.write(rb).map_err(StoreError::parquet(&path))?;
    let buf = w.into_inner().map_err(StoreError::parquet(&path))?;
    let file = buf
        .into_inner()
        .map_err(|e| StoreError::io("write", &path)(e.into_error()))?;
    sync_file(&path, file)
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
    let mut roots = Vec::with_capacity(columns.len());
    for c in columns {
        let i = arrow_schema.index_of(c).map_err(|_| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("no column {c}"),
        })?;
        roots.push(i);
    }
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

/// Typed column access for the readers.
pub(crate) struct Cols<'a> {
    pub(crate) rb: &'a RecordBatch,
    pub(crate) path: &'a Path,
}

impl<'a> Cols<'a> {
    pub(crate) fn str(&self, name: &str) -> Result<&'a StringArray> {
        self.rb
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| missing(self.path, name, "text"))
    }
    pub(crate) fn i64(&self, name: &str) -> Result<&'a Int64Array> {
        self.rb
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .ok_or_else(|| missing(self.path, name, "int64"))
    }
    pub(crate) fn ts(&self, name: &str) -> Result<&'a TimestampMicrosecondArray> {
        self.rb
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .ok_or_else(|| missing(self.path, name, "timestamp(us)"))
    }
    #[allow(dead_code)]
    pub(crate) fn bool(&self, name: &str) -> Result<&'a BooleanArray> {
        self.rb
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
            .ok_or_else(|| missing(self.path, name, "boolean"))
    }
}

/// The value of a nullable text cell.
pub(crate) fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    if a.is_null(i) { None } else { Some(a.value(i)) }
}
