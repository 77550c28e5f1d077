//! The time-aware routing history, built by replaying MRT elements in time
//! order, one collector at a time.
//!
//! Per collector the builder keeps the current RIB, `(peer, prefix) ->
//! path`, and from it:
//!
//! * **route intervals**: a `(prefix, origin)` interval opens when the
//!   first peer announces it and closes (at the time of the withdrawal)
//!   when the last peer withdraws it; `peer_count` is the most peers that
//!   saw it at once. Intervals still open when the data ends get
//!   `last_seen` = the collector's last record time (the "still announced"
//!   mark the lookup relies on, see `table.rs`).
//! * **AS links**: adjacent ASes of every path (prepending removed, no link
//!   through an AS_SET), with the first and last time seen.
//! * **events**, from updates only (a RIB dump is a baseline, not news):
//!   prefix withdrawn by every peer / announced again, origin change
//!   (MOAS), upstream (the AS before the origin) gained / lost, AS
//!   unreachable (no peer has any route originated by it) / reachable
//!   again, and short-lived announcements.
//!
//! A RIB dump replaces the collector's RIB: entries not in the dump are
//! removed at the dump's time. A session leaving Established removes the
//! peer's routes (RFC 4271 §9.1: routes learned over a closed session are
//! gone).

use std::collections::HashMap;

/// The builder's maps hash small integer keys and AS paths millions of
/// times per RIB; foldhash's fast hasher instead of SipHash halves the
/// builder's time on a full table (keys are not attacker-chosen collisions
/// worth defending against here: they are interned ids and paths of one
/// file).
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use depeer_core::{
    AsLinkObs, Asn, Prefix, Relationship, RibStateObs, RouteObs, RoutingEventKind, RoutingEventObs,
    Timestamp,
};
use depeer_mrt::{AsPath, Elem, MrtRecord, Peer};

use crate::relationships::{infer_relationships, invert};

/// Knobs of the history.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// An announcement withdrawn within this many seconds is short-lived.
    pub short_lived_secs: i64,
    /// Fill [`History::rib_state`] (only needed when the history is
    /// stored; it costs a row per peer and prefix).
    pub keep_rib_state: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            short_lived_secs: 300,
            keep_rib_state: true,
        }
    }
}

/// What the builder produced.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// `routes` rows.
    pub routes: Vec<RouteObs>,
    /// `as_links` rows, both directions of every link.
    pub links: Vec<AsLinkObs>,
    /// `routing_events` rows, in time order per collector.
    pub events: Vec<RoutingEventObs>,
    /// `rib_state` rows: every (collector, peer, prefix) route still held
    /// when the data ended, for the next run to start from
    /// ([`HistoryBuilder::seed`]).
    pub rib_state: Vec<RibStateObs>,
}

#[derive(Debug, Clone)]
struct PathInfo {
    origins: Vec<u32>,
    upstream: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    peers: u32,
    max_peers: u32,
    first: Timestamp,
    from_update: bool,
}

#[derive(Debug, Default)]
struct Collector {
    name: String,
    peers: Map<Peer, u32>,
    prefixes: Map<Prefix, u32>,
    prefix_list: Vec<Prefix>,
    paths: Map<AsPath, u32>,
    path_info: Vec<PathInfo>,
    /// Per path id: the last time its links were noted.
    path_noted: Vec<Timestamp>,
    /// (peer, prefix) -> (path, RIB generation).
    rib: Map<(u32, u32), (u32, u32)>,
    open: Map<(u32, u32), Interval>,
    /// prefix -> origins with an open interval.
    origins_of: Map<u32, Vec<u32>>,
    prefix_routes: Map<u32, u32>,
    origin_routes: Map<u32, u32>,
    upstream_routes: Map<(u32, u32), u32>,
    seen_prefixes: Set<u32>,
    /// Origin AS -> when it was first seen.
    seen_origins: Map<u32, Timestamp>,
    generation: u32,
    in_rib: bool,
    rib_time: Option<Timestamp>,
    last_time: Option<Timestamp>,
}

