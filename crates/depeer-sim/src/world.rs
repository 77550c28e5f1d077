//! The world: ASes with roles, names, countries and prefixes, the initial
//! provider links (a DAG: a provider always has a lower index than its
//! customer, tier-1s first), collector peers, and the scenario's events
//! resolved to times for this seed.
//!
//! Invariants: ASNs are unique; prefixes never overlap across ASes except
//! more-specifics inside the same AS's aggregates; no address is in a
//! reserved range (so every bot address is public, as SpamAssassin needs).

use std::collections::{BTreeMap, BTreeSet};

use crate::rng::{Rng, cumulative};
use crate::scenario::{EventKind, HosterCfg, Scenario, Tier};
use crate::text::{COUNTRIES, NAME_PARTS, ORG_SUFFIX};
use crate::timefmt::{parse_abs, parse_duration};
use crate::{Options, SimError};

/// What an AS is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Tier1,
    Transit,
    Access,
    Hoster,
    /// A hoster named by the scenario (bulletproof or not).
    Named,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Tier1 => "tier1",
            Role::Transit => "transit",
            Role::Access => "access",
            Role::Hoster => "hoster",
            Role::Named => "named-hoster",
        }
    }
}

/// One AS.
#[derive(Debug, Clone)]
pub(crate) struct AsNode {
    pub(crate) asn: u32,
    pub(crate) role: Role,
    pub(crate) key: Option<String>,
    pub(crate) name: String,
    pub(crate) org_id: String,
    pub(crate) org_name: String,
    pub(crate) country: String,
    pub(crate) tz_min: i32,
    pub(crate) domain: String,
    pub(crate) bulletproof: bool,
    /// Initial providers (indices).
    pub(crate) providers: Vec<usize>,
    pub(crate) v4: Vec<(u32, u8)>,
    pub(crate) v6: Vec<(u128, u8)>,
    /// DHCP lease of its dynamic addresses (access networks).
    pub(crate) lease_secs: i64,
    /// rDNS naming pattern (access networks).
    pub(crate) rdns_style: u8,
    /// Weight as a home of bots.
    pub(crate) bot_weight: f64,
    /// Mean time between server moves (named hosters).
    pub(crate) move_every: Option<i64>,
    /// Mean time its abuse desk leaves a C&C server up (ordinary hosters:
    /// `topology.takedown`; named hosters: their own `takedown`).
    pub(crate) takedown: Option<i64>,
}

/// A resolved event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) key: String,
    pub(crate) kind: EventKind,
    pub(crate) time: i64,
    pub(crate) as_idx: usize,
    pub(crate) upstream: Option<usize>,
    pub(crate) family: Option<String>,
    pub(crate) note: String,
}

/// The generated world.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) ases: Vec<AsNode>,
    pub(crate) keyed: BTreeMap<String, usize>,
    pub(crate) access: Vec<usize>,
    pub(crate) hosters: Vec<usize>,
    pub(crate) peers: Vec<usize>,
    pub(crate) events: Vec<Event>,
    pub(crate) event_times: BTreeMap<String, i64>,
}

const RESERVED_V4_SLASH8: [u32; 9] = [0, 10, 100, 127, 169, 172, 192, 198, 203];

