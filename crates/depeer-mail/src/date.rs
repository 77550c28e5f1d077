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
    match canonical(text) {
        Some(t) => t,
        None => parse_tokens(text),
    }
}

/// The two forms nearly every date here has, read field by field:
/// `Www Mmm d hh:mm:ss yyyy` (mbox `From ` lines) and
/// `[Www, ]d Mmm yyyy hh:mm:ss +zzzz[ (comment)]` (`Received:` lines).
/// `Some(result)` (the result [`parse_tokens`] gives for the same text)
/// when the text has one of these shapes with every field in range;
/// `None` to let [`parse_tokens`] read it.
///
/// Why: every mbox `From ` line (read on the framing thread) and every
/// `Received:` date goes through here, and the token loop is general; a
/// test compares both on real and random dates.
fn canonical(text: &[u8]) -> Option<Option<Timestamp>> {
    let mut toks = text.split(|&b| b == b' ').filter(|t| !t.is_empty()).take(8);
    let mut first = toks.next()?;
    // A leading "Www," (RFC 5322) or "Www" (asctime).
    // (Three letters that are not a month name: the token reader would
    // take a month there.)
    let weekday = |t: &[u8]| t.iter().all(u8::is_ascii_alphabetic) && month_of(t).is_none();
    let asctime = match first {
        [a, b, c, b','] if weekday(&[*a, *b, *c]) => {
            first = toks.next()?;
            false
        }
        [_, _, _] if weekday(first) => {
            first = toks.next()?;
            month_of(first).is_some() && first.len() == 3
        }
        _ => false,
    };
    let two = |t: &[u8]| -> Option<u32> {
        match t {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
            }
            _ => None,
        }
    };
    let clock = |t: &[u8]| -> Option<(u32, u32, u32)> {
        let [h1, h2, b':', m1, m2, b':', s1, s2] = t else {
            return None;
        };
        let (h, m, s) = (two(&[*h1, *h2])?, two(&[*m1, *m2])?, two(&[*s1, *s2])?);
        (h <= 23 && m <= 59 && s <= 60).then_some((h, m, s))
    };
    let day_of = |t: &[u8]| -> Option<u32> {
        let d = match t {
            [a] if a.is_ascii_digit() => u32::from(a - b'0'),
            _ => two(t)?,
        };
        (1..=31).contains(&d).then_some(d)
    };
    let year_of = |t: &[u8]| -> Option<i64> {
        (t.len() == 4 && t.iter().all(u8::is_ascii_digit))
            .then(|| t.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
    };
    let (year, month, day, (h, mi, sec), zone) = if asctime {
        let month = month_of(first)?;
        let day = day_of(toks.next()?)?;
        let time = clock(toks.next()?)?;
        let year = year_of(toks.next()?)?;
        if toks.next().is_some() {
            return None;
        }
        (year, month, day, time, 0)
    } else {
        let day = day_of(first)?;
        let m = toks.next()?;
        if m.len() != 3 || !m.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let month = month_of(m)?;
        let year = year_of(toks.next()?)?;
        let time = clock(toks.next()?)?;
        let zone = numeric_zone(toks.next()?)?;
        // Nothing after the zone but one comment of one word ("(UTC)").
        let one_word_comment = |c: &[u8]| {
            c.len() > 1
                && c.first() == Some(&b'(')
                && c.last() == Some(&b')')
                && !c.get(1..c.len() - 1).is_some_and(|w| w.contains(&b'('))
        };
        match toks.next() {
            None => {}
            Some(c) if one_word_comment(c) && toks.next().is_none() => {}
            Some(_) => return None,
        }
        (year, month, day, time, zone)
    };
    if text.iter().any(|&b| matches!(b, b'\t' | b'\r' | b'\n')) {
        return None;
    }
    let base = Timestamp::from_civil(year, month, day, h, mi, sec.min(59));
    Some(base.map(|b| Timestamp(b.0 - zone * 1_000_000)))
}

