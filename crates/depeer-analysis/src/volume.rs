//! Volume events: abrupt drops and rises in a message-count series.
//!
//! [`detect`](crate::detect) is the general detector for any real series;
//! spam volume is a special one, and this module uses what is known about
//! it: the values are counts (Poisson noise, scaled by an over-dispersion
//! measured from the series itself), the rate follows the time of day,
//! and the events that matter are steps of a sizeable relative change
//! (a depeering removes a share of the botnets at once), not slow growth.
//!
//! The method, on a regular grid of `step` seconds:
//! 1. **Seasonal profile.** For every whole UTC day and hour of day, the
//!    hour's rate relative to the day's; the profile is the median over
//!    days (so a day with an event counts once, among others), normalised
//!    to mean 1. Fewer than two whole days: a flat profile. Counts are
//!    divided by the profile of their hour.
//! 2. **Coarse search.** The deseasonalised counts are summed per block
//!    (`block`, an hour by default) and split by binary segmentation with
//!    the Poisson log-likelihood ratio divided by the dispersion φ
//!    (estimated from differences of neighbouring blocks, at least 1); a
//!    split needs a gain above `penalty`·ln(blocks), segments of at least
//!    `min_blocks` blocks, and a relative change of at least `min_effect`
//!    between the blocks next to it on each side (`local_blocks`), so a
//!    slow trend is not cut into steps.
//! 3. **Refinement.** Each cut is placed at full resolution inside the
//!    blocks around it by the same likelihood over the neighbouring
//!    segments; its interval is every position whose likelihood is within
//!    2·φ of the best (a profile-likelihood interval).
//! 4. **Magnitude.** The rate of the `horizon` after the cut against the
//!    rate before it (back to the previous cut, at most `horizon`), minus
//!    one: −0.66 is a two-thirds drop. Its interval is ±1.96 standard
//!    errors of the log ratio, from φ and the counts, widened by the
//!    spread of the block rates.
//! 5. **Confidence.** 1 − exp(−(gain − threshold)/threshold), 0..1: how far
//!    the evidence clears the bar that made it an event.
//!
//! Cost: two passes over the fine series plus O(blocks · log blocks) for
//! the search and O(points in the refined blocks) per event.

/// Tuning of [`volume_events`]; the defaults are what `depeer events` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeParams {
    /// Seconds per input point.
    pub step: i64,
    /// Seconds per coarse block (a multiple of `step`; rounded down).
    pub block: i64,
    /// Smallest relative change reported (0.15: ±15 %).
    pub min_effect: f64,
    /// Gain threshold per split: `penalty` · ln(number of blocks), in
    /// units of the dispersion-scaled log-likelihood.
    pub penalty: f64,
    /// Shortest segment, in blocks.
    pub min_blocks: usize,
    /// Blocks on each side of a cut that must show `min_effect`.
    pub local_blocks: usize,
    /// Seconds after (and at most before) a cut over which its magnitude
    /// is measured.
    pub horizon: i64,
}

impl Default for VolumeParams {
    fn default() -> Self {
        VolumeParams {
            step: 60,
            block: 3600,
            min_effect: 0.15,
            penalty: 6.0,
            min_blocks: 2,
            local_blocks: 3,
            horizon: 86_400,
        }
    }
}

/// Whether the rate fell or rose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The rate fell.
    Drop,
    /// The rate rose.
    Rise,
}

impl Direction {
    /// `drop` or `rise`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Drop => "drop",
            Direction::Rise => "rise",
        }
    }
}

/// One abrupt change of the rate.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeEvent {
    /// Index of the first point at the new rate.
    pub index: usize,
    /// Lowest and highest index the change may be at (inclusive).
    pub low: usize,
    /// See `low`.
    pub high: usize,
    /// Deseasonalised rate per point before and after.
    pub before: f64,
    /// See `before`.
    pub after: f64,
    /// `after / before − 1`.
    pub magnitude: f64,
    /// 95 % interval of `magnitude`.
    pub magnitude_low: f64,
    /// See `magnitude_low`.
    pub magnitude_high: f64,
    /// 0..1.
    pub confidence: f64,
    /// Drop or rise.
    pub direction: Direction,
}