fn lognormal_count(rng: &mut Rng, mean: f64, sigma: f64) -> usize {
    let mu = mean.max(1.0).ln() - sigma * sigma / 2.0;
    ((mu + sigma * rng.normal()).exp().round() as usize).max(1)
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl World {
    /// Resolves a time spec: absolute, `key`, `key+dur` or `key-dur`.
    pub(crate) fn resolve_time(times: &BTreeMap<String, i64>, spec: &str) -> Option<i64> {
        if let Some(t) = parse_abs(spec) {
            return Some(t);
        }
        let spec = spec.trim();
        if let Some(&t) = times.get(spec) {
            return Some(t);
        }
        // `key+dur` / `key-dur`; keys may themselves contain '-'.
        for (i, c) in spec.char_indices().rev() {
            if let ('+' | '-', Some(&t), Some(off)) =
                (c, times.get(spec[..i].trim()), parse_duration(&spec[i..]))
            {
                return Some(t + off);
            }
        }
        None
    }

    /// Builds the world of a scenario for a seed and scale.
    pub(crate) fn build(sc: &Scenario, opts: &Options) -> Result<World, SimError> {
        let seed = opts.seed;
        let mut rng = Rng::stream(seed, "world", 0);
        let start =
            parse_abs(&sc.start).ok_or_else(|| invalid(sc, "start", "not a time".into()))?;
        let end = parse_abs(&sc.end).ok_or_else(|| invalid(sc, "end", "not a time".into()))?;
        let plan = role_plan(sc, opts);
        let n = plan.len();
        let asns = draw_asns(&mut rng, n);
        let (mut ases, keyed) = make_nodes(sc, &mut rng, &plan, &asns);
        link_providers(sc, &mut rng, &mut ases, &keyed);
        allocate_prefixes(sc, &mut ases, &mut rng, &plan);
        let access = indices_where(&ases, |a| a.role == Role::Access);
        let hosters = indices_where(&ases, |a| a.role == Role::Hoster);
        let peers = collector_peers(&mut rng, &ases, sc.topology.collector_peers as usize);
        let (events, event_times) = resolve_events(sc, seed, &keyed)?;
        Ok(World {
            seed,
            start,
            end,
            ases,
            keyed,
            access,
            hosters,
            peers,
            events,
            event_times,
        })
    }

    /// The domain of AS `i` (empty for an index out of range).
    pub(crate) fn domain_of(&self, i: usize) -> &str {
        self.ases.get(i).map_or("", |a| a.domain.as_str())
    }

    /// A random host address inside one of an AS's IPv4 prefixes, derived
    /// statelessly from `h`.
    pub(crate) fn host_in(&self, as_idx: usize, h: u64) -> u32 {
        host_in_prefixes(self.ases.get(as_idx).map_or(&[], |a| &a.v4[..]), h)
    }
}

/// The error of a scenario field that cannot be used.
fn invalid(sc: &Scenario, field: &str, reason: String) -> SimError {
    SimError::ScenarioInvalid {
        name: sc.name.clone(),
        field: field.to_string(),
        reason,
    }
}

/// Roles in index order: tier-1s (named first), transits (named first),
/// access, hosters, named hosters; the generated counts scaled by
/// `opts.scale` within the scenario's `max_ases`.
fn role_plan(sc: &Scenario, opts: &Options) -> Vec<(Role, Option<usize>)> {
    let t = &sc.topology;
    let base = f64::from(t.transit + t.access + t.hosters);
    let budget = (f64::from(t.max_ases)
        - f64::from(t.tier1)
        - sc.named_ases.len() as f64
        - sc.hosters.len() as f64)
        .max(3.0);
    let factor = (opts.scale.max(0.01) * base).min(budget) / base;
    let n_transit = ((f64::from(t.transit) * factor).round() as usize).max(1);
    let n_access = ((f64::from(t.access) * factor).round() as usize).max(1);
    let n_hosters = ((f64::from(t.hosters) * factor).round() as usize).max(1);

    let mut plan: Vec<(Role, Option<usize>)> = Vec::new();
    for (i, n) in sc.named_ases.iter().enumerate() {
        if n.tier == Tier::Tier1 {
            plan.push((Role::Tier1, Some(i)));
        }
    }
    plan.extend((0..t.tier1).map(|_| (Role::Tier1, None)));
    for (i, n) in sc.named_ases.iter().enumerate() {
        if n.tier == Tier::Transit {
            plan.push((Role::Transit, Some(i)));
        }
    }
    plan.extend((0..n_transit).map(|_| (Role::Transit, None)));
    plan.extend((0..n_access).map(|_| (Role::Access, None)));
    plan.extend((0..n_hosters).map(|_| (Role::Hoster, None)));
    plan.extend((0..sc.hosters.len()).map(|i| (Role::Named, Some(i))));
    plan
}

/// Unique ASNs, 4-byte numbers when the 16-bit space gets crowded,
/// shuffled so that 4-byte ASNs are not all at the end.
fn draw_asns(rng: &mut Rng, n: usize) -> Vec<u32> {
    let mut used = BTreeSet::new();
    let n16 = if n <= 30_000 { n } else { 40_000 };
    let mut asns = Vec::with_capacity(n);
    for i in 0..n {
        loop {
            let a = if i < n16 && !rng.chance(0.02) {
                1 + rng.below(64_495) as u32
            } else {
                131_072 + rng.below(270_000) as u32
            };
            if a != 23_456 && used.insert(a) {
                asns.push(a);
                break;
            }
        }
    }
    for i in (1..n).rev() {
        let j = rng.index(i + 1);
        asns.swap(i, j);
    }
    asns
}

/// The ASes of the plan with their names, organisations, countries,
/// domains and leases; the keyed ones by key.
fn make_nodes(
    sc: &Scenario,
    rng: &mut Rng,
    plan: &[(Role, Option<usize>)],
    asns: &[u32],
) -> (Vec<AsNode>, BTreeMap<String, usize>) {
    let n = plan.len();
    let country_cum = cumulative(COUNTRIES.iter().map(|c| c.2));
    let mut ases = Vec::with_capacity(n);
    let mut keyed = BTreeMap::new();
    let mut names_used = BTreeSet::new();
    for (i, (&(role, named), &asn)) in plan.iter().zip(asns).enumerate() {
        let ci = rng.weighted(&country_cum).unwrap_or(0);
        let (mut country, tz, share, cctld) = COUNTRIES.get(ci).copied().unwrap_or(COUNTRIES[0]);
        let mut name;
        let org_name;
        let mut key = None;
        let mut bulletproof = false;
        let mut move_every = None;
        let mut takedown = None;
        match (role, named) {
            (Role::Tier1 | Role::Transit, Some(k)) if let Some(c) = sc.named_ases.get(k) => {
                name = c.name.clone();
                org_name = c.org.clone();
                key = Some(c.key.clone());
                country = COUNTRIES
                    .iter()
                    .find(|x| x.0 == c.country)
                    .map_or("US", |x| x.0);
            }
            (Role::Named, Some(k)) if let Some(c) = sc.hosters.get(k) => {
                name = c.name.clone();
                org_name = c.org.clone();
                key = Some(c.key.clone());
                bulletproof = c.bulletproof;
                move_every = c.move_every.as_deref().and_then(parse_duration);
                takedown = c
                    .takedown
                    .as_deref()
                    .and_then(crate::scenario::takedown_secs)
                    .flatten();
                country = COUNTRIES
                    .iter()
                    .find(|x| x.0 == c.country)
                    .map_or("US", |x| x.0);
            }
            _ => {
                loop {
                    let a = rng.pick(&NAME_PARTS);
                    let b = rng.pick(&NAME_PARTS);
                    name = format!("{}{}", a.to_uppercase(), b.to_uppercase());
                    if rng.chance(0.5) {
                        name.push_str("-AS");
                    }
                    if names_used.len() > 1500 {
                        name = format!("{name}-{}", names_used.len());
                    }
                    if names_used.insert(name.clone()) {
                        break;
                    }
                }
                let base = name.trim_end_matches("-AS").to_lowercase();
                org_name = format!("{} {}", title(&base), rng.pick(&ORG_SUFFIX));
            }
        }
        let tz = COUNTRIES
            .iter()
            .find(|x| x.0 == country)
            .map_or(tz, |x| x.1);
        let tld = COUNTRIES
            .iter()
            .find(|x| x.0 == country)
            .map_or(cctld, |x| x.3);
        let domain = format!(
            "{}.{}",
            name.to_lowercase()
                .trim_end_matches("-as")
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', ""),
            tld
        );
        let org_id = format!(
            "{}-{}",
            name.trim_end_matches("-AS")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(6)
                .collect::<String>(),
            match country {
                "US" | "CA" => "ARIN",
                "BR" | "AR" | "MX" | "CO" => "LACNIC",
                "CN" | "KR" | "JP" | "IN" | "VN" | "TH" | "AU" => "APNIC",
                "EG" => "AFRINIC",
                _ => "RIPE",
            }
        );
        if let Some(k) = &key {
            keyed.insert(k.clone(), i);
        }
        let lease_secs = if rng.chance(0.3) {
            i64::MAX / 4
        } else {
            *rng.pick(&[86_400, 3 * 86_400, 7 * 86_400, 12 * 3600])
        };
        ases.push(AsNode {
            asn,
            role,
            key,
            name,
            org_id,
            org_name,
            country: country.to_string(),
            tz_min: tz,
            domain,
            bulletproof,
            providers: Vec::new(),
            v4: Vec::new(),
            v6: Vec::new(),
            lease_secs,
            rdns_style: rng.below(5) as u8,
            bot_weight: if role == Role::Access {
                share * rng.range(0.2, 1.8)
            } else {
                0.0
            },
            move_every,
            takedown: if role == Role::Hoster {
                crate::scenario::takedown_secs(&sc.topology.takedown).flatten()
            } else {
                takedown
            },
        });
    }
    (ases, keyed)
}

/// The providers of every AS: tier-1s have none, transits buy from tier-1s
/// and earlier ordinary transits, access and hosters from transits and
/// tier-1s, named hosters from their scenario upstreams and random
/// ordinary transits.
fn link_providers(
    sc: &Scenario,
    rng: &mut Rng,
    ases: &mut [AsNode],
    keyed: &BTreeMap<String, usize>,
) {
    let n = ases.len();
    let tier1 = indices_where(ases, |a| a.role == Role::Tier1);
    let transit = indices_where(ases, |a| a.role == Role::Transit);
    let named_transit: BTreeSet<usize> =
        indices_where(ases, |a| a.role == Role::Transit && a.key.is_some())
            .into_iter()
            .collect();
    for i in 0..n {
        let Some(node) = ases.get(i) else { continue };
        let (role, key) = (node.role, node.key.clone());
        let mut provs: Vec<usize> = Vec::new();
        match role {
            Role::Tier1 => {}
            Role::Transit => {
                let k = 1 + rng.index(3);
                let earlier: Vec<usize> = transit
                    .iter()
                    .copied()
                    .filter(|&j| j < i && !named_transit.contains(&j))
                    .collect();
                for _ in 0..k {
                    let p = if earlier.is_empty() || rng.chance(0.7) || key.is_some() {
                        *rng.pick(&tier1)
                    } else {
                        *rng.pick(&earlier)
                    };
                    if !provs.contains(&p) {
                        provs.push(p);
                    }
                }
            }
            Role::Access | Role::Hoster => {
                let k = 1 + rng.index(3);
                for _ in 0..k {
                    let p = if rng.chance(0.8) {
                        *rng.pick(&transit)
                    } else {
                        *rng.pick(&tier1)
                    };
                    if !provs.contains(&p) {
                        provs.push(p);
                    }
                }
            }
            Role::Named => {
                let k = key.unwrap_or_default();
                if let Some(c) = sc.hosters.iter().find(|h| h.key == k) {
                    for u in &c.upstreams {
                        if let Some(&p) = keyed.get(u) {
                            provs.push(p);
                        }
                    }
                    let ordinary: Vec<usize> = transit
                        .iter()
                        .copied()
                        .filter(|j| !named_transit.contains(j))
                        .collect();
                    for _ in 0..c.random_upstreams {
                        for _ in 0..8 {
                            let p = *rng.pick(&ordinary);
                            if !provs.contains(&p) {
                                provs.push(p);
                                break;
                            }
                        }
                    }
                }
            }
        }
        if let Some(node) = ases.get_mut(i) {
            node.providers = provs;
        }
    }
}

/// The scenario hoster behind AS `i` of the plan (the first one for a plan
/// entry without its index, as before).
fn named_hoster<'a>(
    sc: &'a Scenario,
    plan: &[(Role, Option<usize>)],
    i: usize,
) -> Option<&'a HosterCfg> {
    sc.hosters.get(plan.get(i)?.1.unwrap_or(0))
}

