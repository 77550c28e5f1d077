//! The Merkle tree of RFC 6962 §2.1 / RFC 9162 §2.1: leaf and node hashes,
//! the tree head of any size, inclusion and consistency proofs (made from
//! the leaf hashes) and their verification, and [`Frontier`], the right
//! edge of a growing tree that appends in O(1) amortised and gives the root
//! of the current size in O(log n).
//!
//! Hand-written rather than a crate: the whole of it is two hash rules and
//! four short recursive definitions that the RFC states exactly, a third
//! party's verifier must reimplement them anyway, and the tests below check
//! every function against the published vectors of transparency-dev/merkle
//! (the RFC 6962 reference leaves `""`, `00`, `10`, `2021`, …). The
//! verification functions follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by
//! step, independently of the generators, so a bug in one is caught by the
//! other.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`: the hash of a leaf (RFC 6962 §2.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256()` of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes (RFC 6962 §2.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split(leaves.len());
            let (l, r) = leaves.split_at(k);
            node_hash(&root(l), &root(r))
        }
    }
}

/// PATH(m, D[n]): the inclusion proof of leaf `index` in the tree of the
/// first `size` leaves (RFC 6962 §2.1.1). `None` when `index >= size` or
/// `size > leaves.len()`.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Option<Vec<Hash>> {
    let size = usize::try_from(size).ok()?;
    let index = usize::try_from(index).ok()?;
    let d = leaves.get(..size)?;
    if index >= size {
        return None;
    }
    let mut out = Vec::new();
    path(index, d, &mut out);
    Some(out)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    if d.len() <= 1 {
        return;
    }
    let k = split(d.len());
    let (l, r) = d.split_at(k);
    if m < k {
        path(m, l, out);
        out.push(root(r));
    } else {
        path(m - k, r, out);
        out.push(root(l));
    }
}

/// PROOF(m, D[n]): the consistency proof from the tree of the first `old`
/// leaves to that of the first `new` (RFC 6962 §2.1.2). Empty when `old`
/// is 0 or equal to `new`; `None` when `old > new` or `new > leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old: u64, new: u64) -> Option<Vec<Hash>> {
    let old = usize::try_from(old).ok()?;
    let new = usize::try_from(new).ok()?;
    let d = leaves.get(..new)?;
    if old > new {
        return None;
    }
    let mut out = Vec::new();
    if old > 0 {
        subproof(old, d, true, &mut out);
    }
    Some(out)
}

fn subproof(m: usize, d: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    if m == d.len() {
        if !whole {
            out.push(root(d));
        }
        return;
    }
    let k = split(d.len());
    let (l, r) = d.split_at(k);
    if m <= k {
        subproof(m, l, whole, out);
        out.push(root(r));
    } else {
        subproof(m - k, r, false, out);
        out.push(root(l));
    }
}

/// Why a proof did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFailure {
    /// The index is not below the tree size (or the sizes are reversed).
    OutOfRange,
    /// The proof has more or fewer hashes than the sizes call for.
    WrongLength,
    /// The hashes do not lead to the given root.
    RootMismatch,
}

impl std::fmt::Display for ProofFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProofFailure::OutOfRange => "index or size out of range",
            ProofFailure::WrongLength => "wrong number of hashes in the proof",
            ProofFailure::RootMismatch => "the proof does not lead to the root",
        })
    }
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofFailure> {
    if index >= size {
        return Err(ProofFailure::OutOfRange);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofFailure::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofFailure::WrongLength);
    }
    if r != *root {
        return Err(ProofFailure::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof between two tree heads (RFC 9162
/// §2.1.4.2; size 0 is consistent with everything, equal sizes need equal
/// roots and an empty proof).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofFailure> {
    if old_size > new_size {
        return Err(ProofFailure::OutOfRange);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofFailure::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofFailure::RootMismatch)
        };
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofFailure::WrongLength)
        };
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofFailure::WrongLength);
    };
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
        path.push(first);
    } else {
        path.push(first);
    }
    path.extend(rest);
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let Some((start, tail)) = path.split_first() else {
        return Err(ProofFailure::WrongLength);
    };
    let (mut fr, mut sr) = (**start, **start);
    for c in tail {
        if sn == 0 {
            return Err(ProofFailure::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofFailure::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofFailure::RootMismatch);
    }
    Ok(())
}

