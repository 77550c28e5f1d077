//! Content transfer encodings written by hand (RFC 2045 §6.7, §6.8) and
//! RFC 2047 encoded words, so that the simulator controls every byte.

use crate::textbuf::{HEX_UPPER, nibble};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 without line breaks.
pub(crate) fn base64_raw(input: &[u8], out: &mut Vec<u8>) {
    for c in input.chunks(3) {
        let byte = |k: usize| u32::from(c.get(k).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        let sextet = |shift: u32| B64.get((n >> shift) as usize & 63).copied().unwrap_or(b'=');
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if c.len() > 1 { sextet(6) } else { b'=' });
        out.push(if c.len() > 2 { sextet(0) } else { b'=' });
    }
}

/// Base64 body: lines of 76 characters, each ending in `\n`
/// (RFC 2045 §6.8: "no more than 76 characters").
pub(crate) fn base64_lines(input: &[u8], out: &mut Vec<u8>) {
    for chunk in input.chunks(57) {
        base64_raw(chunk, out);
        out.push(b'\n');
    }
}

/// Quoted-printable with soft line breaks (RFC 2045 §6.7); input lines
/// are separated by `\n`.
pub(crate) fn quoted_printable(input: &[u8], out: &mut Vec<u8>) {
    for line in input.split(|&b| b == b'\n') {
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal =
                (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let need = if literal { 1 } else { 3 };
            if col + need > 75 {
                out.extend_from_slice(b"=\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'=', nibble(HEX_UPPER, b >> 4), nibble(HEX_UPPER, b)]);
            }
            col += need;
        }
        out.push(b'\n');
    }
}

/// An RFC 2047 "B" encoded word.
pub(crate) fn encoded_word_b(charset: &str, text: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"=?");
    out.extend_from_slice(charset.as_bytes());
    out.extend_from_slice(b"?B?");
    base64_raw(text, out);
    out.extend_from_slice(b"?=");
}

/// An RFC 2047 "Q" encoded word.
pub(crate) fn encoded_word_q(charset: &str, text: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"=?");
    out.extend_from_slice(charset.as_bytes());
    out.extend_from_slice(b"?Q?");
    for &b in text {
        match b {
            b' ' => out.push(b'_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b',' | b'!' => out.push(b),
            _ => out.extend_from_slice(&[b'=', nibble(HEX_UPPER, b >> 4), nibble(HEX_UPPER, b)]),
        }
    }
    out.extend_from_slice(b"?=");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10 test vectors.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            base64_raw(i.as_bytes(), &mut out);
            assert_eq!(out, o.as_bytes());
        }
    }

    #[test]
    fn qp_escapes_and_wraps() {
        let mut out = Vec::new();
        quoted_printable(b"a=b \xe9 end ", &mut out);
        assert_eq!(out, b"a=3Db =E9 end=20\n");
        let mut out = Vec::new();
        quoted_printable(&[b'x'; 100], &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.len() <= 76));
        assert!(text.starts_with(&"x".repeat(75)));
    }
}
