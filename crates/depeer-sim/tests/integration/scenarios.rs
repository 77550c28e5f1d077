//! Each built-in scenario against the "Scenario parameters" of
//! shared/SCENARIOS.md, measured from truth-messages.jsonl (not from the
//! scenario's parameters). Tolerances are SCENARIOS.md's plus three
//! standard errors of the counts (the worlds are finite samples).

use std::collections::BTreeMap;

use crate::common::{MsgTruth, at, check, count, event_time, messages, ratio_sigma, run, total};

const H: i64 = 3600;
const D: i64 = 86_400;

fn share_sigma(s: f64, n: f64) -> f64 {
    (s * (1.0 - s) / n.max(1.0)).sqrt()
}

/// First day (start time) from `from` on whose count reaches `frac` of `level`.
fn first_day_reaching(
    msgs: &[crate::common::MsgTruth],
    family: &str,
    from: i64,
    to: i64,
    level: f64,
    frac: f64,
) -> Option<i64> {
    let mut t = from;
    while t < to {
        let c = count(msgs, t, t + D).get(family).copied().unwrap_or(0.0);
        if c >= frac * level {
            return Some(t);
        }
        t += 6 * H;
    }
    None
}

/// A scenario run around its `cut` event: the truth, the messages, the
/// cut time (checked against `expected` within `tolerance` seconds), the
/// counts of the day before it and of the day from an hour after it, and
/// their totals.
struct AroundCut {
    truth: serde_json::Value,
    msgs: Vec<MsgTruth>,
    cut: i64,
    before: BTreeMap<String, f64>,
    after: BTreeMap<String, f64>,
    tb: f64,
    ta: f64,
}

impl AroundCut {
    /// A family's share of the day before the cut.
    fn share(&self, family: &str) -> f64 {
        self.before.get(family).copied().unwrap_or(0.0) / self.tb
    }

    /// Checks a family's share of the day before the cut.
    fn check_share(&self, family: &str, target: f64, tol: f64) {
        let what = format!("{family} share");
        check(
            &what,
            self.share(family),
            target,
            tol,
            share_sigma(target, self.tb),
        );
    }

    /// Checks the world's drop from the day before the cut to the day after.
    fn check_world_drop(&self, target: f64, tol: f64) {
        let (ta, tb) = (self.ta, self.tb);
        check(
            "world drop",
            1.0 - ta / tb,
            target,
            tol,
            ratio_sigma(ta, tb),
        );
    }
}

/// Messages of `family` in `[from, to)`.
fn family_count(msgs: &[MsgTruth], family: &str, from: i64, to: i64) -> f64 {
    count(msgs, from, to).get(family).copied().unwrap_or(0.0)
}

fn around_cut(
    name: &str,
    seed: u64,
    scale: f64,
    what: &str,
    expected: &str,
    tolerance: f64,
) -> AroundCut {
    let r = run(name, seed, scale);
    let truth = r.truth();
    let msgs = messages(r.path());
    let cut = event_time(&truth, "cut");
    check(what, cut as f64, at(expected) as f64, tolerance, 0.0);
    let before = count(&msgs, cut - D, cut);
    let after = count(&msgs, cut + H, cut + 25 * H);
    let (tb, ta) = (total(&before), total(&after));
    AroundCut {
        truth,
        msgs,
        cut,
        before,
        after,
        tb,
        ta,
    }
}

#[test]
fn mccolo_2008_matches_scenarios_md() {
    // cut 21:30 ± 15 min; HE before GC (assumed order).
    let c = around_cut(
        "mccolo-2008",
        101,
        20.0,
        "cut time",
        "2008-11-11T21:30:00Z",
        900.0,
    );
    let (truth, msgs, cut, before, after, tb) =
        (&c.truth, &c.msgs, c.cut, &c.before, &c.after, c.tb);
    assert!(event_time(truth, "cut-he") < cut);
    // World drop 66 ± 5 points.
    c.check_world_drop(0.66, 0.05);
    // Shares before: Srizbi 35 ± 3, Cutwail 18 ± 3, McColo-dependent 70 ± 5.
    c.check_share("srizbi", 0.35, 0.03);
    c.check_share("cutwail", 0.18, 0.03);
    let dependent: f64 = ["srizbi", "megad", "rustock", "bobax", "asprox"]
        .iter()
        .map(|f| c.share(f))
        .sum();
    check(
        "McColo-dependent share",
        dependent,
        0.70,
        0.05,
        share_sigma(0.70, tb),
    );
    // Drop within 1 h per botnet.
    let drop = |f: &str| {
        let (b, a) = (
            before.get(f).copied().unwrap_or(0.0),
            after.get(f).copied().unwrap_or(0.0),
        );
        (1.0 - a / b, ratio_sigma(a.max(1.0), b))
    };
    assert_eq!(drop("megad").0, 1.0, "Mega-D silent");
    for f in ["srizbi", "rustock", "asprox"] {
        let (d, s) = drop(f);
        assert!(d + 3.0 * s >= 0.95, "{f} drop {d}");
    }
    let (d, s) = drop("bobax");
    check("bobax drop", d, 0.50, 0.10, s);
    let (d, s) = drop("cutwail");
    check("cutwail drop", d, 0.0, 0.05, s);
    // Reconnection 15 Nov 06:00-18:00 (assumed), about 12 h.
    let rc = event_time(truth, "reconnect");
    let rp = event_time(truth, "telia-pulls");
    check(
        "reconnection",
        rc as f64,
        at("2008-11-15T06:00:00Z") as f64,
        3600.0,
        0.0,
    );
    check(
        "reconnection length",
        (rp - rc) as f64,
        12.0 * 3600.0,
        3600.0,
        0.0,
    );
    // Rustock back 25 Nov ± 1 day; Srizbi back 25 Nov, gone 27 Nov ± 1 day; Mega-D back 8 Dec ± 3 days.
    let day_level = |f: &str| before.get(f).copied().unwrap_or(0.0);
    // First day a family reaches `frac` of its level before the cut again.
    let back = |label: &str, family: &str, frac: f64, expected: &str, tol_days: f64| {
        let from = cut + 2 * D;
        let t = first_day_reaching(
            msgs,
            family,
            from,
            at("2008-12-12T00:00:00Z"),
            day_level(family),
            frac,
        )
        .unwrap();
        check(
            label,
            t as f64,
            at(expected) as f64,
            tol_days * D as f64,
            0.0,
        );
    };
    back("rustock back", "rustock", 0.3, "2008-11-25T00:00:00Z", 1.5);
    back("srizbi back", "srizbi", 0.2, "2008-11-25T00:00:00Z", 1.5);
    let srizbi_late = family_count(
        msgs,
        "srizbi",
        at("2008-11-29T00:00:00Z"),
        at("2008-12-12T00:00:00Z"),
    );
    assert!(
        srizbi_late / 13.0 < 0.05 * day_level("srizbi"),
        "Srizbi gone after 27 Nov ± 1 day"
    );
    back("mega-d back", "megad", 0.5, "2008-12-08T00:00:00Z", 3.5);
    // World volume 67 ± 10% of before on 25 Nov.
    let w25 = total(&count(
        msgs,
        at("2008-11-25T12:00:00Z"),
        at("2008-11-26T12:00:00Z"),
    ));
    check(
        "world on 25 Nov",
        w25 / tb,
        0.67,
        0.10,
        ratio_sigma(w25, tb),
    );
    // The summary in truth.json is the same measurement.
    let s = &truth["summary"];
    assert!((s["world_drop"].as_f64().unwrap() - (1.0 - c.ta / c.tb)).abs() < 1e-5);
}

