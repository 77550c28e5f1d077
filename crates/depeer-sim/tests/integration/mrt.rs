//! The MRT files parse with bgpkit-parser and agree with the truth.

use std::collections::BTreeSet;

use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::ElemType;

use crate::common::{event_time, run};

#[test]
fn rib_and_updates_round_trip_through_bgpkit_parser() {
    let r = run("mccolo-2008", 31, 1.0);
    let truth = r.truth();
    let hoster = truth["hosters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["key"] == "mccolo")
        .unwrap();
    let asn = hoster["asn"].as_u64().unwrap() as u32;
    let prefixes: BTreeSet<String> = hoster["prefixes_v4"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();

    // RIB: every prefix once per session that has a route; McColo's with its origin.
    let rib = r.path().join("bgp/rib.20081108.0000.mrt");
    let mut seen = BTreeSet::new();
    let mut mccolo_entries = 0;
    for e in BgpkitParser::from_reader(std::fs::File::open(&rib).unwrap()).into_fallible_elem_iter()
    {
        let e = e.expect("RIB parses");
        seen.insert(e.prefix.prefix.to_string());
        if prefixes.contains(&e.prefix.prefix.to_string()) {
            let origins = e.origin_asns.unwrap();
            assert_eq!(origins[0].to_u32(), asn);
            mccolo_entries += 1;
        }
    }
    let counts = &truth["counts"]["routing"];
    let expected =
        counts["rib_v4_prefixes"].as_u64().unwrap() + counts["rib_v6_prefixes"].as_u64().unwrap();
    assert_eq!(seen.len() as u64, expected);
    assert!(
        seen.iter().any(|p| p.contains(':')),
        "IPv6 prefixes present"
    );
    assert!(
        mccolo_entries >= prefixes.len() * 2,
        "McColo seen by several peers"
    );

    // Updates on the day of the cut: McColo's prefixes withdrawn at the cut.
    let cut = event_time(&truth, "cut");
    let upd = r.path().join("bgp/updates.20081111.0000.mrt");
    let mut withdrawn = BTreeSet::new();
    let mut announced_after_he = 0;
    let he = event_time(&truth, "cut-he");
    for e in BgpkitParser::from_reader(std::fs::File::open(&upd).unwrap()).into_fallible_elem_iter()
    {
        let e = e.expect("updates parse");
        let p = e.prefix.prefix.to_string();
        if !prefixes.contains(&p) {
            continue;
        }
        match e.elem_type {
            ElemType::WITHDRAW => {
                assert_eq!(e.timestamp as i64, cut, "withdrawn at the cut");
                withdrawn.insert(p);
            }
            ElemType::ANNOUNCE => {
                assert_eq!(e.timestamp as i64, he, "path change when HE leaves");
                let path = e.as_path.unwrap().to_u32_vec_opt(false).unwrap();
                assert_eq!(*path.last().unwrap(), asn);
                announced_after_he += 1;
            }
        }
    }
    assert_eq!(withdrawn, prefixes, "every McColo prefix withdrawn");
    let _ = announced_after_he;
}
