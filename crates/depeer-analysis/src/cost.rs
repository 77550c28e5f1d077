//! Segment costs in O(1) from prefix sums: −2·log-likelihood (constants
//! dropped) of a Gaussian segment whose mean is a constant or a straight
//! line and whose variance is its own, bounded below by a floor.
//!
//! The line matters: a smooth trend cut into constant pieces is a
//! staircase of false changes. The floor matters too: on a smooth series
//! the fitted variance of a short piece tends to zero and its
//! log-likelihood to +∞, so without a floor any cut "pays"; with it, a
//! deviation smaller than the floor (a fraction of the series' range, i.e.
//! invisible on a plot of the whole series) buys nothing.
//!
//! The cost is a minimum over a parameter set that grows when a segment is
//! split, so `C(a,b) + C(b,c) ≤ C(a,c)`: PELT's pruning with K = 0 is exact
//! (with [`Model::Either`], K is the slope's extra cost).

/// Which mean a segment has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// A constant mean (and a variance) per segment.
    Constant,
    /// A straight line (intercept, slope) and a variance per segment.
    Linear,
    /// Per segment, whichever is cheaper: a constant, or a line at an
    /// extra cost (the slope is one more parameter: BIC charges it ln n).
    /// Short series keep the power of the constant model for steps, and a
    /// smooth trend is still one segment.
    Either,
}

/// Prefix sums of 1, t, t², x, x², t·x over the series.
pub(crate) struct Prefix {
    s: Vec<[f64; 6]>,
    model: Model,
    floor: f64,
    ln_floor: f64,
    slope_cost: f64,
}

impl Prefix {
    /// `t` are the positions (any scale), `x` the values, both the same
    /// length; `slope_cost` is what [`Model::Either`] charges for a line.
    pub(crate) fn new(
        t: impl IntoIterator<Item = f64>,
        x: &[f64],
        model: Model,
        floor: f64,
        slope_cost: f64,
    ) -> Self {
        let mut s = Vec::with_capacity(x.len() + 1);
        let mut acc = [0.0f64; 6];
        s.push(acc);
        for (ti, &xi) in t.into_iter().zip(x) {
            acc[0] += 1.0;
            acc[1] += ti;
            acc[2] += ti * ti;
            acc[3] += xi;
            acc[4] += xi * xi;
            acc[5] += ti * xi;
            s.push(acc);
        }
        Prefix {
            s,
            model,
            floor,
            ln_floor: floor.ln(),
            slope_cost,
        }
    }

    /// The prefix row before position `i` (`i` in `0..=len`), for
    /// [`Prefix::cost_rows`].
    #[inline]
    pub(crate) fn row(&self, i: usize) -> Option<&[f64; 6]> {
        self.s.get(i)
    }

    /// Residual sums of squares of segment `[a, b)` about its mean and
    /// about its least-squares line.
    pub(crate) fn rss(&self, a: usize, b: usize) -> (f64, f64) {
        let (Some(lo), Some(hi)) = (self.s.get(a), self.s.get(b)) else {
            return (0.0, 0.0);
        };
        rss_rows(lo, hi)
    }

    /// −2·log-likelihood of a segment of `len` points with residual sum of
    /// squares `rss`, the variance profiled out over `v ≥ floor`.
    fn nll(&self, len: f64, rss: f64) -> f64 {
        self.nll_v(len, rss, rss / len)
    }

    /// [`Prefix::nll`] with `v = rss / len` already computed.
    #[inline]
    fn nll_v(&self, len: f64, rss: f64, v: f64) -> f64 {
        if v <= self.floor {
            // ln(floor) is computed once: on smooth series most segments
            // sit on the floor, and ln is the cost of this function.
            return len * self.ln_floor + rss / self.floor;
        }
        len * v.ln() + len
    }

    /// The cost of segment `[a, b)` under the model.
    pub(crate) fn cost(&self, a: usize, b: usize) -> f64 {
        let len = b.saturating_sub(a) as f64;
        if len <= 0.0 {
            return 0.0;
        }
        let (flat, line) = self.rss(a, b);
        self.cost_rss(len, flat, line)
    }

    /// [`Prefix::cost`] of the segment between prefix rows `lo` (at `a`)
    /// and `hi` (at `b`), `len = b − a > 0`: PELT's inner loop keeps the
    /// rows at hand instead of looking both up for every candidate.
    #[inline(always)]
    pub(crate) fn cost_rows(&self, lo: &[f64; 6], hi: &[f64; 6], len: f64) -> f64 {
        if len <= 0.0 {
            return 0.0;
        }
        let (flat, line) = rss_rows(lo, hi);
        self.cost_rss(len, flat, line)
    }

