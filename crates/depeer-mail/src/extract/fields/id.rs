//! Message identifiers (`Message-ID:`, `Return-Path:`, `Content-ID:`),
//! RFC 5322 section 3.6.4: one `<id>` on one line without mail-parser's
//! id parser.

use std::borrow::Cow;

use mail_parser::HeaderValue;

use super::address::PLAIN_ADDR;
use super::{in_class, single_line};

/// mail-parser's `parse_id` for one `<id>` on one line (the form of nearly
/// every `Message-ID:`, `Return-Path:` and `Content-ID:`): the text
/// between the brackets. `None` for anything else (several ids, bare ids,
/// comments, blanks or syntax bytes inside, folding, non-ASCII).
pub(in crate::extract) fn plain_id(value: &[u8]) -> Option<HeaderValue<'_>> {
    let inner = single_line(value)?.strip_prefix(b"<")?.strip_suffix(b">")?;
    if inner.is_empty() || !inner.iter().all(|&b| in_class(&PLAIN_ADDR, b)) {
        return None;
    }
    Some(HeaderValue::Text(Cow::Borrowed(
        std::str::from_utf8(inner).ok()?,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{Next, check, push_pieces};
    use super::*;

    /// Whenever `plain_id` answers, mail-parser's parser gives the same
    /// value and stops at the end of the field, on random values near the
    /// shape ids take.
    #[test]
    fn plain_id_equals_mail_parser() {
        let id_pieces: &[&[u8]] = &[
            b"<",
            b">",
            b"@",
            b" ",
            b"\t",
            b"abc",
            b"1.2",
            b"$",
            b"-",
            b"\"",
            b"(",
            b")",
            b",",
            b"\\",
            b"=",
            b"[",
            b"]",
            b"\xc3\xa9",
            b"\r",
            b"\n ",
            b"x.example",
        ];
        let make = |next: Next<'_>| {
            let mut v = b" <".to_vec();
            push_pieces(&mut v, id_pieces, 5, next);
            if next(4) > 0 {
                v.push(b'>');
            }
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b" \r\n" });
            Some(v)
        };
        let ids = check(0xD1B5_4A32_D192_ED03, 100_000, make, plain_id, |st| {
            st.parse_id()
        });
        assert!(ids > 5_000, "{ids}");
    }
}
