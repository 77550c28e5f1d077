//! Longest-prefix match: a Poptrie (Asai & Ohara, SIGCOMM 2015), written
//! for depeer.
//!
//! Layout: a direct-pointing array indexed by the top 16 bits of the key,
//! then internal nodes of stride 6. A node holds two 64-bit maps: `vector`
//! (bit *v* set when child *v* is another node) and `leafvec` (bit *v* set
//! where a new run of equal leaves starts), plus the base indices of its
//! children and of its leaves. Children of one node are contiguous, so a
//! child's index is `base + popcount(map & bits_up_to(v)) - 1`. Runs of
//! equal leaves are stored once, which keeps a full IPv4 table in a few MiB
//! (so mostly in cache) instead of DIR-24-8's 64 MiB.
//!
//! Invariants: the structure is immutable after [`Poptrie::build`]; a lookup
//! never panics (every index is checked; a failed check means "no route",
//! which cannot happen for a structure this module built).

/// Key types: `u32` for IPv4, `u128` for IPv6.
pub trait LpmKey: Copy {
    /// Key width in bits.
    const BITS: u32;
    /// `len` bits starting at bit `offset` (0 = most significant), padded
    /// with zeros past the end of the key.
    fn chunk(self, offset: u32, len: u32) -> usize;
    /// Bit `i` (0 = most significant).
    fn bit(self, i: u32) -> bool;
}

/// The same bit arithmetic for IPv4 (`u32`) and IPv6 (`u128`) keys.
macro_rules! lpm_key {
    ($($t:ty),*) => {$(
        impl LpmKey for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline(always)]
            fn chunk(self, offset: u32, len: u32) -> usize {
                if offset >= <$t>::BITS {
                    return 0;
                }
                ((self << offset) >> (<$t>::BITS - len)) as usize
            }
            #[inline(always)]
            fn bit(self, i: u32) -> bool {
                (self >> (<$t>::BITS - 1 - i)) & 1 == 1
            }
        }
    )*};
}

lpm_key!(u32, u128);

/// "No route" value.
pub const NO_ROUTE: u32 = 0x7fff_ffff;
const LEAF_FLAG: u32 = 0x8000_0000;
const DIRECT_BITS: u32 = 16;
const STRIDE: u32 = 6;

#[derive(Debug, Clone, Copy, Default)]
struct Node {
    vector: u64,
    leafvec: u64,
    base0: u32,
    base1: u32,
}

/// An immutable longest-prefix-match index from prefixes to `u32` values
/// (below [`NO_ROUTE`]).
#[derive(Debug, Clone)]
pub struct Poptrie<K> {
    direct: Vec<u32>,
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    _key: std::marker::PhantomData<K>,
}

/// The binary trie the Poptrie is built from.
#[derive(Default)]
struct Trie {
    // child[0], child[1], value; 0 = no child (the root is never a child).
    nodes: Vec<([u32; 2], u32)>,
}

impl Trie {
    fn new() -> Trie {
        Trie {
            nodes: vec![([0, 0], NO_ROUTE)],
        }
    }

    fn insert<K: LpmKey>(&mut self, key: K, len: u32, value: u32) {
        let mut n = 0usize;
        for i in 0..len.min(K::BITS) {
            let b = usize::from(key.bit(i));
            let next = self
                .nodes
                .get(n)
                .map_or(0, |x| x.0.get(b).copied().unwrap_or(0));
            n = if next == 0 {
                let id = self.nodes.len() as u32;
                self.nodes.push(([0, 0], NO_ROUTE));
                if let Some(x) = self.nodes.get_mut(n).and_then(|x| x.0.get_mut(b)) {
                    *x = id;
                }
                id as usize
            } else {
                next as usize
            };
        }
        if let Some(x) = self.nodes.get_mut(n) {
            x.1 = value;
        }
    }

    fn child(&self, n: u32, b: usize) -> u32 {
        self.nodes
            .get(n as usize)
            .and_then(|x| x.0.get(b).copied())
            .unwrap_or(0)
    }

