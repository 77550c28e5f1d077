//! A small world end to end: graph, placement, prediction, learning and
//! the backtest.

use std::collections::HashMap;

use super::graph::{Link, LinkKind};
use super::*;
use crate::hosting::RouteSpan;

const T0: i64 = 10 * DAY;

fn provider(a: u32, b: u32) -> TimedLink {
    TimedLink {
        link: Link {
            a,
            b,
            kind: LinkKind::ProviderOf,
        },
        first: 0,
    }
}

fn route(p: &str, origin: u32) -> RouteSpan {
    route_until(p, origin, 40 * DAY)
}

fn route_until(p: &str, origin: u32, last: i64) -> RouteSpan {
    RouteSpan::of_cidr(p, origin, (0, last), "c").unwrap()
}

fn listing(ip: &str, family: &str) -> CcListing {
    CcListing {
        ip: ip.parse().unwrap(),
        family: family.into(),
        first: Some(0),
        last: Some(40 * DAY),
    }
}

/// `n` messages spread evenly over `[from, to)`.
fn spread(n: i64, from: i64, to: i64) -> Vec<i64> {
    (0..n).map(|i| from + (to - from) * i / n.max(1)).collect()
}

/// Tops 1 and 2 (peers); transit 10 under 1, 20 under 2; hoster 100
/// single-homed under 10; hoster 200 under 10 and 20; hoster 300 under 20.
fn world() -> (History, Hosting) {
    world_with(40 * DAY)
}

/// [`world`] with AS300's prefix withdrawn at `last300`.
fn world_with(last300: i64) -> (History, Hosting) {
    let mut links = vec![
        provider(1, 10),
        provider(2, 20),
        provider(10, 100),
        provider(10, 200),
        provider(20, 200),
        provider(20, 300),
    ];
    links.push(TimedLink {
        link: Link {
            a: 1,
            b: 2,
            kind: LinkKind::Peer,
        },
        first: 0,
    });
    let routes = vec![
        route("10.0.0.0/8", 10),
        route("20.0.0.0/8", 20),
        route("100.0.0.0/16", 100),
        route("100.1.0.0/16", 100),
        route("200.0.0.0/16", 200),
        route_until("30.0.0.0/16", 300, last300),
        // The collector's data ends here.
        route("1.0.0.0/8", 1),
    ];
    let hosting = Hosting::new(routes, vec![], HashMap::new());
    let mut spam = BTreeMap::new();
    let before = |n| spread(n, T0 - DAY, T0);
    spam.insert("a".to_string(), before(600));
    spam.insert("b".to_string(), before(300));
    spam.insert("c".to_string(), before(100));
    let history = History {
        links,
        link_events: vec![],
        listings: vec![
            listing("100.0.0.1", "a"),
            listing("100.0.0.2", "a"),
            listing("100.1.0.3", "a"),
            listing("100.0.0.9", "b"),
            listing("30.0.0.9", "b"),
            listing("200.0.0.1", "c"),
            // Not routed: left out.
            listing("99.0.0.1", "c"),
        ],
        contacts: vec![],
        spam,
    };
    (history, hosting)
}

#[test]
fn cutting_a_transit_darkens_its_single_homed_hoster_only() {
    let (h, hosting) = world();
    let m = h.moment(&hosting, T0);
    let cut = Cut {
        asns: vec![10],
        links: vec![],
    };
    let sites = [SiteHit {
        host: "shop.example".into(),
        ip: "100.1.2.3".parse().unwrap(),
    }];
    let w = h.what_if(&hosting, &m, &cut, &sites);
    assert_eq!(w.dark_ases, vec![10, 100]);
    assert_eq!(
        w.unreachable_prefixes,
        vec!["10.0.0.0/8", "100.0.0.0/16", "100.1.0.0/16"]
    );
    assert_eq!(w.cc_dark.len(), 4);
    assert!(w.cc_dark.iter().all(|c| c.origins == vec![100]));
    assert_eq!(w.sites_dark.len(), 1);
    let p = &w.prediction;
    // a: 60 % all dark; b: 30 %, half its servers; c: 10 %, multihomed.
    assert!((p.direct_drop - 0.75).abs() < 1e-9, "{p:?}");
    // No past cut: the untouched make up the prior's tenth of the loss.
    assert_eq!(p.substitution.events, 0);
    assert!((p.predicted_drop - 0.75 * 0.9).abs() < 1e-9, "{p:?}");
    assert!(p.low < p.predicted_drop && p.high > 0.75);
    let c = p.per_botnet.iter().find(|b| b.botnet == "c").unwrap();
    assert_eq!((c.cc_listed, c.cc_dark, c.predicted_drop), (1, 0, 0.0));
    assert_eq!(w.learned_from, 0);
}

fn contacts(n: usize, cc: &str, family: &str, time: i64) -> Vec<BotContact> {
    (0..n)
        .map(|_| BotContact {
            cc: cc.parse().unwrap(),
            family: family.into(),
            time,
        })
        .collect()
}

