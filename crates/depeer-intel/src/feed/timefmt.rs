//! Feed timestamps: the forms publishers use (`2021-01-17 07:30:05`,
//! RFC 3339 with an offset, a bare date, Unix seconds) and, for mapping
//! files, a declared `strftime`-style pattern. Times without a zone are UTC
//! (abuse.ch says so in its column names: `first_seen_utc`).

use depeer_core::Timestamp;

/// How one column's times are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    /// Whatever [`Timestamp::parse`] accepts: RFC 3339 (with `Z` or an
    /// offset), `YYYY-MM-DD[ HH:MM[:SS[.frac]]]`, or Unix seconds.
    Auto,
    /// Unix seconds.
    Unix,
    /// Unix milliseconds.
    UnixMs,
    /// A pattern of `%Y %m %d %H %M %S %b %z %%` and literal characters.
    Pattern(Vec<Piece>),
}

/// One element of a time pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    Year,
    Month,
    MonthName,
    Day,
    Hour,
    Minute,
    Second,
    Offset,
    Lit(char),
}

impl TimeFormat {
    /// Reads a declared format: `auto`, `unix`, `unix-ms`, `rfc3339` or a
    /// pattern containing `%`.
    pub(crate) fn from_decl(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" | "rfc3339" | "iso8601" => return Ok(TimeFormat::Auto),
            "unix" | "epoch" => return Ok(TimeFormat::Unix),
            "unix-ms" | "unix_ms" | "epoch-ms" => return Ok(TimeFormat::UnixMs),
            _ => {}
        }
        if !s.contains('%') {
            return Err(format!(
                "time format {s:?}: use auto, unix, unix-ms, rfc3339 or a pattern such as \"%Y-%m-%d %H:%M:%S\""
            ));
        }
        let mut out = Vec::new();
        let mut it = s.chars();
        let mut has = [false; 3];
        while let Some(c) = it.next() {
            if c != '%' {
                out.push(Piece::Lit(c));
                continue;
            }
            let p = match it.next() {
                Some('Y') => Piece::Year,
                Some('m') => Piece::Month,
                Some('b') => Piece::MonthName,
                Some('d') => Piece::Day,
                Some('H') => Piece::Hour,
                Some('M') => Piece::Minute,
                Some('S') => Piece::Second,
                Some('z') => Piece::Offset,
                Some('%') => Piece::Lit('%'),
                Some(o) => {
                    return Err(format!(
                        "time format {s:?}: %{o} is not supported (use %Y %m %b %d %H %M %S %z %%)"
                    ));
                }
                None => return Err(format!("time format {s:?} ends with a lone %")),
            };
            match p {
                Piece::Year => has[0] = true,
                Piece::Month | Piece::MonthName => has[1] = true,
                Piece::Day => has[2] = true,
                _ => {}
            }
            out.push(p);
        }
        if has != [true, true, true] {
            return Err(format!(
                "time format {s:?} needs a year (%Y), a month (%m or %b) and a day (%d)"
            ));
        }
        Ok(TimeFormat::Pattern(out))
    }

    /// Parses one value; an empty value (or `null`, `None`, `-`) is `None`.
    pub(crate) fn parse(&self, s: &str) -> Result<Option<Timestamp>, String> {
        let s = s.trim();
        if s.is_empty() || s == "-" || s.eq_ignore_ascii_case("null") || s == "None" {
            return Ok(None);
        }
        let bad = || format!("cannot read time {s:?}");
        match self {
            TimeFormat::Auto => Timestamp::parse(s).map(Some).map_err(|_| bad()),
            TimeFormat::Unix => s
                .parse::<i64>()
                .map(|v| Some(Timestamp::from_secs(v)))
                .map_err(|_| bad()),
            TimeFormat::UnixMs => s
                .parse::<i64>()
                .map(|v| Some(Timestamp(v.saturating_mul(1000))))
                .map_err(|_| bad()),
            TimeFormat::Pattern(p) => parse_pattern(p, s).map(Some).ok_or_else(bad),
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn parse_pattern(pieces: &[Piece], s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let mut i = 0usize;
    let (mut y, mut mo, mut d, mut h, mut mi, mut se) = (0i64, 0u32, 0u32, 0u32, 0u32, 0u32);
    let mut offset: i64 = 0;
    let num = |i: &mut usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i - start < max && b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        s.get(start..*i)?.parse().ok()
    };
    for p in pieces {
        match p {
            Piece::Year => y = i64::from(num(&mut i, 4)?),
            Piece::Month => mo = num(&mut i, 2)?,
            Piece::Day => d = num(&mut i, 2)?,
            Piece::Hour => h = num(&mut i, 2)?,
            Piece::Minute => mi = num(&mut i, 2)?,
            Piece::Second => se = num(&mut i, 2)?,
            Piece::MonthName => {
                let name = s.get(i..i + 3)?.to_ascii_lowercase();
                mo = MONTHS.iter().position(|m| *m == name)? as u32 + 1;
                i += 3;
            }
            Piece::Offset => {
                if matches!(b.get(i), Some(b'Z' | b'z')) {
                    i += 1;
                    continue;
                }
                let sign = match b.get(i)? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                i += 1;
                let oh = i64::from(num(&mut i, 2)?);
                if b.get(i) == Some(&b':') {
                    i += 1;
                }
                let om = i64::from(num(&mut i, 2)?);
                offset = sign * (oh * 3600 + om * 60);
            }
            Piece::Lit(c) => {
                let mut tmp = [0u8; 4];
                let enc = c.encode_utf8(&mut tmp).as_bytes();
                if b.get(i..i + enc.len())? != enc {
                    return None;
                }
                i += enc.len();
            }
        }
    }
    if i != b.len() {
        return None;
    }
    let t = Timestamp::from_civil(y, mo, d, h, mi, se)?;
    Some(Timestamp(t.0 - offset * 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn auto_reads_publisher_forms() {
        let a = TimeFormat::Auto;
        let want = ts("2021-01-17T07:30:05Z");
        assert_eq!(a.parse("2021-01-17 07:30:05").unwrap(), Some(want));
        assert_eq!(a.parse("2021-01-17T07:30:05+00:00").unwrap(), Some(want));
        assert_eq!(a.parse("2021-01-17T09:30:05+02:00").unwrap(), Some(want));
        assert_eq!(a.parse("1610868605").unwrap(), Some(want));
        assert_eq!(a.parse("2021-08-18").unwrap(), Some(ts("2021-08-18T00:00:00Z")));
        assert_eq!(a.parse("").unwrap(), None);
        assert_eq!(a.parse("null").unwrap(), None);
        assert!(a.parse("yesterday").is_err());
        assert!(a.parse("2021-13-01").is_err());
    }

    #[test]
    fn declared_patterns() {
        let f = TimeFormat::from_decl("%d/%m/%Y %H:%M").unwrap();
        assert_eq!(f.parse("11/11/2008 21:30").unwrap(), Some(ts("2008-11-11T21:30:00Z")));
        assert!(f.parse("11/11/2008 21:30:00").is_err());
        let f = TimeFormat::from_decl("%d %b %Y %H:%M:%S %z").unwrap();
        assert_eq!(
            f.parse("11 Nov 2008 23:30:00 +0200").unwrap(),
            Some(ts("2008-11-11T21:30:00Z"))
        );
        assert_eq!(TimeFormat::from_decl("unix-ms").unwrap().parse("1000").unwrap(), Some(Timestamp(1_000_000)));
        assert!(TimeFormat::from_decl("%Y-%m").is_err());
        assert!(TimeFormat::from_decl("%Y-%m-%d %Q").is_err());
        assert!(TimeFormat::from_decl("yyyy-mm-dd").is_err());
        assert!(TimeFormat::from_decl("%Y-%m-%d %").is_err());
    }
}
