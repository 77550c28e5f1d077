//! Unit tests of the ranking on a small hand-made world: a rogue /22
//! behind a reselling transit, a big legitimate hoster with more abuse
//! by count but far less per address (the decoy), a /24 with one
//! short-lived false positive, an access network full of bots.

use std::collections::HashMap;

use super::*;

const H: i64 = 3_600_000_000;
const D: i64 = 24 * H;
/// The ranking moment: day 40.
const AT: i64 = 40 * D;

fn route(p: &str, origin: u32) -> RouteSpan {
    RouteSpan::of_cidr(p, origin, (0, 60 * D), "c").unwrap()
}

fn up(asn: u32, provider: u32) -> UpstreamSpan {
    UpstreamSpan {
        asn,
        provider,
        first: 0,
        last: 60 * D,
    }
}

fn listing(
    kind: ListingKind,
    indicator: &str,
    family: Option<&str>,
    first: i64,
    last: i64,
) -> Listing {
    Listing {
        kind,
        source: "test".into(),
        indicator: indicator.into(),
        address: None,
        family: family.map(str::to_string),
        port: Some(80),
        first: Some(first),
        last: Some(last),
        file: "feed.csv".into(),
        line: 1,
    }
}

fn pdns(name: &str, addr: &str, first: i64, last: i64) -> Listing {
    Listing {
        address: Some(addr.into()),
        ..listing(ListingKind::Pdns, name, None, first, last)
    }
}

fn world() -> RankInput {
    let mut names = HashMap::new();
    for (a, n, o) in [
        (1, "TIER1", "Tier One"),
        (10, "RESELL", "Resell Transit"),
        (100, "ROGUE", "Rogue Hosting"),
        (200, "BIGCLOUD", "Big Cloud"),
        (201, "BIGCLOUD-2", "Big Cloud"),
        (300, "TINY", "Tiny Web"),
        (400, "ACCESS", "Access Net"),
    ] {
        names.insert(
            a,
            AsName {
                name: n.into(),
                org: Some(o.into()),
            },
        );
    }
    // Rogue /22: four C&C servers up for weeks, one of them moved
    // inside the network after its first listing; two sites.
    let mut listings = vec![
        listing(ListingKind::Cnc, "10.0.0.1", Some("srizbi"), 20 * D, 39 * D),
        listing(ListingKind::Cnc, "10.0.0.2", Some("srizbi"), 20 * D, 39 * D),
        listing(ListingKind::Cnc, "10.0.1.3", Some("megad"), 15 * D, 25 * D),
        Listing {
            port: Some(80),
            ..listing(ListingKind::Cnc, "10.0.2.4", Some("megad"), 25 * D, 39 * D)
        },
        pdns("pills.example", "10.0.3.5", 12 * D, 39 * D),
        pdns("watches.example", "10.0.3.6", 12 * D, 39 * D),
    ];
    // Big cloud: a /14 and a /16 (two ASes of one organisation), ten C&C
    // servers and five sites, all persistent: more abuse, less density.
    for i in 0..10 {
        listings.push(listing(
            ListingKind::Cnc,
            &format!("20.0.{i}.9"),
            Some("cutwail"),
            10 * D,
            39 * D,
        ));
    }
    for i in 0..5 {
        listings.push(pdns(
            &format!("shop{i}.example"),
            &format!("20.1.{i}.7"),
            10 * D,
            39 * D,
        ));
    }
    // Tiny /24: one C&C listed for 12 hours (a false positive).
    listings.push(listing(
        ListingKind::Cnc,
        "30.0.0.1",
        Some("storm"),
        30 * D,
        30 * D + 12 * H,
    ));
    // Access network: bots.
    for i in 0..40 {
        listings.push(listing(
            ListingKind::Bots,
            &format!("40.0.{i}.1"),
            Some("cutwail"),
            30 * D,
            32 * D,
        ));
    }
    // After `at`: must change nothing.
    for i in 0..50 {
        listings.push(listing(
            ListingKind::Cnc,
            &format!("20.2.{i}.1"),
            Some("cutwail"),
            41 * D,
            45 * D,
        ));
    }
    let mut messages = Vec::new();
    for i in 0..30 {
        let host = if i % 3 == 0 {
            "www.pills.example"
        } else {
            "shop1.example"
        };
        messages.push(Message {
            sha256: format!("{i:064x}"),
            time: 35 * D + i * H,
            botnet: Some(if i % 3 == 0 { "srizbi" } else { "cutwail" }.into()),
            campaign: Some(format!("c-{}", i % 3)),
            hosts: vec![host.into()],
        });
    }
    RankInput {
        at: AT,
        window: 30 * D,
        routes: vec![
            route("1.0.0.0/8", 1),
            route("5.0.0.0/16", 10),
            route("10.0.0.0/22", 100),
            route("20.0.0.0/14", 200),
            route("20.4.0.0/16", 201),
            route("30.0.0.0/24", 300),
            route("40.0.0.0/16", 400),
        ],
        upstreams: vec![
            up(10, 1),
            up(100, 10),
            up(200, 1),
            up(201, 1),
            up(300, 1),
            up(400, 1),
        ],
        names,
        listings,
        messages,
        routing_events: vec![RoutingEvent {
            time: 33 * D,
            kind: "upstream-lost".into(),
            asn: Some(100),
            prefix: None,
            detail: "upstream AS7".into(),
        }],
    }
}

