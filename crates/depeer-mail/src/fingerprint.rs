//! The content fingerprint for campaign clustering: a 16-slot MinHash
//! signature over word 3-shingles of the normalised body, computed with
//! one-permutation hashing (one 64-bit hash per shingle, its top 4 bits pick
//! the slot, the slot keeps the minimum of the low 32 bits) and rotation
//! densification for empty slots. Two messages' fingerprints agree slot by
//! slot with probability close to the Jaccard similarity of their shingle
//! sets.
//!
//! Normalisation: text of the text and HTML parts (HTML tags and character
//! references skipped), split into words of letters and digits, lowercased
//! (ASCII), every run of digits replaced by `0` (spammers vary numbers),
//! words longer than 40 bytes dropped (base64 junk, hash-busters). At most
//! [`MAX_WORDS`] words are read. The hex form is 128 characters
//! (16 × `u32`, big-endian); a body without words gives 128 `f`s.

/// At most this many words per message enter the fingerprint.
pub const MAX_WORDS: usize = 20_000;
/// Slots in the signature.
pub const SLOTS: usize = 16;

const EMPTY: u32 = u32::MAX;

/// Incremental fingerprint builder (reusable across messages via `reset`).
#[derive(Debug, Clone)]
pub struct Fingerprinter {
    slots: [u32; SLOTS],
    /// Hashes of the previous two words.
    prev: [u64; 2],
    words: usize,
    word_hash: u64,
    packed: u64,
    packed_len: u32,
    word_len: usize,
    in_digits: bool,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self::new()
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Byte classes: 0 separates words, [`LETTER`] (ASCII letters and every
/// non-ASCII byte) and [`DIGIT`] make words.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;

// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_digit() {
            DIGIT
        } else if c.is_ascii_alphabetic() || c >= 0x80 {
            LETTER
        } else {
            0
        };
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

#[inline]
fn class(c: u8) -> u8 {
    CLASS.get(usize::from(c)).copied().unwrap_or(0)
}

/// ASCII-lowercases eight packed bytes at once (bytes >= 0x80 unchanged):
/// the SWAR form of `to_ascii_lowercase` on each byte.
#[inline]
fn lower8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let t = x & LOW7;
    // High bit set where the low seven bits are >= 'A' and > 'Z' respectively.
    let ge_a = t + 0x3f3f_3f3f_3f3f_3f3f;
    let gt_z = t + 0x2525_2525_2525_2525;
    let upper = ge_a & !gt_z & !x & HIGH;
    x | (upper >> 2)
}

fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Fingerprinter {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            slots: [EMPTY; SLOTS],
            prev: [0; 2],
            words: 0,
            word_hash: FNV_OFFSET,
            packed: 0,
            packed_len: 0,
            word_len: 0,
            in_digits: false,
        }
    }

    /// Clears the state for the next message.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Adds one byte of a word: bytes are packed eight to a `u64` and only
    /// full words of eight are multiplied in, so the dependency chain is one
    /// multiply per eight bytes instead of one per byte.
    #[inline]
    fn byte(&mut self, b: u8) {
        let b = if b.is_ascii_digit() {
            if self.in_digits {
                return;
            }
            self.in_digits = true;
            b'0'
        } else {
            self.in_digits = false;
            b.to_ascii_lowercase()
        };
        if self.packed_len == 8 {
            self.word_hash = (self.word_hash ^ self.packed)
                .wrapping_mul(FNV_PRIME)
                .rotate_left(29);
            self.packed = 0;
            self.packed_len = 0;
        }
        self.packed = (self.packed << 8) | u64::from(b);
        self.packed_len += 1;
        self.word_len += 1;
    }

    fn end_word(&mut self) {
        if self.word_len > 0 && self.word_len <= 40 && self.words < MAX_WORDS {
            let w = mix(self.word_hash ^ self.packed ^ ((self.word_len as u64) << 58));
            self.words += 1;
            if self.words >= 3 {
                let [a, b] = self.prev;
                self.shingle(a.rotate_left(42) ^ b.rotate_left(21) ^ w);
            }
            self.prev = [self.prev[1], w];
        }
        self.word_hash = FNV_OFFSET;
        self.word_len = 0;
        self.packed = 0;
        self.packed_len = 0;
        self.in_digits = false;
    }

    fn shingle(&mut self, h: u64) {
        let h = mix(h);
        let slot = (h >> 60) as usize;
        let v = h as u32;
        if let Some(s) = self.slots.get_mut(slot)
            && v < *s
        {
            *s = v;
        }
    }

    /// Adds plain text. Words are found with a byte-class table; words
    /// without digits (the common case) are lowercased and hashed eight
    /// bytes at a time; words with digits go byte by byte so digit runs
    /// collapse.
    pub fn add_text(&mut self, text: &str) {
        let b = text.as_bytes();
        self.end_word();
        let mut i = 0usize;
        while i < b.len() && self.words < MAX_WORDS {
            // Skip to the next word byte.
            match b
                .get(i..)
                .and_then(|r| r.iter().position(|&c| class(c) != 0))
            {
                Some(p) => i += p,
                None => break,
            }
            let start = i;
            let mut kinds = 0u8;
            let rest = b.get(i..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|&c| {
                    let k = class(c);
                    kinds |= k;
                    k == 0
                })
                .unwrap_or(rest.len());
            i += len;
            let Some(w) = b.get(start..i).filter(|w| !w.is_empty()) else {
                break;
            };
            if w.len() > 40 {
                continue;
            }
            if kinds & DIGIT != 0 {
                for &c in w {
                    self.byte(c);
                }
            } else {
                let mut h = FNV_OFFSET;
                for chunk in w.chunks(8) {
                    let mut buf = [0u8; 8];
                    if let Some(d) = buf.get_mut(..chunk.len()) {
                        d.copy_from_slice(chunk);
                    }
                    h = (h ^ lower8(u64::from_le_bytes(buf)))
                        .wrapping_mul(FNV_PRIME)
                        .rotate_left(29);
                }
                self.word_hash = h;
                self.word_len = w.len();
            }
            self.end_word();
        }
    }

    /// Adds HTML (tags and character references are skipped).
    pub fn add_html(&mut self, html: &str) {
        let mut text = Vec::with_capacity(html.len());
        let (mut in_tag, mut in_ref) = (false, false);
        for &b in html.as_bytes() {
            if in_tag {
                in_tag = b != b'>';
                continue;
            }
            if in_ref {
                in_ref = b != b';' && (b.is_ascii_alphanumeric() || b == b'#');
                if in_ref || b == b';' {
                    continue;
                }
            }
            match b {
                b'<' => {
                    in_tag = true;
                    text.push(b' ');
                }
                b'&' => {
                    in_ref = true;
                    text.push(b' ');
                }
                _ => text.push(b),
            }
        }
        self.add_text(&String::from_utf8_lossy(&text));
    }

    /// The signature (call once all parts were added).
    pub fn signature(&mut self) -> [u32; SLOTS] {
        self.end_word();
        if self.words > 0 && self.words < 3 {
            // Too short for a 3-shingle: the words themselves.
            let [a, b] = self.prev;
            self.shingle(a.rotate_left(42) ^ b);
        }
        let mut out = self.slots;
        if out.iter().all(|&s| s == EMPTY) {
            return out;
        }
        // Rotation densification: an empty slot takes the value of the next
        // non-empty slot to the right (cyclically), offset by the distance.
        for i in 0..SLOTS {
            if self.slots.get(i) != Some(&EMPTY) {
                continue;
            }
            for d in 1..SLOTS {
                let j = (i + d) % SLOTS;
                if let Some(&v) = self.slots.get(j)
                    && v != EMPTY
                {
                    if let Some(o) = out.get_mut(i) {
                        *o = (mix(u64::from(v) ^ ((d as u64) << 32)) as u32).min(EMPTY - 1);
                    }
                    break;
                }
            }
        }
        out
    }

    /// The signature as 128 lowercase hex characters.
    pub fn hex(&mut self) -> String {
        use std::fmt::Write;
        let sig = self.signature();
        let mut s = String::with_capacity(SLOTS * 8);
        for v in sig {
            let _ = write!(s, "{v:08x}");
        }
        s
    }
}

/// Estimated Jaccard similarity of two hex fingerprints (share of equal
/// slots); `None` when either is malformed.
pub fn similarity(a: &str, b: &str) -> Option<f64> {
    if a.len() != SLOTS * 8 || b.len() != SLOTS * 8 {
        return None;
    }
    let mut same = 0;
    for i in 0..SLOTS {
        let x = a.get(i * 8..i * 8 + 8)?;
        let y = b.get(i * 8..i * 8 + 8)?;
        same += usize::from(x == y);
    }
    Some(same as f64 / SLOTS as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(t: &str) -> String {
        let mut f = Fingerprinter::new();
        f.add_text(t);
        f.hex()
    }

    #[test]
    fn numbers_case_and_spacing_do_not_matter() {
        assert_eq!(
            fp("Buy CHEAP pills now, only 19.99 today"),
            fp("buy cheap  pills now only 24.95 TODAY")
        );
        assert_eq!(fp("x").len(), 128);
        assert_eq!(fp(""), "f".repeat(128));
    }

    #[test]
    fn similar_texts_are_close_and_different_texts_far() {
        let base: String = (0..300)
            .map(|i| {
                format!("word{} ", ["alpha", "beta", "gamma", "delta", "eps"][i % 5])
                    + &"x".repeat(i % 7)
            })
            .collect();
        let a = fp(&base);
        let b = fp(&(base.clone() + " one extra sentence at the end"));
        let other: String = (0..300)
            .map(|i| format!("zz{} ", i * 7919 % 1000))
            .collect();
        let c = fp(&format!("{other} completely different"));
        assert!(similarity(&a, &b).unwrap() >= 0.75, "{a} {b}");
        assert!(similarity(&a, &c).unwrap() <= 0.25);
    }

    #[test]
    fn swar_lowercase_matches_bytewise() {
        for base in (0u16..256).step_by(8) {
            let bytes: Vec<u8> = (base..base + 8).map(|b| b as u8).collect();
            let x = u64::from_le_bytes(bytes.clone().try_into().unwrap());
            let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(lower8(x).to_le_bytes().to_vec(), want, "{bytes:?}");
        }
    }

    #[test]
    fn html_markup_is_ignored() {
        let mut f = Fingerprinter::new();
        f.add_html("<p>Buy <b>cheap</b>&nbsp;pills <a href='http://x'>now</a></p>");
        assert_eq!(f.hex(), fp("buy cheap pills now"));
    }
}
