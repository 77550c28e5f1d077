//! Log append throughput: formats N entries
//! (`depeer-evidence/v1 mail SHA256HEX OBSERVED\n`) into segments of one
//! commit each, hashes them into the tree (leaf and node hashes) and signs
//! one checkpoint per segment, exactly what the store does at a commit
//! (`Appender::prepare` + `advance`), without the file writes.
//!
//!     cargo run --release -p depeer-evidence --example append_bench -- [ENTRIES] [PER_COMMIT] [ROUNDS]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use depeer_evidence::{Appender, Entry};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("a number"));
    let n = args.next().unwrap_or(5_000_000);
    let per_commit = args.next().unwrap_or(50_000).max(1);
    let rounds = args.next().unwrap_or(3);
    let tmp = tempfile::tempdir().unwrap();
    for round in 1..=rounds {
        let dir = tmp.path().join(format!("r{round}"));
        let mut ap = Appender::open(&dir).unwrap();
        let t = Instant::now();
        let mut i = 0u64;
        let mut sha = [0u8; 32];
        while i < n {
            let end = (i + per_commit).min(n);
            let mut seg = Vec::with_capacity(((end - i) * 100) as usize);
            for k in i..end {
                sha[..8].copy_from_slice(&k.to_le_bytes());
                sha[8] = sha[8].wrapping_add(31);
                let e = Entry::new("mail", sha, 1_226_440_800 + (k as i64 % 86_400)).unwrap();
                e.write_to(&mut seg);
            }
            let p = ap.prepare(seg).unwrap();
            ap.advance(p);
            i = end;
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "round {round}: {n} entries in {s:.3} s = {:.0} entries/s ({} checkpoints signed), size {}",
            n as f64 / s,
            n.div_ceil(per_commit),
            ap.size()
        );
    }
}
