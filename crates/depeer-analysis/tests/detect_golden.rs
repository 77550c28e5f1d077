//! `depeer_analysis::detect` against a golden corpus: the change points of
//! 4,000+ seeded series (steps, variance changes, trends and slope
//! changes, seasonality, counts, ties, missing and hostile values, lengths
//! 0 to 1,200) under five parameter sets, as the detector first written
//! (commit 968775d) gave them (tests/corpus/detect/README.md). A speed-up
//! must not change one of them. On a mismatch the outputs are written to
//! `golden.failed` beside the corpus; `DEPEER_BLESS=1` rewrites the corpus
//! (only for an intended change of results, said in the commit).

#![allow(clippy::indexing_slicing, clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::path::PathBuf;

use depeer_analysis::{Model, Params, detect};

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

fn outputs() -> String {
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
    let mut out = String::new();
    for round in 0..60 {
        for &n in &lengths {
            if n > 300 && round % 10 != 0 {
                continue;
            }
            let xs = series(&mut rng, n);
            for (v, params) in variants.iter().enumerate() {
                let d = detect(&xs, params);
                let cps: Vec<String> = d.change_points.iter().map(usize::to_string).collect();
                writeln!(out, "{round} {n} {v} {} {}", d.n, cps.join(",")).unwrap();
            }
        }
    }
    out
}

#[test]
fn detect_returns_the_golden_change_points() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/detect");
    let got = outputs();
    assert!(got.lines().count() > 4000, "{}", got.lines().count());
    let golden = dir.join("golden.txt");
    if std::env::var_os("DEPEER_BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    if got != want {
        std::fs::write(dir.join("golden.failed"), &got).unwrap();
        let first = got
            .lines()
            .zip(want.lines())
            .find(|(g, w)| g != w)
            .map(|(g, w)| format!("got `{g}`, want `{w}`"))
            .unwrap_or_else(|| "different line counts".into());
        panic!("detect changed its output ({first}); all of it is in golden.failed");
    }
}