    fn value(&self, n: u32) -> u32 {
        self.nodes.get(n as usize).map_or(NO_ROUTE, |x| x.1)
    }

    fn has_children(&self, n: u32) -> bool {
        self.nodes.get(n as usize).is_some_and(|x| x.0 != [0, 0])
    }

    /// Follows `bits` bits of `v` (most significant first) from `n`,
    /// inheriting values; returns the node reached (if the path exists to
    /// the end and the node has children) and the inherited value.
    fn walk(&self, n: u32, v: usize, bits: u32, mut inherited: u32) -> (Option<u32>, u32) {
        let mut cur = n;
        for i in (0..bits).rev() {
            let next = self.child(cur, (v >> i) & 1);
            if next == 0 {
                return (None, inherited);
            }
            cur = next;
            let val = self.value(cur);
            if val != NO_ROUTE {
                inherited = val;
            }
        }
        if self.has_children(cur) {
            (Some(cur), inherited)
        } else {
            (None, inherited)
        }
    }
}

impl<K: LpmKey> Poptrie<K> {
    /// Builds the index from `(key, prefix length, value)`; for equal
    /// prefixes the last value wins. Values must be below [`NO_ROUTE`].
    pub fn build(prefixes: impl IntoIterator<Item = (K, u32, u32)>) -> Poptrie<K> {
        let mut trie = Trie::new();
        for (k, len, v) in prefixes {
            trie.insert(k, len, v.min(NO_ROUTE));
        }
        let mut p = Poptrie {
            direct: vec![LEAF_FLAG | NO_ROUTE; 1 << DIRECT_BITS],
            nodes: Vec::new(),
            leaves: Vec::new(),
            _key: std::marker::PhantomData,
        };
        let root_value = trie.value(0);
        // Direct-pointing level: each top-16-bit chunk is a leaf or a node.
        let mut pending = Vec::new();
        for v in 0..(1usize << DIRECT_BITS) {
            let (node, inherited) = trie.walk(0, v, DIRECT_BITS, root_value);
            let slot = match node {
                None => LEAF_FLAG | inherited,
                Some(tn) => {
                    let idx = p.nodes.len() as u32;
                    p.nodes.push(Node::default());
                    pending.push((idx, tn, inherited));
                    idx
                }
            };
            if let Some(d) = p.direct.get_mut(v) {
                *d = slot;
            }
        }
        for (idx, tn, inherited) in pending {
            p.fill(&trie, idx, tn, inherited);
        }
        p.nodes.shrink_to_fit();
        p.leaves.shrink_to_fit();
        p
    }

    /// Fills node `idx` for trie node `tn` (whose covering value is
    /// `inherited`), allocating its children contiguously, then recurses.
    fn fill(&mut self, trie: &Trie, idx: u32, tn: u32, inherited: u32) {
        let mut vector = 0u64;
        let mut leafvec = 0u64;
        let mut children = Vec::new();
        let base0 = self.leaves.len() as u32;
        let mut last_leaf: Option<u32> = None;
        for v in 0..64usize {
            let (node, val) = trie.walk(tn, v, STRIDE, inherited);
            match node {
                Some(child) => {
                    vector |= 1 << v;
                    children.push((child, val));
                }
                None => {
                    if last_leaf != Some(val) {
                        leafvec |= 1 << v;
                        self.leaves.push(val);
                        last_leaf = Some(val);
                    }
                }
            }
        }
        let base1 = self.nodes.len() as u32;
        self.nodes
            .extend(std::iter::repeat_n(Node::default(), children.len()));
        if let Some(n) = self.nodes.get_mut(idx as usize) {
            *n = Node {
                vector,
                leafvec,
                base0,
                base1,
            };
        }
        for (i, (child, val)) in children.into_iter().enumerate() {
            self.fill(trie, base1 + i as u32, child, val);
        }
    }