/// Finds the abrupt rate changes of `counts` (one count per `params.step`
/// seconds, the first at Unix time `start`, in seconds). Never panics;
/// series shorter than four blocks give no events.
#[must_use]
pub fn volume_events(counts: &[f64], start: i64, params: &VolumeParams) -> Vec<VolumeEvent> {
    volume_events_in_parts(counts, &[], start, params)
}

/// Like [`volume_events`] on `total`, with each event placed in time by
/// the parts the total is the sum of (per botnet, say), when given: a
/// common change point of the parts, each at its own rates before and
/// after (the sum of their log-likelihood gains). A depeering takes some
/// botnets to nothing and leaves the others as they were, which the parts
/// show far more sharply than their sum. Detection and magnitude stay the
/// total's. Parts longer than `total` are cut to its length.
#[must_use]
pub fn volume_events_in_parts(
    total: &[f64],
    parts: &[Vec<f64>],
    start: i64,
    params: &VolumeParams,
) -> Vec<VolumeEvent> {
    let grid = Grid::new(start, params.step, params.block, total.len());
    let raw = grid.block_sums(total);
    if raw.len() < 4 {
        return Vec::new();
    }
    let factors = grid.factors(&raw);
    let sums = Sums::new(total, &grid, &factors, Some(&raw));
    let phi = dispersion(&sums.blocks, &sums.points, grid.per_block);
    let threshold = params.penalty * (raw.len() as f64).ln().max(1.0);
    let coarse = coarse_cuts(&sums, phi, threshold, params);
    let cuts = merge_straddling(coarse, &sums, params.min_blocks);
    let part_sums: Vec<Sums<'_>> = parts
        .iter()
        .map(|p| Sums::new(p, &grid, &factors, None))
        .collect();
    let locators: &[Sums<'_>] = if parts.is_empty() {
        std::slice::from_ref(&sums)
    } else {
        &part_sums
    };
    // Coarse cut b starts at the first point of block b.
    let coarse_at: Vec<usize> = cuts.iter().map(|&(b, _)| grid.block_start(b)).collect();
    let bound = |k: usize| -> usize {
        match k {
            0 => 0,
            _ => coarse_at.get(k - 1).copied().unwrap_or(total.len()),
        }
    };
    let mut fine = Vec::with_capacity(cuts.len());
    for (k, &(_, gain)) in cuts.iter().enumerate() {
        let (lo, at, hi) = (bound(k), bound(k + 1), bound(k + 2));
        // Two blocks each side: on a sparse series (a botnet of a few
        // messages a minute whose last stragglers arrive after its C&C is
        // gone) the coarse cut can land a block late, and the refinement
        // must still reach the change.
        let reach = REFINE_BLOCKS * grid.per_block;
        let window = (at.saturating_sub(reach), (at + reach).min(hi));
        let (at, low, high) = refine(locators, lo, hi, window, phi);
        fine.push((at, (low, high), gain));
    }
    let ctx = EventCtx {
        sums: &sums,
        phi,
        threshold,
        horizon_points: usize::try_from((params.horizon / grid.step).max(1)).unwrap_or(1),
    };
    let mut events = Vec::with_capacity(fine.len());
    let mut prev = 0;
    for &(at, interval, gain) in &fine {
        if let Some(e) = ctx.event(prev, at, interval, gain)
            && e.magnitude.abs() >= params.min_effect
        {
            events.push(e);
        }
        prev = at;
    }
    events
}

/// Blocks each side of a coarse cut that its refinement searches.
const REFINE_BLOCKS: usize = 2;

/// A count as the model reads it: NaN or negative is 0, +∞ the largest
/// finite value (`max`/`min` compile to branch-free instructions).
// Not `clamp`: `f64::clamp` keeps NaN, `max` drops it.
#[allow(clippy::manual_clamp)]
fn clean(c: f64) -> f64 {
    c.max(0.0).min(f64::MAX)
}

