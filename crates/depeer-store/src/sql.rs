//! SQL over the dataset with DataFusion, and rendering results for people
//! (a table) and scripts (JSON, CSV).
//!
//! Every directory under `tables/` is registered as a Parquet
//! `ListingTable`; day-partitioned tables get the hive column `day`
//! (text, `YYYY-MM-DD`), so `WHERE day = '2008-11-11'` reads one directory.
//! Known tables are registered with their declared schema so that a table
//! without files still answers (`count(*) = 0`).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Field, Float16Type, Float32Type, Float64Type, Schema, TimeUnit,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Result, StoreError};
use crate::schema::{self, DAY_COLUMN, Layout};

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// An aligned table for people.
    #[default]
    Table,
    /// A JSON array of row objects (timestamps as RFC 3339 strings).
    Json,
    /// CSV with a header line (RFC 4180 quoting).
    Csv,
}

fn sql_err(query: &str) -> impl FnOnce(DataFusionError) -> StoreError + '_ {
    move |e| StoreError::Sql {
        query: query.to_string(),
        error: Box::new(e),
    }
}

/// The limits a query runs under. A query past either stops with a clear
/// error ([`StoreError::QueryMemory`], [`StoreError::QueryTimeout`]) instead
/// of filling the machine's memory or running for ever.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryLimits {
    /// Memory the query's operators may hold (sorts, joins, aggregations),
    /// in bytes. Nothing spills to disk: a query past it stops.
    pub memory_bytes: usize,
    /// Wall-clock time the query may take, planning included.
    pub time: Duration,
}

impl Default for QueryLimits {
    /// 4 GiB and 10 minutes: roomy for an analyst's query on one machine,
    /// small enough that a runaway query cannot take the machine down.
    fn default() -> Self {
        QueryLimits {
            memory_bytes: 4 << 30,
            time: Duration::from_secs(600),
        }
    }
}

/// Runs one read-only SQL query over the dataset in `dir` with the default
/// [`QueryLimits`]. See [`sql_with_limits`].
pub fn sql(dir: &Path, query: &str) -> Result<Vec<RecordBatch>> {
    sql_with_limits(dir, query, &QueryLimits::default())
}

/// Runs one SQL query over the dataset in `dir`, read-only by construction:
/// the text must be one query statement (SELECT, WITH, VALUES, EXPLAIN,
/// SHOW, DESCRIBE), and the plan DataFusion makes of it is checked again
/// with DDL, DML (INSERT, UPDATE, DELETE, COPY) and session statements
/// (SET, transactions) disallowed. Writes are refused with
/// [`StoreError::ReadOnly`]. The result always has at least one batch
/// (possibly empty) so the column names are known.
pub fn sql_with_limits(dir: &Path, query: &str, limits: &QueryLimits) -> Result<Vec<RecordBatch>> {
    let tables = dir.join("tables");
    if !tables.is_dir() {
        return Err(StoreError::NoDataset {
            dir: dir.to_path_buf(),
        });
    }
    check_read_only(query)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(StoreError::io("start query runtime", dir))?;
    let env = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_bytes, 1.0)
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .build_arc()
        .map_err(sql_err(query))?;
    let run = async {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config_rt(config, env);
        register_all(&ctx, &tables, FilelessTables::InMemory).await?;
        let df = ctx.sql_with_options(query, read_only_options()).await?;
        let schema: Arc<Schema> = Arc::new(df.schema().as_arrow().clone());
        let mut batches = df.collect().await?;
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        Ok::<_, DataFusionError>(batches)
    };
    runtime.block_on(async {
        match tokio::time::timeout(limits.time, run).await {
            Err(_) => Err(StoreError::QueryTimeout {
                seconds: limits.time.as_secs_f64(),
            }),
            Ok(Ok(batches)) => Ok(batches),
            Ok(Err(e)) => Err(query_error(query, e, limits)),
        }
    })
}

/// Turns DataFusion's errors for a refused plan or an exhausted memory pool
/// into the store's own, so that the message says what to do. Public so
/// that a query run elsewhere (a Ballista cluster) reports the same way.
pub fn query_error(query: &str, e: DataFusionError, limits: &QueryLimits) -> StoreError {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(detail) => StoreError::QueryMemory {
            limit_mb: (limits.memory_bytes >> 20) as u64,
            detail: detail.clone(),
        },
        DataFusionError::Plan(msg)
            if msg.starts_with("DDL not supported")
                || msg.starts_with("DML not supported")
                || msg.starts_with("Statement not supported") =>
        {
            StoreError::ReadOnly {
                statement: msg.split(": ").nth(1).unwrap_or(msg).to_string(),
            }
        }
        _ => sql_err(query)(e),
    }
}

