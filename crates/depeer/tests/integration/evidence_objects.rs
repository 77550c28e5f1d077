//! Feed records and MRT records as logged evidence (docs/evidence.md): a
//! feed and an MRT ingest store every record once with exactly one log
//! entry, the stored bytes are the record as it is in the file, a second
//! ingest adds nothing, `depeer log verify` names a record whose stored
//! bytes were changed, and ingests SIGKILLed at random moments leave the
//! log clean with one entry per stored object and every checkpoint seen
//! consistent with the latest.

use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{depeer, int, ok, sim, sql};

const FEEDS: [(&str, &str); 4] = [
    ("cnc", "cc.csv"),
    ("pdns", "pdns.csv"),
    ("bots", "bots.csv"),
    ("url", "urls.csv"),
];

fn world(dir: &Path) -> PathBuf {
    let w = dir.join("world");
    ok(sim("mccolo-2008", "7").arg(&w));
    w
}

fn ingest(data: &Path, args: &[&str], path: &Path) -> serde_json::Value {
    let out = ok(depeer()
        .args(["ingest"])
        .args(args)
        .args(["--json", "--data"])
        .arg(data)
        .arg(path));
    serde_json::from_str(out.trim()).unwrap()
}

fn ingest_all(data: &Path, world: &Path) -> (u64, u64) {
    let mrt = ingest(data, &["mrt"], &world.join("bgp"));
    let mut feed = 0;
    for (kind, file) in FEEDS {
        let s = ingest(
            data,
            &["feed", "--kind", kind],
            &world.join("feeds").join(file),
        );
        feed += s["records_stored"].as_u64().unwrap();
    }
    (mrt["records_stored"].as_u64().unwrap(), feed)
}

fn count(data: &Path, q: &str) -> i64 {
    int(&sql(data, q)[0], "n")
}

/// One entry per stored object, both ways, per kind.
fn assert_one_entry_each(data: &Path) {
    for kind in ["feed", "mrt"] {
        let objects = count(
            data,
            &format!("SELECT count(*) AS n FROM evidence_objects WHERE kind = '{kind}'"),
        );
        let distinct = count(
            data,
            &format!(
                "SELECT count(DISTINCT sha256) AS n FROM evidence_objects WHERE kind = '{kind}'"
            ),
        );
        let entries = count(
            data,
            &format!("SELECT count(*) AS n FROM evidence_log WHERE kind = '{kind}'"),
        );
        let joined = count(
            data,
            &format!(
                "SELECT count(*) AS n FROM evidence_objects o JOIN evidence_log l \
                 ON o.sha256 = l.sha256 AND l.kind = o.kind AND l.observed = o.observed \
                 WHERE o.kind = '{kind}'"
            ),
        );
        assert!(objects > 0, "{kind}");
        assert_eq!(
            (distinct, entries, joined),
            (objects, objects, objects),
            "{kind}"
        );
    }
    let report: serde_json::Value = serde_json::from_str(
        ok(depeer()
            .args(["log", "verify", "--json", "--data"])
            .arg(data))
        .trim(),
    )
    .unwrap();
    assert_eq!(report["objects"], report["entries"], "{report}");
}

/// The stored bytes of `n` objects of `kind` are the bytes of the file at
/// the recorded offset (the record exactly as it is in the file).
fn assert_bytes_as_in_file(data: &Path, world: &Path, kind: &str) {
    let rows = sql(
        data,
        &format!(
            "SELECT sha256, source_file, source_offset, size FROM evidence_objects \
             WHERE kind = '{kind}' ORDER BY sha256 LIMIT 20"
        ),
    );
    for r in rows {
        let file = PathBuf::from(r["source_file"].as_str().unwrap());
        let file = if file.is_absolute() {
            file
        } else {
            world.join(file)
        };
        let f = std::fs::File::open(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let mut buf = vec![0u8; int(&r, "size") as usize];
        f.read_exact_at(&mut buf, int(&r, "source_offset") as u64)
            .unwrap();
        let sha = <sha2::Sha256 as sha2::Digest>::digest(&buf);
        assert_eq!(
            hex::encode(sha),
            r["sha256"].as_str().unwrap(),
            "{kind} {r}"
        );
    }
}

#[test]
fn feed_and_mrt_records_are_logged_once_and_a_changed_one_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world(tmp.path());
    let data = tmp.path().join("data");
    let (mrt, feed) = ingest_all(&data, &world);
    assert!(mrt > 1000 && feed > 1000, "{mrt} {feed}");
    assert_one_entry_each(&data);
    // Every listing cites its stored record.
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM feed_entries f LEFT JOIN evidence_objects o \
             ON f.sha256 = o.sha256 AND o.kind = 'feed' WHERE o.sha256 IS NULL"
        ),
        0
    );
    assert_bytes_as_in_file(&data, &world, "feed");
    assert_bytes_as_in_file(&data, &world, "mrt");
    // Read again: nothing new is stored or logged.
    let before = count(&data, "SELECT count(*) AS n FROM evidence_log");
    assert_eq!(ingest_all(&data, &world), (0, 0));
    assert_eq!(
        count(&data, "SELECT count(*) AS n FROM evidence_log"),
        before
    );
    assert_one_entry_each(&data);

    // A byte changed in a stored record: named with its pack.
    for kind in ["feed", "mrt"] {
        let copy = tmp.path().join(format!("data-{kind}"));
        copy_dir(&data, &copy);
        let pack = sql(
            &copy,
            &format!(
                "SELECT raw_pack FROM evidence_objects WHERE kind = '{kind}' \
                 ORDER BY raw_pack LIMIT 1"
            ),
        )[0]["raw_pack"]
            .as_str()
            .unwrap()
            .to_string();
        let path = copy.join("raw").join(&pack);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let out = depeer()
            .args(["log", "verify", "--data"])
            .arg(&copy)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{kind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("raw/{pack}")), "{kind}: {err}");
        assert!(err.contains(&format!("{kind} ")), "{kind}: {err}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[test]
fn feed_and_mrt_ingests_sigkilled_at_random_moments_leave_the_log_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world(tmp.path());
    let data = tmp.path().join("data");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("feed/mrt sigkill test seed {seed}");
    let kills = 20;
    let mut checkpoints: Vec<String> = Vec::new();
    for k in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 5 + seed % 250;
        let mut cmd = depeer();
        cmd.args(["-q", "ingest"]);
        if k % 2 == 0 {
            cmd.arg("mrt")
                .arg("--data")
                .arg(&data)
                .arg(world.join("bgp"));
        } else {
            let (kind, file) = FEEDS[(k / 2) % FEEDS.len()];
            cmd.args(["feed", "--kind", kind, "--data"])
                .arg(&data)
                .arg(world.join("feeds").join(file));
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // What a client saw after this run: the latest checkpoint, if any.
        if let Some(last) = crate::evidence_log::latest_checkpoint_file(&data) {
            checkpoints.push(std::fs::read_to_string(last).unwrap());
        }
    }
    ingest_all(&data, &world);
    assert_one_entry_each(&data);
    checkpoints.dedup();
    for c in &checkpoints {
        crate::evidence_log::assert_consistent(&data, c);
    }
    // Every record of the files is stored, once.
    let fresh = tmp.path().join("fresh");
    ingest_all(&fresh, &world);
    for kind in ["feed", "mrt"] {
        let q = format!("SELECT count(*) AS n FROM evidence_objects WHERE kind = '{kind}'");
        assert_eq!(count(&data, &q), count(&fresh, &q), "{kind}");
    }
}
