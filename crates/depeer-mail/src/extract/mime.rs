//! The lean MIME walk: the structure of a message (RFC 2045, RFC 2046
//! section 5.1) walked as mail-parser's `MessageParser::parse_` walks it,
//! for the shapes nearly all spam has: a single text part, and multiparts
//! (`mixed`, `alternative`, `related`, nested) whose leaves are text or
//! binary parts. Only the decoded text parts are kept.
//!
//! Why depeer owns it: mail-parser's public API parses a whole message and
//! decodes every part: attachments are base64-decoded although depeer never
//! reads them, and every text part is converted character by character
//! through its charset table even when it is ASCII. This walk runs
//! mail-parser's own steps (its header and boundary parsers, its transfer
//! and charset decoders, through `MessageStream`) and differs only where
//! the result cannot change:
//!
//! * the charset conversion is skipped when the bytes are ASCII in an
//!   ASCII-compatible charset ([`super::charset`]);
//! * a binary part is not decoded: its end is found with the same first
//!   `--boundary` mail-parser's byte loop finds, and a base64 body is only
//!   checked against the alphabet mail-parser's decoder accepts (an invalid
//!   one falls back, because mail-parser then turns the part into text);
//! * quoted-printable and plain base64 bodies use depeer's decoders, which
//!   give the same bytes ([`super::body`], [`super::base64`]).
//!
//! Anything else (`message/*`, `multipart/digest`, a multipart without a
//! boundary or whose boundary never occurs, encoding errors, a part without
//! headers, bytes after a single part) gives `None` and the caller uses
//! `MessageParser::parse`. The test
//! `real_mail_tests::fast_path_equals_mail_parser_on_real_mail` checks that
//! both give identical observations on every real message, and that most
//! take this path.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{
    ContentType, Encoding, GetHeader, Header, HeaderName, HeaderValue, Message, MessageParser,
    MessagePart, PartType,
};

use super::base64::{base64_accepted, plain_base64};
use super::body::{base64_part, find_delimiter, qp_part};
use super::charset::part_text;
use super::header::lean_headers;

/// Text parts found by the lean walk: decoded text and whether it is HTML.
pub(super) type LeanTexts<'x> = Vec<(Cow<'x, str>, bool)>;

/// [`lean_parse_indexed`] without indexed line feeds, unbounded (as
/// mail-parser reads fields): the form the tests compare with mail-parser.
#[cfg(test)]
pub(super) fn lean_parse<'x>(
    parser: &MessageParser,
    raw: &'x [u8],
) -> Option<(Message<'x>, LeanTexts<'x>)> {
    lean_parse_indexed(parser, raw, None, false)
}

/// The top-level part of `raw` (headers only, as a `Message` for the field
/// accessors) and its decoded text parts; `None` when the walk does not
/// apply (see the module header). `nl` holds the line feeds of `raw`'s
/// header block when known ([`crate::headers::index_header`]).
pub(super) fn lean_parse_indexed<'x>(
    parser: &MessageParser,
    raw: &'x [u8],
    nl: Option<&[u32]>,
    bounded: bool,
) -> Option<(Message<'x>, LeanTexts<'x>)> {
    let mut stream = MessageStream::new(raw);
    let mut headers = Vec::new();
    match lean_headers(raw, 0, nl, bounded, &mut headers) {
        Some(body) => stream.skip_bytes(body),
        None => {
            if !stream.parse_headers(parser, &mut headers) {
                return None;
            }
        }
    }
    let offset_body = stream.offset();
    let content_type = headers
        .header_value(&HeaderName::ContentType)
        .and_then(|c| c.as_content_type());
    let mut texts = Vec::new();
    let (encoding, offset_end) = match content_type {
        Some(ct) if ct.ctype() == "multipart" => {
            if ct.subtype() == Some("digest") {
                return None;
            }
            let boundary = ct.attribute("boundary")?.as_bytes().to_vec();
            multipart(parser, &mut stream, boundary, bounded, &mut texts)?;
            (Encoding::None, raw.len())
        }
        // mail-parser's `mime_type` for a top-level part: no type is text/plain.
        None => single_text(&mut stream, &headers, None, &mut texts)?,
        Some(ct) if ct.ctype() == "text" => {
            single_text(&mut stream, &headers, Some(ct), &mut texts)?
        }
        Some(_) => return None,
    };
    let part = MessagePart {
        headers,
        is_encoding_problem: false,
        body: PartType::Text(Cow::Borrowed("")),
        encoding,
        offset_header: 0,
        offset_body: u32::try_from(offset_body).unwrap_or(u32::MAX),
        offset_end: u32::try_from(offset_end).unwrap_or(u32::MAX),
    };
    let msg = Message {
        html_body: Vec::new(),
        text_body: Vec::new(),
        attachments: Vec::new(),
        parts: vec![part],
        raw_message: Cow::Borrowed(raw),
    };
    Some((msg, texts))
}

