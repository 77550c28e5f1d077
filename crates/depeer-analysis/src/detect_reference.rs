//! The detector as first written (commit 968775d): straightforward PELT,
//! both likelihoods of every segment, a fresh selection per Hampel window,
//! a full sort for the quantiles. The optimised [`crate::detect`] must
//! return exactly what this returns, on every series: the speed work
//! changed no output, and this test keeps it so.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use crate::cost::{Model, Prefix};
use crate::detect::{Detection, Params, detect};

/// The cost as first written: both likelihoods, then their minimum.
struct RefCost {
    p: Prefix,
    model: Model,
    floor: f64,
    ln_floor: f64,
    slope_cost: f64,
}

impl RefCost {
    fn nll(&self, len: f64, rss: f64) -> f64 {
        let v = rss / len;
        if v <= self.floor {
            return len * self.ln_floor + rss / self.floor;
        }
        len * v.ln() + len
    }

    fn cost(&self, a: usize, b: usize) -> f64 {
        let len = b.saturating_sub(a) as f64;
        if len <= 0.0 {
            return 0.0;
        }
        let (flat, line) = self.p.rss(a, b);
        match self.model {
            Model::Constant => self.nll(len, flat),
            Model::Linear => self.nll(len, line),
            Model::Either => self
                .nll(len, flat)
                .min(self.nll(len, line) + self.slope_cost),
        }
    }

    fn split_slack(&self) -> f64 {
        match self.model {
            Model::Either => self.slope_cost,
            Model::Constant | Model::Linear => 0.0,
        }
    }
}

const GRID: usize = 1000;

fn reference_detect(values: &[Option<f64>], params: &Params) -> Detection {
    let n = values.len();
    let mut rows = Vec::with_capacity(n);
    let mut x = Vec::with_capacity(n);
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            rows.push(i);
            x.push(v);
        }
    }
    let m = params.min_segment.max(1);
    let none = Detection {
        n,
        change_points: Vec::new(),
    };
    if x.len() < 2 * m {
        return none;
    }
    let Some(z) = standardise(&x) else {
        return none;
    };
    let sigma = diff_sigma(&z);
    let z = match params.despike {
        Some(k) => hampel(&z, params.despike_half, k, sigma),
        None => z,
    };
    let scale = n.max(1) as f64;
    let t: Vec<f64> = rows.iter().map(|&r| r as f64 / scale).collect();
    let floor = params
        .floor
        .max(params.noise_floor * sigma)
        .powi(2)
        .max(1e-12);
    let ln_n = (x.len() as f64).ln();
    let prefix = RefCost {
        p: Prefix::new(t.iter().copied(), &z, params.model, floor, 0.0),
        model: params.model,
        floor,
        ln_floor: floor.ln(),
        slope_cost: params.slope_penalty * ln_n,
    };
    let beta = params.penalty * ln_n;
    let cuts = segment(&prefix, z.len(), m, beta);
    Detection {
        n,
        change_points: cuts
            .into_iter()
            .filter_map(|c| rows.get(c).copied())
            .collect(),
    }
}

fn standardise(x: &[f64]) -> Option<Vec<f64>> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p| crate::robust::sorted_quantile(&sorted, p);
    let med = q(0.5)?;
    let mut spread = q(0.95)? - q(0.05)?;
    if spread <= 0.0 {
        spread = q(1.0)? - q(0.0)?;
    }
    if !(spread > 0.0 && spread.is_finite()) {
        return None;
    }
    Some(x.iter().map(|v| (v - med) / spread).collect())
}

fn segment(p: &RefCost, len: usize, m: usize, beta: f64) -> Vec<usize> {
    let step = len.div_ceil(GRID).max(1);
    let mut positions: Vec<usize> = (0..len).step_by(step).collect();
    positions.push(len);
    if step == 1 {
        return pelt(p, &positions, m, beta);
    }
    // On the grid a change falls between two positions; a segment of one
    // or two steps straddling it would be cut off on its own, so the grid
    // search asks for three steps at least.
    let coarse = pelt(p, &positions, m.max(3 * step), beta);
    // Then exactly, over every position near a coarse cut: this places
    // each cut to the point and merges the pairs that straddled a change.
    let mut near = vec![0];
    for c in coarse {
        let lo = c.saturating_sub(2 * step).max(1);
        let hi = (c + 2 * step).min(len.saturating_sub(1));
        near.extend(lo..=hi);
    }
    near.push(len);
    near.sort_unstable();
    near.dedup();
    pelt(p, &near, m, beta)
}