fn order(r: &Ranking) -> Vec<u32> {
    r.rows.iter().map(|x| x.asn).collect()
}

#[test]
fn dense_rogue_network_outranks_the_bigger_decoy() {
    let w = Weights::builtin().unwrap();
    let r = rank(&world(), By::As, Method::Depeer, &w);
    let o = order(&r);
    assert_eq!(
        o.first(),
        Some(&100),
        "{:#?}",
        r.rows
            .iter()
            .map(|x| (x.asn, x.score, &x.contributions))
            .collect::<Vec<_>>()
    );
    let pos = |a: u32| o.iter().position(|&x| x == a).unwrap();
    // The decoy has more abuse in count...
    let rogue = &r.rows[pos(100)].tally;
    let cloud = &r.rows[pos(200)].tally;
    assert!(
        cloud.hosting() > rogue.hosting(),
        "{} vs {}",
        cloud.hosting(),
        rogue.hosting()
    );
    // ...but ranks below, and so does the one-off false positive.
    assert!(pos(200) > pos(100));
    assert!(pos(300) > pos(100));
    // The one-off listing does not count in the density.
    assert_eq!(r.rows[pos(300)].tally.cc, 0);
    assert_eq!(r.rows[pos(300)].tally.cc_all, 1);
    // The moved megad server is one service at two addresses.
    assert_eq!(r.rows[0].features["moves"], 1.0);
    let contributions: f64 = r.rows[0].contributions.values().sum();
    assert!((contributions - r.rows[0].score).abs() < 1e-5);
}

#[test]
fn reselling_transit_shows_through_its_cone_below_the_rogue_network() {
    let w = Weights::builtin().unwrap();
    let r = rank(&world(), By::As, Method::Depeer, &w);
    let o = order(&r);
    let reseller = o
        .iter()
        .position(|&x| x == 10)
        .expect("the reseller is ranked");
    assert!(r.rows[reseller].features["cone"] > 0.0);
    assert!(reseller > 0 && r.rows[reseller].score < r.rows[0].score);
    // The tier-1 above everyone has a diluted cone: below the reseller.
    let tier1 = o.iter().position(|&x| x == 1).unwrap_or(usize::MAX);
    assert!(tier1 > reseller, "{o:?}");
}

#[test]
fn nothing_after_at_is_used() {
    let w = Weights::builtin().unwrap();
    let mut later = world();
    later.listings.retain(|l| l.first.unwrap_or(0) <= AT);
    let a = rank(&world(), By::As, Method::Depeer, &w);
    let b = rank(&later, By::As, Method::Depeer, &w);
    assert_eq!(order(&a), order(&b));
    let scores = |r: &Ranking| r.rows.iter().map(|x| x.score).collect::<Vec<_>>();
    assert_eq!(scores(&a), scores(&b));
}

