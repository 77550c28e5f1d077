//! Bot populations: distinct sending addresses per botnet and window
//! ([`Hll`] sketches, mergeable across windows and workers), and how many
//! of a window's bots are new (never seen in an earlier window of the
//! same botnet) or returning.
//!
//! New and returning come from inclusion-exclusion on sketches:
//! `returning = |W| + |S| - |W ∪ S|` with `S` the union of the earlier
//! windows, clamped to `[0, |W|]`. While the sketches are exact (up to
//! [`crate::SPARSE_LIMIT`] addresses) the figures are exact.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::hll::Hll;
use crate::series::Step;

/// One botnet in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationRow {
    /// Start of the window (Unix µs).
    pub start: i64,
    /// The botnet.
    pub botnet: String,
    /// Distinct bot addresses seen in the window (estimated).
    pub bots: f64,
    /// Of those, not seen in any earlier window.
    pub new: f64,
    /// Of those, seen in an earlier window.
    pub returning: f64,
    /// Whether the figures are exact (small populations).
    pub exact: bool,
}

/// Sketches per botnet and window.
#[derive(Debug, Clone)]
pub struct Populations {
    step: Step,
    sketches: BTreeMap<String, BTreeMap<i64, Hll>>,
}

impl Populations {
    /// Windows of `step`, aligned to the epoch.
    pub fn new(step: Step) -> Populations {
        Populations {
            step,
            sketches: BTreeMap::new(),
        }
    }

    /// A message of `botnet` sent from `ip` at `t`.
    pub fn add(&mut self, t: i64, botnet: &str, ip: IpAddr) {
        if !self.sketches.contains_key(botnet) {
            self.sketches.insert(botnet.to_string(), BTreeMap::new());
        }
        let start = self.step.floor(t);
        if let Some(per) = self.sketches.get_mut(botnet) {
            per.entry(start).or_default().add_ip(ip);
        }
    }

    /// The sketch of one botnet and window, to merge elsewhere.
    pub fn sketch(&self, botnet: &str, start: i64) -> Option<&Hll> {
        self.sketches.get(botnet)?.get(&start)
    }

    /// The union of a botnet's windows in `[from, until)`.
    pub fn union(&self, botnet: &str, from: i64, until: i64) -> Hll {
        let mut u = Hll::new();
        if let Some(per) = self.sketches.get(botnet) {
            for (_, h) in per.range(from..until) {
                u.merge(h);
            }
        }
        u
    }

    /// Every botnet's windows with at least one bot, in botnet then time
    /// order.
    pub fn rows(&self) -> Vec<PopulationRow> {
        let mut out = Vec::new();
        for (botnet, per) in &self.sketches {
            let mut seen = Hll::new();
            for (&start, h) in per {
                let bots = h.estimate();
                let before = seen.estimate();
                let exact = h.is_exact() && seen.is_exact();
                seen.merge(h);
                let returning = (bots + before - seen.estimate()).clamp(0.0, bots);
                out.push(PopulationRow {
                    start,
                    botnet: botnet.clone(),
                    bots,
                    new: bots - returning,
                    returning,
                    exact: exact && seen.is_exact(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const H: i64 = 3_600_000_000;

    fn ip(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn new_and_returning_bots_are_exact_when_small() {
        let mut p = Populations::new(Step::HOUR);
        for i in 0..10 {
            p.add(i64::from(i), "srizbi", ip(i));
        }
        for i in 5..20 {
            p.add(H + i64::from(i), "srizbi", ip(i));
            p.add(H + i64::from(i), "srizbi", ip(i)); // repeats count once
        }
        p.add(2 * H, "cutwail", ip(1));
        let rows = p.rows();
        let get = |b: &str, s: i64| rows.iter().find(|r| r.botnet == b && r.start == s).unwrap();
        let first = get("srizbi", 0);
        assert_eq!((first.bots, first.new, first.returning), (10.0, 10.0, 0.0));
        let second = get("srizbi", H);
        assert_eq!(
            (second.bots, second.new, second.returning),
            (15.0, 10.0, 5.0)
        );
        assert!(second.exact);
        assert_eq!(get("cutwail", 2 * H).new, 1.0);
        assert_eq!(p.union("srizbi", 0, 2 * H).estimate(), 20.0);
        assert_eq!(p.sketch("srizbi", H).map(Hll::estimate), Some(15.0));
    }

    #[test]
    fn large_populations_stay_close() {
        let mut p = Populations::new(Step::HOUR);
        for i in 0..50_000u32 {
            p.add(0, "b", ip(i));
            p.add(H, "b", ip(i + 25_000));
        }
        let rows = p.rows();
        let r = &rows[1];
        assert!((r.bots - 50_000.0).abs() / 50_000.0 < 0.03, "{r:?}");
        assert!((r.returning - 25_000.0).abs() / 25_000.0 < 0.1, "{r:?}");
        assert!(!r.exact);
    }
}
