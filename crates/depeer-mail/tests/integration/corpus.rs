//! The golden suites under `tests/corpus/<suite>/`: one runner for all of
//! them (STYLE.md habit 7; model: mail-parser's `parse_full_messages`).
//!
//! Every input `NNN.<ext>` has its expected output `NNN.json` beside it and
//! a row in the suite's README.md saying where it comes from and why it is
//! there. A fixture whose output differs (or has no `NNN.json`) gets
//! `NNN.failed` with the actual output, written in the same layout, so
//! accepting a change is a `mv`; a stale `NNN.failed` is removed when the
//! fixture passes again. An empty suite fails.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The inputs of a suite, sorted by name.
fn inputs(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    names.sort();
    names
}

/// Whether `got` matches `expected`: for an object, every key the fixture
/// lists (a hand-written fixture may list only the keys it is about); for
/// anything else, the whole value.
fn matches(expected: &Value, got: &Value) -> bool {
    match expected.as_object() {
        Some(keys) => keys
            .iter()
            .all(|(k, v)| got.get(k).unwrap_or(&Value::Null) == v),
        None => expected == got,
    }
}

/// JSON laid out for review: one key per line, and an array of arrays or
/// objects one element per line (a URL list reads as a table).
pub(crate) fn layout(v: &Value) -> String {
    fn go(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent + 1);
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, x)) in m.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push_str(": ");
                    go(x, indent + 1, out);
                    out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                out.push_str(&" ".repeat(indent));
                out.push('}');
            }
            Value::Array(a) if a.iter().any(|x| x.is_array() || x.is_object()) => {
                out.push_str("[\n");
                for (i, x) in a.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str(&x.to_string());
                    out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                }
                out.push_str(&" ".repeat(indent));
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    go(v, 0, &mut out);
    out.push('\n');
    out
}

/// Runs the suite `tests/corpus/<suite>`: `actual` maps an input's bytes to
/// its output. Panics listing every mismatch.
pub(crate) fn run_suite(suite: &str, ext: &str, actual: impl Fn(&[u8]) -> Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(suite);
    let names = inputs(&dir, ext);
    assert!(!names.is_empty(), "the suite {} is empty", dir.display());
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    let mut failures = Vec::new();
    for input in &names {
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("| {stem} |")),
            "{}: no row in the suite's README.md",
            input.display()
        );
        let got = actual(&std::fs::read(input).unwrap());
        let expected: Option<Value> = std::fs::read_to_string(input.with_extension("json"))
            .ok()
            .map(|s| serde_json::from_str(&s).unwrap());
        let failed = input.with_extension("failed");
        match expected {
            Some(e) if matches(&e, &got) => {
                let _ = std::fs::remove_file(&failed);
            }
            _ => {
                std::fs::write(&failed, layout(&got)).unwrap();
                failures.push(failed.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures in {suite} differ; actual output written to:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