#[test]
fn circl_counts_the_one_off_that_depeer_filters() {
    let w = Weights::builtin().unwrap();
    // CIRCL counts every listing per address, the one-off false positive
    // of the tiny /24 included: it comes second there; depeer's
    // persistence filter gives it no density at all.
    let c = rank(&world(), By::As, Method::Circl, &w);
    assert_eq!(order(&c).get(1), Some(&300), "{:?}", order(&c));
    let d = rank(&world(), By::As, Method::Depeer, &w);
    let tiny = d.rows.iter().find(|x| x.asn == 300).unwrap();
    assert_eq!(tiny.features["cc_density"], 0.0);
    let f = rank(&world(), By::As, Method::Fire, &w);
    let rogue = f.rows.iter().find(|x| x.asn == 100).unwrap();
    // Four C&C servers and the one advertised site (the other resolved
    // name is advertised nowhere) in four /24s.
    assert!((rogue.score - 5.0 / 4.0).abs() < 1e-9, "{}", rogue.score);
}

#[test]
fn organisations_sum_their_ases_and_name_the_largest() {
    let w = Weights::builtin().unwrap();
    let r = rank(&world(), By::Org, Method::Depeer, &w);
    let cloud = r.rows.iter().find(|x| x.key == "Big Cloud").unwrap();
    assert_eq!(cloud.asn, 200);
    assert_eq!(cloud.tally.asns.len(), 2);
    assert_eq!(cloud.tally.size24, 1024.0 + 256.0);
    assert_eq!(r.rows[0].key, "Rogue Hosting");
}

#[test]
fn prefixes_are_ranked_with_their_origin() {
    let w = Weights::builtin().unwrap();
    let r = rank(&world(), By::Prefix, Method::Depeer, &w);
    assert_eq!(r.rows[0].prefix.as_deref(), Some("10.0.0.0/22"));
    assert_eq!(r.rows[0].asn, 100);
}

#[test]
fn explain_lists_the_evidence_of_each_feature() {
    let w = Weights::builtin().unwrap();
    let input = world();
    let r = rank(&input, By::As, Method::Depeer, &w);
    let x = explain(&input, &r, 100).unwrap();
    assert_eq!(x.row.rank, 1);
    let cc = &x.features["cc_density"].evidence;
    assert_eq!(cc.len(), 4);
    assert!(cc.iter().all(|e| e.first <= e.last && e.last <= AT));
    assert_eq!(x.features["upstream_churn"].evidence.len(), 1);
    let sites = &x.features["site_density"].evidence;
    assert!(
        sites
            .iter()
            .any(|e| e.indicator == "www.pills.example" && e.messages == 10),
        "{sites:?}"
    );
    assert!(explain(&input, &r, 999).is_none());
}

#[test]
fn weights_files_are_validated_with_file_and_line() {
    assert!(Weights::builtin().is_ok());
    let bad = DEFAULT_WEIGHTS.replace("moves = 2.0", "movez = 2.0");
    let e = Weights::parse(&bad, "w.toml").unwrap_err();
    let line = DEFAULT_WEIGHTS
        .lines()
        .position(|l| l.starts_with("moves ="))
        .unwrap()
        + 1;
    assert_eq!((e.file.as_str(), e.line), ("w.toml", line), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("w.toml:{line}: unknown feature \"movez\"")),
        "{e}"
    );
    let neg = DEFAULT_WEIGHTS.replace("cone = 1.0", "cone = -1");
    let e = Weights::parse(&neg, "n.toml").unwrap_err();
    assert!(e.to_string().contains("cone"), "{e}");
    let missing = DEFAULT_WEIGHTS.replace("cone = 1.0\n", "");
    assert!(
        Weights::parse(&missing, "m.toml")
            .unwrap_err()
            .detail
            .contains("cone")
    );
    let syntax = "version = 1\n[weights]\ncc_density = = 3\n";
    assert_eq!(Weights::parse(syntax, "s.toml").unwrap_err().line, 3);
    let e = Weights::parse("version = 2\n", "v.toml").unwrap_err();
    assert_eq!(e.line, 1);
    let i = DEFAULT_WEIGHTS.replace("impact = 0.5", "impact = 1.5");
    let e = Weights::parse(&i, "i.toml").unwrap_err();
    assert!(e.to_string().contains("impact"), "{e}");
    let w = Weights::parse(
        &DEFAULT_WEIGHTS.replace("density_half = 0.02", "density_half = 0.1"),
        "d.toml",
    )
    .unwrap();
    assert_eq!((w.density_half, w.impact), (0.1, 0.5));
    let p = DEFAULT_WEIGHTS.replace("persistence = \"1d\"", "persistence = \"soon\"");
    assert!(
        Weights::parse(&p, "p.toml")
            .unwrap_err()
            .to_string()
            .contains("persistence")
    );
}

