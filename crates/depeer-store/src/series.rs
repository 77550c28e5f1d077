//! What the volume series and the dependency graph read and write: the
//! messages of a time range (time and relay only, reading only the day
//! partitions that can hold them), and the `dependencies` table written by
//! `depeer depends --build` (replaced whole on each build; see
//! docs/schema.md).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use depeer_core::Timestamp;

use crate::error::{Result, StoreError};
use crate::parquet_io::{self, Cols, int_col, list_parts, opt_str, text_col, time_col};
use crate::read::Dataset;
use crate::schema::{names, ts};
use crate::store::Store;

/// Name of the table `depeer depends --build` writes.
pub const DEPENDENCIES: &str = "dependencies";

/// One stored message, reduced to what a volume series needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePoint {
    /// `messages.sha256`.
    pub sha256: String,
    /// Arrival time.
    pub time: Timestamp,
    /// The relay address as stored.
    pub relay_ip: Option<String>,
}

/// One row of `dependencies`.
#[derive(Debug, Clone, PartialEq)]
pub struct DependencyRow {
    /// Start of the window.
    pub window_start: Timestamp,
    /// End of the window (exclusive).
    pub window_end: Timestamp,
    /// The botnet; `None` for messages without one.
    pub botnet: Option<String>,
    /// The campaign (site rows).
    pub campaign: Option<String>,
    /// `cc` or `site`.
    pub kind: String,
    /// The C&C address or the site's host name.
    pub indicator: String,
    /// The address it was placed by.
    pub address: String,
    /// Longest prefix routed to the address then.
    pub prefix: Option<String>,
    /// Origin AS of that prefix (one row per origin).
    pub asn: Option<u32>,
    /// Organisation (or AS name) of that AS.
    pub org: Option<String>,
    /// Its upstreams then, space-separated AS numbers.
    pub upstreams: String,
    /// Messages of the window depending on it.
    pub messages: u64,
    /// `messages` over all messages of the window.
    pub share: f64,
}

/// The schema of `dependencies`.
pub fn dependencies_schema() -> Schema {
    let text = |n: &str, null| Field::new(n, DataType::Utf8, null);
    Schema::new(vec![
        Field::new("window_start", ts(), false),
        Field::new("window_end", ts(), false),
        text("botnet", true),
        text("campaign", true),
        text("kind", false),
        text("indicator", false),
        text("address", false),
        text("prefix", true),
        Field::new("asn", DataType::Int64, true),
        text("org", true),
        text("upstreams", false),
        Field::new("messages", DataType::Int64, false),
        Field::new("share", DataType::Float64, false),
    ])
}

fn dependencies_batch(rows: &[DependencyRow]) -> Result<RecordBatch> {
    let t = |f: fn(&DependencyRow) -> Option<&str>| text_col(rows, f);
    let cols: Vec<ArrayRef> = vec![
        time_col(rows, |r| Some(r.window_start)),
        time_col(rows, |r| Some(r.window_end)),
        t(|r| r.botnet.as_deref()),
        t(|r| r.campaign.as_deref()),
        t(|r| Some(r.kind.as_str())),
        t(|r| Some(r.indicator.as_str())),
        t(|r| Some(r.address.as_str())),
        t(|r| r.prefix.as_deref()),
        int_col(rows, |r| r.asn.map(i64::from)),
        t(|r| r.org.as_deref()),
        t(|r| Some(r.upstreams.as_str())),
        int_col(rows, |r| {
            Some(i64::try_from(r.messages).unwrap_or(i64::MAX))
        }),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.share))),
    ];
    RecordBatch::try_new(Arc::new(dependencies_schema()), cols)
        .map_err(StoreError::arrow("building dependencies"))
}

/// Whether a `day=YYYY-MM-DD` partition of `path` can hold times in
/// `[from, until)` (paths without a day always can).
fn day_may_hold(path: &Path, from: Option<&str>, until: Option<&str>) -> bool {
    let day = path
        .components()
        .filter_map(|c| c.as_os_str().to_str()?.strip_prefix("day="))
        .next();
    match day {
        None => true,
        Some(d) => from.is_none_or(|f| d >= f) && until.is_none_or(|u| d <= u),
    }
}

