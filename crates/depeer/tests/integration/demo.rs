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
        "not built yet",
        "8. The report",
    ] {
        assert!(text.contains(stage), "no {stage:?} in:\n{text}");
    }
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
