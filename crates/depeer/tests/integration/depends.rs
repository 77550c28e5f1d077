//! `depeer series` and `depeer depends` on a small simulated world
//! (McColo 2008, seed 7): every message is in exactly one bucket of the
//! series, the per-botnet series add up to the same total, and the share
//! of spam controlled from the main event's AS (`cc_share`) lands within
//! 3 points of the simulator's `dependent_share`; `depeer events` finds
//! the drop and names that AS as its first cause.

use std::path::Path;

use crate::support::{depeer, int, ok, sql};

/// Simulates and ingests a world the way an analyst would: routing, AS
/// names, the four feeds, mail, then attribution with everything stored.
/// The other e2e tests of analyses (rank, whatif, export) start from it.
pub(crate) fn world(dir: &Path, scenario: &str, seed: &str) -> serde_json::Value {
    let (world, data) = (dir.join("world"), dir.join("data"));
    ok(depeer()
        .args(["-q", "sim", "--scenario", scenario, "--seed", seed, "--out"])
        .arg(&world));
    let ingest = |args: &[&str], path: &Path| {
        ok(depeer()
            .args(["-q", "ingest"])
            .args(args)
            .arg("--data")
            .arg(&data)
            .arg(path));
    };
    ingest(&["mrt"], &world.join("bgp"));
    ingest(&["as2org"], &world.join("as2org.jsonl"));
    for (kind, file) in [
        ("cnc", "cc.csv"),
        ("pdns", "pdns.csv"),
        ("bots", "bots.csv"),
        ("url", "urls.csv"),
    ] {
        ingest(&["feed", "--kind", kind], &world.join("feeds").join(file));
    }
    ingest(&["mail"], &world.join("mail"));
    ok(depeer().args(["-q", "attribute", "--data"]).arg(&data));
    serde_json::from_slice(&std::fs::read(world.join("truth.json")).unwrap()).unwrap()
}

fn series_total(data: &Path, by: &str) -> (f64, usize) {
    let csv = ok(depeer()
        .args(["series", "--csv", "--by", by, "--data"])
        .arg(data));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("time,key,value"));
    let mut sum = 0.0;
    let mut rows = 0;
    for l in lines {
        sum += l.rsplit(',').next().unwrap().parse::<f64>().unwrap();
        rows += 1;
    }
    (sum, rows)
}

