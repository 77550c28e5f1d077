//! The lines that frame an mbox (RFC 4155): the envelope `From ` line that
//! starts each message (its sender and date, and whether a line is a whole
//! envelope line as mutt's `is_from` reads it), and the sniffing that tells
//! an mbox from a single message.

use depeer_core::Timestamp;

use super::Framing;
use crate::date::parse_date;

/// Picks the framing from the first bytes of a stream: `Mbox` when the
/// first line that is not empty (after an optional UTF-8 byte-order mark)
/// starts with `From `, `Single` otherwise.
pub fn sniff_framing(head: &[u8]) -> Framing {
    let rest = skip_preamble(head);
    if rest.starts_with(b"From ") {
        Framing::Mbox
    } else {
        Framing::Single
    }
}

/// The bytes after an optional BOM and empty lines.
fn skip_preamble(head: &[u8]) -> &[u8] {
    let mut rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    loop {
        if let Some(r) = rest.strip_prefix(b"\r\n") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(b"\n") {
            rest = r;
        } else {
            return rest;
        }
    }
}

/// Parses an mbox `From ` line (`From sender asctime-date...`) into the
/// envelope sender and the time.
pub fn parse_from_line(line: &[u8]) -> (Option<String>, Option<Timestamp>) {
    let rest = line.strip_prefix(b"From ").unwrap_or(line);
    let rest = trim_ascii(rest);
    let (sender, date) = match memchr::memchr2(b' ', b'\t', rest) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        ),
        None => (rest, &b""[..]),
    };
    let sender = (!sender.is_empty() && sender.len() <= 512 && sender != b"-")
        .then(|| String::from_utf8_lossy(sender).into_owned());
    (sender, parse_date(date))
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Whether `line` is a whole mbox envelope line as `ctime` writes it:
/// `From sender Www Mmm dd hh:mm[:ss] [zone] yyyy[ anything]` (weekday
/// and month names in their usual capitalisation). A body line such as
/// `From the start` or `From me on Tuesday` is not.
pub(super) fn is_envelope_line(line: &[u8]) -> bool {
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    // The sender starts right after "From ".
    if rest
        .first()
        .is_none_or(|b| blank(b) || b.is_ascii_control())
    {
        return false;
    }
    let mut toks = rest.trim_ascii_end().split(blank).filter(|t| !t.is_empty());
    let _sender = toks.next();
    let digits = |t: &[u8], min: usize, max: usize| {
        (min..=max).contains(&t.len()) && t.iter().all(u8::is_ascii_digit)
    };
    let time = |t: &[u8]| {
        let mut parts = t.split(|&b| b == b':');
        let (h, m, sec) = (parts.next(), parts.next(), parts.next());
        h.is_some_and(|h| digits(h, 1, 2))
            && m.is_some_and(|m| digits(m, 2, 2))
            && sec.is_none_or(|s| digits(s, 2, 2))
            && parts.next().is_none()
    };
    let (Some(wd), Some(mon), Some(day), Some(hms), Some(next)) = (
        toks.next(),
        toks.next(),
        toks.next(),
        toks.next(),
        toks.next(),
    ) else {
        return false;
    };
    let year = if digits(next, 4, 4) {
        Some(next)
    } else {
        toks.next()
    };
    DAYS.contains(&wd)
        && MONTHS.contains(&mon)
        && digits(day, 1, 2)
        && time(hms)
        && year.is_some_and(|y| digits(y, 4, 4))
}

pub(super) fn is_blank_line(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_mbox_after_bom_and_blank_lines() {
        assert_eq!(sniff_framing(b"\xEF\xBB\xBF\n\r\nFrom x"), Framing::Mbox);
        assert_eq!(sniff_framing(b"Return-Path: <x>\n"), Framing::Single);
        assert_eq!(sniff_framing(b"From: a@b\n"), Framing::Single);
        assert_eq!(sniff_framing(b""), Framing::Single);
    }

    #[test]
    fn body_lines_are_not_envelope_lines() {
        for no in [
            &b"From  a Tue Nov 11 21:30:00 2008"[..],
            b"From a Tue Nov 11 21:30:00",
            b"From a Tue Nov 11 21:30:00 08",
            b"From a Tue Nov 111 21:30:00 2008",
            b"From a tue nov 11 21:30:00 2008",
            b"From a Tue Nov 11 21:3:00 2008",
        ] {
            assert!(!is_envelope_line(no), "{}", String::from_utf8_lossy(no));
        }
        assert!(is_envelope_line(b"From a Tue Nov 11 21:30:00 2008"));
    }

    #[test]
    fn from_line_parts() {
        let (s, t) = parse_from_line(b"From MAILER-DAEMON Mon Nov 14 12:34:56 2005\n");
        assert_eq!(s.as_deref(), Some("MAILER-DAEMON"));
        assert_eq!(t.unwrap().to_rfc3339(), "2005-11-14T12:34:56Z");
        assert_eq!(parse_from_line(b"From \n"), (None, None));
    }
}
