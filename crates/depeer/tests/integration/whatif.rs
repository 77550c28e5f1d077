//! `depeer whatif` and `depeer backtest` on the small simulated world of
//! the dependency test (McColo 2008, seed 7, built the same way): cutting
//! the main event's AS an hour before the event darkens its prefixes and
//! the C&C servers there and predicts about the truth's world drop;
//! cutting a link the graph does not have darkens nothing; the backtest
//! sets the what-if made before the detected drop beside it.

use crate::depends::world;
use crate::support::{depeer, ok};

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn whatif_and_backtest_on_a_simulated_world() {
    let dir = tempfile::tempdir().unwrap();
    let truth = world(dir.path(), "mccolo-2008", "7");
    let data = dir.path().join("data");
    let summary = &truth["summary"];
    let asn = summary["main_event_asn"].as_u64().unwrap();
    let t = depeer_core::Timestamp::parse(summary["main_event_time"].as_str().unwrap()).unwrap();
    let at = depeer_core::Timestamp::from_secs(t.secs() - 3600).to_rfc3339();
    let run = |args: &[&str]| {
        json(&ok(depeer()
            .arg("whatif")
            .args(args)
            .args(["--at", &at, "--json", "--data"])
            .arg(&data)))
    };
    let w = run(&["--cut", &asn.to_string()]);
    for k in [
        "at",
        "cut",
        "unreachable_prefixes",
        "cc_dark",
        "predicted_drop",
        "low",
        "high",
        "per_botnet",
    ] {
        assert!(w.get(k).is_some(), "no {k} in {w}");
    }
    assert_eq!(w["cut"], serde_json::json!([asn]));
    // McColo's own four /22s go dark.
    let hoster = truth["hosters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["asn"].as_u64() == Some(asn))
        .unwrap();
    let dark: Vec<&str> = w["unreachable_prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in hoster["prefixes_v4"].as_array().unwrap() {
        assert!(
            dark.contains(&p.as_str().unwrap()),
            "{p} not dark: {dark:?}"
        );
    }
    let cc = w["cc_dark"].as_array().unwrap();
    assert!(cc.iter().any(|c| c["botnet"] == "srizbi"), "{w}");
    assert!(cc.iter().all(|c| c["ip"].is_string()));
    // About the truth's world drop (at this scale the truth itself is
    // counting noise of a few points), inside the interval.
    let (p, lo, hi) = (
        w["predicted_drop"].as_f64().unwrap(),
        w["low"].as_f64().unwrap(),
        w["high"].as_f64().unwrap(),
    );
    let truth_drop = summary["world_drop"].as_f64().unwrap();
    assert!((p - truth_drop).abs() <= 0.15, "{p} vs {truth_drop}: {w}");
    assert!(
        lo <= p && p <= hi && lo <= truth_drop && truth_drop <= hi,
        "{w}"
    );
    let shares: f64 = w["per_botnet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-3, "{shares}");

    // A link the graph does not have cuts nothing. (Cutting one of
    // McColo's two upstream links is not asked here: in this small world
    // the collector's peers all reach McColo through the same upstream,
    // so the graph holds one link and cutting it darkens McColo, as a
    // real collector would mislead too; the multihomed case is in the
    // unit tests and in scenarios/whatif-multihomed.toml.)
    let none = run(&["--cut-link", &format!("{asn}-1")]);
    assert_eq!(none["predicted_drop"].as_f64(), Some(0.0), "{none}");
    assert!(none["cc_dark"].as_array().unwrap().is_empty());

    // The backtest: the drop after the cut with McColo among the ASes cut.
    let b = json(&ok(depeer()
        .args(["backtest", "--json", "--data"])
        .arg(&data)));
    let rows = b["backtests"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| {
            let et = depeer_core::Timestamp::parse(r["event_time"].as_str().unwrap()).unwrap();
            (et.secs() - t.secs()).abs() <= 2 * 3600
        })
        .unwrap_or_else(|| panic!("no backtest near the cut: {b}"));
    assert!(
        row["cut"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_u64() == Some(asn)),
        "{row}"
    );
    let (pred, obs) = (
        row["predicted_drop"].as_f64().unwrap(),
        row["observed_drop"].as_f64().unwrap(),
    );
    assert!((pred - obs).abs() <= 0.2, "{row}");
}
