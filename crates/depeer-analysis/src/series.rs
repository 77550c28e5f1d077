//! Volume series: weighted counts per time bucket and key, zero-filled
//! between a start and an end so that a change-point detector reads a
//! regular series (a missing bucket is a zero, not a gap).
//!
//! Invariants:
//! - Times are Unix microseconds (UTC). A bucket is `[start, start + step)`
//!   with `start` a multiple of the step (buckets align to the epoch, so
//!   hours start on the hour).
//! - Every key that received a weight gets every bucket of the range, in
//!   time order; rows are ordered by key, then time, so one key's rows are
//!   one contiguous series.
//! - The total weight of the rows equals the weight added inside the range
//!   (points outside it are counted in [`Bucketer::outside`]).

use std::collections::{BTreeMap, HashMap};

/// Microseconds in a second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// The most rows (buckets × keys) a series may have: a second-resolution
/// series of a month per key is 2.6 million rows; this bounds memory.
pub const MAX_SERIES_ROWS: usize = 20_000_000;

/// A bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step(i64);

/// A step, duration or series that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeriesError {
    /// The text is not a duration such as `1s`, `5m`, `1h`, `1d`.
    #[error("{text:?} is not a duration (use a number and s, m, h or d: 1s, 1m, 1h, 24h, 7d)")]
    BadDuration {
        /// The text given.
        text: String,
    },
    /// The series would have too many rows.
    #[error(
        "{buckets} buckets x {keys} keys is more than {limit} rows: use a longer --step or a shorter --from/--until range"
    )]
    TooLarge {
        /// Buckets in the range.
        buckets: u64,
        /// Keys.
        keys: usize,
        /// The limit ([`MAX_SERIES_ROWS`]).
        limit: usize,
    },
}

/// Parses `90s`, `1m`, `1h`, `24h`, `7d` (a positive whole number and a
/// unit) into microseconds.
///
/// # Errors
/// [`SeriesError::BadDuration`] for anything else.
pub fn parse_duration(text: &str) -> Result<i64, SeriesError> {
    let bad = || SeriesError::BadDuration {
        text: text.to_string(),
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let unit_secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_secs)
        .and_then(|s| s.checked_mul(MICROS_PER_SECOND))
        .filter(|&us| us > 0)
        .ok_or_else(bad)
}

impl Step {
    /// The default step: one hour.
    pub const HOUR: Step = Step(3600 * MICROS_PER_SECOND);

    /// A step of `micros` microseconds (at least one second).
    pub fn from_micros(micros: i64) -> Step {
        Step(micros.max(MICROS_PER_SECOND))
    }

    /// Parses `1s`, `1m`, `1h` (any [`parse_duration`] text of at least a
    /// second).
    ///
    /// # Errors
    /// [`SeriesError::BadDuration`].
    pub fn parse(text: &str) -> Result<Step, SeriesError> {
        parse_duration(text).map(Step::from_micros)
    }

    /// The width in microseconds.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The start of the bucket holding `t`.
    pub fn floor(self, t: i64) -> i64 {
        t.div_euclid(self.0).saturating_mul(self.0)
    }
}

/// One row of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    /// Start of the bucket (Unix microseconds).
    pub start: i64,
    /// The key (`total`, a botnet, an AS number...).
    pub key: String,
    /// The weight that fell into the bucket (a count unless weights were
    /// split).
    pub value: f64,
}

/// Collects weighted points and turns them into zero-filled rows.
#[derive(Debug, Clone)]
pub struct Bucketer {
    step: Step,
    from: Option<i64>,
    until: Option<i64>,
    keys: HashMap<String, BTreeMap<i64, f64>>,
    min: Option<i64>,
    max: Option<i64>,
    outside: u64,
}

impl Bucketer {
    /// A series of `step` over `[from, until)`; an open end is the first
    /// (last) point's bucket.
    pub fn new(step: Step, from: Option<i64>, until: Option<i64>) -> Bucketer {
        Bucketer {
            step,
            from,
            until,
            keys: HashMap::new(),
            min: None,
            max: None,
            outside: 0,
        }
    }

    /// Adds `weight` at time `t` under `key`; a point outside the range is
    /// only counted.
    pub fn add(&mut self, t: i64, key: &str, weight: f64) {
        if self.from.is_some_and(|f| t < f) || self.until.is_some_and(|u| t >= u) {
            self.outside += 1;
            return;
        }
        let b = self.step.floor(t);
        self.min = Some(self.min.map_or(b, |m| m.min(b)));
        self.max = Some(self.max.map_or(b, |m| m.max(b)));
        if !self.keys.contains_key(key) {
            self.keys.insert(key.to_string(), BTreeMap::new());
        }
        if let Some(per_key) = self.keys.get_mut(key) {
            *per_key.entry(b).or_insert(0.0) += weight;
        }
    }

    /// Points left out because they fell outside `[from, until)`.
    pub fn outside(&self) -> u64 {
        self.outside
    }

    /// Makes sure `key` has a row in every bucket even if nothing was added
    /// under it (e.g. `total` of an empty range).
    pub fn ensure_key(&mut self, key: &str) {
        self.keys.entry(key.to_string()).or_default();
    }

