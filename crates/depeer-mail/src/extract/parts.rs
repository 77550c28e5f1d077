//! The text of a message mail-parser parsed in full (the structures the
//! lean walk of [`super::mime`] leaves to it): every text and HTML part,
//! nested messages included, with the repairs mail clients and
//! SpamAssassin make and mail-parser does not:
//!
//! * a base64 part mail-parser rejected is decoded leniently
//!   ([`super::base64::lenient_base64`]), a quoted-printable part cut off
//!   before its delimiter is decoded as it says;
//! * a multipart without a boundary parameter is read as text;
//! * a multipart whose declared boundary never occurs is read with the
//!   boundary its body uses ([`recover_boundary`]).

use std::borrow::Cow;

use mail_parser::{Message, MimeHeaders, PartType};

use super::base64::lenient_base64;
use super::charset::part_text;
use crate::fingerprint::Fingerprinter;
use crate::url::UrlSet;

/// At most this many body bytes are searched for the boundary a
/// mismatched multipart really uses.
const RECOVER_SCAN: usize = 64 * 1024;

/// URLs and fingerprint words of one decoded text part.
pub(super) fn scan_part(text: &str, html: bool, urls: &mut UrlSet, fp: &mut Fingerprinter) {
    if html {
        urls.scan_html(text);
        fp.add_text(urls.rendered());
    } else {
        urls.scan_text(text);
        fp.add_text(text);
    }
}

/// Text and HTML of every part, nested messages included (mail-parser
/// limits encoded nesting to 3 levels). A part whose transfer encoding
/// mail-parser rejected is decoded again leniently (base64 with stray
/// characters, as SpamAssassin and MUAs accept it).
pub(super) fn walk_parts(msg: &Message<'_>, urls: &mut UrlSet, fp: &mut Fingerprinter) {
    for part in &msg.parts {
        let html_type = part
            .content_type()
            .is_some_and(|c| c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html")));
        let text = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t,
            PartType::Message(m) => {
                walk_parts(m, urls, fp);
                continue;
            }
            // A multipart without a boundary parameter (`Content-Type:
            // multipart/mixed;` cut after the `;`) is a binary part for
            // mail-parser; mail clients and SpamAssassin show its body as
            // text, so it is read as text here too.
            PartType::Binary(body)
                if part
                    .content_type()
                    .is_some_and(|c| c.ctype().eq_ignore_ascii_case("multipart")) =>
            {
                if !body.is_empty() {
                    scan_part(&String::from_utf8_lossy(body), false, urls, fp);
                }
                continue;
            }
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => continue,
        };
        let html = html_type || matches!(part.body, PartType::Html(_));
        let redecoded = if part.is_encoding_problem {
            redecode(msg, part)
        } else {
            None
        };
        scan_part(redecoded.as_deref().unwrap_or(text), html, urls, fp);
    }
}

/// The text of a part mail-parser flagged with an encoding problem,
/// decoded again: base64 leniently; quoted-printable as the part says
/// (mail-parser leaves it undecoded when its closing delimiter never comes,
/// a message cut off in its last part, and soft breaks would stay inside
/// URLs: "www.credit=\n unionsonline.com"). `None` keeps mail-parser's text.
fn redecode(msg: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let cte = part.content_transfer_encoding().map(str::trim);
    let raw = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default();
    if cte.is_some_and(|e| e.eq_ignore_ascii_case("base64")) {
        return Some(String::from_utf8_lossy(&lenient_base64(raw)).into_owned());
    }
    if !cte.is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable")) {
        return None;
    }
    let bytes = crate::quoted_printable::decode(raw)?;
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    part_text(Cow::Owned(bytes), charset).map(Cow::into_owned)
}

