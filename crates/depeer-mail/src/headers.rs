//! A borrowing scanner over the raw header block (RFC 5322 section 2.2):
//! yields each field's name and raw value (folding kept) without
//! allocating, stopping at the empty line that ends the header. Used where
//! the order and the raw text of fields matter (the `Received:` chain) and
//! for the cheap checks that decide whether bytes are mail at all.

/// One header field: name and raw value (after the colon, folding kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawField<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
}

impl<'a> RawField<'a> {
    /// The name and value of one whole field (folding kept); `None` when
    /// its first line does not start with a field name and a colon.
    fn parse(field: &'a [u8]) -> Option<Self> {
        let name = field_name(field)?;
        let value = field.get(name.len()..)?;
        let value = match memchr::memchr(b':', value) {
            Some(i) => value.get(i + 1..)?,
            None => value,
        };
        Some(RawField { name, value })
    }
}

/// Iterator over the fields of a header block.
#[derive(Debug, Clone)]
pub(crate) struct HeaderFields<'a> {
    rest: &'a [u8],
}

impl<'a> HeaderFields<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self { rest: raw }
    }
}

/// Whether `line` starts with a field name followed by a colon.
pub(crate) fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', line.get(..line.len().min(256))?)?;
    let name = line.get(..colon)?;
    let name_ok = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b));
    // Tolerate "Name : value" (obsolete syntax, RFC 5322 section 4.5).
    let trimmed = name.trim_ascii_end();
    if name_ok {
        Some(name)
    } else if !trimmed.is_empty() && trimmed.iter().all(|&b| (33..=126).contains(&b)) {
        Some(trimmed)
    } else {
        None
    }
}

impl<'a> Iterator for HeaderFields<'a> {
    type Item = RawField<'a>;

    fn next(&mut self) -> Option<RawField<'a>> {
        loop {
            let rest = self.rest;
            if rest.is_empty() || rest.starts_with(b"\n") || rest.starts_with(b"\r\n") {
                return None;
            }
            // Find the end of the field: a newline not followed by WSP.
            let mut end = 0usize;
            let field_end = loop {
                match memchr::memchr(b'\n', rest.get(end..)?) {
                    Some(i) => {
                        let nl = end + i;
                        match rest.get(nl + 1) {
                            Some(b' ' | b'\t') => end = nl + 1,
                            _ => break nl + 1,
                        }
                    }
                    None => break rest.len(),
                }
            };
            let field = rest.get(..field_end)?;
            self.rest = rest.get(field_end..)?;
            match RawField::parse(field) {
                Some(f) => return Some(f),
                // Not a field (garbage line inside the header): skip it, as
                // MUAs do.
                None => continue,
            }
        }
    }
}

/// Bit k set where `block[k]` is a line feed: eight bytes at a time, the
/// exact zero-byte test on `x ^ 0x0a..0a` and a multiply that gathers the
/// eight high bits into one byte (no `unsafe`; the compiler vectorises a
/// plain per-byte loop badly).
#[inline]
fn newline_mask(block: &[u8; 64]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut m = 0u64;
    for (k, c8) in block.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(c8);
        let y = u64::from_le_bytes(x) ^ 0x0a0a_0a0a_0a0a_0a0a;
        // High bit set exactly where a byte of `y` is zero.
        let zero = !(((y & LOW7) + LOW7) | y) & HIGH;
        m |= ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

/// [`header_block`] and the positions of its line feeds, found in one pass
/// over 64-byte blocks: returns the block's length, `nl` holds the offset
/// of every `\n` in the block in order. `None` when the block has more
/// than `cap` line feeds (the scan stops there, so a hostile header costs
/// at most `cap` entries).
///
/// Why: four walks need the header block (its end, its line count, the
/// `Received:` chain's field walk, the field parser), and a `memchr` call
/// per line costs mostly its set-up on lines of 30 to 80 bytes. The block
/// is walked once and the walks read this index ([`IndexedFields`], and
/// the extractor's lean header walk).
pub(crate) fn index_header(raw: &[u8], nl: &mut Vec<u32>, cap: usize) -> Option<usize> {
    nl.clear();
    if raw.starts_with(b"\n") || raw.starts_with(b"\r\n") {
        return Some(0);
    }
    let blank_after = |at: usize| {
        let next = raw.get(at + 1..).unwrap_or_default();
        next.starts_with(b"\n") || next.starts_with(b"\r\n")
    };
    let mut base = 0usize;
    while base < raw.len() {
        let chunk = raw.get(base..).unwrap_or_default();
        let mut m = match chunk.get(..64).and_then(|c| <&[u8; 64]>::try_from(c).ok()) {
            Some(block) => newline_mask(block),
            None => {
                let mut block = [0u8; 64];
                if let Some(d) = block.get_mut(..chunk.len()) {
                    d.copy_from_slice(chunk);
                }
                newline_mask(&block)
            }
        };
        while m != 0 {
            let at = base + m.trailing_zeros() as usize;
            m &= m - 1;
            if nl.len() >= cap {
                return None;
            }
            nl.push(u32::try_from(at).ok()?);
            if blank_after(at) {
                return Some(at + 1);
            }
        }
        base += 64;
    }
    Some(raw.len())
}

/// [`HeaderFields`] over a block indexed by [`index_header`]: the same
/// fields, field ends read from the index instead of searched.
#[derive(Debug, Clone)]
pub(crate) struct IndexedFields<'a> {
    block: &'a [u8],
    nl: &'a [u32],
    pos: usize,
    k: usize,
    /// When set, fields whose first byte is not one of these are skipped
    /// unread ([`IndexedFields::only_initials`]).
    initials: Option<&'static [u8]>,
}

