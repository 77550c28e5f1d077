//! Address fields (`From:`, `To:`), RFC 5322 section 3.4: the plain
//! shapes of bulk mail without mail-parser's address state machine, and
//! the first address depeer stores, including the quoted local part that
//! mail-parser takes for a display name.

use std::borrow::Cow;

use mail_parser::{Addr, Address, HeaderName, HeaderValue, Message};

use super::{byte_class, clean, in_class, raw_field, single_line};

/// Bytes allowed in an address in [`plain_address`]: printable ASCII
/// without blanks and without the bytes that make address syntax (angle
/// brackets, quotes, comments, lists, groups, routes, quoting, `=` of
/// encoded words).
pub(in crate::extract) static PLAIN_ADDR: [bool; 256] = byte_class(0x21, 0x7e, b"<>\"()[],;:\\=");

/// Bytes allowed in a quoted display name in [`plain_address`]: printable
/// ASCII and space, without quotes, backslashes, `=`, parentheses and
/// angle brackets.
pub(in crate::extract) static PLAIN_QUOTED_NAME: [bool; 256] = byte_class(0x20, 0x7e, b"\"\\=()<>");

/// The first address of an address list, trimmed, at most 512 bytes.
pub(in crate::extract) fn first_addr(a: Option<&Address<'_>>) -> Option<String> {
    a.and_then(|a| a.iter().find_map(|x| x.address()))
        .and_then(|s| clean(s, 512))
}

/// The first `From:` address. `From: "x@bank.example"@evil.example` is a
/// quoted local part, which mail-parser takes for a display name, leaving
/// `@evil.example`; phishing uses the form, so it is kept whole.
pub(in crate::extract) fn from_addr(msg: &Message<'_>) -> Option<String> {
    first_addr(msg.from()).map(|a| {
        if a.starts_with('@') {
            raw_field(msg, HeaderName::From)
                .and_then(quoted_local_part)
                .and_then(|q| clean(&q, 512))
                .unwrap_or(a)
        } else {
            a
        }
    })
}

/// `"local part"@domain` as a whole field value (the addr-spec of RFC 5322
/// with a quoted-string local part, no display name, no angle brackets),
/// as written; `None` for any other shape.
fn quoted_local_part(value: &[u8]) -> Option<String> {
    let v = value.trim_ascii();
    let rest = v.strip_prefix(b"\"")?;
    let close = memchr::memchr(b'"', rest)?;
    let local = rest.get(..close)?;
    let domain = rest.get(close + 1..)?.strip_prefix(b"@")?;
    let ok_local = local
        .iter()
        .all(|&b| b != b'\\' && b != b'\r' && b != b'\n');
    let ok_domain = !domain.is_empty()
        && domain
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !(ok_local && ok_domain) {
        return None;
    }
    let mut out = String::with_capacity(v.len());
    out.push('"');
    out.push_str(&String::from_utf8_lossy(local));
    out.push_str("\"@");
    out.push_str(&String::from_utf8_lossy(domain));
    Some(out)
}

