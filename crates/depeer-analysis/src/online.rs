//! Online volume events: the detector of [`crate::volume_events_in_parts`]
//! run as messages arrive (`depeer events --follow`).
//!
//! Messages are counted per `step` into a sliding window of whole UTC
//! days (the seasonal profile needs whole days). Each time the newest
//! message time crosses into a new block (an hour by default), the batch
//! detector runs again over the window's *complete* blocks only: a block
//! still filling would look like a drop. An event is **confirmed** once
//! `confirm` seconds of complete data follow it (by default the
//! detector's shortest segment, two blocks: with less, no change point is
//! allowed there at all), and reported once; the same change found again
//! later (its place may move by a few minutes as data accrues) is
//! recognised by its direction and a time within `same` of the reported
//! one. Each confirmation says how long after the event's time it came,
//! in data time (the newest message seen), which is what a trap that
//! receives the messages as they are sent experiences.
//!
//! Why re-run the batch detector instead of a sequential test (CUSUM,
//! BOCPD): it keeps one definition of an event for batch and online (the
//! same magnitudes, intervals and seasonality), and over a week of
//! one-minute points it costs well under a millisecond per block, so the
//! per-message work is one counter increment.
//!
//! Messages older than the window's start are counted as `late` and
//! dropped; a message ahead of the others moves "now" forward (clock skew
//! of a sender does not: times come from the receiving side).

use std::collections::HashMap;

use crate::volume::{Direction, VolumeEvent, VolumeParams, volume_events_in_parts};

/// Tuning of [`OnlineVolume`].
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineParams {
    /// The batch detector's parameters.
    pub volume: VolumeParams,
    /// Seconds of history kept (rounded up to whole days).
    pub window: i64,
    /// Seconds of complete data after an event before it is confirmed.
    pub confirm: i64,
    /// A change found again within this many seconds of a reported one in
    /// the same direction is the same event.
    pub same: i64,
    /// Nothing is reported before this many seconds of data from the first
    /// message's UTC day: the seasonal profile needs two whole days, and
    /// without it the time of day reads as changes.
    pub warmup: i64,
    /// A change first found more than this many seconds after its time is
    /// not reported: it is the window read again with later data (the
    /// batch `depeer events` has the settled answer), not news.
    pub stale: i64,
    /// Detection runs only while the window's complete blocks hold at
    /// least this many messages a block on average: a series of a few
    /// messages a day cannot show a change within hours, and testing it
    /// every hour only collects noise.
    pub min_rate: f64,
}

impl Default for OnlineParams {
    fn default() -> Self {
        let volume = VolumeParams::default();
        let confirm = volume.block * i64::try_from(volume.min_blocks).unwrap_or(2);
        OnlineParams {
            window: 7 * 86_400,
            confirm,
            same: 3 * volume.block,
            warmup: 2 * DAY,
            stale: 48 * 3600,
            min_rate: 1.0,
            volume,
        }
    }
}

/// One confirmed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed {
    /// The event as the batch detector gave it (indices into the window
    /// at the moment of confirmation; use the times below).
    pub event: VolumeEvent,
    /// First second at the new rate (Unix s).
    pub time: i64,
    /// Interval of `time` (Unix s).
    pub time_low: i64,
    /// See `time_low`.
    pub time_high: i64,
    /// The newest message time when it was confirmed (Unix s).
    pub confirmed_at: i64,
}

impl Confirmed {
    /// Seconds from the event to its confirmation.
    #[must_use]
    pub fn delay(&self) -> i64 {
        self.confirmed_at.saturating_sub(self.time)
    }
}

/// The online detector: [`push`](OnlineVolume::push) every message,
/// [`poll`](OnlineVolume::poll) for confirmed events.
#[derive(Debug, Clone)]
pub struct OnlineVolume {
    params: OnlineParams,
    /// Unix s of `total[0]` (a UTC midnight); `None` before any message.
    start: Option<i64>,
    total: Vec<f64>,
    part_index: HashMap<String, usize>,
    parts: Vec<Vec<f64>>,
    /// Newest message time.
    now: i64,
    /// The first message's UTC day.
    first: i64,
    /// Block of the last detection run.
    last_block: Option<i64>,
    /// Reported events: direction and time.
    reported: Vec<(Direction, i64)>,
    late: u64,
    messages: u64,
    /// Sum of `total` (the window's messages).
    sum: f64,
}

const DAY: i64 = 86_400;

/// The UTC midnight at or before `t`.
fn day_of(t: i64) -> i64 {
    t.saturating_sub(t.rem_euclid(DAY))
}

