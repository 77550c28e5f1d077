//! `depeer trap` end to end: swaks (in clear and with STARTTLS) delivers
//! real spam to the binary on 127.0.0.1; the relay is the connecting
//! address, the envelope is recorded, the message is attributed as `ingest
//! mail` attributes it; SIGTERM drains and the summary counts the 250s.
//! Postfix relaying to the trap and the kill/restart load run live in
//! scripts/e2e/trap-postfix and scripts/e2e/trap-load (run from here).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{depeer, ok, shared_dir, sql};

fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

pub(crate) fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "command -v {tool} >/dev/null || test -x /usr/sbin/{tool}"
        ))
        .status()
        .is_ok_and(|s| s.success())
}

/// A `depeer trap` process on 127.0.0.1 (a free port) and its address.
pub(crate) struct TrapProcess {
    child: Option<Child>,
    pub(crate) addr: String,
}

impl TrapProcess {
    pub(crate) fn start(data: &Path, extra: &[&str]) -> TrapProcess {
        let mut child = depeer()
            .args([
                "-q",
                "trap",
                "--listen",
                "127.0.0.1:0",
                "--hostname",
                "trap.test",
                "--data",
            ])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        TrapProcess {
            child: Some(child),
            addr,
        }
    }

    /// SIGTERM, then the JSON summary it prints.
    pub(crate) fn terminate(mut self) -> serde_json::Value {
        let child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{:?}", out.status);
        let text = String::from_utf8(out.stdout).unwrap();
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    }
}

impl Drop for TrapProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A real spam message when ../shared is there, else a made-up one.
fn spam_file(dir: &Path) -> PathBuf {
    if let Some(shared) = shared_dir() {
        let p = shared
            .join("spam/spamassassin-publiccorpus/spam/00001.7848dde101aa985090474a91ec93fcf0.txt");
        if p.is_file() {
            return p;
        }
    }
    let p = dir.join("spam.eml");
    std::fs::write(
        &p,
        "From: Pills <pills@sender.example>\r\nTo: victim@trap.example\r\nSubject: cheap\r\n\
         Message-ID: <made-up@sender.example>\r\n\r\nhttp://pills.example/buy\r\n",
    )
    .unwrap();
    p
}

pub(crate) fn swaks(addr: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    Command::new("swaks")
        .args([
            "--server",
            addr,
            "--helo",
            "bot.example",
            "--from",
            "spammer@sender.example",
        ])
        .args(["--to", "victim@trap.example,other@trap.example", "--data"])
        .arg(file)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn swaks_delivers_to_the_trap() {
    if !have("swaks") {
        return skip(
            "trap swaks",
            "swaks not installed (scripts/setup-test-deps)",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = spam_file(tmp.path());
    let trap = TrapProcess::start(&data, &["--attribute-every", "1"]);
    let out = swaks(&trap.addr, &file, &[]);
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Ok: queued as"),
        "{transcript}"
    );
    // STARTTLS, when this swaks can (Net::SSLeay).
    let tls = swaks(&trap.addr, &file, &["-tls", "--header", "X-Run: tls"]);
    let tls_ok = tls.status.success();
    if !tls_ok {
        skip(
            "trap swaks -tls",
            "this swaks cannot do TLS (libnet-ssleay-perl)",
        );
    }
    let summary = trap.terminate();
    assert_eq!(summary["acknowledged"], if tls_ok { 2 } else { 1 });
    let rows = sql(
        &data,
        "SELECT sha256, relay_ip, relay_helo, smtp_peer_ip, smtp_helo, smtp_mail_from, \
         smtp_rcpt_to, smtp_tls FROM messages ORDER BY smtp_tls NULLS FIRST",
    );
    assert_eq!(rows.len(), if tls_ok { 2 } else { 1 });
    let r = &rows[0];
    assert_eq!(r["relay_ip"], "127.0.0.1");
    assert_eq!(r["relay_helo"], "bot.example");
    assert_eq!(r["smtp_peer_ip"], "127.0.0.1");
    assert_eq!(r["smtp_helo"], "bot.example");
    assert_eq!(r["smtp_mail_from"], "spammer@sender.example");
    assert_eq!(
        r["smtp_rcpt_to"],
        r#"["victim@trap.example","other@trap.example"]"#
    );
    if tls_ok {
        assert!(
            rows[1]["smtp_tls"].as_str().unwrap().starts_with("TLSv1."),
            "{rows:?}"
        );
    }
    // Attributed as `ingest mail` attributes the same stored bytes.
    let sha = r["sha256"].as_str().unwrap();
    let trap_attr = sql(
        &data,
        &format!("SELECT botnet, signal, relay_ip FROM attribution WHERE sha256 = '{sha}'"),
    );
    assert_eq!(trap_attr.len(), 1, "no attribution row");
    assert_eq!(trap_attr[0]["relay_ip"], "127.0.0.1");
    let raw = tmp.path().join("stored.eml");
    let shown = depeer()
        .args(["show", "--data"])
        .arg(&data)
        .arg(sha)
        .output()
        .unwrap();
    assert!(shown.status.success());
    std::fs::write(&raw, &shown.stdout).unwrap();
    let other = tmp.path().join("other");
    ok(depeer()
        .args(["-q", "ingest", "mail", "--data"])
        .arg(&other)
        .arg(&raw));
    let file_attr = sql(&other, "SELECT sha256, botnet, signal FROM attribution");
    assert_eq!(
        file_attr[0]["sha256"], sha,
        "the stored bytes are the message"
    );
    assert_eq!(file_attr[0]["botnet"], trap_attr[0]["botnet"]);
    assert_eq!(file_attr[0]["signal"], trap_attr[0]["signal"]);
}

#[test]
fn a_sigterm_drain_keeps_every_250() {
    if !have("swaks") {
        return skip(
            "trap drain",
            "swaks not installed (scripts/setup-test-deps)",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = spam_file(tmp.path());
    let trap = TrapProcess::start(&data, &["--no-attribute"]);
    let mut acked = 0;
    for i in 0..5 {
        let out = swaks(&trap.addr, &file, &["--header", &format!("X-Run: {i}")]);
        acked +=
            usize::from(String::from_utf8_lossy(&out.stdout).contains("<-  250 2.0.0 Ok: queued"));
    }
    let summary = trap.terminate();
    assert_eq!(acked, 5);
    assert_eq!(summary["acknowledged"], 5);
    let n = sql(&data, "SELECT count(*) AS n FROM messages");
    assert_eq!(n[0]["n"], 5);
}

#[test]
fn postfix_relays_to_the_trap_and_a_killed_trap_keeps_every_250() {
    for (name, script) in [("trap postfix", "trap-postfix"), ("trap load", "trap-load")] {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts/e2e")
            .join(script);
        let out = Command::new("bash")
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_depeer"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(2) {
            skip(name, stderr.trim());
            continue;
        }
        assert!(
            out.status.success(),
            "{name}: {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