/// mail-parser's `parse_address` for the three shapes nearly every `From:`
/// and `To:` of bulk mail has, on one line: `"Display Name" <addr>`,
/// `Display Name <addr>` (letters, digits, spaces, `.`, `-`, `_`) and
/// `<addr>` or a bare `addr` with an `@`. The display name is kept as
/// mail-parser keeps it (inner blanks as written; `""` gives none).
/// `None` for anything else (encoded words, comments, lists, groups,
/// escapes, folding, non-ASCII): mail-parser parses those.
pub(in crate::extract) fn plain_address(value: &[u8]) -> Option<HeaderValue<'_>> {
    let v = single_line(value)?;
    fn text(b: &[u8]) -> Option<Cow<'_, str>> {
        std::str::from_utf8(b).ok().map(Cow::Borrowed)
    }
    fn non_empty(name: &[u8]) -> Option<&[u8]> {
        (!name.is_empty()).then_some(name)
    }
    let (name, addr) = if let Some(rest) = v.strip_prefix(b"\"") {
        let close = memchr::memchr(b'"', rest)?;
        let name = rest.get(..close)?;
        let after = rest.get(close + 1..)?.trim_ascii_start();
        let addr = after.strip_prefix(b"<")?.strip_suffix(b">")?;
        if !name.iter().all(|&b| in_class(&PLAIN_QUOTED_NAME, b)) {
            return None;
        }
        (non_empty(name), addr)
    } else if let Some(lt) = memchr::memchr(b'<', v) {
        let name = v.get(..lt)?.trim_ascii_end();
        let addr = v.get(lt + 1..)?.strip_suffix(b">")?;
        if !name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b'-' | b'_'))
        {
            return None;
        }
        (non_empty(name), addr)
    } else {
        memchr::memchr(b'@', v)?;
        (None, v)
    };
    if addr.is_empty() || !addr.iter().all(|&b| in_class(&PLAIN_ADDR, b)) {
        return None;
    }
    let name = match name {
        Some(n) => Some(text(n)?),
        None => None,
    };
    Some(HeaderValue::Address(Address::List(vec![Addr {
        name,
        address: Some(text(addr)?),
    }])))
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{Next, check, push_pieces};
    use super::*;
    use crate::TrustConfig;
    use crate::extract::Extractor;
    use crate::extract::tests::ctx;

    #[test]
    fn quoted_local_parts_are_kept() {
        let trust = TrustConfig::default();
        let mut ex = Extractor::new();
        for (from, want) in [
            (
                "\" security@lloydstsb.com \"@finzioni.com",
                Some("\" security@lloydstsb.com \"@finzioni.com"),
            ),
            (
                "\"a@b.example\"@relay.example",
                Some("\"a@b.example\"@relay.example"),
            ),
            ("\"Name\" <x@y.example>", Some("x@y.example")),
            ("x@y.example", Some("x@y.example")),
        ] {
            let raw = format!("From: {from}\nSubject: s\n\nbody\n");
            let m = ex.extract(raw.as_bytes(), &ctx(&trust)).unwrap();
            assert_eq!(m.message.from_addr.as_deref(), want, "{from}");
        }
        assert_eq!(quoted_local_part(b" \"a\\\"b\"@x.example"), None);
        assert_eq!(quoted_local_part(b"\"a\"@"), None);
        assert_eq!(quoted_local_part(b"\"a\"@x y"), None);
    }

    /// Whenever `plain_address` answers, mail-parser's `parse_address`
    /// gives the same value and stops at the end of the field, on random
    /// values built from the pieces address syntax is made of.
    #[test]
    fn plain_address_equals_mail_parser() {
        let pieces: &[&[u8]] = &[
            b"\"",
            b"<",
            b">",
            b"@",
            b" ",
            b"\t",
            b"a",
            b"Bob",
            b"x.y",
            b"-",
            b"_",
            b".",
            b",",
            b";",
            b":",
            b"(",
            b")",
            b"\\",
            b"=?utf-8?q?x?=",
            b"=",
            b"[",
            b"]",
            b"'",
            b"\xc3\xa9",
            b"example.com",
            b"\r",
            b"\n ",
            b"!",
            b"#",
            b"%",
            b"+",
        ];
        let shapes: &[&[u8]] = &[
            b" \"N\" <A>",
            b" N <A>",
            b" <A>",
            b" A",
            b"N<A>",
            b" \"N\"<A> ",
        ];
        let make = |next: Next<'_>| {
            let shape = shapes[next(shapes.len())];
            let mut v = Vec::new();
            for &c in shape {
                match c {
                    b'N' | b'A' => {
                        push_pieces(&mut v, pieces, 5, next);
                        if c == b'A' && next(3) > 0 {
                            v.extend_from_slice(b"u@example.com");
                        }
                    }
                    _ => v.push(c),
                }
            }
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b"\r\n" });
            Some(v)
        };
        let answered = check(0x853C_49E6_748F_EA9B, 200_000, make, plain_address, |st| {
            st.parse_address()
        });
        assert!(answered > 10_000, "{answered}");
    }

    #[test]
    fn byte_classes_are_the_listed_ones() {
        for b in 0u8..=255 {
            let addr = (0x21..0x7f).contains(&b) && !b"<>\"()[],;:\\=".contains(&b);
            let name = (0x20..0x7f).contains(&b) && !b"\"\\=()<>".contains(&b);
            assert_eq!(in_class(&PLAIN_ADDR, b), addr, "{b}");
            assert_eq!(in_class(&PLAIN_QUOTED_NAME, b), name, "{b}");
        }
    }
}
