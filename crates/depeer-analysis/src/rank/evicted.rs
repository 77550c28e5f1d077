//! The `evicted` feature: C&C addresses of a network that its family's
//! bots stopped talking to, while they went on talking to addresses of
//! other networks and to no new one of this network: the network's abuse
//! desk took the controller down and the botnet set it up elsewhere.
//!
//! An address is not counted when the network's share of its family's
//! contacts held up after it went silent (at least three quarters of the
//! share before): the family's other servers there took the load.
//!
//! A legitimate hoster with a reported C&C server on it looks like a rogue
//! one for as long as the server is up; what tells them apart is what
//! happens next. A bulletproof hoster keeps the server, or renumbers it
//! inside its own space (`moves`); a legitimate one takes it down, and
//! the family's bots, as the sinkholes that list them see them, turn to
//! an address of some other network. Only the contacts of listed bots
//! (the `address` column of a bot list) are used: they are dated to the
//! contact, where a C&C tracker's last seen lingers for days after the
//! server went (Feodo Tracker marks a server offline days late).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::features::org_key;
use super::{By, ListingKind, RankInput};
use crate::hosting::Hosting;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
/// Contacts an address needs before its silence can be judged.
const MIN_CONTACTS: u64 = 3;
/// Contacts the address would have had since its last one, at its own
/// rate, for its silence to count (Poisson: 5 expected, none seen,
/// happens by chance 0.7 % of the time).
const MIN_EXPECTED: f64 = 5.0;
/// A network whose share of the family's contacts after the address
/// went silent is at least this fraction of its share before has not
/// turned the family away (its other servers took the load).
const HELD_SHARE: f64 = 0.75;
/// The shortest span an address's rate is taken over (a few contacts
/// within minutes say little about its rate).
const MIN_SPAN: i64 = 6 * HOUR;

/// One C&C address a network evidently took down.
#[derive(Debug, Clone, PartialEq)]
pub struct Eviction {
    /// The family.
    pub family: String,
    /// The address.
    pub address: IpAddr,
    /// Its bots' contacts.
    pub contacts: u64,
    /// First and last contact (Unix µs).
    pub first: i64,
    /// See `first`.
    pub last: i64,
    /// The family's contacts after the last one, all networks.
    pub after: u64,
    /// The networks that got most of those (key, count), at most three.
    pub now_at: Vec<(String, u64)>,
    /// First bot-list line of a contact of it (`file:line`).
    pub source: String,
}

struct Addr {
    address: IpAddr,
    keys: Vec<String>,
    contacts: u64,
    first: i64,
    last: i64,
    source: String,
}