/// Whether a part's content type says HTML.
fn is_html(content_type: Option<&ContentType<'_>>) -> bool {
    content_type
        .and_then(|ct| ct.subtype())
        .is_some_and(|s| s.eq_ignore_ascii_case("html"))
}

/// A top-level text part: its decoded text goes to `texts`; returns the
/// transfer encoding and the end offset.
fn single_text<'x>(
    stream: &mut MessageStream<'x>,
    headers: &Vec<Header<'x>>,
    content_type: Option<&ContentType<'x>>,
    texts: &mut LeanTexts<'x>,
) -> Option<(Encoding, usize)> {
    let raw = stream.bytes(0..stream.len());
    let offset_body = stream.offset();
    let (encoding, (offset_end, bytes)) =
        match headers.header_value(&HeaderName::ContentTransferEncoding) {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => {
                let body = raw.get(offset_body..).unwrap_or_default();
                match plain_base64(body) {
                    // mail-parser's loop reads to the end (no boundary).
                    Some(decoded) => {
                        stream.seek_end();
                        (Encoding::Base64, (raw.len(), Cow::Owned(decoded)))
                    }
                    None => (Encoding::Base64, stream.decode_base64_mime(b"")),
                }
            }
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
                // Same bytes as mail-parser's decoder, several times faster.
                let body = raw.get(offset_body..).unwrap_or_default();
                let decoded = crate::quoted_printable::decode(body)?;
                stream.seek_end();
                (Encoding::QuotedPrintable, (raw.len(), Cow::Owned(decoded)))
            }
            _ => {
                // `mime_part(b"")`: everything to the end, without its byte loop.
                stream.seek_end();
                (
                    Encoding::None,
                    (raw.len(), Cow::Borrowed(raw.get(offset_body..)?)),
                )
            }
        };
    // An encoding problem, or bytes mail-parser would read as another part.
    if offset_end == usize::MAX || offset_end != raw.len() || stream.offset() < raw.len() {
        return None;
    }
    let charset = content_type.and_then(|ct| ct.attribute("charset"));
    texts.push((part_text(bytes, charset)?, is_html(content_type)));
    Some((encoding, offset_end))
}

/// A part's transfer encoding, as mail-parser reads it for a part.
fn part_encoding(headers: &Vec<Header<'_>>) -> Encoding {
    match headers.header_value(&HeaderName::ContentTransferEncoding) {
        Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => Encoding::Base64,
        Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
            Encoding::QuotedPrintable
        }
        _ => Encoding::None,
    }
}

/// The parts of a multipart whose first delimiter `stream` is before (as
/// mail-parser's `parse_` loop walks them); `None` for anything this path
/// does not reproduce exactly.
fn multipart<'x>(
    parser: &MessageParser,
    stream: &mut MessageStream<'x>,
    boundary: Vec<u8>,
    bounded: bool,
    texts: &mut LeanTexts<'x>,
) -> Option<()> {
    if !stream.seek_next_part(&boundary) {
        return None;
    }
    stream.skip_crlf();
    let mut stack = vec![boundary];
    let mut headers = Vec::new();
    // Each part (at most one per delimiter, so this ends).
    loop {
        headers.clear();
        let at = stream.offset();
        match lean_headers(
            stream.bytes(0..stream.len()),
            at,
            None,
            bounded,
            &mut headers,
        ) {
            Some(body) => stream.skip_bytes(body - at),
            None => {
                if !stream.parse_headers(parser, &mut headers) {
                    return None;
                }
            }
        }
        let boundary = stack.last()?;
        let content_type = headers
            .header_value(&HeaderName::ContentType)
            .and_then(|c| c.as_content_type());
        let is_text = match content_type {
            None => true,
            Some(ct) => match ct.ctype() {
                "multipart" => {
                    if ct.subtype() == Some("digest") {
                        return None;
                    }
                    let inner = ct.attribute("boundary")?.as_bytes().to_vec();
                    if !stream.seek_next_part(&inner) {
                        return None;
                    }
                    stack.push(inner);
                    stream.skip_crlf();
                    continue;
                }
                "message" => return None,
                "text" => true,
                _ => false,
            },
        };
        let encoding = part_encoding(&headers);
        if is_text {
            text_part(stream, boundary, encoding, content_type, texts)?;
        } else {
            skip_part(stream, boundary, encoding)?;
        }
        // After a part: the end of its multipart (and maybe of enclosing
        // ones), or the headers of the next part.
        while stream.is_multipart_end() {
            stack.pop();
            let Some(parent) = stack.last() else {
                // The end of the top-level multipart: mail-parser ignores
                // the epilogue.
                return Some(());
            };
            stream.seek_next_part_offset(parent)?;
        }
    }
}