/// A copy of the message with the top-level boundary parameter replaced by
/// the boundary its body really uses, when the declared one never occurs.
///
/// Ratware sometimes declares one boundary and writes the parts with
/// another (`boundary="--=_HsWzsKVZkho"` over `----=_GlSzQZUbRbpVOpy`
/// lines). mail-parser then sees one empty multipart and every URL of the
/// message is lost; rspamd recovers the parts from the delimiter lines, and
/// so does this. The boundary taken is that of the first body line `--X`
/// (no white space in `X`) followed by a `Content-` header line. `None`
/// when the message is not multipart, the declared boundary occurs, or no
/// such line is found.
pub(super) fn recover_boundary(
    msg: &Message<'_>,
    raw: &[u8],
    header_len: usize,
) -> Option<Vec<u8>> {
    let ct = msg.parts.first()?.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return None;
    }
    let declared = ct.attribute("boundary")?.as_bytes();
    if declared.is_empty() {
        return None;
    }
    let body = raw.get(header_len..)?;
    let mut delim = Vec::with_capacity(declared.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(declared);
    if memchr::memmem::find(body, &delim).is_some() {
        return None;
    }
    let real = used_boundary(body.get(..body.len().min(RECOVER_SCAN)).unwrap_or(body))?;
    // The declared value inside the header, after `boundary=`.
    let header = raw.get(..header_len)?;
    let at = memchr::memmem::find_iter(header, declared).find(|&i| {
        header
            .get(..i)
            .map(|h| {
                h.trim_ascii_end()
                    .strip_suffix(b"\"")
                    .unwrap_or(h)
                    .trim_ascii_end()
            })
            .is_some_and(|h| h.ends_with(b"=") || h.ends_with(b"=\""))
    })?;
    let mut out = Vec::with_capacity(raw.len() + real.len());
    out.extend_from_slice(header.get(..at)?);
    out.extend_from_slice(real);
    out.extend_from_slice(raw.get(at + declared.len()..)?);
    Some(out)
}

/// The boundary of the first line `--X` of `scan` (`X` of 1 to 200 bytes
/// without white space or quotes) followed by a `Content-` header line.
fn used_boundary(scan: &[u8]) -> Option<&[u8]> {
    let mut lines = scan.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(cand) = line.strip_prefix(b"--") else {
            continue;
        };
        let cand = cand.trim_ascii_end();
        let next_is_header = lines.peek().is_some_and(|n| {
            n.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"content-"))
        });
        if (1..=200).contains(&cand.len())
            && !cand.iter().any(|b| b.is_ascii_whitespace() || *b == b'"')
            && next_is_header
        {
            return Some(cand);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;
    use crate::extract::tests::hosts;

    #[test]
    fn a_mismatched_boundary_is_recovered_from_the_body() {
        // Declared `--=_Hs`, written `----=_Gl`: mail-parser alone finds no
        // part; the body's own delimiter lines give the parts.
        let msg = |declared: &str| {
            format!(
                "From: a@b.example\n\
Subject: s\n\
MIME-Version: 1.0\n\
Content-Type: multipart/alternative;\n\tboundary=\"{declared}\"\n\n\
----=_Gl\n\
Content-Type: text/html;\n\
Content-Transfer-Encoding: base64\n\n\
PGEgaHJlZj0iaHR0cDovL2NhbG9yc29sYXIudGsvP3Y9MSI+eDwvYT4=\n\
----=_Gl--\n"
            )
        };
        assert_eq!(hosts(msg("--=_Hs").as_bytes()), ["calorsolar.tk"]);
        // The declared boundary written as declared: read as always.
        assert_eq!(hosts(msg("--=_Gl").as_bytes()), ["calorsolar.tk"]);
        // No delimiter line followed by a part header: no recovery.
        let plain =
            b"Content-Type: multipart/mixed; boundary=zz\n\n--not-a-boundary\nhttp://x.example/\n";
        let m = MessageParser::default().parse(plain).unwrap();
        let header_len = memchr::memmem::find(plain, b"\n\n").unwrap() + 2;
        assert!(recover_boundary(&m, plain, header_len).is_none());
        // The patched copy differs only in the boundary parameter.
        let raw = msg("--=_Hs");
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let header_len = raw.find("\n\n").unwrap() + 2;
        let patched = recover_boundary(&m, raw.as_bytes(), header_len).unwrap();
        assert_eq!(
            String::from_utf8(patched).unwrap(),
            raw.replace("boundary=\"--=_Hs\"", "boundary=\"--=_Gl\"")
        );
    }

    #[test]
    fn a_broken_base64_part_is_decoded_leniently() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\
Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n\
aHR0c*DovL2xlbmllbnQuZXhhbXBsZS8=\n--b--\n";
        assert_eq!(hosts(raw), ["lenient.example"]);
    }
}