/// The right edge of a growing tree: the roots of its perfect subtrees,
/// largest first (the "compact range" of transparency-dev). Appending a
/// leaf merges equal-sized subtrees, like a binary counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Root of each perfect subtree, largest (leftmost) first.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Frontier::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut n = self.size;
        // Each trailing 1 bit of the size is a subtree of the same height
        // as the running hash: merge it.
        while n & 1 == 1 {
            match self.hashes.pop() {
                Some(left) => h = node_hash(&left, &h),
                None => break,
            }
            n >>= 1;
        }
        self.hashes.push(h);
        self.size += 1;
    }

    /// The root hash of the tree as it is.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        let mut r = *last;
        for h in it {
            r = node_hash(h, &r);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hash {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    // The RFC 6962 reference leaves and roots as published in
    // transparency-dev/merkle testonly/constants.go.
    fn leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|x| leaf_hash(&hex::decode(x).unwrap()))
        .collect()
    }

    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_reference_vectors() {
        let l = leaves();
        let mut f = Frontier::new();
        assert_eq!(f.root(), h(ROOTS[0]));
        for n in 1..=8 {
            assert_eq!(root(&l[..n]), h(ROOTS[n]), "size {n}");
            f.push(l[n - 1]);
            assert_eq!(f.root(), h(ROOTS[n]), "frontier size {n}");
        }
    }

    #[test]
    fn inclusion_proofs_match_the_reference_vectors() {
        // transparency-dev/merkle proof/verify_test.go: (leaf 1-based, size, proof).
        let cases: [(u64, u64, &[&str]); 5] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                3,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                2,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let l = leaves();
        for (leaf, size, want) in cases {
            let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
            let got = inclusion_proof(&l, leaf - 1, size).unwrap();
            assert_eq!(got, want, "leaf {leaf} size {size}");
            let r = h(ROOTS[size as usize]);
            verify_inclusion(leaf - 1, size, &l[leaf as usize - 1], &got, &r).unwrap();
            // Wrong index, wrong size, a flipped bit, a dropped hash: rejected.
            assert!(verify_inclusion(leaf, size, &l[leaf as usize - 1], &got, &r).is_err());
            assert!(verify_inclusion(leaf - 1, size * 2, &l[leaf as usize - 1], &got, &r).is_err());
            for i in 0..got.len() {
                let mut bad = got.clone();
                bad[i][0] ^= 8;
                assert!(verify_inclusion(leaf - 1, size, &l[leaf as usize - 1], &bad, &r).is_err());
            }
            if !got.is_empty() {
                let short = &got[..got.len() - 1];
                assert!(
                    verify_inclusion(leaf - 1, size, &l[leaf as usize - 1], short, &r).is_err()
                );
            }
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_vectors() {
        let cases: [(u64, u64, &[&str]); 5] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        let l = leaves();
        for (m, n, want) in cases {
            let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
            let got = consistency_proof(&l, m, n).unwrap();
            assert_eq!(got, want, "{m} -> {n}");
            let (r1, r2) = (h(ROOTS[m as usize]), h(ROOTS[n as usize]));
            verify_consistency(m, n, &r1, &r2, &got).unwrap();
            if !got.is_empty() {
                assert!(verify_consistency(m, n, &r2, &r1, &got).is_err());
                assert!(verify_consistency(m + 1, n, &r1, &r2, &got).is_err());
                assert!(verify_consistency(m, n, &r1, &r2, &got[1..]).is_err());
                for i in 0..got.len() {
                    let mut bad = got.clone();
                    bad[i][0] ^= 16;
                    assert!(verify_consistency(m, n, &r1, &r2, &bad).is_err());
                }
            }
        }
    }

    #[test]
    fn every_proof_of_small_trees_verifies() {
        let l: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::new();
        for n in 1..=l.len() as u64 {
            f.push(l[n as usize - 1]);
            let r = root(&l[..n as usize]);
            assert_eq!(f.root(), r);
            for i in 0..n {
                let p = inclusion_proof(&l, i, n).unwrap();
                verify_inclusion(i, n, &l[i as usize], &p, &r).unwrap();
            }
            for m in 0..=n {
                let p = consistency_proof(&l, m, n).unwrap();
                let r1 = root(&l[..m as usize]);
                verify_consistency(m, n, &r1, &r, &p).unwrap();
            }
        }
    }
}