/// Whether AS `i` is a named hoster.
fn is_named(ases: &[AsNode], i: usize) -> bool {
    ases.get(i).is_some_and(|a| a.role == Role::Named)
}

/// Takes a block of `size` addresses from the first /8 of `order` with
/// room: its network. The per-/8 bump cursors stay aligned because sizes
/// only shrink.
fn take_block(
    pool: &[u32],
    cursors: &mut [u64],
    order: impl Iterator<Item = usize>,
    size: u64,
) -> Option<u32> {
    for s in order {
        if let (Some(&slash8), Some(cursor)) = (pool.get(s), cursors.get_mut(s))
            && *cursor + size <= 1 << 24
        {
            let net = (slash8 << 24) | *cursor as u32;
            *cursor += size;
            return Some(net);
        }
    }
    None
}

/// The indices of the ASes for which `pred` holds, in order.
fn indices_where(ases: &[AsNode], pred: impl Fn(&AsNode) -> bool) -> Vec<usize> {
    let hits = ases.iter().enumerate().filter(|(_, a)| pred(a));
    hits.map(|(i, _)| i).collect()
}

/// Collector peers: up to `count` ordinary tier-1s and transits.
fn collector_peers(rng: &mut Rng, ases: &[AsNode], count: usize) -> Vec<usize> {
    let mut candidates = indices_where(ases, |a| {
        matches!(a.role, Role::Tier1 | Role::Transit) && a.key.is_none()
    });
    let mut peers = Vec::new();
    while peers.len() < count && !candidates.is_empty() {
        let j = rng.index(candidates.len());
        peers.push(candidates.swap_remove(j));
    }
    peers.sort_unstable();
    peers
}

