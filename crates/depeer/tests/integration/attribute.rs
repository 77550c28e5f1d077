//! Attribution end to end: a simulated world's routing, feeds and mail are
//! ingested (mail last, so `ingest mail` attributes with the bot lists and
//! routes already stored), `depeer attribute` re-decides every message and
//! a second run changes nothing, and `depeer botnets` reports the botnets.
//! Checked against the world's truth: attributed spam is mostly right, the
//! relay's AS is the one the simulator routed it through, every message
//! has one row.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{depeer, int, ok, sql};

fn json(out: &str) -> Value {
    serde_json::from_str(out.lines().last().expect("a summary line")).expect("JSON summary")
}

fn run_json(data: &Path, args: &[&str]) -> Value {
    json(&ok(depeer().args(args).arg("--data").arg(data)))
}

/// `depeer -q ingest KIND --json --data DATA PATH`: its summary.
fn ingest(data: &Path, kind: &str, path: &Path) -> Value {
    run_json(
        data,
        &["-q", "ingest", kind, "--json", path.to_str().unwrap()],
    )
}

/// Routing, AS names and feeds of `world` into `data`; the feeds' summary.
fn ingest_context(data: &Path, world: &Path) -> Value {
    ingest(data, "mrt", &world.join("bgp"));
    ingest(data, "as2org", &world.join("as2org.jsonl"));
    ingest(data, "feed", &world.join("feeds"))
}

/// sha256 -> (botnet, relay_asn) from truth-messages.jsonl.
fn truth_messages(world: &Path) -> HashMap<String, (Option<String>, Option<i64>)> {
    let text = std::fs::read_to_string(world.join("truth-messages.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["sha256"].as_str().unwrap().to_string(),
                (
                    v["botnet"].as_str().map(str::to_string),
                    v["relay_asn"].as_i64(),
                ),
            )
        })
        .collect()
}

