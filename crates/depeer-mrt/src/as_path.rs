//! AS_PATH (RFC 4271 §4.3, RFC 5065 confederations) as depeer uses it:
//! segments of 32-bit ASNs, with AS4_PATH already merged (RFC 6793 §4.2.3).
//!
//! How depeer reads a path (see docs/routing.md):
//!
//! * **Origin**: the last AS of a final AS_SEQUENCE; for a final AS_SET
//!   (aggregation, RFC 4271 §5.1.6) every member is an origin.
//! * **Prepending** (`A A A B`) is one hop: [`AsPath::hops`] removes
//!   repeats.
//! * **Links** are drawn only between neighbours inside and across
//!   AS_SEQUENCE segments; an AS_SET has no internal order, so no link is
//!   drawn to, from or inside it. Confederation segments are internal to a
//!   confederation and are skipped.

use std::fmt::Write;

/// Kind of a path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// AS_SEQUENCE: ordered.
    Sequence,
    /// AS_SET: unordered (aggregation).
    Set,
    /// AS_CONFED_SEQUENCE.
    ConfedSequence,
    /// AS_CONFED_SET.
    ConfedSet,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Segment {
    /// Its kind.
    pub kind: SegmentKind,
    /// Its ASNs, in wire order.
    pub asns: Vec<u32>,
}

/// An AS path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    /// Segments, nearest AS (the peer) first.
    pub segments: Vec<Segment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: &[u32]) -> AsPath {
        AsPath {
            segments: vec![Segment {
                kind: SegmentKind::Sequence,
                asns: asns.to_vec(),
            }],
        }
    }

    /// The origin ASes (empty for an empty path or one ending in a
    /// confederation segment).
    pub fn origins(&self) -> &[u32] {
        match self.segments.last() {
            Some(Segment {
                kind: SegmentKind::Sequence,
                asns,
            }) => asns.last().map(std::slice::from_ref).unwrap_or(&[]),
            Some(Segment {
                kind: SegmentKind::Set,
                asns,
            }) => asns,
            _ => &[],
        }
    }

    /// Whether the origin is an AS_SET.
    pub fn origin_is_set(&self) -> bool {
        matches!(self.segments.last(), Some(s) if s.kind == SegmentKind::Set)
    }

    /// The AS_SEQUENCE hops with prepending removed, nearest first; a
    /// set or confederation segment breaks the chain (recorded as `None`).
    pub fn hops(&self) -> Vec<Option<u32>> {
        let mut out: Vec<Option<u32>> = Vec::new();
        for seg in &self.segments {
            match seg.kind {
                SegmentKind::Sequence => {
                    for &a in &seg.asns {
                        if out.last() != Some(&Some(a)) {
                            out.push(Some(a));
                        }
                    }
                }
                _ => {
                    if out.last() != Some(&None) {
                        out.push(None);
                    }
                }
            }
        }
        out
    }

    /// Adjacent AS pairs `(nearer, farther)` (towards the origin), without
    /// prepending and without sets; each pair once per path.
    pub fn links(&self) -> Vec<(u32, u32)> {
        let hops = self.hops();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for w in hops.windows(2) {
            if let [Some(a), Some(b)] = *w
                && a != b
                && !out.contains(&(a, b))
            {
                out.push((a, b));
            }
        }
        out
    }

    /// The AS just before the origin (its observed upstream), when the path
    /// ends in a sequence of at least two distinct ASes.
    pub fn origin_upstream(&self) -> Option<u32> {
        if self.origin_is_set() {
            return None;
        }
        let hops = self.hops();
        match hops.as_slice() {
            [.., Some(up), Some(_origin)] => Some(*up),
            _ => None,
        }
    }

    /// Number of ASNs over all segments.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.asns.len()).sum()
    }

    /// Whether there is no AS at all (iBGP-learned or locally originated).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// bgpdump's text form: sequences space-separated, `{a,b}` sets,
    /// `(a b)` confederation sequences, `[a,b]` confederation sets.
    pub fn to_bgpdump(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            let (open, sep, close) = match seg.kind {
                SegmentKind::Sequence => ("", " ", ""),
                SegmentKind::Set => ("{", ",", "}"),
                SegmentKind::ConfedSequence => ("(", " ", ")"),
                SegmentKind::ConfedSet => ("[", ",", "]"),
            };
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(open);
            for (i, a) in seg.asns.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                let _ = write!(s, "{a}");
            }
            s.push_str(close);
        }
        s
    }
}

