//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test (built by cargo for this test target).
pub(crate) fn depeer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_depeer"))
}

/// The shared test data (`$DEPEER_SHARED/data`, else `../shared/data`
/// beside the repository), or `None` after saying on stderr that `test` is
/// skipped and how to run it: a fresh clone passes without it, CI has it.
pub(crate) fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = shared_dir();
    if dir.is_none() {
        // Straight to the process's stderr, past the test harness's capture,
        // so that the line shows (and scripts/test counts it) when the test passes.
        let line = format!(
            "SKIPPED {test}: needs ../shared/data (not at {}); set DEPEER_SHARED or put shared/ beside the repo",
            data_path().display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    }
    dir
}

/// What a test on the shared data works with.
pub(crate) struct SharedRun {
    /// The shared test data.
    pub(crate) shared: PathBuf,
    /// A data directory (not yet created) in a fresh temporary directory.
    pub(crate) data: PathBuf,
    /// Removes the temporary directory when the test ends.
    _tmp: tempfile::TempDir,
}

/// [`shared_data`] for `test`, with an empty data directory of its own.
pub(crate) fn shared_run(test: &str) -> Option<SharedRun> {
    let shared = shared_data(test)?;
    let tmp = tempfile::tempdir().expect("a temporary directory");
    Some(SharedRun {
        shared,
        data: tmp.path().join("data"),
        _tmp: tmp,
    })
}

/// The shared test data if it is there, silently.
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let dir = data_path();
    dir.is_dir().then_some(dir)
}

fn data_path() -> PathBuf {
    match std::env::var_os("DEPEER_SHARED") {
        Some(shared) => Path::new(&shared).join("data"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// `depeer sim` of `scenario` with `seed`, quiet, its last argument
/// `--out`: the caller adds the world's directory (and more flags).
pub(crate) fn sim(scenario: &str, seed: &str) -> Command {
    let mut cmd = depeer();
    cmd.args(["-q", "sim", "--scenario", scenario, "--seed", seed, "--out"]);
    cmd
}

/// Runs and insists on success; returns stdout.
pub(crate) fn ok(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("run depeer");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `depeer sql --json` as parsed rows.
pub(crate) fn sql(data: &Path, query: &str) -> Vec<serde_json::Value> {
    let out = ok(depeer()
        .arg("sql")
        .arg("--data")
        .arg(data)
        .arg("--json")
        .arg(query));
    match serde_json::from_str(&out).expect("sql --json is JSON") {
        serde_json::Value::Array(rows) => rows,
        other => panic!("expected an array, got {other}"),
    }
}

/// An integer cell of a row.
pub(crate) fn int(row: &serde_json::Value, col: &str) -> i64 {
    row.get(col)
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_else(|| panic!("no integer {col} in {row}"))
}