    /// The value of the longest prefix containing `key`, or [`NO_ROUTE`].
    #[inline]
    pub fn lookup(&self, key: K) -> u32 {
        let d = self
            .direct
            .get(key.chunk(0, DIRECT_BITS))
            .copied()
            .unwrap_or(LEAF_FLAG | NO_ROUTE);
        if d & LEAF_FLAG != 0 {
            return d & !LEAF_FLAG;
        }
        let mut idx = d as usize;
        let mut offset = DIRECT_BITS;
        loop {
            let Some(n) = self.nodes.get(idx) else {
                return NO_ROUTE;
            };
            let v = key.chunk(offset, STRIDE) as u32;
            let upto = u64::MAX >> (63 - v);
            if n.vector & (1u64 << v) != 0 {
                idx = n.base1 as usize + (n.vector & upto).count_ones() as usize - 1;
                offset += STRIDE;
            } else {
                let i =
                    (n.base0 as usize + (n.leafvec & upto).count_ones() as usize).wrapping_sub(1);
                return self.leaves.get(i).copied().unwrap_or(NO_ROUTE);
            }
        }
    }

    /// Bulk lookup: `out[i] = lookup(keys[i])`. Independent lookups in one
    /// loop let the CPU overlap their memory accesses.
    pub fn lookup_many(&self, keys: &[K], out: &mut [u32]) {
        for (k, o) in keys.iter().zip(out.iter_mut()) {
            *o = self.lookup(*k);
        }
    }

    /// Heap bytes used.
    pub fn memory_bytes(&self) -> usize {
        self.direct.len() * 4
            + self.nodes.len() * std::mem::size_of::<Node>()
            + self.leaves.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: linear scan for the longest match.
    fn naive(prefixes: &[(u32, u32, u32)], key: u32) -> u32 {
        let mut best: Option<(u32, u32)> = None;
        for &(p, len, v) in prefixes {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            if key & mask == p & mask && best.is_none_or(|(l, _)| len >= l) {
                best = Some((len, v));
            }
        }
        best.map_or(NO_ROUTE, |(_, v)| v)
    }

    #[test]
    fn matches_a_linear_scan_on_random_tables() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20 {
            let n = 1 + (rnd() % 300) as usize;
            let mut prefixes = Vec::new();
            for i in 0..n {
                let len = (rnd() % 33) as u32;
                // Cluster keys so that nesting happens often.
                let key =
                    ((rnd() as u32) & 0xff0f_ffff) | if round % 2 == 0 { 0x0a00_0000 } else { 0 };
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                prefixes.push((key & mask, len, i as u32));
            }
            // Keep the last value per prefix, as the builder does.
            let t = Poptrie::build(prefixes.iter().copied());
            let mut dedup: std::collections::HashMap<(u32, u32), u32> = Default::default();
            for &(p, l, v) in &prefixes {
                dedup.insert((p, l), v);
            }
            let flat: Vec<_> = dedup.iter().map(|(&(p, l), &v)| (p, l, v)).collect();
            for _ in 0..2000 {
                let probe = if rnd() % 2 == 0 {
                    let (p, _, _) = prefixes[(rnd() as usize) % prefixes.len()];
                    p.wrapping_add((rnd() % 3) as u32).wrapping_sub(1)
                } else {
                    rnd() as u32
                };
                assert_eq!(
                    t.lookup(probe),
                    naive(&flat, probe),
                    "round {round} key {probe:#x}"
                );
            }
        }
    }

    #[test]
    fn default_route_host_routes_and_v6() {
        let t = Poptrie::<u32>::build([(0, 0, 1), (0x0a00_0001, 32, 2), (0x0a00_0000, 31, 3)]);
        assert_eq!(t.lookup(0x0a00_0001), 2);
        assert_eq!(t.lookup(0x0a00_0000), 3);
        assert_eq!(t.lookup(0x0a00_0002), 1);
        let k: u128 = 0x2001_0db8 << 96;
        let t6 = Poptrie::<u128>::build([(k, 32, 7), (k | 1, 128, 8)]);
        assert_eq!(t6.lookup(k | 1), 8);
        assert_eq!(t6.lookup(k | 2), 7);
        assert_eq!(t6.lookup(1), NO_ROUTE);
        assert_eq!(Poptrie::<u32>::build([]).lookup(5), NO_ROUTE);
    }
}
