//! Helpers: building query packets, decoding responses with hickory-proto.

use depeer_dnsbl::{LoadOptions, Transport, ZoneType, Zones, handle};
use hickory_proto::op::{Message, ResponseCode};

pub(crate) const ZONE4: &str =
    "$SOA 3600 ns1.depeer.test hostmaster.depeer.test 7 3600 600 604800 300
$NS 3600 ns1.depeer.test ns2.depeer.test
$TTL 1800
$1 https://bl.depeer.test/q?
:127.0.0.2:Listed: $1$
127.0.0.2
192.0.2.0/24 :3:C&C network, see $1$
!192.0.2.66
198.51.100.7 :4:
198.51.100.8 Spam source $
203.0.113.0-203.0.113.127 :5
";

pub(crate) const ZONE6: &str = "$SOA 0 ns1.depeer.test hostmaster.depeer.test 7 3600 600 604800 300
:127.0.1.2:IPv6 $ listed
2001:db8:c000::/36
2001:db8:def7:4242 :127.0.1.3:Smells funny
!2001:db8:c000::bead
";

pub(crate) const ZONEDN: &str =
    "$SOA 0 ns1.depeer.test hostmaster.depeer.test 7 3600 600 604800 300
:127.0.1.4:Domain $ advertised in spam
pharma.example
*.botnet.example
.rogue.example
!safe.rogue.example
a.b.deep.example
";

pub(crate) fn zones() -> Zones {
    Zones::from_texts(
        &[
            ("bl.depeer.test", ZoneType::Ip4Set, ZONE4.as_bytes()),
            ("v6.depeer.test", ZoneType::Ip6Trie, ZONE6.as_bytes()),
            ("dbl.depeer.test", ZoneType::Dnset, ZONEDN.as_bytes()),
        ],
        &LoadOptions::default(),
    )
}

pub(crate) fn packet(id: u16, name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&[0, 1]);
    if let Some(size) = edns {
        p.extend_from_slice(&[0, 0, 41]);
        p.extend_from_slice(&size.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    p
}

/// Answers `name`/`qtype` in process over UDP without EDNS.
pub(crate) fn ask(z: &Zones, name: &str, qtype: u16) -> Message {
    ask_with(z, &packet(7, name, qtype, None), Transport::Udp)
}

pub(crate) fn ask_with(z: &Zones, p: &[u8], t: Transport) -> Message {
    let mut out = Vec::new();
    handle(z, p, t, &mut out);
    Message::from_vec(&out).expect("hickory-proto decodes the response")
}

/// The answer section as text (lowercase, sorted).
pub(crate) fn answers(m: &Message) -> Vec<String> {
    let mut v: Vec<String> = m
        .answers
        .iter()
        .map(|r| r.to_string().to_lowercase())
        .collect();
    v.sort();
    v
}

pub(crate) fn rcode(m: &Message) -> ResponseCode {
    m.metadata.response_code
}

/// Asks each `(name, qtype)` in process and checks its RCODE.
pub(crate) fn assert_rcodes(z: &Zones, cases: &[(&str, u16, ResponseCode)]) {
    for &(name, qtype, want) in cases {
        assert_eq!(rcode(&ask(z, name, qtype)), want, "{name} type {qtype}");
    }
}

pub(crate) fn rev4(ip: &str) -> String {
    let mut o: Vec<&str> = ip.split('.').collect();
    o.reverse();
    o.join(".")
}

pub(crate) fn rev6(ip: &str) -> String {
    let a = u128::from(ip.parse::<std::net::Ipv6Addr>().unwrap());
    (0..32)
        .map(|k| format!("{:x}", (a >> (4 * k)) & 0xf))
        .collect::<Vec<_>>()
        .join(".")
}
