//! Ingest through NATS JetStream end to end (issue 24): Debian's
//! `nats-server -js` on loopback with file storage, producers (`depeer
//! ingest ... --to nats://`) and two `depeer worker`s; a simulated world's
//! routing, AS names, feeds and mail pass through the stream, and the
//! dataset the workers write answers as embedded ingest of the same world
//! does. Faults on the way: the mail is sent twice, a worker is SIGKILLed
//! ten times while it works, and the server is killed and restarted once.
//! SKIPPED (one line) without `nats-server` (scripts/setup-test-deps).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{depeer, ok, sim, sql};

pub(crate) fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

pub(crate) fn nats_server() -> Option<PathBuf> {
    [
        "/usr/bin/nats-server",
        "/usr/sbin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `nats-server -js` on 127.0.0.1 with its store in a directory of the
/// test; killed on drop.
pub(crate) struct Server {
    bin: PathBuf,
    conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    pub(crate) fn start(bin: &Path, dir: &Path) -> Server {
        let port = free_port();
        let conf = dir.join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n}}\n",
                dir.join("js").display()
            ),
        )
        .unwrap();
        let mut s = Server {
            bin: bin.to_path_buf(),
            conf,
            port,
            child: None,
        };
        s.spawn();
        s
    }

    pub(crate) fn spawn(&mut self) {
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `depeer worker` process.
fn worker(url: &str, data: &Path, dir: &Path, idle: &str) -> Child {
    depeer()
        .current_dir(dir)
        .args([
            "-q",
            "worker",
            "--json",
            "--batch",
            "200",
            "--exit-when-idle",
            idle,
            "--nats",
            url,
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn json_line(out: &str) -> serde_json::Value {
    serde_json::from_str(out.lines().last().expect("a summary line")).expect("JSON summary")
}

/// Runs a producer (`depeer ingest KIND --to URL ARGS`) in `dir`.
fn produce(dir: &Path, url: &str, kind: &str, args: &[&str]) -> serde_json::Value {
    json_line(&ok(depeer()
        .current_dir(dir)
        .args(["-q", "ingest", kind, "--json", "--to", url])
        .args(args)))
}

/// Embedded ingest of the world, in the order routing, names, feeds, mail.
fn embedded(dir: &Path, data: &str) {
    for (kind, arg) in [
        ("mrt", "world/bgp"),
        ("as2org", "world/as2org.jsonl"),
        ("feed", "world/feeds"),
        ("mail", "world/mail"),
    ] {
        ok(depeer()
            .current_dir(dir)
            .args(["-q", "ingest", kind, "--json", "--data", data, arg]));
    }
}

/// What both datasets must answer alike: the stored messages, their
/// attribution, the other tables, and the demo's questions.
fn answers(dir: &Path, data: &str, cut: &str, before: &str, after: &str) -> Vec<(String, String)> {
    let d = dir.join(data);
    let mut out = Vec::new();
    for q in [
        "SELECT sha256 FROM messages ORDER BY sha256".to_string(),
        "SELECT * FROM attribution ORDER BY sha256".to_string(),
        "SELECT count(*) AS n FROM message_urls".to_string(),
        "SELECT source, kind, indicator, address, family, first_seen, last_seen, source_file, source_line, key FROM feed_entries ORDER BY key".to_string(),
        "SELECT count(*) AS n FROM routes".to_string(),
        "SELECT count(*) AS n FROM as_links".to_string(),
        "SELECT count(*) AS n FROM routing_events".to_string(),
        "SELECT * FROM as_names ORDER BY 1, 2".to_string(),
        "SELECT reason, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 1".to_string(),
        format!(
            "SELECT CAST(floor((CAST(arrival_time AS BIGINT) - CAST(TIMESTAMP '{cut}' AS BIGINT)) / 3600000000.0) AS BIGINT) AS h, count(*) AS n \
             FROM messages WHERE arrival_time >= TIMESTAMP '{before}' AND arrival_time < TIMESTAMP '{after}' GROUP BY 1 ORDER BY 1"
        ),
        "SELECT subject, count(*) n FROM messages GROUP BY 1 ORDER BY n DESC, subject LIMIT 10".to_string(),
    ] {
        out.push((q.clone(), serde_json::to_string(&sql(&d, &q)).unwrap()));
    }
    for args in [
        vec![
            "route", "events", "--json", "--since", before, "--until", after,
        ],
        vec!["botnets", "--json"],
        vec!["rank", "--json", "--at", cut],
        vec!["events", "--json"],
    ] {
        let text = ok(depeer().current_dir(dir).args(&args).args(["--data", data]));
        out.push((args.join(" "), text.replace(data, "DATA")));
    }
    out
}

/// Two workers until the stream is drained, SIGKILLed ten times in turn
/// while they work, the server killed and restarted at the fifth kill;
/// returns the number of kills.
fn workers_through_faults(server: &mut Server, url: &str, data: &Path, dir: &Path) -> u64 {
    let mut a = worker(url, data, dir, "4");
    let mut b = worker(url, data, dir, "4");
    let mut kills = 0;
    while kills < 10 {
        std::thread::sleep(Duration::from_millis(250 + 70 * kills));
        let victim = if kills % 2 == 0 { &mut a } else { &mut b };
        if victim.try_wait().unwrap().is_some() {
            break;
        }
        victim.kill().unwrap();
        let _ = victim.wait();
        kills += 1;
        if kills == 5 {
            server.kill();
            std::thread::sleep(Duration::from_millis(500));
            server.spawn();
        }
        *victim = worker(url, data, dir, "4");
    }
    assert!(
        kills >= 3,
        "the workers finished before they could be killed"
    );
    for w in [&mut a, &mut b] {
        let deadline = Instant::now() + Duration::from_secs(90);
        while w.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "a worker did not finish");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(w.wait().unwrap().success());
    }

    kills
}

#[test]
fn nats_ingest_matches_embedded_through_faults() {
    const TEST: &str = "nats_ingest_matches_embedded_through_faults";
    let Some(bin) = nats_server() else {
        return skip(
            TEST,
            "no nats-server (Debian nats-server; scripts/setup-test-deps)",
        );
    };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(sim("mccolo-2008", "5").arg(dir.join("world")));
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("world/truth.json")).unwrap()).unwrap();
    let cut = truth["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "cut")
        .and_then(|e| e["time"].as_str())
        .unwrap()
        .to_string();
    embedded(dir, "embedded");

    let mut server = Server::start(&bin, dir);
    let url = server.url();
    ok(depeer().args([
        "-q",
        "nats",
        "setup",
        "--nats",
        &url,
        "--max-bytes",
        "1G",
        "--ack-wait",
        "3s",
        "--max-deliver",
        "20",
    ]));
    // Setup is idempotent.
    let again = json_line(&ok(depeer().args([
        "-q",
        "nats",
        "setup",
        "--json",
        "--nats",
        &url,
        "--max-bytes",
        "1G",
        "--ack-wait",
        "3s",
        "--max-deliver",
        "20",
    ])));
    assert_eq!(again["stream_created"], false, "{again}");
    assert_eq!(again["stream_updated"], false, "{again}");

    // Phase 1: routing, AS names and feeds, before the mail that needs them.
    for (kind, arg) in [
        ("mrt", "world/bgp"),
        ("as2org", "world/as2org.jsonl"),
        ("feed", "world/feeds"),
    ] {
        let s = produce(dir, &url, kind, &[arg]);
        assert_eq!(s["accepted"], 1, "{kind}: {s}");
    }
    let w = json_line(&ok(depeer().current_dir(dir).args([
        "-q",
        "worker",
        "--json",
        "--exit-when-idle",
        "1",
        "--nats",
        &url,
        "--data",
        "nats",
    ])));
    assert_eq!(w["jobs"]["mrt"], 1, "{w}");

    // Phase 2: the mail, twice (the second time every message is a
    // duplicate the stream drops), then two workers, one of them killed
    // ten times while it works, and the server killed once.
    let first = produce(dir, &url, "mail", &["world/mail"]);
    let second = produce(dir, &url, "mail", &["world/mail"]);
    let distinct = first["messages_accepted"].as_u64().unwrap();
    assert!(distinct > 1000, "{first}");
    assert_eq!(second["accepted"], 0, "{second}");
    assert_eq!(second["duplicate"], second["objects"], "{second}");

    let data = dir.join("nats");
    let kills = workers_through_faults(&mut server, &url, &data, dir);

    // Every message stored exactly once.
    let count = "SELECT count(*) AS n, count(DISTINCT sha256) AS d FROM messages";
    let rows = sql(&data, count);
    let (n, d) = (
        rows[0]["n"].as_u64().unwrap(),
        rows[0]["d"].as_u64().unwrap(),
    );
    let want = sql(&dir.join("embedded"), count)[0]["d"].as_u64().unwrap();
    assert_eq!((n, d), (want, want), "killed {kills} times");
    // The distinct input: every object the stream accepted is a stored
    // message or a quarantined one (the world's malformed messages).
    let bad = sql(&data, "SELECT count(*) AS n FROM quarantine")[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(want + bad, distinct);
    // Nothing quarantined as poison.
    let poison = sql(
        &data,
        "SELECT count(*) AS n FROM quarantine WHERE reason LIKE 'nats-%'",
    );
    assert_eq!(poison[0]["n"], 0);
    // The evidence log verifies.
    let v = json_line(&ok(depeer()
        .args(["log", "verify", "--json", "--data"])
        .arg(&data)));
    // One `mail` entry per message (the world's feed and MRT records are
    // logged too).
    assert_eq!(v["by_kind"]["mail"].as_u64(), Some(want), "{v}");
    assert_eq!(v["objects"], v["entries"], "{v}");

    // The same answers as embedded ingest.
    let hour = |t: &str, h: i64| {
        let ts = depeer_core::Timestamp::parse(t).unwrap();
        depeer_core::Timestamp(ts.0 + h * 3_600_000_000).to_rfc3339()
    };
    let (before, after) = (hour(&cut, -48), hour(&cut, 48));
    let mine = answers(dir, "nats", &cut, &before, &after);
    let theirs = answers(dir, "embedded", &cut, &before, &after);
    for ((q, a), (_, b)) in mine.iter().zip(&theirs) {
        assert!(
            a == b,
            "{q}: differs\nnats:     {}\nembedded: {}",
            &a[..a.len().min(600)],
            &b[..b.len().min(600)]
        );
    }
    eprintln!(
        "nats e2e: {distinct} messages, {kills} worker kills, 1 server restart, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
