//! The two published baselines, computed on the same tallies as depeer's
//! score so they can be compared on the same data (docs/rank.md).
//!
//! * **CIRCL BGP Ranking** (CIRCL, bgpranking.circl.lu; Dulaunoy et al.):
//!   per AS and day, `1 + Σ_lists impact × listed addresses of the AS /
//!   announced IPv4 addresses of the AS`; here every list has impact 1
//!   and the day's counts are averaged over the window (listed days /
//!   window days). Every listing counts: C&C, sites and bots, with no
//!   persistence filter.
//! * **FIRE** (Stone-Gross et al., "FIRE: FInding Rogue nEtworks",
//!   ACSAC 2009): malicious servers (C&C, spam-advertised, phishing and
//!   malware sites) that stayed listed longer than a persistence span,
//!   per size of the network; here per announced /24. No bots, no
//!   shrinkage, no routing, no dependency.

use std::collections::BTreeMap;

use super::features::Tally;

/// CIRCL's score and its parts.
pub(crate) fn circl(t: &Tally, window_days: f64) -> (f64, BTreeMap<String, f64>) {
    let addresses = (t.size24 * 256.0).max(1.0);
    let daily = t.listed_days / window_days;
    let score = 1.0 + daily / addresses;
    (
        score,
        BTreeMap::from([
            ("listed_per_day".to_string(), daily),
            ("announced_addresses".to_string(), addresses),
        ]),
    )
}

/// FIRE's density and its parts.
pub(crate) fn fire(t: &Tally) -> (f64, BTreeMap<String, f64>) {
    let servers = t.hosting() as f64;
    let size = t.size24.max(1.0);
    (
        servers / size,
        BTreeMap::from([
            ("long_lived_servers".to_string(), servers),
            ("size24".to_string(), size),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circl_is_one_plus_daily_listings_per_address() {
        let mut t = Tally::default();
        t.size24 = 4.0;
        t.listed_days = 30.0;
        let (s, f) = circl(&t, 30.0);
        assert!((s - (1.0 + 1.0 / 1024.0)).abs() < 1e-12, "{s} {f:?}");
    }

    #[test]
    fn fire_counts_long_lived_servers_per_slash24() {
        let mut t = Tally::default();
        (t.size24, t.cc, t.sites, t.bots) = (4.0, 2, 2, 50);
        assert_eq!(fire(&t).0, 1.0);
    }
}