impl<'a> IndexedFields<'a> {
    /// `block` is the header block, `nl` its line feeds (both from
    /// [`index_header`]).
    pub(crate) fn new(block: &'a [u8], nl: &'a [u32]) -> Self {
        Self {
            block,
            nl,
            pos: 0,
            k: 0,
            initials: None,
        }
    }

    /// Yields only the fields whose name starts with one of `initials`
    /// (the others are passed over without checking their name): the same
    /// fields as filtering the output by name, since skipping a field never
    /// changes where the next one starts.
    pub(crate) fn only_initials(mut self, initials: &'static [u8]) -> Self {
        self.initials = Some(initials);
        self
    }
}

impl<'a> Iterator for IndexedFields<'a> {
    type Item = RawField<'a>;

    fn next(&mut self) -> Option<RawField<'a>> {
        loop {
            let rest = self.block.get(self.pos..)?;
            if rest.is_empty() || rest.starts_with(b"\n") || rest.starts_with(b"\r\n") {
                return None;
            }
            // The end of the field: a line feed not followed by WSP.
            let field_end = loop {
                match self.nl.get(self.k) {
                    Some(&n) => {
                        let n = n as usize;
                        self.k += 1;
                        if n < self.pos {
                            continue;
                        }
                        match self.block.get(n + 1) {
                            Some(b' ' | b'\t') => {}
                            _ => break n + 1,
                        }
                    }
                    None => break self.block.len(),
                }
            };
            let field = self.block.get(self.pos..field_end)?;
            self.pos = field_end;
            if let Some(initials) = self.initials
                && !field
                    .first()
                    .is_some_and(|b| initials.iter().any(|c| c == b))
            {
                continue;
            }
            match RawField::parse(field) {
                Some(f) => return Some(f),
                None => continue,
            }
        }
    }
}

/// The raw header block: everything before the first empty line (the
/// reference for [`index_header`]).
#[cfg(test)]
pub(crate) fn header_block(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"\n") || raw.starts_with(b"\r\n") {
        return &[];
    }
    let mut from = 0usize;
    while let Some(i) = memchr::memchr(b'\n', raw.get(from..).unwrap_or_default()) {
        let nl = from + i;
        let next = raw.get(nl + 1..).unwrap_or_default();
        if next.starts_with(b"\n") || next.starts_with(b"\r\n") {
            return raw.get(..nl + 1).unwrap_or(raw);
        }
        from = nl + 1;
    }
    raw
}

/// Unfolds and trims a raw value into `out` (CR, LF and runs of white space
/// become one space). Caps the output at `max` bytes. ASCII is copied run
/// by run; from the first non-ASCII byte on, the rest is decoded as UTF-8
/// (invalid sequences become U+FFFD).
pub(crate) fn unfold_into(value: &[u8], out: &mut String, max: usize) {
    out.clear();
    if value.is_ascii() {
        if value.len() <= max {
            unfold_ascii_short(value, out);
        } else {
            unfold_ascii(value, out, max);
        }
        return;
    }
    let mut space = false;
    let mut i = 0usize;
    // ASCII: whole runs between white space are copied at once.
    loop {
        while value.get(i).is_some_and(|&b| is_ascii_ws(b)) {
            space = true;
            i += 1;
        }
        let start = i;
        while value.get(i).is_some_and(|&b| b < 0x80 && !is_ascii_ws(b)) {
            i += 1;
        }
        if i > start {
            if out.len() >= max {
                return;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            let run = value.get(start..i).unwrap_or_default();
            // The first byte always fits; the rest up to `max`.
            let k = run.len().min(max.saturating_sub(out.len()).max(1));
            out.push_str(std::str::from_utf8(run.get(..k).unwrap_or_default()).unwrap_or_default());
            if k < run.len() {
                return;
            }
        }
        match value.get(i) {
            Some(&b) if b >= 0x80 => break,
            Some(_) => {}
            None => return,
        }
    }
    if out.len() >= max {
        return;
    }
    for chunk in value.get(i..).unwrap_or_default().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if out.len() >= max {
                return;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
        if !chunk.invalid().is_empty() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push('\u{FFFD}');
        }
    }
}

