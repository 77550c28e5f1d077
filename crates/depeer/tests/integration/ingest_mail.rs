//! `depeer ingest mail` end to end.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{SharedRun, depeer, int, ok, shared_dir, shared_run, sql};

fn summary(out: &str) -> serde_json::Value {
    let line = out.lines().last().expect("a summary line");
    serde_json::from_str(line).expect("summary is JSON")
}

/// `depeer ingest mail --json` of `input` into `data`: its summary.
fn ingest(data: &Path, input: &Path) -> serde_json::Value {
    summary(&ok(depeer()
        .args(["ingest", "mail", "--json", "--data"])
        .arg(data)
        .arg(input)))
}

/// [`ingest`] of the shared `rel` into a fresh data directory: the run and
/// the summary; `None` (skipped) without the shared data.
fn ingest_shared(test: &str, rel: &str) -> Option<(SharedRun, serde_json::Value)> {
    let run = shared_run(test)?;
    let summary = ingest(&run.data, &run.shared.join(rel));
    Some((run, summary))
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v.get(k)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("no {k} in {v}"))
}

#[test]
fn real_spam_is_stored_once_and_reingest_is_idempotent() {
    let spam = "spam/spamassassin-publiccorpus/spam";
    let test = "real_spam_is_stored_once_and_reingest_is_idempotent";
    let Some((run, first)) = ingest_shared(test, spam) else {
        return;
    };
    let data = &run.data;
    let read = n(&first, "read");
    assert_eq!(read, 500, "{first}");
    assert_eq!(
        read,
        n(&first, "stored") + n(&first, "duplicate") + n(&first, "quarantined")
    );
    assert!(n(&first, "stored") >= 490, "{first}");
    let second = ingest(data, &run.shared.join(spam));
    assert_eq!(n(&second, "stored"), 0, "{second}");
    assert_eq!(n(&second, "duplicate"), n(&first, "stored"), "{second}");
    let rows = sql(
        data,
        "SELECT count(*) AS n, count(DISTINCT sha256) AS d FROM messages",
    );
    assert_eq!(int(&rows[0], "n") as u64, n(&first, "stored"));
    assert_eq!(int(&rows[0], "d") as u64, n(&first, "stored"));
    // Every stored message has its raw bytes behind it.
    let one = sql(
        data,
        "SELECT sha256, source_file FROM messages ORDER BY sha256 LIMIT 1",
    );
    let sha = one[0]["sha256"].as_str().unwrap();
    let raw = std::process::Command::new(env!("CARGO_BIN_EXE_depeer"))
        .args(["show", "--data"])
        .arg(data)
        .arg(sha)
        .output()
        .unwrap();
    assert!(raw.status.success());
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&raw.stdout)), sha);
}

#[test]
fn the_phishing_mbox_keeps_offsets_and_indexes() {
    let mbox = "spam/nazario-phishing/20051114.mbox";
    let Some((run, s)) = ingest_shared("the_phishing_mbox_keeps_offsets_and_indexes", mbox) else {
        return;
    };
    let data = &run.data;
    assert_eq!(n(&s, "read"), 438, "{s}");
    let rows = sql(
        data,
        "SELECT min(source_index) AS lo, max(source_index) AS hi, min(source_offset) AS first FROM messages",
    );
    assert_eq!(int(&rows[0], "lo"), 0);
    assert_eq!(int(&rows[0], "first"), 0);
    assert!(int(&rows[0], "hi") >= 430);
}

/// Real spam samples, a leading `From ` line dropped (the mbox gets its own).
fn real_samples(dir: &Path) -> Vec<Vec<u8>> {
    let mut samples: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .take(50)
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    for s in &mut samples {
        if s.starts_with(b"From ") {
            let nl = s.iter().position(|&b| b == b'\n').unwrap();
            s.drain(..=nl);
        }
    }
    samples
}

