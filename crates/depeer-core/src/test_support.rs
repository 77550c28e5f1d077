//! Helpers for the tests and examples of the depeer crates (feature
//! `test-support`, enabled by their dev-dependencies only): where the
//! shared test data is, and reproducible pseudo-random probes.

use std::path::{Path, PathBuf};

/// The shared test data: `$DEPEER_SHARED/data`, else `shared/data` beside
/// the repository.
pub fn shared_data_dir() -> PathBuf {
    match std::env::var_os("DEPEER_SHARED") {
        Some(shared) => Path::new(&shared).join("data"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Whether the shared data is there; if not, says on stderr that `test` is
/// skipped and how to run it (a fresh clone passes, CI runs everything).
pub fn have_shared_data(test: &str) -> bool {
    let dir = shared_data_dir();
    let there = dir.is_dir();
    if !there {
        // Straight to the process's stderr, past the test harness's capture,
        // so that the line shows (and scripts/test counts it) when the test passes.
        let line = format!(
            "SKIPPED {test}: needs ../shared/data (not at {}); set DEPEER_SHARED or put shared/ beside the repo",
            dir.display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    }
    there
}

/// `n` pseudo-random values from `seed` (xorshift64, the upper half of each
/// state): the same on every run and every machine. `seed` must not be 0.
pub fn xorshift_u32s(seed: u64, n: usize) -> Vec<u32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u32
        })
        .collect()
}
