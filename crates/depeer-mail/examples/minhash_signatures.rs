//! MinHash signatures of a file of texts with depeer's content fingerprint
//! ([`Fingerprinter`]: text -> words -> 3-shingles -> 16-slot signature),
//! single-threaded, for the side-by-side comparison with the `datasketch`
//! package in `scripts/bench/intel` (`scripts/bench/intel.d/minhash.py`
//! writes the texts and compares the estimates).
//!
//! ```text
//! cargo run --release -p depeer-mail --example minhash_signatures -- TEXTS OUT [--rounds N]
//! ```
//! TEXTS: records of a 4-byte little-endian length and that many bytes of
//! UTF-8. OUT: one signature a line, 128 hex characters. Prints (stderr)
//! the best round's time, texts/s and MB/s. The whole text -> signature
//! path is timed (the reading of TEXTS is not).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::time::{Duration, Instant};

use depeer_mail::Fingerprinter;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = (&args[0], &args[1]);
    let rounds: usize = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args[i + 1].parse().unwrap(),
        None => 5,
    };
    let bytes = std::fs::read(input).unwrap();
    let mut texts: Vec<&str> = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        texts.push(std::str::from_utf8(&bytes[at + 4..at + 4 + n]).unwrap());
        at += 4 + n;
    }
    let total: usize = texts.iter().map(|t| t.len()).sum();
    let mut sigs = vec![String::new(); texts.len()];
    let mut best = Duration::MAX;
    let mut fp = Fingerprinter::new();
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        for (text, sig) in texts.iter().zip(sigs.iter_mut()) {
            fp.reset();
            fp.add_text(text);
            *sig = fp.hex();
        }
        best = best.min(t.elapsed());
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(output).unwrap());
    for s in &sigs {
        writeln!(w, "{s}").unwrap();
    }
    w.flush().unwrap();
    let secs = best.as_secs_f64().max(1e-9);
    eprintln!(
        "depeer: {} texts ({:.1} MB) in {:.4} s (best of {rounds}) = {:.0} texts/s, {:.1} MB/s",
        texts.len(),
        total as f64 / 1e6,
        secs,
        texts.len() as f64 / secs,
        total as f64 / 1e6 / secs
    );
    println!("{secs}");
}
