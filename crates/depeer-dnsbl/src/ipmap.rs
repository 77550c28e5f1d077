//! Address sets as sorted, disjoint intervals: the lookup structure behind
//! ip4set, ip4trie and ip6trie.
//!
//! Entries (CIDR blocks, or the octet-aligned blocks rbldnsd splits an
//! ip4set range into) are "painted" once at load time: for every address
//! the most specific entry wins (longest prefix for the tries, the /32,
//! /24, /16, /8 level order of ip4set); among equally specific entries an
//! exclusion wins, otherwise all their values are answered (rbldnsd returns
//! every value listed for the same block). The result is a sorted array of
//! interval starts with one value-set id each, so a lookup is one binary
//! search over 4 (IPv4) or 16 (IPv6) byte keys and the memory is 8 or 20
//! bytes per interval boundary.
//!
//! Invariants: `starts[0] == 0`, `starts` strictly increasing, adjacent
//! intervals have different sets.

use std::collections::{BTreeSet, HashMap};

/// No value: the address is not listed (or excluded).
pub(crate) const NONE: u32 = u32::MAX;

/// What an entry says about its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// `!entry`: not listed, whatever less specific entries say.
    Excluded,
    /// Listed with the value of this id (an index into the zone's values).
    Value(u32),
}

/// One entry: the inclusive address range it covers and how specific it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub(crate) start: u128,
    pub(crate) end: u128,
    pub(crate) prio: u16,
    pub(crate) payload: Payload,
}

/// Interned sets of value ids (most answers have one value; ip4set allows
/// several for one block).
#[derive(Debug, Default)]
pub(crate) struct SetTable {
    sets: Vec<Box<[u32]>>,
    index: HashMap<Box<[u32]>, u32, foldhash::fast::RandomState>,
}

impl SetTable {
    pub(crate) fn intern(&mut self, ids: &[u32]) -> u32 {
        if let Some(&i) = self.index.get(ids) {
            return i;
        }
        let i = u32::try_from(self.sets.len()).unwrap_or(NONE - 1);
        self.sets.push(ids.into());
        self.index.insert(ids.into(), i);
        i
    }

    pub(crate) fn get(&self, id: u32) -> &[u32] {
        self.sets
            .get(usize::try_from(id).unwrap_or(usize::MAX))
            .map_or(&[], |s| &s[..])
    }

    pub(crate) fn bytes(&self) -> usize {
        self.sets.iter().map(|s| 2 * (16 + 4 * s.len())).sum()
    }
}

/// Keys the map can be built over: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + Into<u128> + TryFrom<u128> {
    const ZERO: Self;
}
impl Key for u32 {
    const ZERO: Self = 0;
}
impl Key for u128 {
    const ZERO: Self = 0;
}

/// The painted map.
#[derive(Debug)]
pub(crate) struct IntervalMap<K> {
    starts: Vec<K>,
    sets: Vec<u32>,
}

impl<K: Key> Default for IntervalMap<K> {
    fn default() -> Self {
        Self {
            starts: vec![K::ZERO],
            sets: vec![NONE],
        }
    }
}

