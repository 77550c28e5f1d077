//! Every message of the real corpora extracts or gives a reasoned error.
//! The corpora are the shared test data (`$DEPEER_SHARED/data`, else
//! `../shared/data` beside the repository); without them these tests say
//! SKIPPED on stderr and pass, so `cargo test` works on a fresh clone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use depeer_mail::{MessageReader, TrustConfig, extract};

/// The shared data directory, or `None` after one line saying what is
/// skipped and how to run it.
fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("DEPEER_SHARED") {
        Some(shared) => Path::new(&shared).join("data"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if dir.join("spam").is_dir() {
        return Some(dir);
    }
    // Straight to the process's stderr, past the test harness's capture,
    // so that the line shows (and scripts/test counts it) when the test passes.
    let line = format!(
        "SKIPPED {test}: no shared test data at {}; put shared/ beside the repository or set DEPEER_SHARED to run it",
        dir.display()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    None
}

/// The files below `dir`, checksum lists left out.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        if p.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.file_name().is_some_and(|n| n != "SHA256SUMS") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn run(data: &Path, sub: &str) -> (usize, BTreeMap<&'static str, usize>, usize) {
    let files = files_below(&data.join(sub));
    assert!(
        !files.is_empty(),
        "no data under {}",
        data.join(sub).display()
    );
    let trust = TrustConfig::default();
    let (mut ok, mut with_relay) = (0usize, 0usize);
    let mut errors = BTreeMap::new();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        for raw in MessageReader::sniffed(&data[..]).unwrap() {
            let raw = match raw {
                Ok(r) => r,
                Err(e) => {
                    *errors.entry(e.reason()).or_insert(0) += 1;
                    continue;
                }
            };
            match extract(&raw.bytes, &super::ctx(&trust)) {
                Ok(e) => {
                    ok += 1;
                    with_relay += usize::from(e.message.relay_ip.is_some());
                    assert_eq!(e.message.url_count as usize, e.urls.len());
                    assert_eq!(e.message.fingerprint.len(), 128);
                }
                Err(e) => *errors.entry(e.reason()).or_insert(0) += 1,
            }
        }
    }
    (ok, errors, with_relay)
}

/// What extracting every message of the shared corpus `sub` gave:
/// extracted, failed, extracted with a relay. `None` (skipped) without the
/// shared data.
fn extract_corpus(test: &str, sub: &str) -> Option<(usize, usize, usize)> {
    let data = shared_data(test)?;
    let (ok, errors, with_relay) = run(&data, sub);
    let failed: usize = errors.values().sum();
    eprintln!("{sub}: {ok} extracted, {with_relay} with a relay, errors {errors:?}");
    Some((ok, failed, with_relay))
}

#[test]
fn all_real_spam_extracts_or_has_a_reason() {
    let test = "all_real_spam_extracts_or_has_a_reason";
    if let Some((ok, failed, with_relay)) = extract_corpus(test, "spam") {
        assert!(ok >= 2700, "{ok}");
        assert!(failed <= 10, "{failed} failed");
        assert!(with_relay * 100 >= ok * 95, "{with_relay} of {ok}");
    }
}

#[test]
fn all_real_ham_extracts_or_has_a_reason() {
    let test = "all_real_ham_extracts_or_has_a_reason";
    if let Some((ok, failed, _)) = extract_corpus(test, "ham") {
        assert!(ok > 1000, "{ok}");
        assert!(failed * 100 <= ok, "{failed} failed");
    }
}
