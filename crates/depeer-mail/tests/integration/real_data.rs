//! Every message of the real corpora extracts or gives a reasoned error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use depeer_mail::{MessageReader, TrustConfig, extract};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            walk(&e.unwrap().path(), out);
        }
    } else if p.file_name().is_some_and(|n| n != "SHA256SUMS") {
        out.push(p.to_path_buf());
    }
}

fn run(sub: &str) -> (usize, BTreeMap<&'static str, usize>, usize) {
    let mut files = Vec::new();
    walk(&Path::new(DATA).join(sub), &mut files);
    assert!(!files.is_empty(), "no data under {DATA}/{sub}");
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

#[test]
fn all_real_spam_extracts_or_has_a_reason() {
    let (ok, errors, with_relay) = run("spam");
    let failed: usize = errors.values().sum();
    eprintln!("spam: {ok} extracted, {with_relay} with a relay, errors {errors:?}");
    assert!(ok >= 2700, "{ok}");
    assert!(failed <= 10, "{errors:?}");
    assert!(with_relay * 100 >= ok * 95, "{with_relay} of {ok}");
}

#[test]
fn all_real_ham_extracts_or_has_a_reason() {
    let (ok, errors, _) = run("ham");
    let failed: usize = errors.values().sum();
    eprintln!("ham: {ok} extracted, errors {errors:?}");
    assert!(ok > 1000, "{ok}");
    assert!(failed * 100 <= ok, "{errors:?}");
}
