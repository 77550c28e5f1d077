//! Base64 bodies (RFC 2045 section 6.8): the plain decoder of text parts,
//! the check that an attachment would be accepted by mail-parser's decoder
//! (so it need not be decoded), and the lenient decoder for parts
//! mail-parser rejected.
//!
//! Why depeer owns these: mail-parser's `decode_base64_mime` is a byte loop
//! that runs on every base64 part, attachments included; [`plain_base64`]
//! decodes four characters at a time and gives the same bytes (a randomized
//! test compares), and [`base64_accepted`] tells whether that loop would
//! succeed without running it. mail-parser has no lenient decoder: a part
//! with stray characters is left undecoded, while SpamAssassin and mail
//! clients read it ([`lenient_base64`]).

/// Values of the base64 alphabet (the one mail-parser's `BASE64_MAP`
/// accepts, checked by a unit test); 0xff for every other byte.
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static B64_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0usize;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The value of base64 character `b`, above 63 for a byte outside the
/// alphabet.
fn value(b: u8) -> u32 {
    u32::from(B64_VALUE.get(usize::from(b)).copied().unwrap_or(0xff))
}

/// The bytes mail-parser's `decode_base64_mime` gives for `body` in the
/// plain case, four characters at a time instead of its byte loop: lines
/// (LF or CRLF, empty ones skipped) of whole groups of four alphabet
/// characters, the last line possibly ending in a partial group and `=`
/// padding. `None` for anything else (blanks, stray bytes, a group split
/// across lines, data after the padding): mail-parser decodes those.
pub(super) fn plain_base64(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let mut rest = body;
    let mut padded = false;
    while !rest.is_empty() {
        let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = rest.get(..nl)?;
        rest = rest.get(nl + 1..).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if padded {
            return None;
        }
        let pad = line.iter().rev().take_while(|&&b| b == b'=').count();
        let chars = line.get(..line.len() - pad)?;
        padded = pad > 0;
        let groups = chars.chunks_exact(4);
        let tail = groups.remainder();
        for g in groups {
            let &[a, b, c, d] = g else { return None };
            let (a, b, c, d) = (value(a), value(b), value(c), value(d));
            if (a | b | c | d) > 63 {
                return None;
            }
            let w = (a << 18) | (b << 12) | (c << 6) | d;
            let [_, x, y, z] = w.to_be_bytes();
            out.extend_from_slice(&[x, y, z]);
        }
        if !tail.is_empty() {
            // A partial group: only before padding (mail-parser's `=`
            // flushes it); one character alone, or no padding, is left to
            // mail-parser.
            if !padded || tail.len() == 1 {
                return None;
            }
            let mut w = 0u32;
            for (i, &ch) in tail.iter().enumerate() {
                let v = value(ch);
                if v > 63 {
                    return None;
                }
                w |= v << (18 - 6 * i);
            }
            let [_, x, y, _] = w.to_be_bytes();
            out.push(x);
            if tail.len() == 3 {
                out.push(y);
            }
        }
    }
    Some(out)
}

/// Whether mail-parser's `decode_base64_mime` accepts `body` (the bytes
/// before the delimiter): only the alphabet, `=`, blanks and line breaks,
/// and a `-` neither doubled nor just before the delimiter's `--`.
pub(super) fn base64_accepted(body: &[u8]) -> bool {
    // Branch-free within each chunk of 256 bytes: attachments are the
    // longest bodies a message has.
    body.chunks(256).all(|c| {
        c.iter().fold(0u8, |bad, &b| {
            bad | B64_BAD.get(usize::from(b)).copied().unwrap_or(1)
        }) == 0
    }) && super::find_pair(body, b'-', b'-').is_none()
        && body.last() != Some(&b'-')
}

/// 1 for the bytes [`base64_accepted`] rejects: everything but ASCII
/// letters and digits, `+ / = - `, blank and line breaks.
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static B64_BAD: [u8; 256] = {
    let mut t = [1u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric()
            || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'-')
        {
            t[i] = 0;
        }
        i += 1;
    }
    t
};

