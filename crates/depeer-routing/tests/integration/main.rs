//! Integration tests of depeer-routing on the shared data: the Poptrie
//! against a hash-per-length reference on full pyasn tables, and the
//! history of the 2008-02-24 Pakistan Telecom / YouTube hijack replayed
//! from RouteViews update files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};

use depeer_core::test_support::{have_shared_data, shared_data_dir, xorshift_u32s};
use depeer_core::{Asn, Prefix, RouteObs, RoutingEventKind, Timestamp};
use depeer_mrt::MrtReader;
use depeer_routing::{
    History, HistoryBuilder, HistoryOptions, RouteTable, read_as_names, read_ipasn,
};

fn gunzip(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(shared_data_dir().join(rel)).unwrap();
    let mut out = Vec::new();
    depeer_io::open_decoded(std::io::Cursor::new(raw), depeer_io::Limits::default())
        .unwrap()
        .reader
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Reference LPM: one hash map per prefix length, longest first.
fn reference(rows: &[(Prefix, Asn)]) -> impl Fn(u32) -> Option<(Prefix, HashSet<Asn>)> {
    let mut by_len: Vec<HashMap<u32, (Prefix, HashSet<Asn>)>> = vec![HashMap::new(); 33];
    for (p, a) in rows {
        if let Prefix::V4(n) = p {
            by_len[n.prefix_len() as usize]
                .entry(u32::from(n.network()))
                .or_insert_with(|| (*p, HashSet::new()))
                .1
                .insert(*a);
        }
    }
    move |ip: u32| {
        for len in (0..=32usize).rev() {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            if let Some(v) = by_len[len].get(&(ip & mask)) {
                return Some(v.clone());
            }
        }
        None
    }
}

#[test]
fn poptrie_agrees_with_reference_on_full_pyasn_tables() {
    if !have_shared_data("poptrie_agrees_with_reference_on_full_pyasn_tables") {
        return;
    }
    for file in [
        "ipasn/ipasn_20080501_v12.dat.gz",
        "ipasn/ipasn_20140513.dat.gz",
    ] {
        let t = read_ipasn(&gunzip(file)[..], file).unwrap();
        assert!(t.rows.len() > 270_000, "{file}");
        assert!(t.bad_lines.is_empty(), "{file}: {:?}", &t.bad_lines[..1]);
        let table = RouteTable::from_routes(&t.routes_at(Timestamp(0), "t"), None);
        let reference = reference(&t.rows);
        let mut probes = xorshift_u32s(0x2545_f491_4f6c_dd1d, 100_000);
        // Every 50th prefix's boundaries, +-1.
        for (p, _) in t.rows.iter().step_by(50) {
            if let Prefix::V4(n) = p {
                let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
                probes.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1)]);
            }
        }
        for ip in probes {
            let got = table.lookup(IpAddr::V4(Ipv4Addr::from(ip)));
            let want = reference(ip);
            match (got, want) {
                (None, None) => {}
                (Some(e), Some((p, asns))) => {
                    assert_eq!(e.prefix, p, "{file} {}", Ipv4Addr::from(ip));
                    assert_eq!(e.origins.iter().copied().collect::<HashSet<_>>(), asns);
                }
                (g, w) => panic!("{file} {}: {g:?} vs {w:?}", Ipv4Addr::from(ip)),
            }
        }
    }
}

#[test]
fn mccolo_prefixes_in_the_2008_table() {
    if !have_shared_data("mccolo_prefixes_in_the_2008_table") {
        return;
    }
    let t = read_ipasn(&gunzip("ipasn/ipasn_20080501_v12.dat.gz")[..], "x").unwrap();
    let mut b = HistoryBuilder::new(HistoryOptions::default());
    let at = Timestamp::parse("2008-05-01T06:44Z").unwrap();
    b.add_static("ipasn", at, &t.rows);
    let h = b.finish(None);
    let table = RouteTable::from_routes(&h.routes, Some(Timestamp::parse("2008-11-11").unwrap()));
    for ip in ["208.66.192.1", "208.72.168.10", "208.72.173.200"] {
        let e = table.lookup(ip.parse().unwrap()).unwrap();
        assert_eq!(e.origins, vec![Asn(26780)], "{ip}");
    }
    // Before the table's moment nothing is known.
    let before = RouteTable::from_routes(&h.routes, Some(Timestamp::parse("2008-04-01").unwrap()));
    assert!(before.lookup("208.66.192.1".parse().unwrap()).is_none());
}

