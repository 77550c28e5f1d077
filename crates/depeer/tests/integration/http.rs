//! `depeer serve http` and `depeer serve` on the McColo 2008 world (seed
//! 7), as real processes on 127.0.0.1: the API answers with the same JSON
//! as the commands' `--json`, lookups, paging, errors, metrics and a clean
//! stop on SIGTERM; schemathesis against the OpenAPI document; the
//! dashboard in headless Chromium; the all-in-one server rebuilding on new
//! data. The world is simulated and ingested once for all of them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::depends::world;
use crate::report::{chromium, count, headless, png_rgb, run_bounded, tag};
use crate::support::{depeer, ok, sql};

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    truth: Value,
}

/// The world, built once per test binary (the tests share it read-only).
fn shared_world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    static BUILDING: Mutex<()> = Mutex::new(());
    let _g = BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    W.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let truth = world(dir.path(), "mccolo-2008", "7");
        World {
            data: dir.path().join("data"),
            _dir: dir,
            truth,
        }
    })
}

/// A server process; killed when dropped unless stopped.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) addr: SocketAddr,
    pub(crate) stderr: std::sync::Arc<Mutex<String>>,
}

impl Server {
    /// Starts `depeer <args>` and waits (at most 60 s) for its
    /// "HTTP on http://ADDR/" line.
    pub(crate) fn start(args: &[&str]) -> Server {
        let mut child = depeer()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("HTTP on http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                log2.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
        Server {
            child: Some(child),
            addr: addr.parse().unwrap(),
            stderr: log,
        }
    }

    /// SIGTERM, then the exit status within 10 s.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        let t = Instant::now();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            if t.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("no clean stop in 10 s: {}", self.stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One HTTP/1.1 GET: (status, headers lowercased, body).
pub(crate) fn get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = unchunk(&body);
    }
    (status, headers, body)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
}

