//! DNSBL query path: bytes as a UDP or TCP query packet, parsed, answered
//! from a small zone of every dataset type and encoded (the server's
//! `handle`), or, when the first byte says so, bytes as zone text loaded
//! and then asked a few fixed queries. Checks that hostile input never
//! panics and that every response is a well-formed reply to its query: the
//! ID echoed, QR set, the question copied, the size within the transport's
//! limit.
#![no_main]

use std::sync::OnceLock;

use depeer_dnsbl::{
    CLASSIC_UDP, Handled, LoadOptions, MAX_UDP, Query, Transport, ZoneType, Zones, handle,
};
use libfuzzer_sys::fuzz_target;

const IP4: &[u8] = b"$SOA 1h ns.bl.test. host.bl.test. 1 1h 10m 1w 5m\n$NS 1h ns.bl.test\n\
$1 see http://bl.test/\n:127.0.0.2:Listed: $1$\n192.0.2.0/24\n!192.0.2.7\n198.51.100.1-20 :3:$$ range\n\
10.0.0.1 :4:\n203.0.113 long $1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1\n";
const TRIE: &[u8] = b"10.0.0.0/8 :2:net\n10.1.0.0/16\n!10.1.2.0/24\n";
const IP6: &[u8] = b"2001:db8::/32 :2:v6 $\n!2001:db8:1::/48\n::ffff:7f00:2\n";
const DN: &[u8] = b"$SOA 1h ns.bl.test. host.bl.test. 1 1h 10m 1w 5m\nexample.com :2:dn $\n\
*.wild.example :3\n.dot.example\n!no.wild.example\n";

fn zones() -> &'static Zones {
    static Z: OnceLock<Zones> = OnceLock::new();
    Z.get_or_init(|| {
        Zones::from_texts(
            &[
                ("bl.test", ZoneType::Ip4Set, IP4),
                ("bl.test", ZoneType::Ip4Trie, TRIE),
                ("v6.bl.test", ZoneType::Ip6Trie, IP6),
                ("dbl.test", ZoneType::Dnset, DN),
            ],
            &LoadOptions::default(),
        )
    })
}

fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut p = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in name.split('.') {
        p.push(l.len() as u8);
        p.extend_from_slice(l.as_bytes());
    }
    p.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    p
}

/// Answers `packet` and checks the response against it.
fn check(zones: &Zones, packet: &[u8], transport: Transport) {
    let mut out = Vec::new();
    let h = handle(zones, packet, transport, &mut out);
    match h {
        Handled::Dropped => return,
        Handled::FormErr => assert_eq!(out.len(), 12, "FORMERR is a header only"),
        Handled::Answered(rcode) => {
            let q = Query::parse(packet).expect("answered, so it parsed");
            let limit = match (transport, q.edns) {
                (Transport::Tcp, _) => 65535,
                (Transport::Udp, Some(e)) => usize::from(e.payload).clamp(CLASSIC_UDP, MAX_UDP),
                (Transport::Udp, None) => CLASSIC_UDP,
            };
            assert!(out.len() <= limit, "{} > {limit}", out.len());
            assert_eq!(out.get(12..q.question_end), packet.get(12..q.question_end));
            assert_eq!(u16::from(out[3] & 0x0f), rcode & 0x0f);
        }
    }
    assert_eq!(out.get(..2), packet.get(..2), "ID echoed");
    assert!(out[2] & 0x80 != 0, "QR set");
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    if sel == 0xff {
        // Zone text of each type, then queries that reach every lookup.
        for kind in [
            ZoneType::Ip4Set,
            ZoneType::Ip4Trie,
            ZoneType::Ip6Trie,
            ZoneType::Dnset,
        ] {
            let z = Zones::from_texts(&[("z.test", kind, body)], &LoadOptions::default());
            for (name, t) in [
                ("2.0.0.127.z.test", 16),
                ("1.2.0.192.z.test", 255),
                ("0.2.0.192.z.test", 1),
                (
                    "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.z.test",
                    16,
                ),
                ("www.example.com.z.test", 16),
                ("z.test", 255),
            ] {
                check(&z, &query(name, t), Transport::Udp);
            }
        }
        return;
    }
    let transport = if sel & 1 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    check(zones(), body, transport);
});