/// Sum of the cleaned values of `xs`, eight lanes at a time (independent
/// accumulators, so the compiler vectorises it: this and the block sums
/// are the only passes over every point).
fn sum_clean(xs: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&c| clean(c)).sum();
    for chunk in chunks {
        for (l, &c) in lanes.iter_mut().zip(chunk) {
            *l += clean(c);
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// How points fall into blocks. Blocks are aligned to multiples of the
/// block length in Unix time (UTC hours for the default hour), so every
/// point of a block shares one hour of the day; the first and last block
/// may be partial.
#[derive(Debug, Clone, Copy)]
struct Grid {
    start: i64,
    step: i64,
    /// Points per whole block (1 when the block is not a multiple of the
    /// step).
    per_block: usize,
    /// Points of block 0 that lie before `start`.
    phase: usize,
    /// Points in the series.
    n: usize,
    /// Whether blocks are UTC hours, so an hour-of-day profile applies.
    hourly: bool,
}

impl Grid {
    fn new(start: i64, step: i64, block: i64, n: usize) -> Grid {
        let step = step.max(1);
        let aligned = block >= step && block % step == 0;
        let per_block = if aligned {
            usize::try_from(block / step).unwrap_or(1).max(1)
        } else {
            1
        };
        let block_secs = i64::try_from(per_block).unwrap_or(1).saturating_mul(step);
        let phase = usize::try_from(start.rem_euclid(block_secs) / step).unwrap_or(0);
        Grid {
            start,
            step,
            per_block,
            phase,
            n,
            hourly: aligned && block == 3600,
        }
    }

    fn block_of(&self, i: usize) -> usize {
        (i + self.phase) / self.per_block
    }

    /// First point of block `b` (0 for block 0).
    fn block_start(&self, b: usize) -> usize {
        (b * self.per_block).saturating_sub(self.phase).min(self.n)
    }

    /// Raw sums and point counts per block.
    fn block_sums(&self, xs: &[f64]) -> Vec<(f64, usize)> {
        let first = (self.per_block - self.phase.min(self.per_block - 1)).min(xs.len());
        let (head, rest) = xs.split_at(first.min(xs.len()));
        let mut out = Vec::with_capacity(xs.len() / self.per_block + 2);
        if !head.is_empty() {
            out.push((sum_clean(head), head.len()));
        }
        out.extend(rest.chunks(self.per_block).map(|c| (sum_clean(c), c.len())));
        out
    }

    /// Hour of the day (0..24) of block `b`'s start.
    fn hour_of_block(&self, b: usize) -> usize {
        let t = self.start + (i64::try_from(self.block_start(b)).unwrap_or(0) * self.step);
        usize::try_from(t.rem_euclid(86_400) / 3600).unwrap_or(0)
    }

    /// The seasonal factor of every block: its hour's share of the day
    /// (median over whole days, mean 1), 1 everywhere when the blocks are
    /// not hours or fewer than two whole days are present.
    fn factors(&self, raw: &[(f64, usize)]) -> Vec<f64> {
        let flat = vec![1.0; raw.len()];
        if !self.hourly {
            return flat;
        }
        let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 24];
        let mut b = 0;
        while b < raw.len() {
            if self.hour_of_block(b) != 0 {
                b += 1;
                continue;
            }
            let day = raw.get(b..b + 24).unwrap_or(&[]);
            if day.len() == 24 && day.iter().all(|d| d.1 == self.per_block) {
                let mean = day.iter().map(|d| d.0).sum::<f64>() / 24.0;
                if mean > 0.0 {
                    for (r, d) in ratios.iter_mut().zip(day) {
                        r.push(d.0 / mean);
                    }
                }
            }
            b += 24;
        }
        if ratios.first().is_none_or(|r| r.len() < 2) {
            return flat;
        }
        let mut profile = [1.0; 24];
        for (p, r) in profile.iter_mut().zip(ratios.iter_mut()) {
            *p = median(r).max(0.05);
        }
        let mean = profile.iter().sum::<f64>() / 24.0;
        (0..raw.len())
            .map(|b| profile.get(self.hour_of_block(b)).copied().unwrap_or(1.0) / mean)
            .collect()
    }
}

/// Median of `xs` (reorders it; O(n)); 1 when empty.
fn median(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return 1.0;
    }
    let (below, &mut mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return mid;
    }
    // The largest of the lower half is the other middle value.
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + mid) / 2.0
}

