//! Hosts: normalisation (percent-decoding, case, trailing dot, IDN to
//! punycode), IPv4 written as browsers read it (WHATWG URL standard), and
//! the Public Suffix List (known top-level domains, registrable domains).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `label` (any case) is a known public suffix.
pub(super) fn known_suffix(label: &str) -> bool {
    let mut buf = [0u8; 64];
    match buf.get_mut(..label.len()) {
        Some(lower) => {
            lower.copy_from_slice(label.as_bytes());
            lower.make_ascii_lowercase();
            !lower.is_empty() && psl::suffix(lower).is_some_and(|s| s.is_known())
        }
        None => known_tld(&label.to_ascii_lowercase()),
    }
}

/// Whether the last label of `host` is a known public suffix.
pub(super) fn known_tld(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or_default();
    !last.is_empty() && psl::suffix(last.as_bytes()).is_some_and(|s| s.is_known())
}

pub(super) fn port_of(hostport: &str) -> Option<&str> {
    let after_bracket = match hostport.rfind(']') {
        Some(i) => hostport.get(i + 1..)?,
        None => hostport,
    };
    let (_, p) = after_bracket.rsplit_once(':')?;
    (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())).then_some(p)
}

/// Normalises a host (with optional port): percent-decoding, lowercasing,
/// trailing dot, IDN to punycode, browser-style numeric IPv4. Returns the
/// host and whether it is an IP literal; `None` for nothing usable
/// (including names without a dot).
pub fn normalize_host(hostport: &str) -> Option<(String, bool)> {
    let h = hostport.trim();
    if let Some(rest) = h.strip_prefix('[') {
        let inner = rest.split(']').next()?;
        let v6: Ipv6Addr = inner.parse().ok()?;
        return Some((v6.to_string(), true));
    }
    let h = match memchr::memrchr(b':', h.as_bytes()) {
        Some(i)
            if h.get(i + 1..)
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            h.get(..i)?
        }
        _ => h,
    };
    let decoded;
    let h = if h.contains('%') {
        decoded = percent_decode(h);
        decoded.as_str()
    } else {
        h
    };
    let h = h.trim_end_matches('.');
    if h.is_empty() || h.len() > 253 {
        return None;
    }
    let mut lower = if h.is_ascii() {
        h.to_ascii_lowercase()
    } else {
        // Non-ASCII: IDNA (UTS 46) to punycode; fullwidth dots etc. mapped.
        idna::domain_to_ascii(h).ok()?
    };
    // Trailing dots off in place (the name is returned without a copy).
    let keep = lower.trim_end_matches('.').len();
    lower.truncate(keep);
    if let Some(v4) = parse_numeric_ipv4(&lower) {
        return Some((v4.to_string(), true));
    }
    // Names without a dot ("http://localhost/", "http://nul") resolve
    // nowhere useful: not hosts.
    let lb = lower.as_bytes();
    let ok = memchr::memchr(b'.', lb).is_some()
        && lb
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !lower.starts_with('.')
        && !memchr::memchr_iter(b'.', lb).any(|i| lb.get(i + 1) == Some(&b'.'));
    ok.then_some((lower, false))
}

/// `a.b.c.d` with four decimal numbers of one to three digits.
pub(super) fn dotted_quad(host: &str) -> bool {
    let mut n = 0usize;
    let ok = host.split('.').all(|p| {
        n += 1;
        (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    });
    ok && n == 4
}

/// Reads a host the way the WHATWG URL standard (and so every browser)
/// reads an IPv4 address: one to four parts, each decimal, `0x` hex or
/// `0`-prefixed octal, the last part filling the remaining bytes.
pub fn parse_numeric_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    // The last part is decimal or 0x-hex, so it ends in a hex digit: most
    // names ("...com") stop here.
    if !host.as_bytes().last().is_some_and(u8::is_ascii_hexdigit) {
        return None;
    }
    let last = host.rsplit('.').next()?;
    let numeric_last = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || (last.len() > 2
                && last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last.get(2..)?.bytes().all(|b| b.is_ascii_hexdigit())));
    if !numeric_last {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut n = 0usize;
    for p in host.split('.') {
        let slot = parts.get_mut(n)?;
        *slot = parse_ipv4_part(p)?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let (head, tail) = parts.split_at(n - 1);
    if head.iter().any(|&p| p > 255) {
        return None;
    }
    let last = *tail.first()?;
    let room = 8 * (5 - n as u32);
    if room < 64 && last >= (1u64 << room) {
        return None;
    }
    let mut v: u64 = 0;
    for (k, &p) in head.iter().enumerate() {
        v |= p << (8 * (3 - k as u32));
    }
    v |= last;
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

fn parse_ipv4_part(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 12 {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (p.get(1..)?, 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Decodes `%XX` escapes (invalid escapes are kept); invalid UTF-8 becomes
/// U+FFFD.
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The registrable domain (eTLD+1 by the Public Suffix List) of a host;
/// `None` for IP literals and hosts that are themselves a public suffix.
pub fn registrable_domain(host: &str, is_ip: bool) -> Option<String> {
    if is_ip || host.parse::<IpAddr>().is_ok() {
        return None;
    }
    psl::domain_str(host).map(str::to_string)
}