#[test]
fn series_and_dependence_on_a_simulated_world() {
    let dir = tempfile::tempdir().unwrap();
    let truth = world(dir.path(), "mccolo-2008", "7");
    let data = dir.path().join("data");
    let stored = int(&sql(&data, "SELECT count(*) AS n FROM messages")[0], "n") as f64;

    // Every message in one bucket, whatever the split.
    let (total, rows) = series_total(&data, "total");
    assert_eq!(total, stored);
    assert!(rows >= 24 * 30, "one row per hour over the month: {rows}");
    for by in ["botnet", "campaign", "sending-as", "hosting-as"] {
        // A message split among several hosting ASes is printed as
        // fractions to 6 decimals: each row may be off by half a unit.
        let (sum, rows) = series_total(&data, by);
        let rounding = rows as f64 * 5e-7 + 1e-6;
        assert!(
            (sum - stored).abs() <= rounding,
            "--by {by}: {sum} vs {stored} (rounding allowance {rounding})"
        );
    }
    // The CSV is what `depeer detect` reads.
    let csv = dir.path().join("total.csv");
    std::fs::write(
        &csv,
        ok(depeer().args(["series", "--csv", "--data"]).arg(&data)),
    )
    .unwrap();
    let found = ok(depeer().args(["detect", "--json", "--csv"]).arg(&csv));
    assert!(found.contains("change_points"), "{found}");

    // The spam controlled from the main event's AS, the day before it.
    let summary = &truth["summary"];
    let asn = summary["main_event_asn"].as_u64().unwrap().to_string();
    let at = summary["main_event_time"].as_str().unwrap();
    let out = ok(depeer()
        .args([
            "depends", &asn, "--at", at, "--window", "24h", "--json", "--data",
        ])
        .arg(&data));
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = summary["dependent_share"].as_f64().unwrap();
    let cc = got["cc_share"].as_f64().unwrap();
    assert!(
        (cc - want).abs() <= 0.03,
        "cc_share {cc} vs truth {want}: {got}"
    );
    for k in ["asn", "at", "window", "site_share", "botnets"] {
        assert!(got.get(k).is_some(), "no {k} in {got}");
    }
    assert!(
        got["botnets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["botnet"] == "srizbi")
    );

    // The table, reachable with SQL.
    ok(depeer()
        .args(["-q", "depends", "--build", "--data"])
        .arg(&data));
    let n = sql(
        &data,
        "SELECT count(*) AS n FROM dependencies WHERE kind = 'cc'",
    );
    assert!(int(&n[0], "n") > 0);

    // The drop itself: found near the cut, about as deep as the truth's
    // world drop, with the cut network as its first cause. At this scale
    // (0.2 spam a minute) its time is known to within an hour or so.
    let events: serde_json::Value = serde_json::from_str(&ok(depeer()
        .args(["events", "--json", "--data"])
        .arg(&data)))
    .unwrap();
    let t_cut = depeer_core::Timestamp::parse(at).unwrap().secs();
    let drop = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            let t = depeer_core::Timestamp::parse(e["time"].as_str().unwrap()).unwrap();
            e["kind"] == "drop" && (t.secs() - t_cut).abs() <= 90 * 60
        })
        .unwrap_or_else(|| panic!("no drop near {at}: {events}"));
    let world_drop = summary["world_drop"].as_f64().unwrap();
    let magnitude = drop["magnitude"].as_f64().unwrap();
    assert!(
        (magnitude + world_drop).abs() <= 0.1,
        "{magnitude} vs -{world_drop}: {drop}"
    );
    assert_eq!(
        drop["causes"][0]["asn"].as_u64().map(|a| a.to_string()),
        Some(asn.clone()),
        "{drop}"
    );

    // Per hosting AS: the cut network's own series stops at the cut.
    let hosting: serde_json::Value = serde_json::from_str(&ok(depeer()
        .args(["events", "--scope", "hosting-as", "--json", "--data"])
        .arg(&data)))
    .unwrap();
    let own = hosting["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == asn.as_str() && e["kind"] == "drop")
        .unwrap_or_else(|| panic!("no drop of AS{asn}'s series: {hosting}"));
    assert_eq!(own["scope"], "hosting-as");
    assert!(own["magnitude"].as_f64().unwrap() < -0.8, "{own}");
    // Sending ASes: keys are AS numbers, never `unknown`.
    let sending: serde_json::Value = serde_json::from_str(&ok(depeer()
        .args(["events", "--scope", "sending-as", "--json", "--data"])
        .arg(&data)))
    .unwrap();
    for e in sending["events"].as_array().unwrap() {
        assert!(e["key"].as_str().unwrap().parse::<u32>().is_ok(), "{e}");
    }

    // The table of every scope, with the total's first cause in columns.
    ok(depeer()
        .args(["-q", "events", "--build", "--data"])
        .arg(&data));
    let rows = sql(
        &data,
        "SELECT scope, count(*) AS n, max(cause_asn) AS cause FROM events GROUP BY scope ORDER BY scope",
    );
    let scopes: Vec<&str> = rows.iter().map(|r| r["scope"].as_str().unwrap()).collect();
    assert!(
        scopes.contains(&"total") && scopes.contains(&"hosting-as"),
        "{rows:?}"
    );
    let total = rows.iter().find(|r| r["scope"] == "total").unwrap();
    assert_eq!(
        int(total, "n") as usize,
        events["events"].as_array().unwrap().len(),
        "the table holds what `depeer events` prints: {rows:?}"
    );
}