/// Builds a [`History`] from MRT records.
#[derive(Debug, Default)]
pub struct HistoryBuilder {
    opts: HistoryOptions,
    collectors: Vec<Collector>,
    links: Map<(u32, u32), (Timestamp, Timestamp)>,
    /// Distinct de-prepended hop sequences, for relationship inference.
    hop_paths: Set<Vec<u32>>,
    scratch: Vec<u32>,
    out: History,
}

impl HistoryBuilder {
    /// A builder.
    pub fn new(opts: HistoryOptions) -> HistoryBuilder {
        HistoryBuilder {
            opts,
            ..HistoryBuilder::default()
        }
    }

    fn collector_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.collectors.iter().position(|c| c.name == name) {
            return i;
        }
        self.collectors.push(Collector {
            name: name.to_string(),
            ..Collector::default()
        });
        self.collectors.len() - 1
    }

    /// Feeds one record seen by `collector`. Records of one collector must
    /// come in time order (files sorted by their first timestamp).
    pub fn add_record(&mut self, collector: &str, rec: &MrtRecord) {
        let ci = self.collector_index(collector);
        let is_rib = rec.elems.iter().any(|e| matches!(e, Elem::Rib { .. }));
        let t = rec.time;
        let opts = self.opts.clone();
        let Some(c) = self.collectors.get_mut(ci) else {
            return;
        };
        // Intern each path once and note its AS links once per timestamp:
        // a RIB repeats the same few hundred thousand paths millions of
        // times at one time.
        let mut ids = Vec::with_capacity(rec.elems.len());
        for e in &rec.elems {
            if let Elem::Rib { path, .. } | Elem::Announce { path, .. } = e {
                let id = c.path_id(path);
                if let Some(noted) = c.path_noted.get_mut(id as usize)
                    && *noted != t
                {
                    *noted = t;
                    note_path(
                        &mut self.links,
                        &mut self.hop_paths,
                        &mut self.scratch,
                        path,
                        t,
                    );
                }
                ids.push(id);
            }
        }
        c.last_time = Some(c.last_time.map_or(t, |l| l.max(t)));
        if is_rib && !c.in_rib {
            c.in_rib = true;
            c.generation += 1;
            c.rib_time = Some(t);
        } else if !is_rib && c.in_rib {
            c.end_rib(&mut self.out, &opts);
        }
        let mut ids = ids.into_iter();
        for e in &rec.elems {
            match e {
                Elem::Rib { peer, prefix, .. } => {
                    if let Some(id) = ids.next() {
                        c.announce(*peer, *prefix, id, t, false, &mut self.out, &opts)
                    }
                }
                Elem::Announce { peer, prefix, .. } => {
                    if let Some(id) = ids.next() {
                        c.announce(*peer, *prefix, id, t, true, &mut self.out, &opts)
                    }
                }
                Elem::Withdraw { peer, prefix } => {
                    c.withdraw(*peer, *prefix, t, true, &mut self.out, &opts)
                }
                Elem::State { peer, old, new } => {
                    if *old == 6 && *new != 6 {
                        c.peer_down(*peer, t, &mut self.out, &opts);
                    }
                }
            }
        }
    }

    /// Ends a RIB dump of `collector` early (e.g. at the end of its file),
    /// so that routes missing from it are removed.
    pub fn end_file(&mut self, collector: &str) {
        let ci = self.collector_index(collector);
        let opts = self.opts.clone();
        if let Some(c) = self.collectors.get_mut(ci)
            && c.in_rib
        {
            c.end_rib(&mut self.out, &opts);
        }
    }

    /// Feeds a static table (e.g. a pyasn file): every `(prefix, origin)` is
    /// a route seen by one peer at `at`.
    pub fn add_static(&mut self, collector: &str, at: Timestamp, rows: &[(Prefix, Asn)]) {
        let peer = Peer {
            ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            asn: Asn(0),
        };
        for chunk in rows.chunks(4096) {
            let rec = MrtRecord {
                source: depeer_core::SourceRef::default(),
                header: depeer_mrt::Header::decode(&[0; 12]),
                time: at,
                elems: chunk
                    .iter()
                    .map(|(p, a)| Elem::Rib {
                        peer,
                        prefix: *p,
                        path: AsPath::sequence(&[a.0]),
                    })
                    .collect(),
                raw: Vec::new(),
            };
            self.add_record(collector, &rec);
        }
        self.end_file(collector);
    }

    /// Starts `collector` from the routes a previous run ended with (its
    /// `rib_state` rows, all of one time): they are replayed as a RIB dump
    /// at that time, so later withdrawals close them and later RIB dumps
    /// replace them. Call before any record of `collector`. Returns the
    /// rows used (rows whose AS path does not parse are skipped).
    pub fn seed(&mut self, collector: &str, rows: &[RibStateObs]) -> usize {
        let mut used = 0;
        for chunk in rows.chunks(4096) {
            let Some(first) = chunk.first() else {
                continue;
            };
            let elems: Vec<Elem> = chunk
                .iter()
                .filter_map(|r| {
                    Some(Elem::Rib {
                        peer: Peer {
                            ip: r.peer_ip,
                            asn: r.peer_asn,
                        },
                        prefix: r.prefix,
                        path: AsPath::parse_bgpdump(&r.as_path)?,
                    })
                })
                .collect();
            used += elems.len();
            let rec = MrtRecord {
                source: depeer_core::SourceRef::default(),
                header: depeer_mrt::Header::decode(&[0; 12]),
                time: first.time,
                elems,
                raw: Vec::new(),
            };
            self.add_record(collector, &rec);
        }
        self.end_file(collector);
        used
    }

    /// Closes everything and infers relationships (from `as_rel` when
    /// given, CAIDA's `provider|customer|-1` / `a|b|0`, else from the
    /// paths).
    pub fn finish(mut self, as_rel: Option<&HashMap<(u32, u32), Relationship>>) -> History {
        let opts = self.opts.clone();
        for c in &mut self.collectors {
            if c.in_rib {
                c.end_rib(&mut self.out, &opts);
            }
            let end = c.last_time.unwrap_or(Timestamp(0));
            if opts.keep_rib_state {
                let mut peers: Vec<Option<Peer>> = vec![None; c.peers.len()];
                for (peer, &id) in &c.peers {
                    if let Some(slot) = peers.get_mut(id as usize) {
                        *slot = Some(*peer);
                    }
                }
                // Each distinct path's text once (a full table has a few
                // hundred thousand paths for millions of rows).
                let mut paths: Vec<Option<String>> = vec![None; c.paths.len()];
                for (path, &id) in &c.paths {
                    if let Some(slot) = paths.get_mut(id as usize) {
                        *slot = Some(path.to_bgpdump());
                    }
                }
                self.out.rib_state.reserve(c.rib.len());
                for (&(peer, prefix), &(path, _)) in &c.rib {
                    let (Some(Some(peer)), Some(prefix), Some(Some(text))) = (
                        peers.get(peer as usize),
                        c.prefix_list.get(prefix as usize),
                        paths.get(path as usize),
                    ) else {
                        continue;
                    };
                    self.out.rib_state.push(RibStateObs {
                        collector: c.name.clone(),
                        peer_ip: peer.ip,
                        peer_asn: peer.asn,
                        prefix: *prefix,
                        as_path: text.clone(),
                        time: end,
                    });
                }
            }
            for ((p, o), iv) in c.open.drain() {
                if let Some(prefix) = c.prefix_list.get(p as usize) {
                    self.out.routes.push(RouteObs {
                        prefix: *prefix,
                        origin_asn: Asn(o),
                        first_seen: iv.first,
                        last_seen: end,
                        peer_count: iv.max_peers,
                        collector: c.name.clone(),
                    });
                }
            }
        }
        let inferred;
        let rel = match as_rel {
            Some(r) => r,
            None => {
                let paths: Vec<Vec<u32>> = self.hop_paths.drain().collect();
                inferred = infer_relationships(&paths);
                &inferred
            }
        };
        for (&(a, b), &(first, last)) in &self.links {
            let ab = rel.get(&(a, b)).copied().unwrap_or(Relationship::Unknown);
            for (x, y, r) in [(a, b, ab), (b, a, invert(ab))] {
                self.out.links.push(AsLinkObs {
                    asn: Asn(x),
                    neighbor_asn: Asn(y),
                    relationship: r,
                    first_seen: first,
                    last_seen: last,
                });
            }
        }
        // A flat integer key: comparing `IpNet`s field by field made this
        // sort half of `finish` on a full table.
        self.out
            .routes
            .sort_by_cached_key(|r| (prefix_key(&r.prefix), r.origin_asn, r.first_seen));
        self.out.links.sort_by_key(|l| (l.asn, l.neighbor_asn));
        self.out
    }
}

