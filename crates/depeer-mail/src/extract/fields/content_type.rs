//! The `Content-Type:` field, RFC 2045 section 5.1: `type/subtype` with
//! plain parameters, without mail-parser's content-type parser (it runs
//! on the top level and on every part of a multipart).

use std::borrow::Cow;

use mail_parser::{Attribute, ContentType, HeaderValue};

use super::address::PLAIN_QUOTED_NAME;
use super::in_class;
use crate::extract::find_pair;

/// Bytes of a MIME type, subtype or parameter name in
/// [`plain_content_type`] (no `*`: RFC 2231 parameters go to mail-parser).
fn mime_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+' | b'_')
}

/// Bytes of an unquoted parameter value in [`plain_content_type`].
fn mime_value_byte(b: u8) -> bool {
    mime_token_byte(b) || b == b'/'
}

/// ASCII-lowercased text, borrowed when it is lowercase already.
fn lower_cow(b: &[u8]) -> Option<Cow<'_, str>> {
    let s = std::str::from_utf8(b).ok()?;
    Some(if b.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    })
}

/// The index after the blanks at `v[i..]`.
fn skip_ws(v: &[u8], mut i: usize) -> usize {
    while v.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The index after the bytes at `v[i..]` that `ok` accepts.
fn token_end(v: &[u8], i: usize, ok: fn(u8) -> bool) -> usize {
    i + v
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| ok(b))
        .count()
}

/// mail-parser's `parse_content_type` for the plain form: `type/subtype`
/// and `; name=value` or `; name="value"` parameters, blanks and folding
/// only between them, type, subtype and names lowercased as mail-parser
/// does. `None` for anything else (comments, RFC 2231 parameters, encoded
/// words, escapes, empty values, blanks around `=`, non-ASCII).
pub(in crate::extract) fn plain_content_type(value: &[u8]) -> Option<HeaderValue<'_>> {
    let v = value.trim_ascii();
    let slash = token_end(v, 0, mime_token_byte);
    if slash == 0 || v.get(slash) != Some(&b'/') {
        return None;
    }
    let sub_end = token_end(v, slash + 1, mime_token_byte);
    if sub_end == slash + 1 {
        return None;
    }
    let c_type = lower_cow(v.get(..slash)?)?;
    let c_subtype = lower_cow(v.get(slash + 1..sub_end)?)?;
    let mut attributes: Vec<Attribute<'_>> = Vec::new();
    let mut i = sub_end;
    loop {
        i = skip_ws(v, i);
        if i >= v.len() {
            break;
        }
        if v.get(i) != Some(&b';') {
            return None;
        }
        i = skip_ws(v, i + 1);
        if i >= v.len() {
            break;
        }
        let (attribute, next) = parameter(v, i)?;
        attributes.push(attribute);
        i = next;
    }
    Some(HeaderValue::ContentType(ContentType {
        c_type,
        c_subtype: Some(c_subtype),
        attributes: if attributes.is_empty() {
            None
        } else {
            Some(attributes)
        },
    }))
}

/// The plain parameter `name=value` or `name="value"` at `v[i..]`, and the
/// index after it.
fn parameter(v: &[u8], i: usize) -> Option<(Attribute<'_>, usize)> {
    let name_end = token_end(v, i, mime_token_byte);
    if name_end == i || v.get(name_end) != Some(&b'=') {
        return None;
    }
    let name = lower_cow(v.get(i..name_end)?)?;
    let (value, next) = if v.get(name_end + 1) == Some(&b'"') {
        let rest = v.get(name_end + 2..)?;
        let close = memchr::memchr(b'"', rest)?;
        let inner = rest.get(..close)?;
        if !inner
            .iter()
            .all(|&b| in_class(&PLAIN_QUOTED_NAME, b) || b == b'=')
            || find_pair(inner, b'=', b'?').is_some()
        {
            return None;
        }
        (inner, name_end + 2 + close + 1)
    } else {
        let end = token_end(v, name_end + 1, mime_value_byte);
        (v.get(name_end + 1..end)?, end)
    };
    if value.is_empty() {
        return None;
    }
    let attribute = Attribute {
        name,
        value: Cow::Borrowed(std::str::from_utf8(value).ok()?),
    };
    Some((attribute, next))
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{Next, check, push_pieces};
    use super::*;

    /// Whenever `plain_content_type` answers, mail-parser gives the same
    /// value and stops at the end of the field, on random values built from
    /// the pieces of content-type syntax.
    #[test]
    fn plain_content_type_equals_mail_parser() {
        let pieces: &[&[u8]] = &[
            b"text",
            b"/",
            b"html",
            b"Plain",
            b"multipart",
            b";",
            b" ",
            b"\t",
            b"\n\t",
            b"\r\n ",
            b"charset",
            b"=",
            b"\"",
            b"us-ascii",
            b"ISO-8859-1",
            b"boundary",
            b"----=_Next",
            b"=?",
            b"*",
            b"(",
            b")",
            b"\\",
            b"'",
            b"x.y",
            b"\xc3\xa9",
            b",",
            b"name*0",
            b"\"\"",
            b"Charset",
            b"FORMAT",
            b"; charset=",
            b"; Charset=\"x\"",
        ];
        let starts: &[&[u8]] = &[
            b" text/html; charset=\"",
            b" text/plain; charset=",
            b" multipart/alternative;\n\tboundary=\"",
            b" Text/HTML",
            b" ",
        ];
        let make = |next: Next<'_>| {
            let mut v = starts[next(starts.len())].to_vec();
            push_pieces(&mut v, pieces, 6, next);
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b"\r\n" });
            // Only whole fields: a line break must be followed by a blank.
            let body = &v[..v.len() - 1];
            if body
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && !matches!(v.get(i + 1), Some(b' ' | b'\t')))
            {
                return None;
            }
            Some(v)
        };
        let answered = check(
            0x2F1E_4A5C_0D3B_9E87,
            200_000,
            make,
            plain_content_type,
            |st| st.parse_content_type(),
        );
        assert!(answered > 10_000, "{answered}");
    }
}
