//! `answer()` in process: every answer decoded by hickory-proto.

use depeer_dnsbl::rtype::{A, ANY, NS, SOA, TXT};
use depeer_dnsbl::{Handled, Transport, handle};
use hickory_proto::op::ResponseCode;

use crate::common::*;

/// Types depeer never answers with, asked to check NODATA.
const MX: u16 = 15;
const AAAA: u16 = 28;

#[test]
fn listed_ipv4_gets_a_and_txt() {
    let z = zones();
    let m = ask(&z, &format!("{}.bl.depeer.test", rev4("192.0.2.10")), A);
    assert_eq!(rcode(&m), ResponseCode::NoError);
    assert!(m.metadata.authoritative);
    assert!(!m.metadata.recursion_available);
    assert_eq!(
        answers(&m),
        ["10.2.0.192.bl.depeer.test. 1800 in a 127.0.0.3"]
    );
    let m = ask(&z, &format!("{}.bl.depeer.test", rev4("192.0.2.10")), TXT);
    assert_eq!(
        answers(&m),
        [
            "10.2.0.192.bl.depeer.test. 1800 in txt c&c network, see https://bl.depeer.test/q?192.0.2.10"
        ]
    );
    let m = ask(&z, &format!("{}.bl.depeer.test", rev4("198.51.100.8")), ANY);
    assert_eq!(
        answers(&m),
        [
            "8.100.51.198.bl.depeer.test. 1800 in a 127.0.0.2",
            "8.100.51.198.bl.depeer.test. 1800 in txt spam source 198.51.100.8"
        ]
    );
}

#[test]
fn value_without_txt_gives_nodata_for_txt() {
    let z = zones();
    // "127.0.0.6 will use specific a and no TXT" (rbldnsd(8)): listed,
    // so NOERROR, but no TXT record.
    let name = format!("{}.bl.depeer.test", rev4("198.51.100.7"));
    assert_eq!(
        answers(&ask(&z, &name, A)),
        [format!("{name}. 1800 in a 127.0.0.4")]
    );
    let m = ask(&z, &name, TXT);
    assert_eq!((rcode(&m), m.answers.len()), (ResponseCode::NoError, 0));
    assert_eq!(m.authorities.len(), 1, "SOA in the authority section");
}

#[test]
fn exclusion_and_unlisted_are_nxdomain_with_soa() {
    let z = zones();
    for ip in ["192.0.2.66", "198.51.100.9", "203.0.113.128"] {
        let m = ask(&z, &format!("{}.bl.depeer.test", rev4(ip)), A);
        assert_eq!(rcode(&m), ResponseCode::NXDomain, "{ip}");
        assert_eq!(m.answers.len(), 0);
        // RFC 2308 5: the SOA TTL in a negative answer is "the minimum of
        // the MINIMUM field of the SOA record and the TTL of the SOA itself".
        let soa = &m.authorities[0];
        assert_eq!(
            (soa.name.to_string().as_str(), soa.ttl),
            ("bl.depeer.test.", 300)
        );
    }
    assert_eq!(
        answers(&ask(
            &z,
            &format!("{}.bl.depeer.test", rev4("203.0.113.127")),
            A
        ))
        .len(),
        1
    );
}

#[test]
fn rfc5782_test_entries() {
    let z = zones();
    // RFC 5782 5: "IPv4-based DNSxLs MUST contain an entry for 127.0.0.2 for
    // testing purposes. IPv4-based DNSxLs MUST NOT contain an entry for
    // 127.0.0.1."
    // The IPv6 zone's file lists neither: depeer adds ::ffff:7f00:2.
    let v6 = |ip: &str| format!("{}.v6.depeer.test", rev6(ip));
    let (v6_2, v6_1) = (v6("::ffff:7f00:2"), v6("::ffff:7f00:1"));
    // Domain lists: "MUST contain an entry for the reserved domain name
    // "TEST"" and "MUST NOT contain an entry for the reserved domain name
    // "INVALID"".
    assert_rcodes(
        &z,
        &[
            ("2.0.0.127.bl.depeer.test", A, ResponseCode::NoError),
            ("1.0.0.127.bl.depeer.test", A, ResponseCode::NXDomain),
            (&v6_2, A, ResponseCode::NoError),
            (&v6_1, A, ResponseCode::NXDomain),
            ("test.dbl.depeer.test", A, ResponseCode::NoError),
            ("invalid.dbl.depeer.test", A, ResponseCode::NXDomain),
        ],
    );
}

