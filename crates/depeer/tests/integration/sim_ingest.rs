//! `depeer ingest` reads everything `depeer sim` writes: every message of
//! every built-in scenario is stored (the deliberately malformed ones may be
//! quarantined, nothing else), and no MRT record is quarantined.
//! `DEPEER_TEST_SEED` picks the seed (default 5). Also with `sim --zstd`.

use crate::support::{depeer, ok, sim};

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.lines().last().expect("a summary line")).expect("JSON summary")
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"))
}

#[test]
fn ingest_reads_all_that_sim_writes() {
    let seed = std::env::var("DEPEER_TEST_SEED").unwrap_or_else(|_| "5".into());
    // The last run writes its mail zstd-compressed (`sim --zstd`).
    for (scenario, zstd) in [
        ("mccolo-2008", false),
        ("intercage-2008", false),
        ("3fn-2009", false),
        ("rustock-2011", false),
        ("mccolo-2008", true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let world = dir.path().join("world");
        let data = dir.path().join("data");
        ok(sim(scenario, &seed)
            .arg(&world)
            .args(zstd.then_some("--zstd")));
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(world.join("truth.json")).unwrap()).unwrap();
        let counts = &truth["counts"];
        let mail = json(&ok(depeer()
            .args(["-q", "ingest", "mail", "--json", "--data"])
            .arg(&data)
            .arg(world.join("mail"))));
        assert_eq!(
            n(&mail, "read"),
            n(counts, "messages"),
            "{scenario}: {mail}"
        );
        assert!(
            n(&mail, "quarantined") <= n(counts, "malformed"),
            "{scenario}: quarantined beyond the malformed ones: {mail} vs {counts}"
        );
        assert_eq!(
            n(&mail, "stored") + n(&mail, "duplicate") + n(&mail, "quarantined"),
            n(&mail, "read")
        );
        let mrt = json(&ok(depeer()
            .args(["-q", "ingest", "mrt", "--json", "--data"])
            .arg(&data)
            .arg(world.join("bgp"))));
        assert_eq!(n(&mrt, "records_quarantined"), 0, "{scenario}: {mrt}");
        assert!(n(&mrt, "routes") > 0, "{scenario}: {mrt}");
    }
}
