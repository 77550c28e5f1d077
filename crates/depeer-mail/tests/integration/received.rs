//! The `received` golden suite: `parse_received` on single field values.

use depeer_mail::parse_received;
use serde_json::{Value, json};

/// Every field of the hop, `null` when there is none. The input is raw
/// header bytes: invalid UTF-8 is read as U+FFFD, as the message path does.
fn hop_json(raw: &[u8]) -> Value {
    let Some(h) = parse_received(&String::from_utf8_lossy(raw)) else {
        return Value::Null;
    };
    json!({
        "from_name": h.from_name,
        "from_helo": h.from_helo,
        "from_rdns": h.from_rdns,
        "from_ip": h.from_ip.map(|i| i.to_string()),
        "ident": h.ident,
        "by_host": h.by_host,
        "with_proto": h.with_proto,
        "id": h.id,
        "for_addr": h.for_addr,
        "date": h.date.map(|d| d.to_rfc3339()),
        "auth": h.auth,
        "handover": h.handover,
    })
}

#[test]
fn received_corpus_matches_expectations() {
    super::corpus::run_suite("received", "txt", hop_json);
}
