//! Time in the simulator: Unix seconds (`i64`, UTC) and the text forms the
//! output formats need (RFC 3339 for JSON/CSV, RFC 5322 `Date:`, the mbox
//! `From ` line date). No wall clock is ever read.

use depeer_core::civil_from_days;

use crate::textbuf::push_all;

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    /// 0 = Sunday.
    pub(crate) weekday: u32,
}

/// Breaks Unix seconds down into a civil UTC time.
pub(crate) fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Two digits, zero-padded (`n < 100`).
fn push2(out: &mut Vec<u8>, n: u32) {
    let n = n % 100;
    out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
}

/// One or two digits (`n < 100`).
fn push12(out: &mut Vec<u8>, n: u32) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else {
        push2(out, n);
    }
}

fn push_year(out: &mut Vec<u8>, y: i64) {
    let y = y.clamp(0, 9999) as u32;
    push2(out, y / 100);
    push2(out, y % 100);
}

/// `2008-11-11` with `sep` `Some(b'-')`, `20081111` with `None`.
fn push_ymd(out: &mut Vec<u8>, c: &Civil, sep: Option<u8>) {
    push_year(out, c.year);
    for n in [c.month, c.day] {
        out.extend(sep);
        push2(out, n);
    }
}

/// `21:30:00`.
fn push_hms(out: &mut Vec<u8>, c: &Civil) {
    push2(out, c.hour);
    for n in [c.minute, c.second] {
        out.push(b':');
        push2(out, n);
    }
}

/// `Tue` (`civil` makes the weekday 0..7).
fn weekday_name(c: &Civil) -> &'static [u8] {
    DAYS.get(c.weekday as usize).map_or(b"Sun", |d| &d[..])
}

/// `Nov` (`civil` makes the month 1..=12).
fn month_name(c: &Civil) -> &'static [u8] {
    MONTHS
        .get((c.month as usize).wrapping_sub(1))
        .map_or(b"Jan", |m| &m[..])
}

// The formatters below write bytes straight into the caller's buffer: they
// run several times per message.

/// Appends `2008-11-11T21:30:00Z`.
pub(crate) fn push_iso(out: &mut Vec<u8>, secs: i64) {
    let c = civil(secs);
    push_ymd(out, &c, Some(b'-'));
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'Z');
}

/// Appends `2008-11-11`.
pub(crate) fn push_day(out: &mut Vec<u8>, secs: i64) {
    push_ymd(out, &civil(secs), Some(b'-'));
}

/// Appends the RFC 5322 date in a zone `offset_min` minutes east of UTC:
/// `Tue, 11 Nov 2008 13:30:00 -0800`.
pub(crate) fn push_rfc5322(out: &mut Vec<u8>, secs: i64, offset_min: i32) {
    let c = civil(secs + i64::from(offset_min) * 60);
    let off = offset_min.unsigned_abs();
    push_all(out, &[weekday_name(&c), b", "]);
    push12(out, c.day);
    push_all(out, &[b" ", month_name(&c), b" "]);
    push_year(out, c.year);
    out.push(b' ');
    push_hms(out, &c);
    out.extend_from_slice(if offset_min < 0 { b" -" } else { b" +" });
    push2(out, off / 60);
    push2(out, off % 60);
}

/// Appends the asctime form of the mbox `From ` line: `Tue Nov 11 21:30:00 2008`.
pub(crate) fn push_asctime(out: &mut Vec<u8>, secs: i64) {
    let c = civil(secs);
    push_all(out, &[weekday_name(&c), b" ", month_name(&c), b" "]);
    if c.day < 10 {
        out.push(b' ');
    }
    push12(out, c.day);
    out.push(b' ');
    push_hms(out, &c);
    out.push(b' ');
    push_year(out, c.year);
}

fn string_of(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut v = Vec::with_capacity(32);
    f(&mut v);
    // Every formatter above writes ASCII only.
    String::from_utf8(v).unwrap_or_default()
}

/// `2008-11-11T21:30:00Z`.
pub(crate) fn iso(secs: i64) -> String {
    string_of(|v| push_iso(v, secs))
}

/// `2008-11-11`.
pub(crate) fn day(secs: i64) -> String {
    string_of(|v| push_day(v, secs))
}

/// `20081111`.
pub(crate) fn compact_day(secs: i64) -> String {
    string_of(|v| push_ymd(v, &civil(secs), None))
}

#[cfg(test)]
fn rfc5322(secs: i64, offset_min: i32) -> String {
    string_of(|v| push_rfc5322(v, secs, offset_min))
}

#[cfg(test)]
fn asctime(secs: i64) -> String {
    string_of(|v| push_asctime(v, secs))
}

/// Parses an absolute time (`2008-11-11T21:30:00Z`, `2008-11-11`, ...) into
/// Unix seconds, through `depeer_core::Timestamp::parse`.
pub(crate) fn parse_abs(text: &str) -> Option<i64> {
    depeer_core::Timestamp::parse(text).ok().map(|t| t.secs())
}

/// Parses a duration such as `90m`, `36h`, `4d`, `2w`, `45s` into seconds.
pub(crate) fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.trim().parse().ok()?;
    let mult = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        _ => return None,
    };
    Some((n * mult).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_mccolo_cut() {
        let t = parse_abs("2008-11-11T21:30:00Z").unwrap();
        assert_eq!(iso(t), "2008-11-11T21:30:00Z");
        assert_eq!(rfc5322(t, -480), "Tue, 11 Nov 2008 13:30:00 -0800");
        assert_eq!(rfc5322(t, 0), "Tue, 11 Nov 2008 21:30:00 +0000");
        assert_eq!(asctime(t), "Tue Nov 11 21:30:00 2008");
        assert_eq!(compact_day(t), "20081111");
        assert_eq!(day(t), "2008-11-11");
        let early = parse_abs("2009-03-01T01:02:03Z").unwrap();
        assert_eq!(asctime(early), "Sun Mar  1 01:02:03 2009");
        assert_eq!(rfc5322(early, 330), "Sun, 1 Mar 2009 06:32:03 +0530");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("36h"), Some(129_600));
        assert_eq!(parse_duration("1.5d"), Some(129_600));
        assert_eq!(parse_duration("-2h"), Some(-7200));
        assert_eq!(parse_duration("2x"), None);
    }
}