#[test]
fn ingest_attributes_and_attribute_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let (world, data) = (tmp.path().join("world"), tmp.path().join("data"));
    let sim = ["-q", "sim", "--scenario=mccolo-2008", "--seed=7", "--out"];
    ok(depeer().args(sim).arg(&world));
    let feeds = ingest_context(&data, &world);
    assert!(feeds["stored"].as_u64().unwrap() > 0, "{feeds}");
    let mail = ingest(&data, "mail", &world.join("mail"));
    let stored = mail["stored"].as_i64().unwrap();
    let a = &mail["attribution"];
    assert_eq!(a["mode"], "missing", "{mail}");
    assert_eq!(a["decided"].as_i64(), Some(stored), "{a}");
    assert_eq!(a["messages"].as_i64(), Some(stored), "{a}");
    assert!(a["routes"].as_u64().unwrap() > 0, "{a}");
    assert!(a["bot_list_addresses"].as_u64().unwrap() > 0, "{a}");

    // One row per message.
    let count = |table: &str| {
        int(
            &sql(&data, &format!("SELECT count(*) AS n FROM {table}"))[0],
            "n",
        )
    };
    assert_eq!(count("attribution"), count("messages"));
    assert_eq!(count("attribution"), stored);

    // Re-deciding with the same data: the same decisions as at ingest
    // (everything was stored first), so nothing is written; again: the same.
    let first = run_json(&data, &["attribute", "--json"]);
    assert_eq!(first["messages"].as_i64(), Some(stored), "{first}");
    for k in ["signals", "botnets", "attributed", "unroutable_relays"] {
        assert_eq!(first[k], a[k], "{k}: {first} vs {a}");
    }
    let second = run_json(&data, &["attribute", "--json"]);
    assert_eq!(second["changed"], 0, "{second}");
    assert_eq!(second["written"], 0, "{second}");
    assert_eq!(second["signals"], first["signals"]);
    assert_eq!(count("attribution"), stored);

    // Against the truth.
    let truth = truth_messages(&world);
    let rows = sql(&data, "SELECT sha256, botnet, relay_asn FROM attribution");
    let (mut spam, mut attributed, mut right, mut legit, mut legit_labelled) = (0, 0, 0, 0, 0);
    let (mut routed, mut same_as, mut matched) = (0, 0, 0);
    for r in &rows {
        let Some((want, want_asn)) = truth.get(r["sha256"].as_str().unwrap()) else {
            continue;
        };
        matched += 1;
        let got = r["botnet"].as_str();
        match want {
            Some(w) => {
                spam += 1;
                if let Some(g) = got {
                    attributed += 1;
                    right += i32::from(g == w);
                }
            }
            None => {
                legit += 1;
                legit_labelled += i32::from(got.is_some());
            }
        }
        if let (Some(g), Some(w)) = (r["relay_asn"].as_i64(), want_asn) {
            routed += 1;
            same_as += i32::from(g == *w);
        }
    }
    let share = |a: i32, b: i32| f64::from(a) / f64::from(b.max(1));
    eprintln!(
        "matched {matched}/{}; spam {spam}: attributed {attributed}, right {right}; legit {legit}: labelled {legit_labelled}; relay AS {same_as}/{routed}",
        rows.len()
    );
    assert!(
        share(matched, rows.len() as i32) > 0.95,
        "messages not in the truth"
    );
    assert!(
        share(attributed, spam) > 0.8,
        "attributed {attributed} of {spam}"
    );
    assert!(
        share(right, attributed) > 0.85,
        "right {right} of {attributed}"
    );
    assert!(
        share(legit_labelled, legit) < 0.05,
        "legit labelled {legit_labelled} of {legit}"
    );
    assert!(
        share(same_as, routed) > 0.95,
        "relay AS {same_as} of {routed}"
    );
    assert!(routed > spam / 2, "relays routed: {routed}");

    // The botnet table.
    let b = json(&ok(depeer()
        .args(["botnets", "--json", "--data"])
        .arg(&data)));
    let truth_json: Value =
        serde_json::from_slice(&std::fs::read(world.join("truth.json")).unwrap()).unwrap();
    let families: Vec<&str> = truth_json["botnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["family"].as_str().unwrap())
        .collect();
    let botnets = b["botnets"].as_array().unwrap();
    assert!(!botnets.is_empty(), "{b}");
    let top = botnets[0]["botnet"].as_str().unwrap();
    assert!(families.contains(&top), "{top} not in {families:?}");
    let shares: f64 = botnets.iter().map(|x| x["share"].as_f64().unwrap()).sum();
    assert!(shares > 0.5 && shares <= 1.0 + 1e-9, "{shares}");
    for x in botnets {
        assert!(x["bots_estimate"].as_u64().unwrap() > 0, "{x}");
        // The whole data is the window: every bot is new.
        assert_eq!(x["new_bots"], x["bots_estimate"], "{x}");
    }
    // The main event's AS hosted C&C servers, and the feeds say so.
    let cut_as = truth_json["summary"]["main_event_asn"].as_i64().unwrap();
    let hosted = botnets
        .iter()
        .flat_map(|x| x["cc"].as_array().unwrap())
        .filter(|c| c["asn"].as_i64() == Some(cut_as))
        .count();
    assert!(hosted > 0, "no C&C routed by AS{cut_as}: {b}");
    // A window after the first day: fewer bots are new than seen.
    let from = truth_json["summary"]["main_event_time"].as_str().unwrap();
    let later = json(&ok(depeer()
        .args(["botnets", "--json", "--from", from, "--data"])
        .arg(&data)));
    let some_old = later["botnets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["new_bots"].as_u64() < x["bots_estimate"].as_u64());
    assert!(some_old, "{later}");

    // Feeds and routes that arrive after the mail: `depeer attribute`
    // rewrites the table to what attributing after everything gives.
    let late = tmp.path().join("late");
    let mail = ingest(&late, "mail", &world.join("mail"));
    assert_eq!(mail["attribution"]["routes"], 0, "{mail}");
    assert_eq!(mail["attribution"]["bot_list_addresses"], 0, "{mail}");
    ingest_context(&late, &world);
    let redo = run_json(&late, &["attribute", "--json"]);
    assert!(redo["changed"].as_u64().unwrap() > 0, "{redo}");
    assert_eq!(redo["signals"], first["signals"], "{redo}");
    let table = "SELECT sha256, botnet, campaign, signal, confidence, relay_asn, relay_org \
                 FROM attribution ORDER BY sha256";
    assert!(
        sql(&late, table) == sql(&data, table),
        "late feeds give another table"
    );
}
