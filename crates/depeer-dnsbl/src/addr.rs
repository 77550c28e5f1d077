//! Address syntax of rbldnsd zone files: IPv4 prefixes, CIDRs and ranges
//! (`127.0.0`, `127/8`, `127.16-31`, `10.0.0.0-10.0.3.255`), IPv6 prefixes
//! with `::` and omitted trailing groups (`2001:21ab:c000/36`), and the
//! split of an ip4set range into rbldnsd's /32, /24, /16 and /8 blocks.

fn mask4(bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    }
}

fn digits(s: &[u8]) -> (u32, usize) {
    let mut v: u32 = 0;
    let mut n = 0;
    for &b in s.iter().take_while(|b| b.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(u32::from(b - b'0'));
        n += 1;
    }
    (v, n)
}

/// `a.b.c.d` with 1 to 4 octets given: (address, 8 * octets, rest).
fn prefix4(s: &[u8]) -> Option<(u32, u32, &[u8])> {
    let mut a = 0u32;
    let mut i = 0usize;
    for k in 0..4u32 {
        let (v, n) = digits(s.get(i..)?);
        if n == 0 || v > 255 {
            return None;
        }
        a |= v << (24 - 8 * k);
        i += n;
        if k == 3 || s.get(i) != Some(&b'.') {
            return Some((a, 8 * (k + 1), s.get(i..)?));
        }
        i += 1;
    }
    None
}

fn mbits(s: &[u8], max: u32) -> Option<(u32, &[u8])> {
    let (v, n) = digits(s);
    (n > 0 && v <= max).then(|| (v, s.get(n..).unwrap_or_default()))
}

/// An ip4set entry: prefix, CIDR or range. Returns (first, last, bits,
/// rest); `bits` is 32 for ranges and the prefix length otherwise (for the
/// host-part check).
pub(crate) fn range4(s: &[u8]) -> Option<(u32, u32, u32, &[u8])> {
    let (a, bits, rest) = prefix4(s)?;
    if let Some(r) = rest.strip_prefix(b"-") {
        let (mut b, mut bbits, rest) = prefix4(r)?;
        if bbits == 8 {
            // "127.0.0.1-2" is 127.0.0.1-127.0.0.2; "127.16-31" 127.16-127.31
            b = (b >> (bits - 8)) | (a & mask4(bits - 8));
            bbits = bits;
        } else if bbits != bits {
            return None;
        }
        b |= !mask4(bbits);
        return (a <= b).then_some((a, b, 32, rest));
    }
    let (bits, rest) = match rest.strip_prefix(b"/") {
        Some(r) => mbits(r, 32)?,
        None if bits == 8 => return None, // bare numbers need /8
        None => (bits, rest),
    };
    Some((a, a | !mask4(bits), bits, rest))
}

/// An ip4trie entry: prefix or CIDR. Returns (address, bits, rest).
pub(crate) fn cidr4(s: &[u8]) -> Option<(u32, u32, &[u8])> {
    let (a, bits, rest) = prefix4(s)?;
    match rest.strip_prefix(b"/") {
        Some(r) => mbits(r, 32).map(|(b, rest)| (a, b, rest)),
        None if bits == 8 => None,
        None => Some((a, bits, rest)),
    }
}

/// Whether `a` has bits set below a `bits`-long prefix.
pub(crate) fn host_bits4(a: u32, bits: u32) -> bool {
    a & !mask4(bits) != 0
}