/// [`unfold_into`] for an all-ASCII value of at most `max` bytes (the
/// output is never longer than the input, so the cap cannot bite): the
/// runs between white space are found eight bytes at a time and copied
/// whole, validated once.
///
/// Why: it runs on every `Received:` value; the byte loop it replaces is
/// kept as `unfold_ascii_short_reference` for the comparison test.
fn unfold_ascii_short(value: &[u8], out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    buf.reserve(value.len());
    let mut space = false;
    let mut i = 0usize;
    while let Some(&b) = value.get(i) {
        if is_ascii_ws(b) {
            space = true;
            i += 1;
            continue;
        }
        let end = next_ws(value, i + 1);
        if space && !buf.is_empty() {
            buf.push(b' ');
        }
        space = false;
        buf.extend_from_slice(value.get(i..end).unwrap_or_default());
        i = end;
    }
    // ASCII in, ASCII out: the conversion cannot fail.
    *out = String::from_utf8(buf).unwrap_or_default();
}

/// Position of the first white-space byte ([`is_ascii_ws`]) at or after
/// `from`, or the length: eight bytes at a time, looking at a byte only
/// when it is at most `b' '` (white space and other control bytes).
fn next_ws(v: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(w) = v.get(i..i + 8) {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        let x = u64::from_le_bytes(x);
        // The lowest set bit marks the first byte below 0x21 (bits above
        // it can be false positives, so only the first one is read).
        let m = x.wrapping_sub(ONES * 0x21) & !x & HIGH;
        if m != 0 {
            let k = (m.trailing_zeros() / 8) as usize;
            if v.get(i + k).is_some_and(|&b| is_ascii_ws(b)) {
                return i + k;
            }
            // A control byte that is not white space: look on after it.
            let after = i + k + 1;
            return after + next_ws_slow(v.get(after..).unwrap_or_default());
        }
        i += 8;
    }
    i + next_ws_slow(v.get(i..).unwrap_or_default())
}

/// The first white-space byte of `v` (or its length), byte by byte.
fn next_ws_slow(v: &[u8]) -> usize {
    v.iter().position(|&b| is_ascii_ws(b)).unwrap_or(v.len())
}

/// The byte loop [`unfold_ascii_short`] replaced: the oracle of its test.
#[cfg(test)]
fn unfold_ascii_short_reference(value: &[u8], out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    buf.resize(value.len(), 0);
    let mut w = 0usize;
    let mut space = false;
    for &b in value {
        if is_ascii_ws(b) {
            space = true;
            continue;
        }
        if space && w > 0 {
            if let Some(d) = buf.get_mut(w) {
                *d = b' ';
            }
            w += 1;
        }
        space = false;
        if let Some(d) = buf.get_mut(w) {
            *d = b;
        }
        w += 1;
    }
    buf.truncate(w);
    *out = String::from_utf8(buf).unwrap_or_default();
}

/// [`unfold_into`] for an all-ASCII value: the same rules, runs between
/// white space copied as bytes into the string's buffer, validated once.
fn unfold_ascii(value: &[u8], out: &mut String, max: usize) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    let mut rest = value;
    let mut space = false;
    loop {
        let ws = rest.iter().take_while(|&&b| is_ascii_ws(b)).count();
        space |= ws > 0;
        rest = rest.get(ws..).unwrap_or_default();
        let run = rest
            .iter()
            .position(|&b| is_ascii_ws(b))
            .unwrap_or(rest.len());
        if run == 0 || buf.len() >= max {
            break;
        }
        if space && !buf.is_empty() {
            buf.push(b' ');
        }
        space = false;
        // The first byte always fits; the rest up to `max`.
        let k = run.min(max.saturating_sub(buf.len()).max(1));
        buf.extend_from_slice(rest.get(..k).unwrap_or_default());
        if k < run {
            break;
        }
        rest = rest.get(run..).unwrap_or_default();
    }
    // ASCII in, ASCII out: the conversion cannot fail.
    *out = String::from_utf8(buf).unwrap_or_default();
}