/// The C&C addresses each network (by the ranking's keys) evidently took
/// down, and the number of its addresses with enough contacts to judge.
pub(crate) fn evictions(
    input: &RankInput,
    hosting: &Hosting,
    by: By,
) -> (HashMap<String, Vec<Eviction>>, HashMap<String, u64>) {
    let (at, start) = (input.at, input.at - input.window);
    // family -> contact times, and family -> address -> what its bots said
    let mut times: BTreeMap<&str, Vec<(i64, IpAddr)>> = BTreeMap::new();
    let mut addrs: BTreeMap<&str, BTreeMap<IpAddr, Addr>> = BTreeMap::new();
    for l in &input.listings {
        let (ListingKind::Bots, Some(family), Some(t)) = (l.kind, l.family.as_deref(), l.first)
        else {
            continue;
        };
        if t < start || t > at {
            continue;
        }
        let Some(address) = l
            .address
            .as_deref()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
        else {
            continue;
        };
        times.entry(family).or_default().push((t, address));
        let a = addrs
            .entry(family)
            .or_default()
            .entry(address)
            .or_insert_with(|| Addr {
                address,
                keys: Vec::new(),
                contacts: 0,
                first: t,
                last: t,
                source: format!("{}:{}", l.file, l.line),
            });
        a.contacts += 1;
        a.first = a.first.min(t);
        a.last = a.last.max(t);
    }
    for fam in addrs.values_mut() {
        for (ip, a) in fam.iter_mut() {
            let Some(place) = hosting.locate(*ip, a.last) else {
                continue;
            };
            a.keys = match by {
                By::As => place.origins.iter().map(u32::to_string).collect(),
                By::Org => place.origins.iter().map(|&o| org_key(input, o)).collect(),
                By::Prefix => vec![place.prefix.clone()],
            };
            a.keys.sort();
            a.keys.dedup();
        }
    }
    let mut out: HashMap<String, Vec<Eviction>> = HashMap::new();
    let mut judged: HashMap<String, u64> = HashMap::new();
    for (family, fam) in &addrs {
        let mut ts: Vec<i64> = times
            .get(family)
            .map(|v| v.iter().map(|x| x.0).collect())
            .unwrap_or_default();
        ts.sort_unstable();
        // Per network: the family's contact times there (sorted), and the
        // latest first contact of an address of it there. Every question
        // below is then a binary search, not a pass over the contacts:
        // a real bot list can hold millions of rows.
        let mut at_key: HashMap<&str, (Vec<i64>, i64)> = HashMap::new();
        for x in fam.values() {
            for k in &x.keys {
                let e = at_key.entry(k.as_str()).or_insert((Vec::new(), i64::MIN));
                e.1 = e.1.max(x.first);
            }
        }
        for (t, ip) in times.get(family).map_or(&[][..], Vec::as_slice) {
            for k in fam.get(ip).map_or(&[][..], |x| x.keys.as_slice()) {
                if let Some(e) = at_key.get_mut(k.as_str()) {
                    e.0.push(*t);
                }
            }
        }
        for v in at_key.values_mut() {
            v.0.sort_unstable();
        }
        let upto = |v: &[i64], t: i64| v.partition_point(|&x| x <= t);
        for a in fam.values() {
            if a.contacts < MIN_CONTACTS || a.keys.is_empty() {
                continue;
            }
            for k in &a.keys {
                *judged.entry(k.clone()).or_default() += 1;
            }
            let rate = a.contacts as f64 / (a.last - a.first).max(MIN_SPAN) as f64;
            if rate * ((at - a.last) as f64) < MIN_EXPECTED {
                continue;
            }
            // The family went on: its contacts after this address's last.
            let split = upto(&ts, a.last);
            let (earlier, later) = (split, ts.len() - split);
            if (later as f64) < MIN_EXPECTED {
                continue;
            }
            for k in &a.keys {
                let Some((here, newest)) = at_key.get(k.as_str()) else {
                    continue;
                };
                // A new address of the family in the same network: the
                // server moved inside it (the `moves` feature), not out
                // (as `moved` has it: one that appeared after it, at most
                // a day before it went silent; one beside it all along is
                // a second server, not a replacement).
                let inside = *newest > a.first && *newest >= a.last - DAY;
                // The network's share of the family's contacts held up
                // after the address went silent (its other servers there
                // took the load): the network has not turned the family
                // away, whatever became of this address.
                let before_here = upto(here, a.last);
                let after_here = here.len() - before_here;
                let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
                if inside || share(after_here, later) >= HELD_SHARE * share(before_here, earlier) {
                    continue;
                }
                let mut now_at: Vec<(String, u64)> = at_key
                    .iter()
                    .map(|(key, (v, _))| ((*key).to_string(), (v.len() - upto(v, a.last)) as u64))
                    .filter(|x| x.1 > 0)
                    .collect();
                now_at.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
                now_at.truncate(3);
                out.entry(k.clone()).or_default().push(Eviction {
                    family: (*family).to_string(),
                    address: a.address,
                    contacts: a.contacts,
                    first: a.first,
                    last: a.last,
                    after: later as u64,
                    now_at,
                    source: a.source.clone(),
                });
            }
        }
    }
    (out, judged)
}
