//! Routing: paths from each collector peer to each AS (valley-free: up the
//! peer's provider chain, across the tier-1 clique, down the origin's), the
//! TABLE_DUMP_V2 RIB at the start, and BGP4MP update files day by day for
//! the scenario's link events plus ordinary churn (prefix flaps, upstream
//! flaps of multihomed access networks).
//!
//! A peer picks one provider per AS by a stable hash among the providers
//! that are up and reachable, so different peers see different upstreams
//! of a multihomed AS, and losing one upstream moves some peers' paths
//! (announcements) while losing the last one withdraws everything.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::SimError;
use crate::mrt_write::{self, MrtPeer, RibEntry};
use crate::outfile::OutFile;
use crate::rng::{Rng, mix3};
use crate::scenario::{EventKind, Scenario};
use crate::timefmt::compact_day;
use crate::world::{Role, World};

/// The collector's own AS (RFC 5398 documentation range).
pub(crate) const COLLECTOR_AS: u32 = 64_496;
const COLLECTOR_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const COLLECTOR_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

/// One BGP session of the collector.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) peer_as_idx: usize,
    pub(crate) asn: u32,
    pub(crate) ip: IpAddr,
    pub(crate) v6: bool,
}

/// Counts for truth.json and the summary.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct RoutingCounts {
    pub(crate) rib_v4_prefixes: u64,
    pub(crate) rib_v6_prefixes: u64,
    pub(crate) rib_entries: u64,
    pub(crate) update_messages: u64,
    pub(crate) announced_prefixes: u64,
    pub(crate) withdrawn_prefixes: u64,
    pub(crate) prefix_flaps: u64,
    pub(crate) link_flaps: u64,
}

/// Routing state.
pub(crate) struct Routing<'w> {
    w: &'w World,
    providers: Vec<Vec<usize>>,
    customers: Vec<Vec<usize>>,
    reach: Vec<bool>,
    sessions: Vec<Session>,
    peer_chain: Vec<Vec<usize>>,
    /// Current path per (session, AS); `None` = not announced.
    paths: Vec<Vec<Option<Box<[u32]>>>>,
    /// Prefixes temporarily withdrawn by a flap: (as, prefix index, v6, session).
    down: BTreeSet<(usize, usize, bool, usize)>,
    pub(crate) counts: RoutingCounts,
}

/// Something that happens to the routing at a time.
#[derive(Debug, Clone)]
enum Action {
    LinkDown(usize, usize),
    LinkUp(usize, usize),
    Isolate(usize),
    FlapDown(Flap),
    FlapUp(Flap),
}

/// A prefix flap: prefix `pfx` of AS `as_idx` withdrawn on `sessions`,
/// then announced again.
#[derive(Debug, Clone)]
struct Flap {
    as_idx: usize,
    pfx: usize,
    v6: bool,
    sessions: Vec<usize>,
}

impl Flap {
    /// Its entry in [`Routing::down`] for session `s`.
    fn key(&self, s: usize) -> (usize, usize, bool, usize) {
        (self.as_idx, self.pfx, self.v6, s)
    }
}

