//! `depeer events --follow` while a simulated world's mail is ingested a
//! day at a time: the McColo drop is printed once, near its true time,
//! with the cut network as its first cause and a positive delay.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::{depeer, ok};

fn mbox_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            mbox_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn follow_confirms_the_cut_as_the_days_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let (world, data) = (dir.path().join("world"), dir.path().join("data"));
    ok(depeer()
        .args([
            "-q",
            "sim",
            "--scenario",
            "mccolo-2008",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&world));
    let ingest = |args: &[&str], paths: &[PathBuf]| {
        ok(depeer()
            .args(["-q", "ingest"])
            .args(args)
            .arg("--data")
            .arg(&data)
            .args(paths));
    };
    ingest(&["mrt"], &[world.join("bgp")]);
    ingest(&["as2org"], &[world.join("as2org.jsonl")]);
    ingest(&["feed", "--kind", "cnc"], &[world.join("feeds/cc.csv")]);

    let mut follower = depeer()
        .args(["events", "--follow", "--json", "--poll", "200ms"])
        .args(["--exit-when-idle", "10s", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The mail of each simulated day (files `TRAP/DAY.mbox`) in day order.
    let mut files = Vec::new();
    mbox_files(&world.join("mail"), &mut files);
    let mut days: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        let day = f.file_stem().unwrap().to_string_lossy().into_owned();
        days.entry(day).or_default().push(f);
    }
    assert!(days.len() >= 20, "{} days", days.len());
    for paths in days.values() {
        ingest(&["mail"], paths);
    }
    let status = follower.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut text = String::new();
    follower
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();

    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(world.join("truth.json")).unwrap()).unwrap();
    let asn = truth["summary"]["main_event_asn"].as_u64().unwrap();
    let at = truth["summary"]["main_event_time"].as_str().unwrap();
    let t_cut = depeer_core::Timestamp::parse(at).unwrap().secs();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let near: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            let t = depeer_core::Timestamp::parse(e["time"].as_str().unwrap()).unwrap();
            e["kind"] == "drop" && (t.secs() - t_cut).abs() <= 90 * 60
        })
        .collect();
    assert_eq!(near.len(), 1, "one drop near {at}: {text}");
    let drop = near[0];
    assert_eq!(drop["causes"][0]["asn"].as_u64(), Some(asn), "{drop}");
    let delay = drop["delay_seconds"].as_i64().unwrap();
    // Confirmed after two whole hours of data at least, and by the end of
    // the next day ingested (the mail arrives a day at a time here).
    assert!((2 * 3600..=48 * 3600).contains(&delay), "{drop}");
    let magnitude = drop["magnitude"].as_f64().unwrap();
    assert!((-0.9..=-0.4).contains(&magnitude), "{drop}");
}
