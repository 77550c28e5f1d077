//! `depeer export` checked by the real tools (issue 20): rbldnsd loads the
//! zone and answers a listed address, `named-checkzone` accepts the RPZ
//! zone, `nft -c -f` the set (check only: the host's ruleset is never
//! changed), `bird -p -c` the configuration, a gobgpd on loopback (gRPC
//! API on 127.0.0.1 only, BGP listener off) takes every GoBGP line and
//! shows the routes in its RIB; the DROP and ASN-DROP layouts checked
//! field by field against Spamhaus' real files, and read back by `depeer
//! ingest feed --kind net`; `depeer serve dnsbl --data` answers from the
//! data zones; Postfix rejects a listed relay (scripts/e2e/postfix-dnsbl).
//! Each tool check says SKIPPED with one line when its tool is absent.

use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{depeer, ok, shared_run};

fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// The tool's path when installed (PATH, then the sbin directories that a
/// non-login root shell may lack).
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A world to list: the McColo 2008 simulation (routing, AS names, C&C,
/// passive DNS, bot and URL feeds, mail, attribution) plus a `net` feed
/// naming the main event's AS and an IPv6 network, with first-seen times,
/// as the ranking would. Returns the data directory and the moment to
/// export (an hour before the main event: the AS still announces).
fn world(dir: &Path) -> (PathBuf, String, u64) {
    let data = dir.join("data");
    let truth = crate::depends::world(dir, "mccolo-2008", "7");
    let asn = truth["summary"]["main_event_asn"].as_u64().unwrap();
    let event =
        depeer_core::Timestamp::parse(truth["summary"]["main_event_time"].as_str().unwrap())
            .unwrap();
    let at = depeer_core::Timestamp::from_secs(event.secs() - 3600);
    let since = depeer_core::Timestamp::from_secs(event.secs() - 7 * 86_400);
    std::fs::write(
        dir.join("rogue.toml"),
        "source = \"test-rank\"\nkind = \"net\"\n[columns]\nip = 1\nfirst_seen = 2\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("rogue.csv"),
        format!("AS{asn},{0}\n2001:db8:bad::/48,{0}\n", since.to_rfc3339()),
    )
    .unwrap();
    ok(depeer()
        .args(["-q", "ingest", "feed", "--data"])
        .arg(&data)
        .arg("--mapping")
        .arg(dir.join("rogue.toml"))
        .arg(dir.join("rogue.csv")));
    (data, at.to_rfc3339(), asn)
}

/// `depeer export FORMAT --out FILE --json` plus `extra`: the summary.
fn export(data: &Path, at: &str, format: &str, out: &Path, extra: &[&str]) -> serde_json::Value {
    let s = ok(depeer()
        .args(["export", format, "--json", "--at", at, "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra));
    serde_json::from_str(&s).unwrap()
}

/// Runs a checker; its failure output is the assertion message.
fn accepts(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A free UDP and TCP port on 127.0.0.1.
fn free_port() -> u16 {
    for _ in 0..50 {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// A DNS query for `name` type A.
fn query(name: &str, id: u16) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.split('.') {
        p.push(l.len() as u8);
        p.extend_from_slice(l.as_bytes());
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    p
}

/// Skips a name (labels or a compression pointer) at `i`.
fn skip_name(p: &[u8], mut i: usize) -> usize {
    loop {
        let l = p[i] as usize;
        if l == 0 {
            return i + 1;
        }
        if l & 0xc0 == 0xc0 {
            return i + 2;
        }
        i += 1 + l;
    }
}

/// Asks `server` for `name` A; returns (RCODE, the A records' addresses).
/// Retries for up to 10 s while the server starts.
fn ask_a(server: SocketAddr, name: &str) -> (u8, Vec<[u8; 4]>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 1500];
    while start.elapsed() < Duration::from_secs(10) {
        sock.send_to(&query(name, 0x4242), server).unwrap();
        let Ok(n) = sock.recv(&mut buf) else { continue };
        let p = &buf[..n];
        let rcode = p[3] & 0x0f;
        let ancount = u16::from_be_bytes([p[6], p[7]]);
        let mut i = skip_name(p, 12) + 4;
        let mut out = Vec::new();
        for _ in 0..ancount {
            i = skip_name(p, i);
            let ty = u16::from_be_bytes([p[i], p[i + 1]]);
            let len = u16::from_be_bytes([p[i + 8], p[i + 9]]) as usize;
            if ty == 1 && len == 4 {
                out.push([p[i + 10], p[i + 11], p[i + 12], p[i + 13]]);
            }
            i += 10 + len;
        }
        return (rcode, out);
    }
    panic!("{server} did not answer {name}");
}

/// Kills a child server when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first listed IPv4 host of `list` in an rbldnsd/DROP text export.
fn first_host(zone: &str) -> [u8; 4] {
    let line = zone
        .lines()
        .find(|l| l.contains("/32 :127.0.0.4:"))
        .expect("a listed bot");
    let ip: std::net::Ipv4Addr = line.split('/').next().unwrap().parse().unwrap();
    ip.octets()
}

#[test]
fn exports_are_accepted_by_the_real_tools() {
    let dir = tempfile::tempdir().unwrap();
    let (data, at, asn) = world(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    // Every format renders, and lists what the world holds.
    let mut sums = std::collections::BTreeMap::new();
    for (f, file) in [
        ("drop", "drop.txt"),
        ("drop-json", "drop_v4.json"),
        ("asndrop", "asndrop.json"),
        ("rpz", "depeer.rpz"),
        ("nft", "depeer.nft"),
        ("bird", "blackhole.conf"),
        ("gobgp", "gobgp.txt"),
    ] {
        sums.insert(f, export(&data, &at, f, &out.join(file), &[]));
    }
    let zone = out.join("bots.zone");
    let s = export(&data, &at, "rbldnsd", &zone, &["--list", "bots"]);
    assert!(s["entries"].as_u64().unwrap() > 10, "{s}");
    let dbl = out.join("dbl.zone");
    let s = export(&data, &at, "rbldnsd", &dbl, &["--list", "dbl"]);
    assert!(s["by_list"]["dbl"].as_u64().unwrap() > 0, "{s}");
    assert!(
        sums["drop"]["by_list"]["drop"].as_u64().unwrap() >= 2,
        "{}",
        sums["drop"]
    );
    assert_eq!(sums["asndrop"]["entries"], 1, "{}", sums["asndrop"]);
    let asnd = std::fs::read_to_string(out.join("asndrop.json")).unwrap();
    assert!(asnd.starts_with(&format!("{{\"asn\":{asn},")), "{asnd}");
    let rpz = std::fs::read_to_string(out.join("depeer.rpz")).unwrap();
    assert!(
        rpz.contains(".rpz-ip CNAME . ; bots: relayed "),
        "bots with evidence"
    );
    assert!(rpz.contains("48.zz.bad.db8.2001.rpz-ip CNAME . ; drop: network listed by test-rank"));

    // rbldnsd loads the zone and answers a listed address with its code.
    if let Some(rbldnsd) = tool("rbldnsd") {
        // It refuses root and reads as nobody: world-readable copies.
        let rb = tempfile::tempdir().unwrap();
        let mut perm = std::fs::metadata(rb.path()).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(rb.path(), perm).unwrap();
        for f in ["bots.zone", "dbl.zone"] {
            std::fs::copy(out.join(f), rb.path().join(f)).unwrap();
        }
        let port = free_port();
        let mut cmd = Command::new(rbldnsd);
        cmd.args(["-n", "-q", "-b"])
            .arg(format!("127.0.0.1/{port}"))
            .arg(format!(
                "bots.bl.depeer.test:ip4set:{}",
                rb.path().join("bots.zone").display()
            ))
            .arg(format!(
                "dbl.bl.depeer.test:dnset:{}",
                rb.path().join("dbl.zone").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        let _g = Guard(cmd.spawn().unwrap());
        let server: SocketAddr = ([127, 0, 0, 1], port).into();
        let zone_text = std::fs::read_to_string(&zone).unwrap();
        let [a, b, c, d] = first_host(&zone_text);
        let (rcode, answers) = ask_a(server, &format!("{d}.{c}.{b}.{a}.bots.bl.depeer.test"));
        assert_eq!((rcode, answers), (0, vec![[127, 0, 0, 4]]));
        let (rcode, answers) = ask_a(server, "1.0.0.127.bots.bl.depeer.test");
        assert_eq!((rcode, answers.len()), (3, 0), "127.0.0.1 is never listed");
        let name = std::fs::read_to_string(&dbl)
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix('.')
                    .map(|r| r.split(' ').next().unwrap().to_string())
            })
            .unwrap();
        let (rcode, answers) = ask_a(server, &format!("{name}.dbl.bl.depeer.test"));
        assert_eq!((rcode, answers), (0, vec![[127, 0, 1, 2]]));
    } else {
        skip(
            "export rbldnsd",
            "rbldnsd not installed (scripts/setup-test-deps)",
        );
    }

    match tool("named-checkzone") {
        Some(t) => accepts(
            Command::new(t)
                .arg("rpz.depeer.test")
                .arg(out.join("depeer.rpz")),
        ),
        None => skip("export rpz", "named-checkzone not installed (bind9-utils)"),
    }

    match tool("nft") {
        // -c: the kernel checks the transaction and discards it.
        Some(t) if is_root() => accepts(
            Command::new(t)
                .arg("-c")
                .arg("-f")
                .arg(out.join("depeer.nft")),
        ),
        Some(_) => skip("export nft", "nft -c needs root (CAP_NET_ADMIN)"),
        None => skip("export nft", "nft not installed (nftables)"),
    }

    match tool("bird") {
        Some(t) => accepts(
            Command::new(t)
                .arg("-p")
                .arg("-c")
                .arg(out.join("blackhole.conf")),
        ),
        None => skip("export bird", "bird not installed (bird2)"),
    }

    match (tool("gobgpd"), tool("gobgp")) {
        (Some(d), Some(c)) => gobgp_takes_every_line(&d, &c, &out.join("gobgp.txt")),
        _ => skip("export gobgp", "gobgpd/gobgp not installed (gobgpd)"),
    }

    // The DROP exports read back as a net feed: every listed network.
    let back = dir.path().join("back");
    for f in ["drop.txt", "drop_v4.json"] {
        let s = ok(depeer()
            .args(["ingest", "feed", "--kind", "net", "--json", "--data"])
            .arg(&back)
            .arg(out.join(f)));
        let s: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(s["quarantined"], 0, "{f}: {s}");
        assert_eq!(s["entries"], sums["drop"]["entries"], "{f}: {s}");
    }
}

/// A gobgpd with its gRPC API on 127.0.0.1 only and no BGP listener takes
/// every line through the `gobgp` client; its RIB then holds every prefix
/// with the BLACKHOLE community.
fn gobgp_takes_every_line(gobgpd: &Path, gobgp: &Path, lines: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("gobgpd.toml");
    std::fs::write(
        &conf,
        "[global.config]\n  as = 64512\n  router-id = \"192.0.2.254\"\n  port = -1\n",
    )
    .unwrap();
    let port = free_port();
    let api = format!("127.0.0.1:{port}");
    let _g = Guard(
        Command::new(gobgpd)
            .arg("-f")
            .arg(&conf)
            .arg(format!("--api-hosts={api}"))
            .args(["--pprof-disable", "-p", "-l", "warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = || {
        let mut c = Command::new(gobgp);
        c.args(["-u", "127.0.0.1", "-p", &port.to_string()]);
        c
    };
    let start = Instant::now();
    while !client().args(["global"]).output().unwrap().status.success() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "gobgpd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(lines).unwrap();
    let mut want: BTreeSet<(String, String)> = BTreeSet::new();
    for line in text.lines() {
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&args[..4], ["global", "rib", "add", "-a"], "{line}");
        accepts(client().args(&args));
        want.insert((args[4].to_string(), args[5].to_string()));
    }
    assert!(!want.is_empty());
    let mut got: BTreeSet<(String, String)> = BTreeSet::new();
    for fam in ["ipv4", "ipv6"] {
        let out = client()
            .args(["global", "rib", "-a", fam, "-j"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let rib: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for (prefix, paths) in rib.as_object().unwrap() {
            let blackhole = paths[0]["attrs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["type"] == 8 && a["communities"][0] == 0xFFFF_029A_u64);
            assert!(blackhole, "{prefix}: {paths}");
            got.insert((fam.to_string(), prefix.clone()));
        }
    }
    assert_eq!(got, want);
}

/// The CIDRs (or ASNs) of a Spamhaus file, as published or as exported.
fn listed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .map(|l| l.split(';').next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn drop_layouts_follow_spamhaus_files() {
    let Some(run) = shared_run("export drop_layouts_follow_spamhaus_files") else {
        return;
    };
    let sp = run.shared.join("feeds/spamhaus");
    let drop_txt = sp.join("2019-05/drop.txt");
    let asn_json = sp.join("2024-02-27/asn_drop.json");
    for f in [&drop_txt, &sp.join("2019-05/drop_ipv6.txt"), &asn_json] {
        ok(depeer()
            .args(["-q", "ingest", "feed", "--kind", "net", "--data"])
            .arg(&run.data)
            .arg(f));
    }
    let out = run.data.parent().unwrap().join("out");
    std::fs::create_dir(&out).unwrap();
    let now = "2099-01-01T00:00:00Z";
    let exp = |f: &str, file: &str| {
        let s = ok(depeer()
            .args(["export", f, "--max-age", "0", "--at", now, "--data"])
            .arg(&run.data)
            .arg("--out")
            .arg(out.join(file)));
        assert!(s.contains(" entries "), "{s}");
        std::fs::read_to_string(out.join(file)).unwrap()
    };

    // DROP text: `;` header lines with Spamhaus' Last-Modified/Expires
    // fields, then `CIDR ; comment`: the same networks as the real lists.
    let text = exp("drop", "drop.txt");
    let real_v4 = listed(&std::fs::read_to_string(&drop_txt).unwrap());
    let real_v6 = listed(&std::fs::read_to_string(sp.join("2019-05/drop_ipv6.txt")).unwrap());
    let ours = listed(&text);
    assert_eq!(ours, real_v4.union(&real_v6).cloned().collect());
    let head: Vec<&str> = text.lines().take_while(|l| l.starts_with(';')).collect();
    assert!(
        head[0].starts_with("; depeer DROP List 2099/01/01 - "),
        "{}",
        head[0]
    );
    assert!(
        head.contains(&"; Last-Modified: Thu, 01 Jan 2099 00:00:00 GMT"),
        "{head:?}"
    );
    assert!(
        head.contains(&"; Expires: Fri, 02 Jan 2099 00:00:00 GMT"),
        "{head:?}"
    );
    for l in text.lines().skip(head.len()) {
        let (cidr, comment) = l.split_once(" ; ").unwrap();
        assert!(cidr.parse::<depeer_core::Prefix>().is_ok(), "{l}");
        assert!(!comment.contains(';'), "{l}");
    }

    // DROP JSON: {"cidr","sblid","rir"} lines, string values, then the
    // metadata line whose keys, order and types are the real file's.
    let real = std::fs::read_to_string(&asn_json).unwrap();
    let real_meta = real.lines().last().unwrap();
    let json = exp("drop-json", "drop_v4.json");
    let lines: Vec<&str> = json.lines().collect();
    for l in &lines[..lines.len() - 1] {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(keys(l), ["cidr", "sblid", "rir"], "{l}");
        assert!(
            v.as_object()
                .unwrap()
                .values()
                .all(serde_json::Value::is_string),
            "{l}"
        );
    }
    check_meta(&json, real_meta);
    assert_eq!(lines.len() - 1, real_v4.len() + real_v6.len());

    // ASN-DROP JSON: the real file's keys in its order and its types, the
    // same ASes; the metadata line as the real one.
    let ours = exp("asndrop", "asndrop.json");
    let real_first = real.lines().next().unwrap();
    let mut real_asns = BTreeSet::new();
    for l in real.lines().filter(|l| !l.contains("\"metadata\"")) {
        real_asns.insert(
            serde_json::from_str::<serde_json::Value>(l).unwrap()["asn"]
                .as_u64()
                .unwrap(),
        );
    }
    let mut our_asns = BTreeSet::new();
    for l in ours.lines().filter(|l| !l.contains("\"metadata\"")) {
        assert_eq!(keys(l), keys(real_first), "{l}");
        let (v, r): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(l).unwrap(),
            serde_json::from_str(real_first).unwrap(),
        );
        for k in keys(real_first) {
            assert_eq!(kind(&v[&k]), kind(&r[&k]), "{k} in {l}");
        }
        our_asns.insert(v["asn"].as_u64().unwrap());
    }
    assert_eq!(our_asns, real_asns);
    check_meta(&ours, real_meta);

    // And both read back as a net feed.
    for f in ["drop.txt", "drop_v4.json", "asndrop.json"] {
        let s = ok(depeer()
            .args(["ingest", "feed", "--kind", "net", "--json", "--data"])
            .arg(run.data.parent().unwrap().join("back"))
            .arg(out.join(f)));
        let s: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(s["quarantined"], 0, "{f}: {s}");
        let want = if f == "asndrop.json" {
            real_asns.len()
        } else {
            ours_len(&text)
        };
        assert_eq!(s["entries"].as_u64().unwrap() as usize, want, "{f}: {s}");
    }
}

fn ours_len(text: &str) -> usize {
    listed(text).len()
}

/// The keys of a JSON object line, in their order in the text.
fn keys(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(line);
    let v: serde_json::Map<String, serde_json::Value> =
        serde::Deserialize::deserialize(&mut de).unwrap();
    // serde_json's Map may sort: find each key's position in the text.
    let mut pos: Vec<(usize, String)> = v
        .keys()
        .map(|k| (line.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    pos.sort();
    out.extend(pos.into_iter().map(|(_, k)| k));
    out
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Null => "null",
        _ => "other",
    }
}

/// The last line is a metadata line like Spamhaus': same keys in the same
/// order, same types, `size` the byte length of the record lines and
/// `records` their number.
fn check_meta(file: &str, real_meta: &str) {
    let meta = file.lines().last().unwrap();
    assert_eq!(keys(meta), keys(real_meta), "{meta}");
    let (m, r): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(meta).unwrap(),
        serde_json::from_str(real_meta).unwrap(),
    );
    for k in keys(real_meta) {
        assert_eq!(kind(&m[&k]), kind(&r[&k]), "{k}");
    }
    let body = &file[..file.len() - meta.len() - 1];
    assert_eq!(m["size"].as_u64().unwrap() as usize, body.len());
    assert_eq!(
        m["records"].as_u64().unwrap() as usize,
        body.lines().count()
    );
}

#[test]
fn serve_dnsbl_answers_from_the_data_zones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("f.toml"),
        "source = \"t\"\nkind = \"bots\"\n[columns]\nip = 1\nfirst_seen = 2\n",
    )
    .unwrap();
    let yesterday = depeer_core::Timestamp::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - 86_400,
    );
    std::fs::write(
        dir.path().join("bots.csv"),
        format!("192.0.2.77,{0}\n2001:db8::77,{0}\n", yesterday.to_rfc3339()),
    )
    .unwrap();
    ok(depeer()
        .args(["-q", "ingest", "feed", "--data"])
        .arg(&data)
        .arg("--mapping")
        .arg(dir.path().join("f.toml"))
        .arg(dir.path().join("bots.csv")));
    let port = free_port();
    let _g = Guard(
        depeer()
            .args(["-q", "serve", "dnsbl", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    assert_eq!(
        ask_a(server, "77.2.0.192.bots.bl.depeer.test"),
        (0, vec![[127, 0, 0, 4]])
    );
    let v6 = "7.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2";
    assert_eq!(
        ask_a(server, &format!("{v6}.bots.bl.depeer.test")),
        (0, vec![[127, 0, 0, 4]])
    );
    assert_eq!(ask_a(server, "78.2.0.192.bots.bl.depeer.test").0, 3);
    assert_eq!(ask_a(server, "77.2.0.192.cc.bl.depeer.test").0, 3);
    assert_eq!(
        ask_a(server, "2.0.0.127.drop.bl.depeer.test"),
        (0, vec![[127, 0, 0, 2]])
    );
}

#[test]
fn postfix_rejects_a_listed_relay() {
    if !is_root() {
        return skip(
            "export postfix",
            "needs root for network and mount namespaces",
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/e2e/postfix-dnsbl");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_depeer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) {
        return skip("export postfix", stderr.trim());
    }
    assert!(
        out.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
}