/// A text part inside a multipart, decoded up to its delimiter; its text
/// goes to `texts`.
fn text_part<'x>(
    stream: &mut MessageStream<'x>,
    boundary: &[u8],
    encoding: Encoding,
    content_type: Option<&ContentType<'_>>,
    texts: &mut LeanTexts<'x>,
) -> Option<()> {
    let (end, bytes) = match encoding {
        Encoding::Base64 => match base64_part(stream, boundary) {
            Some((end, bytes)) => (end, Cow::Owned(bytes)),
            None => stream.decode_base64_mime(boundary),
        },
        Encoding::QuotedPrintable => match qp_part(stream, boundary) {
            Some((end, text)) => (end, Cow::Owned(text)),
            None => stream.decode_quoted_printable_mime(boundary),
        },
        Encoding::None => {
            let (start, _, end) = find_delimiter(stream, boundary)?;
            (end, Cow::Borrowed(stream.bytes(start..end)))
        }
    };
    if end == usize::MAX {
        return None;
    }
    let charset = content_type.and_then(|ct| ct.attribute("charset"));
    texts.push((part_text(bytes, charset)?, is_html(content_type)));
    Some(())
}

/// A binary part inside a multipart, skipped up to its delimiter without
/// decoding; `None` when mail-parser would reject its encoding (it then
/// turns the part into text).
fn skip_part(stream: &mut MessageStream<'_>, boundary: &[u8], encoding: Encoding) -> Option<()> {
    match encoding {
        Encoding::QuotedPrintable => {
            if stream.decode_quoted_printable_mime(boundary).0 == usize::MAX {
                return None;
            }
        }
        Encoding::Base64 => {
            let (start, at, _) = find_delimiter(stream, boundary)?;
            if !base64_accepted(stream.bytes(start..at)) {
                return None;
            }
        }
        Encoding::None => {
            find_delimiter(stream, boundary)?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;

    #[test]
    fn fast_path_takes_single_text_parts_only() {
        let p = Extractor::new().parser;
        let one = |raw: &[u8]| {
            lean_parse(&p, raw).and_then(|(_, mut t)| {
                let (t, h) = t.pop()?;
                Some((t.into_owned(), h))
            })
        };
        for (raw, text, html) in [
            (
                &b"Subject: x\nContent-Type: text/html; charset=iso-8859-1\n\n<b>hi</b>\n"[..],
                "<b>hi</b>\n",
                true,
            ),
            (
                b"Content-Transfer-Encoding: quoted-printable\n\nhttp://x.example/?a=3D1\n",
                "http://x.example/?a=1\n",
                false,
            ),
            (
                b"Content-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n",
                "caf\u{e9}\n",
                false,
            ),
            (
                b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n",
                "x",
                false,
            ),
        ] {
            assert_eq!(one(raw), Some((text.to_string(), html)));
        }
        // Nested, with a binary part that is not decoded.
        let nested = b"Content-Type: multipart/mixed; boundary=o\n\npre\n--o\n\
Content-Type: multipart/alternative; boundary=i\n\n--i\n\
Content-Type: text/plain\n\nplain\n--i\nContent-Type: text/html\n\
Content-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--i--\n--o\n\
Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n--o--\nepilogue\n";
        let texts: Vec<_> = lean_parse(&p, nested)
            .unwrap()
            .1
            .into_iter()
            .map(|(t, h)| (t.into_owned(), h))
            .collect();
        assert_eq!(
            texts,
            [
                ("plain".to_string(), false),
                ("<b>hi</b>".to_string(), true)
            ]
        );
        // An attachment mail-parser's base64 decoder rejects: fall back.
        let bad = b"Content-Type: multipart/mixed; boundary=o\n\n--o\n\
Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0l*GODlh\n--o--\n";
        assert!(lean_parse(&p, bad).is_none());
        assert!(lean_parse(&p, b"Content-Type: message/rfc822\n\nSubject: x\n\ny\n").is_none());
        assert_eq!(one(b"Content-Type: image/gif\n\nGIF89a"), None);
    }
}