/// The ASCII characters `char::is_whitespace` accepts.
#[inline]
fn is_ascii_ws(b: u8) -> bool {
    b <= b' ' && (1u64 << b) & WS_MASK != 0
}

/// Bits of `\t`, `\n`, VT, FF, `\r` and space.
const WS_MASK: u64 = (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_folding_and_crlf() {
        let raw = b"Received: from a\r\n\tby b; date\r\nSubject: hi\r\nX-Bad line\r\nTo: c\r\n\r\nFrom: body\r\n";
        let f: Vec<_> = HeaderFields::new(raw).collect();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].name, b"Received");
        assert_eq!(f[0].value, b" from a\r\n\tby b; date\r\n");
        assert_eq!(f[1].name, b"Subject");
        assert_eq!(f[2].name, b"To");
    }

    #[test]
    fn block_ends_at_empty_line() {
        assert_eq!(header_block(b"A: 1\nB: 2\n\nbody"), b"A: 1\nB: 2\n");
        assert_eq!(header_block(b"A: 1\r\n\r\nbody"), b"A: 1\r\n");
        assert_eq!(header_block(b"\nbody"), b"");
        assert_eq!(header_block(b"A: 1"), b"A: 1");
    }

    /// The index gives the same block, line count and fields as the
    /// searching walks, on real mail and on random header-like bytes.
    #[test]
    fn index_equals_the_searching_walks() {
        let mut samples: Vec<Vec<u8>> = Vec::new();
        // Without ../shared/data the random part still runs.
        let data =
            crate::test_support::shared_data("index_equals_the_searching_walks (real mail part)");
        let mut dirs: Vec<_> = data.iter().map(|d| d.join("spam")).collect();
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if samples.len() < 600
                    && let Ok(b) = std::fs::read(&p)
                {
                    samples.push(b);
                }
            }
        }
        assert!(
            data.is_none() || samples.len() >= 100,
            "real mail in ../shared/data/spam"
        );
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"ab:\n\n\r \t-X";
        for len in 0..400usize {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                v.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            samples.push(v);
        }
        samples.push(b"A: 1\n\tx\nB: 2".to_vec());
        samples.push(b"\r\nA: 1\n".to_vec());
        let mut nl = Vec::new();
        for s in &samples {
            let block = header_block(s);
            let n = index_header(s, &mut nl, usize::MAX).unwrap();
            assert_eq!(n, block.len());
            assert_eq!(nl.len(), memchr::memchr_iter(b'\n', block).count());
            let a: Vec<_> = HeaderFields::new(block).collect();
            let b: Vec<_> = IndexedFields::new(block, &nl).collect();
            assert_eq!(a, b);
            let r: Vec<_> = a.iter().filter(|f| f.name.first() == Some(&b'R')).collect();
            let c: Vec<_> = IndexedFields::new(block, &nl).only_initials(b"R").collect();
            assert_eq!(r, c.iter().collect::<Vec<_>>());
            let lines = nl.len();
            if lines > 0 {
                assert!(index_header(s, &mut nl, lines - 1).is_none());
            }
        }
    }

    /// The run-copying unfold equals the byte loop on random ASCII with
    /// every kind of white space and control byte.
    #[test]
    fn unfold_short_equals_the_byte_loop() {
        let alphabet = b"ab.-[]()\t\n\r \x0b\x0c\x01\x1f!~0";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let (mut a, mut b) = (String::new(), String::new());
        for _ in 0..50_000 {
            x = crate::test_support::xorshift(x);
            let len = (x % 90) as usize;
            let v: Vec<u8> = (0..len)
                .map(|k| {
                    let r = x.rotate_left((k * 7) as u32) ^ (k as u64).wrapping_mul(0x2545_F491);
                    alphabet[(r % alphabet.len() as u64) as usize]
                })
                .collect();
            unfold_ascii_short(&v, &mut a);
            unfold_ascii_short_reference(&v, &mut b);
            assert_eq!(a, b, "{v:?}");
        }
    }

    #[test]
    fn unfolding() {
        let mut s = String::new();
        unfold_into(b" from a\r\n\tby  b;\n date ", &mut s, 100);
        assert_eq!(s, "from a by b; date");
        unfold_into(b"abcdef", &mut s, 3);
        assert_eq!(s, "abc");
    }
}