/// The planner options of a read-only query: DDL, DML (INSERT, UPDATE,
/// DELETE, COPY) and session statements (SET, transactions) are refused
/// when DataFusion plans the text. [`check_read_only`] refuses them earlier.
pub fn read_only_options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Refuses, before any planning, every text that is not exactly one query
/// statement, with [`StoreError::ReadOnly`] naming the statement kind. The
/// plan check ([`read_only_options`]) would refuse writes too; this check
/// also refuses statements DataFusion might one day plan as reads. Public
/// so that a query sent elsewhere (a Ballista cluster) is refused before
/// anything is sent.
pub fn check_read_only(query: &str) -> Result<()> {
    use datafusion::sql::parser::{DFParser, Statement as DfStatement};
    use datafusion::sql::sqlparser::ast::Statement as Sql;
    let statements = DFParser::parse_sql(query).map_err(sql_err(query))?;
    if statements.len() != 1 {
        return Err(StoreError::ReadOnly {
            statement: format!("a script of {} statements", statements.len()),
        });
    }
    let refused = |kind: &str| {
        Err(StoreError::ReadOnly {
            statement: kind.to_string(),
        })
    };
    match statements.front() {
        Some(DfStatement::Statement(st)) => match st.as_ref() {
            Sql::Query(_)
            | Sql::Explain { .. }
            | Sql::ExplainTable { .. }
            | Sql::ShowTables { .. }
            | Sql::ShowColumns { .. }
            | Sql::ShowFunctions { .. }
            | Sql::ShowVariable { .. } => Ok(()),
            other => refused(&statement_kind(other)),
        },
        Some(DfStatement::Explain(_)) => Ok(()),
        Some(DfStatement::CopyTo(_)) => refused("COPY"),
        Some(DfStatement::CreateExternalTable(_)) => refused("CREATE EXTERNAL TABLE"),
        Some(DfStatement::Reset(_)) => refused("RESET"),
        None => refused("an empty query"),
    }
}

/// The statement's verb and, for CREATE / DROP / ALTER, its object kind
/// (`INSERT`, `CREATE TABLE`, `DROP VIEW`, `SET`), for the refusal message.
fn statement_kind(st: &datafusion::sql::sqlparser::ast::Statement) -> String {
    const OBJECTS: [&str; 8] = [
        "TABLE", "VIEW", "SCHEMA", "DATABASE", "FUNCTION", "INDEX", "CATALOG", "TYPE",
    ];
    let text = st.to_string().to_ascii_uppercase();
    let mut words = text.split_whitespace();
    let verb = words.next().unwrap_or("an unknown statement").to_string();
    if matches!(verb.as_str(), "CREATE" | "DROP" | "ALTER")
        && let Some(object) = words.take(4).find(|w| OBJECTS.contains(w))
    {
        return format!("{verb} {object}");
    }
    verb
}

/// How a known table without any file yet is registered, so that it still
/// answers with its columns and no rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilelessTables {
    /// An empty in-memory table (embedded queries).
    InMemory,
    /// A Parquet listing over the table's (absent) directory: unlike an
    /// in-memory table, a listing can be serialized into a plan that other
    /// processes run (Ballista), and it lists no files there either.
    Listing,
}

/// Registers every table of the dataset in `dir` on `ctx`, as
/// [`sql_with_limits`] does: each directory under `tables/` as a Parquet
/// listing with absolute paths (hive `day` column on day-partitioned tables),
/// known tables with their declared schema, fileless known tables as
/// `fileless` says.
pub async fn register_tables(
    ctx: &SessionContext,
    dir: &Path,
    fileless: FilelessTables,
) -> Result<()> {
    let tables = dir.join("tables");
    if !tables.is_dir() {
        return Err(StoreError::NoDataset {
            dir: dir.to_path_buf(),
        });
    }
    register_all(ctx, &tables, fileless)
        .await
        .map_err(sql_err("registering the dataset's tables"))
}

