//! The simulator writes its C&C and URL feeds twice: in depeer's layout
//! (`feeds/cc.csv`, `feeds/urls.csv`) and in abuse.ch's
//! (`feeds/feodo-ipblocklist.csv`, `feeds/urlhaus.csv`). `depeer ingest
//! feed` detects the abuse.ch layouts by themselves (no `--format`) and
//! reads as many entries from them as from depeer's, none quarantined.

use crate::support::{depeer, ok, sql};

fn ingest(data: &std::path::Path, file: &std::path::Path) -> serde_json::Value {
    let out = ok(depeer()
        .args(["-q", "ingest", "feed", "--json", "--data"])
        .arg(data)
        .arg(file));
    serde_json::from_str(out.lines().last().expect("a summary line")).expect("a JSON summary")
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"))
}

#[test]
fn abuse_ch_layouts_of_the_simulated_feeds_read_like_depeer_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let world = tmp.path().join("world");
    ok(depeer()
        .args([
            "-q",
            "sim",
            "--scenario",
            "3fn-2009",
            "--seed",
            "4",
            "--scale",
            "0.3",
            "--out",
        ])
        .arg(&world));
    let feeds = world.join("feeds");
    for (ours, theirs, kind, source) in [
        (
            "cc.csv",
            "feodo-ipblocklist.csv",
            "cnc",
            "abuse.ch-feodotracker",
        ),
        ("urls.csv", "urlhaus.csv", "url", "abuse.ch-urlhaus"),
    ] {
        let data_ours = tmp.path().join(format!("data-{ours}"));
        let data_theirs = tmp.path().join(format!("data-{theirs}"));
        let a = ingest(&data_ours, &feeds.join(ours));
        let b = ingest(&data_theirs, &feeds.join(theirs));
        assert!(n(&a, "entries") > 0, "{ours}: {a}");
        assert_eq!(n(&a, "quarantined"), 0, "{ours}: {a}");
        assert_eq!(n(&b, "quarantined"), 0, "{theirs}: {b}");
        assert_eq!(n(&a, "entries"), n(&b, "entries"), "{a} vs {b}");
        assert_eq!(n(&a, "stored"), n(&b, "stored"), "{a} vs {b}");
        // Detected as the publisher's format, stored under its kind.
        let rows = sql(
            &data_theirs,
            "SELECT kind, source, count(*) AS n FROM feed_entries GROUP BY kind, source",
        );
        assert_eq!(rows.len(), 1, "{theirs}: {rows:?}");
        assert_eq!(rows[0]["kind"].as_str(), Some(kind), "{rows:?}");
        assert_eq!(rows[0]["source"].as_str(), Some(source), "{rows:?}");
        assert_eq!(rows[0]["n"].as_i64(), Some(n(&b, "stored") as i64));
    }
}
