//! `depeer demo` end to end: it runs every stage that exists and tells the
//! story with measured figures; the stages that do not exist say so.

use crate::support::{depeer, ok};

#[test]
fn demo_tells_the_story_from_measured_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let text = ok(depeer().args(["demo", "--out"]).arg(&out));
    for stage in [
        "1. Simulating the world",
        "2. Ingesting the spamtraps",
        "3. Ingesting BGP data",
        "4. Spam volume around the depeering",
        "5. Routing events within an hour of the depeering",
        "7. Rogue networks ranked an hour before the depeering",
        "8. How much of the day's spam depends on AS",
        "9. What cutting AS",
        "10. The drop as detected",
        "11. Blocklists an operator could have loaded then",
        "12. The evidence log",
        "docs/SCALING.md",
        "13. The report",
        "14. The dashboard and the API",
    ] {
        assert!(text.contains(stage), "no {stage:?} in:\n{text}");
    }
    // The network the truth cut off last (no upstream left) is the one the
    // ranking puts first, the one the what-if cuts, the cause of the
    // detected drop and on the drop list written beside the dataset.
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("world/truth.json")).unwrap())
            .unwrap();
    let cut_asn = truth["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "cut")
        .and_then(|e| e["asn"].as_u64())
        .unwrap();
    let first = text
        .lines()
        .skip_while(|l| !l.starts_with("7. "))
        .nth(2)
        .unwrap_or_default();
    assert!(
        first.trim_start().starts_with(&format!("1 AS{cut_asn} ")),
        "ranked first: {first:?}\n{text}"
    );
    assert!(text.contains(&format!("9. What cutting AS{cut_asn} off would do")));
    let drop = text
        .lines()
        .find(|l| l.contains(" drop -") && l.contains("confidence"))
        .unwrap_or_else(|| panic!("no detected drop in:\n{text}"));
    assert!(drop.contains(&format!(": AS{cut_asn} ")), "{drop}");
    assert!(text.contains("backtest "), "{text}");
    assert!(
        text.contains(": verified"),
        "the evidence log verifies:\n{text}"
    );
    let drop_list = std::fs::read_to_string(out.join("drop.txt")).unwrap();
    assert!(
        drop_list.contains(&format!("announced by AS{cut_asn} (ranked 1 of")),
        "{drop_list}"
    );
    // The drop is measured from the stored messages: a large fall, as in
    // the McColo scenario (about two thirds), not a fixed string.
    let line = text
        .lines()
        .find(|l| l.contains("measured from the stored messages"))
        .unwrap_or_else(|| panic!("no measured drop in:\n{text}"));
    let pct: f64 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix('-').and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no percentage in {line:?}"));
    assert!((40.0..=90.0).contains(&pct), "{line}");
    assert!(
        text.contains("as-unreachable"),
        "the cut AS becomes unreachable:\n{text}"
    );
    assert!(out.join("data/tables/messages").is_dir());
    assert!(out.join("world/truth.json").is_file());
    let report = out.join("report.html");
    assert!(
        text.contains(&format!("wrote {}", report.display())),
        "{text}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("id=\"dep-graph\""),
        "no dependency graph in the report"
    );
}