fn pelt(p: &RefCost, positions: &[usize], m: usize, beta: f64) -> Vec<usize> {
    let k = positions.len();
    // f[i]: best penalised cost of the data before positions[i].
    let mut f = vec![f64::INFINITY; k];
    let mut last = vec![usize::MAX; k];
    if let Some(f0) = f.first_mut() {
        *f0 = -beta;
    }
    let mut candidates: Vec<usize> = vec![0];
    let mut values: Vec<f64> = Vec::new();
    let mut next_new = 1;
    let slack = p.split_slack();
    for i in 1..k {
        let Some(&t) = positions.get(i) else { break };
        // Cuts that now have a full segment before t become candidates.
        while let Some(&pos) = positions.get(next_new) {
            if next_new >= i || pos + m > t {
                break;
            }
            if f.get(next_new).is_some_and(|v| v.is_finite()) {
                candidates.push(next_new);
            }
            next_new += 1;
        }
        values.clear();
        let mut best = (f64::INFINITY, usize::MAX);
        for &j in &candidates {
            let (Some(&fj), Some(&tau)) = (f.get(j), positions.get(j)) else {
                values.push(f64::INFINITY);
                continue;
            };
            let v = fj + p.cost(tau, t);
            values.push(v);
            if v + beta < best.0 {
                best = (v + beta, j);
            }
        }
        if t < m {
            continue;
        }
        if let (Some(fi), Some(li)) = (f.get_mut(i), last.get_mut(i)) {
            *fi = best.0;
            *li = best.1;
        }
        // PELT pruning (see the cost module for K): a cut that cannot beat
        // the best now never will.
        let mut vi = values.iter();
        candidates.retain(|_| vi.next().is_some_and(|&v| v + slack <= best.0 + 1e-9));
    }
    let mut cuts = Vec::new();
    let mut i = k.saturating_sub(1);
    while let Some(&j) = last.get(i) {
        if j == 0 || j == usize::MAX {
            break;
        }
        if let Some(&pos) = positions.get(j) {
            cuts.push(pos);
        }
        i = j;
    }
    cuts.reverse();
    cuts
}

fn median(xs: &[f64]) -> Option<f64> {
    median_in_place(&mut xs.to_vec())
}

fn diff_sigma(xs: &[f64]) -> f64 {
    let d: Vec<f64> = xs
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(b - a),
            _ => None,
        })
        .collect();
    let Some(md) = median(&d) else { return 0.0 };
    let dev: Vec<f64> = d.iter().map(|x| (x - md).abs()).collect();
    let mad = median(&dev).unwrap_or(0.0);
    if mad > 0.0 {
        return 1.4826 * mad / std::f64::consts::SQRT_2;
    }
    // Quantised data (counts, rounded values) can have more than half of
    // its differences equal: the MAD is 0. The mean absolute deviation
    // (×√(π/2) for a Gaussian) still sees the noise.
    let mean_dev = dev.iter().sum::<f64>() / dev.len().max(1) as f64;
    1.2533 * mean_dev / std::f64::consts::SQRT_2
}

fn hampel(xs: &[f64], half: usize, k: f64, sigma: f64) -> Vec<f64> {
    let mut out = xs.to_vec();
    if sigma <= 0.0 || xs.len() < 2 * half + 1 {
        return out;
    }
    let mut window = Vec::with_capacity(2 * half + 1);
    for (i, slot) in out.iter_mut().enumerate() {
        let lo = i.saturating_sub(half);
        let hi = (i + half + 1).min(xs.len());
        window.clear();
        window.extend_from_slice(xs.get(lo..hi).unwrap_or_default());
        let Some(m) = median_in_place(&mut window) else {
            continue;
        };
        if (*slot - m).abs() > k * sigma {
            *slot = m;
        }
    }
    out
}

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

/// Seeded uniform numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// A series of one of several kinds: steps, variance changes, trends and
/// slope changes, seasonality, outliers, counts, plateaus (ties), missing
/// and hostile values.
fn series(rng: &mut Rng, n: usize) -> Vec<Option<f64>> {
    let kind = rng.below(9);
    let cps: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(n.max(1))).collect();
    let segment = |i: usize| cps.iter().filter(|&&c| i >= c).count() as f64;
    let scale = [1.0, 1e-6, 1e6, 3.0][rng.below(4)];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = segment(i);
        let x = i as f64 / n.max(1) as f64;
        let e = rng.gauss();
        let v = match kind {
            0 => e,
            1 => 4.0 * s + e,
            2 => e * (1.0 + 3.0 * s),
            3 => 10.0 * x + e,
            4 => 10.0 * x * s + e,
            5 => 3.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin() + 5.0 * s + e,
            6 => (2.0 + 3.0 * s + e).max(0.0).round(),
            7 => (s + e * 0.3).round(),
            _ => {
                if rng.below(20) == 0 {
                    e * 50.0
                } else {
                    e + 2.0 * s
                }
            }
        };
        out.push(match rng.below(60) {
            0 => None,
            1 => Some(f64::NAN),
            2 if kind == 8 => Some(f64::INFINITY),
            _ => Some(v * scale),
        });
    }
    out
}

#[test]
fn optimised_detect_returns_exactly_what_the_reference_returns() {
    let mut rng = Rng(0x5eed);
    let lengths = [
        0, 1, 9, 10, 11, 15, 20, 25, 30, 50, 75, 100, 150, 200, 300, 1200,
    ];
    let variants = [
        Params::default(),
        Params {
            model: Model::Constant,
            ..Params::default()
        },
        Params {
            model: Model::Linear,
            ..Params::default()
        },
        Params {
            despike: None,
            min_segment: 2,
            penalty: 2.0,
            ..Params::default()
        },
        Params {
            slope_penalty: 0.0,
            ..Params::default()
        },
    ];
    let mut compared = 0;
    for round in 0..60 {
        for &n in &lengths {
            if n > 300 && round % 10 != 0 {
                continue;
            }
            let xs = series(&mut rng, n);
            for params in &variants {
                let want: Detection = reference_detect(&xs, params);
                assert_eq!(detect(&xs, params), want, "round {round} n {n} {params:?}");
                compared += 1;
            }
        }
    }
    assert!(compared > 4000, "{compared}");
}
