//! A stand-alone DNSBL server for the conformance and benchmark scripts
//! (the same library call `depeer serve dnsbl` makes, without the rest of
//! depeer):
//!
//! ```text
//! dnsbl_serve [--listen ADDR:PORT]... [--origin NAME] [--zone NAME=TYPE:FILE]...
//!             [--threads N] [--rrl-rate N] [--rrl-slip N] [--no-test-entries]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use depeer_dnsbl::{ServerConfig, ZoneSpec, run_server};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = ServerConfig {
        listen: Vec::new(),
        ..ServerConfig::default()
    };
    let mut origin = "bl.depeer.test".to_string();
    let mut zones = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--listen" => cfg.listen.push(v.parse().expect("--listen ADDR:PORT")),
            "--origin" => origin = v,
            "--zone" => zones.push(v),
            "--threads" => cfg.threads = v.parse().unwrap(),
            "--rrl-rate" => cfg.rrl.rate = v.parse().unwrap(),
            "--rrl-slip" => cfg.rrl.slip = v.parse().unwrap(),
            "--no-test-entries" => {
                cfg.load.test_entries = false;
                i += 1;
                continue;
            }
            other => panic!("unknown flag {other}"),
        }
        i += 2;
    }
    if cfg.listen.is_empty() {
        cfg.listen = ServerConfig::default().listen;
    }
    cfg.zones = zones
        .iter()
        .map(|z| ZoneSpec::parse(z, &origin).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    if let Err(e) = run_server(cfg) {
        eprintln!("dnsbl_serve: {e}");
        std::process::exit(1);
    }
}
