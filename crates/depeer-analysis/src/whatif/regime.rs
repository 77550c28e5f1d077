//! Where a botnet's bots go now: the latest stretch of its observed
//! contacts in which the share going to the servers a cut darkens stayed
//! the same.
//!
//! A botnet that moved its C&C (as Srizbi did to Estonia two weeks after
//! McColo) is commanded from the new place while a week of contacts
//! still shows the old one; one that did not move is measured best by
//! all of its contacts. Weighing contacts by age serves the first and
//! costs the second (a one-day half-life keeps about a third of a week's
//! contacts: at 70 contacts, a split of 50/50 read as 64/36). So the
//! contacts, in time order, each dark or not under the cut, are cut
//! where a change of that share is clear (binary segmentation of a
//! Bernoulli sequence, Killick & Eckley's `changepoint` cost with a
//! penalty of [`PENALTY`]·ln n), and only the latest segment counts, all
//! of its contacts alike.
//!
//! Contacts seen at the same moment have no order among them, so a
//! change is only looked for between two different times.
//!
//! Invariants: the result is a start index into the contacts, at most
//! their number; each segment that a cut leaves is at least
//! [`MIN_SEGMENT`] contacts long and begins at a later time than the
//! one before it ends.

/// Penalty per change, times ln n of the contacts searched: 1.5 times
/// BIC's 2·ln n for the two parameters a change adds (its place and the
/// new share). A botnet whose split did not change is split anyway in
/// about 1 % of cases at 70 contacts and a 50/50 split, 2.4 % at 30,
/// 0.4 % at 200 (simulated, 4,000 sequences each; fewer at shares far
/// from one half); the test below checks 1,000 at 70.
pub const PENALTY: f64 = 3.0;
/// The fewest contacts on each side of a change.
pub const MIN_SEGMENT: usize = 5;

/// `n · H(k/n)` negated: the Bernoulli log-likelihood of `k` ones in `n`
/// at their own rate (0 for an empty or constant segment).
fn loglik(k: usize, n: usize) -> f64 {
    if n == 0 || k == 0 || k == n {
        return 0.0;
    }
    let (k, n) = (k as f64, n as f64);
    let m = n - k;
    k * (k / n).ln() + m * (m / n).ln()
}

/// The index at which the latest regime of `contacts` (`(time, dark)`
/// in time order) begins: 0 when the share never changed clearly.
#[must_use]
pub fn latest(contacts: &[(i64, bool)]) -> usize {
    let mut start = 0usize;
    // Each pass looks for the clearest change in the latest segment;
    // a segment only shrinks, so this ends.
    loop {
        let seg = contacts.get(start..).unwrap_or_default();
        match best_change(seg) {
            Some(at) => start += at,
            None => return start,
        }
    }
}

/// The clearest change point of `seg` whose gain beats the penalty, as
/// the index the later part begins at.
fn best_change(seg: &[(i64, bool)]) -> Option<usize> {
    let n = seg.len();
    if n < 2 * MIN_SEGMENT {
        return None;
    }
    let total = seg.iter().filter(|c| c.1).count();
    let whole = loglik(total, n);
    let penalty = PENALTY * (n as f64).ln();
    let mut ones = 0usize;
    let mut best: Option<(f64, usize)> = None;
    let mut prev_time = None;
    for (i, &(time, d)) in seg.iter().enumerate() {
        // `ones` = dark contacts in seg[..i].
        let new_time = prev_time.is_some_and(|p| p < time);
        prev_time = Some(time);
        if new_time && i >= MIN_SEGMENT && n - i >= MIN_SEGMENT {
            let gain = 2.0 * (loglik(ones, i) + loglik(total - ones, n - i) - whole);
            if gain > penalty && best.is_none_or(|(g, _)| gain > g) {
                best = Some((gain, i));
            }
        }
        ones += usize::from(d);
    }
    best.map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(dark, of)` blocks, the dark ones spread evenly within each
    /// block, one contact per time step.
    fn seq(parts: &[(usize, usize)]) -> Vec<(i64, bool)> {
        let mut v = Vec::new();
        for &(k, n) in parts {
            for i in 0..n {
                v.push(i * k / n.max(1) != (i + 1) * k / n.max(1));
            }
        }
        timed(&v)
    }

    fn timed(dark: &[bool]) -> Vec<(i64, bool)> {
        (0i64..).zip(dark.iter().copied()).collect()
    }

    #[test]
    fn a_steady_split_is_one_regime() {
        assert_eq!(latest(&seq(&[(35, 70)])), 0);
        assert_eq!(latest(&[]), 0);
        assert_eq!(latest(&timed(&[true; 3])), 0);
        assert_eq!(latest(&timed(&[true; 100])), 0);
    }

    #[test]
    fn a_steady_split_is_seldom_cut() {
        // 1,000 sequences of 70 contacts, each dark with probability
        // one half (a xorshift generator: the test is deterministic).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cut = 0;
        for _ in 0..1000 {
            let v: Vec<(i64, bool)> = (0..70)
                .map(|t| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (t, x >> 63 == 1)
                })
                .collect();
            cut += usize::from(latest(&v) > 0);
        }
        assert!(cut <= 25, "{cut} of 1000 steady sequences cut");
    }

    #[test]
    fn a_move_starts_a_new_regime() {
        // 120 contacts elsewhere, then 30 with the server the cut darkens.
        let mut v = vec![false; 120];
        v.extend([true; 30]);
        assert_eq!(latest(&timed(&v)), 120);
        // Two moves: the last one counts.
        let mut w = vec![false; 60];
        w.extend([true; 60]);
        w.extend(seq(&[(10, 40)]).iter().map(|c| c.1));
        assert_eq!(latest(&timed(&w)), 120);
    }

    #[test]
    fn a_small_drift_is_not_a_move() {
        // 50 % then 80 % over 30 contacts each: not clear enough.
        assert_eq!(latest(&seq(&[(15, 30), (24, 30)])), 0);
    }

    #[test]
    fn two_odd_contacts_at_the_end_are_not_a_move() {
        let mut v = vec![false; 100];
        v.extend([true; 2]);
        assert_eq!(latest(&timed(&v)), 0);
    }

    #[test]
    fn contacts_of_one_moment_are_never_split() {
        // 27 dark then 3 not, all seen at once: no order, no change.
        let mut v = vec![(7, true); 27];
        v.extend([(7, false); 3]);
        assert_eq!(latest(&v), 0);
        // The same after a day of other contacts: the cut may only fall
        // where the time changes.
        let mut w = vec![(1, false); 60];
        w.extend([(2, true); 40]);
        w.extend([(2, false); 10]);
        assert_eq!(latest(&w), 60);
    }

    #[test]
    fn the_loglik_of_constant_segments_is_zero() {
        assert_eq!(loglik(0, 10), 0.0);
        assert_eq!(loglik(10, 10), 0.0);
        assert!((loglik(5, 10) - 10.0 * 0.5f64.ln()).abs() < 1e-12);
    }
}
