//! Random and mutated bytes through every layer (the stable-toolchain
//! complement of the cargo-fuzz targets in fuzz/): no panic, invariants hold.

use depeer_mail::{Framing, MessageReader, TrustConfig, extract, parse_received, relay_chain};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: [&[u8]; 4] = [
    b"From a@b Tue Nov 11 21:30:00 2008\nReceived: from x (y [198.51.100.1]) by z with SMTP; Tue, 11 Nov 2008 21:30:00 +0000\nSubject: =?utf-8?B?aGk=?=\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<a href=3D\"http://0x7f000001/\">&#104;ttp://x.example</a>\n--q--\n\nFrom c@d Tue Nov 11 21:30:00 2008\n>From x\n",
    b"Received: from unknown (HELO [1.2.3.4]) (user@[IPv6:2001:db8::1]:25) by mx (qmail) with ESMTPA; date\n\n",
    b"Subject: x\nContent-Type: message/rfc822\n\nContent-Type: multipart/alternative; boundary=\"a\"\n\n--a\nContent-Transfer-Encoding: base64\n\nPGh0bWw+aHR0cDovL2EuZXhhbXBsZS8=\n--a--\n",
    b"To: www.x.example@y.example, mailto:%41@b.example\n\nwww.\xc3\xa9xample.com http://[::1]:80/ http://a@b@c.example:99999/",
];

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let trust = TrustConfig::default();
    for round in 0..4000 {
        let mut data: Vec<u8> = if round % 4 == 0 {
            (0..rng.below(2048)).map(|_| rng.next() as u8).collect()
        } else {
            SEEDS[rng.below(SEEDS.len())].to_vec()
        };
        // Mutations: flip, insert structural bytes, truncate, duplicate.
        for _ in 0..rng.below(12) {
            if data.is_empty() {
                break;
            }
            let at = rng.below(data.len());
            match rng.below(5) {
                0 => data[at] = rng.next() as u8,
                1 => data.insert(at, b"\n(<[@:;=%&#>])\r\0"[rng.below(15)]),
                2 => data.truncate(at),
                3 => {
                    let end = (at + rng.below(64)).min(data.len());
                    let chunk = data[at..end].to_vec();
                    data.splice(at..at, chunk).for_each(drop);
                }
                _ => data.splice(at..at, b"From ".iter().copied()).for_each(drop),
            }
        }
        for framing in [Framing::Mbox, Framing::Single] {
            for m in MessageReader::new(&data[..], framing)
                .max_message_size(1024)
                .flatten()
            {
                assert!(m.bytes.len() <= 1024);
            }
        }
        let text = String::from_utf8_lossy(&data);
        let _ = parse_received(&text);
        let _ = relay_chain(&data, &trust);
        let _ = TrustConfig::parse(&text, "random");
        if let Ok(e) = extract(&data, &super::ctx(&trust)) {
            assert_eq!(e.message.url_count as usize, e.urls.len());
            assert_eq!(e.message.size as usize, data.len());
        }
    }
}
