//! `depeer ingest mrt` end to end: a collector's RIB and its update files
//! ingested in separate runs give the same history as one run.

use std::path::Path;

use crate::support::{depeer, ok, sim, sql};

fn lookup(data: &Path, at: &str, ips: &[String]) -> String {
    ok(depeer()
        .args(["-q", "route", "lookup", "--json", "--at", at, "--data"])
        .arg(data)
        .args(ips))
}

#[test]
fn separate_runs_continue_from_the_stored_rib_state() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    ok(sim("mccolo-2008", "11").arg(&world));
    let bgp = world.join("bgp");
    let mut ribs = Vec::new();
    let mut updates = Vec::new();
    for e in std::fs::read_dir(&bgp).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("rib.") {
            ribs.push(p);
        } else if name.starts_with("updates.") {
            updates.push(p);
        }
    }
    assert!(!ribs.is_empty() && !updates.is_empty());
    let one = dir.path().join("one");
    let split = dir.path().join("split");
    ok(depeer()
        .args(["-q", "ingest", "mrt", "--collector", "sim", "--data"])
        .arg(&one)
        .arg(&bgp));
    ok(depeer()
        .args(["-q", "ingest", "mrt", "--collector", "sim", "--data"])
        .arg(&split)
        .args(&ribs));
    let out = ok(depeer()
        .args([
            "-q",
            "ingest",
            "mrt",
            "--json",
            "--collector",
            "sim",
            "--data",
        ])
        .arg(&split)
        .args(&updates));
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(summary["seeded_routes"].as_u64().unwrap() > 0, "{summary}");

    let events = |d: &Path| {
        sql(
            d,
            "SELECT CAST(time AS VARCHAR) t, kind, CAST(asn AS VARCHAR) a, prefix \
             FROM routing_events ORDER BY 1, 2, 3, 4",
        )
    };
    let (e1, e2) = (events(&one), events(&split));
    assert!(
        e1.iter().any(|r| r["kind"] == "prefix-withdrawn"),
        "the cut withdraws prefixes"
    );
    assert_eq!(e1, e2, "events differ between one run and two");

    // Every prefix an event names, looked up before, during and after.
    let ips: Vec<String> = e1
        .iter()
        .filter_map(|r| r["prefix"].as_str())
        .filter(|p| !p.contains(':'))
        .map(|p| p.split('/').next().unwrap().to_string())
        .take(40)
        .collect();
    assert!(!ips.is_empty());
    for at in [
        "2008-11-08T12:00:00Z",
        "2008-11-11T21:00:00Z",
        "2008-11-14T00:00:00Z",
    ] {
        assert_eq!(lookup(&one, at, &ips), lookup(&split, at, &ips), "at {at}");
    }
}