#[test]
fn ipv6_nibbles_longest_prefix_and_exclusion() {
    let z = zones();
    let n = |ip: &str| format!("{}.v6.depeer.test", rev6(ip));
    let m = ask(&z, &n("2001:db8:c123::1"), TXT);
    assert_eq!(
        answers(&m),
        [format!(
            "{}. 2100 in txt ipv6 2001:db8:c123::1 listed",
            n("2001:db8:c123::1")
        )]
    );
    let m = ask(&z, &n("2001:db8:def7:4242::99"), A);
    assert_eq!(
        answers(&m),
        [format!(
            "{}. 2100 in a 127.0.1.3",
            n("2001:db8:def7:4242::99")
        )]
    );
    let (excluded, unlisted) = (n("2001:db8:c000::bead"), n("2001:db8:b000::1"));
    assert_rcodes(
        &z,
        &[
            (&excluded, A, ResponseCode::NXDomain),
            (&unlisted, A, ResponseCode::NXDomain),
        ],
    );
}

#[test]
fn domain_wildcards_as_rbldnsd_documents() {
    let z = zones();
    let ok = |name: &str| {
        rcode(&ask(&z, &format!("{name}.dbl.depeer.test"), A)) == ResponseCode::NoError
            && !ask(&z, &format!("{name}.dbl.depeer.test"), A)
                .answers
                .is_empty()
    };
    // "example.com: only example.com domain is listed, not subdomains"
    assert!(ok("pharma.example"));
    assert!(!ok("www.pharma.example"));
    // "*.example.com: all subdomains of example.com are listed, but not
    // example.com itself"
    assert!(ok("x.botnet.example") && ok("a.b.botnet.example"));
    assert!(!ok("botnet.example"));
    // ".example.com: all subdomains of example.com and example.com itself"
    assert!(ok("rogue.example") && ok("www.rogue.example"));
    assert!(!ok("safe.rogue.example"));
    // TXT: "$" is the listed entry for domain-based datasets
    let m = ask(&z, "www.rogue.example.dbl.depeer.test", TXT);
    assert_eq!(
        answers(&m),
        ["www.rogue.example.dbl.depeer.test. 2100 in txt domain rogue.example advertised in spam"]
    );
    // case-insensitive, case of the question preserved
    let m = ask(&z, "PHARMA.Example.dbl.depeer.test", A);
    assert_eq!(
        m.answers[0].name.to_string(),
        "PHARMA.Example.dbl.depeer.test."
    );
}

#[test]
fn empty_non_terminals_are_nodata() {
    let z = zones();
    // RFC 8020 2: "when an iterative caching DNS resolver receives an
    // NXDOMAIN response, it SHOULD store it in its cache and then all
    // names and all RRsets at or below that node SHOULD be considered
    // unreachable". A name with listed names below it must not be NXDOMAIN.
    for name in ["b.deep.example", "deep.example", "botnet.example"] {
        let m = ask(&z, &format!("{name}.dbl.depeer.test"), A);
        assert_eq!(
            (rcode(&m), m.answers.len()),
            (ResponseCode::NoError, 0),
            "{name}"
        );
    }
    assert_rcodes(
        &z,
        &[
            ("2.0.192.bl.depeer.test", A, ResponseCode::NoError),
            ("0.192.bl.depeer.test", A, ResponseCode::NoError),
            ("9.0.192.bl.depeer.test", A, ResponseCode::NXDomain),
            ("nothing.example.dbl.depeer.test", A, ResponseCode::NXDomain),
        ],
    );
}