/// The general token reader behind [`parse_date`].
fn parse_tokens(text: &[u8]) -> Option<Timestamp> {
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
        // `03.32.48`: a time written with dots, taken only once the date
        // is complete (before it, `11.11.08` could be a day.month.year).
        if time.is_none()
            && day.is_some()
            && month.is_some()
            && year.is_some()
            && let [h1, h2 @ .., b'.', m1, m2, b'.', s1, s2] = tok
            && h2.len() <= 1
            && [*h1, *m1, *m2, *s1, *s2].iter().all(u8::is_ascii_digit)
            && h2.iter().all(u8::is_ascii_digit)
        {
            let h = h2.first().map_or(u32::from(h1 - b'0'), |d| {
                u32::from(h1 - b'0') * 10 + u32::from(d - b'0')
            });
            let m = u32::from(m1 - b'0') * 10 + u32::from(m2 - b'0');
            let sec = u32::from(s1 - b'0') * 10 + u32::from(s2 - b'0');
            if h < 24 && m < 60 && sec < 61 {
                time = Some((h, m, sec));
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

    /// Each text reads as the UTC time beside it.
    fn reads(cases: &[(&str, &str)]) {
        for (text, want) in cases {
            assert_eq!(p(text).as_deref(), Some(*want), "{text}");
        }
    }

    #[test]
    fn dotted_times_after_the_date() {
        reads(&[("Fri, 1 Jul 2005 03.32.48 +0200", "2005-07-01T01:32:48Z")]);
        // Before the date is complete a dotted token is not a time.
        assert_eq!(p("11.11.08 Nov 2008 10:00:00"), p("Nov 2008 10:00:00"));
        assert_eq!(p("Fri, 1 Jul 2005 25.32.48 +0200"), None);
    }

    #[test]
    fn rfc5322_forms() {
        reads(&[
            (
                "Tue, 11 Nov 2008 13:30:00 -0800 (PST)",
                "2008-11-11T21:30:00Z",
            ),
            ("11 Nov 2008 21:30 GMT", "2008-11-11T21:30:00Z"),
            ("Sat,  8 Nov 03 17:57:46 EST", "2003-11-08T22:57:46Z"),
            (
                "Thu, 13 Mar 2003 15:23:15 -0500 (EST)",
                "2003-03-13T20:23:15Z",
            ),
            ("Mon, 29 Oct 2018 11:17:19 +0100", "2018-10-29T10:17:19Z"),
            ("Wed, 5 Jun 2019 10:17:08.123 +0000", "2019-06-05T10:17:08Z"),
        ]);
    }

    #[test]
    fn asctime_form_of_mbox_from_lines() {
        reads(&[
            ("Mon Nov 14 12:34:56 2005", "2005-11-14T12:34:56Z"),
            ("Thu Aug 22 12:36:23 2002", "2002-08-22T12:36:23Z"),
        ]);
    }

    /// The canonical reader agrees with the token reader wherever it
    /// answers, on random dates near both shapes, and answers the plain
    /// ones.
    #[test]
    fn canonical_equals_the_token_reader() {
        let mut rng = crate::test_support::XorShift::new(0x94D0_49BB_1331_11EB);
        let mut next = |n: usize| rng.below(n);
        let (mut answered, mut total) = (0usize, 0usize);
        for _ in 0..300_000 {
            let wd = ["Sat", "Sat,", "Mon", "Nov", "", "sat,", "Xx,", "Marc"][next(8)];
            let mon = ["Nov", "nov", "NOV", "Feb", "Foo", "November", "Mon"][next(7)];
            let day = format!("{}", next(34));
            let day = [day.clone(), format!("0{day}"), format!(" {day}")][next(3)].clone();
            let time = format!("{:02}:{:02}:{:02}", next(26), next(62), next(62));
            let time = [time.clone(), "1:02:03".into(), "10:20".into()][next(3)].clone();
            let year = ["2008", "1999", "08", "208", "20080"][next(5)];
            let zone = ["+0000", "-0800", "+0530", "+2460", "GMT", "+01:00", ""][next(7)];
            let tail = [
                "", " (UTC)", " (PST)", " (a b)", " x", "  ", "\t", ")", " ()",
            ][next(9)];
            let text = if next(2) == 0 {
                format!("{wd} {mon} {day} {time} {year}{tail}")
            } else {
                format!("{wd} {day} {mon} {year} {time} {zone}{tail}")
            };
            total += 1;
            if let Some(got) = canonical(text.as_bytes()) {
                answered += 1;
                assert_eq!(got, parse_tokens(text.as_bytes()), "{text:?}");
            }
        }
        assert!(answered > 1_000, "{answered} of {total}");
        for plain in [
            "Sat Nov  8 00:00:53 2008",
            "Sat, 8 Nov 2008 00:00:53 +0000 (UTC)",
        ] {
            assert!(canonical(plain.as_bytes()).is_some(), "{plain}");
        }
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