#[test]
fn among_rogue_networks_the_one_the_spam_depends_on_comes_first() {
    // A second rogue network, a /24 far denser than the first, whose six
    // C&C servers and six phishing sites serve nothing the traps saw (no
    // dependency).
    let mut input = world();
    input.routes.push(route("50.0.0.0/24", 500));
    input.upstreams.push(up(500, 1));
    for i in 1..=6 {
        input.listings.push(listing(
            ListingKind::Cnc,
            &format!("50.0.0.{i}"),
            Some("waledac"),
            20 * D,
            39 * D,
        ));
        input.listings.push(listing(
            ListingKind::Url,
            &format!("http://50.0.0.{}/login", i + 10),
            None,
            20 * D,
            39 * D,
        ));
    }
    let w = Weights::builtin().unwrap();
    let o = order(&rank(&input, By::As, Method::Depeer, &w));
    let pos = |a: u32| o.iter().position(|&x| x == a).unwrap();
    assert!(pos(100) < pos(500), "{o:?}");
    // Additive only (impact 0), density decides.
    let additive = Weights { impact: 0.0, ..w };
    let r = rank(&input, By::As, Method::Depeer, &additive);
    let o = order(&r);
    let pos = |a: u32| o.iter().position(|&x| x == a).unwrap();
    assert!(
        pos(500) < pos(100),
        "{:#?}",
        r.rows
            .iter()
            .map(|x| (x.asn, x.score, &x.contributions))
            .collect::<Vec<_>>()
    );
    // Either way the big cloud, which carries most of the spam's
    // dependencies, stays below both: its density gate is small.
    assert!(pos(200) > pos(100) && pos(200) > pos(500), "{o:?}");
}

#[test]
fn a_big_hoster_that_moves_its_servers_is_still_no_rogue_network() {
    // The cloud renumbers every one of its C&C servers after a listing
    // (as the rogue network does one): moves and lifetimes grow with
    // size, and its density gate keeps them from counting.
    let mut input = world();
    for i in 0..10 {
        input.listings.push(listing(
            ListingKind::Cnc,
            &format!("20.0.{}.19", i + 100),
            Some("cutwail"),
            39 * D,
            39 * D + H,
        ));
    }
    let w = Weights::builtin().unwrap();
    let r = rank(&input, By::As, Method::Depeer, &w);
    let o = order(&r);
    let pos = |a: u32| o.iter().position(|&x| x == a).unwrap();
    assert_eq!(o.first(), Some(&100), "{o:?}");
    let cloud = &r.rows[pos(200)];
    assert!(cloud.features["dependency"] > r.rows[0].features["dependency"]);
    let gated = |row: &RankRow| -> f64 {
        ["moves", "longevity", "persistence", "dependency"]
            .iter()
            .map(|k| row.contributions[*k])
            .sum()
    };
    // Without the density gate they would count more than twice as much
    // (its 20 listings in 1,280 /24s: a gate of 0.44).
    let ungated = rank(
        &input,
        By::As,
        Method::Depeer,
        &Weights {
            density_half: 0.0,
            ..w
        },
    );
    let cloud0 = ungated.rows.iter().find(|x| x.asn == 200).unwrap();
    assert!(
        gated(cloud) < 0.5 * gated(cloud0),
        "{:?} vs {:?}",
        cloud.contributions,
        cloud0.contributions
    );
}

