//! Integration tests of depeer-intel: attribution's guards, the
//! hand-written corpus, the malformed-line corpus, and every real public
//! sample in the shared data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod attribution;
mod corpus;
mod reader;
mod real;

use std::path::{Path, PathBuf};

use depeer_core::Timestamp;
use depeer_intel::{FeedEntry, FeedOptions, FeedStats, IntelError, read_feed};

pub(crate) fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/feeds")
}

/// Reads a whole file with `opts`; entries and errors apart.
pub(crate) fn read_all(
    path: &Path,
    mut opts: FeedOptions,
) -> (Vec<FeedEntry>, Vec<IntelError>, FeedStats) {
    opts.path = path.display().to_string();
    let f = std::fs::File::open(path).unwrap();
    let mut r = read_feed(std::io::BufReader::new(f), opts);
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for x in r.by_ref() {
        match x {
            Ok(e) => ok.push(e),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad, r.stats().clone())
}

pub(crate) fn opts() -> FeedOptions {
    FeedOptions::new("", Timestamp::parse("2026-12-06T00:00:00Z").unwrap())
}