impl OnlineVolume {
    /// An empty detector.
    #[must_use]
    pub fn new(params: OnlineParams) -> OnlineVolume {
        OnlineVolume {
            params,
            start: None,
            total: Vec::new(),
            part_index: HashMap::new(),
            parts: Vec::new(),
            now: i64::MIN,
            first: i64::MAX,
            last_block: None,
            reported: Vec::new(),
            late: 0,
            messages: 0,
            sum: 0.0,
        }
    }

    /// Messages counted.
    #[must_use]
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Messages dropped for arriving before the window's start.
    #[must_use]
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Counts one message at Unix second `t`, in part `part` (its botnet)
    /// when known.
    pub fn push(&mut self, t: i64, part: Option<&str>) {
        self.add(t, part, 1.0);
    }

    /// Counts `weight` of a message at Unix second `t` (a message split
    /// between several keys, as `depeer series --by hosting-as` splits it
    /// between the ASes hosting its botnet's C&C servers).
    pub fn add(&mut self, t: i64, part: Option<&str>, weight: f64) {
        let step = self.params.volume.step.max(1);
        let mut start = *self.start.get_or_insert(day_of(t));
        self.first = self.first.min(start);
        if t < start {
            self.late += 1;
            return;
        }
        // A message far ahead of the window moves it (never a vector as
        // long as the jump).
        if t.saturating_sub(start) > self.params.window.saturating_add(DAY) {
            self.shift_to(day_of(t.saturating_sub(self.params.window)));
            start = self.start.unwrap_or(start);
        }
        let Ok(i) = usize::try_from(t.saturating_sub(start) / step) else {
            self.late += 1;
            return;
        };
        self.grow_to(i);
        if let Some(c) = self.total.get_mut(i) {
            *c += weight;
        }
        if let Some(name) = part {
            let k = match self.part_index.get(name) {
                Some(&k) => k,
                None => {
                    self.parts.push(vec![0.0; self.total.len()]);
                    let k = self.parts.len() - 1;
                    self.part_index.insert(name.to_string(), k);
                    k
                }
            };
            if let Some(c) = self.parts.get_mut(k).and_then(|p| p.get_mut(i)) {
                *c += weight;
            }
        }
        self.messages += 1;
        self.sum += weight;
        self.now = self.now.max(t);
    }

    /// Moves "now" to Unix second `t` without counting a message: the
    /// clock of a series that has gone quiet (a botnet whose C&C was cut
    /// sends nothing, so only the other series show that time passes).
    pub fn advance(&mut self, t: i64) {
        let Some(mut start) = self.start else {
            return;
        };
        if t <= self.now {
            return;
        }
        // Far ahead: the window moves first (never a vector as long as
        // the jump), as for a message.
        if t.saturating_sub(start) > self.params.window.saturating_add(DAY) {
            self.shift_to(day_of(t.saturating_sub(self.params.window)));
            start = self.start.unwrap_or(start);
        }
        let step = self.params.volume.step.max(1);
        if let Ok(i) = usize::try_from(t.saturating_sub(start) / step) {
            self.grow_to(i);
        }
        self.now = t;
    }

    /// Grows the vectors by whole days so that index `i` exists (not
    /// resized per point).
    fn grow_to(&mut self, i: usize) {
        if i < self.total.len() {
            return;
        }
        let step = self.params.volume.step.max(1);
        let per_day = usize::try_from(DAY / step).unwrap_or(1440).max(1);
        let len = (i / per_day + 1) * per_day;
        self.total.resize(len, 0.0);
        for p in &mut self.parts {
            p.resize(len, 0.0);
        }
    }

