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
    pub(crate) fn new(t: &[f64], x: &[f64], model: Model, floor: f64, slope_cost: f64) -> Self {
        let mut s = Vec::with_capacity(x.len() + 1);
        let mut acc = [0.0f64; 6];
        s.push(acc);
        for (&ti, &xi) in t.iter().zip(x) {
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

    /// Residual sums of squares of segment `[a, b)` about its mean and
    /// about its least-squares line.
    pub(crate) fn rss(&self, a: usize, b: usize) -> (f64, f64) {
        let (Some(lo), Some(hi)) = (self.s.get(a), self.s.get(b)) else {
            return (0.0, 0.0);
        };
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

    /// −2·log-likelihood of a segment of `len` points with residual sum of
    /// squares `rss`, the variance profiled out over `v ≥ floor`.
    fn nll(&self, len: f64, rss: f64) -> f64 {
        let v = rss / len;
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
        match self.model {
            Model::Constant => self.nll(len, flat),
            Model::Linear => self.nll(len, line),
            Model::Either => self
                .nll(len, flat)
                .min(self.nll(len, line) + self.slope_cost),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_rss_of_a_line_is_zero_constant_is_not() {
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| 2.0 * t + 1.0).collect();
        let p = Prefix::new(&t, &x, Model::Linear, 1e-6, 0.0);
        assert!(p.rss(0, 10).1 < 1e-9);
        assert!((p.rss(0, 10).0 - 330.0).abs() < 1e-9);
        assert!((p.rss(2, 4).0 - 2.0).abs() < 1e-9);
    }

    #[test]
    fn splitting_never_costs_more() {
        let t: Vec<f64> = (0..30).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| (t * 0.7).sin() * 3.0 + t * 0.1).collect();
        for model in [Model::Constant, Model::Linear, Model::Either] {
            let p = Prefix::new(&t, &x, model, 0.01, 3.0);
            for b in 3..27 {
                let k = p.split_slack();
                assert!(p.cost(0, b) + p.cost(b, 30) <= p.cost(0, 30) + k + 1e-9);
            }
        }
    }
}