#[test]
fn observed_contacts_weigh_the_servers() {
    let (mut h, hosting) = world();
    let cut = Cut {
        asns: vec![10],
        links: vec![],
    };
    // b's two listed servers: the one at AS100 commands 27 of 30 bots
    // seen, the multihomed one 3. Contacts older than the window, and
    // with an unrouted server, do not count.
    h.contacts = [
        contacts(27, "100.0.0.9", "b", T0 - DAY),
        contacts(3, "30.0.0.9", "b", T0 - DAY),
        contacts(50, "30.0.0.9", "b", T0 - CONTACT_WINDOW - DAY),
        contacts(9, "99.0.0.9", "b", T0 - DAY),
        // Too few for c: its listings decide.
        contacts(5, "100.0.0.1", "c", T0 - DAY),
    ]
    .concat();
    h.contacts.sort_by_key(|c| c.time);
    let m = h.moment(&hosting, T0);
    let w = h.what_if(&hosting, &m, &cut, &[]);
    let by = |n: &str| {
        w.prediction
            .per_botnet
            .iter()
            .find(|b| b.botnet == n)
            .unwrap()
            .clone()
    };
    let b = by("b");
    assert_eq!((b.contacts, b.contacts_dark), (30, 27));
    assert_eq!(b.basis, predict::Basis::Contacts);
    assert!((b.predicted_drop - 0.9).abs() < 1e-9, "{b:?}");
    assert_eq!((b.cc_listed, b.cc_dark), (2, 1));
    let c = by("c");
    assert_eq!((c.contacts, c.basis), (5, predict::Basis::Listings));
    assert_eq!(c.predicted_drop, 0.0);
    // a has no contacts: all its listings dark.
    assert_eq!(by("a").predicted_drop, 1.0);
    assert!((w.prediction.direct_drop - (0.6 + 0.3 * 0.9)).abs() < 1e-9);
}

#[test]
fn a_botnet_that_moved_is_commanded_from_where_its_bots_went_last() {
    let (mut h, hosting) = world();
    // b's bots talked to its server at AS300 for days; since yesterday
    // they talk to the one at AS100, which the cut darkens.
    h.contacts = [
        contacts(40, "30.0.0.9", "b", T0 - 6 * DAY),
        contacts(40, "30.0.0.9", "b", T0 - 5 * DAY),
        contacts(40, "30.0.0.9", "b", T0 - 4 * DAY),
        contacts(30, "100.0.0.9", "b", T0 - DAY / 2),
    ]
    .concat();
    h.contacts.sort_by_key(|c| c.time);
    let m = h.moment(&hosting, T0);
    let cut = Cut {
        asns: vec![10],
        links: vec![],
    };
    let w = h.what_if(&hosting, &m, &cut, &[]);
    let b = w
        .prediction
        .per_botnet
        .iter()
        .find(|x| x.botnet == "b")
        .unwrap();
    assert_eq!((b.contacts, b.contacts_dark), (150, 30));
    // Counted alike the week's contacts would say a fifth; since the
    // move, all 30 go to the server the cut darkens.
    assert_eq!((b.contacts_used, b.contacts_used_dark), (30, 30));
    assert!((b.predicted_drop - 1.0).abs() < 1e-9, "{b:?}");
}

#[test]
fn a_botnet_that_did_not_move_is_measured_on_all_its_contacts() {
    let (mut h, hosting) = world();
    // Half of b's bots talk to the server the cut darkens, every day of
    // the week, in a different order each day.
    h.contacts = (1..=6)
        .flat_map(|d| {
            let (first, second) = if d % 2 == 0 {
                ("100.0.0.9", "30.0.0.9")
            } else {
                ("30.0.0.9", "100.0.0.9")
            };
            [
                contacts(6, first, "b", T0 - d * DAY),
                contacts(6, second, "b", T0 - d * DAY + HOUR),
            ]
            .concat()
        })
        .collect();
    h.contacts.sort_by_key(|c| c.time);
    let m = h.moment(&hosting, T0);
    let cut = Cut {
        asns: vec![10],
        links: vec![],
    };
    let w = h.what_if(&hosting, &m, &cut, &[]);
    let b = w
        .prediction
        .per_botnet
        .iter()
        .find(|x| x.botnet == "b")
        .unwrap();
    assert_eq!((b.contacts_used, b.contacts_used_dark), (72, 36), "{b:?}");
    assert!((b.predicted_drop - 0.5).abs() < 1e-9, "{b:?}");
}

#[test]
fn cutting_the_last_link_is_cutting_the_hoster() {
    let (h, hosting) = world();
    let m = h.moment(&hosting, T0);
    let by_link = h.what_if(
        &hosting,
        &m,
        &Cut {
            asns: vec![],
            links: vec![(300, 20)],
        },
        &[],
    );
    assert_eq!(by_link.dark_ases, vec![300]);
    assert_eq!(by_link.unreachable_prefixes, vec!["30.0.0.0/16"]);
    let b = &by_link.prediction.per_botnet;
    assert!(b.iter().any(|x| x.botnet == "b" && x.predicted_drop == 0.5));
    // One of the multihomed hoster's two links: nothing goes dark.
    let one = h.what_if(
        &hosting,
        &m,
        &Cut {
            asns: vec![],
            links: vec![(10, 200)],
        },
        &[],
    );
    assert!(one.dark_ases.is_empty() && one.cc_dark.is_empty());
    assert_eq!(one.prediction.predicted_drop, 0.0);
}

