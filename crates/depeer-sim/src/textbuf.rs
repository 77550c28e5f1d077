//! Appending text to byte buffers without `format!`: the message renderer
//! runs these millions of times, so they write digits and words straight
//! into a reused `Vec<u8>` and never allocate.

use crate::rng::Rng;

pub(crate) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
pub(crate) const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    // u64::MAX has 20 digits; they are written from the last.
    let mut digits = [0u8; 20];
    let mut used = 0;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        used += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(digits.len() - used..).unwrap_or_default());
}

/// Appends `n` in decimal (`i64`, with a minus sign when negative).
pub(crate) fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends an IPv4 address in dotted-quad form.
pub(crate) fn push_ipv4(out: &mut Vec<u8>, ip: u32) {
    for (i, o) in ip.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(o));
    }
}

/// The hex digit of the low four bits of `n` in `digits`.
pub(crate) fn nibble(digits: &[u8; 16], n: u8) -> u8 {
    digits.get(usize::from(n & 15)).copied().unwrap_or(b'0')
}

/// Appends `n` random hex digits (one draw of `rng.index(16)` each).
pub(crate) fn push_hex_rand(out: &mut Vec<u8>, rng: &mut Rng, n: usize, upper: bool) {
    let t = if upper { HEX_UPPER } else { HEX_LOWER };
    for _ in 0..n {
        out.push(nibble(t, rng.index(16) as u8));
    }
}

/// Appends the bytes as lowercase hex.
pub(crate) fn push_hex_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.extend_from_slice(&[nibble(HEX_LOWER, b >> 4), nibble(HEX_LOWER, b)]);
    }
}

/// Appends an ASCII word with its first letter in upper case (`john` -> `John`).
pub(crate) fn push_title(out: &mut Vec<u8>, word: &str) {
    if let Some((&first, rest)) = word.as_bytes().split_first() {
        out.push(first.to_ascii_uppercase());
        out.extend_from_slice(rest);
    }
}

/// Appends several byte strings.
pub(crate) fn push_all(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for p in parts {
        out.extend_from_slice(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_addresses_and_names() {
        let mut v = Vec::new();
        push_u64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        v.push(b' ');
        push_i64(&mut v, -42);
        v.push(b' ');
        push_ipv4(&mut v, 0xc633_6401);
        v.push(b' ');
        push_title(&mut v, "john");
        v.push(b' ');
        push_hex_bytes(&mut v, &[0x00, 0xaf, 0x10]);
        assert_eq!(
            v,
            b"0 18446744073709551615 -42 198.51.100.1 John 00af10".to_vec()
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        push_hex_rand(&mut a, &mut Rng::new(3), 12, true);
        push_hex_rand(&mut b, &mut Rng::new(3), 12, true);
        assert_eq!(a, b);
        assert!(
            a.iter()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }
}