/// Last address of the `bits`-long prefix at `a`.
pub(crate) fn last4(a: u32, bits: u32) -> u32 {
    a | !mask4(bits)
}

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// rbldnsd's ip6 prefix: groups of up to 4 hex digits, `::` once; without
/// `::` the prefix is as long as the groups given. Returns (address, bits,
/// rest).
fn prefix6(s: &[u8]) -> Option<(u128, u32, &[u8])> {
    let mut groups: Vec<u16> = Vec::with_capacity(8);
    let mut zstart: Option<usize> = None;
    let mut i = 0usize;
    if s.starts_with(b"::") {
        zstart = Some(0);
        i = 2;
    }
    let mut complete = false;
    loop {
        let start = i;
        let mut v: u32 = 0;
        while let Some(h) = s.get(i).and_then(|&b| hex(b)) {
            v = (v << 4) | h;
            if v > 0xffff {
                return None;
            }
            i += 1;
        }
        if i == start {
            break;
        }
        groups.push(u16::try_from(v).ok()?);
        if s.get(i) != Some(&b':') || groups.len() + 1 > 8 {
            complete = true;
            break;
        }
        i += 1;
        if zstart.is_none() && s.get(i) == Some(&b':') {
            zstart = Some(groups.len());
            i += 1;
        }
    }
    let rest = s.get(i..)?;
    let mut addr = [0u16; 8];
    let bits = match zstart {
        Some(z) => {
            let nz = 8usize.checked_sub(groups.len()).filter(|&n| n > 0)?;
            for (k, g) in groups.iter().enumerate() {
                let at = if k < z { k } else { k + nz };
                *addr.get_mut(at)? = *g;
            }
            128
        }
        None if complete => {
            for (k, g) in groups.iter().enumerate() {
                *addr.get_mut(k)? = *g;
            }
            u32::try_from(groups.len()).ok()? * 16
        }
        None => return None,
    };
    let v = addr
        .iter()
        .fold(0u128, |acc, &g| (acc << 16) | u128::from(g));
    Some((v, bits, rest))
}

/// An ip6trie entry: prefix or CIDR. Returns (address, bits, rest).
pub(crate) fn cidr6(s: &[u8]) -> Option<(u128, u32, &[u8])> {
    let (a, bits, rest) = prefix6(s)?;
    match rest.strip_prefix(b"/") {
        Some(r) => mbits(r, 128).map(|(b, rest)| (a, b, rest)),
        None if bits == 16 => None, // a bare number
        None => Some((a, bits, rest)),
    }
}

fn mask6(bits: u32) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits.min(128))
    }
}

/// Whether `a` has bits set below a `bits`-long prefix.
pub(crate) fn host_bits6(a: u128, bits: u32) -> bool {
    a & !mask6(bits) != 0
}

/// Last address of the `bits`-long prefix at `a`.
pub(crate) fn last6(a: u128, bits: u32) -> u128 {
    a | !mask6(bits)
}

/// Splits `a..=b` into the blocks rbldnsd's ip4set stores: runs of /32s
/// inside one /24, of /24s inside one /16, of /16s inside one /8, and /8s.
/// Calls `emit(first, last, level)` with level 32, 24, 16 or 8; a run that
/// fills its whole parent block is emitted at the parent's level, as
/// rbldnsd does.
pub(crate) fn split_ip4set(a: u32, b: u32, mut emit: impl FnMut(u32, u32, u32)) {
    let (mut a, mut b) = (u64::from(a), u64::from(b));
    let mut out = |first: u64, last: u64, level: u32| {
        if let (Ok(f), Ok(l)) = (u32::try_from(first), u32::try_from(last)) {
            emit(f, l, level);
        }
    };
    for shift in [0u32, 8, 16] {
        let level = 32 - shift;
        if a > b {
            return;
        }
        if (a | 255) >= b {
            let lvl = if b - a == 255 { level - 8 } else { level };
            out(a << shift, ((b + 1) << shift) - 1, lvl);
            return;
        }
        if a & 255 != 0 {
            out(a << shift, (((a | 255) + 1) << shift) - 1, level);
            a = (a >> 8) + 1;
        } else {
            a >>= 8;
        }
        if b & 255 != 255 {
            out((b & !255) << shift, ((b + 1) << shift) - 1, level);
            b = (b >> 8) - 1;
        } else {
            b >>= 8;
        }
    }
    if a <= b {
        out(a << 24, ((b + 1) << 24) - 1, 8);
    }
}

