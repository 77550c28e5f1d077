//! `depeer rank` and `depeer explain` on a small simulated world (McColo
//! 2008, seed 7, scale 1) ingested the way an analyst would: routing, AS
//! names, the four feeds, mail. Before the cut, McColo (the main event's
//! AS, bulletproof in the truth) ranks first; the JSON has exactly the
//! documented fields; explain shows its C&C listings with first and last
//! seen no later than --at; a bad weights file is refused with its line.

use std::path::Path;

use crate::support::{depeer, ok};

fn world(dir: &Path) -> serde_json::Value {
    crate::depends::world(dir, "mccolo-2008", "7")
}

fn json(args: &[&str], data: &Path) -> serde_json::Value {
    let out = ok(depeer().args(args).arg("--data").arg(data));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn rank_and_explain_on_a_simulated_world() {
    let dir = tempfile::tempdir().unwrap();
    let truth = world(dir.path());
    let data = dir.path().join("data");
    let main_asn = truth["summary"]["main_event_asn"].as_u64().unwrap();
    let main_time = truth["summary"]["main_event_time"].as_str().unwrap();
    let t = minus_hours(main_time, 2);
    let r = json(&["rank", "--at", &t, "--json", "--top", "0"], &data);
    assert_eq!(keys(&r), ["at", "by", "ranking"]);
    assert_eq!(r["by"], "as");
    let rows = r["ranking"].as_array().unwrap();
    assert!(rows.len() >= 3, "{r}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(keys(row), ["asn", "features", "org", "rank", "score"]);
        assert_eq!(row["rank"].as_u64(), Some(i as u64 + 1));
        assert!(row["features"]["cc_density"].is_number());
    }
    assert!(
        rows.windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );
    assert_eq!(
        rows[0]["asn"].as_u64(),
        Some(main_asn),
        "McColo first: {}",
        rows[0]
    );

    let p = json(
        &["rank", "--at", &t, "--json", "--by", "prefix", "--top", "3"],
        &data,
    );
    assert!(
        p["ranking"][0]["prefix"].as_str().unwrap().contains('/'),
        "{p}"
    );
    let o = json(
        &["rank", "--at", &t, "--json", "--by", "org", "--top", "3"],
        &data,
    );
    assert_eq!(o["ranking"][0]["asn"].as_u64(), Some(main_asn), "{o}");
    for m in ["circl", "fire"] {
        let b = json(&["rank", "--at", &t, "--json", "--method", m], &data);
        assert!(!b["ranking"].as_array().unwrap().is_empty(), "{m}: {b}");
    }

    let asn = main_asn.to_string();
    let x = json(&["explain", &asn, "--at", &t, "--json"], &data);
    assert_eq!(x["rank"].as_u64(), Some(1));
    let cc = x["features"]["cc_density"]["evidence"].as_array().unwrap();
    assert!(!cc.is_empty(), "{x}");
    for e in cc {
        let (f, l) = (
            e["first_seen"].as_str().unwrap(),
            e["last_seen"].as_str().unwrap(),
        );
        assert!(f <= l && l <= t.as_str(), "{e}");
        // A tracker's listing, or the bot lists' contacts with a
        // controller no tracker lists: each names its file and line.
        let source = e["sources"][0].as_str().unwrap();
        assert!(
            source.contains("cc.csv:")
                || (source.starts_with("contacted by ") && source.contains("bots.csv:")),
            "{e}"
        );
    }
    let text = ok(depeer()
        .args(["explain", &asn, "--at", &t, "--data"])
        .arg(&data));
    assert!(text.contains("cc_density"), "{text}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[weights]\ncc_density = 1.0\nnope = 2\n").unwrap();
    let out = depeer()
        .args(["rank", "--weights"])
        .arg(&bad)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4:"), "{err}");
}

/// An RFC 3339 time minus whole hours.
fn minus_hours(t: &str, hours: i64) -> String {
    let t = depeer_core::Timestamp::parse(t).unwrap();
    depeer_core::Timestamp(t.0 - hours * 3_600_000_000).to_rfc3339()
}