impl<'w> Routing<'w> {
    pub(crate) fn new(w: &'w World) -> Routing<'w> {
        let n = w.ases.len();
        let providers: Vec<Vec<usize>> = w.ases.iter().map(|a| a.providers.clone()).collect();
        let mut customers = vec![Vec::new(); n];
        for (c, ps) in providers.iter().enumerate() {
            for &p in ps {
                if let Some(cs) = customers.get_mut(p) {
                    cs.push(c);
                }
            }
        }
        let mut sessions = Vec::new();
        for &p in &w.peers {
            let Some(node) = w.ases.get(p) else { continue };
            let ip4 = Ipv4Addr::from(w.host_in(p, mix3(w.seed, p as u64, 4)));
            sessions.push(Session {
                peer_as_idx: p,
                asn: node.asn,
                ip: IpAddr::V4(ip4),
                v6: false,
            });
            if let Some(&(net, _)) = node.v6.first() {
                let ip6 = Ipv6Addr::from(net | 1);
                sessions.push(Session {
                    peer_as_idx: p,
                    asn: node.asn,
                    ip: IpAddr::V6(ip6),
                    v6: true,
                });
            }
        }
        let mut r = Routing {
            w,
            providers,
            customers,
            reach: vec![false; n],
            peer_chain: Vec::new(),
            paths: Vec::new(),
            sessions,
            down: BTreeSet::new(),
            counts: RoutingCounts::default(),
        };
        for i in 0..n {
            let reach = r.compute_reach(i);
            r.set_reach(i, reach);
        }
        r.peer_chain = r
            .sessions
            .iter()
            .map(|s| {
                r.chain(s.peer_as_idx, s.peer_as_idx)
                    .unwrap_or_else(|| vec![s.peer_as_idx])
            })
            .collect();
        r.paths = (0..r.sessions.len())
            .map(|s| (0..n).map(|x| r.path(s, x)).collect())
            .collect();
        r
    }

    fn compute_reach(&self, i: usize) -> bool {
        self.w.ases.get(i).is_some_and(|a| a.role == Role::Tier1)
            || self.providers_of(i).iter().any(|&p| self.reachable(p))
    }

    fn set_reach(&mut self, i: usize, reach: bool) {
        if let Some(r) = self.reach.get_mut(i) {
            *r = reach;
        }
    }

    /// Whether an AS is reachable from the tier-1 clique now.
    pub(crate) fn reachable(&self, i: usize) -> bool {
        self.reach.get(i).copied().unwrap_or(false)
    }

    /// Current providers of an AS.
    fn providers_of(&self, i: usize) -> &[usize] {
        self.providers.get(i).map_or(&[], |p| &p[..])
    }

    /// The ASN of AS `i`.
    fn asn(&self, i: usize) -> u32 {
        self.w.ases.get(i).map_or(0, |a| a.asn)
    }

    /// The current path of session `s` for origin `a`.
    fn current(&self, s: usize, a: usize) -> Option<&[u32]> {
        self.paths.get(s)?.get(a)?.as_deref()
    }

    /// Whether session `s` is the IPv6 one of its peer.
    fn is_v6(&self, s: usize) -> bool {
        self.sessions.get(s).is_some_and(|x| x.v6)
    }

    /// Current upstream ASNs of an AS.
    pub(crate) fn upstream_asns(&self, i: usize) -> Vec<u32> {
        self.providers_of(i).iter().map(|&p| self.asn(p)).collect()
    }

    /// The chain from `x` up to a tier-1 as chosen by `peer`.
    fn chain(&self, peer: usize, x: usize) -> Option<Vec<usize>> {
        if !self.reachable(x) {
            return None;
        }
        let mut out = vec![x];
        let mut cur = x;
        while self.w.ases.get(cur)?.role != Role::Tier1 && out.len() < 40 {
            let up: Vec<usize> = self
                .providers_of(cur)
                .iter()
                .copied()
                .filter(|&p| self.reachable(p))
                .collect();
            let k = (mix3(self.w.seed, peer as u64, cur as u64) % up.len().max(1) as u64) as usize;
            cur = *up.get(k)?;
            out.push(cur);
        }
        Some(out)
    }

    /// The AS path session `s` has for origin `x`.
    fn path(&self, s: usize, x: usize) -> Option<Box<[u32]>> {
        let peer = self.sessions.get(s)?.peer_as_idx;
        let xc = self.chain(peer, x)?;
        let pc = self.peer_chain.get(s)?;
        let mut idx: Vec<usize> = Vec::with_capacity(pc.len() + xc.len());
        // The peer's chain up to where x's chain meets it, then x's chain
        // down from there; the two whole chains when they do not meet.
        let meet = xc
            .iter()
            .enumerate()
            .find_map(|(j, a)| Some((j, pc.iter().position(|b| b == a)?)));
        match meet {
            Some((j, i)) => {
                idx.extend(pc.iter().take(i + 1));
                idx.extend(xc.iter().take(j).rev());
            }
            None => {
                idx.extend_from_slice(pc);
                idx.extend(xc.iter().rev());
            }
        }
        Some(idx.iter().map(|&i| self.asn(i)).collect())
    }

    fn next_hop4(&self, s: usize) -> Ipv4Addr {
        match self.sessions.get(s).map(|x| x.ip) {
            Some(IpAddr::V4(a)) => a,
            _ => Ipv4Addr::UNSPECIFIED,
        }
    }

    fn next_hop6(&self, s: usize) -> Ipv6Addr {
        match self.sessions.get(s).map(|x| x.ip) {
            Some(IpAddr::V6(a)) => a,
            Some(IpAddr::V4(a)) => a.to_ipv6_mapped(),
            None => Ipv6Addr::UNSPECIFIED,
        }
    }

    fn mrt_peers(&self) -> Vec<MrtPeer> {
        self.sessions
            .iter()
            .map(|s| MrtPeer {
                bgp_id: Ipv4Addr::from(
                    self.w
                        .host_in(s.peer_as_idx, mix3(self.w.seed, s.peer_as_idx as u64, 4)),
                ),
                ip: s.ip,
                asn: s.asn,
            })
            .collect()
    }

    /// Writes the TABLE_DUMP_V2 RIB at the world's start.
    pub(crate) fn write_rib(
        &mut self,
        path: &Path,
        gzip: bool,
    ) -> Result<(std::path::PathBuf, u64), SimError> {
        let w = self.w;
        let ts = w.start as u32;
        let mut out = OutFile::create(path, gzip)?;
        let mut buf = Vec::with_capacity(1 << 16);
        let body = mrt_write::peer_index_table(COLLECTOR_ID, "depeer-sim", &self.mrt_peers())?;
        mrt_write::record(
            &mut buf,
            ts,
            mrt_write::TABLE_DUMP_V2,
            mrt_write::peer_index_subtype(),
            &body,
        )?;
        out.write(&buf)?;
        let mut seq: u32 = 0;
        let mut v4: Vec<(u32, u8, u32)> = Vec::new();
        let mut v6: Vec<(u128, u8, u32)> = Vec::new();
        for (i, a) in w.ases.iter().enumerate() {
            v4.extend(a.v4.iter().map(|&(n, l)| (n, l, i as u32)));
            v6.extend(a.v6.iter().map(|&(n, l)| (n, l, i as u32)));
        }
        v4.sort_unstable();
        v6.sort_unstable();
        let mut attrs: Vec<Vec<u8>> = Vec::new();
        // IPv4 prefixes first, then IPv6, each in address order.
        let prefixes = (v4
            .iter()
            .map(|&(n, l, x)| (n.to_be_bytes().to_vec(), l, false, x)))
        .chain(
            v6.iter()
                .map(|&(n, l, x)| (n.to_be_bytes().to_vec(), l, true, x)),
        );
        for (bytes, len, is_v6, x) in prefixes {
            self.rib_prefix(
                &mut out, &mut buf, &mut attrs, ts, &mut seq, &bytes, len, is_v6, x as usize,
            )?;
            if is_v6 {
                self.counts.rib_v6_prefixes += 1;
            } else {
                self.counts.rib_v4_prefixes += 1;
            }
        }
        out.finish()
    }

    #[allow(clippy::too_many_arguments)]
    fn rib_prefix(
        &mut self,
        out: &mut OutFile,
        buf: &mut Vec<u8>,
        attrs: &mut Vec<Vec<u8>>,
        ts: u32,
        seq: &mut u32,
        bytes: &[u8],
        len: u8,
        v6: bool,
        x: usize,
    ) -> Result<(), SimError> {
        attrs.clear();
        let mut idx = Vec::new();
        for s in 0..self.sessions.len() {
            if self.is_v6(s) != v6 {
                continue;
            }
            if let Some(p) = self.current(s, x) {
                let a = if v6 {
                    mrt_write::rib_attrs_v6(p, self.next_hop6(s))?
                } else {
                    mrt_write::rib_attrs_v4(p, self.next_hop4(s))?
                };
                attrs.push(a);
                idx.push(s);
            }
        }
        if idx.is_empty() {
            return Ok(());
        }
        let entries: Vec<RibEntry<'_>> = idx
            .iter()
            .zip(attrs.iter())
            .map(|(&s, a)| RibEntry {
                peer_index: s as u16,
                originated: (self.w.start
                    - 3600
                    - (mix3(self.w.seed, x as u64, s as u64) % (30 * 86_400)) as i64)
                    as u32,
                attrs: a,
            })
            .collect();
        self.counts.rib_entries += entries.len() as u64;
        let (sub, body) = mrt_write::rib_body(*seq, bytes, len, v6, &entries)?;
        *seq = seq.wrapping_add(1);
        buf.clear();
        mrt_write::record(buf, ts, mrt_write::TABLE_DUMP_V2, sub, &body)?;
        out.write(buf)
    }

    /// Applies a link change and the resulting path changes, writing updates
    /// when `out` is given.
    fn relink(
        &mut self,
        x: usize,
        change: impl FnOnce(&mut Vec<usize>),
        time: i64,
        out: Option<&mut OutFile>,
    ) -> Result<(), SimError> {
        let Some(provs) = self.providers.get_mut(x) else {
            return Ok(());
        };
        let before: Vec<usize> = provs.clone();
        change(provs);
        let after: Vec<usize> = provs.clone();
        for p in &before {
            if !after.contains(p)
                && let Some(cs) = self.customers.get_mut(*p)
            {
                cs.retain(|&c| c != x);
            }
        }
        for p in after {
            if !before.contains(&p)
                && let Some(cs) = self.customers.get_mut(p)
            {
                cs.push(x);
            }
        }
        // The cone of x, in index order (providers before customers).
        let mut cone = BTreeSet::new();
        let mut stack = vec![x];
        while let Some(a) = stack.pop() {
            if cone.insert(a) {
                stack.extend(self.customers.get(a).into_iter().flatten().copied());
            }
        }
        for &a in &cone {
            let reach = self.compute_reach(a);
            self.set_reach(a, reach);
        }
        let mut out = out;
        for &a in &cone {
            self.refresh(a, time, out.as_deref_mut())?;
        }
        Ok(())
    }

    /// Recomputes the paths of AS `a` for every session and writes the differences.
    fn refresh(
        &mut self,
        a: usize,
        time: i64,
        mut out: Option<&mut OutFile>,
    ) -> Result<(), SimError> {
        for s in 0..self.sessions.len() {
            let new = self.path(s, a);
            if new.as_deref() == self.current(s, a) {
                continue;
            }
            if let Some(o) = out.as_deref_mut() {
                let v6 = self.is_v6(s);
                let n = self
                    .w
                    .ases
                    .get(a)
                    .map_or(0, |x| if v6 { x.v6.len() } else { x.v4.len() });
                let list: Vec<usize> = (0..n)
                    .filter(|&k| !self.down.contains(&(a, k, v6, s)))
                    .collect();
                self.emit(o, time, s, a, &list, new.as_deref())?;
            }
            if let Some(slot) = self.paths.get_mut(s).and_then(|p| p.get_mut(a)) {
                *slot = new;
            }
        }
        Ok(())
    }

    /// Writes UPDATEs for prefixes `list` of AS `a` on session `s`:
    /// announcements with `path`, or withdrawals when `path` is `None`.
    fn emit(
        &mut self,
        out: &mut OutFile,
        time: i64,
        s: usize,
        a: usize,
        list: &[usize],
        path: Option<&[u32]>,
    ) -> Result<(), SimError> {
        if list.is_empty() {
            return Ok(());
        }
        let Some(sess) = self.sessions.get(s).cloned() else {
            return Ok(());
        };
        let local_ip = if sess.v6 {
            IpAddr::V6(COLLECTOR_V6)
        } else {
            IpAddr::V4(COLLECTOR_ID)
        };
        let Some(node) = self.w.ases.get(a) else {
            return Ok(());
        };
        let chunk = if sess.v6 { 150 } else { 500 };
        let mut buf = Vec::new();
        for part in list.chunks(chunk) {
            let msg = if sess.v6 {
                let pf = picked(&node.v6, part);
                match path {
                    Some(p) => mrt_write::update_v6(&[], Some((p, self.next_hop6(s), &pf)))?,
                    None => mrt_write::update_v6(&pf, None)?,
                }
            } else {
                let pf = picked(&node.v4, part);
                match path {
                    Some(p) => mrt_write::update_v4(&[], Some((p, self.next_hop4(s), &pf)))?,
                    None => mrt_write::update_v4(&pf, None)?,
                }
            };
            if path.is_some() {
                self.counts.announced_prefixes += part.len() as u64;
            } else {
                self.counts.withdrawn_prefixes += part.len() as u64;
            }
            self.counts.update_messages += 1;
            let (sub, body) =
                mrt_write::bgp4mp_message_as4(sess.asn, COLLECTOR_AS, sess.ip, local_ip, &msg);
            buf.clear();
            mrt_write::record(&mut buf, time as u32, mrt_write::BGP4MP, sub, &body)?;
            out.write(&buf)?;
        }
        Ok(())
    }

    fn apply(
        &mut self,
        action: &Action,
        time: i64,
        out: Option<&mut OutFile>,
    ) -> Result<(), SimError> {
        match action {
            Action::LinkDown(x, u) => {
                let u = *u;
                self.relink(*x, |p| p.retain(|&q| q != u), time, out)
            }
            Action::LinkUp(x, u) => {
                let u = *u;
                self.relink(
                    *x,
                    |p| {
                        if !p.contains(&u) {
                            p.push(u);
                        }
                    },
                    time,
                    out,
                )
            }
            Action::Isolate(x) => self.relink(*x, Vec::clear, time, out),
            Action::FlapDown(f) => {
                let mut out = out;
                for &s in &f.sessions {
                    if self.current(s, f.as_idx).is_none() || !self.down.insert(f.key(s)) {
                        continue;
                    }
                    if let Some(o) = out.as_deref_mut() {
                        self.emit(o, time, s, f.as_idx, &[f.pfx], None)?;
                    }
                }
                Ok(())
            }
            Action::FlapUp(f) => {
                let mut out = out;
                for &s in &f.sessions {
                    if !self.down.remove(&f.key(s)) {
                        continue;
                    }
                    let p = self.current(s, f.as_idx).map(<[u32]>::to_vec);
                    if let (Some(p), Some(o)) = (p, out.as_deref_mut()) {
                        self.emit(o, time, s, f.as_idx, &[f.pfx], Some(&p))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Applies a scenario event (seizures change nothing in routing).
    fn event_action(ev: &crate::world::Event) -> Option<Action> {
        match ev.kind {
            EventKind::LinkDown => ev.upstream.map(|u| Action::LinkDown(ev.as_idx, u)),
            EventKind::LinkUp => ev.upstream.map(|u| Action::LinkUp(ev.as_idx, u)),
            EventKind::Isolate => Some(Action::Isolate(ev.as_idx)),
            EventKind::Seize => None,
        }
    }
}

/// Reachability of the named hosters over time, from the scenario's
/// events alone: per AS index, `(time, reachable)` change points, the
/// first at the start.
pub(crate) fn reach_timeline(w: &World) -> Result<BTreeMap<usize, Vec<(i64, bool)>>, SimError> {
    let mut r = Routing::new(w);
    let mut tl: BTreeMap<usize, Vec<(i64, bool)>> = BTreeMap::new();
    for &i in w.keyed.values() {
        tl.insert(i, vec![(w.start, r.reachable(i))]);
    }
    for ev in &w.events {
        if let Some(a) = Routing::event_action(ev) {
            r.apply(&a, ev.time, None)?;
        }
        for (&i, v) in tl.iter_mut() {
            let now = r.reachable(i);
            if v.last().map(|x| x.1) != Some(now) {
                v.push((ev.time, now));
            }
        }
    }
    Ok(tl)
}

/// The prefixes of `table` at positions `keys`, in that order (a position
/// out of range is skipped).
fn picked<P: Copy>(table: &[P], keys: &[usize]) -> Vec<P> {
    keys.iter().filter_map(|&k| table.get(k).copied()).collect()
}

/// A routing event for truth.json.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct TruthRoutingEvent {
    pub(crate) key: String,
    pub(crate) kind: String,
    pub(crate) time: String,
    pub(crate) asn: u32,
    pub(crate) upstream_asn: Option<u32>,
    pub(crate) upstreams_after: Vec<u32>,
    pub(crate) reachable_after: bool,
    pub(crate) note: String,
}

/// Writes the RIB and the daily update files; returns the files written
/// and the scenario events as they happened.
pub(crate) fn write_all(
    w: &World,
    sc: &Scenario,
    dir: &Path,
    gzip: bool,
    files: &mut Vec<(std::path::PathBuf, u64)>,
) -> Result<(RoutingCounts, Vec<TruthRoutingEvent>), SimError> {
    let mut r = Routing::new(w);
    let rib_name = format!("rib.{}.0000.mrt", compact_day(w.start));
    files.push(r.write_rib(&dir.join("bgp").join(rib_name), gzip)?);
    let mut truth_events = Vec::new();
    let mut rng = Rng::stream(w.seed, "churn", 0);
    let total_prefixes: u64 = w
        .ases
        .iter()
        .map(|a| (a.v4.len() + a.v6.len()) as u64)
        .sum();
    let multihomed: Vec<usize> = w
        .access
        .iter()
        .copied()
        .filter(|&i| w.ases.get(i).is_some_and(|a| a.providers.len() >= 2))
        .collect();
    let prefix_cum =
        crate::rng::cumulative(w.ases.iter().map(|a| (a.v4.len() + a.v6.len()) as f64));
    let mut pending: Vec<(i64, u64, Action)> = Vec::new();
    let mut seq: u64 = 0;
    let mut day = w.start - w.start.rem_euclid(86_400);
    while day < w.end {
        let day_end = day + 86_400;
        let mut actions: Vec<(i64, u64, Action)> = Vec::new();
        // Carry over what falls into this day.
        let (now, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|a| a.0 < day_end);
        pending = later;
        actions.extend(now);
        let lo = day.max(w.start);
        let hi = day_end.min(w.end);
        let span = (hi - lo).max(0) as f64 / 86_400.0;
        let n_flaps = rng.poisson(sc.topology.prefix_flaps_per_day * total_prefixes as f64 * span);
        for _ in 0..n_flaps {
            let Some(as_idx) = rng.weighted(&prefix_cum) else {
                break;
            };
            let Some(node) = w.ases.get(as_idx) else {
                break;
            };
            let v6 = rng.below((node.v4.len() + node.v6.len()) as u64) >= node.v4.len() as u64;
            let pfx = rng.index(if v6 { node.v6.len() } else { node.v4.len() });
            let cand: Vec<usize> = (0..r.sessions.len())
                .filter(|&s| r.is_v6(s) == v6)
                .collect();
            if cand.is_empty() {
                continue;
            }
            let sessions = if rng.chance(0.7) {
                cand
            } else {
                vec![*rng.pick(&cand)]
            };
            let t = lo + rng.below((hi - lo).max(1) as u64) as i64;
            let d = 30 + rng.exp(600.0) as i64;
            let flap = Flap {
                as_idx,
                pfx,
                v6,
                sessions,
            };
            seq += 1;
            actions.push((t, seq, Action::FlapDown(flap.clone())));
            seq += 1;
            let up = (t + d, seq, Action::FlapUp(flap));
            if t + d < day_end {
                actions.push(up)
            } else {
                pending.push(up)
            }
            r.counts.prefix_flaps += 1;
        }
        let n_links =
            rng.poisson(sc.topology.link_flaps_per_day * w.ases.len() as f64 / 1000.0 * span);
        for _ in 0..n_links {
            if multihomed.is_empty() {
                break;
            }
            let x = *rng.pick(&multihomed);
            let u = *rng.pick(w.ases.get(x).map_or(&[][..], |a| &a.providers[..]));
            let t = lo + rng.below((hi - lo).max(1) as u64) as i64;
            let d = 60 + rng.exp(1800.0) as i64;
            seq += 1;
            actions.push((t, seq, Action::LinkDown(x, u)));
            seq += 1;
            let up = (t + d, seq, Action::LinkUp(x, u));
            if t + d < day_end {
                actions.push(up)
            } else {
                pending.push(up)
            }
            r.counts.link_flaps += 1;
        }
        let mut day_events = Vec::new();
        for ev in w
            .events
            .iter()
            .filter(|e| e.time >= day && e.time < day_end)
        {
            seq += 1;
            if let Some(a) = Routing::event_action(ev) {
                actions.push((ev.time, seq, a));
            }
            day_events.push((ev.time, seq, ev));
        }
        actions.sort_by_key(|a| (a.0, a.1));
        let name = format!("updates.{}.0000.mrt", compact_day(day));
        let mut out = OutFile::create(&dir.join("bgp").join(name), gzip)?;
        for (t, s, a) in &actions {
            r.apply(a, *t, Some(&mut out))?;
            for (_, _, ev) in day_events.iter().filter(|(et, es, _)| et == t && es == s) {
                truth_events.push(truth_event(&r, ev));
            }
        }
        for (_, _, ev) in day_events
            .iter()
            .filter(|(_, _, ev)| ev.kind == EventKind::Seize)
        {
            truth_events.push(truth_event(&r, ev));
        }
        files.push(out.finish()?);
        day = day_end;
    }
    truth_events.sort_by(|a, b| a.time.cmp(&b.time).then(a.key.cmp(&b.key)));
    Ok((r.counts.clone(), truth_events))
}

fn truth_event(r: &Routing<'_>, ev: &crate::world::Event) -> TruthRoutingEvent {
    TruthRoutingEvent {
        key: ev.key.clone(),
        kind: match ev.kind {
            EventKind::LinkDown => "link-down",
            EventKind::LinkUp => "link-up",
            EventKind::Isolate => "isolate",
            EventKind::Seize => "seize",
        }
        .to_string(),
        time: crate::timefmt::iso(ev.time),
        asn: r.asn(ev.as_idx),
        upstream_asn: ev.upstream.map(|u| r.asn(u)),
        upstreams_after: r.upstream_asns(ev.as_idx),
        reachable_after: r.reachable(ev.as_idx),
        note: ev.note.clone(),
    }
}
