//! The evidence log end to end (docs/evidence.md): every stored message has
//! one entry, proofs verify with the library's independent verifier, a
//! consistency proof links checkpoints taken before and after a second
//! ingest, `depeer log verify` names a changed object, and an ingest
//! SIGKILLed at random moments leaves the log clean.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use depeer_evidence::{Checkpoint, NoteVerifier, TlogProof, base64_decode, merkle};

use crate::support::{depeer, int, ok, sql};

/// `count` distinct small messages (serial `first..first+count`), as mbox.
fn mbox(first: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in first..first + count {
        writeln!(
            out,
            "From trap@example.net Tue Nov 11 21:30:00 2008\n\
             Received: from bot{b} (bot{b}.example [192.0.2.{b}]) by trap.example with SMTP; Tue, 11 Nov 2008 21:{m:02}:00 +0000\n\
             From: seller{i}@pills.example\nSubject: offer {i}\nX-Serial: {i}\n\n\
             Body {i}: http://pills{b}.example/buy?id={i}\n",
            b = i % 200,
            m = i % 60
        )
        .unwrap();
    }
    out
}

fn ingest(data: &Path, input: &Path, batch: &str) {
    ok(depeer()
        .args(["-q", "ingest", "mail", "--batch-messages", batch, "--data"])
        .arg(data)
        .arg(input));
}

fn log(data: &Path, args: &[&str]) -> String {
    ok(depeer().arg("log").args(args).arg("--data").arg(data))
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap()
}

fn vkey(data: &Path) -> NoteVerifier {
    NoteVerifier::parse(log(data, &["vkey"]).trim()).unwrap()
}

