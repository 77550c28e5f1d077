//! Time in the simulator: Unix seconds (`i64`, UTC) and the text forms the
//! output formats need (RFC 3339 for JSON/CSV, RFC 5322 `Date:`, the mbox
//! `From ` line date). No wall clock is ever read.

/// Civil date of days since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

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

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn push_num(s: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut n = n;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - i;
    for _ in len..width {
        s.push('0');
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

fn push_year(s: &mut String, y: i64) {
    push_num(s, y.clamp(0, 9999) as u32, 4);
}

// The formatters below avoid `format!`: they run several times per message.

/// `2008-11-11T21:30:00Z`.
pub(crate) fn iso(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(20);
    push_year(&mut s, c.year);
    s.push('-');
    push_num(&mut s, c.month, 2);
    s.push('-');
    push_num(&mut s, c.day, 2);
    s.push('T');
    push_num(&mut s, c.hour, 2);
    s.push(':');
    push_num(&mut s, c.minute, 2);
    s.push(':');
    push_num(&mut s, c.second, 2);
    s.push('Z');
    s
}

/// `2008-11-11`.
pub(crate) fn day(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(10);
    push_year(&mut s, c.year);
    s.push('-');
    push_num(&mut s, c.month, 2);
    s.push('-');
    push_num(&mut s, c.day, 2);
    s
}

/// `20081111`.
pub(crate) fn compact_day(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(8);
    push_year(&mut s, c.year);
    push_num(&mut s, c.month, 2);
    push_num(&mut s, c.day, 2);
    s
}

/// RFC 5322 date in a zone `offset_min` minutes east of UTC:
/// `Tue, 11 Nov 2008 13:30:00 -0800`.
pub(crate) fn rfc5322(secs: i64, offset_min: i32) -> String {
    let c = civil(secs + i64::from(offset_min) * 60);
    let off = offset_min.unsigned_abs();
    let mut s = String::with_capacity(31);
    s.push_str(DAYS[c.weekday as usize]);
    s.push_str(", ");
    push_num(&mut s, c.day, 1);
    s.push(' ');
    s.push_str(MONTHS[(c.month - 1) as usize]);
    s.push(' ');
    push_year(&mut s, c.year);
    s.push(' ');
    push_num(&mut s, c.hour, 2);
    s.push(':');
    push_num(&mut s, c.minute, 2);
    s.push(':');
    push_num(&mut s, c.second, 2);
    s.push(' ');
    s.push(if offset_min < 0 { '-' } else { '+' });
    push_num(&mut s, off / 60, 2);
    push_num(&mut s, off % 60, 2);
    s
}

/// The asctime form of the mbox `From ` line: `Tue Nov 11 21:30:00 2008`.
pub(crate) fn asctime(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(24);
    s.push_str(DAYS[c.weekday as usize]);
    s.push(' ');
    s.push_str(MONTHS[(c.month - 1) as usize]);
    s.push(' ');
    if c.day < 10 {
        s.push(' ');
    }
    push_num(&mut s, c.day, 1);
    s.push(' ');
    push_num(&mut s, c.hour, 2);
    s.push(':');
    push_num(&mut s, c.minute, 2);
    s.push(':');
    push_num(&mut s, c.second, 2);
    s.push(' ');
    push_year(&mut s, c.year);
    s
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
