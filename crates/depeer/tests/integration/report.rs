//! `depeer report` of the McColo 2008 world (seed 7), opened in headless
//! Chromium: the page's scripts run with no network, a screenshot is taken
//! and must not be blank, and the DOM after the scripts ran must show each
//! chart (uPlot canvas), the dependency graph and each table drawn with
//! data (the page's script writes `data-points`, `data-nodes`, `data-rows`
//! after drawing). Without Chromium (`scripts/setup-test-deps` installs
//! Debian's `chromium`) the browser part is skipped with one line; the
//! report itself is still checked.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::depends::world;
use crate::support::{depeer, ok};

/// Debian's Chromium (or `$DEPEER_CHROMIUM`), or `None` after one line on
/// stderr saying the test is skipped.
pub(crate) fn chromium(test: &str) -> Option<PathBuf> {
    let bin = std::env::var_os("DEPEER_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if bin.is_file() {
        return Some(bin);
    }
    let line = format!(
        "SKIPPED {test} (browser part): no Chromium at {}; run scripts/setup-test-deps or set DEPEER_CHROMIUM\n",
        bin.display()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}

/// Headless Chromium with a fresh profile and no background traffic
/// (the machine's network is closed; the page needs none).
pub(crate) fn headless(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Runs `c` for at most two minutes; returns its stdout.
pub(crate) fn run_bounded(c: &mut Command) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = c
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!(
                "{c:?} did not finish in 120 s: {}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "{c:?}: {status}: {}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    std::fs::read_to_string(&out_path).unwrap()
}

/// The opening tag of the element whose attributes contain `marker`.
pub(crate) fn tag<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no element with {marker} in the DOM"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

/// The number in `name="N"` of a tag.
pub(crate) fn count(tag: &str, name: &str) -> u64 {
    let key = format!("{name}=\"");
    let rest = &tag[tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len()..];
    rest[..rest.find('"').unwrap()]
        .parse()
        .unwrap_or_else(|_| panic!("{name} in {tag}"))
}

#[test]
fn report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let truth = world(dir.path(), "mccolo-2008", "7");
    let data = dir.path().join("data");
    let html = dir.path().join("report.html");
    // The day before the depeering: the cut network hosts C&C servers then.
    let summary = &truth["summary"];
    let cut = depeer_core::Timestamp::parse(summary["main_event_time"].as_str().unwrap()).unwrap();
    let at = depeer_core::Timestamp::from_secs(cut.secs() - 3600).to_rfc3339();
    let out = ok(depeer()
        .args(["report", "--json", "--at", &at, "--out"])
        .arg(&html)
        .arg("--data")
        .arg(&data));
    let written: serde_json::Value = serde_json::from_str(&out).unwrap();
    let bytes = std::fs::metadata(&html).unwrap().len();
    assert_eq!(written["bytes"].as_u64(), Some(bytes), "{written}");
    let sections = &written["sections"];
    for s in [
        "spam_rate",
        "events",
        "botnet_shares",
        "botnets",
        "dependency_graph",
    ] {
        assert!(sections[s].as_u64().unwrap() > 0, "{s} empty: {written}");
    }
    // The ranking and the what-if of its top network are in the report;
    // the backtest table is there (with a row per detected drop).
    let page = std::fs::read_to_string(&html).unwrap();
    for s in ["ranking", "whatif"] {
        assert!(sections[s].as_u64().unwrap() > 0, "{s} empty: {written}");
    }
    assert!(sections["backtests"].as_u64().is_some(), "{written}");
    // The network that is cut next is in the graph, hosting C&C servers.
    let asn = summary["main_event_asn"].as_u64().unwrap();
    assert!(
        page.contains(&format!(
            "<g class=\"node node-hosting\" data-asn=\"{asn}\">"
        )),
        "AS{asn} not in the dependency graph"
    );

    let Some(bin) = chromium("report_renders_in_headless_chromium") else {
        return;
    };
    let url = format!("file://{}", html.display());
    let profile = tempfile::tempdir().unwrap();
    let dom = run_bounded(headless(&bin, profile.path()).arg("--dump-dom").arg(&url));
    let body = tag(&dom, "data-report-ready=");
    assert!(body.contains("data-report-ready=\"yes\""), "{body}");
    for chart in ["id=\"spam-chart\"", "id=\"shares-chart\""] {
        let t = tag(&dom, chart);
        assert!(count(t, "data-points") > 0, "{t}");
    }
    assert!(count(tag(&dom, "id=\"spam-chart\""), "data-marks") > 0);
    let spam = dom.find("id=\"spam-chart\"").unwrap();
    let shares = dom.find("id=\"shares-chart\"").unwrap();
    assert!(dom[spam..shares].contains("<canvas"), "no uPlot canvas");
    assert!(dom[shares..].contains("<canvas"), "no uPlot canvas");
    let graph = tag(&dom, "id=\"dep-graph\"");
    assert!(
        count(graph, "data-nodes") > 0 && count(graph, "data-edges") > 0,
        "{graph}"
    );
    let mut tables = vec!["events", "botnets"];
    for s in ["ranking", "whatif", "backtests"] {
        if !sections[s].is_null() {
            tables.push(s);
        }
    }
    for t in tables {
        let tag = tag(&dom, &format!("data-table=\"{t}\""));
        assert!(count(tag, "data-rows") > 0, "{tag}");
    }

    let png = dir.path().join("report.png");
    run_bounded(
        headless(&bin, profile.path())
            .arg("--window-size=1280,2400")
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url),
    );
    let (w, h, pixels) = png_rgb(&std::fs::read(&png).unwrap());
    assert_eq!((w, h), (1280, 2400));
    // Not blank: many pixels differ from the background, in many colours
    // (text, two charts' lines and the graph's boxes).
    let bg = pixels[0];
    let inked = pixels.iter().filter(|p| **p != bg).count();
    let mut colours: Vec<[u8; 3]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        inked * 50 > pixels.len(),
        "{inked} of {} pixels drawn",
        pixels.len()
    );
    assert!(colours.len() >= 16, "{} colours", colours.len());
}

/// Width, height and RGB pixels of an 8-bit RGB or RGBA, non-interlaced
/// PNG (what Chromium writes).
pub(crate) fn png_rgb(png: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut idat) = (8, Vec::new());
    let (mut w, mut h, mut channels) = (0, 0, 0);
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let body = &png[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!((body[8], body[12]), (8, 0), "8-bit, not interlaced");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("colour type {t}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(body),
            _ => {}
        }
        pos += 12 + len;
    }
    // Chromium's own output, not hostile input: a plain zlib decoder.
    let mut z = flate2::write::ZlibDecoder::new(Vec::new());
    z.write_all(&idat).unwrap();
    let raw = z.finish().unwrap();
    let stride = w * channels;
    assert_eq!(raw.len(), h * (stride + 1));
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(w * h);
    for row in raw.chunks(stride + 1) {
        let (filter, line) = (row[0], &row[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let b = prev[i];
            let c = if i >= channels { prev[i - channels] } else { 0 };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                f => panic!("PNG filter {f}"),
            };
            cur[i] = line[i].wrapping_add(predicted);
        }
        pixels.extend(cur.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (w, h, pixels)
}

/// The Paeth predictor (PNG specification, 9.4).
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