impl<K: Key> IntervalMap<K> {
    /// Paints the pieces (see the module header for who wins).
    pub(crate) fn build(pieces: &[Piece], table: &mut SetTable) -> Self {
        // Events: (coordinate, is_start, piece index); a piece is active on
        // [start, end + 1).
        let mut events: Vec<(u128, bool, u32)> = Vec::with_capacity(pieces.len() * 2);
        for (i, p) in pieces.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            events.push((p.start, true, i));
            if let Some(after) = p.end.checked_add(1) {
                events.push((after, false, i));
            }
        }
        events.sort_unstable();
        let mut map = Self::default();
        let mut active: BTreeSet<(u16, u32)> = BTreeSet::new();
        let mut ids: Vec<u32> = Vec::new();
        let mut k = 0;
        while k < events.len() {
            let Some(&(at, _, _)) = events.get(k) else {
                break;
            };
            while let Some(&(c, is_start, i)) = events.get(k).filter(|e| e.0 == at) {
                let prio = pieces.get(i as usize).map_or(0, |p| p.prio);
                if is_start {
                    active.insert((prio, i));
                } else {
                    active.remove(&(prio, i));
                }
                let _ = c;
                k += 1;
            }
            let set = top_set(&active, pieces, table, &mut ids);
            map.push(at, set);
        }
        map
    }

    fn push(&mut self, at: u128, set: u32) {
        let Ok(at) = K::try_from(at) else { return };
        if self.sets.last() == Some(&set) {
            return;
        }
        if self.starts.last() == Some(&at) {
            self.starts.pop();
            self.sets.pop();
            if self.sets.last() == Some(&set) {
                return;
            }
        }
        self.starts.push(at);
        self.sets.push(set);
    }

    fn index(&self, k: K) -> usize {
        self.starts.partition_point(|&s| s <= k).saturating_sub(1)
    }

    /// The value-set id of an address, or [`NONE`].
    pub(crate) fn get(&self, k: K) -> u32 {
        self.sets.get(self.index(k)).copied().unwrap_or(NONE)
    }

    /// Whether any address in `lo..=hi` is listed (for empty non-terminals).
    pub(crate) fn any_in(&self, lo: K, hi: K) -> bool {
        let i = self.index(lo);
        if self.sets.get(i).is_some_and(|&s| s != NONE) {
            return true;
        }
        // Adjacent intervals differ, so the next one is listed if it starts
        // inside the range.
        self.starts.get(i + 1).is_some_and(|&s| s <= hi)
    }

    /// Number of intervals (for reports).
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.starts.capacity() * size_of::<K>() + self.sets.capacity() * 4
    }
}

fn top_set(
    active: &BTreeSet<(u16, u32)>,
    pieces: &[Piece],
    table: &mut SetTable,
    ids: &mut Vec<u32>,
) -> u32 {
    let Some(&(prio, _)) = active.last() else {
        return NONE;
    };
    ids.clear();
    for &(_, i) in active.range((prio, 0)..) {
        match pieces.get(i as usize).map(|p| p.payload) {
            Some(Payload::Excluded) => return NONE,
            Some(Payload::Value(v)) => ids.push(v),
            None => {}
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        NONE
    } else {
        table.intern(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(start: u32, end: u32, prio: u16, payload: Payload) -> Piece {
        Piece {
            start: start.into(),
            end: end.into(),
            prio,
            payload,
        }
    }

    #[test]
    fn most_specific_wins_and_exclusion_wins_ties() {
        let mut t = SetTable::default();
        let pieces = [
            piece(0x0a00_0000, 0x0aff_ffff, 8, Payload::Value(1)),
            piece(0x0a01_0000, 0x0a01_ffff, 16, Payload::Excluded),
            piece(0x0a01_0200, 0x0a01_0200, 32, Payload::Value(2)),
            piece(0x0b00_0000, 0x0b00_00ff, 24, Payload::Value(3)),
            piece(0x0b00_0000, 0x0b00_00ff, 24, Payload::Value(4)),
            piece(0x0c00_0000, 0x0c00_00ff, 24, Payload::Value(5)),
            piece(0x0c00_0000, 0x0c00_00ff, 24, Payload::Excluded),
            piece(0xffff_ff00, 0xffff_ffff, 24, Payload::Value(6)),
        ];
        let m = IntervalMap::<u32>::build(&pieces, &mut t);
        assert_eq!(t.get(m.get(0x0a00_0001)), &[1]);
        assert_eq!(m.get(0x0a01_0001), NONE);
        assert_eq!(t.get(m.get(0x0a01_0200)), &[2]);
        assert_eq!(t.get(m.get(0x0a02_0000)), &[1]);
        assert_eq!(t.get(m.get(0x0b00_0005)), &[3, 4]);
        assert_eq!(m.get(0x0c00_0005), NONE);
        assert_eq!(t.get(m.get(0xffff_ffff)), &[6]);
        assert_eq!(m.get(0), NONE);
        assert!(m.any_in(0x0a01_0200, 0x0a01_02ff));
        assert!(!m.any_in(0x0a01_0300, 0x0a01_03ff));
        assert!(m.any_in(0x0900_0000, 0x0a00_0000));
    }

    #[test]
    fn empty_map_lists_nothing() {
        let m = IntervalMap::<u128>::build(&[], &mut SetTable::default());
        assert_eq!(m.get(u128::MAX), NONE);
        assert!(!m.any_in(0, u128::MAX));
    }
}