impl AsPath {
    /// Parses bgpdump's text form (what [`AsPath::to_bgpdump`] writes);
    /// `None` when it is not one. Consecutive plain ASes become one
    /// sequence segment.
    pub fn parse_bgpdump(text: &str) -> Option<AsPath> {
        let mut segments: Vec<Segment> = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (kind, close, sep) = match rest.as_bytes().first() {
                Some(b'{') => (SegmentKind::Set, '}', ','),
                Some(b'(') => (SegmentKind::ConfedSequence, ')', ' '),
                Some(b'[') => (SegmentKind::ConfedSet, ']', ','),
                _ => (SegmentKind::Sequence, ' ', ' '),
            };
            let (body, next) = if kind == SegmentKind::Sequence {
                match rest.find([' ', '{', '(', '[']) {
                    Some(i) => (rest.get(..i)?, rest.get(i..)?),
                    None => (rest, ""),
                }
            } else {
                let end = rest.find(close)?;
                (rest.get(1..end)?, rest.get(end + 1..)?)
            };
            let mut asns = Vec::new();
            for a in body.split(sep).filter(|a| !a.is_empty()) {
                asns.push(a.trim().parse::<u32>().ok()?);
            }
            match segments.last_mut() {
                Some(last) if kind == SegmentKind::Sequence && last.kind == kind => {
                    last.asns.extend(asns)
                }
                _ if kind == SegmentKind::Sequence && asns.is_empty() => {}
                _ => segments.push(Segment { kind, asns }),
            }
            rest = next.trim_start();
        }
        Some(AsPath { segments })
    }
}

impl std::fmt::Display for AsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_bgpdump())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgpdump_text_round_trips() {
        for t in [
            "",
            "3356",
            "701 3356 3356 15169",
            "1 2 {3,4}",
            "(65001 65002) 1 2 [7,8] {9}",
        ] {
            let p = AsPath::parse_bgpdump(t).unwrap();
            assert_eq!(p.to_bgpdump(), t, "{t:?}");
        }
        assert_eq!(AsPath::parse_bgpdump("1 x"), None);
        assert_eq!(AsPath::parse_bgpdump("1 {2,3"), None);
    }

    fn set(asns: &[u32]) -> Segment {
        Segment {
            kind: SegmentKind::Set,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn prepending_is_one_hop() {
        let p = AsPath::sequence(&[3549, 3549, 3549, 26780, 26780]);
        assert_eq!(p.origins(), &[26780]);
        assert_eq!(p.links(), vec![(3549, 26780)]);
        assert_eq!(p.origin_upstream(), Some(3549));
    }

    #[test]
    fn as_set_origin_has_every_member_and_no_links() {
        // bgpdump: "1853 1239 13659 {13659,701}"
        let mut p = AsPath::sequence(&[1853, 1239, 13659]);
        p.segments.push(set(&[13659, 701]));
        assert_eq!(p.origins(), &[13659, 701]);
        assert_eq!(p.links(), vec![(1853, 1239), (1239, 13659)]);
        assert_eq!(p.origin_upstream(), None);
        assert_eq!(p.to_bgpdump(), "1853 1239 13659 {13659,701}");
    }

    #[test]
    fn empty_path_has_no_origin() {
        assert!(AsPath::default().origins().is_empty());
        assert!(AsPath::default().links().is_empty());
    }
}