    /// Runs the detector when a block has completed since the last run and
    /// returns the events confirmed by it, oldest first.
    pub fn poll(&mut self) -> Vec<Confirmed> {
        let Some(start) = self.start else {
            return Vec::new();
        };
        let v = &self.params.volume;
        let (step, block) = (v.step.max(1), v.block.max(1));
        let this_block = self.now.div_euclid(block);
        if self.last_block.is_some_and(|b| b >= this_block) {
            return Vec::new();
        }
        self.last_block = Some(this_block);
        // Only complete blocks: up to the start of the block `now` is in.
        let end = this_block.saturating_mul(block);
        let n = usize::try_from(end.saturating_sub(start).max(0) / step)
            .unwrap_or(0)
            .min(self.total.len());
        let (Some(total), parts) = (self.total.get(..n), &self.parts) else {
            return Vec::new();
        };
        let parts: Vec<Vec<f64>> = parts
            .iter()
            .map(|p| p.get(..n).unwrap_or(&[]).to_vec())
            .collect();
        let blocks = (n as f64 * step as f64 / block as f64).max(1.0);
        if self.sum / blocks < self.params.min_rate {
            self.slide(end);
            return Vec::new();
        }
        let found = volume_events_in_parts(total, &parts, start, v);
        let quiet = self.quiet_ends(total);
        let at =
            |i: usize| start.saturating_add(i64::try_from(i).unwrap_or(0).saturating_mul(step));
        let mut out = Vec::new();
        for e in found {
            let time = at(e.index);
            if end.saturating_sub(time) < self.params.confirm
                || self.now.saturating_sub(time) > self.params.stale
                || self.settling(&quiet, time)
                || time < self.first.saturating_add(self.params.warmup)
            {
                continue;
            }
            let seen = self.reported.iter().any(|&(d, t)| {
                d == e.direction && t.abs_diff(time) <= self.params.same.unsigned_abs()
            });
            if seen {
                continue;
            }
            self.reported.push((e.direction, time));
            out.push(Confirmed {
                time,
                time_low: at(e.low),
                time_high: at(e.high),
                confirmed_at: self.now,
                event: e,
            });
        }
        self.slide(end);
        out
    }

    /// The ends (Unix s) of the window's quiet days: each block that ends
    /// a whole day (24 h) holding fewer than `min_rate` messages a block,
    /// in time order.
    fn quiet_ends(&self, total: &[f64]) -> Vec<i64> {
        let (Some(start), v) = (self.start, &self.params.volume) else {
            return Vec::new();
        };
        let per_block = usize::try_from(v.block / v.step.max(1))
            .unwrap_or(60)
            .max(1);
        let blocks: Vec<f64> = total.chunks(per_block).map(|c| c.iter().sum()).collect();
        let day = usize::try_from(DAY / v.block.max(1)).unwrap_or(24).max(1);
        let floor = self.params.min_rate * day as f64;
        let mut out = Vec::new();
        let mut rolling: f64 = blocks.iter().take(day).sum();
        for k in day..=blocks.len() {
            if rolling < floor {
                let end = i64::try_from(k).unwrap_or(0).saturating_mul(v.block);
                out.push(start.saturating_add(end));
            }
            let (Some(add), Some(sub)) = (blocks.get(k), blocks.get(k - day)) else {
                break;
            };
            rolling += add - sub;
        }
        out
    }

    /// Whether an event at `time` falls in the settling time after a quiet
    /// day: the change that brings a series back (within `same` of the
    /// quiet day's end) is news, but while the quiet day is in the window
    /// its seasonal profile, learned mostly from silence, reads the
    /// series' time of day as changes (measured: a botnet back after two
    /// weeks gave a rise or drop every few hours for days).
    fn settling(&self, quiet_ends: &[i64], time: i64) -> bool {
        let last = quiet_ends.iter().rev().find(|&&q| q <= time);
        last.is_some_and(|&q| {
            let since = time.saturating_sub(q);
            since > self.params.same && since < self.params.window
        })
    }

    /// Drops whole days that have left the window.
    fn slide(&mut self, end: i64) {
        self.shift_to(day_of(end.saturating_sub(self.params.window)));
    }

