//! Parses `Received:` values with depeer's parser, one JSON line each, for
//! `scripts/conformance/received` (the comparison with SpamAssassin).
//!
//! ```text
//! cargo run --release -p depeer-mail --example received_lines -- FILE.json
//! ```
//! FILE is a JSON array of objects with a `header` string (the layout of
//! mail-parser's `resources/received.json`). Each output line is
//! `{"handover", "ip", "helo", "rdns"}` (`null` when absent).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: received_lines FILE.json");
        return std::process::ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&text)
    else {
        eprintln!("{path}: not a JSON array");
        return std::process::ExitCode::from(2);
    };
    for item in &items {
        let header = item
            .get("header")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let out = match depeer_mail::parse_received(header) {
            Some(h) => serde_json::json!({
                "handover": h.handover,
                "ip": h.from_ip.map(|i| i.to_string()),
                "helo": h.from_helo,
                "rdns": h.from_rdns,
            }),
            None => serde_json::json!({"handover": false, "ip": null, "helo": null, "rdns": null}),
        };
        println!("{out}");
    }
    std::process::ExitCode::SUCCESS
}
