//! The live sink (the trap's) answers "durable" at the journal's commit
//! point plus the renames, before the directory fsyncs and the removal of
//! the staging directory (the settle). A process that dies right after
//! answering, or a commit stopped anywhere after its commit point, leaves
//! a store that opens with every answered message visible exactly once,
//! its raw bytes readable and `depeer log verify` clean.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use depeer_core::{SmtpEnvelope, SourceRef, Timestamp};
use depeer_ingest::evidence::verify_log;
use depeer_ingest::{LiveAck, LiveMail, LiveMessage, LiveOptions};
use depeer_mail::{ExtractContext, TrustConfig};
use depeer_store::{OutputFormat, Store, StoreError, compress_raw, render, sql};

const CHILD_DIR: &str = "DEPEER_LIVE_CRASH_DIR";
const MESSAGES: usize = 40;

fn raw(i: usize) -> Vec<u8> {
    format!(
        "From: a{i}@x.example\r\nTo: b@trap.example\r\nSubject: number {i}\r\n\
         Message-ID: <{i}@x.example>\r\n\r\nbody http://u{i}.example/p\r\n"
    )
    .into_bytes()
}

fn live(i: usize) -> LiveMessage {
    LiveMessage {
        raw: raw(i),
        envelope: SmtpEnvelope {
            peer_ip: "192.0.2.7".parse().unwrap(),
            helo: Some("bot.example".into()),
            mail_from: Some(format!("a{i}@x.example")),
            rcpt_to: vec!["b@trap.example".into()],
            tls: None,
            anomalies: vec![],
        },
        received_at: Timestamp(1_796_000_000_000_000 + i as i64),
        source: "smtp:test".into(),
    }
}

/// The stored SHA-256s (hex), one per row.
fn stored(dir: &Path) -> Vec<String> {
    let rows = sql(dir, "SELECT sha256 FROM messages ORDER BY sha256").unwrap();
    let mut out = Vec::new();
    render(&rows, OutputFormat::Csv, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

fn staging_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("staging"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Opens the store (recovery), then checks every answered message is
/// stored once, nothing is left in staging, and the log verifies.
fn reopen_and_check(dir: &Path, answered: &[String], what: &str) {
    drop(Store::open(dir).unwrap());
    assert!(staging_entries(dir).is_empty(), "{what}: staging left");
    let rows = stored(dir);
    let mut unique = rows.clone();
    unique.dedup();
    assert_eq!(unique.len(), rows.len(), "{what}: a message stored twice");
    for sha in answered {
        assert!(rows.contains(sha), "{what}: answered {sha} is not stored");
    }
    let report = verify_log(dir).unwrap_or_else(|e| panic!("{what}: log verify: {e}"));
    assert_eq!(
        report.entries,
        rows.len() as u64,
        "{what}: one entry per row"
    );
    assert_eq!(
        report.objects,
        rows.len() as u64,
        "{what}: every object re-hashed"
    );
    let store = Store::open(dir).unwrap();
    for sha in answered {
        let mut key = [0u8; 32];
        for (j, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&sha[2 * j..2 * j + 2], 16).unwrap();
        }
        assert!(
            store.raw_message(&key).unwrap().is_some(),
            "{what}: raw bytes of {sha}"
        );
    }
}

/// The child of `an_answer_then_a_crash_before_settling_keeps_the_message`:
/// a live sink whose last answer kills the process at once (no destructor
/// runs, so nothing is settled after it).
#[test]
#[ignore = "run as a child process by an_answer_then_a_crash_before_settling_keeps_the_message"]
fn live_child_aborts_at_its_last_answer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let mut opts = LiveOptions::new(dir.join("data"));
    opts.attribute = None;
    opts.committers = 1;
    let sink = LiveMail::open(opts).unwrap();
    let tx = sink.sender().unwrap();
    for i in 0..MESSAGES {
        let answers = dir.join("answered");
        tx.submit(
            live(i),
            Box::new(move |a: LiveAck| {
                if let LiveAck::Stored { sha256 } = &a {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&answers)
                        .unwrap();
                    writeln!(f, "{sha256}").unwrap();
                }
                if i + 1 == MESSAGES {
                    // The last answer of the last batch: the committer
                    // settles only after its callbacks.
                    std::process::abort();
                }
            }),
        );
    }
    std::thread::sleep(std::time::Duration::from_secs(60));
    panic!("the last answer never came");
}

#[test]
fn an_answer_then_a_crash_before_settling_keeps_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(&exe)
        .args([
            "--ignored",
            "--exact",
            "live_crash::live_child_aborts_at_its_last_answer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child was to abort");
    let answered: Vec<String> = std::fs::read_to_string(tmp.path().join("answered"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(answered.len(), MESSAGES, "every message answered Stored");
    let data = tmp.path().join("data");
    // The crash came between the answer and the settle: the last batch's
    // staging directory is still there with its COMMIT.
    assert!(
        staging_entries(&data)
            .iter()
            .any(|d| d.join("COMMIT").exists()),
        "no unsettled batch left: the test did not crash where it means to"
    );
    reopen_and_check(&data, &answered, "abort after the answer");
}

#[test]
fn a_crash_anywhere_after_the_commit_point_keeps_the_batch() {
    let trust = TrustConfig::default();
    // Steps: 1 staged, 2 manifest durable, 3 the commit point, then one per
    // rename, the deletes, the settle.
    let mut k = 3;
    loop {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut answered = Vec::new();
        let crashed = {
            let store = Store::open(dir).unwrap();
            store.inject_crash_after(Some(k));
            let mut w = store.message_writer().with_early_ack(true);
            for i in 0..MESSAGES {
                let r = raw(i);
                let ctx = ExtractContext::new(
                    &trust,
                    SourceRef::new("smtp:test", 0, i as u64),
                    Timestamp(1_796_000_000_000_000),
                );
                let ex = depeer_mail::extract(&r, &ctx).unwrap();
                answered.push(
                    ex.message
                        .sha256
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                );
                w.add(ex.message, ex.urls, compress_raw(&r)).unwrap();
            }
            let crashed = match w.finish() {
                Ok(()) => false,
                Err(StoreError::InjectedCrash { step }) => {
                    assert_eq!(step, k);
                    true
                }
                Err(e) => panic!("{e}"),
            };
            // As if the process died here: the store's drop settles only
            // what was published; a commit stopped before publishing is
            // left to the next open.
            drop(store);
            crashed
        };
        reopen_and_check(dir, &answered, &format!("crash after step {k}"));
        if !crashed {
            break;
        }
        k += 1;
        assert!(k < 20, "the commit never finished");
    }
}