/// Over-dispersion of whole-block counts: the median of d²/(a+b) over
/// neighbouring whole blocks a, b (χ²₁ under Poisson noise, median
/// 0.4549), at least 1.
fn dispersion(blocks: &[f64], points: &[usize], per_block: usize) -> f64 {
    let mut r: Vec<f64> = blocks
        .windows(2)
        .zip(points.windows(2))
        .filter_map(|(w, p)| match (w, p) {
            ([a, b], [pa, pb]) if a + b > 0.0 && *pa == per_block && *pb == per_block => {
                Some((a - b).powi(2) / (a + b))
            }
            _ => None,
        })
        .collect();
    if r.is_empty() {
        return 1.0;
    }
    (median(&mut r) / 0.4549).max(1.0)
}

/// Poisson log-likelihood (up to terms that cancel) of a segment with
/// total `sum` over `n` points at its own rate.
fn seg_ll(sum: f64, n: f64) -> f64 {
    if sum <= 0.0 || n <= 0.0 {
        0.0
    } else {
        sum * (sum / n).ln() - sum
    }
}

/// Deseasonalised sums of one series over any range of points in
/// O(points per block): whole blocks from a prefix of block sums, the
/// partial blocks at the ends from the points themselves.
#[derive(Debug)]
struct Sums<'a> {
    xs: &'a [f64],
    grid: Grid,
    factors: &'a [f64],
    /// Deseasonalised block sums and point counts.
    blocks: Vec<f64>,
    points: Vec<usize>,
    /// Prefix of `blocks` (one longer) and of `points`.
    prefix: Vec<f64>,
    prefix_points: Vec<usize>,
}