#[test]
fn intercage_2008_matches_scenarios_md() {
    let c = around_cut(
        "intercage-2008",
        102,
        10.0,
        "cut time",
        "2008-09-21T06:00:00Z",
        3600.0,
    );
    let (msgs, cut, before, tb) = (&c.msgs, c.cut, &c.before, c.tb);
    c.check_world_drop(0.08, 0.03);
    c.check_share("storm", 0.02, 0.01);
    c.check_share("megad", 0.06, 0.01);
    // Storm -> 0 for good.
    let storm_after = family_count(msgs, "storm", cut + H, at("2008-10-20T00:00:00Z"));
    assert_eq!(storm_after, 0.0, "Storm dead for good");
    // Mega-D back after 14-21 days.
    let mb = first_day_reaching(
        msgs,
        "megad",
        cut + 2 * D,
        at("2008-10-20T00:00:00Z"),
        before["megad"],
        0.5,
    )
    .unwrap();
    let days = (mb - cut) as f64 / D as f64;
    assert!(
        (13.0..=22.0).contains(&days),
        "Mega-D back after {days:.1} days"
    );
    // Recovery within 7 days.
    let w7 = total(&count(msgs, cut + 7 * D, cut + 8 * D));
    assert!(
        w7 / tb + 3.0 * ratio_sigma(w7, tb) >= 0.97,
        "world back to {:.3} after 7 days",
        w7 / tb
    );
}

#[test]
fn three_fn_2009_matches_scenarios_md() {
    let c = around_cut(
        "3fn-2009",
        103,
        10.0,
        "cut time",
        "2009-06-04T23:00:00Z",
        3600.0,
    );
    let (msgs, cut, before, after) = (&c.msgs, c.cut, &c.before, &c.after);
    c.check_world_drop(0.15, 0.05);
    c.check_share("cutwail", 0.23, 0.03);
    let cd = 1.0 - after["cutwail"] / before["cutwail"];
    check(
        "cutwail drop",
        cd,
        0.65,
        0.10,
        ratio_sigma(after["cutwail"], before["cutwail"]),
    );
    let pd = 1.0 - after["pushdo"] / before["pushdo"];
    check(
        "pushdo drop (~40%)",
        pd,
        0.40,
        0.10,
        ratio_sigma(after["pushdo"], before["pushdo"]),
    );
    // Recovery 5 ± 2 days.
    let back = first_day_reaching(
        msgs,
        "cutwail",
        cut + D,
        at("2009-06-20T00:00:00Z"),
        before["cutwail"],
        0.9,
    )
    .unwrap();
    check(
        "cutwail recovery (days)",
        (back - cut) as f64 / D as f64,
        5.0,
        2.0,
        0.0,
    );
}

#[test]
fn rustock_2011_matches_scenarios_md() {
    let c = around_cut(
        "rustock-2011",
        104,
        10.0,
        "seizure time",
        "2011-03-16T14:45:00Z",
        900.0,
    );
    let (msgs, cut, tb) = (&c.msgs, c.cut, c.tb);
    c.check_share("rustock", 0.40, 0.05);
    // Rustock -> 0 within 1 h, absent >= 90 days.
    let end = at("2011-06-16T00:00:00Z");
    assert!(end - cut >= 90 * D);
    let rest = family_count(msgs, "rustock", cut + H, end);
    assert_eq!(rest, 0.0, "Rustock silent after the seizure");
    // World volume -33.6 ± 5 points within 48 h.
    let w48 = total(&count(msgs, cut + H, cut + 49 * H)) / 2.0;
    check(
        "world drop within 48 h",
        1.0 - w48 / tb,
        0.336,
        0.05,
        ratio_sigma(w48 * 2.0, tb * 2.0),
    );
}
