//! Robust summaries (median, quantiles, MAD) and the Hampel filter that
//! takes isolated spikes out of a series before segmentation.
//!
//! Why: one wild point inflates the variance of whatever segment holds it,
//! and the likelihood then prefers to cut it off into a short segment of
//! its own: two false change points per outlier. Human annotators (and the
//! benchmark's instructions) do not call an outlier a change.

/// The `q`-quantile (0..=1) of the ascending `v` by linear interpolation;
/// `None` when empty.
pub(crate) fn sorted_quantile(v: &[f64], q: f64) -> Option<f64> {
    let last = v.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let a = *v.get(lo)?;
    let b = *v.get(hi)?;
    Some(a + (b - a) * (pos - lo as f64))
}

/// The median of `xs`; `None` when empty.
#[cfg(test)]
pub(crate) fn median(xs: &[f64]) -> Option<f64> {
    median_in_place(&mut xs.to_vec())
}

/// The noise standard deviation estimated from first differences:
/// `1.4826 · MAD(diff) / √2`. Differences cancel level shifts and slow
/// trends, and the MAD ignores the few large jumps at change points, so
/// this estimates the point-to-point noise even on a series full of
/// changes. Zero for series of fewer than three points.
pub(crate) fn diff_sigma(xs: &[f64]) -> f64 {
    let mut d: Vec<f64> = Vec::with_capacity(xs.len());
    d.extend(xs.windows(2).filter_map(|w| match w {
        [a, b] => Some(b - a),
        _ => None,
    }));
    // One scratch buffer of sort keys for both medians; `d` becomes the
    // deviations in place, in their original order (the fallback below
    // sums them).
    let mut scratch: Vec<i64> = d.iter().map(|&v| total_key(v)).collect();
    let Some(md) = median_of_keys(&mut scratch) else {
        return 0.0;
    };
    let mut dev = d;
    for x in &mut dev {
        *x = (*x - md).abs();
    }
    scratch.clear();
    scratch.extend(dev.iter().map(|&v| total_key(v)));
    let mad = median_of_keys(&mut scratch).unwrap_or(0.0);
    if mad > 0.0 {
        return 1.4826 * mad / std::f64::consts::SQRT_2;
    }
    // Quantised data (counts, rounded values) can have more than half of
    // its differences equal: the MAD is 0. The mean absolute deviation
    // (×√(π/2) for a Gaussian) still sees the noise.
    let mean_dev = dev.iter().sum::<f64>() / dev.len().max(1) as f64;
    1.2533 * mean_dev / std::f64::consts::SQRT_2
}

/// Replaces each point further than `k · sigma` from the median of the
/// `2·half + 1` points around it by that median (a Hampel filter).
/// A level shift survives: beside a step, most of the window lies on the
/// point's own side, so the local median follows the step.
pub(crate) fn hampel(xs: &[f64], half: usize, k: f64, sigma: f64) -> Vec<f64> {
    let mut out = xs.to_vec();
    if sigma <= 0.0 || xs.len() < 2 * half + 1 {
        return out;
    }
    // The window slides one point at a time, so it is kept sorted (in the
    // `total_cmp` order, where equal means bit-identical) and updated by
    // one removal and one insertion: the same median as selecting in a
    // fresh copy of each window, without re-ordering 2·half + 1 points per
    // point.
    let mut window: Vec<f64> = Vec::with_capacity(2 * half + 1);
    let (mut lo, mut hi) = (0, 0);
    for (i, slot) in out.iter_mut().enumerate() {
        let want_lo = i.saturating_sub(half);
        let want_hi = (i + half + 1).min(xs.len());
        while lo < want_lo {
            if let Some(&v) = xs.get(lo) {
                sorted_remove(&mut window, v);
            }
            lo += 1;
        }
        while hi < want_hi {
            if let Some(&v) = xs.get(hi) {
                sorted_insert(&mut window, v);
            }
            hi += 1;
        }
        let Some(m) = sorted_median(&window) else {
            continue;
        };
        if (*slot - m).abs() > k * sigma {
            *slot = m;
        }
    }
    out
}

/// Inserts `v` into the `total_cmp`-ascending `w`.
fn sorted_insert(w: &mut Vec<f64>, v: f64) {
    let at = w.partition_point(|x| x.total_cmp(&v).is_lt());
    w.insert(at, v);
}

/// Removes one element bit-identical to `v` from the ascending `w`.
fn sorted_remove(w: &mut Vec<f64>, v: f64) {
    let at = w.partition_point(|x| x.total_cmp(&v).is_lt());
    if w.get(at).is_some_and(|x| x.total_cmp(&v).is_eq()) {
        w.remove(at);
    }
}

/// The median of the `total_cmp`-ascending `v`, computed exactly as
/// [`median_in_place`] does; `None` when empty.
fn sorted_median(v: &[f64]) -> Option<f64> {
    let n = v.len();
    let upper = *v.get(n / 2)?;
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = *v.get((n / 2).checked_sub(1)?)?;
    Some((lower + upper) / 2.0)
}

