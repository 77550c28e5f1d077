//! Nasty packets: a table of malformed and odd queries with what each
//! must get (FORMERR, silence, or a given RCODE), over UDP and TCP, and
//! every truncation and many byte mutations of valid queries: never a
//! panic, and every response decodes (hickory-proto) with the query's ID.
//! The fuzz target fuzz/fuzz_targets/dnsbl_query.rs explores further.

use depeer_dnsbl::{Handled, Transport, handle, warm};
use hickory_proto::op::{Message, ResponseCode};

use crate::common::{packet, zones};

/// Header: ID 0xbeef, flags (RD), then QD, AN, NS, AR counts.
fn header(flags: [u8; 2], counts: [u16; 4]) -> Vec<u8> {
    let mut p = vec![0xbe, 0xef, flags[0], flags[1]];
    for c in counts {
        p.extend_from_slice(&c.to_be_bytes());
    }
    p
}

/// A query with one question and `tail` after it (ARCOUNT `ar`).
fn with_tail(name: &[u8], qtype: u16, qclass: u16, ar: u16, tail: &[u8]) -> Vec<u8> {
    let mut p = header([1, 0], [1, 0, 0, ar]);
    p.extend_from_slice(name);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&qclass.to_be_bytes());
    p.extend_from_slice(tail);
    p
}

const LISTED: &[u8] = b"\x0210\x01\x32\x010\x03192\x02bl\x06depeer\x04test\x00";
/// OPT: root owner, TYPE 41, payload 1232, extended RCODE 0, version 0.
const OPT: [u8; 11] = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Drop,
    FormErr,
    Rcode(u16),
}

/// `n` labels of `len` bytes each, then the root.
fn name_of(n: usize, len: u8) -> Vec<u8> {
    let label = std::iter::once(len).chain(std::iter::repeat_n(b'a', usize::from(len)));
    std::iter::repeat_n(label, n).flatten().chain([0]).collect()
}

/// `p` with bytes changed: `(offset, value)`.
fn patched(mut p: Vec<u8>, changes: &[(usize, u8)]) -> Vec<u8> {
    for &(at, v) in changes {
        p[at] = v;
    }
    p
}

#[rustfmt::skip]
fn table() -> Vec<(&'static str, Vec<u8>, Want)> {
    use Want::{Drop, FormErr, Rcode};
    let q = |qtype, qclass| with_tail(LISTED, qtype, qclass, 0, &[]);
    let opt_v1 = patched(OPT.to_vec(), &[(6, 1)]);
    let opt_named = [&b"\x01x"[..], &OPT].concat();
    let opt_long = patched(OPT.to_vec(), &[(10, 40)]); // RDLENGTH 40, no data
    let mut two_questions = with_tail(LISTED, 1, 1, 0, LISTED);
    two_questions.extend_from_slice(&[0, 1, 0, 1]);
    let mut half_class = q(1, 1);
    half_class.pop();
    vec![
        ("empty", vec![], Drop),
        ("11 bytes", vec![0; 11], Drop),
        ("header, no question", header([1, 0], [0; 4]), FormErr),
        ("two questions", patched(two_questions, &[(5, 2)]), FormErr),
        ("a response", patched(q(1, 1), &[(2, 0x81)]), Drop),
        ("all 0xff", vec![0xff; 512], Drop),
        ("QDCOUNT 65535, nothing", header([0, 0], [65535, 0, 0, 0]), FormErr),
        ("pointer in the question", with_tail(b"\xc0\x0c", 1, 1, 0, &[]), FormErr),
        ("pointer to itself", with_tail(b"\x01a\xc0\x0e", 1, 1, 0, &[]), FormErr),
        ("truncated label", [header([1, 0], [1, 0, 0, 0]), b"\x05ab".to_vec()].concat(), FormErr),
        ("label type 0x40", with_tail(b"\x40abc\x00", 1, 1, 0, &[]), FormErr),
        ("label type 0x80", with_tail(b"\x80abc\x00", 1, 1, 0, &[]), FormErr),
        ("name over 255 bytes", with_tail(&name_of(4, 63), 1, 1, 0, &[]), FormErr),
        ("127 labels (254 bytes)", with_tail(&name_of(127, 1), 1, 1, 0, &[]), Rcode(5)),
        ("128 labels", with_tail(&name_of(128, 1), 1, 1, 0, &[]), FormErr),
        ("no QTYPE", [header([1, 0], [1, 0, 0, 0]), LISTED.to_vec()].concat(), FormErr),
        ("half a QCLASS", half_class, FormErr),
        ("ARCOUNT 1, nothing", with_tail(LISTED, 1, 1, 1, &[]), FormErr),
        ("ANCOUNT 65535, nothing", patched(q(1, 1), &[(6, 0xff), (7, 0xff)]), FormErr),
        ("two OPT records", with_tail(LISTED, 1, 1, 2, &[OPT, OPT].concat()), FormErr),
        ("OPT with a name", with_tail(LISTED, 1, 1, 1, &opt_named), FormErr),
        ("OPT RDLENGTH past the end", with_tail(LISTED, 1, 1, 1, &opt_long), FormErr),
        ("OPT in the answer section", patched(with_tail(LISTED, 1, 1, 0, &OPT), &[(7, 1)]), Rcode(0)),
        ("EDNS version 1", with_tail(LISTED, 1, 1, 1, &opt_v1), Rcode(16)),
        ("trailing garbage", with_tail(LISTED, 1, 1, 0, &[0xde, 0xad]), Rcode(0)),
        ("opcode STATUS", patched(q(1, 1), &[(2, 2 << 3)]), Rcode(4)),
        ("opcode 15, no question", header([15 << 3, 0], [0; 4]), FormErr),
        ("class CHAOS", q(16, 3), Rcode(5)),
        ("class NONE", q(1, 254), Rcode(5)),
        ("AXFR", q(252, 1), Rcode(4)),
        ("QTYPE 65535", q(65535, 1), Rcode(4)),
        ("QTYPE 0", q(0, 1), Rcode(0)),
        ("root name", with_tail(b"\x00", 1, 1, 0, &[]), Rcode(5)),
        ("a dot and a zero byte inside labels", with_tail(b"\x032.0\x02\x00x\x02bl\x06depeer\x04test\x00", 16, 1, 0, &[]), Rcode(3)),
        ("octet 256", with_tail(b"\x03256\x010\x010\x03127\x02bl\x06depeer\x04test\x00", 1, 1, 0, &[]), Rcode(3)),
        ("five octets", with_tail(b"\x011\x011\x012\x010\x03127\x02bl\x06depeer\x04test\x00", 1, 1, 0, &[]), Rcode(3)),
        ("upper-case zone, TC, Z, AD and CD set", patched(with_tail(b"\x012\x010\x010\x03127\x02BL\x06DEPEER\x04TEST\x00", 1, 1, 0, &[]), &[(2, 0x03), (3, 0x70)]), Rcode(0)),
    ]
}