    /// The bucket starts of the range, in order.
    fn bucket_range(&self) -> Option<(i64, i64)> {
        let first = self.from.map(|f| self.step.floor(f)).or(self.min)?;
        let last = self
            .until
            .map(|u| self.step.floor(u.saturating_sub(1)))
            .or(self.max)?;
        (first <= last).then_some((first, last))
    }

    /// The rows: every key (sorted) × every bucket of the range (in time
    /// order), zero where nothing fell.
    ///
    /// # Errors
    /// [`SeriesError::TooLarge`] past [`MAX_SERIES_ROWS`].
    pub fn rows(self) -> Result<Vec<SeriesRow>, SeriesError> {
        let Some((first, last)) = self.bucket_range() else {
            return Ok(Vec::new());
        };
        let step = self.step.micros();
        let buckets = u64::try_from((last - first) / step + 1).unwrap_or(u64::MAX);
        let total = buckets.saturating_mul(self.keys.len() as u64);
        if total > MAX_SERIES_ROWS as u64 {
            return Err(SeriesError::TooLarge {
                buckets,
                keys: self.keys.len(),
                limit: MAX_SERIES_ROWS,
            });
        }
        let mut keys: Vec<(String, BTreeMap<i64, f64>)> = self.keys.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for (key, counts) in keys {
            let mut t = first;
            while t <= last {
                out.push(SeriesRow {
                    start: t,
                    key: key.clone(),
                    value: counts.get(&t).copied().unwrap_or(0.0),
                });
                t += step;
            }
        }
        Ok(out)
    }
}

/// Splits one unit of weight equally over `keys` (deduplicated): what a
/// message counts for each of several hosting ASes.
pub fn split_equally<'k>(keys: &'k [String]) -> impl Iterator<Item = (&'k str, f64)> + 'k {
    let mut uniq: Vec<&str> = keys.iter().map(String::as_str).collect();
    uniq.sort_unstable();
    uniq.dedup();
    let w = if uniq.is_empty() {
        0.0
    } else {
        1.0 / uniq.len() as f64
    };
    uniq.into_iter().map(move |k| (k, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * MICROS_PER_SECOND;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(MICROS_PER_SECOND));
        assert_eq!(parse_duration("24h"), Ok(24 * H));
        assert_eq!(parse_duration("7d"), Ok(7 * 24 * H));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("1y").is_err());
        assert_eq!(
            Step::parse("1m").map(Step::micros),
            Ok(60 * MICROS_PER_SECOND)
        );
    }

    #[test]
    fn zero_filled_between_from_and_until() {
        let mut b = Bucketer::new(Step::HOUR, Some(0), Some(4 * H));
        b.add(H + 5, "a", 1.0);
        b.add(H + 7, "a", 1.0);
        b.add(3 * H, "b", 0.5);
        b.add(5 * H, "b", 1.0); // outside
        b.add(-1, "b", 1.0); // outside
        assert_eq!(b.outside(), 2);
        let rows = b.rows().unwrap();
        let got: Vec<(i64, &str, f64)> = rows
            .iter()
            .map(|r| (r.start / H, r.key.as_str(), r.value))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "a", 0.0),
                (1, "a", 2.0),
                (2, "a", 0.0),
                (3, "a", 0.0),
                (0, "b", 0.0),
                (1, "b", 0.0),
                (2, "b", 0.0),
                (3, "b", 0.5),
            ]
        );
    }

    #[test]
    fn open_range_spans_the_points_and_totals_are_kept() {
        let mut b = Bucketer::new(Step::from_micros(60 * MICROS_PER_SECOND), None, None);
        let mut n = 0.0;
        for i in 0..1000i64 {
            b.add(
                1_226_000_000 * MICROS_PER_SECOND + i * 7_919_000,
                "total",
                1.0,
            );
            n += 1.0;
        }
        let rows = b.rows().unwrap();
        assert_eq!(rows.iter().map(|r| r.value).sum::<f64>(), n);
        assert!(
            rows.windows(2)
                .all(|w| w[1].start - w[0].start == 60 * MICROS_PER_SECOND)
        );
        assert!(rows.iter().any(|r| r.value == 0.0) || rows.len() < 200);
    }

    #[test]
    fn empty_key_and_too_large() {
        let mut b = Bucketer::new(Step::HOUR, Some(0), Some(2 * H));
        b.ensure_key("total");
        assert_eq!(b.rows().unwrap().len(), 2);
        let mut big = Bucketer::new(Step::from_micros(1), Some(0), Some(1_000_000 * H));
        big.add(0, "x", 1.0);
        assert!(matches!(big.rows(), Err(SeriesError::TooLarge { .. })));
    }

    #[test]
    fn splitting_is_equal_and_deduplicated() {
        let keys = vec!["2".to_string(), "1".to_string(), "2".to_string()];
        let got: Vec<(&str, f64)> = split_equally(&keys).collect();
        assert_eq!(got, vec![("1", 0.5), ("2", 0.5)]);
        assert_eq!(split_equally(&[]).count(), 0);
    }
}