/// Notes the AS links of `path` (adjacent distinct ASes, none through an
/// AS_SET, as `AsPath::links`) at `t`, and its hop sequence for the
/// relationship inference. A link met twice in one path is noted twice.
fn note_path(
    links: &mut Map<(u32, u32), (Timestamp, Timestamp)>,
    hop_paths: &mut Set<Vec<u32>>,
    scratch: &mut Vec<u32>,
    path: &AsPath,
    t: Timestamp,
) {
    let hops = path.hops();
    for w in hops.windows(2) {
        if let [Some(a), Some(b)] = *w
            && a != b
        {
            let e = links.entry((a.min(b), a.max(b))).or_insert((t, t));
            e.0 = e.0.min(t);
            e.1 = e.1.max(t);
        }
    }
    scratch.clear();
    scratch.extend(hops.iter().map_while(|h| *h));
    if scratch.len() >= 2 && !hop_paths.contains(scratch.as_slice()) {
        hop_paths.insert(scratch.clone());
    }
}

/// Orders prefixes: IPv4 before IPv6, then by address, then by length.
fn prefix_key(p: &Prefix) -> (u8, u128, u8) {
    match p {
        Prefix::V4(n) => (4, u128::from(u32::from(n.addr())), n.prefix_len()),
        Prefix::V6(n) => (6, u128::from(n.addr()), n.prefix_len()),
    }
}

