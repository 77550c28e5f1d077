//! Whether bytes can be mail at all, before anything parses them: the size
//! cap, not blank, not binary (control bytes in the first 512 bytes), and
//! a header field on the first line. Owns the skipping of what may precede
//! the header: a UTF-8 byte order mark, empty lines, batched SMTP commands
//! (RFC 2442) up to `DATA`, and a leading mbox `From ` line.

use super::Limits;
use crate::MailError;
use crate::headers::field_name;

/// How far batched SMTP commands are searched for their `DATA` line.
const BSMTP_SCAN: usize = 64 * 1024;

/// Bytes examined for control characters.
const HEAD_SCAN: usize = 512;

/// Checks that the bytes can be mail; returns the offset where the header
/// starts (after a leading mbox `From ` line and empty lines) and that
/// `From ` line.
pub(super) fn sanity<'r>(
    raw: &'r [u8],
    limits: &Limits,
) -> Result<(usize, Option<&'r [u8]>), MailError> {
    if raw.len() as u64 > limits.max_message_size {
        return Err(MailError::Oversize {
            offset: 0,
            index: 0,
            size: raw.len() as u64,
            cap: limits.max_message_size,
            prefix: Vec::new(),
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    let mut start = raw.strip_prefix(b"\xEF\xBB\xBF").map_or(0, |_| 3);
    while matches!(raw.get(start), Some(b'\r' | b'\n')) {
        start += 1;
    }
    start += batched_smtp_len(raw.get(start..).unwrap_or_default());
    let mut from_line = None;
    let rest = raw.get(start..).unwrap_or_default();
    if rest.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        from_line = rest.get(..end);
        start += end;
    }
    let head = raw
        .get(start..raw.len().min(start + HEAD_SCAN))
        .unwrap_or_default();
    let control = control_bytes(head);
    if head.len() >= 16 && control * 10 > head.len() {
        return Err(MailError::NotMail {
            examined: head.len(),
            control,
        });
    }
    let first_line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first_line = head.get(..first_line_end).unwrap_or_default();
    if field_name(first_line).is_none()
        || first_line.first().is_some_and(|b| b.is_ascii_whitespace())
    {
        return Err(MailError::NoHeader {
            first_line: String::from_utf8_lossy(
                first_line
                    .get(..first_line.len().min(80))
                    .unwrap_or_default(),
            )
            .into_owned(),
        });
    }
    Ok((start, from_line))
}

/// The length of the batched SMTP commands (RFC 2442: `HELO`, `EHLO` or
/// `MAIL FROM:` first) up to and including the `DATA` line; 0 when `rest`
/// does not start with them or no `DATA` line comes soon enough.
fn batched_smtp_len(rest: &[u8]) -> usize {
    let is_bsmtp = rest.len() > 5
        && [&b"HELO "[..], b"EHLO ", b"MAIL FROM:"].iter().any(|p| {
            rest.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        });
    if !is_bsmtp {
        return 0;
    }
    let mut at = 0usize;
    while let Some(nl) = memchr::memchr(b'\n', rest.get(at..).unwrap_or_default()) {
        let line = rest.get(at..at + nl).unwrap_or_default().trim_ascii_end();
        at += nl + 1;
        if line.eq_ignore_ascii_case(b"DATA") {
            return at;
        }
        if at > BSMTP_SCAN {
            break;
        }
    }
    0
}

/// Control bytes (other than tab and line breaks, DEL included) in `head`.
fn control_bytes(head: &[u8]) -> usize {
    // Branch-free with narrow sums per chunk so that it vectorises: this
    // runs on every message.
    head.chunks(128)
        .map(|c| {
            let n: u16 = c
                .iter()
                .map(|&b| {
                    let c0 = (b < 0x20) & (b != b'\t') & (b != b'\r') & (b != b'\n');
                    u16::from(c0 | (b == 0x7f))
                })
                .sum();
            usize::from(n)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::super::tests::ctx;
    use super::super::{Limits, extract};
    use super::*;
    use crate::TrustConfig;

    #[test]
    fn unusable_input_has_reasons() {
        let trust = TrustConfig::default();
        let c = ctx(&trust);
        let reason = |raw: &[u8]| extract(raw, &c).unwrap_err().reason();
        assert_eq!(reason(b""), "empty");
        assert_eq!(reason(b" \r\n\n"), "empty");
        assert_eq!(reason(b"this is just text\nno header\n"), "no-header");
        assert_eq!(
            reason(&[
                0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
            ]),
            "not-mail"
        );
        let mut c2 = c.clone();
        c2.limits.max_message_size = 10;
        assert_eq!(
            extract(b"Subject: 0123456789\n\n", &c2)
                .unwrap_err()
                .reason(),
            "oversize"
        );
        let many = "X-A: 1\n".repeat(30_000) + "\nbody";
        assert_eq!(reason(many.as_bytes()), "too-many-headers");
    }

    #[test]
    fn batched_smtp_and_from_lines_are_skipped() {
        let raw = b"\xEF\xBB\xBF\r\nHELO bot\r\nMAIL FROM:<a@b.example>\r\nDATA\r\nFrom x@y Thu Aug 22 12:36:23 2002\nSubject: s\n\nbody\n";
        let (start, from_line) = sanity(raw, &Limits::default()).unwrap();
        assert!(raw[start..].starts_with(b"Subject: s\n"));
        assert_eq!(from_line, Some(&b"From x@y Thu Aug 22 12:36:23 2002\n"[..]));
        // No DATA line: the commands are taken for the header (and fail).
        assert_eq!(batched_smtp_len(b"HELO bot\r\nQUIT\r\n"), 0);
        assert_eq!(control_bytes(b"a\tb\r\n\x01\x7f\x1f"), 3);
    }
}