impl Dataset {
    /// The messages that arrived in `[from, until)` (open ends: all), in
    /// no particular order.
    pub fn read_message_points(
        &self,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Vec<MessagePoint>> {
        let (fd, ud) = (
            from.map(Timestamp::day),
            until.map(|u| Timestamp(u.0.saturating_sub(1)).day()),
        );
        let files: Vec<_> = list_parts(&self.dir().join("tables").join(names::MESSAGES))?
            .into_iter()
            .filter(|p| day_may_hold(p, fd.as_deref(), ud.as_deref()))
            .collect();
        self.message_points_in(&files, from, until)
    }

    /// The messages of `files` (from [`Dataset::message_parts`]) that
    /// arrived in `[from, until)`, in no particular order.
    pub fn message_points_in(
        &self,
        files: &[std::path::PathBuf],
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Vec<MessagePoint>> {
        parquet_io::par_files(files, |p| {
            let mut v = Vec::new();
            let cols = ["sha256", "arrival_time", "relay_ip"];
            parquet_io::read_columns(p, &cols, |rb| {
                let c = Cols { rb, path: p };
                let (sha, time, relay) =
                    (c.str("sha256")?, c.ts("arrival_time")?, c.str("relay_ip")?);
                for i in 0..sha.len() {
                    let t = time.value(i);
                    if from.is_some_and(|f| t < f.0) || until.is_some_and(|u| t >= u.0) {
                        continue;
                    }
                    v.push(MessagePoint {
                        sha256: sha.value(i).to_string(),
                        time: Timestamp(t),
                        relay_ip: opt_str(relay, i).map(str::to_string),
                    });
                }
                Ok(())
            })?;
            Ok(v)
        })
    }

    /// The committed files of the `messages` table, sorted. Batches only
    /// add files and a committed file never changes, so a reader that
    /// remembers the files it has read (`depeer events --follow`) reads
    /// each message once.
    pub fn message_parts(&self) -> Result<Vec<std::path::PathBuf>> {
        list_parts(&self.dir().join("tables").join(names::MESSAGES))
    }

    /// The committed files of table `table` (a name of
    /// `depeer_store::names`), sorted; none when it has none. A reader
    /// compares two lists to learn whether the table changed.
    pub fn table_parts(&self, table: &str) -> Result<Vec<std::path::PathBuf>> {
        let dir = self.dir().join("tables").join(table);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        list_parts(&dir)
    }

    /// The arrival times (Unix µs) of the messages in `files` (from
    /// [`Dataset::message_parts`]), in no particular order.
    pub fn read_arrival_times(&self, files: &[std::path::PathBuf]) -> Result<Vec<i64>> {
        parquet_io::par_files(files, |p| {
            let mut v = Vec::new();
            parquet_io::read_columns(p, &["arrival_time"], |rb| {
                let time = Cols { rb, path: p }.ts("arrival_time")?;
                v.extend((0..time.len()).map(|i| time.value(i)));
                Ok(())
            })?;
            Ok(v)
        })
    }

    /// Whether `dependencies` has been built.
    pub fn has_dependencies(&self) -> bool {
        self.dir().join("tables").join(DEPENDENCIES).is_dir()
    }
}

impl Store {
    /// Replaces the whole `dependencies` table with `rows` in one commit.
    pub fn replace_dependencies(&self, rows: &[DependencyRow]) -> Result<()> {
        self.replace_derived(DEPENDENCIES, &dependencies_batch(rows)?)
    }

    /// Replaces a derived table (one rebuilt whole from the others, like
    /// `dependencies` and `events`) with one file holding `rows`, in one
    /// commit: readers see the old table or the new one, never a mix.
    pub(crate) fn replace_derived(&self, table: &str, rows: &RecordBatch) -> Result<()> {
        let root = self.inner.dir.clone();
        let mut batch = self.inner.new_batch();
        let old = list_parts(&root.join("tables").join(table))?;
        old.iter()
            .filter_map(|p| p.strip_prefix(&root).ok())
            .for_each(|rel| batch.delete(rel.to_string_lossy().into_owned()));
        let rel = format!("tables/{table}/part-{}-0.parquet", batch.id());
        parquet_io::write_part(&mut batch, &rel, rows, &[])?;
        self.inner.commit(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_replaced_and_queryable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let row = DependencyRow {
            window_start: Timestamp(0),
            window_end: Timestamp(86_400_000_000),
            botnet: Some("srizbi".into()),
            campaign: None,
            kind: "cc".into(),
            indicator: "10.0.0.1".into(),
            address: "10.0.0.1".into(),
            prefix: Some("10.0.0.0/8".into()),
            asn: Some(26780),
            org: Some("McColo".into()),
            upstreams: "3549 6939".into(),
            messages: 7,
            share: 0.5,
        };
        store
            .replace_dependencies(&[row.clone(), row.clone()])
            .unwrap();
        store.replace_dependencies(&[row]).unwrap();
        assert!(store.dataset().has_dependencies());
        let out = crate::sql(
            tmp.path(),
            "SELECT count(*) AS n, sum(messages) AS m, max(asn) AS a FROM dependencies",
        )
        .unwrap();
        let mut text = Vec::new();
        crate::render(&out, crate::OutputFormat::Csv, &mut text).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "n,m,a\n1,7,26780\n");
    }

    #[test]
    fn day_partitions_are_pruned() {
        let p = Path::new("/d/tables/messages/day=2008-11-11/part-1.parquet");
        assert!(day_may_hold(p, Some("2008-11-11"), Some("2008-11-11")));
        assert!(!day_may_hold(p, Some("2008-11-12"), None));
        assert!(!day_may_hold(p, None, Some("2008-11-10")));
        assert!(day_may_hold(
            Path::new("/d/part-1.parquet"),
            Some("2009-01-01"),
            None
        ));
    }
}