/// Counts one route fewer under `key`: `Some(true)` when that was the last
/// one (the key is removed), `None` when there was none.
fn release<K: std::hash::Hash + Eq>(counts: &mut Map<K, u32>, key: K) -> Option<bool> {
    let n = counts.get_mut(&key)?;
    *n = n.saturating_sub(1);
    let last = *n == 0;
    if last {
        counts.remove(&key);
    }
    Some(last)
}

impl Collector {
    /// Records an event this collector saw; its detail names the collector.
    fn event(
        &self,
        out: &mut History,
        time: Timestamp,
        kind: RoutingEventKind,
        asn: Option<u32>,
        prefix: Option<Prefix>,
        what: impl std::fmt::Display,
    ) {
        out.events.push(RoutingEventObs {
            time,
            kind,
            asn: asn.map(Asn),
            prefix,
            detail: format!("{what} (collector {})", self.name),
        });
    }

    fn path_id(&mut self, path: &AsPath) -> u32 {
        if let Some(&id) = self.paths.get(path) {
            return id;
        }
        let id = self.path_info.len() as u32;
        self.path_info.push(PathInfo {
            origins: path.origins().to_vec(),
            upstream: path.origin_upstream(),
        });
        self.path_noted.push(Timestamp(i64::MIN));
        self.paths.insert(path.clone(), id);
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn announce(
        &mut self,
        peer: Peer,
        prefix: Prefix,
        path_id: u32,
        t: Timestamp,
        emit: bool,
        out: &mut History,
        opts: &HistoryOptions,
    ) {
        let next_peer = self.peers.len() as u32;
        let peer_id = *self.peers.entry(peer).or_insert(next_peer);
        let next_prefix = self.prefixes.len() as u32;
        let prefix_id = *self.prefixes.entry(prefix).or_insert(next_prefix);
        if prefix_id == next_prefix {
            self.prefix_list.push(prefix);
        }
        let generation = self.generation;
        let old = self.rib.insert((peer_id, prefix_id), (path_id, generation));
        match old {
            Some((old_path, _)) if old_path == path_id => {}
            Some((old_path, _)) => {
                // Add the new route before removing the old one, so that a
                // path change is not seen as a withdrawal.
                self.add(prefix_id, path_id, t, emit, out);
                self.remove(prefix_id, old_path, t, emit, out, opts);
            }
            None => self.add(prefix_id, path_id, t, emit, out),
        }
    }

    fn withdraw(
        &mut self,
        peer: Peer,
        prefix: Prefix,
        t: Timestamp,
        emit: bool,
        out: &mut History,
        opts: &HistoryOptions,
    ) {
        let (Some(&peer_id), Some(&prefix_id)) =
            (self.peers.get(&peer), self.prefixes.get(&prefix))
        else {
            return;
        };
        if let Some((path_id, _)) = self.rib.remove(&(peer_id, prefix_id)) {
            self.remove(prefix_id, path_id, t, emit, out, opts);
        }
    }

    fn peer_down(&mut self, peer: Peer, t: Timestamp, out: &mut History, opts: &HistoryOptions) {
        let Some(&peer_id) = self.peers.get(&peer) else {
            return;
        };
        let mut gone: Vec<(u32, u32)> = self
            .rib
            .iter()
            .filter(|((p, _), _)| *p == peer_id)
            .map(|(&(_, pr), &(path, _))| (pr, path))
            .collect();
        gone.sort_unstable();
        for (prefix_id, path_id) in gone {
            self.rib.remove(&(peer_id, prefix_id));
            self.remove(prefix_id, path_id, t, true, out, opts);
        }
    }

    fn end_rib(&mut self, out: &mut History, opts: &HistoryOptions) {
        self.in_rib = false;
        let generation = self.generation;
        let t = self.rib_time.unwrap_or(Timestamp(0));
        let mut stale: Vec<((u32, u32), u32)> = self
            .rib
            .iter()
            .filter(|(_, (_, g))| *g != generation)
            .map(|(&k, &(path, _))| (k, path))
            .collect();
        stale.sort_unstable();
        for (k, path_id) in stale {
            self.rib.remove(&k);
            self.remove(k.1, path_id, t, false, out, opts);
        }
    }

    fn add(&mut self, prefix_id: u32, path_id: u32, t: Timestamp, emit: bool, out: &mut History) {
        let Some(info) = self.path_info.get(path_id as usize).cloned() else {
            return;
        };
        let prefix = self.prefix_list.get(prefix_id as usize).copied();
        let routes = self.prefix_routes.entry(prefix_id).or_insert(0);
        *routes += 1;
        if *routes == 1 && emit && self.seen_prefixes.contains(&prefix_id) {
            self.event(
                out,
                t,
                RoutingEventKind::PrefixAnnounced,
                info.origins.first().copied(),
                prefix,
                "announced again",
            );
        }
        self.seen_prefixes.insert(prefix_id);
        for &o in &info.origins {
            let is_new = !self.open.contains_key(&(prefix_id, o));
            if is_new {
                let list = self.origins_of.entry(prefix_id).or_default();
                let mut others = list.clone();
                list.push(o);
                if emit && !others.is_empty() {
                    others.sort_unstable();
                    let others: Vec<String> = others.iter().map(|a| format!("AS{a}")).collect();
                    self.event(
                        out,
                        t,
                        RoutingEventKind::OriginChange,
                        Some(o),
                        prefix,
                        format!("new origin AS{o}; also announced by {}", others.join(", ")),
                    );
                }
            }
            let iv = self.open.entry((prefix_id, o)).or_insert(Interval {
                peers: 0,
                max_peers: 0,
                first: t,
                from_update: emit,
            });
            iv.peers += 1;
            iv.max_peers = iv.max_peers.max(iv.peers);
            let n = self.origin_routes.entry(o).or_insert(0);
            *n += 1;
            let was_reachable = *n > 1;
            if *n == 1 && emit && self.seen_origins.contains_key(&o) {
                self.event(
                    out,
                    t,
                    RoutingEventKind::AsReachable,
                    Some(o),
                    prefix,
                    "reachable again",
                );
            }
            let first_seen = *self.seen_origins.entry(o).or_insert(t);
            if let Some(u) = info.upstream {
                let n = self.upstream_routes.entry((o, u)).or_insert(0);
                *n += 1;
                if *n == 1 && emit && was_reachable && first_seen < t {
                    self.event(
                        out,
                        t,
                        RoutingEventKind::UpstreamGained,
                        Some(o),
                        prefix,
                        format!("upstream AS{u}"),
                    );
                }
            }
        }
    }

    fn remove(
        &mut self,
        prefix_id: u32,
        path_id: u32,
        t: Timestamp,
        emit: bool,
        out: &mut History,
        opts: &HistoryOptions,
    ) {
        let Some(info) = self.path_info.get(path_id as usize).cloned() else {
            return;
        };
        let prefix = self.prefix_list.get(prefix_id as usize).copied();
        for &o in &info.origins {
            if let Some(iv) = self.open.get_mut(&(prefix_id, o)) {
                iv.peers = iv.peers.saturating_sub(1);
                if iv.peers == 0 {
                    let iv = *iv;
                    self.open.remove(&(prefix_id, o));
                    if let Some(list) = self.origins_of.get_mut(&prefix_id) {
                        list.retain(|x| *x != o);
                        if list.is_empty() {
                            self.origins_of.remove(&prefix_id);
                        }
                    }
                    if let Some(p) = prefix {
                        out.routes.push(RouteObs {
                            prefix: p,
                            origin_asn: Asn(o),
                            first_seen: iv.first,
                            last_seen: t,
                            peer_count: iv.max_peers,
                            collector: self.name.clone(),
                        });
                    }
                    let lived = (t.0 - iv.first.0) / 1_000_000;
                    if emit && iv.from_update && lived < opts.short_lived_secs {
                        self.event(
                            out,
                            t,
                            RoutingEventKind::ShortLived,
                            Some(o),
                            prefix,
                            format!("announced by AS{o} for {lived} s"),
                        );
                    }
                }
            }
            let lost_upstream = info
                .upstream
                .is_some_and(|u| release(&mut self.upstream_routes, (o, u)) == Some(true));
            let (kind, what) = match (release(&mut self.origin_routes, o), info.upstream) {
                (Some(true), _) => (
                    RoutingEventKind::AsUnreachable,
                    format!("no route to any prefix of AS{o}"),
                ),
                (Some(false), Some(u)) if lost_upstream => {
                    (RoutingEventKind::UpstreamLost, format!("upstream AS{u}"))
                }
                _ => continue,
            };
            if emit {
                self.event(out, t, kind, Some(o), prefix, what);
            }
        }
        if release(&mut self.prefix_routes, prefix_id) == Some(true) && emit {
            self.event(
                out,
                t,
                RoutingEventKind::PrefixWithdrawn,
                info.origins.first().copied(),
                prefix,
                "withdrawn by every peer",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    /// The route of `prefix` in the history.
    fn route_of<'h>(h: &'h History, prefix: &str) -> &'h RouteObs {
        let found = h.routes.iter().find(|r| r.prefix.to_string() == prefix);
        found.unwrap_or_else(|| panic!("no route of {prefix}"))
    }

    fn peer(n: u8) -> Peer {
        Peer {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)),
            asn: Asn(64500 + u32::from(n)),
        }
    }