/// The scenario's events with their times, resolved in file order so that
/// later ones may refer to earlier ones; sorted by time.
fn resolve_events(
    sc: &Scenario,
    seed: u64,
    keyed: &BTreeMap<String, usize>,
) -> Result<(Vec<Event>, BTreeMap<String, i64>), SimError> {
    let mut event_times = BTreeMap::new();
    let mut events = Vec::new();
    let mut erng = Rng::stream(seed, "events", 0);
    for e in &sc.events {
        let base_t = World::resolve_time(&event_times, &e.at).ok_or_else(|| {
            invalid(
                sc,
                &format!("event.{}.at", e.key),
                format!("cannot resolve {:?}", e.at),
            )
        })?;
        let j = e.jitter.as_deref().and_then(parse_duration).unwrap_or(0);
        let time = base_t
            + if j > 0 {
                erng.below(2 * j as u64 + 1) as i64 - j
            } else {
                0
            };
        event_times.insert(e.key.clone(), time);
        let as_idx = *keyed
            .get(&e.asn)
            .ok_or_else(|| invalid(sc, "event.as", e.asn.clone()))?;
        let upstream = e.upstream.as_ref().and_then(|u| keyed.get(u).copied());
        events.push(Event {
            key: e.key.clone(),
            kind: e.kind,
            time,
            as_idx,
            upstream,
            family: e.family.clone(),
            note: e.note.clone(),
        });
    }
    events.sort_by_key(|e| e.time);
    Ok((events, event_times))
}

