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

#[test]
fn insert_is_refused() {
    let d = dataset();
    let kind = refused(
        d.path(),
        "INSERT INTO messages SELECT * FROM messages LIMIT 1",
    );
    assert_eq!(kind, "INSERT");
    nothing_written(d.path());
}

#[test]
fn copy_is_refused_and_writes_no_file() {
    let d = dataset();
    let target = d.path().join("out.csv");
    let q = format!("COPY (SELECT 1) TO '{}'", target.display());
    assert_eq!(refused(d.path(), &q), "COPY");
    assert!(!target.exists());
}

#[test]
fn create_table_is_refused() {
    let d = dataset();
    assert_eq!(
        refused(d.path(), "CREATE TABLE t AS SELECT 1 AS x"),
        "CREATE TABLE"
    );
    assert_eq!(
        refused(d.path(), "CREATE VIEW v AS SELECT 1 AS x"),
        "CREATE VIEW"
    );
}

#[test]
fn create_external_table_is_refused() {
    let d = dataset();
    let q = "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'";
    assert_eq!(refused(d.path(), q), "CREATE EXTERNAL TABLE");
}

#[test]
fn drop_is_refused() {
    let d = dataset();
    assert_eq!(refused(d.path(), "DROP TABLE messages"), "DROP TABLE");
    // The table is still there.
    sql(d.path(), "SELECT count(*) FROM messages").unwrap();
}

#[test]
fn set_is_refused() {
    let d = dataset();
    assert_eq!(
        refused(d.path(), "SET datafusion.execution.batch_size = 1"),
        "SET"
    );
}

#[test]
fn delete_update_and_scripts_are_refused() {
    let d = dataset();
    assert_eq!(refused(d.path(), "DELETE FROM messages"), "DELETE");
    assert_eq!(
        refused(d.path(), "UPDATE messages SET subject = 'x'"),
        "UPDATE"
    );
    let kind = refused(
        d.path(),
        "SELECT 1; INSERT INTO messages SELECT * FROM messages",
    );
    assert!(kind.contains("2 statements"), "{kind}");
}

#[test]
fn explain_analyze_of_a_write_is_refused_by_the_plan_check() {
    // EXPLAIN passes the statement check; the plan check still finds the
    // INSERT inside it (EXPLAIN ANALYZE would execute it).
    let d = dataset();
    let kind = refused(
        d.path(),
        "EXPLAIN ANALYZE INSERT INTO messages SELECT * FROM messages",
    );
    assert!(kind.contains("Insert") || kind.contains("INSERT"), "{kind}");
    nothing_written(d.path());
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

#[test]
fn a_query_past_its_memory_limit_stops_with_a_clear_error() {
    let d = dataset();
    let limits = QueryLimits {
        memory_bytes: 8 << 20,
        time: Duration::from_secs(120),
    };
    let q = "SELECT v FROM generate_series(1, 5000000) AS t(v) ORDER BY v DESC";
    match sql_with_limits(d.path(), q, &limits) {
        Err(e @ StoreError::QueryMemory { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("memory limit of 8 MB"), "{msg}");
        }
        other => panic!(
            "expected a memory-limit error, got {:?}",
            other.map(|b| b.len())
        ),
    }
}

#[test]
fn a_query_past_its_time_limit_stops_with_a_clear_error() {
    let d = dataset();
    let limits = QueryLimits {
        memory_bytes: 1 << 30,
        time: Duration::from_millis(300),
    };
    let q = "SELECT sum(v) FROM generate_series(1, 100000000000) AS t(v)";
    let start = Instant::now();
    match sql_with_limits(d.path(), q, &limits) {
        Err(e @ StoreError::QueryTimeout { .. }) => {
            assert!(e.to_string().contains("time limit"), "{e}");
        }
        other => panic!("expected a timeout, got {:?}", other.map(|b| b.len())),
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the timeout took {:?} to fire",
        start.elapsed()
    );
}
