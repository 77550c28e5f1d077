//! The per-message input of attribution: [`MessageFeatures`], a plain
//! struct the ingest pipeline fills from what it already extracted (the
//! `messages` row, the URL hosts, the fingerprint), plus the few header
//! facts signatures need ([`HeaderSummary`], read from the raw header block
//! by [`HeaderSummary::from_raw`]).
//!
//! Everything here is owned data with no lifetimes, so a batch can be
//! built, sorted by time and handed to [`attribute_batch`](super::attribute_batch).

use std::net::IpAddr;

/// Header lines read at most (a header block of hostile size costs this much
/// and no more).
pub const MAX_HEADER_LINES: usize = 256;
/// Longest header value kept, in bytes (longer ones are cut).
const MAX_VALUE: usize = 512;

/// What attribution needs to know about one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFeatures {
    /// SHA-256 of the message bytes (the `messages` key).
    pub sha256: [u8; 32],
    /// Arrival time, Unix microseconds.
    pub time: i64,
    /// The relay that handed the message to the trap.
    pub relay_ip: Option<IpAddr>,
    /// The HELO name that relay gave.
    pub relay_helo: Option<String>,
    /// The relay's reverse name as the trap recorded it.
    pub relay_rdns: Option<String>,
    /// Address in `From:`.
    pub from_addr: Option<String>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// `Message-ID:` without angle brackets.
    pub message_id: Option<String>,
    /// Header names in order and the selected values.
    pub headers: HeaderSummary,
    /// Advertised sites: distinct registrable domains of the URL hosts, and
    /// IP-literal hosts as written (lowercase).
    pub url_domains: Vec<String>,
    /// The 16-slot MinHash content fingerprint (`None` for a body without
    /// words, whose hex form is all `f`).
    pub fingerprint: Option<[u32; 16]>,
}

/// Header facts signatures use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderSummary {
    /// Field names in the order they appear (as written).
    pub names: Vec<String>,
    /// `X-Mailer:` value, unfolded and trimmed.
    pub x_mailer: Option<String>,
    /// Top-level `Content-Type:` value, unfolded.
    pub content_type: Option<String>,
    /// Every `Received:` value, unfolded, top (the trap's own hop) first.
    pub received: Vec<String>,
    /// `List-Id:` present.
    pub list_id: bool,
    /// `List-Unsubscribe:` present.
    pub list_unsubscribe: bool,
}

impl HeaderSummary {
    /// Reads the header block of a raw message (up to the first empty line,
    /// at most [`MAX_HEADER_LINES`] lines; a leading mbox `From ` line and
    /// lines without a colon are skipped). Never panics.
    pub fn from_raw(raw: &[u8]) -> HeaderSummary {
        let mut h = HeaderSummary::default();
        let mut cur: Option<(String, String)> = None;
        let mut lines = 0usize;
        for line in raw.split(|&b| b == b'\n') {
            lines += 1;
            if lines > MAX_HEADER_LINES {
                break;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                if let Some((_, v)) = cur.as_mut()
                    && v.len() < MAX_VALUE
                {
                    v.push(' ');
                    v.push_str(String::from_utf8_lossy(line).trim());
                }
                continue;
            }
            if let Some((n, v)) = cur.take() {
                h.push(n, v);
            }
            if lines == 1 && line.starts_with(b"From ") {
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            if name.is_empty() || name.iter().any(|&b| b <= b' ' || b >= 0x7f) {
                continue;
            }
            let value = value.get(1..).unwrap_or_default();
            cur = Some((
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(value).trim().to_owned(),
            ));
        }
        if let Some((n, v)) = cur.take() {
            h.push(n, v);
        }
        h
    }

    fn push(&mut self, name: String, mut value: String) {
        if value.len() > MAX_VALUE {
            let mut end = MAX_VALUE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
        if name.eq_ignore_ascii_case("received") {
            self.received.push(value);
        } else if name.eq_ignore_ascii_case("x-mailer") {
            self.x_mailer.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("content-type") {
            self.content_type.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("list-id") {
            self.list_id = true;
        } else if name.eq_ignore_ascii_case("list-unsubscribe") {
            self.list_unsubscribe = true;
        }
        self.names.push(name);
    }

    /// Mailing-list headers present: the mark of a newsletter, which
    /// attribution never labels from bot lists or clusters.
    pub fn is_list_mail(&self) -> bool {
        self.list_id || self.list_unsubscribe
    }
}

/// Parses the 128-hex-digit fingerprint of the `messages` table; `None`
/// for a malformed string or the empty fingerprint (all `f`).
pub fn parse_fingerprint(hex: &str) -> Option<[u32; 16]> {
    let b = hex.as_bytes();
    if b.len() != 128 {
        return None;
    }
    let mut out = [0u32; 16];
    for (slot, chunk) in out.iter_mut().zip(b.chunks_exact(8)) {
        let s = std::str::from_utf8(chunk).ok()?;
        *slot = u32::from_str_radix(s, 16).ok()?;
    }
    if out.iter().all(|&s| s == u32::MAX) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_is_read_with_folding_and_stops_at_body() {
        let raw = b"From a@b Tue Nov 11 21:30:00 2008\nReceived: from x\n\tby y\nX-Mailer:  The Bat!\nno colon line\nList-Id: <a.b>\nContent-Type: multipart/alternative;\n\tboundary=\"q\"\n\nX-Mailer: body\n";
        let h = HeaderSummary::from_raw(raw);
        assert_eq!(h.names, ["Received", "X-Mailer", "List-Id", "Content-Type"]);
        assert_eq!(h.received, ["from x by y"]);
        assert_eq!(h.x_mailer.as_deref(), Some("The Bat!"));
        assert_eq!(
            h.content_type.as_deref(),
            Some("multipart/alternative; boundary=\"q\"")
        );
        assert!(h.list_id && h.is_list_mail());
    }

    #[test]
    fn hostile_header_blocks_do_not_panic() {
        for raw in [
            &b""[..],
            b"\n",
            b":",
            b"\xff\xfe: \xff",
            b" \t cont",
            b"a:\r\n\r\n",
        ] {
            let _ = HeaderSummary::from_raw(raw);
        }
        let big = "X: y\n".repeat(10_000);
        assert_eq!(
            HeaderSummary::from_raw(big.as_bytes()).names.len(),
            MAX_HEADER_LINES
        );
    }

    #[test]
    fn fingerprints_parse_and_empty_is_none() {
        let hex: String = (0..16).map(|i| format!("{i:08x}")).collect();
        let fp = parse_fingerprint(&hex).unwrap();
        assert_eq!(fp[3], 3);
        assert_eq!(parse_fingerprint(&"f".repeat(128)), None);
        assert_eq!(parse_fingerprint("abc"), None);
        assert_eq!(parse_fingerprint(&"g".repeat(128)), None);
    }
}