impl<'a> Sums<'a> {
    /// `raw`: `grid.block_sums(xs)` when the caller has it already.
    fn new(
        xs: &'a [f64],
        grid: &Grid,
        factors: &'a [f64],
        raw: Option<&[(f64, usize)]>,
    ) -> Sums<'a> {
        let xs = xs.get(..grid.n.min(xs.len())).unwrap_or(&[]);
        let own;
        let raw = match raw {
            Some(r) => r,
            None => {
                own = grid.block_sums(xs);
                &own
            }
        };
        let blocks: Vec<f64> = raw.iter().zip(factors).map(|(r, f)| r.0 / f).collect();
        let points: Vec<usize> = raw.iter().map(|r| r.1).collect();
        let mut prefix = Vec::with_capacity(blocks.len() + 1);
        let mut prefix_points = Vec::with_capacity(blocks.len() + 1);
        let (mut acc, mut accp) = (0.0, 0);
        prefix.push(0.0);
        prefix_points.push(0);
        for (b, p) in blocks.iter().zip(&points) {
            acc += b;
            accp += p;
            prefix.push(acc);
            prefix_points.push(accp);
        }
        Sums {
            xs,
            grid: *grid,
            factors,
            blocks,
            points,
            prefix,
            prefix_points,
        }
    }

    /// Deseasonalised value of point `i`.
    fn at(&self, i: usize) -> f64 {
        let f = self
            .factors
            .get(self.grid.block_of(i))
            .copied()
            .unwrap_or(1.0);
        clean(self.xs.get(i).copied().unwrap_or(0.0)) / f
    }

    /// Deseasonalised sum over points `a..b`.
    fn sum(&self, a: usize, b: usize) -> f64 {
        let b = b.min(self.xs.len());
        if a >= b {
            return 0.0;
        }
        let (ba, bb) = (self.grid.block_of(a), self.grid.block_of(b - 1));
        if ba == bb {
            return (a..b).map(|i| self.at(i)).sum();
        }
        let head_end = self.grid.block_start(ba + 1);
        let tail_start = self.grid.block_start(bb);
        let whole = self.prefix.get(bb).copied().unwrap_or(0.0)
            - self.prefix.get(ba + 1).copied().unwrap_or(0.0);
        (a..head_end).map(|i| self.at(i)).sum::<f64>()
            + whole
            + (tail_start..b).map(|i| self.at(i)).sum::<f64>()
    }

    /// Block sums over blocks `a..b` and their point count.
    fn block_range(&self, a: usize, b: usize) -> (f64, f64) {
        let get = |v: &[f64], i: usize| {
            v.get(i.min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        let getp = |v: &[usize], i: usize| {
            v.get(i.min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        let b = b.max(a);
        (
            get(&self.prefix, b) - get(&self.prefix, a),
            (getp(&self.prefix_points, b) - getp(&self.prefix_points, a)) as f64,
        )
    }

    /// Log-likelihood gain of cutting blocks `a..b` at block `t`.
    fn block_gain(&self, a: usize, t: usize, b: usize) -> f64 {
        let (l, nl) = self.block_range(a, t);
        let (r, nr) = self.block_range(t, b);
        seg_ll(l, nl) + seg_ll(r, nr) - seg_ll(l + r, nl + nr)
    }

    /// Rate per point over blocks `a..b` (0 when empty).
    fn block_rate(&self, a: usize, b: usize) -> f64 {
        let (s, n) = self.block_range(a, b);
        if n > 0.0 { s / n } else { 0.0 }
    }
}

/// Binary segmentation over the blocks: the accepted cuts (block index,
/// gain in dispersion units), ascending.
fn coarse_cuts(
    sums: &Sums<'_>,
    phi: f64,
    threshold: f64,
    params: &VolumeParams,
) -> Vec<(usize, f64)> {
    let min = params.min_blocks.max(1);
    let mut cuts = Vec::new();
    let mut work = vec![(0usize, sums.blocks.len())];
    while let Some((a, b)) = work.pop() {
        if b < a + 2 * min {
            continue;
        }
        let best = (a + min..=b - min)
            .filter(|&t| local_effect(sums, a, t, b, params.local_blocks) >= params.min_effect)
            .map(|t| (t, sums.block_gain(a, t, b) / phi))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((t, gain)) = best
            && gain > threshold
        {
            cuts.push((t, gain));
            work.push((a, t));
            work.push((t, b));
        }
    }
    cuts.sort_by_key(|c| c.0);
    cuts
}

/// A step inside a block leaves that block at an intermediate level, and
/// binary segmentation may cut on both of its sides: of two cuts at most
/// `min_blocks` apart that move the rate the same way, keeps the one with
/// the larger gain (refinement then places it inside the blocks).
fn merge_straddling(
    cuts: Vec<(usize, f64)>,
    sums: &Sums<'_>,
    min_blocks: usize,
) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = Vec::with_capacity(cuts.len());
    let up = |c: usize| {
        sums.block_rate(c.saturating_sub(min_blocks), c) < sums.block_rate(c, c + min_blocks)
    };
    for (t, gain) in cuts {
        match out.last_mut() {
            Some(last) if t <= last.0 + min_blocks.max(1) && up(t) == up(last.0) => {
                if gain > last.1 {
                    *last = (t, gain);
                }
            }
            _ => out.push((t, gain)),
        }
    }
    out
}

/// Relative change between the `k` blocks before `t` and the `k` after
/// (within `a..b`), as |ratio − 1| of the larger over the smaller rate.
fn local_effect(sums: &Sums<'_>, a: usize, t: usize, b: usize, k: usize) -> f64 {
    let before = sums.block_rate(t.saturating_sub(k).max(a), t);
    let after = sums.block_rate(t, (t + k).min(b));
    let (lo, hi) = if before < after {
        (before, after)
    } else {
        (after, before)
    };
    if lo <= 0.0 {
        if hi > 0.0 { f64::INFINITY } else { 0.0 }
    } else {
        hi / lo - 1.0
    }
}

/// The best cut of points `lo..hi` inside `window` for the series in
/// `locators` together (the sum of their gains, each at its own rates),
/// and the gain profile's interval (positions within 2·φ of the best).
/// O(window + points per block) per locator: running sums from the
/// window's start.
fn refine(
    locators: &[Sums<'_>],
    lo: usize,
    hi: usize,
    window: (usize, usize),
    phi: f64,
) -> (usize, usize, usize) {
    let (w0, w1) = (window.0.max(lo + 1), window.1.min(hi.saturating_sub(1)));
    if w0 >= w1 {
        return (window.0, window.0, window.0);
    }
    let mut gains = vec![0.0; w1 - w0 + 1];
    for s in locators {
        let whole = s.sum(lo, hi);
        let mut left = s.sum(lo, w0);
        for (k, g) in gains.iter_mut().enumerate() {
            let t = w0 + k;
            if k > 0 {
                left += s.at(t - 1);
            }
            let (nl, nr) = ((t - lo) as f64, (hi - t) as f64);
            *g += seg_ll(left, nl) + seg_ll(whole - left, nr) - seg_ll(whole, nl + nr);
        }
    }
    let Some((k, &g)) = gains.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)) else {
        return (window.0, window.0, window.0);
    };
    let near = gains
        .iter()
        .enumerate()
        .filter(|p| *p.1 >= g - 2.0 * phi)
        .map(|p| w0 + p.0);
    let best = w0 + k;
    let low = near.clone().min().unwrap_or(best);
    let high = near.max().unwrap_or(best);
    (best, low, high)
}

/// What turning a refined cut into an event needs.
struct EventCtx<'a> {
    sums: &'a Sums<'a>,
    phi: f64,
    threshold: f64,
    horizon_points: usize,
}

