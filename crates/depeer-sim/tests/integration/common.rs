//! Helpers: generate into a temporary directory, read the per-message
//! truth, split mboxrd files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use depeer_sim::{Options, Scenario, Summary, generate};

pub(crate) struct Run {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) summary: Summary,
}

impl Run {
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn truth(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.path().join("truth.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// Generates a built-in scenario; `DEPEER_SIM_SEED=N` shifts every test's
/// seed so that the checks can be rerun on other worlds.
pub(crate) fn run(name: &str, seed: u64, scale: f64) -> Run {
    let shift: u64 = std::env::var("DEPEER_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let seed = seed.wrapping_add(shift);
    let sc = Scenario::load(name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(
        &sc,
        &Options {
            seed,
            scale,
            gzip: false,
            zstd: false,
        },
        dir.path(),
    )
    .unwrap();
    Run { dir, summary }
}

/// One line of truth-messages.jsonl.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct MsgTruth {
    pub(crate) sha256: String,
    pub(crate) file: String,
    pub(crate) time: String,
    pub(crate) relay_ip: String,
    pub(crate) botnet: Option<String>,
    pub(crate) malformed: Option<String>,
}

impl MsgTruth {
    pub(crate) fn secs(&self) -> i64 {
        depeer_core::Timestamp::parse(&self.time).unwrap().secs()
    }
}

pub(crate) fn messages(dir: &Path) -> Vec<MsgTruth> {
    let text = std::fs::read_to_string(dir.join("truth-messages.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Splits an mboxrd file into messages as docs/sim.md specifies: a message
/// is the bytes after its `From ` line up to (not including) the empty line
/// before the next `From ` line or the end, with one `>` removed from lines
/// matching `^>+From `.
pub(crate) fn split_mboxrd(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(mut m) = cur.take() {
                m.pop();
                out.push(m);
            }
            cur = Some(Vec::new());
            continue;
        }
        let Some(m) = cur.as_mut() else { continue };
        let gt = line.iter().take_while(|&&b| b == b'>').count();
        if gt > 0 && line[gt..].starts_with(b"From ") {
            m.extend_from_slice(&line[1..]);
        } else {
            m.extend_from_slice(line);
        }
    }
    if let Some(mut m) = cur.take() {
        m.pop();
        out.push(m);
    }
    out
}

/// SHA-256 of every file under `dir`, by relative path.
pub(crate) fn file_hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::Digest;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let h = sha2::Sha256::digest(std::fs::read(&p).unwrap());
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), hex(&h));
            }
        }
    }
    out
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `|measured - target| <= tol + 3 sigma`, with a message naming the check.
pub(crate) fn check(what: &str, measured: f64, target: f64, tol: f64, sigma: f64) {
    let allowed = tol + 3.0 * sigma;
    assert!(
        (measured - target).abs() <= allowed,
        "{what}: measured {measured:.4}, target {target} ± {tol} (+3σ sampling = ±{allowed:.4})"
    );
}

/// Standard error of a ratio of Poisson counts a/b.
pub(crate) fn ratio_sigma(a: f64, b: f64) -> f64 {
    if a <= 0.0 || b <= 0.0 {
        return 0.0;
    }
    (a / b) * (1.0 / a + 1.0 / b).sqrt()
}

/// Count of spam messages per botnet in `[from, to)`.
pub(crate) fn count(msgs: &[MsgTruth], from: i64, to: i64) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for x in msgs {
        let t = x.secs();
        if let (true, Some(b)) = (t >= from && t < to, &x.botnet) {
            *m.entry(b.clone()).or_insert(0.0) += 1.0;
        }
    }
    m
}

pub(crate) fn total(m: &BTreeMap<String, f64>) -> f64 {
    m.values().sum()
}

pub(crate) fn event_time(truth: &serde_json::Value, key: &str) -> i64 {
    let ev = truth["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap();
    depeer_core::Timestamp::parse(ev["time"].as_str().unwrap())
        .unwrap()
        .secs()
}

pub(crate) fn at(s: &str) -> i64 {
    depeer_core::Timestamp::parse(s).unwrap().secs()
}
