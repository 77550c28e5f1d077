//! The body of a part inside a multipart, up to its delimiter (RFC 2046
//! section 5.1.1): where it ends, and its quoted-printable or base64
//! decoding, each giving exactly the bytes, end offset and stream position
//! of mail-parser's `mime_part`, `decode_quoted_printable_mime` and
//! `decode_base64_mime`.
//!
//! Why depeer owns these: mail-parser's versions walk the body byte by
//! byte, looking for the delimiter while decoding; these find the delimiter
//! with `memchr` and decode with [`crate::quoted_printable`] and
//! [`super::base64`]. When a body is not in the plain case they answer
//! `None` with the stream unmoved, and mail-parser's decoder runs.

use mail_parser::parsers::MessageStream;

use super::base64::plain_base64;
use super::find_pair;

/// Position of the first `--boundary` at or after `start`.
pub(super) fn delimiter_at(data: &[u8], start: usize, boundary: &[u8]) -> Option<usize> {
    if boundary.is_empty() {
        return None;
    }
    let rest = data.get(start..)?;
    let mut from = 0usize;
    loop {
        let p = from + find_pair(rest.get(from..)?, b'-', b'-')?;
        if rest.get(p + 2..)?.starts_with(boundary) {
            return Some(start + p);
        }
        from = p + 1;
    }
}

/// mail-parser's end offset of a part whose delimiter is at `at`: before
/// the line break (LF or CRLF) that precedes the delimiter, if any.
fn part_end(data: &[u8], start: usize, at: usize) -> usize {
    if at > start && data.get(at - 1) == Some(&b'\n') {
        if at - 1 > start && data.get(at - 2) == Some(&b'\r') {
            at - 2
        } else {
            at - 1
        }
    } else {
        at
    }
}

/// mail-parser's `mime_part` boundary search without its byte loop: the
/// first `--boundary` after the stream position (its loop finds exactly
/// that one). Moves the stream past the boundary and returns the part's
/// start, the delimiter's position and mail-parser's end offset of the part
/// (before the line break that precedes the delimiter).
pub(super) fn find_delimiter(
    stream: &mut MessageStream<'_>,
    boundary: &[u8],
) -> Option<(usize, usize, usize)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    let end = part_end(data, start, at);
    stream.skip_bytes(at + 2 + boundary.len() - start);
    Some((start, at, end))
}

/// mail-parser's `decode_quoted_printable_mime` for a part inside a
/// multipart, with [`crate::quoted_printable::decode`]: that loop decodes
/// up to and including the first `-` of the delimiter, then drops that `-`
/// (and the line break before it, when there is one). `None` (the stream
/// unmoved) for the cases left to mail-parser: no delimiter, a `-` before
/// the delimiter, an encoding error, too little output to drop.
pub(super) fn qp_part(stream: &mut MessageStream<'_>, boundary: &[u8]) -> Option<(usize, Vec<u8>)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    if at > start && data.get(at - 1) == Some(&b'-') {
        return None;
    }
    let mut buf = crate::quoted_printable::decode(data.get(start..=at)?)?;
    let crlf = if memchr::memchr(b'\r', data.get(start..at)?).is_some() {
        2
    } else {
        1
    };
    let after_newline = at > start && data.get(at - 1) == Some(&b'\n');
    let drop = if after_newline { crlf + 1 } else { 1 };
    buf.truncate(buf.len().checked_sub(drop)?);
    let end = part_end(data, start, at);
    stream.skip_bytes(at + 2 + boundary.len() - start);
    Some((end, buf))
}

/// mail-parser's `decode_base64_mime` for a text part inside a multipart,
/// with [`plain_base64`]: a body without `-` ends at the first
/// `--boundary` (where that loop stops), and the end offset is the one
/// [`find_delimiter`] gives (as the loop computes it). `None` (the stream
/// unmoved) for everything else.
pub(super) fn base64_part(
    stream: &mut MessageStream<'_>,
    boundary: &[u8],
) -> Option<(usize, Vec<u8>)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    let body = data.get(start..at)?;
    if memchr::memchr(b'-', body).is_some() {
        return None;
    }
    let decoded = plain_base64(body)?;
    let (_, _, end) = find_delimiter(stream, boundary)?;
    Some((end, decoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::XorShift;

    /// `qp_part` and `find_delimiter` give mail-parser's bytes, end offset
    /// and stream position, on random inputs around a delimiter.
    #[test]
    fn part_decoders_equal_mail_parser_on_random_input() {
        let alphabet = b"=\r\n \t-AaF0b\xe9";
        let boundary = b"b-";
        let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
        let (mut agreed, mut fell_back) = (0usize, 0usize);
        for _ in 0..200_000 {
            let x = rng.next_u64();
            let len = (x % 28) as usize;
            let mut y = x;
            let mut input: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    alphabet[((y >> 33) % alphabet.len() as u64) as usize]
                })
                .collect();
            // Mostly with a delimiter somewhere.
            if !x.is_multiple_of(8) {
                let at = ((x >> 40) as usize) % (len + 1);
                input.splice(at..at, b"--b-".iter().copied());
            }
            let mut want = MessageStream::new(&input);
            let (want_end, want_buf) = want.decode_quoted_printable_mime(boundary);
            let mut got = MessageStream::new(&input);
            match qp_part(&mut got, boundary) {
                Some((end, buf)) => {
                    assert_eq!(
                        (end, &buf[..], got.offset()),
                        (want_end, &want_buf[..], want.offset()),
                        "{input:?}"
                    );
                    agreed += 1;
                }
                None => {
                    assert_eq!(got.offset(), 0);
                    fell_back += 1;
                }
            }
            let mut want = MessageStream::new(&input);
            let (want_end, want_bytes) = want.mime_part(boundary);
            let mut got = MessageStream::new(&input);
            match find_delimiter(&mut got, boundary) {
                Some((start, _, end)) => assert_eq!(
                    (end, &input[start..end], got.offset()),
                    (want_end, &want_bytes[..], want.offset()),
                    "{input:?}"
                ),
                None => assert_eq!(want_end, usize::MAX, "{input:?}"),
            }
        }
        assert!(agreed > fell_back, "{agreed} {fell_back}");
    }
}
