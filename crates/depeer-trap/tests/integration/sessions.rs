//! Whole sessions: durable before 250, the envelope recorded, group
//! commit, STARTTLS, trap domains, the drain.

use std::io::Write;
use std::sync::Arc;

use crate::client::{Client, Running, count, deliver, message, query};

#[test]
fn a_message_is_stored_before_its_250_with_its_envelope() {
    let mut trap = Running::start(|_| {});
    let mut c = trap.connect();
    assert_eq!(deliver(&mut c, "one"), 250);
    // Visible to a reader while the trap runs: committed before the 250.
    assert_eq!(trap.count("message_id = 'one@sender.example'"), 1);
    assert_eq!(c.cmd("QUIT"), 221);
    let data = trap.data.clone();
    let summary = trap.stop();
    assert_eq!(summary.acknowledged, 1);
    let rows = query(
        &data,
        "SELECT sha256, relay_ip, relay_helo, arrival_source, envelope_from, smtp_peer_ip, \
         smtp_helo, smtp_mail_from, smtp_rcpt_to, smtp_tls, smtp_anomalies, source_file FROM messages",
    );
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["relay_ip"], "127.0.0.1");
    assert_eq!(r["relay_helo"], "bot.example");
    assert_eq!(r["arrival_source"], "received");
    assert_eq!(r["envelope_from"], "spam@sender.example");
    assert_eq!(r["smtp_peer_ip"], "127.0.0.1");
    assert_eq!(r["smtp_helo"], "bot.example");
    assert_eq!(r["smtp_mail_from"], "spam@sender.example");
    assert_eq!(r["smtp_rcpt_to"], r#"["victim@trap.example"]"#);
    assert!(
        r.get("smtp_tls").is_none_or(serde_json::Value::is_null),
        "{r}"
    );
    assert!(
        r.get("smtp_anomalies")
            .is_none_or(serde_json::Value::is_null),
        "{r}"
    );
    assert!(
        r["source_file"]
            .as_str()
            .unwrap()
            .starts_with("smtp:127.0.0.1:")
    );
    // The raw message starts with the trap's own Received: line.
    let sha: [u8; 32] = hex_bytes(r["sha256"].as_str().unwrap());
    let store = depeer_store::Store::open(&data).unwrap();
    let raw = store.dataset().raw_message(&sha).unwrap().unwrap();
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.starts_with("Received: from bot.example (unknown [127.0.0.1])\r\n\tby trap.test (depeer-trap) with ESMTP id "), "{raw}");
    assert!(raw.ends_with("Buy now at http://pills.example/one\r\n"));
    // The URL went through the same extraction as `ingest mail`.
    let urls = query(&data, "SELECT host FROM message_urls");
    assert_eq!(urls[0]["host"], "pills.example");
}

fn hex_bytes(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn concurrent_pipelined_sessions_share_commits() {
    let mut trap = Running::start(|_| {});
    let addr = trap.addr;
    let threads: Vec<_> = (0..20)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                assert_eq!(c.reply().0, 220);
                assert_eq!(c.cmd("EHLO pipeliner.example"), 250);
                for i in 0..10 {
                    // RFC 2920: MAIL, RCPT and DATA in one write.
                    c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@trap.example>\r\nDATA\r\n");
                    assert_eq!(c.reply().0, 250);
                    assert_eq!(c.reply().0, 250);
                    assert_eq!(c.reply().0, 354);
                    let body = message(&format!("p{t}-{i}"));
                    c.send(format!("{body}.\r\n").as_bytes());
                    assert_eq!(c.reply().0, 250);
                }
                assert_eq!(c.cmd("QUIT"), 221);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(trap.count("message_id LIKE 'p%'"), 200);
    let s = trap.stop();
    assert_eq!(s.acknowledged, 200);
    assert_eq!(s.store.stored, 200);
    assert!(s.store.commits < 200, "no group commit: {s:?}");
}

#[test]
fn trap_domains_only_and_no_relay() {
    let trap = Running::start(|o| {
        o.domains = Some(["trap.example".to_string()].into_iter().collect());
    });
    let mut c = trap.connect();
    assert_eq!(c.reply().0, 220);
    assert_eq!(c.cmd("HELO x"), 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(c.cmd("RCPT TO:<victim@elsewhere.example>"), 554);
    assert_eq!(c.cmd("RCPT TO:<victim@Trap.Example>"), 250);
}

#[test]
fn starttls_then_a_message() {
    let trap = Running::start(|_| {});
    let mut c = trap.connect();
    assert_eq!(c.reply().0, 220);
    c.send(b"EHLO tls.example\r\n");
    let (code, lines) = c.reply();
    assert_eq!(code, 250);
    assert!(lines.iter().any(|l| l == "250 STARTTLS"), "{lines:?}");
    assert_eq!(c.cmd("STARTTLS"), 220);
    let pem = std::fs::read(trap.data.join("trap/tls-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(depeer_trap::tls_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "trap.test".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, c.w.try_clone().unwrap());
    let say = |tls: &mut rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
               line: &str| {
        tls.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        tls.flush().unwrap();
        let mut buf = Vec::new();
        loop {
            let mut b = [0u8; 1];
            std::io::Read::read_exact(tls, &mut b).unwrap();
            buf.push(b[0]);
            if buf.ends_with(b"\r\n") {
                let line = String::from_utf8_lossy(&buf).to_string();
                if line.as_bytes().get(3) != Some(&b'-') {
                    return line[..3].parse::<u16>().unwrap();
                }
                buf.clear();
            }
        }
    };
    assert_eq!(say(&mut tls, "EHLO tls.example"), 250);
    assert_eq!(say(&mut tls, "MAIL FROM:<a@x.example>"), 250);
    assert_eq!(say(&mut tls, "RCPT TO:<b@trap.example>"), 250);
    assert_eq!(say(&mut tls, "DATA"), 354);
    let body = message("tls");
    assert_eq!(say(&mut tls, &format!("{body}.")), 250);
    let rows = query(
        &trap.data,
        "SELECT smtp_tls FROM messages WHERE message_id = 'tls@sender.example'",
    );
    assert!(
        rows[0]["smtp_tls"].as_str().unwrap().starts_with("TLSv1."),
        "{rows:?}"
    );
}

#[test]
fn the_drain_acknowledges_nothing_unfinished() {
    let mut trap = Running::start(|_| {});
    let mut done = trap.connect();
    assert_eq!(deliver(&mut done, "before-stop"), 250);
    let mut half = trap.connect();
    assert_eq!(half.reply().0, 220);
    assert_eq!(half.cmd("HELO x"), 250);
    assert_eq!(half.cmd("MAIL FROM:<a@x.example>"), 250);
    assert_eq!(half.cmd("RCPT TO:<b@trap.example>"), 250);
    assert_eq!(half.cmd("DATA"), 354);
    half.send(message("unfinished").as_bytes());
    let data = trap.data.clone();
    let s = trap.stop();
    // The idle session and the unfinished message got 421, never 250.
    assert_eq!(done.reply().0, 421);
    assert_eq!(half.reply().0, 421);
    assert_eq!(s.acknowledged, 1);
    assert_eq!(count(&data, "message_id = 'before-stop@sender.example'"), 1);
    assert_eq!(count(&data, "message_id = 'unfinished@sender.example'"), 0);
}