/// IPv6 text as rbldnsd's `ip6atos` writes it for `$`: lowercase hex
/// groups, the longest run of two or more zero groups (the first on a tie)
/// as `::`, never the dotted IPv4 tail Rust's Display uses.
pub(crate) fn ip6_text(a: u128, out: &mut Vec<u8>) {
    let g: [u16; 8] = std::array::from_fn(|k| (a >> (112 - 16 * k)) as u16);
    let (mut best, mut best_len) = (8usize, 0usize);
    let mut k = 0;
    while k < 8 {
        let run = g.iter().skip(k).take_while(|&&x| x == 0).count();
        if run > 1 && run > best_len {
            (best, best_len) = (k, run);
        }
        k += run.max(1);
    }
    use std::io::Write;
    let mut k = 0;
    while k < 8 {
        if k == best {
            out.extend_from_slice(b"::");
            k += best_len;
            continue;
        }
        let _ = write!(out, "{:x}", g.get(k).copied().unwrap_or(0));
        k += 1;
        if k < 8 && k != best {
            out.push(b':');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> (u32, u32) {
        let (a, b, _, rest) = range4(s.as_bytes()).unwrap();
        assert!(rest.is_empty(), "{s}");
        (a, b)
    }

    #[test]
    fn ip4set_examples_from_the_manual() {
        // rbldnsd(8) ip4set: all of these "specify 127.0.0.0/24" (the
        // manual also lists "127-127.0.0", which rbldnsd 1.0~20210120
        // itself refuses as "invalid address"; depeer does as rbldnsd does).
        assert!(range4(b"127-127.0.0").is_none());
        for s in [
            "127.0.0.0/24",
            "127.0.0",
            "127/24",
            "127.0.0.0-127.0.0.255",
            "127.0.0.1-255",
        ] {
            let (a, b) = r(s);
            assert_eq!(b, 0x7f00_00ff, "{s}");
            assert!(a == 0x7f00_0000 || a == 0x7f00_0001, "{s}");
        }
        // "to specify 127.16.0.0-127.31.255.255"
        for s in [
            "127.16.0.0-127.31.255.255",
            "127.16.0-127.31.255",
            "127.16-127.31",
            "127.16-31",
            "127.16.0.0/12",
            "127.16.0/12",
            "127.16/12",
        ] {
            assert_eq!(r(s), (0x7f10_0000, 0x7f1f_ffff), "{s}");
        }
        assert!(range4(b"127").is_none());
        assert!(range4(b"1.2-1.2.3.4").is_none());
        assert!(range4(b"1.2.3.9-1.2.3.4").is_none());
        assert!(range4(b"256.1.1.1").is_none());
    }

    #[test]
    fn split_matches_rbldnsd_levels() {
        let mut got = Vec::new();
        split_ip4set(0x0102_0305, 0x0102_0407, |a, b, l| got.push((a, b, l)));
        assert_eq!(
            got,
            vec![
                (0x0102_0305, 0x0102_03ff, 32),
                (0x0102_0400, 0x0102_0407, 32)
            ]
        );
        got.clear();
        split_ip4set(0x7f10_0000, 0x7f1f_ffff, |a, b, l| got.push((a, b, l)));
        assert_eq!(got, vec![(0x7f10_0000, 0x7f1f_ffff, 16)]);
        got.clear();
        split_ip4set(0x0a00_0000, 0x0aff_ffff, |a, b, l| got.push((a, b, l)));
        assert_eq!(got, vec![(0x0a00_0000, 0x0aff_ffff, 8)]);
        got.clear();
        split_ip4set(0, u32::MAX, |a, b, l| got.push((a, b, l)));
        assert_eq!(got, vec![(0, u32::MAX, 8)]);
    }

    #[test]
    fn ip6_prefixes_from_the_manual() {
        let (a, bits, _) = cidr6(b"2001:21ab:c000/36").unwrap();
        assert_eq!((a >> 80, bits), (0x2001_21ab_c000, 36));
        let (_, bits, _) = cidr6(b"2001:21ab:def7:4242").unwrap();
        assert_eq!(bits, 64);
        let (a, bits, _) = cidr6(b"2605:6001:42::/52").unwrap();
        assert_eq!((a >> 80, bits), (0x2605_6001_0042, 52));
        assert_eq!(cidr6(b"::1").unwrap().0, 1);
        assert!(cidr6(b"2001").is_none());
        assert!(cidr6(b"2001:db8:").is_none());
        let (a, bits, rest) = cidr6(b"::ffff:7f00:2 :3:x").unwrap();
        assert_eq!((a, bits, rest), (0xffff_7f00_0002, 128, &b" :3:x"[..]));
    }

    #[test]
    fn ip6_text_like_ip6atos() {
        let t = |a: u128| {
            let mut o = Vec::new();
            ip6_text(a, &mut o);
            String::from_utf8(o).unwrap()
        };
        assert_eq!(t(1), "::1");
        assert_eq!(t(0), "::");
        assert_eq!(t(0xffff_7f00_0002), "::ffff:7f00:2");
        assert_eq!(
            t(0x2001_0db8_0000_0000_0001_0000_0000_0001),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(t(0x2001_0db8_0000_0000_0000_0000_0000_0000), "2001:db8::");
        assert_eq!(
            t(0x2001_0db8_0001_0001_0001_0001_0001_0001),
            "2001:db8:1:1:1:1:1:1"
        );
    }
}
