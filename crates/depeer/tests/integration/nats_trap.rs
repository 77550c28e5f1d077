//! `depeer trap --to nats://` end to end (issue 24): swaks delivers the
//! same SMTP sessions to a local trap and to a trap publishing to Debian's
//! `nats-server -js` on loopback; a `depeer worker` stores what the stream
//! holds, and the rows equal the local trap's (envelope, relay, headers,
//! the message bytes after the trap's own `Received:` line, the evidence
//! log). With the server gone the trap answers 451, not 250. SKIPPED (one
//! line) without `nats-server` or `swaks` (scripts/setup-test-deps).

use std::path::Path;
use std::process::Stdio;

use sha2::{Digest, Sha256};

use crate::nats::{Server, json_line, nats_server, skip};
use crate::support::{depeer, ok, sql};
use crate::trap::{TrapProcess, have, swaks};

/// The messages of one session each: distinct subjects and bodies.
fn messages(dir: &Path, n: usize) -> Vec<std::path::PathBuf> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("m{i}.eml"));
            std::fs::write(
                &p,
                format!(
                    "From: Pills <pills{i}@sender.example>\r\nTo: victim@trap.example\r\n\
                     Subject: run {i}\r\nMessage-ID: <run{i}@sender.example>\r\n\r\n\
                     Cheap at http://pills{i}.example/buy?id={i}\r\n"
                ),
            )
            .unwrap();
            p
        })
        .collect()
}

/// SHA-256 of a stored message without the trap's own `Received:` field
/// (its first, with continuation lines), which names the trap's run.
fn content_sha(data: &Path, sha: &str) -> String {
    let out = depeer()
        .args(["show", "--data"])
        .arg(data)
        .arg(sha)
        .output()
        .unwrap();
    assert!(out.status.success());
    let raw = out.stdout;
    assert_eq!(hex::encode(Sha256::digest(&raw)), sha, "the stored bytes");
    assert!(raw.starts_with(b"Received: "), "the trap's line first");
    let mut at = 0;
    loop {
        let end = raw[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| at + p + 1);
        at = end;
        if !matches!(raw.get(at), Some(b' ' | b'\t')) {
            break;
        }
    }
    hex::encode(Sha256::digest(&raw[at..]))
}

/// The rows to compare, and the content SHA-256 of each message.
fn rows(data: &Path) -> Vec<serde_json::Value> {
    let q = "SELECT sha256, subject, source_file, source_index, arrival_source, relay_ip, \
             relay_helo, relay_rdns, envelope_from, from_addr, to_addr, message_id, url_count, \
             smtp_peer_ip, smtp_helo, smtp_mail_from, smtp_rcpt_to, smtp_tls, smtp_anomalies, \
             arrival_time FROM messages ORDER BY subject";
    let mut out = sql(data, q);
    let log = sql(
        data,
        "SELECT l.kind, l.sha256, l.observed = date_trunc('second', m.arrival_time) AS at_arrival \
         FROM evidence_log l JOIN messages m ON l.sha256 = m.sha256 ORDER BY m.subject",
    );
    assert_eq!(log.len(), out.len(), "one log entry per message");
    for (r, l) in out.iter_mut().zip(&log) {
        assert_eq!(l["kind"], "mail");
        assert_eq!(l["at_arrival"], true, "OBSERVED is the arrival time");
        let sha = r["sha256"].as_str().unwrap().to_string();
        let o = r.as_object_mut().unwrap();
        o.insert("content".into(), content_sha(data, &sha).into());
        // Named by the run (its own port, its own clock): checked, then
        // left out of the comparison.
        let src = o.remove("source_file").unwrap();
        assert!(
            src.as_str().unwrap().starts_with("smtp:127.0.0.1:"),
            "{src}"
        );
        o.remove("sha256");
        o.remove("arrival_time");
    }
    out
}

#[test]
fn trap_to_nats_stores_what_the_local_trap_stores() {
    let Some(bin) = nats_server() else {
        return skip(
            "nats trap",
            "nats-server not installed (scripts/setup-test-deps)",
        );
    };
    if !have("swaks") {
        return skip("nats trap", "swaks not installed (scripts/setup-test-deps)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut server = Server::start(&bin, dir);
    let url = server.url();
    // A small stream: the test does not depend on the free disk.
    ok(depeer().args(["-q", "nats", "setup", "--max-bytes", "256M", "--nats", &url]));
    let files = messages(dir, 6);
    let local = TrapProcess::start(&dir.join("local"), &["--no-attribute", "--no-starttls"]);
    let remote = TrapProcess::start(
        &dir.join("trap"),
        &["--no-starttls", "--to", &url, "--publish-timeout", "2"],
    );
    for f in &files {
        for t in [&local, &remote] {
            let out = swaks(&t.addr, f, &[]);
            let transcript = String::from_utf8_lossy(&out.stdout);
            assert!(
                transcript.contains("<-  250 2.0.0 Ok: queued as"),
                "{transcript}"
            );
        }
    }
    // The stream gone: a temporary failure, so the client sends it again.
    server.kill();
    let out = swaks(&remote.addr, &files[0], &["--header", "X-Run: down"]);
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(transcript.contains(" 451 4.3.0 "), "{transcript}");
    assert!(
        !transcript.contains("<-  250 2.0.0 Ok: queued"),
        "{transcript}"
    );
    assert_eq!(local.terminate()["acknowledged"], 6);
    assert_eq!(remote.terminate()["acknowledged"], 6);
    // The trap's data directory holds no messages: they are in the stream.
    assert!(!dir.join("trap/tables/messages").exists());
    server.spawn();
    let data = dir.join("data");
    let w = depeer()
        .args([
            "-q",
            "worker",
            "--json",
            "--exit-when-idle",
            "1",
            "--nats",
            &url,
            "--data",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(w.status.success());
    let s = json_line(&String::from_utf8_lossy(&w.stdout));
    assert_eq!(
        (s["messages"].as_u64(), s["stored"].as_u64()),
        (Some(6), Some(6)),
        "{s}"
    );
    assert_eq!(s["poison"], 0, "{s}");
    let mine = rows(&data);
    let theirs = rows(&dir.join("local"));
    assert_eq!(mine.len(), 6);
    assert_eq!(mine, theirs);
    assert_eq!(mine[0]["relay_ip"], "127.0.0.1");
    assert_eq!(mine[0]["smtp_mail_from"], "spammer@sender.example");
    let v = json_line(&ok(depeer()
        .args(["log", "verify", "--json", "--data"])
        .arg(&data)));
    assert_eq!(v["entries"].as_u64(), Some(6), "{v}");
}