    /// Starts the window at `new_start` (a UTC midnight) when that is
    /// later than its start, dropping the days before it.
    fn shift_to(&mut self, new_start: i64) {
        let Some(start) = self.start else {
            return;
        };
        if new_start <= start {
            return;
        }
        let step = self.params.volume.step.max(1);
        let drop = usize::try_from(new_start.saturating_sub(start) / step)
            .unwrap_or(usize::MAX)
            .min(self.total.len());
        self.sum -= self.total.iter().take(drop).sum::<f64>();
        self.total.drain(..drop);
        for p in &mut self.parts {
            p.drain(..drop.min(p.len()));
        }
        self.start = Some(new_start);
        let same = self.params.same;
        self.reported
            .retain(|&(_, t)| t >= new_start.saturating_sub(same));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic Poisson-like stream: `rate` messages a minute with
    /// an hour-of-day swing, a `drop` share of them gone from `cut` on.
    fn stream(days: i64, rate: f64, cut: i64, drop: f64) -> Vec<(i64, &'static str)> {
        let mut out = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let start = 1_226_016_000; // 2008-11-07T00:00Z
        for m in 0..days * 1440 {
            let t = start + m * 60;
            let hour = (t.rem_euclid(DAY) / 3600) as f64;
            let swing = 1.0 + 0.3 * (hour / 24.0 * std::f64::consts::TAU).sin();
            for (part, share) in [("gone", 0.66), ("stays", 0.34)] {
                let mut lambda = rate * share * swing;
                if part == "gone" && t >= cut {
                    lambda *= 1.0 - drop;
                }
                // Knuth's method with a xorshift source.
                let l = (-lambda).exp();
                let mut p = 1.0;
                loop {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    p *= (x >> 11) as f64 / (1u64 << 53) as f64;
                    if p <= l {
                        break;
                    }
                    out.push((t + (x % 60) as i64, part));
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn a_drop_is_confirmed_once_and_soon_after_it() {
        let cut = 1_226_016_000 + 4 * DAY + 13 * 3600 + 17 * 60;
        let mut o = OnlineVolume::new(OnlineParams::default());
        let mut confirmed = Vec::new();
        for (t, part) in stream(8, 3.0, cut, 1.0) {
            o.push(t, Some(part));
            confirmed.extend(o.poll());
        }
        let drops: Vec<&Confirmed> = confirmed
            .iter()
            .filter(|c| c.event.direction == Direction::Drop)
            .collect();
        assert_eq!(drops.len(), 1, "{confirmed:#?}");
        let d = drops[0];
        assert!((d.time - cut).abs() <= 10 * 60, "placed {}", d.time - cut);
        assert!(
            d.delay() >= 2 * 3600 && d.delay() <= 4 * 3600,
            "{}",
            d.delay()
        );
        assert!(
            (d.event.magnitude + 0.66).abs() < 0.15,
            "{}",
            d.event.magnitude
        );
        assert!(
            confirmed.len() == 1,
            "nothing else happened: {confirmed:#?}"
        );
    }

    #[test]
    fn a_steady_stream_gives_nothing_and_the_window_slides() {
        let mut o = OnlineVolume::new(OnlineParams {
            window: 3 * DAY,
            ..OnlineParams::default()
        });
        let mut confirmed = Vec::new();
        for (t, part) in stream(10, 2.0, i64::MAX, 0.0) {
            o.push(t, Some(part));
            confirmed.extend(o.poll());
        }
        assert!(confirmed.is_empty(), "{confirmed:#?}");
        assert!(o.total.len() <= 5 * 1440, "window kept {}", o.total.len());
        // A message from before the window is counted late, not panicking.
        o.push(0, None);
        assert_eq!(o.late(), 1);
    }

    #[test]
    fn a_series_that_goes_quiet_is_confirmed_by_the_clock() {
        let cut = 1_226_016_000 + 4 * DAY + 13 * 3600 + 17 * 60;
        let mut o = OnlineVolume::new(OnlineParams::default());
        let mut confirmed = Vec::new();
        for (t, _) in stream(8, 3.0, cut, 1.0)
            .into_iter()
            .filter(|(_, p)| *p == "gone")
        {
            o.add(t, None, 1.0);
            confirmed.extend(o.poll());
        }
        // Nothing arrives after the cut, so nothing can show it yet.
        assert!(confirmed.is_empty(), "{confirmed:#?}");
        for h in 1..=6 {
            o.advance(cut + h * 3600);
            confirmed.extend(o.poll());
        }
        assert_eq!(confirmed.len(), 1, "{confirmed:#?}");
        let d = &confirmed[0];
        assert_eq!(d.event.direction, Direction::Drop);
        assert!((d.time - cut).abs() <= 10 * 60, "placed {}", d.time - cut);
        assert!(d.event.magnitude < -0.9, "{}", d.event.magnitude);
    }

    #[test]
    fn a_series_of_a_few_messages_a_day_is_not_tested() {
        let cut = 1_226_016_000 + 4 * DAY + 13 * 3600;
        let mut o = OnlineVolume::new(OnlineParams::default());
        let mut confirmed = Vec::new();
        let sparse = stream(8, 0.004, cut, 1.0);
        assert!(sparse.len() > 20, "{}", sparse.len());
        for (t, _) in sparse {
            o.add(t, None, 1.0);
            confirmed.extend(o.poll());
        }
        for h in 1..=48 {
            o.advance(cut + h * 3600);
            confirmed.extend(o.poll());
        }
        assert!(confirmed.is_empty(), "{confirmed:#?}");
    }

    #[test]
    fn hostile_times_do_not_panic() {
        let mut o = OnlineVolume::new(OnlineParams::default());
        for t in [i64::MIN, -1, 0, i64::MAX / 2, i64::MAX] {
            o.push(t, Some("x"));
            let _ = o.poll();
            o.advance(t);
            let _ = o.poll();
        }
    }
}