/// Distinct messages, made from real spam (a small made-up set without the
/// shared data) with a serial number so that each has its own bytes.
fn distinct_mbox(count: usize) -> Vec<u8> {
    let samples = match shared_dir() {
        Some(shared) => real_samples(&shared.join("spam/spamassassin-publiccorpus/spam_2")),
        None => (0..50)
            .map(|i| {
                format!(
                    "Received: from bot{i} (bot{i}.example [192.0.2.{i}]) by trap.example with SMTP; \
                     Tue, 11 Nov 2008 21:{i:02}:00 +0000\nFrom: seller{i}@pills{i}.example\n\
                     Subject: offer {i}\n\nFrom now on: http://pills{i}.example/buy?id={i}\n"
                )
                .into_bytes()
            })
            .collect(),
    };
    let mut out = Vec::new();
    for i in 0..count {
        out.extend_from_slice(b"From trap@example.net Tue Nov 11 21:30:00 2008\n");
        writeln!(out, "X-Depeer-Test-Serial: {i}").unwrap();
        let s = &samples[i % samples.len()];
        for line in s.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

#[test]
fn sigkill_at_any_moment_loses_nothing_and_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mbox = dir.path().join("trap.mbox");
    let count = 20_000;
    std::fs::write(&mbox, distinct_mbox(count)).unwrap();
    // Kill runs at several moments; small batches so kills land between and
    // inside commits.
    for delay_ms in [150u64, 400, 700, 1000, 1500] {
        let mut child = depeer()
            .args([
                "ingest",
                "mail",
                "--quiet",
                "--batch-messages",
                "700",
                "--data",
            ])
            .arg(&data)
            .arg(&mbox)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
    }
    let s = summary(&ok(depeer()
        .args([
            "ingest",
            "mail",
            "--json",
            "--batch-messages",
            "700",
            "--data",
        ])
        .arg(&data)
        .arg(&mbox)));
    assert_eq!(n(&s, "read"), count as u64, "{s}");
    let rows = sql(
        &data,
        "SELECT count(*) AS n, count(DISTINCT sha256) AS d FROM messages",
    );
    let q = sql(&data, "SELECT count(*) AS q FROM quarantine");
    let stored = int(&rows[0], "n");
    assert_eq!(stored, int(&rows[0], "d"), "a message stored twice");
    assert_eq!(stored + int(&q[0], "q"), count as i64, "messages lost");
    // URLs belong to stored messages only.
    let orphans = sql(
        &data,
        "SELECT count(*) AS o FROM message_urls u LEFT JOIN messages m ON u.sha256 = m.sha256 WHERE m.sha256 IS NULL",
    );
    assert_eq!(int(&orphans[0], "o"), 0);
}

#[test]
fn hostile_inputs_are_quarantined_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    // A gzip bomb: 300 MiB of zeros.
    {
        let f = std::fs::File::create(inputs.join("bomb.mbox.gz")).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        e.write_all(b"From x Tue Nov 11 21:30:00 2008\nSubject: bomb\n\n")
            .unwrap();
        for _ in 0..300 {
            e.write_all(&zeros).unwrap();
        }
        e.finish().unwrap();
    }
    // A truncated xz stream holding real messages.
    {
        let text = distinct_mbox(200);
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
        e.write_all(&text).unwrap();
        let xz = e.finish().unwrap();
        std::fs::write(inputs.join("cut.mbox.xz"), &xz[..xz.len() / 2]).unwrap();
    }
    // A non-mail binary.
    std::fs::write(
        inputs.join("binary.eml"),
        (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    // A good message after all that.
    std::fs::write(
        inputs.join("zz-good.eml"),
        b"Received: from bot (bot.example [192.0.2.7]) by trap.example with SMTP; Tue, 11 Nov 2008 21:00:00 +0000\r\nFrom: a@b.example\r\nSubject: still here\r\n\r\nhttp://pills.example/buy\r\n",
    )
    .unwrap();
    let s = summary(&ok(depeer()
        .args(["ingest", "mail", "--json", "--data"])
        .arg(&data)
        .arg(&inputs)));
    assert_eq!(
        n(&s, "read"),
        n(&s, "stored") + n(&s, "duplicate") + n(&s, "quarantined"),
        "{s}"
    );
    let reasons = s["quarantine_reasons"].as_object().unwrap();
    assert!(reasons.contains_key("decompress-limit"), "{s}");
    assert!(n(&s, "quarantined") >= 3, "{s}");
    // xz decodes block-wise, so only the messages of the blocks before the cut
    // come out; every one of them must be kept.
    let kept = sql(
        &data,
        "SELECT count(*) AS k FROM messages WHERE source_file LIKE '%cut.mbox.xz'",
    );
    assert!(
        int(&kept[0], "k") >= 1,
        "messages before the xz cut are kept: {s}"
    );
    let good = sql(
        &data,
        "SELECT relay_ip, subject FROM messages WHERE subject = 'still here'",
    );
    assert_eq!(good.len(), 1);
    assert_eq!(good[0]["relay_ip"], "192.0.2.7");
    let urls = sql(
        &data,
        "SELECT host, registrable_domain FROM message_urls WHERE host = 'pills.example'",
    );
    assert_eq!(urls.len(), 1);
}

#[test]
fn stdin_works_and_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = depeer()
        .args(["ingest", "mail", "--json", "--data"])
        .arg(&data)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&distinct_mbox(10))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        n(&summary(&String::from_utf8_lossy(&out.stdout)), "stored"),
        10
    );

    let missing = depeer()
        .args(["ingest", "mail", "--data"])
        .arg(&data)
        .arg(dir.path().join("nope.mbox"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.mbox"));
}