async fn register_all(
    ctx: &SessionContext,
    tables: &Path,
    fileless: FilelessTables,
) -> datafusion::error::Result<()> {
    let mut names: Vec<String> = schema::tables()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    if let Ok(entries) = std::fs::read_dir(tables) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let plain = name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if e.path().is_dir() && plain && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    for name in names {
        let path = tables.join(&name);
        let known = schema::table(&name);
        let by_day = match known {
            Some(t) => t.layout == Layout::ByDay,
            None => has_day_dirs(&path),
        };
        let mut opts =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        if by_day {
            opts = opts.with_table_partition_cols(vec![(DAY_COLUMN.to_string(), DataType::Utf8)]);
        }
        if !path.is_dir() && fileless == FilelessTables::InMemory {
            if let Some(t) = known {
                let mut fields: Vec<Field> = t
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                if by_day {
                    fields.push(Field::new(DAY_COLUMN, DataType::Utf8, false));
                }
                let schema = Arc::new(Schema::new(fields));
                let mem = MemTable::try_new(schema, vec![vec![]])?;
                ctx.register_table(name.as_str(), Arc::new(mem))?;
            }
            continue;
        }
        if !path.is_dir() && known.is_none() {
            continue;
        }
        let url = ListingTableUrl::parse(format!("{}/", absolute(&path).display()))?;
        let schema = match known {
            Some(t) => t.schema.clone(),
            None => match opts.infer_schema(&ctx.state(), &url).await {
                Ok(s) => s,
                Err(_) => continue, // an unknown, empty directory: nothing to query
            },
        };
        let config = ListingTableConfig::new(url)
            .with_listing_options(opts)
            .with_schema(schema);
        ctx.register_table(name.as_str(), Arc::new(ListingTable::try_new(config)?))?;
    }
    Ok(())
}

fn absolute(p: &Path) -> std::path::PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn has_day_dirs(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut it| {
        it.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("day=")))
    })
}

/// Writes query results to `out` in the chosen format.
pub fn render(batches: &[RecordBatch], fmt: OutputFormat, out: &mut dyn Write) -> Result<()> {
    let io = StoreError::io("write", "<output>");
    match fmt {
        OutputFormat::Table => {
            let t = datafusion::arrow::util::pretty::pretty_format_batches(batches)
                .map_err(StoreError::arrow("formatting the table"))?;
            writeln!(out, "{t}").map_err(io)
        }
        OutputFormat::Json => render_json(batches, out).map_err(io),
        OutputFormat::Csv => render_csv(batches, out).map_err(io),
    }
}

fn render_json(batches: &[RecordBatch], out: &mut dyn Write) -> std::io::Result<()> {
    let mut first = true;
    out.write_all(b"[")?;
    let mut cell = String::new();
    for rb in batches {
        let schema = rb.schema();
        let names: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| serde_json::to_string(f.name()).unwrap_or_else(|_| "\"?\"".into()))
            .collect();
        for row in 0..rb.num_rows() {
            out.write_all(if first { b"\n{" } else { b",\n{" })?;
            first = false;
            for (i, col) in rb.columns().iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(names.get(i).map_or("\"?\"", |s| s.as_str()).as_bytes())?;
                out.write_all(b":")?;
                cell.clear();
                json_value(col, row, &mut cell);
                out.write_all(cell.as_bytes())?;
            }
            out.write_all(b"}")?;
        }
    }
    out.write_all(if first { b"]\n" } else { b"\n]\n" })
}

fn json_str(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "null".into()));
}

/// One cell as JSON: numbers and booleans as such, timestamps as RFC 3339,
/// lists as arrays, structs as objects, anything else as its display text.
fn json_value(a: &ArrayRef, i: usize, out: &mut String) {
    use std::fmt::Write as _;
    if a.is_null(i) {
        out.push_str("null");
        return;
    }
    match a.data_type() {
        DataType::Boolean => out.push_str(if a.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => out.push_str(&display(a, i)),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let v = match a.data_type() {
                DataType::Float16 => f64::from(a.as_primitive::<Float16Type>().value(i)),
                DataType::Float32 => f64::from(a.as_primitive::<Float32Type>().value(i)),
                _ => a.as_primitive::<Float64Type>().value(i),
            };
            if v.is_finite() {
                let _ = write!(out, "{v}");
            } else {
                out.push_str("null");
            }
        }
        DataType::Timestamp(..) => json_str(&timestamp_text(a, i), out),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let inner: ArrayRef = match a.data_type() {
                DataType::List(_) => a.as_list::<i32>().value(i),
                DataType::LargeList(_) => a.as_list::<i64>().value(i),
                _ => a.as_fixed_size_list().value(i),
            };
            out.push('[');
            for j in 0..inner.len() {
                if j > 0 {
                    out.push(',');
                }
                json_value(&inner, j, out);
            }
            out.push(']');
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            out.push('{');
            for (j, f) in fields.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json_str(f.name(), out);
                out.push(':');
                json_value(s.column(j), i, out);
            }
            out.push('}');
        }
        _ => json_str(&display(a, i), out),
    }
}