fn json(addr: SocketAddr, path: &str) -> Value {
    let (s, _, b) = get(addr, path);
    assert_eq!(s, 200, "{path}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap()
}

fn cli_json(data: &Path, args: &[&str]) -> Value {
    let out = ok(depeer().args(args).arg("--json").arg("--data").arg(data));
    serde_json::from_str(out.trim()).unwrap()
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn serve_http(data: &Path) -> Server {
    let d = data.to_str().unwrap();
    Server::start(&["serve", "http", "--listen", "127.0.0.1:0", "--data", d])
}

#[test]
fn http_api_answers_as_the_commands_json() {
    let w = shared_world();
    let srv = serve_http(&w.data);
    let a = srv.addr;
    let summary = &w.truth["summary"];
    let asn = summary["main_event_asn"].as_u64().unwrap().to_string();
    let event =
        depeer_core::Timestamp::parse(summary["main_event_time"].as_str().unwrap()).unwrap();
    let at = depeer_core::Timestamp::from_secs(event.secs() - 3600).to_rfc3339();

    assert_eq!(json(a, "/healthz")["lookups"], true);
    // The same content and field names as each command's --json.
    let pairs: Vec<(String, Vec<&str>)> = vec![
        (format!("/api/v1/rank?at={at}"), vec!["rank", "--at", &at]),
        (
            format!("/api/v1/rank?at={at}&by=prefix&limit=5"),
            vec!["rank", "--at", &at, "--by", "prefix", "--top", "5"],
        ),
        (
            format!("/api/v1/explain/{asn}?at={at}"),
            vec!["explain", &asn, "--at", &at],
        ),
        ("/api/v1/events".into(), vec!["events"]),
        (
            "/api/v1/events?scope=botnet".into(),
            vec!["events", "--scope", "botnet"],
        ),
        ("/api/v1/botnets".into(), vec!["botnets"]),
        (
            format!("/api/v1/depends/{asn}?at={at}"),
            vec!["depends", &asn, "--at", &at],
        ),
        (
            "/api/v1/series?by=botnet&step=6h".into(),
            vec!["series", "--by", "botnet", "--step", "6h"],
        ),
        ("/api/v1/backtest".into(), vec!["backtest"]),
    ];
    for (path, args) in &pairs {
        assert_eq!(json(a, path), cli_json(&w.data, args), "{path}");
    }
    let mut api = json(a, &format!("/api/v1/whatif?cut={asn}&at={at}"));
    let mut cli = cli_json(&w.data, &["whatif", "--cut", &asn, "--at", &at]);
    // Timings differ between runs; everything else is the same.
    api.as_object_mut().unwrap().remove("timing");
    cli.as_object_mut().unwrap().remove("timing");
    assert_eq!(api, cli);
    assert!(api["predicted_drop"].as_f64().unwrap() > 0.0, "{api}");

    // Lookups: a relay of botnet spam, the AS cut, a listed domain.
    let relay = sql(&w.data, "SELECT relay_ip FROM attribution WHERE botnet IS NOT NULL AND relay_ip IS NOT NULL LIMIT 1")[0]["relay_ip"]
        .as_str()
        .unwrap()
        .to_string();
    let ip = json(a, &format!("/api/v1/ip/{relay}"));
    assert!(ip["mail"]["messages"].as_u64().unwrap() > 0, "{ip}");
    assert!(
        ip["mail"]["first_seen"].is_string()
            && !ip["mail"]["botnets"].as_array().unwrap().is_empty()
    );
    let asl = json(a, &format!("/api/v1/as/AS{asn}?at={at}"));
    assert!(!asl["prefixes"].as_array().unwrap().is_empty(), "{asl}");
    assert!(
        asl["upstreams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["current"] == true),
        "{asl}"
    );
    assert!(!asl["history"].as_array().unwrap().is_empty());
    let prefix = asl["prefixes"][0].as_str().unwrap().to_string();
    let pl = json(a, &format!("/api/v1/prefix/{}", prefix.replace('/', "%2F")));
    assert_eq!(pl["prefix"], prefix.as_str());
    let routed = json(a, &format!("/api/v1/prefix/{prefix}?at={at}"))["routed"].clone();
    assert_eq!(routed["asn"].to_string(), asn, "{routed}");
    let host = sql(&w.data, "SELECT host FROM message_urls LIMIT 1")[0]["host"]
        .as_str()
        .unwrap()
        .to_string();
    let d = json(a, &format!("/api/v1/domain/{host}"));
    assert!(d["mail"]["messages"].as_u64().unwrap() > 0, "{d}");
    let listed = sql(
        &w.data,
        "SELECT indicator FROM feed_entries WHERE kind = 'cnc' LIMIT 1",
    )[0]["indicator"]
        .as_str()
        .unwrap()
        .to_string();
    if listed.parse::<std::net::IpAddr>().is_ok() {
        let l = json(a, &format!("/api/v1/ip/{listed}"));
        assert!(
            l["listings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["list"] == "cc"),
            "{l}"
        );
    }

    // Paging: the same rows, cut in pages.
    let all = json(a, &format!("/api/v1/rank?at={at}&limit=50"))["ranking"]
        .as_array()
        .unwrap()
        .clone();
    assert!(all.len() > 3, "too few ranked networks to page");
    let (s, h, b) = get(a, &format!("/api/v1/rank?at={at}&limit=2"));
    assert_eq!(s, 200);
    let first: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(first["ranking"].as_array().unwrap()[..], all[..2]);
    let next = header(&h, "x-next-cursor").unwrap().to_string();
    let second = json(a, &format!("/api/v1/rank?at={at}&limit=2&cursor={next}"));
    assert_eq!(second["ranking"].as_array().unwrap()[..], all[2..4]);

    // Errors: JSON, the right status, no internals.
    for (path, status) in [
        ("/api/v1/ip/999.1.2.3", 400),
        ("/api/v1/as/ASX", 400),
        ("/api/v1/series?step=0s", 400),
        ("/api/v1/whatif?cut=26780&at=yesterday", 400),
        ("/api/v1/nope", 404),
    ] {
        let (s, _, b) = get(a, path);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(s, status, "{path}: {v}");
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{v}"
        );
        assert!(!String::from_utf8_lossy(&b).contains(w.data.to_str().unwrap()));
    }
    let (_, h, b) = get(a, "/metrics");
    assert!(
        header(&h, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let m = String::from_utf8(b).unwrap();
    assert!(
        m.contains("depeer_http_requests_total{route=\"/api/v1/rank\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("depeer_http_cache_hits_total"), "{m}");
    assert!(srv.stop().success());
}

/// The virtualenv of scripts/setup-test-deps, or `None` after one line.
fn schemathesis(test: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("DEPEER_TEST_VENV")
        .map_or_else(|| PathBuf::from("/var/tmp/depeer-test-venv"), PathBuf::from);
    let bin = venv.join("bin/st");
    if bin.is_file() {
        return Some(bin);
    }
    let _ = std::io::stderr().write_all(
        format!(
            "SKIPPED {test}: no schemathesis at {} (run {}/scripts/setup-test-deps --tools)\n",
            bin.display(),
            root.display()
        )
        .as_bytes(),
    );
    None
}

#[test]
fn schemathesis_finds_no_server_error_or_schema_violation() {
    let Some(st) = schemathesis("schemathesis_finds_no_server_error_or_schema_violation") else {
        return;
    };
    let w = shared_world();
    let srv = serve_http(&w.data);
    let url = format!("http://{}/api/v1/openapi.json", srv.addr);
    // schemathesis keeps a cache in its working directory: a temporary one.
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .current_dir(cwd.path())
        .arg("600")
        .arg(&st)
        .args([
            "run",
            &url,
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "25",
            "--workers",
            "2",
            "--request-timeout",
            "60",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    // Every operation of the document ran, every part of its schema resolved.
    let doc = json(srv.addr, "/api/v1/openapi.json");
    let ops = doc["paths"].as_object().unwrap().len();
    assert!(
        text.contains(&format!("Tested: {ops}")),
        "not every operation ran:\n{text}"
    );
    assert!(!text.to_lowercase().contains("unresolvable"), "{text}");
    assert!(
        text.contains(" passed") && !text.contains(" failed"),
        "{text}"
    );
    assert!(srv.stop().success());
}

#[test]
fn dashboard_draws_every_page_in_headless_chromium() {
    let w = shared_world();
    let srv = serve_http(&w.data);
    let a = srv.addr;
    let asn = w.truth["summary"]["main_event_asn"].as_u64().unwrap();
    let event =
        depeer_core::Timestamp::parse(w.truth["summary"]["main_event_time"].as_str().unwrap())
            .unwrap();
    let at = depeer_core::Timestamp::from_secs(event.secs() - 3600).to_rfc3339();
    let relay = sql(
        &w.data,
        "SELECT relay_ip FROM attribution WHERE relay_ip IS NOT NULL LIMIT 1",
    )[0]["relay_ip"]
        .as_str()
        .unwrap()
        .to_string();
    // The pages are served from the binary whatever the browser.
    for p in ["/", &format!("/as/{asn}"), "/lookup?q=x"] {
        let (s, h, _) = get(a, p);
        assert_eq!(s, 200);
        assert!(
            header(&h, "content-security-policy")
                .unwrap()
                .contains("default-src 'self'")
        );
    }
    let Some(bin) = chromium("dashboard_draws_every_page_in_headless_chromium") else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shots = tempfile::tempdir().unwrap();
    let pages: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "overview",
            format!("http://{a}/?whatif=1"),
            vec!["id=\"rate\"", "id=\"shares\""],
        ),
        (
            "as",
            format!("http://{a}/as/{asn}?at={at}"),
            vec!["id=\"timeline\""],
        ),
        ("lookup", format!("http://{a}/lookup?q={relay}"), vec![]),
    ];
    for (name, url, charts) in &pages {
        let dom = run_bounded(
            headless(&bin, profile.path())
                .arg("--virtual-time-budget=30000")
                .arg("--dump-dom")
                .arg(url),
        );
        let body = tag(&dom, "data-ready=");
        assert!(body.contains("data-ready=\"yes\""), "{name}: {body}");
        assert!(
            body.contains("data-external=\"0\""),
            "{name}: a request left the server: {body}"
        );
        assert!(count(body, "data-requests") > 0, "{name}: {body}");
        for c in charts {
            let at = dom.find(c).unwrap_or_else(|| panic!("{name}: no {c}"));
            let t = tag(&dom[at..], "class=\"chart\"");
            assert!(count(t, "data-points") > 0, "{name} {c}: {t}");
            assert!(dom[at..].contains("<canvas"), "{name}: no uPlot canvas");
        }
        let mut tables = 0;
        for (i, _) in dom.match_indices("<table data-rows=\"") {
            tables += 1;
            let _ = i;
        }
        assert!(tables > 0, "{name}: no table");
        match *name {
            "overview" => {
                let at = dom.find("id=\"rate\"").unwrap();
                let t = tag(&dom[at..], "class=\"chart\"");
                assert!(count(t, "data-marks") > 0, "no event marked: {t}");
                for t in [
                    "id=\"rank-table\"",
                    "id=\"events-table\"",
                    "id=\"botnets-table\"",
                    "id=\"whatif-table\"",
                ] {
                    assert!(count(tag(&dom, t), "data-rows") > 0, "{name}: {t} empty");
                }
                let r = tag(&dom, "id=\"whatif-result\"");
                assert!(
                    r.contains("data-predicted-drop=\""),
                    "what-if gave no result: {r}"
                );
            }
            "as" => {
                let g = tag(&dom, "id=\"as-graph\"");
                assert!(
                    count(g, "data-nodes") > 1 && count(g, "data-edges") > 0,
                    "{g}"
                );
                assert!(dom.contains("<canvas"), "no Cytoscape canvas");
                for t in [
                    "id=\"upstreams-table\"",
                    "id=\"history-table\"",
                    "id=\"evidence-table\"",
                ] {
                    assert!(count(tag(&dom, t), "data-rows") > 0, "{name}: {t} empty");
                }
            }
            _ => {
                assert!(
                    count(tag(&dom, "id=\"history-table\""), "data-rows") > 0,
                    "{name}"
                );
            }
        }
        let png = shots.path().join(format!("{name}.png"));
        run_bounded(
            headless(&bin, profile.path())
                .arg("--virtual-time-budget=30000")
                .arg("--window-size=1280,2000")
                .arg(format!("--screenshot={}", png.display()))
                .arg(url),
        );
        let (pw, ph, pixels) = png_rgb(&std::fs::read(&png).unwrap());
        assert_eq!((pw, ph), (1280, 2000));
        let bg = pixels[pixels.len() - 1];
        let inked = pixels.iter().filter(|p| **p != bg).count();
        let mut colours = pixels.clone();
        colours.sort_unstable();
        colours.dedup();
        assert!(
            inked * 50 > pixels.len() && colours.len() >= 16,
            "{name}: blank screenshot"
        );
        if let Some(keep) = std::env::var_os("DEPEER_KEEP_SCREENSHOTS") {
            std::fs::copy(&png, Path::new(&keep).join(format!("{name}.png"))).unwrap();
        }
    }
    assert!(srv.stop().success());
}

#[test]
fn serve_runs_dnsbl_and_http_together_and_rebuilds_on_new_data() {
    let w = shared_world();
    // A copy: this test adds data.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(Command::new("cp").arg("-a").arg(&w.data).arg(&data));
    let d = data.to_str().unwrap();
    let srv = Server::start(&[
        "serve",
        "--data",
        d,
        "--http",
        "127.0.0.1:0",
        "--dnsbl",
        "127.0.0.1:0",
        "--max-age",
        "0",
        "--poll",
        "1",
    ]);
    let log = srv.stderr.lock().unwrap().clone();
    assert!(log.contains("DNSBL on"), "{log}");
    assert_eq!(json(srv.addr, "/healthz")["generation"], 1);
    let cached = json(srv.addr, "/api/v1/rank");
    // New data: a C&C listing of an address nobody listed.
    let feed = dir.path().join("cc.csv");
    std::fs::write(&feed, "ip,port,family,first_seen,last_seen\n192.0.2.77,443,srizbi,2008-11-01T00:00:00Z,2008-11-02T00:00:00Z\n").unwrap();
    ok(depeer()
        .args(["-q", "ingest", "feed", "--kind", "cnc", "--data", d])
        .arg(&feed));
    let t = Instant::now();
    loop {
        let h = json(srv.addr, "/healthz");
        if h["generation"].as_u64().unwrap() >= 2 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no rebuild after new data: {h}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let l = json(srv.addr, "/api/v1/ip/192.0.2.77");
    assert!(
        l["listings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["list"] == "cc"),
        "{l}"
    );
    assert_eq!(json(srv.addr, "/api/v1/rank")["at"], cached["at"]);
    let t = Instant::now();
    while !srv.stderr.lock().unwrap().contains("DNSBL zones rebuilt") {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "DNSBL not rebuilt: {}",
            srv.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = srv.stop();
    assert!(status.success(), "{status}");
}
