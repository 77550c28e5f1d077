//! UTC timestamps with microsecond resolution, without a date library: the
//! conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`
//! algorithms, which are exact for the proleptic Gregorian calendar.

use serde::{Deserialize, Serialize};

/// Microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A timestamp that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimestampError {
    /// The text that was given.
    pub input: String,
}

impl std::fmt::Display for TimestampError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read time {:?}: use 2008-11-11, 2008-11-11T21:30:00Z, \
             '2008-11-11 21:30' (UTC) or Unix seconds",
            self.input
        )
    }
}

impl std::error::Error for TimestampError {}

/// Days since 1970-01-01 of a civil date (`y`, month 1-12, day 1-31).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date `(year, month 1-12, day 1-31)` of days since 1970-01-01
/// (negative before it); the one calendar conversion of the workspace.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// From Unix seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Unix seconds (floor).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// From a civil UTC date and time; `None` when a field is out of range.
    pub fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(1..=12).contains(&mo)
            || d == 0
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || s > 60
        {
            return None;
        }
        if !(-100_000..=100_000).contains(&y) {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let secs = days * SECS_PER_DAY + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        Some(Timestamp::from_secs(secs))
    }

    /// The UTC day, `YYYY-MM-DD` (used for partitioning).
    pub fn day(self) -> String {
        let (y, m, d) = civil_from_days(self.secs().div_euclid(SECS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// RFC 3339 in UTC, seconds resolution, e.g. `2008-11-11T21:30:00Z`.
    pub fn to_rfc3339(self) -> String {
        let secs = self.secs();
        let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        let sod = secs.rem_euclid(SECS_PER_DAY);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }

    /// Parses what a person types on a command line: `2008-11-11`,
    /// `2008-11-11T21:30`, `2008-11-11 21:30:05`, an RFC 3339 time with `Z` or
    /// a `+hh:mm` offset, or Unix seconds.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError {
            input: input.to_string(),
        };
        let s = input.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() != 8 {
            return s
                .parse::<i64>()
                .map(Timestamp::from_secs)
                .map_err(|_| err());
        }
        let num = |t: &str| -> Result<u32, TimestampError> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            t.parse::<u32>().map_err(|_| err())
        };
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, ""),
        };
        let mut dp = date.split('-');
        let y = num(dp.next().ok_or_else(err)?)?;
        let mo = num(dp.next().ok_or_else(err)?)?;
        let d = num(dp.next().ok_or_else(err)?)?;
        if dp.next().is_some() {
            return Err(err());
        }
        let mut offset_secs: i64 = 0;
        let mut time = rest;
        if let Some(t) = time.strip_suffix(['Z', 'z']) {
            time = t;
        } else if let Some(i) = time.rfind(['+', '-']) {
            let (t, off) = time.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let off = &off[1..];
            let (oh, om) = off.split_once(':').unwrap_or((off, "0"));
            offset_secs = sign * (i64::from(num(oh)?) * 3600 + i64::from(num(om)?) * 60);
            time = t;
        }
        let (mut h, mut mi, mut sec) = (0, 0, 0);
        let mut frac_micros: i64 = 0;
        if !time.is_empty() {
            let mut tp = time.split(':');
            h = num(tp.next().ok_or_else(err)?)?;
            mi = num(tp.next().ok_or_else(err)?)?;
            if let Some(sp) = tp.next() {
                let (whole, frac) = sp.split_once('.').unwrap_or((sp, ""));
                sec = num(whole)?;
                if !frac.is_empty() {
                    let digits: String = frac.chars().take(6).collect();
                    let scale = 10i64.pow(6 - digits.len() as u32);
                    frac_micros = i64::from(num(&digits)?) * scale;
                }
            }
            if tp.next().is_some() {
                return Err(err());
            }
        }
        let base = Timestamp::from_civil(i64::from(y), mo, d, h, mi, sec).ok_or_else(err)?;
        Ok(Timestamp(
            base.0 - offset_secs * MICROS_PER_SEC + frac_micros,
        ))
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for z in (-150_000..150_000).step_by(7) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn mccolo_cut_time() {
        let t = Timestamp::parse("2008-11-11T21:30:00Z").unwrap();
        assert_eq!(t.secs(), 1_226_439_000);
        assert_eq!(t.to_rfc3339(), "2008-11-11T21:30:00Z");
        assert_eq!(t.day(), "2008-11-11");
        assert_eq!(Timestamp::parse("2008-11-11 13:30-08:00").unwrap(), t);
        assert_eq!(Timestamp::parse("1226439000").unwrap(), t);
        assert_eq!(
            Timestamp::parse("2008-11-11").unwrap().to_rfc3339(),
            "2008-11-11T00:00:00Z"
        );
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "2008-13-01",
            "2008-02-30",
            "yesterday",
            "2008-11-11T25:00",
            "2008-11",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn leap_years() {
        assert!(Timestamp::from_civil(2000, 2, 29, 0, 0, 0).is_some());
        assert!(Timestamp::from_civil(1900, 2, 29, 0, 0, 0).is_none());
        assert!(Timestamp::from_civil(2008, 2, 29, 0, 0, 0).is_some());
    }
}