#[test]
fn apex_soa_ns_and_nodata() {
    let z = zones();
    let m = ask(&z, "bl.depeer.test", SOA);
    assert_eq!(
        answers(&m),
        [
            "bl.depeer.test. 3600 in soa ns1.depeer.test. hostmaster.depeer.test. 7 3600 600 604800 300"
        ]
    );
    let m = ask(&z, "bl.depeer.test", NS);
    assert_eq!(
        answers(&m),
        [
            "bl.depeer.test. 3600 in ns ns1.depeer.test.",
            "bl.depeer.test. 3600 in ns ns2.depeer.test."
        ]
    );
    assert_eq!(ask(&z, "bl.depeer.test", ANY).answers.len(), 3);
    for t in [A, TXT, MX, AAAA] {
        let m = ask(&z, "bl.depeer.test", t);
        assert_eq!(
            (rcode(&m), m.answers.len(), m.authorities.len()),
            (ResponseCode::NoError, 0, 1)
        );
    }
    // SOA TTL 0 in the file means the dataset's TTL (rbldnsd(8)).
    assert_eq!(ask(&z, "v6.depeer.test", SOA).answers[0].ttl, 2100);
}

#[test]
fn other_types_on_listed_names_are_nodata() {
    let z = zones();
    let m = ask(&z, &format!("{}.bl.depeer.test", rev4("192.0.2.10")), AAAA);
    assert_eq!((rcode(&m), m.answers.len()), (ResponseCode::NoError, 0));
}

#[test]
fn never_an_open_resolver() {
    let z = zones();
    for name in [
        "example.com",
        "depeer.test",
        "com",
        "",
        "xbl.depeer.test.evil",
    ] {
        let m = ask(&z, name, A);
        assert_eq!(rcode(&m), ResponseCode::Refused, "{name:?}");
        assert!(!m.metadata.authoritative);
    }
    // CHAOS class (version.bind) is refused too.
    let mut p = packet(1, "version.bind", TXT, None);
    let n = p.len();
    p[n - 1] = 3;
    assert_eq!(
        rcode(&ask_with(&z, &p, Transport::Udp)),
        ResponseCode::Refused
    );
    // Zone transfers are not implemented.
    assert_eq!(rcode(&ask(&z, "bl.depeer.test", 252)), ResponseCode::NotImp);
}

#[test]
fn malformed_queries_get_formerr_or_nothing() {
    let z = zones();
    let mut out = Vec::new();
    // RFC 1035 4.1.1: RCODE 1 "Format error - The name server was unable
    // to interpret the query."
    let mut two = packet(9, "x.bl.depeer.test", A, None);
    two[5] = 2;
    assert_eq!(handle(&z, &two, Transport::Udp, &mut out), Handled::FormErr);
    let m = hickory_proto::op::Message::from_vec(&out).unwrap();
    assert_eq!((m.metadata.id, rcode(&m)), (9, ResponseCode::FormErr));
    let cut = &packet(9, "x.bl.depeer.test", A, None)[..20];
    assert_eq!(handle(&z, cut, Transport::Udp, &mut out), Handled::FormErr);
    assert_eq!(
        handle(&z, &[1, 2, 3], Transport::Udp, &mut out),
        Handled::Dropped
    );
    // Hostile bytes: never a panic, always a decodable answer or nothing.
    let mut seed = 0x1234_5678_9abc_def0u64;
    let base = packet(9, "1.2.0.192.bl.depeer.test", A, Some(1232));
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut p = base.clone();
        let k = (seed % p.len() as u64) as usize;
        p[k] = (seed >> 32) as u8;
        p.truncate(((seed >> 40) as usize % (p.len() + 1)).max(k));
        match handle(&z, &p, Transport::Udp, &mut out) {
            Handled::Dropped => {}
            _ => {
                hickory_proto::op::Message::from_vec(&out).unwrap();
            }
        }
    }
}