    fn rec(t: i64, elems: Vec<Elem>) -> MrtRecord {
        MrtRecord {
            source: depeer_core::SourceRef::default(),
            header: depeer_mrt::Header::decode(&[0, 0, 0, 0, 0, 16, 0, 4, 0, 0, 0, 0]),
            time: Timestamp::from_secs(t),
            elems,
            raw: Vec::new(),
        }
    }

    fn ann(p: u8, prefix: &str, path: &[u32]) -> Elem {
        Elem::Announce {
            peer: peer(p),
            prefix: prefix.parse().unwrap(),
            path: AsPath::sequence(path),
        }
    }

    fn wd(p: u8, prefix: &str) -> Elem {
        Elem::Withdraw {
            peer: peer(p),
            prefix: prefix.parse().unwrap(),
        }
    }

    #[test]
    fn a_later_run_starts_from_the_state_an_earlier_run_ended_with() {
        let rib = |p: u8, prefix: &str, path: &[u32]| Elem::Rib {
            peer: peer(p),
            prefix: prefix.parse().unwrap(),
            path: AsPath::sequence(path),
        };
        // Run 1: a RIB at t=100 with two prefixes from two peers.
        let mut b = HistoryBuilder::new(HistoryOptions::default());
        b.add_record(
            "rrc00",
            &rec(
                100,
                vec![
                    rib(1, "10.0.0.0/8", &[64501, 3356, 666]),
                    rib(2, "10.0.0.0/8", &[64502, 666]),
                    rib(1, "11.0.0.0/8", &[64501, 3356, 777]),
                ],
            ),
        );
        b.end_file("rrc00");
        let h1 = b.finish(None);
        assert_eq!(h1.rib_state.len(), 3);
        assert!(h1.rib_state.iter().all(|r| r.time.secs() == 100));
        // Run 2, seeded: both peers withdraw 10/8 at t=500; 11/8 stays.
        let mut b = HistoryBuilder::new(HistoryOptions::default());
        assert_eq!(b.seed("rrc00", &h1.rib_state), 3);
        b.add_record(
            "rrc00",
            &rec(500, vec![wd(1, "10.0.0.0/8"), wd(2, "10.0.0.0/8")]),
        );
        b.add_record(
            "rrc00",
            &rec(900, vec![ann(2, "12.0.0.0/8", &[64502, 888])]),
        );
        let h2 = b.finish(None);
        let route = |p: &str| {
            h2.routes
                .iter()
                .find(|r| r.prefix == p.parse::<Prefix>().unwrap())
                .map(|r| (r.first_seen.secs(), r.last_seen.secs(), r.origin_asn.0))
        };
        // Without the seed the withdrawal would close nothing and 10/8 would
        // end at 100; with it, it is routed until 500.
        assert_eq!(route("10.0.0.0/8"), Some((100, 500, 666)));
        assert_eq!(route("11.0.0.0/8"), Some((100, 900, 777)));
        assert!(
            kinds(&h2).contains(&(500, "prefix-withdrawn")),
            "{:?}",
            kinds(&h2)
        );
        // The state it ends with: 11/8 and 12/8, at the last record time.
        let mut left: Vec<String> = h2.rib_state.iter().map(|r| r.prefix.to_string()).collect();
        left.sort();
        assert_eq!(left, ["11.0.0.0/8", "12.0.0.0/8"]);
        assert!(h2.rib_state.iter().all(|r| r.time.secs() == 900));
    }

