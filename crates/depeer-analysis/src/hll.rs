//! Distinct counts with HyperLogLog: how many different bot addresses a
//! botnet used in a window, mergeable across windows and workers.
//!
//! Invariants:
//! - The hash of an item is fixed (no per-process seed), so sketches built
//!   by different workers or on different days merge: the union's sketch is
//!   the register-wise maximum.
//! - Up to [`SPARSE_LIMIT`] distinct hashes are kept exactly (a sorted
//!   vector of 64-bit hashes), so small populations are counted without
//!   estimation error (collisions of 64-bit hashes aside). Past it the
//!   sketch turns dense: 2^[`PRECISION`] six-bit registers (stored one per
//!   byte), estimated with Ertl's improved raw estimator ("New cardinality
//!   estimation algorithms for HyperLogLog sketches", 2017), which needs no
//!   bias tables and is unbiased from small to large counts. The standard
//!   error at precision 14 is 1.04 / sqrt(16384) = 0.81 %.

use std::net::IpAddr;

/// Register-index bits of the dense sketch.
pub const PRECISION: u32 = 14;
const REGISTERS: usize = 1 << PRECISION;
/// Distinct hashes kept exactly before the sketch turns dense.
pub const SPARSE_LIMIT: usize = 4096;

/// A mergeable distinct-count sketch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hll {
    repr: Repr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// Sorted, deduplicated 64-bit hashes.
    Sparse(Vec<u64>),
    /// One register per byte, each the largest rank seen in its bucket.
    Dense(Box<[u8]>),
}

impl Default for Hll {
    fn default() -> Self {
        Hll::new()
    }
}

impl Hll {
    /// An empty sketch.
    pub fn new() -> Hll {
        Hll {
            repr: Repr::Sparse(Vec::new()),
        }
    }

    /// Adds an IP address (IPv4 and IPv6 hash differently: `10.0.0.1` and
    /// `::ffff:10.0.0.1` are distinct items).
    pub fn add_ip(&mut self, ip: IpAddr) {
        self.add_hash(hash_ip(ip));
    }

    /// Adds arbitrary bytes.
    pub fn add_bytes(&mut self, bytes: &[u8]) {
        self.add_hash(hash_bytes(bytes));
    }

    /// Adds an item by its 64-bit hash (which must be well mixed).
    pub fn add_hash(&mut self, h: u64) {
        match &mut self.repr {
            Repr::Sparse(v) => {
                if let Err(pos) = v.binary_search(&h) {
                    v.insert(pos, h);
                    if v.len() > SPARSE_LIMIT {
                        self.densify();
                    }
                }
            }
            Repr::Dense(regs) => dense_add(regs, h),
        }
    }

    /// Merges `other` into `self`: afterwards `self` estimates the size of
    /// the union.
    pub fn merge(&mut self, other: &Hll) {
        match &other.repr {
            Repr::Sparse(v) => {
                for &h in v {
                    self.add_hash(h);
                }
            }
            Repr::Dense(theirs) => {
                self.densify();
                if let Repr::Dense(mine) = &mut self.repr {
                    for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                        *m = (*m).max(*t);
                    }
                }
            }
        }
    }

    /// Whether the count is exact (the sketch is still sparse).
    pub fn is_exact(&self) -> bool {
        matches!(self.repr, Repr::Sparse(_))
    }

    /// The estimated number of distinct items added.
    pub fn estimate(&self) -> f64 {
        match &self.repr {
            Repr::Sparse(v) => v.len() as f64,
            Repr::Dense(regs) => ertl_estimate(regs),
        }
    }

    fn densify(&mut self) {
        if let Repr::Sparse(v) = &self.repr {
            let mut regs = vec![0u8; REGISTERS].into_boxed_slice();
            for &h in v {
                dense_add(&mut regs, h);
            }
            self.repr = Repr::Dense(regs);
        }
    }
}

fn dense_add(regs: &mut [u8], h: u64) {
    let idx = (h >> (64 - PRECISION)) as usize;
    // The rank: position of the first 1 bit in the remaining 50 bits, 1-based;
    // 51 when they are all zero.
    let rest = h << PRECISION;
    let rank = (rest.leading_zeros().min(64 - PRECISION) + 1) as u8;
    if let Some(r) = regs.get_mut(idx)
        && rank > *r
    {
        *r = rank;
    }
}

/// Ertl's improved raw estimator (Algorithm 6 of the paper), with q = 64 - p.
fn ertl_estimate(regs: &[u8]) -> f64 {
    let q = 64 - PRECISION as usize;
    let m = regs.len() as f64;
    let mut counts = vec![0u32; q + 2];
    for &r in regs {
        if let Some(c) = counts.get_mut(usize::from(r).min(q + 1)) {
            *c += 1;
        }
    }
    let count = |k: usize| f64::from(counts.get(k).copied().unwrap_or(0));
    let mut z = m * tau(1.0 - count(q + 1) / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + count(k));
    }
    z += m * sigma(count(0) / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_inf * m * m / z
}

fn sigma(x: f64) -> f64 {
    if x >= 1.0 {
        return f64::INFINITY;
    }
    let (mut x, mut y, mut z) = (x, 1.0, x);
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z == z_prev {
            return z;
        }
    }
}

fn tau(x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut x, mut y, mut z) = (x, 1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == z_prev {
            return z / 3.0;
        }
    }
}

/// The fixed 64-bit hash of an address (a SplitMix64-style finaliser over
/// its bytes): the same on every machine and run, so sketches merge.
pub fn hash_ip(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => mix(u64::from(u32::from(v4)) ^ 0x0400_0000_0000_0000),
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            mix(mix(n as u64) ^ ((n >> 64) as u64) ^ 0x0600_0000_0000_0000)
        }
    }
}

/// The fixed 64-bit hash of a byte string (FNV-1a, then the finaliser).
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761)))
    }

    #[test]
    fn small_counts_are_exact() {
        let mut h = Hll::new();
        for i in 0..3000 {
            h.add_ip(ip(i));
            h.add_ip(ip(i)); // duplicates do not count
        }
        assert!(h.is_exact());
        assert_eq!(h.estimate(), 3000.0);
    }

    #[test]
    fn large_counts_within_two_percent() {
        for n in [5_000u32, 20_000, 100_000, 1_000_000] {
            let mut h = Hll::new();
            for i in 0..n {
                h.add_ip(ip(i));
            }
            let err = (h.estimate() - f64::from(n)).abs() / f64::from(n);
            assert!(err < 0.02, "n={n}: estimate {} (error {err})", h.estimate());
        }
    }

    #[test]
    fn merge_equals_the_sketch_of_the_union() {
        let (mut a, mut b, mut both) = (Hll::new(), Hll::new(), Hll::new());
        for i in 0..60_000 {
            a.add_ip(ip(i));
            both.add_ip(ip(i));
        }
        for i in 40_000..90_000 {
            b.add_ip(ip(i));
            both.add_ip(ip(i));
        }
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(merged, both);
        // A sparse sketch merges into a dense one and back.
        let mut small = Hll::new();
        small.add_ip(ip(1_000_000));
        let mut m2 = small.clone();
        m2.merge(&a);
        let mut m3 = a.clone();
        m3.merge(&small);
        assert_eq!(m2, m3);
    }

    #[test]
    fn v4_and_v6_items_differ() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_ne!(hash_ip(v4), hash_ip(v6));
    }
}
