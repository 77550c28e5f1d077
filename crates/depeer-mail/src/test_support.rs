//! Helpers shared by the unit tests: a deterministic random generator for
//! the randomized oracle tests, and the real mail of the shared test data
//! (`$DEPEER_SHARED/data`, else `../shared/data` beside the repository),
//! which tests skip with one line on stderr when it is absent.

use std::path::{Path, PathBuf};

/// Marsaglia's xorshift64: the same sequence on every run and machine.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = xorshift(self.0);
        self.0
    }

    /// A number below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// One step of xorshift64 (Marsaglia's 13, 7, 17).
pub(crate) fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// The shared data directory, or `None` after saying on stderr that `test`
/// is skipped and how to run it.
pub(crate) fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("DEPEER_SHARED") {
        Some(shared) => Path::new(&shared).join("data"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if dir.join("spam").is_dir() {
        Some(dir)
    } else {
        // Straight to the process's stderr, past the test harness's capture,
        // so that the line shows (and scripts/test counts it) when the test passes.
        let line = format!(
            "SKIPPED {test}: no shared test data at {}; put shared/ beside the repository or set DEPEER_SHARED to run it",
            dir.display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
        None
    }
}

/// Every file below `data/<sub>` for each of `subs`, in directory order,
/// checksum lists left out.
pub(crate) fn data_files(data: &Path, subs: &[&str]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        } else if p.file_name().is_some_and(|n| n != "SHA256SUMS") {
            out.push(p.to_path_buf());
        }
    }
    let mut files = Vec::new();
    for sub in subs {
        let before = files.len();
        walk(&data.join(sub), &mut files);
        assert!(
            files.len() > before,
            "no data under {}",
            data.join(sub).display()
        );
    }
    files
}

/// Every message of the real spam and ham (framed as mbox or single
/// messages), with the file it came from.
pub(crate) fn real_messages(data: &Path) -> Vec<(PathBuf, crate::RawMessage)> {
    let mut out = Vec::new();
    for f in data_files(data, &["spam", "ham"]) {
        let bytes = std::fs::read(&f).unwrap();
        for raw in crate::MessageReader::sniffed(&bytes[..]).unwrap().flatten() {
            out.push((f.clone(), raw));
        }
    }
    out
}