impl EventCtx<'_> {
    /// The event at `at`, between the previous cut `prev` and the next
    /// `next`.
    /// `interval`: where the likelihood of the placement is within 2·φ of
    /// the best (from the same refinement that placed `at`).
    fn event(
        &self,
        prev: usize,
        at: usize,
        (low, high): (usize, usize),
        gain: f64,
    ) -> Option<VolumeEvent> {
        let n = self.sums.xs.len();
        let b0 = at.saturating_sub(self.horizon_points).max(prev);
        let a1 = (at + self.horizon_points).min(n);
        let (sb, sa) = (self.sums.sum(b0, at), self.sums.sum(at, a1));
        let (nb, na) = ((at - b0) as f64, (a1.saturating_sub(at)) as f64);
        if nb <= 0.0 || na <= 0.0 || sb <= 0.0 {
            return None;
        }
        let (before, after) = (sb / nb, sa / na);
        let ratio = after / before;
        let se = self.log_ratio_se(sb, sa, (b0, at, a1));
        let log_ratio = ratio.max(1e-9).ln();
        let confidence = 1.0 - (-(gain - self.threshold).max(0.0) / self.threshold).exp();
        Some(VolumeEvent {
            index: at,
            low,
            high,
            before,
            after,
            magnitude: ratio - 1.0,
            magnitude_low: (log_ratio - 1.96 * se).exp() - 1.0,
            magnitude_high: (log_ratio + 1.96 * se).exp() - 1.0,
            confidence,
            direction: if ratio < 1.0 {
                Direction::Drop
            } else {
                Direction::Rise
            },
        })
    }

    /// Standard error of ln(after/before): Poisson with dispersion φ, or
    /// the spread of the block rates on each side when larger.
    fn log_ratio_se(&self, sb: f64, sa: f64, (b0, at, a1): (usize, usize, usize)) -> f64 {
        let poisson = (self.phi * (1.0 / sb + 1.0 / sa.max(1.0))).sqrt();
        let grid = &self.sums.grid;
        let spread = |a: usize, b: usize| -> f64 {
            let (ba, bb) = (grid.block_of(a), grid.block_of(b.saturating_sub(1)) + 1);
            let xs = self
                .sums
                .blocks
                .get(ba..bb.min(self.sums.blocks.len()))
                .unwrap_or(&[]);
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n.max(1.0);
            if n < 2.0 || mean <= 0.0 {
                return 0.0;
            }
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            var / (n * mean * mean)
        };
        poisson.max((spread(b0, at) + spread(at, a1)).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic Poisson-ish series: rate `rate(i)` per minute with
    /// an hour-of-day profile, counts drawn by a small LCG.
    fn series(n: usize, rate: impl Fn(usize) -> f64, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut next = move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64) / ((1u64 << 53) as f64)
        };
        (0..n)
            .map(|i| {
                let hour = (i / 60) % 24;
                let diurnal = 0.5 + (hour as f64 / 24.0 * std::f64::consts::TAU).sin().abs();
                let lambda = rate(i) * diurnal;
                // Poisson by inversion (small lambdas) or normal approximation.
                if lambda < 30.0 {
                    let (mut k, mut p, l) = (0.0, 1.0, (-lambda).exp());
                    loop {
                        p *= next();
                        if p <= l {
                            break k;
                        }
                        k += 1.0;
                    }
                } else {
                    let (u1, u2) = (next().max(1e-12), next());
                    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    (lambda + z * lambda.sqrt()).round().max(0.0)
                }
            })
            .collect()
    }

    const DAY: usize = 1440;

    #[test]
    fn a_two_thirds_drop_is_found_in_time_with_its_size() {
        let cut = 4 * DAY + 21 * 60 + 32;
        let xs = series(8 * DAY, |i| if i < cut { 40.0 } else { 40.0 * 0.34 }, 7);
        let ev = volume_events(&xs, 0, &VolumeParams::default());
        assert_eq!(ev.len(), 1, "{ev:?}");
        let e = &ev[0];
        assert_eq!(e.direction, Direction::Drop);
        assert!(e.index.abs_diff(cut) <= 10, "{e:?}");
        assert!(e.low <= cut && cut <= e.high, "{e:?}");
        assert!((e.magnitude + 0.66).abs() < 0.05, "{e:?}");
        assert!(e.magnitude_low < e.magnitude && e.magnitude < e.magnitude_high);
        assert!(e.confidence > 0.9, "{e:?}");
    }

    #[test]
    fn drops_anywhere_of_any_size_from_20_percent_are_placed_and_sized() {
        let mut worst = (0usize, 0.0f64);
        for k in 0..24u64 {
            let cut = 3 * DAY + ((k * 7919) % (2 * DAY as u64)) as usize;
            let drop = 0.2 + 0.75 * (k as f64 / 23.0);
            let rate = if k % 2 == 0 { 3.0 } else { 60.0 };
            let xs = series(
                7 * DAY,
                |i| if i < cut { rate } else { rate * (1.0 - drop) },
                k + 100,
            );
            let ev = volume_events(&xs, 0, &VolumeParams::default());
            assert_eq!(ev.len(), 1, "cut {cut} drop {drop} rate {rate}: {ev:?}");
            let e = &ev[0];
            // The interval covers the truth; at 60 a minute the place is
            // within 10 minutes (at 3 a minute a 20 % step is not that sharp).
            assert!(
                e.low <= cut + 5 && cut <= e.high + 5,
                "cut {cut} drop {drop} rate {rate}: {e:?}"
            );
            assert!(
                (e.magnitude + drop).abs() < 0.05,
                "cut {cut} drop {drop} rate {rate}: {e:?}"
            );
            if rate > 10.0 {
                assert!(
                    e.index.abs_diff(cut) <= 10,
                    "cut {cut} drop {drop} rate {rate}: {e:?}"
                );
                worst = (
                    worst.0.max(e.index.abs_diff(cut)),
                    worst.1.max((e.magnitude + drop).abs()),
                );
            }
        }
        eprintln!(
            "worst time error {} min, worst magnitude error {:.3}",
            worst.0, worst.1
        );
    }

    #[test]
    fn parts_place_a_small_total_drop_to_the_minute() {
        // 2 a minute in all; a quarter of it (one botnet) stops.
        let (mut worst_total, mut worst_parts) = (0, 0);
        for seed in 0..12u64 {
            let cut = 3 * DAY + 617 + (seed as usize * 331) % DAY;
            let gone = series(6 * DAY, |i| if i < cut { 0.5 } else { 0.0 }, 2 * seed + 1);
            let kept = series(6 * DAY, |_| 1.5, 2 * seed + 2);
            let total: Vec<f64> = gone.iter().zip(&kept).map(|(a, b)| a + b).collect();
            let alone = volume_events(&total, 0, &VolumeParams::default());
            let parts = vec![gone, kept];
            let placed = volume_events_in_parts(&total, &parts, 0, &VolumeParams::default());
            assert_eq!(placed.len(), 1, "seed {seed}: {placed:?}");
            let e = &placed[0];
            assert!(e.index.abs_diff(cut) <= 10, "seed {seed} cut {cut}: {e:?}");
            // The profile-likelihood interval is approximate (a change
            // point is not a regular parameter): the truth within 5 minutes.
            assert!(
                e.low <= cut + 5 && cut <= e.high + 5,
                "seed {seed} cut {cut}: {e:?}"
            );
            assert!((e.magnitude + 0.25).abs() < 0.05, "seed {seed}: {e:?}");
            worst_parts = worst_parts.max(e.index.abs_diff(cut));
            if let Some(a) = alone.first() {
                worst_total = worst_total.max(a.index.abs_diff(cut));
            }
        }
        eprintln!("worst time error: total alone {worst_total} min, with parts {worst_parts} min");
    }

    #[test]
    fn a_sparse_part_with_stragglers_is_placed_at_its_fall() {
        // A botnet of half a message a minute stops at minute 47 of an
        // hour and three stragglers arrive over the next 70 minutes (the
        // Estonian cut of mccolo-2008 seed 21 at scale 10): the coarse cut
        // can land on the second hour boundary after the fall, and the
        // refinement must still reach back to it. The stragglers pull the
        // likelihood's best after them now and then (a third of a minute's
        // worth of the part's rate each); with one block each side two
        // seeds here were placed 107 and 73 minutes off.
        let mut close = 0;
        for seed in 0..12u64 {
            let cut = 3 * DAY + 47 + 60 * (seed as usize * 7 % 24);
            let mut gone = series(6 * DAY, |i| if i < cut { 0.5 } else { 0.0 }, 2 * seed + 1);
            for late in [cut + 15, cut + 31, cut + 70] {
                if let Some(x) = gone.get_mut(late) {
                    *x = 1.0;
                }
            }
            let kept = series(6 * DAY, |_| 1.5, 2 * seed + 2);
            let total: Vec<f64> = gone.iter().zip(&kept).map(|(a, b)| a + b).collect();
            let parts = vec![gone, kept];
            let placed = volume_events_in_parts(&total, &parts, 0, &VolumeParams::default());
            assert_eq!(placed.len(), 1, "seed {seed}: {placed:?}");
            let e = &placed[0];
            assert!(e.index.abs_diff(cut) <= 60, "seed {seed} cut {cut}: {e:?}");
            close += usize::from(e.index.abs_diff(cut) <= 10);
        }
        assert!(close >= 10, "{close} of 12 within 10 minutes");
    }

    #[test]
    fn a_quiet_fortnight_with_growth_has_no_event() {
        for seed in 1..6 {
            let xs = series(
                14 * DAY,
                |i| 20.0 * (1.0 + 0.2 * i as f64 / (14 * DAY) as f64),
                seed,
            );
            let ev = volume_events(&xs, 0, &VolumeParams::default());
            assert!(ev.is_empty(), "seed {seed}: {ev:?}");
        }
    }

    #[test]
    fn a_drop_and_its_recovery_are_two_events() {
        let (down, up) = (3 * DAY + 600, 5 * DAY + 100);
        let xs = series(
            8 * DAY,
            |i| if (down..up).contains(&i) { 10.0 } else { 30.0 },
            3,
        );
        let ev = volume_events(&xs, 0, &VolumeParams::default());
        let kinds: Vec<_> = ev.iter().map(|e| (e.direction, e.index)).collect();
        assert_eq!(ev.len(), 2, "{kinds:?}");
        assert_eq!(ev[0].direction, Direction::Drop);
        assert_eq!(ev[1].direction, Direction::Rise);
        assert!(
            ev[0].index.abs_diff(down) <= 10 && ev[1].index.abs_diff(up) <= 10,
            "{kinds:?}"
        );
    }

    #[test]
    fn a_small_step_is_not_an_event_and_short_or_empty_series_are_fine() {
        let xs = series(6 * DAY, |i| if i < 3 * DAY { 30.0 } else { 30.0 * 0.95 }, 5);
        assert!(volume_events(&xs, 0, &VolumeParams::default()).is_empty());
        assert!(volume_events(&[], 0, &VolumeParams::default()).is_empty());
        assert!(volume_events(&[f64::NAN, -1.0, 3.0], 0, &VolumeParams::default()).is_empty());
        let zeros = vec![0.0; 3 * DAY];
        assert!(volume_events(&zeros, 0, &VolumeParams::default()).is_empty());
    }
}