/// A host address inside one of the prefixes `v4`, derived statelessly
/// from `h` (`1.1.1.1` when there are none).
pub(crate) fn host_in_prefixes(v4: &[(u32, u8)], h: u64) -> u32 {
    let Some(&(net, len)) = v4.get((h % v4.len().max(1) as u64) as usize) else {
        return 0x0101_0101;
    };
    let size = 1u64 << (32 - u32::from(len));
    let off = ((h >> 24) % (size - 2).max(1)) as u32 + 1;
    net | off
}

/// Gives every AS its prefixes: aggregates allocated from shuffled /8s in
/// descending size (a bump allocator stays aligned that way), then
/// more-specifics carved out of the AS's own aggregates; IPv6 /32s from
/// 2001::/16 and further /16s, with more-specifics inside.
fn allocate_prefixes(
    sc: &Scenario,
    ases: &mut [AsNode],
    rng: &mut Rng,
    plan: &[(Role, Option<usize>)],
) {
    let t = &sc.topology;
    // Desired aggregate lengths and more-specific counts.
    let mut aggs: Vec<(usize, u8)> = Vec::new();
    let mut extra: Vec<usize> = vec![0; ases.len()];
    for (i, node) in ases.iter().enumerate() {
        if node.role == Role::Named {
            for &l in named_hoster(sc, plan, i).map_or(&[][..], |h| &h.v4[..]) {
                aggs.push((i, l));
            }
            continue;
        }
        let (mult, lo, hi) = match node.role {
            Role::Tier1 => (3.0, 12u8, 15u8),
            Role::Transit => (2.0, 14, 17),
            Role::Access => (1.2, 15, 19),
            _ => (0.6, 18, 22),
        };
        let n4 = lognormal_count(rng, t.v4_per_as * mult / 1.25, 1.1);
        let a = 1 + n4 / 12;
        for _ in 0..a {
            aggs.push((i, lo + rng.below(u64::from(hi - lo) + 1) as u8));
        }
        if let Some(e) = extra.get_mut(i) {
            *e = n4.saturating_sub(a);
        }
    }
    // Fit into the pool: lengthen generated aggregates until they fit.
    let pool_slash8: Vec<u32> = {
        let mut v: Vec<u32> = (1..224)
            .filter(|o| !RESERVED_V4_SLASH8.contains(o))
            .collect();
        for i in (1..v.len()).rev() {
            let j = rng.index(i + 1);
            v.swap(i, j);
        }
        v
    };
    let pool = pool_slash8.len() as f64 * f64::from(1u32 << 24);
    let mut shift = 0u8;
    loop {
        let used: f64 = aggs
            .iter()
            .map(|&(i, l)| {
                let l = if is_named(ases, i) {
                    l
                } else {
                    (l + shift).min(24)
                };
                f64::from(1u32 << (32 - u32::from(l)))
            })
            .sum();
        if used <= 0.85 * pool || shift >= 12 {
            break;
        }
        shift += 1;
    }
    for a in &mut aggs {
        if !is_named(ases, a.0) {
            a.1 = (a.1 + shift).min(24);
        }
    }
    // Shuffle, then stable-sort by length so that bigger blocks come first.
    for i in (1..aggs.len()).rev() {
        let j = rng.index(i + 1);
        aggs.swap(i, j);
    }
    aggs.sort_by_key(|a| a.1);
    // Each aggregate goes to a random /8 with room; per-/8 bump cursors stay
    // aligned because sizes only shrink.
    let mut cursors: Vec<u64> = vec![0; pool_slash8.len()];
    for &(i, l) in &aggs {
        let size = 1u64 << (32 - u32::from(l));
        let first = rng.index(pool_slash8.len());
        let order = (0..pool_slash8.len()).map(|k| (first + k) % pool_slash8.len());
        let Some(net) = take_block(&pool_slash8, &mut cursors, order, size) else {
            continue;
        };
        if let Some(node) = ases.get_mut(i) {
            node.v4.push((net, l));
        }
    }
    // Every AS announces at least one /24.
    for node in ases.iter_mut().filter(|a| a.v4.is_empty()) {
        if let Some(net) = take_block(&pool_slash8, &mut cursors, 0..pool_slash8.len(), 256) {
            node.v4.push((net, 24));
        }
    }
    // More-specifics inside the AS's own aggregates.
    for (i, node) in ases.iter_mut().enumerate() {
        if node.v4.is_empty() {
            continue;
        }
        let mut seen: BTreeSet<(u32, u8)> = node.v4.iter().copied().collect();
        let aggs_of = node.v4.clone();
        let mut tries = 0;
        let mut added = 0;
        let want = extra.get(i).copied().unwrap_or(0);
        while added < want && tries < want * 4 + 8 {
            tries += 1;
            let (net, l) = *rng.pick(&aggs_of);
            if l >= 24 {
                continue;
            }
            let sub = if rng.chance(0.75) {
                24
            } else {
                (l + 1 + rng.below(u64::from(24 - l)) as u8).min(24)
            };
            let span = 1u64 << (u32::from(sub) - u32::from(l));
            let k = rng.below(span) as u32;
            let p = (net | (k << (32 - u32::from(sub))), sub);
            if seen.insert(p) {
                node.v4.push(p);
                added += 1;
            }
        }
    }
    allocate_v6(sc, ases, rng, plan);
}

