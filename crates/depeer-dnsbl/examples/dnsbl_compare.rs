//! Sends the same queries to two DNS servers over UDP and compares the
//! answers (RCODE and the answer section: names, types, TTLs, data, TXT
//! text), decoding both with hickory-proto. Used by
//! scripts/conformance/dnsbl (rbldnsd against depeer).
//!
//! ```text
//! dnsbl_compare --a 127.0.0.1:PORT --b 127.0.0.1:PORT --queries FILE [--show N]
//! ```
//!
//! FILE lines: `CATEGORY NAME TYPE`, or `malformed HEX` (raw packet).
//! Differences are classified; the two documented in docs/dnsbl.md are
//! accepted (exit 0), any other fails (exit 1):
//!
//! * D1 `malformed`: rbldnsd does not answer, depeer answers FORMERR;
//! * D2 empty non-terminals: rbldnsd NXDOMAIN, depeer NOERROR/NODATA.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_proto::op::Message;

fn qtype(t: &str) -> u16 {
    match t {
        "A" => 1,
        "NS" => 2,
        "SOA" => 6,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        "ANY" => 255,
        other => other.parse().expect("query type"),
    }
}

fn packet(id: u16, name: &str, t: u16) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&t.to_be_bytes());
    p.extend_from_slice(&[0, 1]);
    p
}

fn ask(sock: &UdpSocket, to: SocketAddr, p: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 65536];
    for _ in 0..2 {
        sock.send_to(p, to).ok()?;
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, from)) if from == to && n >= 2 && buf[..2] == p[..2] => {
                    return Some(buf[..n].to_vec());
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
    }
    None
}

/// What is compared: RCODE and the sorted answer section.
fn summary(resp: Option<&[u8]>) -> String {
    let Some(r) = resp else {
        return "no answer".into();
    };
    match Message::from_vec(r) {
        Err(e) => format!("undecodable: {e}"),
        Ok(m) => {
            let mut answers: Vec<String> = m
                .answers
                .iter()
                .map(|rr| rr.to_string().to_lowercase())
                .collect();
            answers.sort();
            format!(
                "{:?} tc={} [{}]",
                m.metadata.response_code,
                m.metadata.truncation,
                answers.join(" | ")
            )
        }
    }
}

fn documented(cat: &str, a: &str, b: &str) -> Option<&'static str> {
    if cat == "malformed" && a == "no answer" && b.starts_with("FormErr") {
        return Some("D1 malformed: rbldnsd silent, depeer FORMERR");
    }
    if a.starts_with("NXDomain") && b.starts_with("NoError tc=false []") {
        return Some("D2 empty non-terminal: rbldnsd NXDOMAIN, depeer NODATA");
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |n: &str| {
        args.iter()
            .position(|a| a == n)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let a: SocketAddr = arg("--a").expect("--a ADDR").parse().unwrap();
    let b: SocketAddr = arg("--b").expect("--b ADDR").parse().unwrap();
    let file = arg("--queries").expect("--queries FILE");
    let show: usize = arg("--show").map_or(10, |s| s.parse().unwrap());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut per_cat: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut doc: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut total, mut agree, mut unexplained) = (0u64, 0u64, 0u64);
    for (i, line) in text.lines().enumerate() {
        let mut w = line.split_whitespace();
        let (Some(cat), Some(x)) = (w.next(), w.next()) else {
            continue;
        };
        let id = (i % 65_000) as u16 + 1;
        let p = if cat == "malformed" {
            let mut p: Vec<u8> = (0..x.len() / 2)
                .map(|k| u8::from_str_radix(&x[2 * k..2 * k + 2], 16).unwrap())
                .collect();
            if p.len() >= 2 {
                p[..2].copy_from_slice(&id.to_be_bytes());
            }
            p
        } else {
            packet(id, x, qtype(w.next().unwrap_or("A")))
        };
        let (ra, rb) = (ask(&sock, a, &p), ask(&sock, b, &p));
        let (sa, sb) = (summary(ra.as_deref()), summary(rb.as_deref()));
        total += 1;
        let e = per_cat.entry(cat.to_string()).or_default();
        e.0 += 1;
        if sa == sb {
            agree += 1;
            e.1 += 1;
            continue;
        }
        if let Some(d) = documented(cat, &sa, &sb) {
            *doc.entry(d).or_default() += 1;
            continue;
        }
        unexplained += 1;
        if unexplained as usize <= show {
            println!("DIFF {line}\n  rbldnsd: {sa}\n  depeer:  {sb}");
        }
    }
    println!("{:<14} {:>8} {:>8}", "category", "queries", "agree");
    for (c, (n, ok)) in &per_cat {
        println!("{c:<14} {n:>8} {ok:>8}");
    }
    println!(
        "total {total}: {agree} identical ({:.2} %), {} documented differences, {unexplained} unexplained",
        100.0 * agree as f64 / total.max(1) as f64,
        doc.values().sum::<u64>()
    );
    for (d, n) in &doc {
        println!("  {n:>6}  {d}");
    }
    std::process::exit(i32::from(unexplained > 0 || total == 0));
}