/// The consistency proof from `old` (a checkpoint note) to the latest,
/// checked with the library's RFC 9162 verifier against the old note's root.
pub(crate) fn assert_consistent(data: &Path, old_note: &str) {
    let v = vkey(data);
    let old = Checkpoint::open(old_note, &v).unwrap();
    let latest = Checkpoint::open(&log(data, &["checkpoint"]), &v).unwrap();
    let p = json(&log(
        data,
        &["consistency", &old.size.to_string(), "--json"],
    ));
    let hashes: Vec<merkle::Hash> = p["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            base64_decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    assert_eq!(p["new_size"].as_u64(), Some(latest.size));
    merkle::verify_consistency(old.size, latest.size, &old.root, &latest.root, &hashes)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", old.size, latest.size));
}

#[test]
fn every_message_is_logged_proved_and_a_changed_one_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let first = tmp.path().join("a.mbox");
    std::fs::write(&first, mbox(0, 300)).unwrap();
    ingest(&data, &first, "100");

    // The verifier key has Go's form and the key file is private.
    let k = log(&data, &["vkey"]);
    let parts: Vec<&str> = k.trim().splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{k}");
    assert!(parts[0].starts_with("depeer.local/"), "{k}");
    assert_eq!(parts[1].len(), 8);
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("log/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let v = vkey(&data);
    let before = log(&data, &["checkpoint"]);
    let c1 = Checkpoint::open(&before, &v).unwrap();
    assert_eq!(c1.size, 300);
    // One checkpoint per commit (how many commits depends on how the
    // workers frame the messages).
    assert!(
        std::fs::read_dir(data.join("log/checkpoints"))
            .unwrap()
            .count()
            >= 1
    );

    // One entry per message, the same hashes and times, queryable by SQL.
    let r = sql(
        &data,
        "SELECT count(*) AS n, count(DISTINCT e.sha256) AS d, \
         sum(CASE WHEN e.observed = date_trunc('second', m.arrival_time) THEN 1 ELSE 0 END) AS t \
         FROM evidence_log e JOIN messages m ON e.sha256 = m.sha256 WHERE e.kind = 'mail'",
    );
    assert_eq!(
        (int(&r[0], "n"), int(&r[0], "d"), int(&r[0], "t")),
        (300, 300, 300)
    );

    // A proof of one message verifies with the library alone.
    let sha = sql(&data, "SELECT sha256 FROM messages ORDER BY sha256 LIMIT 1")[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let text = log(&data, &["prove", &sha]);
    let p = TlogProof::parse(&text).unwrap();
    let row = &sql(
        &data,
        &format!("SELECT log_index, leaf_hash FROM evidence_log WHERE sha256 = '{sha}'"),
    )[0];
    assert_eq!(p.index as i64, int(row, "log_index"));
    let leaf: merkle::Hash = hex::decode(row["leaf_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    p.verify(&leaf, &v).unwrap();

    // A second ingest; the checkpoint from before is consistent with the new one.
    let second = tmp.path().join("b.mbox");
    std::fs::write(&second, mbox(300, 250)).unwrap();
    ingest(&data, &second, "100");
    assert_eq!(
        Checkpoint::open(&log(&data, &["checkpoint"]), &v)
            .unwrap()
            .size,
        550
    );
    assert_consistent(&data, &before);
    let report = json(&log(&data, &["verify", "--json"]));
    assert_eq!(report["entries"].as_u64(), Some(550), "{report}");
    assert_eq!(report["objects"].as_u64(), Some(550), "{report}");

    // Change stored bytes: `log verify` fails and names a message of that pack.
    let pack = std::fs::read_dir(data.join("raw"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pack-")
        })
        .unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&pack, &bytes).unwrap();
    let out = depeer()
        .args(["log", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let name = pack.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&format!("raw/{name}")), "{err}");
    let named = err
        .split("mail ")
        .nth(1)
        .map(|s| s.chars().take(64).collect::<String>())
        .unwrap_or_default();
    let in_pack = sql(
        &data,
        &format!(
            "SELECT count(*) AS n FROM messages WHERE raw_pack = '{name}' AND sha256 = '{named}'"
        ),
    );
    assert_eq!(int(&in_pack[0], "n"), 1, "{err}");
}

#[test]
fn a_dropped_entry_or_a_forged_checkpoint_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let input = tmp.path().join("a.mbox");
    std::fs::write(&input, mbox(0, 50)).unwrap();
    ingest(&data, &input, "1000");
    log(&data, &["verify"]);
    let seg = std::fs::read_dir(data.join("log/entries"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let orig = std::fs::read(&seg).unwrap();
    // Drop the first entry.
    let cut = orig.iter().position(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(&seg, &orig[cut..]).unwrap();
    let out = depeer()
        .args(["log", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("checkpoint 50"), "{err}");
    std::fs::write(&seg, &orig).unwrap();
    // A checkpoint signed by another key.
    let cp = std::fs::read_dir(data.join("log/checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let note = std::fs::read_to_string(&cp).unwrap();
    let text = depeer_evidence::split_note(&note).unwrap().0.to_string();
    let other = depeer_evidence::NoteSigner::generate(vkey(&data).name()).unwrap();
    std::fs::write(&cp, other.sign(&text).unwrap()).unwrap();
    let out = depeer()
        .args(["log", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("checkpoint 50") && err.contains("signature"),
        "{err}"
    );
}

#[test]
fn sigkill_at_random_moments_leaves_the_log_clean_and_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let input = tmp.path().join("trap.mbox");
    let count = 12_000;
    std::fs::write(&input, mbox(0, count)).unwrap();
    // Random moments from a seed printed for reproduction.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("sigkill test seed {seed}");
    let mut checkpoints: Vec<String> = Vec::new();
    let kills = 22;
    for _ in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 30 + seed % 900;
        let mut child = depeer()
            .args(["-q", "ingest", "mail", "--batch-messages", "400", "--data"])
            .arg(&data)
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // What a client saw after this run: the latest checkpoint, if any.
        if let Some(last) = latest_checkpoint_file(&data) {
            checkpoints.push(std::fs::read_to_string(last).unwrap());
        }
    }
    ingest(&data, &input, "400");
    let report = json(&log(&data, &["verify", "--json"]));
    let stored = int(&sql(&data, "SELECT count(*) AS n FROM messages")[0], "n");
    assert_eq!(stored, count as i64);
    assert_eq!(report["entries"].as_i64(), Some(stored), "{report}");
    assert_eq!(report["objects"].as_i64(), Some(stored), "{report}");
    let logged = int(
        &sql(
            &data,
            "SELECT count(DISTINCT sha256) AS n FROM evidence_log",
        )[0],
        "n",
    );
    assert_eq!(logged, stored);
    checkpoints.dedup();
    for c in &checkpoints {
        assert_consistent(&data, c);
    }
}

pub(crate) fn latest_checkpoint_file(data: &Path) -> Option<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(data.join("log/checkpoints"))
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.pop()
}

#[test]
fn a_directory_from_before_the_log_is_logged_when_next_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let input = tmp.path().join("a.mbox");
    std::fs::write(&input, mbox(0, 40)).unwrap();
    ingest(&data, &input, "1000");
    // As a directory written before the log existed looks.
    std::fs::remove_dir_all(data.join("log")).unwrap();
    std::fs::remove_dir_all(data.join("tables/evidence_log")).unwrap();
    let more = tmp.path().join("b.mbox");
    std::fs::write(&more, mbox(40, 5)).unwrap();
    ingest(&data, &more, "1000");
    let report = json(&log(&data, &["verify", "--json"]));
    assert_eq!(report["entries"].as_u64(), Some(45), "{report}");
    assert_eq!(report["objects"].as_u64(), Some(45), "{report}");
}
