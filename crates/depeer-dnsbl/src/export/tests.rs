//! Unit tests of the exporters: merge and order, sanitising of hostile
//! feed text per format, and the shape of each format's lines.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn net_l(p: &str, list: List, reason: &str, first: &str) -> Listing {
    Listing {
        subject: Subject::Net(p.parse().unwrap()),
        list,
        reason: reason.into(),
        first_seen: Some(t(first)),
        last_seen: Some(t("2008-11-11")),
        source: "feed-a".into(),
    }
}

fn sample() -> Export {
    let hostile = "evil\nline; $1 \"quote\" \\ # (paren) \u{7}bell ünï";
    let mut ls = vec![
        net_l(
            "192.0.2.7/32",
            List::Bots,
            "relayed 3 messages of botnet srizbi",
            "2008-11-01",
        ),
        net_l("198.51.100.0/24", List::Drop, hostile, "2008-10-01"),
        net_l(
            "198.51.100.128/25",
            List::Drop,
            "more specific",
            "2008-10-02",
        ),
        net_l(
            "2001:db8::/32",
            List::Drop,
            "announced by AS64496",
            "2008-10-03",
        ),
        net_l(
            "203.0.113.5/32",
            List::Cc,
            "C&C server of rustock",
            "2008-09-01",
        ),
        Listing {
            subject: Subject::Asn(64496),
            list: List::Drop,
            reason: "ASN-DROP".into(),
            first_seen: None,
            last_seen: None,
            source: "spamhaus-asndrop".into(),
        },
        Listing {
            subject: Subject::Domain("pills.example".into()),
            list: List::Dbl,
            reason: "advertised in 5 messages of botnet srizbi".into(),
            first_seen: Some(t("2008-11-02")),
            last_seen: None,
            source: "depeer-attribution".into(),
        },
        Listing {
            subject: Subject::Domain("bad name!.example".into()),
            list: List::Dbl,
            reason: "x".into(),
            first_seen: None,
            last_seen: None,
            source: "s".into(),
        },
    ];
    // The same bot from a second source, earlier: merged into one.
    let mut dup = net_l("192.0.2.7/32", List::Bots, "bot feed", "2008-10-15");
    dup.source = "feed-b".into();
    ls.push(dup);
    let mut e = Export::new(ls, t("2008-11-11T21:30:00Z"));
    e.as_info.insert(
        64496,
        AsInfo {
            name: "ROGUE \"NET\"".into(),
            country: "US".into(),
        },
    );
    e
}

#[test]
fn merge_keeps_one_listing_per_subject() {
    let e = sample();
    let bots: Vec<_> = e.of(&[List::Bots]).collect();
    assert_eq!(bots.len(), 1);
    assert_eq!(bots[0].first_seen, Some(t("2008-10-15")));
    assert_eq!(bots[0].reason, "bot feed");
    assert_eq!(bots[0].source, "feed-a,feed-b");
    // Same input in another order: same bytes.
    let mut rev = sample().listings;
    rev.reverse();
    let e2 = Export {
        listings: merge(rev),
        ..sample()
    };
    for f in Format::ALL {
        assert_eq!(render(f, &e, &[]).text, render(f, &e2, &[]).text, "{f:?}");
    }
}

#[test]
fn clean_removes_what_breaks_lines() {
    assert_eq!(clean("a\nb\r\n c", &[], 100), "a b c");
    assert_eq!(clean("x;y", &[';'], 100), "x_y");
    assert_eq!(clean("ünï", &[], 100), "?n?");
    assert_eq!(clean("abcdef", &[], 3), "abc");
    assert_eq!(clean("  lead", &[], 10), "lead");
}

#[test]
fn every_format_keeps_hostile_text_on_one_line() {
    let e = sample();
    for f in Format::ALL {
        let r = render(f, &e, &List::ALL);
        assert!(r.text.is_ascii(), "{f:?}");
        assert!(!r.text.contains('\u{7}'), "{f:?}");
        for line in r.text.lines() {
            assert!(!line.starts_with("line;"), "{f:?}: {line}");
        }
    }
}

