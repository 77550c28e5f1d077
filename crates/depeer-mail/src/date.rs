//! Tolerant parsing of the dates mail carries: RFC 5322 `Date:`-style
//! (`Tue, 11 Nov 2008 21:30:00 -0800 (PST)`) on `Received:` lines and the
//! `asctime` form of mbox `From ` lines (`Tue Nov 11 21:30:00 2008`).
//!
//! The parser reads tokens in any order (day, month name, year, `hh:mm[:ss]`,
//! zone), so both forms and the usual spammer variants (two-digit years,
//! missing seconds, missing zone = UTC, named US zones) are accepted. It
//! never allocates and never panics; anything it cannot place gives `None`.

use depeer_core::Timestamp;

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

fn month_of(tok: &[u8]) -> Option<u32> {
    let head = tok.get(..3)?;
    let mut lower = [0u8; 3];
    for (d, s) in lower.iter_mut().zip(head) {
        *d = s.to_ascii_lowercase();
    }
    MONTHS
        .iter()
        .position(|m| **m == lower)
        .map(|i| i as u32 + 1)
}

fn digits(tok: &[u8]) -> Option<u32> {
    if tok.is_empty() || tok.len() > 9 || !tok.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(tok.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0')))
}

/// Offset in seconds east of UTC of a named zone (RFC 5322 obsolete zones).
fn named_zone(tok: &[u8]) -> Option<i64> {
    let mut buf = [0u8; 4];
    if tok.len() > 4 {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(tok) {
        *d = s.to_ascii_uppercase();
    }
    let name = buf.get(..tok.len())?;
    let hours = match name {
        b"UT" | b"UTC" | b"GMT" | b"Z" => 0,
        b"EDT" => -4,
        b"EST" | b"CDT" => -5,
        b"CST" | b"MDT" => -6,
        b"MST" | b"PDT" => -7,
        b"PST" => -8,
        b"CET" => 1,
        b"CEST" => 2,
        _ => return None,
    };
    Some(hours * 3600)
}

fn numeric_zone(tok: &[u8]) -> Option<i64> {
    let (&sign, rest) = tok.split_first()?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest: &[u8] = if rest.len() == 5 && rest.get(2) == Some(&b':') {
        // "+01:00"
        return Some(
            sign * (i64::from(digits(rest.get(..2)?)?) * 3600
                + i64::from(digits(rest.get(3..)?)?) * 60),
        );
    } else {
        rest
    };
    if rest.len() != 4 {
        return None;
    }
    let v = digits(rest)?;
    let (h, m) = (v / 100, v % 100);
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (i64::from(h) * 3600 + i64::from(m) * 60))
}

fn hms(tok: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = tok.split(|&b| b == b':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let s = match parts.next() {
        // "12:34:56.789": ignore the fraction.
        Some(p) => digits(p.split(|&b| b == b'.').next()?)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((h, m, s))
}

/// Parses an RFC 5322 or asctime date, tolerantly. Years `00..=49` mean
/// 20xx and `50..=99` mean 19xx (RFC 5322 section 4.3).
pub(crate) fn parse_date(text: &[u8]) -> Option<Timestamp> {
    let (mut day, mut month, mut year, mut time, mut zone) = (None, None, None, None, None);
    let mut in_comment = 0u32;
    for tok in text.split(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',')) {
        if tok.is_empty() {
            continue;
        }
        if tok.first() == Some(&b'(') {
            in_comment += 1;
        }
        if in_comment > 0 {
            if tok.last() == Some(&b')') {
                in_comment -= 1;
            }
            continue;
        }
        if time.is_none() && tok.contains(&b':') && tok.first().is_some_and(u8::is_ascii_digit) {
            time = hms(tok);
            if time.is_some() {
                continue;
            }
        }
        if let Some(n) = digits(tok) {
            if tok.len() == 4 && year.is_none() {
                year = Some(i64::from(n));
            } else if day.is_none() && (1..=31).contains(&n) && tok.len() <= 2 {
                day = Some(n);
            } else if year.is_none() && tok.len() <= 2 && month.is_some() {
                year = Some(if n < 50 {
                    2000 + i64::from(n)
                } else {
                    1900 + i64::from(n)
                });
            } else if year.is_none() && tok.len() == 3 {
                year = Some(1900 + i64::from(n));
            }
            continue;
        }
        if month.is_none()
            && let Some(m) = month_of(tok)
            && tok.len() <= 9
            && tok.iter().all(u8::is_ascii_alphabetic)
        {
            month = Some(m);
            continue;
        }
        if zone.is_none() && time.is_some() {
            zone = numeric_zone(tok).or_else(|| named_zone(tok));
        }
    }
    let (h, mi, s) = time?;
    let base = Timestamp::from_civil(year?, month?, day?, h, mi, s.min(59))?;
    Some(Timestamp(base.0 - zone.unwrap_or(0) * 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_date(s.as_bytes()).map(|t| t.to_rfc3339())
    }

    #[test]
    fn rfc5322_forms() {
        assert_eq!(
            p("Tue, 11 Nov 2008 13:30:00 -0800 (PST)").as_deref(),
            Some("2008-11-11T21:30:00Z")
        );
        assert_eq!(
            p("11 Nov 2008 21:30 GMT").as_deref(),
            Some("2008-11-11T21:30:00Z")
        );
        assert_eq!(
            p("Sat,  8 Nov 03 17:57:46 EST").as_deref(),
            Some("2003-11-08T22:57:46Z")
        );
        assert_eq!(
            p("Thu, 13 Mar 2003 15:23:15 -0500 (EST)").as_deref(),
            Some("2003-03-13T20:23:15Z")
        );
        assert_eq!(
            p("Mon, 29 Oct 2018 11:17:19 +0100").as_deref(),
            Some("2018-10-29T10:17:19Z")
        );
        assert_eq!(
            p("Wed, 5 Jun 2019 10:17:08.123 +0000").as_deref(),
            Some("2019-06-05T10:17:08Z")
        );
    }

    #[test]
    fn asctime_form_of_mbox_from_lines() {
        assert_eq!(
            p("Mon Nov 14 12:34:56 2005").as_deref(),
            Some("2005-11-14T12:34:56Z")
        );
        assert_eq!(
            p("Thu Aug 22 12:36:23 2002").as_deref(),
            Some("2002-08-22T12:36:23Z")
        );
    }

    #[test]
    fn nonsense_is_none() {
        for s in [
            "",
            "yesterday",
            "32 Foo 2008 10:00",
            "11 Nov 2008",
            "99:99:99",
            "Feb 30 2008 10:00:00",
        ] {
            assert_eq!(p(s), None, "{s}");
        }
    }
}