    #[inline(always)]
    fn cost_rss(&self, len: f64, flat: f64, line: f64) -> f64 {
        match self.model {
            Model::Constant => self.nll(len, flat),
            Model::Linear => self.nll(len, line),
            Model::Either => {
                // Each variance is computed once and shared by the test
                // below and the likelihoods (the same divisions as before).
                let (vf, vl) = (flat / len, line / len);
                match self.either_winner(len, flat, line, vf, vl) {
                    Some(false) => self.nll_v(len, flat, vf),
                    Some(true) => self.nll_v(len, line, vl) + self.slope_cost,
                    None => self
                        .nll_v(len, flat, vf)
                        .min(self.nll_v(len, line, vl) + self.slope_cost),
                }
            }
        }
    }

    /// Which of the constant (`false`) and the line (`true`) [`Model::Either`]
    /// takes, decided without a logarithm when the answer is certain, so
    /// that only the winner's `ln` is computed; `None` when unsure.
    ///
    /// With both variances (`vf`, `vl`) above the floor the line wins by
    /// `len·ln r − slope_cost`, `r = flat / line ≥ 1`, and
    /// `2(r−1)/(r+1) ≤ ln r ≤ r − 1` bounds `ln r`; both tests are
    /// multiplied out (no division). The margin `M` (1e-9 per point, or of
    /// the slope cost if larger) is far above the rounding of the tests
    /// and of either `nll` (< 1e-12 per point, |ln v| < 710), so the value
    /// returned is bit for bit the `min` of both; near-ties, the floor and
    /// non-finite sums take the exact path.
    #[inline]
    fn either_winner(&self, len: f64, flat: f64, line: f64, vf: f64, vl: f64) -> Option<bool> {
        let sc = self.slope_cost;
        if !(sc > 0.0 && vl > self.floor && vf > self.floor) {
            return None;
        }
        let margin = 1e-9 * len.max(sc);
        let gain = len * (flat - line);
        // len·(r − 1) < sc − M: the constant is cheaper.
        if gain < line * (sc - margin) {
            return Some(false);
        }
        // len·2(r − 1)/(r + 1) > sc + M: the line is cheaper.
        if 2.0 * gain > (sc + margin) * (flat + line) {
            return Some(true);
        }
        None
    }

    /// The K of PELT's pruning rule `F(τ) + C(τ, t) + K > F(t)`: splitting
    /// a segment never raises the cost by more than this.
    pub(crate) fn split_slack(&self) -> f64 {
        match self.model {
            Model::Either => self.slope_cost,
            Model::Constant | Model::Linear => 0.0,
        }
    }
}

/// Residual sums of squares about the mean and about the least-squares
/// line of the segment between prefix rows `lo` and `hi`.
#[inline]
fn rss_rows(lo: &[f64; 6], hi: &[f64; 6]) -> (f64, f64) {
    let [n, st, stt, sx, sxx, stx] = {
        let mut d = *hi;
        for (dk, lk) in d.iter_mut().zip(lo) {
            *dk -= lk;
        }
        d
    };
    if n <= 0.0 {
        return (0.0, 0.0);
    }
    let cxx = (sxx - sx * sx / n).max(0.0);
    let ctt = stt - st * st / n;
    let ctx = stx - st * sx / n;
    let line = if ctt > 1e-12 * stt.max(1e-300) {
        (cxx - ctx * ctx / ctt).max(0.0)
    } else {
        cxx
    };
    (cxx, line.min(cxx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_rss_of_a_line_is_zero_constant_is_not() {
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| 2.0 * t + 1.0).collect();
        let p = Prefix::new(t.iter().copied(), &x, Model::Linear, 1e-6, 0.0);
        assert!(p.rss(0, 10).1 < 1e-9);
        assert!((p.rss(0, 10).0 - 330.0).abs() < 1e-9);
        assert!((p.rss(2, 4).0 - 2.0).abs() < 1e-9);
    }

    #[test]
    fn splitting_never_costs_more() {
        let t: Vec<f64> = (0..30).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| (t * 0.7).sin() * 3.0 + t * 0.1).collect();
        for model in [Model::Constant, Model::Linear, Model::Either] {
            let p = Prefix::new(t.iter().copied(), &x, model, 0.01, 3.0);
            for b in 3..27 {
                let k = p.split_slack();
                assert!(p.cost(0, b) + p.cost(b, 30) <= p.cost(0, 30) + k + 1e-9);
            }
        }
    }
}