#[test]
fn drop_text_layout() {
    let r = render(Format::Drop, &sample(), &[]);
    let lines: Vec<&str> = r.text.lines().collect();
    assert!(lines[0].starts_with("; depeer DROP List 2008/11/11"));
    assert!(lines.contains(&"; Last-Modified: Tue, 11 Nov 2008 21:30:00 GMT"));
    let data: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with(';'))
        .collect();
    assert_eq!(data.len(), 3, "{data:?}");
    assert!(
        data[0].starts_with("198.51.100.0/24 ; drop: evil line, $1"),
        "{}",
        data[0]
    );
    assert_eq!(data[0].matches(';').count(), 1);
    assert!(data[2].starts_with("2001:db8::/32 ; "));
    assert_eq!(r.entries.get("drop"), Some(&3));
    assert_eq!(r.skipped.get("drop"), Some(&1)); // the AS
}

#[test]
fn spamhaus_json_layouts() {
    let e = sample();
    let r = render(Format::DropJson, &e, &[]);
    let lines: Vec<&str> = r.text.lines().collect();
    assert!(
        lines[0].starts_with(r#"{"cidr":"198.51.100.0/24","sblid":"drop: evil line; $1 \"quote\""#)
    );
    assert!(lines[0].ends_with(r#","rir":""}"#));
    let meta: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    let size: usize = lines[..3].iter().map(|l| l.len() + 1).sum();
    assert_eq!(meta["size"], size);
    assert_eq!(meta["records"], 3);
    assert_eq!(meta["type"], "metadata");
    let r = render(Format::Asndrop, &e, &[]);
    let first = r.text.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{"asn":64496,"rir":"","domain":"","cc":"US","asname":"ROGUE \"NET\""}"#
    );
}

#[test]
fn rbldnsd_zone_lines() {
    let e = sample();
    let r = render(Format::Rbldnsd, &e, &[]);
    assert!(
        r.text
            .contains("$SOA 2100 ns.bl.depeer.test. hostmaster.bl.depeer.test. ")
    );
    assert!(
        r.text
            .contains("\n192.0.2.7/32 :127.0.0.4:bots: bot feed; first seen 2008-10-15")
    );
    // `$` doubled: never a substitution.
    assert!(r.text.contains("$$1"), "{}", r.text);
    assert_eq!(r.skipped.get("drop"), Some(&2)); // the AS and the IPv6 network
    let r = render(Format::Rbldnsd, &e, &[List::Dbl]);
    assert!(
        r.text
            .contains("\n.pills.example :127.0.1.2:dbl: advertised")
    );
    assert_eq!(r.skipped.get("dbl"), Some(&1)); // the invalid name
    // The zones serve what they list.
    let zones = data_zones(&e);
    let texts: Vec<(&str, crate::ZoneType, &[u8])> = zones
        .iter()
        .map(|z| ("bl.test", z.kind, z.text.as_bytes()))
        .collect();
    let z = crate::Zones::from_texts(&texts, &crate::LoadOptions::default());
    for ds in z.zones()[0].datasets() {
        assert_eq!(ds.warning_count(), 0);
    }
}

#[test]
fn rpz_nft_bird_gobgp_lines() {
    let e = sample();
    let r = render(Format::Rpz, &e, &[]);
    assert!(r.text.contains("$ORIGIN rpz.depeer.test.\n"));
    assert!(
        r.text
            .contains("\n32.7.2.0.192.rpz-ip CNAME . ; bots: bot feed")
    );
    assert!(r.text.contains("\n32.zz.db8.2001.rpz-ip CNAME . ; "));
    assert!(r.text.contains("\n*.pills.example CNAME . ; dbl: "));
    let r = render(Format::Nft, &e, &[]);
    // The /25 inside the /24 is left out of the interval set.
    assert!(r.text.contains("198.51.100.0/24 comment \""));
    assert!(!r.text.contains("198.51.100.128/25"));
    assert!(r.text.contains("set drop_v6 {"));
    for line in r.text.lines().filter(|l| l.contains(" comment \"")) {
        let c = line.split(" comment \"").nth(1).unwrap();
        assert_eq!(c.matches('"').count(), 1, "{line}");
        assert!(c.len() <= 129, "{line}");
    }
    let r = render(Format::Bird, &e, &[]);
    assert!(
        r.text
            .contains("\troute 198.51.100.128/25 blackhole { bgp_community.add((65535, 666)); };")
    );
    assert!(
        r.text
            .contains("protocol static depeer_blackhole_v6 {\n\tipv6;")
    );
    let r = render(Format::Gobgp, &e, &[]);
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(
        lines,
        [
            "global rib add -a ipv4 203.0.113.5/32 community 65535:666",
            "global rib add -a ipv4 198.51.100.0/24 community 65535:666",
            "global rib add -a ipv4 198.51.100.128/25 community 65535:666",
            "global rib add -a ipv6 2001:db8::/32 community 65535:666",
        ]
    );
}
