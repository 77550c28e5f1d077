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
            let Some(name) = field_name(field) else {
                // Not a field (garbage line inside the header): skip it, as
                // MUAs do.
                continue;
            };
            let value = field.get(name.len()..)?;
            let value = match memchr::memchr(b':', value) {
                Some(i) => value.get(i + 1..)?,
                None => value,
            };
            return Some(RawField { name, value });
        }
    }
}

/// The raw header block: everything before the first empty line.
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
/// output is never longer than the input, so the cap cannot bite): one
/// branch-light pass writing into the string's buffer, validated once.
fn unfold_ascii_short(value: &[u8], out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.clear();
    buf.resize(value.len(), 0);
    // Each space written replaces at least one white-space byte read, so
    // `w` never passes the number of bytes read.
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

    #[test]
    fn unfolding() {
        let mut s = String::new();
        unfold_into(b" from a\r\n\tby  b;\n date ", &mut s, 100);
        assert_eq!(s, "from a by b; date");
        unfold_into(b"abcdef", &mut s, 3);
        assert_eq!(s, "abc");
    }
}
