//! Unstructured fields (`Subject:`, `Content-Description:`), RFC 5322
//! section 3.2.5 with RFC 2047 encoded words: the plain value without
//! encoded words, and the Subject depeer stores, including the encoded
//! words ratware glues to the text around them.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderName, HeaderValue, Message};

use super::{clean, raw_field};
use crate::extract::find_pair;

/// The Subject depeer stores: [`glued_encoded_words`] where they apply,
/// else mail-parser's decoded value; trimmed, at most 2,000 bytes.
pub(in crate::extract) fn subject(msg: &Message<'_>) -> Option<String> {
    raw_field(msg, HeaderName::Subject)
        .and_then(glued_encoded_words)
        .and_then(|s| clean(&s, 2000))
        .or_else(|| msg.subject().and_then(|s| clean(s, 2000)))
}

/// mail-parser's `parse_unstructured` for a field value without encoded
/// words: each line trimmed of spaces, tabs and CRs, the non-empty ones
/// joined by one space. `None` when the value holds `=?` (a possible
/// RFC 2047 word: mail-parser decodes it).
pub(in crate::extract) fn plain_unstructured(value: &[u8]) -> Option<HeaderValue<'_>> {
    if find_pair(value, b'=', b'?').is_some() {
        return None;
    }
    fn trim(l: &[u8]) -> &[u8] {
        let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let a = l.iter().position(|b| !ws(b)).unwrap_or(l.len());
        let z = l.iter().rposition(|b| !ws(b)).map_or(a, |i| i + 1);
        l.get(a..z).unwrap_or_default()
    }
    let body = value.strip_suffix(b"\n").unwrap_or(value);
    let mut lines = body
        .split(|&b| b == b'\n')
        .map(trim)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Some(HeaderValue::Empty);
    };
    let Some(second) = lines.next() else {
        return Some(HeaderValue::Text(String::from_utf8_lossy(first)));
    };
    let mut out = String::from_utf8_lossy(first).into_owned();
    for l in std::iter::once(second).chain(lines) {
        out.push(' ');
        out.push_str(&String::from_utf8_lossy(l));
    }
    Some(HeaderValue::Text(Cow::Owned(out)))
}

/// The decoded value of an unstructured field in which ratware glued an
/// RFC 2047 encoded word to the text after or before it
/// (`=?UTF-8?B?…Da?=y, you`, `V=?UTF-8?B?w6lyaWZpZXo=?=`); `None` for any
/// other value, which mail-parser decodes.
///
/// RFC 2047 wants white space around encoded words; mail-parser reads the
/// glued text as a separate token and joins the two with a space (`…Da
/// y, you`), while Python's `email` and mail clients show `…Day, you`.
/// Here each encoded word is decoded with mail-parser's own decoder and the
/// text around it is kept as written: white space between two encoded
/// words is dropped (RFC 2047, 6.2), runs of white space elsewhere become
/// one space, as mail-parser does.
fn glued_encoded_words(value: &[u8]) -> Option<String> {
    let glued_after = memchr::memmem::find_iter(value, b"?=").any(|i| {
        value
            .get(i + 2)
            .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'=')
    });
    let glued_before = || {
        memchr::memmem::find_iter(value, b"=?").any(|i| {
            i.checked_sub(1)
                .and_then(|j| value.get(j))
                .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'=')
        })
    };
    let glued = glued_after || glued_before();
    if !glued || memchr::memmem::find(value, b"=?").is_none() {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut text: Vec<u8> = Vec::new();
    let mut after_word = false;
    let mut pos = 0usize;
    let flush_text = |out: &mut String, text: &mut Vec<u8>, drop_blank: bool| {
        if !(drop_blank && text.iter().all(u8::is_ascii_whitespace)) {
            out.push_str(&String::from_utf8_lossy(text));
        }
        text.clear();
    };
    while pos < value.len() {
        let at = pos + memchr::memmem::find(value.get(pos..)?, b"=?").unwrap_or(value.len() - pos);
        push_collapsed(&mut text, value.get(pos..at)?);
        if at >= value.len() {
            break;
        }
        let mut stream = MessageStream::new(value.get(at + 1..)?);
        match stream.decode_rfc2047() {
            Some(word) => {
                flush_text(&mut out, &mut text, after_word);
                out.push_str(&word);
                after_word = true;
                pos = at + 1 + stream.offset();
            }
            None => {
                text.extend_from_slice(b"=?");
                after_word = false;
                pos = at + 2;
            }
        }
    }
    flush_text(&mut out, &mut text, false);
    let out = out.trim();
    (!out.is_empty()).then(|| out.to_string())
}

/// Appends `b` with line breaks removed and runs of white space as one space.
fn push_collapsed(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        if c.is_ascii_whitespace() {
            if out.last().is_some_and(|&l| l != b' ') || out.is_empty() {
                out.push(b' ');
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustConfig;
    use crate::extract::extract;
    use crate::extract::tests::ctx;

    #[test]
    fn an_encoded_word_glued_to_text_is_read_as_written() {
        let subject = |v: &str| {
            let raw = format!("From: a@b.example\nSubject:{v}\n\nbody\n");
            let trust = TrustConfig::default();
            extract(raw.as_bytes(), &ctx(&trust))
                .unwrap()
                .message
                .subject
        };
        for (value, want) in [
            // "$1/Da" + "y, phishing@pot": no space inserted.
            (
                " =?UTF-8?B?Rm9yICQxL0Rh?=y, phishing@pot",
                "For $1/Day, phishing@pot",
            ),
            // Two words separated by white space, then glued text.
            (
                " =?utf-8?q?V?=\n =?utf-8?q?=C3=A9rifiez?=z  now",
                "Vérifiezz now",
            ),
            // Glued before: "V" + "érifiez".
            (
                " V=?UTF-8?B?w6lyaWZpZXo=?= vos droits",
                "Vérifiez vos droits",
            ),
            // Not glued: mail-parser's reading, unchanged.
            (" =?utf-8?q?caf=C3=A9?= au lait", "café au lait"),
        ] {
            assert_eq!(subject(value).as_deref(), Some(want), "{value}");
        }
        assert_eq!(glued_encoded_words(b" =?utf-8?q?caf=C3=A9?= au lait"), None);
        // A broken encoded word stays text.
        assert_eq!(
            glued_encoded_words(b"=?x?=y =?utf-8?q?a?=b").as_deref(),
            Some("=?x?=y ab")
        );
    }

    #[test]
    fn plain_unstructured_joins_lines_and_leaves_encoded_words() {
        let text = |v: &[u8]| match plain_unstructured(v) {
            Some(HeaderValue::Text(t)) => Some(t.into_owned()),
            Some(HeaderValue::Empty) => Some(String::new()),
            _ => None,
        };
        assert_eq!(text(b" a  b \r\n\t c\r\n").as_deref(), Some("a  b c"));
        assert_eq!(text(b" \r\n").as_deref(), Some(""));
        assert_eq!(text(b" =?utf-8?q?x?=\n"), None);
        // Compared with mail-parser's own parser.
        for v in [&b" a  b \r\n\t c\r\n"[..], b" x\n", b"\t\n \n"] {
            let mut st = MessageStream::new(v);
            assert_eq!(plain_unstructured(v), Some(st.parse_unstructured()));
        }
    }
}