#[test]
fn ipv6_table_from_pyasn() {
    if !have_shared_data("ipv6_table_from_pyasn") {
        return;
    }
    let t = read_ipasn(&gunzip("ipasn/ipasn6_20151101.dat.gz")[..], "x").unwrap();
    assert!(
        t.rows
            .iter()
            .filter(|(p, _)| matches!(p, Prefix::V6(_)))
            .count()
            > 20_000
    );
    let table = RouteTable::from_routes(&t.routes_at(Timestamp(0), "t"), None);
    let (p, a) = t
        .rows
        .iter()
        .find(|(p, _)| matches!(p, Prefix::V6(n) if n.prefix_len() == 32))
        .unwrap();
    let Prefix::V6(n) = p else { unreachable!() };
    let inside = IpAddr::V6(std::net::Ipv6Addr::from(u128::from(n.network()) + 12345));
    let e = table.lookup(inside).unwrap();
    assert!(e.prefix == *p || e.prefix.prefix_len() > 32, "{e:?}");
    if e.prefix == *p {
        assert!(e.origins.contains(a));
    }
}

fn replay(files: &[&str]) -> History {
    let mut b = HistoryBuilder::new(HistoryOptions::default());
    for f in files {
        let bytes = gunzip(&format!("mrt/routeviews2-2008-02/{f}"));
        for rec in MrtReader::new(&bytes[..], *f) {
            b.add_record("route-views2", &rec.unwrap());
        }
        b.end_file("route-views2");
    }
    b.finish(None)
}

#[test]
fn youtube_hijack_2008_02_24() {
    if !have_shared_data("youtube_hijack_2008_02_24") {
        return;
    }
    let h = replay(&[
        "updates.20080224.1824.bz2",
        "updates.20080224.1839.bz2",
        "updates.20080224.1854.bz2",
        "updates.20080224.1909.bz2",
        "updates.20080224.1924.bz2",
        "updates.20080224.1939.bz2",
        "updates.20080224.1954.bz2",
        "updates.20080224.2009.bz2",
        "updates.20080224.2026.bz2",
        "updates.20080224.2041.bz2",
        "updates.20080224.2056.bz2",
        "updates.20080224.2111.bz2",
    ]);
    let yt: Prefix = "208.65.153.0/24".parse().unwrap();
    let rows: Vec<&RouteObs> = h.routes.iter().filter(|r| r.prefix == yt).collect();
    for r in &rows {
        eprintln!(
            "{} AS{} {} .. {} peers {}",
            r.prefix, r.origin_asn.0, r.first_seen, r.last_seen, r.peer_count
        );
    }
    let pk: Vec<_> = rows.iter().filter(|r| r.origin_asn == Asn(17557)).collect();
    assert!(!pk.is_empty());
    // Pakistan Telecom's announcement started at 18:47 UTC.
    let first = pk.iter().map(|r| r.first_seen).min().unwrap();
    assert_eq!(first.to_rfc3339()[..15], *"2008-02-24T18:4");
    assert!(pk.iter().map(|r| r.peer_count).max().unwrap() >= 10);
    // ... and ended when PCCW (AS3491) cut it off, just after 21:01 UTC.
    let last = pk.iter().map(|r| r.last_seen).max().unwrap();
    assert_eq!(last.to_rfc3339()[..15], *"2008-02-24T21:0");
    // YouTube (AS36561) answered with the same /24: a MOAS.
    assert!(rows.iter().any(|r| r.origin_asn == Asn(36561)));
    let moas: Vec<_> = h
        .events
        .iter()
        .filter(|e| e.kind == RoutingEventKind::OriginChange && e.prefix == Some(yt))
        .collect();
    for e in &moas {
        eprintln!("{} {} {:?} {}", e.time, e.kind.as_str(), e.asn, e.detail);
    }
    assert!(moas.iter().any(|e| e.asn == Some(Asn(36561))));
    // Links: 17557's upstream PCCW (AS3491) is in the paths.
    assert!(
        h.links
            .iter()
            .any(|l| l.asn == Asn(17557) && l.neighbor_asn == Asn(3491))
    );
    let mut kinds: Vec<&str> = h.events.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    eprintln!(
        "event kinds: {kinds:?}, {} events, {} routes, {} links",
        h.events.len(),
        h.routes.len(),
        h.links.len()
    );
    for k in ["prefix-withdrawn", "origin-change", "short-lived"] {
        assert!(kinds.contains(&k), "{k}");
    }
}

#[test]
fn as_names_from_the_shared_feeds() {
    if !have_shared_data("as_names_from_the_shared_feeds") {
        return;
    }
    let text = String::from_utf8(gunzip("feeds/caida/20080402.as-org2info.jsonl.gz")).unwrap();
    let names = read_as_names(&text, "caida").unwrap();
    let mccolo = names.iter().find(|n| n.asn == Asn(26780)).unwrap();
    assert_eq!(mccolo.name, "MCCOLO");
    assert!(mccolo.org.as_deref().unwrap().contains("McColo"));
    let text = String::from_utf8(gunzip("feeds/asnames/asnames.json.gz")).unwrap();
    let names = read_as_names(&text, "pyasn").unwrap();
    assert!(names.len() > 50_000);
    assert!(names.iter().any(|n| n.asn == Asn(3549)));
}