    fn kinds(h: &History) -> Vec<(i64, &'static str)> {
        h.events
            .iter()
            .map(|e| (e.time.secs(), e.kind.as_str()))
            .collect()
    }

    #[test]
    fn intervals_peer_counts_and_withdrawal_by_every_peer() {
        let mut b = HistoryBuilder::new(HistoryOptions::default());
        let p = "208.66.192.0/22";
        b.add_record(
            "c",
            &rec(
                1000,
                vec![
                    ann(1, p, &[64501, 3549, 26780]),
                    ann(2, p, &[64502, 6939, 26780]),
                ],
            ),
        );
        b.add_record("c", &rec(2000, vec![wd(1, p)]));
        b.add_record("c", &rec(3000, vec![wd(2, p)]));
        b.add_record("c", &rec(4000, vec![ann(1, "10.0.0.0/8", &[64501, 3356])]));
        let h = b.finish(None);
        let r: Vec<_> = h
            .routes
            .iter()
            .filter(|r| r.prefix.to_string() == p)
            .collect();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (
                r[0].first_seen.secs(),
                r[0].last_seen.secs(),
                r[0].peer_count
            ),
            (1000, 3000, 2)
        );
        // 6939 stays an upstream after 3549 is gone, then the AS vanishes.
        assert_eq!(
            kinds(&h),
            vec![
                (2000, "upstream-lost"),
                (3000, "as-unreachable"),
                (3000, "prefix-withdrawn")
            ]
        );
        // Still announced at the end: last_seen is the collector's last time.
        let other = route_of(&h, "10.0.0.0/8");
        assert_eq!(other.last_seen.secs(), 4000);
        // Links both ways, prepending-free.
        assert!(
            h.links
                .iter()
                .any(|l| l.asn == Asn(26780) && l.neighbor_asn == Asn(3549))
        );
        assert!(
            h.links
                .iter()
                .any(|l| l.asn == Asn(3549) && l.neighbor_asn == Asn(26780))
        );
    }

    #[test]
    fn moas_short_lived_and_session_down() {
        let mut b = HistoryBuilder::new(HistoryOptions {
            short_lived_secs: 300,
            ..HistoryOptions::default()
        });
        let p = "208.65.153.0/24";
        b.add_record("c", &rec(100, vec![ann(1, p, &[64501, 3491, 36561])]));
        b.add_record(
            "c",
            &rec(200, vec![ann(2, p, &[64502, 3491, 17557, 17557])]),
        );
        // Peer 2's session drops: its routes go.
        b.add_record(
            "c",
            &rec(
                260,
                vec![Elem::State {
                    peer: peer(2),
                    old: 6,
                    new: 1,
                }],
            ),
        );
        let h = b.finish(None);
        let k = kinds(&h);
        assert!(k.contains(&(200, "origin-change")), "{k:?}");
        assert!(k.contains(&(260, "short-lived")), "{k:?}");
        assert!(k.contains(&(260, "as-unreachable")), "{k:?}");
        let hijack = h
            .routes
            .iter()
            .find(|r| r.origin_asn == Asn(17557))
            .unwrap();
        assert_eq!(
            (hijack.first_seen.secs(), hijack.last_seen.secs()),
            (200, 260)
        );
    }

    #[test]
    fn a_newer_rib_dump_replaces_the_old_one_quietly() {
        let rib = |t, prefixes: &[&str]| {
            rec(
                t,
                prefixes
                    .iter()
                    .map(|p| Elem::Rib {
                        peer: peer(1),
                        prefix: p.parse().unwrap(),
                        path: AsPath::sequence(&[64501, 26780]),
                    })
                    .collect(),
            )
        };
        let mut b = HistoryBuilder::new(HistoryOptions::default());
        b.add_record("c", &rib(100, &["10.0.0.0/8", "11.0.0.0/8"]));
        b.end_file("c");
        b.add_record("c", &rib(200, &["10.0.0.0/8"]));
        b.end_file("c");
        let h = b.finish(None);
        assert!(h.events.is_empty());
        let gone = route_of(&h, "11.0.0.0/8");
        assert_eq!(gone.last_seen.secs(), 200);
        let kept = route_of(&h, "10.0.0.0/8");
        assert_eq!((kept.first_seen.secs(), kept.last_seen.secs()), (100, 200));
    }

    #[test]
    fn as_set_origins_each_get_a_route() {
        let mut path = AsPath::sequence(&[64501, 1239]);
        path.segments.push(depeer_mrt::Segment {
            kind: depeer_mrt::SegmentKind::Set,
            asns: vec![13659, 701],
        });
        let mut b = HistoryBuilder::new(HistoryOptions::default());
        b.add_record(
            "c",
            &rec(
                1,
                vec![Elem::Announce {
                    peer: peer(1),
                    prefix: "24.223.0.0/18".parse().unwrap(),
                    path,
                }],
            ),
        );
        let h = b.finish(None);
        let mut o: Vec<u32> = h.routes.iter().map(|r| r.origin_asn.0).collect();
        o.sort();
        assert_eq!(o, vec![701, 13659]);
        assert_eq!(h.links.len(), 2); // 64501-1239 both ways; none into the set
    }
}