fn display(a: &ArrayRef, i: usize) -> String {
    let opts = FormatOptions::default();
    match ArrayFormatter::try_new(a.as_ref(), &opts) {
        Ok(f) => f.value(i).to_string(),
        Err(_) => String::new(),
    }
}

/// A timestamp cell as RFC 3339 in UTC (`2008-11-11T21:30:00Z`, with
/// microseconds only when there are any).
fn timestamp_text(a: &ArrayRef, i: usize) -> String {
    use datafusion::arrow::datatypes::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    let micros = match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => a
            .as_primitive::<TimestampSecondType>()
            .value(i)
            .saturating_mul(1_000_000),
        DataType::Timestamp(TimeUnit::Millisecond, _) => a
            .as_primitive::<TimestampMillisecondType>()
            .value(i)
            .saturating_mul(1000),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            a.as_primitive::<TimestampMicrosecondType>().value(i)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => a
            .as_primitive::<TimestampNanosecondType>()
            .value(i)
            .div_euclid(1000),
        _ => return display(a, i),
    };
    rfc3339_micros(micros)
}

pub(crate) fn rfc3339_micros(micros: i64) -> String {
    let t = depeer_core::Timestamp(micros);
    let frac = micros.rem_euclid(1_000_000);
    let mut s = t.to_rfc3339();
    if frac != 0 {
        s.pop();
        s.push_str(&format!(".{frac:06}Z"));
    }
    s
}

fn render_csv(batches: &[RecordBatch], out: &mut dyn Write) -> std::io::Result<()> {
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let header: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|f| csv_field(f.name()))
        .collect();
    writeln!(out, "{}", header.join(","))?;
    let opts = FormatOptions::default();
    let mut line = String::new();
    for rb in batches {
        let fmts: Vec<Option<ArrayFormatter<'_>>> = rb
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).ok())
            .collect();
        for row in 0..rb.num_rows() {
            line.clear();
            for (i, col) in rb.columns().iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                if col.is_null(row) {
                    continue;
                }
                let text = if matches!(col.data_type(), DataType::Timestamp(..)) {
                    timestamp_text(col, row)
                } else {
                    fmts.get(i)
                        .and_then(|f| f.as_ref())
                        .map(|f| f.value(row).to_string())
                        .unwrap_or_default()
                };
                line.push_str(&csv_field(&text));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, ListArray, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::Int64Type;

    fn sample() -> RecordBatch {
        let ts = TimestampMicrosecondArray::from(vec![Some(1_226_439_000_000_000), None])
            .with_timezone("UTC");
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            Some(vec![]),
        ]);
        RecordBatch::try_from_iter(vec![
            ("n", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a,\"b\""), None])) as ArrayRef,
            ),
            ("t", Arc::new(ts) as ArrayRef),
            ("l", Arc::new(list) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn json_is_an_array_of_objects_with_rfc3339_times() {
        let mut out = Vec::new();
        render(&[sample()], OutputFormat::Json, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"n": 1, "s": "a,\"b\"", "t": "2008-11-11T21:30:00Z", "l": [1, 2]},
                {"n": 2, "s": null, "t": null, "l": []}
            ])
        );
        let mut out = Vec::new();
        render(
            &[RecordBatch::new_empty(sample().schema())],
            OutputFormat::Json,
            &mut out,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
    }

    #[test]
    fn csv_quotes_and_leaves_nulls_empty() {
        let mut out = Vec::new();
        render(&[sample()], OutputFormat::Csv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "n,s,t,l");
        assert_eq!(
            lines[1],
            "1,\"a,\"\"b\"\"\",2008-11-11T21:30:00Z,\"[1, 2]\""
        );
        assert_eq!(lines[2], "2,,,[]");
    }

    #[test]
    fn fractional_micros_are_kept() {
        assert_eq!(rfc3339_micros(1_500_000), "1970-01-01T00:00:01.500000Z");
        assert_eq!(rfc3339_micros(-1), "1969-12-31T23:59:59.999999Z");
    }
}
