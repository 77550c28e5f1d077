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
            TimeFormat::Auto => match fast_iso(s.as_bytes()) {
                Some(t) => Ok(Some(t)),
                None => Timestamp::parse(s).map(Some).map_err(|_| bad()),
            },
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

/// The forms feeds write millions of times, read without splitting:
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DDTHH:MM:SS[Z]`.
/// Anything else (offsets, fractions, Unix seconds) returns `None` and
/// goes through [`Timestamp::parse`].
fn fast_iso(b: &[u8]) -> Option<Timestamp> {
    let d2 = |i: usize| -> Option<u32> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    if !matches!(b.len(), 10 | 19 | 20) || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let y = i64::from(d2(0)? * 100 + d2(2)?);
    let (mo, d) = (d2(5)?, d2(8)?);
    if b.len() == 10 {
        return Timestamp::from_civil(y, mo, d, 0, 0, 0);
    }
    if !matches!(b.get(10), Some(b' ' | b'T'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if b.len() == 20 && b.get(19) != Some(&b'Z') {
        return None;
    }
    Timestamp::from_civil(y, mo, d, d2(11)?, d2(14)?, d2(17)?)
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
        assert_eq!(
            a.parse("2021-08-18").unwrap(),
            Some(ts("2021-08-18T00:00:00Z"))
        );
        assert_eq!(a.parse("").unwrap(), None);
        assert_eq!(a.parse("null").unwrap(), None);
        assert!(a.parse("yesterday").is_err());
        assert!(a.parse("2021-13-01").is_err());
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        for s in [
            "2008-11-11",
            "2008-11-11 21:30:05",
            "2008-11-11T21:30:05",
            "2008-11-11T21:30:05Z",
            "2000-02-29",
            "1999-12-31 23:59:59",
        ] {
            assert_eq!(fast_iso(s.as_bytes()), Some(ts(s)), "{s}");
        }
        for s in [
            "2008-11-11T21:30:05+01:00",
            "2008-1-11",
            "2008-13-01",
            "2001-02-29",
            "2008-11-11 24:00:00",
            "2008-11-11X21:30:05",
            "2008-11-11T21:30:05Q",
            "１２３４-11-11",
        ] {
            assert_eq!(fast_iso(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn declared_patterns() {
        let f = TimeFormat::from_decl("%d/%m/%Y %H:%M").unwrap();
        assert_eq!(
            f.parse("11/11/2008 21:30").unwrap(),
            Some(ts("2008-11-11T21:30:00Z"))
        );
        assert!(f.parse("11/11/2008 21:30:00").is_err());
        let f = TimeFormat::from_decl("%d %b %Y %H:%M:%S %z").unwrap();
        assert_eq!(
            f.parse("11 Nov 2008 23:30:00 +0200").unwrap(),
            Some(ts("2008-11-11T21:30:00Z"))
        );
        assert_eq!(
            TimeFormat::from_decl("unix-ms")
                .unwrap()
                .parse("1000")
                .unwrap(),
            Some(Timestamp(1_000_000))
        );
        assert!(TimeFormat::from_decl("%Y-%m").is_err());
        assert!(TimeFormat::from_decl("%Y-%m-%d %Q").is_err());
        assert!(TimeFormat::from_decl("yyyy-mm-dd").is_err());
        assert!(TimeFormat::from_decl("%Y-%m-%d %").is_err());
    }
}
