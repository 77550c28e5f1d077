//! Every real public feed sample in the shared data that a built-in format
//! reads (`DEPEER_SHARED`, or `../shared` beside the repository). Without
//! the data the test says so on one line and passes.

use std::path::{Path, PathBuf};

use depeer_intel::{FeedKind, Format, detect_format};

use crate::{opts, read_all};

fn shared() -> Option<PathBuf> {
    let p = match std::env::var_os("DEPEER_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    p.join("data/feeds").is_dir().then_some(p)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            walk(&e.unwrap().path(), out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// Data lines of a text file (not blank, not a comment).
fn data_lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with(';') && !t.starts_with('#')
        })
        .count()
}

#[test]
fn every_real_sample_of_a_built_in_format_is_read_whole() {
    let Some(root) = shared() else {
        eprintln!(
            "SKIP real feed samples: no shared data (set DEPEER_SHARED or put it at ../shared)"
        );
        return;
    };
    let mut files = Vec::new();
    walk(&root.join("data/feeds"), &mut files);
    files.sort();
    let mut read = Vec::new();
    for f in &files {
        if f.extension().is_some_and(|e| e == "gz") {
            continue; // AS names and as2org: not feeds of listings.
        }
        let head: Vec<u8> = std::fs::read(f).unwrap().into_iter().take(8192).collect();
        let Some(format) = detect_format(&head) else {
            continue;
        };
        let (ok, bad, stats) = read_all(f, opts());
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        assert!(
            bad.is_empty(),
            "{name}: {:?}",
            bad.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        assert!(!ok.is_empty(), "{name}");
        match format {
            Format::AsndropJson => {
                // The metadata line says how many records precede it.
                let text = std::fs::read_to_string(f).unwrap();
                let meta: serde_json::Value =
                    serde_json::from_str(text.lines().last().unwrap()).unwrap();
                assert_eq!(ok.len() as u64, meta["records"].as_u64().unwrap(), "{name}");
                assert_eq!(stats.metadata, 1);
                assert!(
                    ok.iter()
                        .all(|e| e.indicator.starts_with("AS") && e.kind == FeedKind::Net)
                );
            }
            Format::DropText | Format::Openphish => {
                assert_eq!(ok.len(), data_lines(f), "{name}");
            }
            Format::PhishtankCsv => {
                assert_eq!(ok.len(), data_lines(f) - 1, "{name}: header not counted");
                assert!(ok.iter().all(|e| e.first_seen.is_some()));
            }
            _ => {}
        }
        read.push((name, format, ok.len()));
    }
    for (n, f, c) in &read {
        eprintln!("read {n} as {f}: {c} entries");
    }
    // The inventory (data/README.md) has these; a detection regression must fail here.
    let formats: Vec<Format> = read.iter().map(|r| r.1).collect();
    for f in [
        Format::Openphish,
        Format::PhishtankCsv,
        Format::DropText,
        Format::AsndropJson,
    ] {
        assert!(formats.contains(&f), "no real sample read as {f}");
    }
    assert!(read.len() >= 11, "{read:?}");
    // cymru.map (a Python dict literal) is not a feed and must not be taken for one.
    assert!(!read.iter().any(|r| r.0.ends_with("cymru.map")));
}