/// Base64 that skips every byte outside the alphabet and stops at padding
/// or at a MIME delimiter line.
pub(super) fn lenient_base64(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut prev = b'\n';
    for (i, &b) in raw.iter().enumerate() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'-' if prev == b'\n' && raw.get(i + 1) == Some(&b'-') => break,
            _ => {
                prev = b;
                continue;
            }
        };
        prev = b;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use mail_parser::parsers::MessageStream;

    use super::super::body::base64_part;
    use super::*;
    use crate::test_support::XorShift;

    #[test]
    fn base64_check_takes_exactly_the_alphabet() {
        for b in 0u8..=255 {
            let ok = b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'-');
            let mut body = vec![b'A'; 700];
            body[300] = b;
            body[699] = b'A';
            assert_eq!(base64_accepted(&body), ok, "{b}");
        }
        assert!(!base64_accepted(b"AB--CD"));
        assert!(!base64_accepted(b"ABCD-"));
        assert!(base64_accepted(b"AB-CD\r\n"));
    }

    #[test]
    fn lenient_base64_skips_stray_bytes() {
        assert_eq!(lenient_base64(b"aGV*sbG8\n=ignored"), b"hello");
        assert_eq!(lenient_base64(b"aGVs\n--b\nbG8="), b"hel");
    }

    /// Standard base64 of `bytes`, each group padded with probability 4/5
    /// (`full_pad` is cleared when one is not).
    fn encode(bytes: &[u8], rng: &mut XorShift, full_pad: &mut bool) -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut enc = Vec::new();
        for c in bytes.chunks(3) {
            let w = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..=c.len() {
                enc.push(alphabet[((w >> (18 - 6 * i)) & 63) as usize]);
            }
            for _ in c.len()..3 {
                if rng.below(5) > 0 {
                    enc.push(b'=');
                } else {
                    *full_pad = false;
                }
            }
        }
        enc
    }

    /// `B64_VALUE` accepts exactly mail-parser's alphabet, and
    /// `plain_base64` / `base64_part` give exactly `decode_base64_mime`'s
    /// bytes, end offset and stream position whenever they answer, on
    /// random bodies wrapped, padded and mutated in the ways MUAs and
    /// spamware do (and the plain ones must be answered).
    #[test]
    fn plain_base64_equals_mail_parser() {
        use mail_parser::decoders::base64::BASE64_MAP;
        for b in 0..=255usize {
            let ours = B64_VALUE[b] < 64;
            let theirs = BASE64_MAP[0][b] < 0x01ff_ffff;
            assert_eq!(ours, theirs, "{b}");
        }
        let mut rng = XorShift::new(0x2545_F491_4F6C_DD1D);
        let (mut answered, mut plain_cases) = (0usize, 0usize);
        for round in 0..6000 {
            let n = rng.below(400);
            let mut full_pad = true;
            let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            let enc = encode(&bytes, &mut rng, &mut full_pad);
            let width = if rng.below(4) == 0 {
                1 + rng.below(90)
            } else {
                76
            };
            let eol: &[u8] = if rng.below(2) == 0 { b"\r\n" } else { b"\n" };
            let mut body = Vec::new();
            for line in enc.chunks(width) {
                body.extend_from_slice(line);
                body.extend_from_slice(eol);
            }
            let mutated = round % 3 == 0 && !body.is_empty();
            if mutated {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(body.len() + 1);
                    let junk: &[&[u8]] = &[
                        b"-", b" ", b"=", b"*", b"\n", b"\r\n", b"A", b"\t", b"==", b"\xff",
                    ];
                    let j = junk[rng.below(junk.len())];
                    body.splice(at..at, j.iter().copied());
                }
            }
            let plain = !mutated && width % 4 == 0 && full_pad;
            plain_cases += usize::from(plain);
            // Top level: the body to the end of the message.
            let mut raw = b"Content-Transfer-Encoding: base64\n\n".to_vec();
            let off = raw.len();
            raw.extend_from_slice(&body);
            let mut st = MessageStream::new(&raw);
            st.skip_bytes(off);
            let want = st.decode_base64_mime(b"");
            if let Some(got) = plain_base64(&body) {
                answered += 1;
                assert_eq!(
                    (raw.len(), got.as_slice()),
                    (want.0, &want.1[..]),
                    "{body:?}"
                );
            } else {
                assert!(!plain, "{body:?}");
            }
            // In a multipart: up to the delimiter.
            let mut raw = b"--b\n".to_vec();
            let off = raw.len();
            raw.extend_from_slice(&body);
            raw.extend_from_slice(if rng.below(2) == 0 {
                b"\n--b--\n"
            } else {
                b"--b\nrest"
            });
            let mut theirs = MessageStream::new(&raw);
            theirs.skip_bytes(off);
            let want = theirs.decode_base64_mime(b"b");
            let mut ours = MessageStream::new(&raw);
            ours.skip_bytes(off);
            match base64_part(&mut ours, b"b") {
                Some((end, got)) => {
                    assert_eq!((end, got.as_slice()), (want.0, &want.1[..]), "{raw:?}");
                    assert_eq!(ours.offset(), theirs.offset(), "{raw:?}");
                }
                None => assert_eq!(ours.offset(), off),
            }
        }
        assert!(answered * 2 > plain_cases, "{answered} of {plain_cases}");
    }
}
