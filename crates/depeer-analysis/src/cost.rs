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
//! split, so `C(a,b) + C(b,c) ≤ C(a,c)`: PELT's pruning with K = 0 is exact.

/// Which mean a segment has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// A constant mean (and a variance) per segment.
    Constant,
    /// A straight line (intercept, slope) and a variance per segment.
    Linear,
}

/// Prefix sums of 1, t, t², x, x², t·x over the series.
pub(crate) struct Prefix {
    s: Vec<[f64; 6]>,
    model: Model,
    floor: f64,
}

impl Prefix {
    /// `t` are the positions (any scale), `x` the values, both the same length.
    pub(crate) fn new(t: &[f64], x: &[f64], model: Model, floor: f64) -> Self {
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
        Prefix { s, model, floor }
    }

    /// Residual sum of squares of segment `[a, b)` under the model.
    pub(crate) fn rss(&self, a: usize, b: usize) -> f64 {
        let (Some(lo), Some(hi)) = (self.s.get(a), self.s.get(b)) else {
            return 0.0;
        };
        let [n, st, stt, sx, sxx, stx] = {
            let mut d = *hi;
            for (dk, lk) in d.iter_mut().zip(lo) {
                *dk -= lk;
            }
            d
        };
        if n <= 0.0 {
            return 0.0;
        }
        let cxx = sxx - sx * sx / n;
        let rss = match self.model {
            Model::Constant => cxx,
            Model::Linear => {
                let ctt = stt - st * st / n;
                let ctx = stx - st * sx / n;
                if ctt > 1e-12 * stt.max(1e-300) {
                    cxx - ctx * ctx / ctt
                } else {
                    cxx
                }
            }
        };
        rss.max(0.0)
    }

    /// −2·log-likelihood of segment `[a, b)` with its variance profiled
    /// out over `v ≥ floor`: `L·ln v + RSS / v`.
    pub(crate) fn cost(&self, a: usize, b: usize) -> f64 {
        let len = b.saturating_sub(a) as f64;
        if len <= 0.0 {
            return 0.0;
        }
        let rss = self.rss(a, b);
        let v = (rss / len).max(self.floor);
        len * v.ln() + rss / v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_rss_of_a_line_is_zero_constant_is_not() {
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| 2.0 * t + 1.0).collect();
        let lin = Prefix::new(&t, &x, Model::Linear, 1e-6);
        let con = Prefix::new(&t, &x, Model::Constant, 1e-6);
        assert!(lin.rss(0, 10) < 1e-9);
        assert!((con.rss(0, 10) - 330.0).abs() < 1e-9);
        assert!((con.rss(2, 4) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn splitting_never_costs_more() {
        let t: Vec<f64> = (0..30).map(f64::from).collect();
        let x: Vec<f64> = t.iter().map(|t| (t * 0.7).sin() * 3.0 + t * 0.1).collect();
        for model in [Model::Constant, Model::Linear] {
            let p = Prefix::new(&t, &x, model, 0.01);
            for b in 3..27 {
                assert!(p.cost(0, b) + p.cost(b, 30) <= p.cost(0, 30) + 1e-9);
            }
        }
    }
}
