//! Domain names as depeer-dnsbl keeps them: lowercase wire format (length
//! byte, label bytes, ..., without the final zero), parsed from zone-file
//! text or shown back as text.

/// Longest name in wire format including the root byte (RFC 1035 2.3.4).
pub(crate) const MAX_NAME: usize = 255;

/// Parses a dotted text name into lowercase wire format without the root
/// byte. A trailing dot is ignored (rbldnsd: "Trailing dots in domain names
/// are ignored"). Empty labels, labels over 63 bytes and names over 255
/// bytes are refused. The root itself (`.` or empty) gives an empty name.
pub(crate) fn parse_text(s: &[u8]) -> Option<Vec<u8>> {
    let s = s.strip_suffix(b".").unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() + 1);
    if s.is_empty() {
        return Some(out);
    }
    for label in s.split(|&b| b == b'.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(u8::try_from(label.len()).ok()?);
        out.extend(label.iter().map(u8::to_ascii_lowercase));
    }
    (out.len() < MAX_NAME).then_some(out)
}

/// Shows a wire-format name (without root byte) as dotted text.
pub(crate) fn to_text(wire: &[u8], out: &mut Vec<u8>) {
    let mut i = 0usize;
    while let Some(&len) = wire.get(i) {
        let label = wire
            .get(i + 1..i + 1 + usize::from(len))
            .unwrap_or_default();
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(label);
        i += 1 + usize::from(len);
    }
}

/// The name without its first label (its parent), or None at the root.
pub(crate) fn parent(wire: &[u8]) -> Option<&[u8]> {
    let &len = wire.first()?;
    wire.get(1 + usize::from(len)..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let w = parse_text(b"WWW.Example.com.").unwrap();
        assert_eq!(w, b"\x03www\x07example\x03com");
        let mut t = Vec::new();
        to_text(&w, &mut t);
        assert_eq!(t, b"www.example.com");
        assert_eq!(parent(&w).unwrap(), b"\x07example\x03com");
        assert!(parse_text(b"a..b").is_none());
        assert!(parse_text(&[b'a'; 64]).is_none());
        assert_eq!(parse_text(b".").unwrap(), b"");
    }
}
