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

const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// High bit of each byte of `x` set where that byte is ASCII in
/// `lo..=hi` (`hi` < 0x7f), eight bytes at once: adding `0x80 - lo` to the
/// low seven bits sets the high bit where they are `>= lo`, adding
/// `0x7f - hi` where they are `> hi`; bytes >= 0x80 never match.
#[inline]
fn lanes_in(x: u64, lo: u8, hi: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let t = x & LOW7;
    let ge = t + ONES * u64::from(0x80 - lo);
    let gt = t + ONES * u64::from(0x7f - hi);
    ge & !gt & !x & HIGH
}

/// ASCII-lowercases eight packed bytes at once (bytes >= 0x80 unchanged):
/// the SWAR form of `to_ascii_lowercase` on each byte.
#[inline]
fn lower8(x: u64) -> u64 {
    x | (lanes_in(x, b'A', b'Z') >> 2)
}

/// High bit of each byte of `x` set where that byte is an ASCII digit.
#[inline]
fn digit_lanes(x: u64) -> u64 {
    lanes_in(x, b'0', b'9')
}

/// Whether any byte of `x` is an ASCII digit.
#[inline]
fn has_digit(x: u64) -> bool {
    digit_lanes(x) != 0
}

/// The bytes `b[at..at + n.min(8)]` as a little-endian `u64`, zero-padded.
#[inline]
fn load8(b: &[u8], at: usize, n: usize) -> u64 {
    let x = match b.get(at..at + 8) {
        Some(w) => <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes),
        None => {
            let mut buf = [0u8; 8];
            let rest = b.get(at..).unwrap_or_default();
            let rest = rest.get(..8).unwrap_or(rest);
            if let Some(d) = buf.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            u64::from_le_bytes(buf)
        }
    };
    if n < 8 {
        x & ((1u64 << (8 * n)) - 1)
    } else {
        x
    }
}

/// One bit per byte of `x` (bit k for byte k, little-endian): set where
/// the byte makes words (an ASCII letter or digit, or any non-ASCII byte),
/// exactly the bytes the reference splitter's class table does not map to 0. Branch-free.
#[inline]
fn word_bits(x: u64) -> u8 {
    // ASCII letters: the byte with 0x20 set is in 'a'..='z'; non-ASCII
    // bytes by their own high bit.
    let letters = lanes_in(x | 0x2020_2020_2020_2020, b'a', b'z');
    let lanes = (letters | x | digit_lanes(x)) & HIGH;
    // Gather the eight high bits into one byte.
    ((lanes >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
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

    #[inline(always)]
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
        // Branch-free: after the first few shingles the minimum rarely
        // changes, but when it does the branch is a misprediction.
        if let Some(s) = self.slots.get_mut(slot) {
            *s = (*s).min(v);
        }
    }

    /// Adds plain text.
    ///
    /// Why this is not a simple byte loop: a per-byte word loop (kept as
    /// `add_text_reference` in the tests, and compared with this one on
    /// real and random text) mispredicts a branch at most word ends, and
    /// every byte of every text part passes here. Here each block of 64
    /// bytes is classified eight bytes at a time without branches
    /// ([`word_bits`]), the word starts and ends are read off the resulting
    /// bit mask, and words without digits (the common case) are lowercased
    /// and hashed eight bytes at a time. Words with digits go byte by byte
    /// so digit runs collapse.
    pub fn add_text(&mut self, text: &str) {
        let b = text.as_bytes();
        self.end_word();
        if self.words >= MAX_WORDS {
            return;
        }
        // Start of the word in progress, if any (it may span blocks).
        let mut word_start: Option<usize> = None;
        let mut base = 0usize;
        while base < b.len() {
            let mut block = [0u8; 64];
            let chunk = b.get(base..).unwrap_or_default();
            let chunk = chunk.get(..64).unwrap_or(chunk);
            if let Some(d) = block.get_mut(..chunk.len()) {
                d.copy_from_slice(chunk);
            }
            let mut w = 0u64;
            for (k, c8) in block.chunks_exact(8).enumerate() {
                let mut x = [0u8; 8];
                x.copy_from_slice(c8);
                w |= u64::from(word_bits(u64::from_le_bytes(x))) << (8 * k);
            }
            // Bytes past the end of the text (zeros) are not word bytes.
            if chunk.len() < 64 {
                w &= (1u64 << chunk.len()) - 1;
            }
            let carry = u64::from(word_start.is_some());
            let prev = (w << 1) | carry;
            let mut events = (w & !prev) | (!w & prev);
            while events != 0 {
                let k = events.trailing_zeros() as usize;
                events &= events - 1;
                match word_start.take() {
                    None => word_start = Some(base + k),
                    Some(s) => {
                        self.word(b, s, base + k);
                        if self.words >= MAX_WORDS {
                            return;
                        }
                    }
                }
            }
            base += 64;
        }
        if let Some(s) = word_start {
            self.word(b, s, b.len());
        }
    }

    /// One word of [`Fingerprinter::add_text`]: `b[s..e]`, a maximal run
    /// of word bytes. Reads eight bytes at a time (past the word's end when
    /// the text goes on, masked off).
    #[inline(always)]
    fn word(&mut self, b: &[u8], s: usize, e: usize) {
        let len = e - s;
        if len > 40 || len == 0 {
            return;
        }
        let mut h = FNV_OFFSET;
        let mut at = s;
        while at < e {
            let x = load8(b, at, e - at);
            if has_digit(x) {
                self.digit_word(b.get(s..e).unwrap_or_default());
                return;
            }
            h = (h ^ lower8(x)).wrapping_mul(FNV_PRIME).rotate_left(29);
            at += 8;
        }
        self.word_hash = h;
        self.word_len = len;
        self.end_word();
    }

    /// A word with digits: byte by byte, so digit runs collapse.
    #[cold]
    fn digit_word(&mut self, w: &[u8]) {
        for &c in w {
            self.byte(c);
        }
        self.end_word();
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
        // Into a byte array through a table, validated once: once per
        // message, the formatter machinery (`write!("{v:08x}")`) and a
        // `push` per character are not free on small messages.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let sig = self.signature();
        let mut out = [0u8; SLOTS * 8];
        for (v, dst) in sig.iter().zip(out.chunks_exact_mut(8)) {
            for (i, d) in dst.iter_mut().enumerate() {
                let nibble = (v >> (28 - 4 * i)) & 0xf;
                *d = HEX.get(nibble as usize).copied().unwrap_or(b'0');
            }
        }
        String::from_utf8_lossy(&out).into_owned()
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
mod tests;
