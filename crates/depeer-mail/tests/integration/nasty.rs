//! Golden fixtures (tests/corpus/nasty) and generated hostile messages.

use depeer_mail::{TrustConfig, extract};
use serde_json::{Value, json};

fn actual(raw: &[u8]) -> Value {
    let trust = TrustConfig::default();
    match extract(raw, &super::ctx(&trust)) {
        Err(e) => json!({ "reason": e.reason() }),
        Ok(e) => {
            let m = e.message;
            json!({
                "relay_ip": m.relay_ip.map(|i| i.to_string()),
                "relay_helo": m.relay_helo,
                "relay_rdns": m.relay_rdns,
                "arrival_source": m.arrival_source.as_str(),
                "arrival_time": m.arrival_time.to_rfc3339(),
                "subject": m.subject,
                "from_addr": m.from_addr,
                "url_count": m.url_count,
                "hosts": e.urls.iter().map(|u| u.host.clone()).collect::<Vec<_>>(),
            })
        }
    }
}

#[test]
fn nasty_corpus_matches_expectations() {
    super::corpus::run_suite("nasty", "eml", actual);
}

#[test]
fn ten_megabyte_header_line() {
    let mut raw = b"Received: from x (y [198.51.100.1]) by mx with SMTP; Tue, 11 Nov 2008 21:30:00 +0000\nX-Big: ".to_vec();
    raw.extend(std::iter::repeat_n(b'a', 10 << 20));
    raw.extend_from_slice(b"\nSubject: big\n\nhttp://after-big.example/\n");
    let got = actual(&raw);
    assert_eq!(got["relay_ip"], "198.51.100.1");
    assert_eq!(got["subject"], "big");
    assert_eq!(got["hosts"], json!(["after-big.example"]));
    // The same line as a Received field: parsed from its first 16 KiB only.
    let mut raw = b"Received: from x (".to_vec();
    raw.extend(std::iter::repeat_n(b'a', 10 << 20));
    raw.extend_from_slice(b" [198.51.100.1]) by mx with SMTP\nSubject: big\n\nbody\n");
    assert_eq!(actual(&raw)["relay_ip"], Value::Null);
}

fn nested_multipart(depth: usize) -> Vec<u8> {
    let mut raw = b"Subject: deep\n".to_vec();
    for i in 0..depth {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\n\nhttp://deep.example/\n");
    for i in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{i}--\n").as_bytes());
    }
    raw
}

#[test]
fn multipart_nested_1000_deep() {
    let got = actual(&nested_multipart(1000));
    assert_eq!(got["hosts"], json!(["deep.example"]));
    assert_eq!(got["subject"], "deep");
}

#[test]
fn multipart_nested_100000_deep_is_scanned_as_text() {
    // Beyond the MIME caps the body is scanned raw: bounded time and stack.
    let got = actual(&nested_multipart(100_000));
    assert_eq!(got["hosts"], json!(["deep.example"]));
}

#[test]
fn header_count_cap() {
    let raw = "X-A: 1\n".repeat(30_000) + "Subject: many\n\nbody\n";
    assert_eq!(actual(raw.as_bytes())["reason"], "too-many-headers");
}

#[test]
fn oversize_is_rejected() {
    let trust = TrustConfig::default();
    let mut c = super::ctx(&trust);
    c.limits.max_message_size = 1 << 20;
    let mut raw = b"Subject: x\n\n".to_vec();
    raw.resize((1 << 20) + 1, b'x');
    assert_eq!(extract(&raw, &c).unwrap_err().reason(), "oversize");
}