#[test]
fn a_past_cut_teaches_the_family_and_the_future_is_not_used() {
    let t1 = T0 + 2 * DAY;
    let (mut h, hosting) = world_with(t1);
    // AS300 lost all routes at T0 + 2 days for good; family b's volume
    // then fell by 40 % (it had half its servers there: r = 0.8).
    h.link_events.push(LinkEvent {
        time: t1,
        asn: 300,
        upstream: None,
        up: false,
    });
    let b = h.spam.entry("b".into()).or_default();
    b.extend(spread(300, t1 - DAY, t1));
    b.extend(spread(270, t1, t1 + 3 * DAY / 2));
    b.sort_unstable();
    // Known by T0 + 4 days, not by T0 + 2 days + 12 hours.
    assert_eq!(h.past_cuts(t1 + 2 * DAY), vec![(t1, 300)]);
    assert!(h.past_cuts(t1 + 12 * HOUR).is_empty());
    let obs = h.observations(&hosting, t1 + 2 * DAY);
    let touched: Vec<_> = obs.iter().filter(|o| o.dark_share > 0.0).collect();
    assert_eq!(touched.len(), 1);
    assert_eq!(touched[0].family, "b");
    assert!((touched[0].dark_share - 0.5).abs() < 1e-9);
    assert!((touched[0].drop() - 0.4).abs() < 0.02, "{obs:?}");
    // a sent nothing around it (its spam is all before T0): only b.
    assert!(obs.iter().all(|o| o.family == "b"), "{obs:?}");

    // A later what-if on AS100 uses b's response (0.8 × half dark).
    let t2 = t1 + 3 * DAY;
    h.spam
        .entry("b".into())
        .or_default()
        .extend(spread(300, t2 - DAY, t2));
    let m = h.moment(&hosting, t2);
    let w = h.what_if(
        &hosting,
        &m,
        &Cut {
            asns: vec![100],
            links: vec![],
        },
        &[],
    );
    assert_eq!(w.learned_from, 1);
    let b = w
        .prediction
        .per_botnet
        .iter()
        .find(|x| x.botnet == "b")
        .unwrap();
    assert_eq!(b.response.events, 1);
    // AS300 is dark by t2, so b's routed listings are the one at AS100.
    assert_eq!((b.cc_listed, b.cc_dark), (1, 1));
    assert!((b.predicted_drop - 0.8).abs() < 0.05, "{b:?}");
    // The past cut took a tenth of that day's spam and nobody made it
    // up: the substitution moves from the prior towards none.
    let s = &w.prediction.substitution;
    assert_eq!(s.events, 1);
    assert!(s.ratio < substitute::PRIOR_SUBSTITUTION, "{s:?}");
}

#[test]
fn a_backtest_is_made_before_the_drop_with_its_causes() {
    let (h, hosting) = world();
    let drops = [
        DropEvent {
            time: T0 + HOUR,
            time_low: T0 + HOUR / 2,
            observed_drop: 0.7,
            causes: vec![(100, T0)],
        },
        DropEvent {
            time: T0,
            time_low: T0,
            observed_drop: 0.2,
            causes: vec![],
        },
    ];
    let b = backtest(&h, &hosting, &drops);
    assert_eq!(b.len(), 1, "only drops with a cause");
    assert_eq!(b[0].at, T0 - 60_000_000);
    assert_eq!(b[0].cut, vec![100]);
    let p = &b[0].what_if.prediction;
    assert!((p.direct_drop - 0.75).abs() < 0.01, "{p:?}");
    assert_eq!(b[0].observed_drop, 0.7);
}

#[test]
fn the_dispersion_uses_whole_days_of_the_week_before() {
    let (mut h, hosting) = world();
    // a: a steady 600 a day for a week, the first day starting mid-day
    // (a part of a day: it must not count as a drop). b: 300 and 150 by
    // turns.
    let mut a = spread(300, T0 - 7 * DAY + DAY / 2, T0 - 6 * DAY);
    let mut b = Vec::new();
    for i in 0..7 {
        let from = T0 - (7 - i) * DAY;
        a.extend(spread(600, from.max(T0 - 6 * DAY), from + DAY));
        b.extend(spread(if i % 2 == 0 { 300 } else { 150 }, from, from + DAY));
    }
    a.sort_unstable();
    a.dedup();
    h.spam.insert("a".into(), a);
    h.spam.insert("b".into(), b);
    let m = h.moment(&hosting, T0);
    let cut = Cut {
        asns: vec![10],
        links: vec![],
    };
    let w = h.what_if(&hosting, &m, &cut, &[]);
    let by = |n: &str| {
        w.prediction
            .per_botnet
            .iter()
            .find(|x| x.botnet == n)
            .unwrap()
            .clone()
    };
    // Evenly spread counts vary less than Poisson: taken as 1.
    assert_eq!(by("a").dispersion, 1.0);
    assert!(by("b").dispersion > 10.0, "{:?}", by("b"));
}