/// The integer whose order is `f64::total_cmp`'s (the transformation
/// `total_cmp` itself makes): selecting and sorting integers is several
/// times cheaper than calling the comparison, and gives the same values.
pub(crate) fn total_key(v: f64) -> i64 {
    let k = v.to_bits() as i64;
    k ^ ((((k >> 63) as u64) >> 1) as i64)
}

/// The inverse of [`total_key`] (the transformation is an involution).
pub(crate) fn from_total_key(k: i64) -> f64 {
    f64::from_bits((k ^ ((((k >> 63) as u64) >> 1) as i64)) as u64)
}

/// The median of the values whose [`total_key`]s are `keys`, exactly as
/// [`median_in_place`] gives it (reorders `keys`); `None` when empty.
fn median_of_keys(keys: &mut [i64]) -> Option<f64> {
    let n = keys.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (below, &mut upper, _) = keys.select_nth_unstable(mid);
    let upper = from_total_key(upper);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = from_total_key(below.iter().copied().max()?);
    Some((lower + upper) / 2.0)
}

/// The median by selection (reorders `v`); `None` when empty.
#[cfg(test)]
fn median_in_place(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (below, &mut upper, _) = v.get_mut(..)?.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = below.iter().copied().max_by(f64::total_cmp)?;
    Some((lower + upper) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_median() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(sorted_quantile(&[0.0, 10.0], 0.25), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[2.0, 1.0]), Some(1.5));
    }

    #[test]
    fn diff_sigma_ignores_a_level_shift() {
        // Noise of a known size (uniform on ±1: sd 1/√3) plus a big step.
        let mut state = 12345u64;
        let xs: Vec<f64> = (0..2000)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                2.0 * u - 1.0 + if i < 1000 { 0.0 } else { 50.0 }
            })
            .collect();
        let s = diff_sigma(&xs);
        let want = 1.0 / 3f64.sqrt();
        assert!((s - want).abs() < 0.15 * want, "{s} vs {want}");
    }

    #[test]
    fn diff_sigma_of_quantised_data_is_not_zero() {
        let xs: Vec<f64> = (0..100)
            .map(|i| if i % 7 == 0 { 1.0 } else { 0.0 })
            .collect();
        assert!(diff_sigma(&xs) > 0.1);
    }

    /// The filter as first written: a fresh selection per window.
    fn hampel_by_selection(xs: &[f64], half: usize, k: f64, sigma: f64) -> Vec<f64> {
        let mut out = xs.to_vec();
        if sigma <= 0.0 || xs.len() < 2 * half + 1 {
            return out;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(xs.len());
            let m = median_in_place(&mut xs[lo..hi].to_vec()).unwrap();
            if (*slot - m).abs() > k * sigma {
                *slot = m;
            }
        }
        out
    }

    #[test]
    fn sliding_hampel_is_bit_identical_to_selection() {
        let mut state = 99u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..300 {
            let n = 1 + case % 60;
            // Ties, signed zeros, huge and non-finite values included.
            let xs: Vec<f64> = (0..n)
                .map(|_| match (next() * 10.0) as u32 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => (next() * 3.0).floor(),
                    3 => f64::INFINITY,
                    4 => f64::NAN,
                    5 => 1e300 * (next() - 0.5),
                    _ => next() * 4.0 - 2.0,
                })
                .collect();
            for half in [0, 1, 3, 5] {
                let a = hampel(&xs, half, 2.0, 0.3);
                let b = hampel_by_selection(&xs, half, 2.0, 0.3);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "case {case} half {half}: {xs:?}");
            }
        }
    }

    #[test]
    fn total_keys_order_as_total_cmp_and_invert() {
        let vs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            1e300,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for a in vs {
            assert_eq!(from_total_key(total_key(a)).to_bits(), a.to_bits());
            for b in vs {
                assert_eq!(total_key(a).cmp(&total_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
        let mut state = 3u64;
        for n in 1..100 {
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 40) % 7) as f64 - 3.0
                })
                .collect();
            let mut keys: Vec<i64> = xs.iter().map(|&v| total_key(v)).collect();
            let want = median_in_place(&mut xs.clone()).unwrap();
            assert_eq!(median_of_keys(&mut keys).unwrap().to_bits(), want.to_bits());
        }
    }

    #[test]
    fn hampel_removes_a_spike_keeps_a_step() {
        let mut xs: Vec<f64> = (0..40).map(|i| if i < 20 { 0.0 } else { 10.0 }).collect();
        xs[7] = 100.0;
        let y = hampel(&xs, 3, 3.0, 1.0);
        assert_eq!(y[7], 0.0);
        assert_eq!(&y[15..25], &xs[15..25]);
    }
}