/// IPv6: a /32 per AS that wants one (tier-1s, named hosters with v6
/// lengths, a share of the others) from 2001::/16 and further /16s, with
/// more-specifics inside.
fn allocate_v6(sc: &Scenario, ases: &mut [AsNode], rng: &mut Rng, plan: &[(Role, Option<usize>)]) {
    let t = &sc.topology;
    let blocks: [u32; 5] = [0x2001, 0x2400, 0x2600, 0x2800, 0x2a00];
    let mut k6: u64 = 0;
    let offset = rng.below(65_536);
    for (i, node) in ases.iter_mut().enumerate() {
        let wants = match node.role {
            Role::Named => named_hoster(sc, plan, i).is_some_and(|h| !h.v6.is_empty()),
            Role::Tier1 => true,
            _ => rng.chance(t.v6_share),
        };
        if !wants {
            continue;
        }
        let high = loop {
            let b = blocks
                .get((k6 / 65_536) as usize)
                .copied()
                .unwrap_or(0x2a00);
            let low = ((k6 % 65_536) * 40_503 + offset) % 65_536;
            k6 += 1;
            if b == 0x2001 && (low < 0x0200 || low == 0x0db8) {
                continue;
            }
            break (b << 16) | low as u32;
        };
        let base = u128::from(high) << 96;
        if node.role == Role::Named {
            let lens = named_hoster(sc, plan, i).map_or(&[][..], |h| &h.v6[..]);
            for (j, &l) in lens.iter().enumerate() {
                let l = l.max(32);
                node.v6
                    .push((base | ((j as u128) << (128 - u32::from(l))), l));
            }
            continue;
        }
        node.v6.push((base, 32));
        let n6 = lognormal_count(rng, t.v6_per_as, 0.9);
        let mut seen = BTreeSet::new();
        for _ in 0..n6.saturating_sub(1) * 2 {
            if node.v6.len() >= n6 {
                break;
            }
            let l = *rng.pick(&[48u8, 48, 48, 40, 44, 36]);
            let bits = rng.below(1 << (l - 32)) as u128;
            let p = (base | (bits << (128 - u32::from(l))), l);
            if seen.insert(p) {
                node.v6.push(p);
            }
        }
    }
}
