//! `depeer sql` is read-only by construction, and a query past its memory
//! or time limit stops with a clear error (issue 16).

use std::path::Path;
use std::time::{Duration, Instant};

use depeer_store::{QueryLimits, Store, StoreError, sql, sql_with_limits};

fn dataset() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    Store::open(tmp.path()).unwrap();
    tmp
}

fn refused(dir: &Path, query: &str) -> String {
    match sql(dir, query) {
        Err(StoreError::ReadOnly { statement }) => statement,
        other => panic!("{query}: expected a read-only refusal, got {other:?}"),
    }
}

fn nothing_written(dir: &Path) {
    let tables = std::fs::read_dir(dir.join("tables")).unwrap();
    for t in tables.flatten() {
        let files = walk_files(&t.path());
        assert!(files.is_empty(), "a refused statement wrote {files:?}");
    }
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk_files(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Statements that write or change the session, and the kind each refusal
/// names (after `~`: a part of it, in any case).
const REFUSED: &[(&str, &str)] = &[
    (
        "INSERT INTO messages SELECT * FROM messages LIMIT 1",
        "INSERT",
    ),
    ("CREATE TABLE t AS SELECT 1 AS x", "CREATE TABLE"),
    ("CREATE VIEW v AS SELECT 1 AS x", "CREATE VIEW"),
    (
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "CREATE EXTERNAL TABLE",
    ),
    ("DROP TABLE messages", "DROP TABLE"),
    ("SET datafusion.execution.batch_size = 1", "SET"),
    ("DELETE FROM messages", "DELETE"),
    ("UPDATE messages SET subject = 'x'", "UPDATE"),
    (
        "SELECT 1; INSERT INTO messages SELECT * FROM messages",
        "~2 statements",
    ),
    // EXPLAIN passes the statement check; the plan check still finds the
    // INSERT inside it (EXPLAIN ANALYZE would execute it).
    (
        "EXPLAIN ANALYZE INSERT INTO messages SELECT * FROM messages",
        "~insert",
    ),
];

#[test]
fn every_write_is_refused_and_writes_nothing() {
    let d = dataset();
    let target = d.path().join("out.csv");
    let copy = format!("COPY (SELECT 1) TO '{}'", target.display());
    for &(q, want) in REFUSED.iter().chain([&(copy.as_str(), "COPY")]) {
        let kind = refused(d.path(), q);
        match want.strip_prefix('~') {
            Some(part) => assert!(kind.to_lowercase().contains(part), "{q}: {kind}"),
            None => assert_eq!(kind, want, "{q}"),
        }
    }
    nothing_written(d.path());
    assert!(!target.exists());
    // The dropped table is still there.
    sql(d.path(), "SELECT count(*) FROM messages").unwrap();
}

#[test]
fn reads_still_run() {
    let d = dataset();
    for q in [
        "SELECT count(*) FROM messages",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "VALUES (1), (2)",
        "EXPLAIN SELECT count(*) FROM messages",
        "SHOW TABLES",
        "SHOW COLUMNS FROM messages",
        "DESCRIBE messages",
    ] {
        sql(d.path(), q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

/// Runs `q` on an empty dataset with these limits; the number of batches.
fn with_limits(memory_bytes: usize, time: Duration, q: &str) -> Result<usize, StoreError> {
    let d = dataset();
    let limits = QueryLimits { memory_bytes, time };
    sql_with_limits(d.path(), q, &limits).map(|b| b.len())
}

#[test]
fn a_query_past_its_memory_limit_stops_with_a_clear_error() {
    let q = "SELECT v FROM generate_series(1, 5000000) AS t(v) ORDER BY v DESC";
    match with_limits(8 << 20, Duration::from_secs(120), q) {
        Err(e @ StoreError::QueryMemory { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("memory limit of 8 MB"), "{msg}");
        }
        other => panic!("expected a memory-limit error, got {other:?}"),
    }
}

#[test]
fn a_query_past_its_time_limit_stops_with_a_clear_error() {
    let q = "SELECT sum(v) FROM generate_series(1, 100000000000) AS t(v)";
    let start = Instant::now();
    match with_limits(1 << 30, Duration::from_millis(300), q) {
        Err(e @ StoreError::QueryTimeout { .. }) => {
            assert!(e.to_string().contains("time limit"), "{e}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the timeout took {:?} to fire",
        start.elapsed()
    );
}
