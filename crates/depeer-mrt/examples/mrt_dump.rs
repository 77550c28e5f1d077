//! Prints what depeer-mrt parsed, one `bgpdump -m`-like line per element
//! (see `depeer_mrt::dump_lines`), and a summary on stderr. Used by
//! scripts/conformance/mrt and scripts/bench/route.
//!
//! Usage: `mrt_dump [--quiet] FILE...` (gzip, bzip2 or plain, by magic bytes).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};

fn open(path: &str) -> std::io::Result<Box<dyn Read>> {
    let f = std::fs::File::open(path)?;
    Ok(Box::new(
        depeer_io::open_decoded(f, depeer_io::Limits::default())?.reader,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--quiet");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut lines = Vec::new();
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        let mut reader = depeer_mrt::MrtReader::new(open(path)?, path.clone());
        for item in reader.by_ref() {
            match item {
                Ok(rec) => {
                    if !quiet {
                        lines.clear();
                        depeer_mrt::dump_lines(&rec, &mut lines);
                        for l in &lines {
                            writeln!(out, "{l}")?;
                        }
                    }
                }
                Err(e) => eprintln!("quarantine: {e}"),
            }
        }
        let s = reader.summary();
        eprintln!(
            "{path}: read {} used {} quarantined {:?} elems {}",
            s.records_read, s.records_used, s.quarantined, s.elems
        );
    }
    out.flush()?;
    Ok(())
}
