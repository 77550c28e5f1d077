//! The `Date:` field, RFC 5322 section 3.3: the canonical form without
//! mail-parser's date parser, and the date depeer stores (mail-parser's
//! reading, else depeer's tolerant reader, [`crate::date`]).

use depeer_core::Timestamp;
use mail_parser::{DateTime, HeaderName, HeaderValue, Message};

use super::{raw_field, single_line};

/// The `Date:` header as a timestamp: mail-parser's date, else depeer's
/// tolerant reader on the raw value. Ratware often leaves the zone out
/// (`Thu, 10 Aug 2000 02:53:01`), which mail-parser rejects; it is read as
/// UTC, as Python's `email` and the Received-line dates do. A time written
/// with dots (`03.32.48`) mail-parser reads as the hour alone; such a value
/// (no colon) goes to the tolerant reader first.
pub(in crate::extract) fn date_header(msg: &Message<'_>) -> Option<Timestamp> {
    let dotted = || {
        raw_field(msg, HeaderName::Date)
            .filter(|raw| memchr::memchr(b':', raw).is_none())
            .and_then(crate::date::parse_date)
    };
    msg.date()
        .and_then(|d| {
            if d.minute == 0
                && d.second == 0
                && let Some(t) = dotted()
            {
                return Some(t);
            }
            timestamp(d)
        })
        .or_else(|| crate::date::parse_date(raw_field(msg, HeaderName::Date)?))
}

/// mail-parser's date as a timestamp (a leap second as :59).
fn timestamp(d: &DateTime) -> Option<Timestamp> {
    let t = Timestamp::from_civil(
        i64::from(d.year),
        u32::from(d.month),
        u32::from(d.day),
        u32::from(d.hour),
        u32::from(d.minute),
        u32::from(d.second).min(59),
    )?;
    let off = (i64::from(d.tz_hour) * 3600 + i64::from(d.tz_minute) * 60) * 1_000_000;
    Some(Timestamp(if d.tz_before_gmt {
        t.0 + off
    } else {
        t.0 - off
    }))
}

/// mail-parser's `parse_date` for the canonical RFC 5322 form on one line:
/// `[Day, ]D Mon YYYY HH:MM:SS +ZZZZ` (English day and month names as
/// mail-parser spells them, a four-digit year from 1970 to 2099, fields in
/// range). `None` for anything else (obsolete zones, two-digit years,
/// comments, missing seconds): mail-parser parses those.
pub(in crate::extract) fn plain_date(value: &[u8]) -> Option<HeaderValue<'static>> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    let mut v = single_line(value)?;
    if let Some((day, rest)) = v.split_first_chunk::<4>() {
        let (name, comma) = day.split_at(3);
        if comma == b"," && DAYS.iter().any(|d| d.as_slice() == name) {
            v = rest.strip_prefix(b" ")?;
        }
    }
    let mut parts = v.split(|&b| b == b' ');
    let num = |p: &[u8], min: usize, max: usize| -> Option<u32> {
        if p.len() < min || p.len() > max || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(p.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
    };
    let day = num(parts.next()?, 1, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| m.as_slice() == month_name)? + 1;
    let year = num(parts.next()?, 4, 4)?;
    let time = parts.next()?;
    let zone = parts.next()?;
    if parts.next().is_some() || time.len() != 8 || zone.len() != 5 {
        return None;
    }
    let (hour, minute, second) = match time {
        [h1, h2, b':', m1, m2, b':', s1, s2] => (
            num(&[*h1, *h2], 2, 2)?,
            num(&[*m1, *m2], 2, 2)?,
            num(&[*s1, *s2], 2, 2)?,
        ),
        _ => return None,
    };
    let (sign, tz) = zone.split_first()?;
    let tz_before_gmt = match sign {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let tz_hour = num(tz.get(..2)?, 2, 2)?;
    let tz_minute = num(tz.get(2..)?, 2, 2)?;
    if !(1..=31).contains(&day)
        || !(1970..=2099).contains(&year)
        || hour > 23
        || minute > 59
        || second > 59
        || tz_hour > 23
        || tz_minute > 59
    {
        return None;
    }
    Some(HeaderValue::DateTime(DateTime {
        year: u16::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: u8::try_from(hour).ok()?,
        minute: u8::try_from(minute).ok()?,
        second: u8::try_from(second).ok()?,
        tz_before_gmt,
        tz_hour: u8::try_from(tz_hour).ok()?,
        tz_minute: u8::try_from(tz_minute).ok()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{Next, check};
    use super::*;

    /// Whenever `plain_date` answers, mail-parser's parser gives the same
    /// value and stops at the end of the field, on random values near the
    /// canonical form (and on every valid one).
    #[test]
    fn plain_date_equals_mail_parser() {
        let days = ["Mon, ", "Tue, ", "Sun, ", "", "Mon,", "Xyz, ", "mon, "];
        let months = ["Jan", "Feb", "Jun", "Dec", "jan", "JAN", "Foo"];
        let make = |next: Next<'_>| {
            let text = format!(
                " {}{} {} {} {:02}:{:02}:{:02} {}{:02}{:02}{}",
                days[next(days.len())],
                next(34),
                months[next(months.len())],
                [1969, 1970, 2008, 2099, 2100, 208][next(6)],
                next(26),
                next(62),
                next(62),
                ["+", "-", "", "*"][next(4)],
                next(26),
                next(62),
                ["\n", " \r\n", " (UTC)\n", "\n\tx\n"][next(4)],
            );
            Some(text.into_bytes())
        };
        let dates = check(
            0xD1B5_4A32_D192_ED03,
            200_000,
            make,
            |v| plain_date(v),
            |st| st.parse_date(),
        );
        assert!(dates > 5_000, "{dates}");
    }
}