#[test]
fn controllers_known_only_from_their_bots_count_as_cc() {
    let w = Weights::builtin().unwrap();
    let mut input = world();
    input.routes.push(route("50.0.0.0/22", 500));
    input.upstreams.push(up(500, 1));
    // Bots of the access network seen talking to an unlisted controller
    // in AS 500 over five days, and to a listed one in the rogue /22.
    let contact = |bot: &str, cc: &str, day: i64| Listing {
        address: Some(cc.into()),
        ..listing(
            ListingKind::Bots,
            bot,
            Some("kelihos"),
            day * D,
            day * D + H,
        )
    };
    for day in 30..35 {
        input
            .listings
            .push(contact(&format!("40.1.{day}.1"), "50.0.1.1", day));
    }
    input.listings.push(contact("40.1.99.1", "10.0.0.1", 31));
    let r = rank(&input, By::As, Method::Depeer, &w);
    let row = r.rows.iter().find(|x| x.asn == 500).expect("AS 500 ranked");
    // One persistent C&C address (five contacts over five days), and the
    // listed controller is not counted twice.
    assert_eq!((row.tally.cc, row.tally.cc_all), (1, 1));
    let rogue = r.rows.iter().find(|x| x.asn == 100).unwrap();
    assert_eq!(rogue.tally.cc_all, 4);
    let x = explain(&input, &r, 500).unwrap();
    let cc = &x.features["cc_density"].evidence;
    assert_eq!(cc.len(), 1, "{cc:?}");
    assert!(
        cc[0].sources[0].starts_with("contacted by 5 listed bot(s)"),
        "{cc:?}"
    );
    assert_eq!(cc[0].first, 30 * D);
    assert_eq!(cc[0].last, 34 * D + H);
}

#[test]
fn a_hoster_whose_controller_went_while_the_bots_went_on_is_evicted() {
    let w = Weights::builtin().unwrap();
    let mut input = world();
    // AS 500 (a /22) hosts a kelihos controller from day 30 until day 33;
    // then the family's bots talk to AS 600 (another ordinary hoster),
    // until `at`. AS 700 hosts a second family's controller all along,
    // replaced by a new address of its own on day 36 (a move, not an
    // eviction).
    for (p, a) in [
        ("50.0.0.0/22", 500),
        ("60.0.0.0/22", 600),
        ("70.0.0.0/22", 700),
    ] {
        input.routes.push(route(p, a));
        input.upstreams.push(up(a, 1));
    }
    let contact = |n: i64, family: &str, cc: &str, t: i64| Listing {
        address: Some(cc.into()),
        line: n as u64,
        ..listing(
            ListingKind::Bots,
            &format!("40.2.{}.{}", n / 200, n % 200),
            Some(family),
            t,
            t + H,
        )
    };
    let mut n = 0;
    // Four contacts a day per family.
    let mut t = 30 * D;
    while t < AT {
        let (k, r) = if t < 33 * D {
            ("50.0.1.1", "70.0.0.1")
        } else {
            ("60.0.2.2", "70.0.0.1")
        };
        let r = if t >= 36 * D { "70.0.0.9" } else { r };
        input.listings.push(contact(n, "kelihos", k, t));
        input.listings.push(contact(n + 1, "waledac", r, t));
        n += 2;
        t += 6 * H;
    }
    let r = rank(&input, By::As, Method::Depeer, &w);
    let row = |a: u32| r.rows.iter().find(|x| x.asn == a).expect("ranked");
    let gone = row(500);
    assert_eq!(gone.tally.evicted.len(), 1, "{:?}", gone.tally.evicted);
    assert_eq!(gone.features["evicted"], 1.0);
    assert!(gone.contributions["evicted"] < 0.0);
    let e = &gone.tally.evicted[0];
    assert_eq!((e.family.as_str(), e.contacts), ("kelihos", 12));
    assert_eq!(e.now_at.first().map(|x| x.0.as_str()), Some("600"));
    // The network it went to, and the one that renumbered inside its own
    // space, are not evicted.
    assert!(row(600).tally.evicted.is_empty());
    assert!(row(700).tally.evicted.is_empty());
    // The network that took the controller down ranks below the one
    // that hosts it now.
    assert!(
        gone.score < row(600).score,
        "{} vs {}",
        gone.score,
        row(600).score
    );
    let x = explain(&input, &r, 500).unwrap();
    let ev = &x.features["evicted"].evidence;
    assert_eq!(ev.len(), 1);
    assert!(ev[0].detail.contains("600"), "{}", ev[0].detail);
}