#[test]
fn edns_echo_badvers_and_truncation() {
    // A zone whose answer does not fit 512 bytes: 40 TXT values.
    let mut text = String::new();
    for k in 1..=40 {
        text.push_str(&format!("192.0.2.1 :{k}:{k:02}{}\n", "x".repeat(28)));
    }
    let z = depeer_dnsbl::Zones::from_texts(
        &[("bl.t", depeer_dnsbl::ZoneType::Ip4Set, text.as_bytes())],
        &depeer_dnsbl::LoadOptions::default(),
    );
    // Without EDNS: over 512 bytes, so TC and no records (RFC 1035 4.2.1:
    // "Messages carried by UDP are restricted to 512 bytes"; RFC 7766 5:
    // the client then retries over TCP).
    let m = ask_with(&z, &packet(1, "1.2.0.192.bl.t", TXT, None), Transport::Udp);
    assert!(m.metadata.truncation);
    assert!(m.answers.is_empty());
    // Over TCP everything comes.
    let m = ask_with(&z, &packet(1, "1.2.0.192.bl.t", TXT, None), Transport::Tcp);
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 40);
    // With EDNS 4096 the limit is depeer's 1232: still truncated, OPT
    // echoed with depeer's payload size. RFC 6891 6.1.1: "If an OPT record
    // is present in a received request, compliant responders MUST include
    // an OPT record in their respective responses."
    let m = ask_with(
        &z,
        &packet(1, "1.2.0.192.bl.t", TXT, Some(4096)),
        Transport::Udp,
    );
    assert!(m.metadata.truncation);
    assert_eq!(m.edns.as_ref().map(|e| e.max_payload()), Some(1232));
    // 20 values fit in 1232.
    let m = ask_with(
        &z,
        &packet(1, "1.2.0.192.bl.t", A, Some(1232)),
        Transport::Udp,
    );
    assert!(!m.metadata.truncation);
    assert_eq!(
        m.answers.len(),
        40,
        "40 distinct A values, 16 bytes each, fit"
    );
    // EDNS version 1: "MUST respond with RCODE=BADVERS" (RFC 6891 6.1.3).
    let mut p = packet(1, "1.2.0.192.bl.t", A, Some(1232));
    let n = p.len();
    p[n - 5] = 1; // version byte of the OPT TTL
    let mut out = Vec::new();
    handle(&z, &p, Transport::Udp, &mut out);
    let m = hickory_proto::op::Message::from_vec(&out).unwrap();
    assert_eq!(
        m.edns.as_ref().map(|e| e.rcode_high()),
        Some(1),
        "BADVERS = 16: high bits 1"
    );
    assert!(m.answers.is_empty());
}

#[test]
fn ip4set_duplicates_answer_every_value_once() {
    let z = depeer_dnsbl::Zones::from_texts(
        &[("bl.t", depeer_dnsbl::ZoneType::Ip4Set, b"192.0.2.1 :2:one\n192.0.2.1 :2:two\n192.0.2.1 :2:one\n192.0.2.0/24 :9:less specific\n")],
        &depeer_dnsbl::LoadOptions::default(),
    );
    let cases: [(&str, u16, &[&str]); 3] = [
        (
            "1.2.0.192.bl.t",
            A,
            &["1.2.0.192.bl.t. 2100 in a 127.0.0.2"],
        ),
        (
            "1.2.0.192.bl.t",
            TXT,
            &[
                "1.2.0.192.bl.t. 2100 in txt one",
                "1.2.0.192.bl.t. 2100 in txt two",
            ],
        ),
        (
            "2.2.0.192.bl.t",
            A,
            &["2.2.0.192.bl.t. 2100 in a 127.0.0.9"],
        ),
    ];
    for (name, qtype, want) in cases {
        assert_eq!(answers(&ask(&z, name, qtype)), want, "{name} type {qtype}");
    }
}
