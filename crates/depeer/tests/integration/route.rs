//! `depeer route lookup` on real data: a pyasn table and CAIDA's as2org
//! names of 2008 give McColo's prefix, origin and name.

use crate::support::{depeer, ok, shared_run};

fn lookup(data: &std::path::Path, at: &str) -> serde_json::Value {
    let out = ok(depeer()
        .args(["route", "lookup", "--json", "--at", at, "--data"])
        .arg(data)
        .args(["208.66.192.10", "10.1.2.3"]));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn lookup_after_ingesting_pyasn_and_caida_names() {
    let Some(run) = shared_run("lookup_after_ingesting_pyasn_and_caida_names") else {
        return;
    };
    let (shared, data) = (&run.shared, &run.data);
    let ipasn = ok(depeer()
        .args([
            "ingest",
            "ipasn",
            "--json",
            "--at",
            "2008-05-01T06:44Z",
            "--data",
        ])
        .arg(data)
        .arg(shared.join("ipasn/ipasn_20080501_v12.dat.gz")));
    let ipasn: serde_json::Value = serde_json::from_str(ipasn.trim()).unwrap();
    assert!(ipasn["routes"].as_u64().unwrap() > 200_000, "{ipasn}");
    assert_eq!(
        ipasn["rows_used"].as_u64().unwrap() + ipasn["quarantined"]["bad-line"].as_u64().unwrap(),
        ipasn["rows_read"].as_u64().unwrap()
    );
    let names = ok(depeer()
        .args(["ingest", "as2org", "--json", "--data"])
        .arg(data)
        .arg(shared.join("feeds/caida/20080402.as-org2info.jsonl.gz")));
    let names: serde_json::Value = serde_json::from_str(names.trim()).unwrap();
    assert!(names["as_names"].as_u64().unwrap() > 20_000, "{names}");

    let rows = lookup(data, "2008-11-11T21:00Z");
    assert_eq!(rows[0]["prefix"], "208.66.192.0/22");
    assert_eq!(rows[0]["origin_asns"], serde_json::json!([26780]));
    assert_eq!(rows[0]["as_name"], "MCCOLO");
    assert_eq!(rows[0]["at"], "2008-11-11T21:00:00Z");
    assert!(rows[1]["prefix"].is_null());
    // Before the table's moment nothing is known.
    let early = lookup(data, "2008-01-01");
    assert!(early[0]["prefix"].is_null());
}
