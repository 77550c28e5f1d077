//! `depeer ingest feed`: the simulator's feeds (its own layout and the
//! abuse.ch layouts it also writes), re-ingest adds nothing, a malformed
//! line is quarantined with its location, and the rows answer SQL.

use crate::support::{depeer, int, ok, sim, sql};

fn feed_json(
    data: &std::path::Path,
    args: &[&str],
    files: &[std::path::PathBuf],
) -> serde_json::Value {
    let out = ok(depeer()
        .args(["ingest", "feed", "--json", "--data"])
        .arg(data)
        .args(args)
        .args(files));
    serde_json::from_str(&out).expect("a JSON summary")
}

#[test]
fn simulator_feeds_ingest_once_and_answer_sql() {
    let tmp = tempfile::tempdir().unwrap();
    let world = tmp.path().join("world");
    ok(sim("mccolo-2008", "3").arg(&world));
    let data = tmp.path().join("data");
    let mut files: Vec<_> = std::fs::read_dir(world.join("feeds"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let first = feed_json(&data, &[], &files);
    let stored = first["stored"].as_u64().unwrap();
    assert!(stored > 0, "{first}");
    assert_eq!(first["quarantined"].as_u64(), Some(0), "{first}");
    // The same files again: nothing new.
    let again = feed_json(&data, &[], &files);
    assert_eq!(again["stored"].as_u64(), Some(0), "{again}");
    assert_eq!(again["duplicates"].as_u64(), again["entries"].as_u64());
    let rows = sql(
        &data,
        "SELECT kind, count(*) AS n FROM feed_entries GROUP BY kind ORDER BY kind",
    );
    let total: i64 = rows.iter().map(|r| int(r, "n")).sum();
    assert_eq!(total as u64, stored);
    let kinds: Vec<&str> = rows.iter().filter_map(|r| r["kind"].as_str()).collect();
    for k in ["bots", "cnc", "pdns", "url"] {
        assert!(kinds.contains(&k), "kind {k} missing: {kinds:?}");
    }
    // Families are canonical: lowercase, no aliases such as `Trojan.Srizbi`.
    let fams = sql(
        &data,
        "SELECT DISTINCT family FROM feed_entries WHERE family IS NOT NULL",
    );
    for f in &fams {
        let name = f["family"].as_str().unwrap();
        assert_eq!(name, name.to_lowercase());
        assert!(!name.contains('.'), "{name}");
    }
}

#[test]
fn a_malformed_line_is_quarantined_with_its_location_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let feed = tmp.path().join("ipblocklist.csv");
    std::fs::write(
        &feed,
        "# Feodo Tracker Botnet C2 IP Blocklist (CSV)\n\
         # \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\
         \"2021-05-05 18:17:20\",\"209.58.163.54\",\"443\",\"offline\",\"2023-01-12\",\"Emotet\"\n\
         \"2021-05-05 18:17:20\",\"not-an-ip\",\"443\",\"offline\",\"2023-01-12\",\"Emotet\"\n\
         \"2021-06-01 01:00:00\",\"198.51.100.7\",\"8080\",\"online\",\"2023-01-12\",\"QakBot\"\n",
    )
    .unwrap();
    let data = tmp.path().join("data");
    let sum = feed_json(&data, &["--kind", "cnc"], std::slice::from_ref(&feed));
    assert_eq!(sum["stored"].as_u64(), Some(2), "{sum}");
    assert_eq!(sum["quarantined"].as_u64(), Some(1), "{sum}");
    let q = sql(
        &data,
        "SELECT source_file, source_index, reason FROM quarantine",
    );
    assert_eq!(q.len(), 1, "{q:?}");
    // Line 4 of the file, 0-based index 3.
    assert_eq!(int(&q[0], "source_index"), 3, "{q:?}");
    let rows = sql(
        &data,
        "SELECT indicator, family, port FROM feed_entries ORDER BY indicator",
    );
    assert_eq!(rows[0]["indicator"], "198.51.100.7");
    assert_eq!(rows[0]["family"], "qakbot");
    assert_eq!(int(&rows[1], "port"), 443);
}