/// Handles `p` and checks the response is a well-formed reply to it.
fn run(p: &[u8], t: Transport) -> Handled {
    let mut out = Vec::new();
    let h = handle(&zones(), p, t, &mut out);
    if h != Handled::Dropped {
        let m = Message::from_vec(&out).expect("hickory-proto decodes the response");
        assert_eq!(out.get(..2), p.get(..2), "ID echoed");
        if h == Handled::FormErr {
            assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
            assert_eq!(out.len(), 12);
        }
    }
    h
}

#[test]
fn nasty_packets_get_formerr_or_silence_never_a_panic() {
    for (what, p, want) in table() {
        for t in [Transport::Udp, Transport::Tcp] {
            let got = match run(&p, t) {
                Handled::Dropped => Want::Drop,
                Handled::FormErr => Want::FormErr,
                Handled::Answered(r) => Want::Rcode(r),
            };
            assert_eq!(got, want, "{what} ({t:?})");
        }
    }
}

#[test]
fn every_truncation_and_byte_mutation_of_valid_queries_is_safe() {
    let valid = [
        packet(1, "2.0.0.127.bl.depeer.test", 16, Some(1232)),
        packet(2, "example.pharma.example.dbl.depeer.test", 255, None),
        packet(3, "bl.depeer.test", 6, Some(512)),
        with_tail(LISTED, 1, 1, 1, &OPT),
    ];
    let mut n = 0;
    let z = zones();
    for v in &valid {
        // The server's warm-up pass reads every packet of a batch first:
        // it must take every cut too, and change no answer.
        let cuts: Vec<&[u8]> = (0..=v.len()).map(|c| &v[..c]).collect();
        let answers = |warmed: bool| {
            if warmed {
                warm(&z, cuts.iter().copied());
            }
            cuts.iter()
                .map(|p| {
                    let mut out = Vec::new();
                    let h = handle(&z, p, Transport::Udp, &mut out);
                    (h, out)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(answers(true), answers(false));
        for cut in 0..v.len() {
            run(&v[..cut], Transport::Udp);
            n += 1;
        }
        for at in 0..v.len() {
            for b in [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff] {
                let mut m = v.clone();
                m[at] = b;
                for t in [Transport::Udp, Transport::Tcp] {
                    run(&m, t);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 1000, "{n} packets");
}
