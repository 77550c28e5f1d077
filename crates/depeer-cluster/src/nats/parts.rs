//! Cutting objects into parts that fit the server's maximum payload, and
//! putting them back together.
//!
//! Plain MRT files are cut between records (each part is whole records,
//! a record larger than a part alone and cut), feed and as2org files
//! between lines; compressed files, whose record boundaries are not
//! visible without decoding them, between bytes. Parts are only a way to
//! carry a file: the worker joins them and checks the SHA-256 before
//! anything reads the file.

use std::ops::Range;

use crate::nats::wire::JobKind;

/// Room left for headers and protocol overhead in every message.
pub(crate) const HEADROOM: usize = 8 << 10;

/// The largest part for a server whose maximum payload is `max_payload`.
pub(crate) fn part_limit(max_payload: usize) -> usize {
    max_payload.saturating_sub(HEADROOM).max(1024)
}

/// Whether `bytes` start with the magic of a compression format the
/// readers decode (gzip, bzip2, xz, zstd).
fn compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
        || bytes.starts_with(b"BZh")
        || bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

/// The parts of a file of `kind`, each at most `limit` bytes, covering it
/// in order. An empty file has one empty part.
pub(crate) fn split(bytes: &[u8], limit: usize, kind: JobKind) -> Vec<Range<usize>> {
    let limit = limit.max(1);
    if bytes.len() <= limit {
        return std::iter::once(0..bytes.len()).collect();
    }
    if compressed(bytes) {
        return by_bytes(0, bytes.len(), limit);
    }
    match kind {
        JobKind::Mrt => by_records(bytes, limit),
        _ => by_lines(bytes, limit),
    }
}

fn by_bytes(start: usize, end: usize, limit: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let e = (s + limit).min(end);
        out.push(s..e);
        s = e;
    }
    out
}

/// MRT: a 12-byte header whose last four bytes are the length of what
/// follows. Whole records per part; what does not frame goes by bytes.
fn by_records(bytes: &[u8], limit: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut pos) = (0usize, 0usize);
    while pos < bytes.len() {
        let len = bytes
            .get(pos + 8..pos + 12)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_be_bytes(b) as usize);
        let end = match len.map(|l| pos + 12 + l) {
            Some(end) if end <= bytes.len() => end,
            // Not framable: the rest goes as bytes.
            _ => {
                if start < pos {
                    out.push(start..pos);
                }
                out.extend(by_bytes(pos, bytes.len(), limit));
                return out;
            }
        };
        if end - start > limit && start < pos {
            out.push(start..pos);
            start = pos;
        }
        if end - start > limit {
            // One record larger than a part.
            out.extend(by_bytes(start, end, limit));
            start = end;
        }
        pos = end;
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

/// Lines: each part ends after a newline where there is one within reach.
fn by_lines(bytes: &[u8], limit: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut s = 0usize;
    while s < bytes.len() {
        let hard = (s + limit).min(bytes.len());
        let e = if hard == bytes.len() {
            hard
        } else {
            bytes
                .get(s..hard)
                .and_then(memchr_last_newline)
                .map_or(hard, |i| s + i + 1)
        };
        out.push(s..e);
        s = e;
    }
    out
}

fn memchr_last_newline(w: &[u8]) -> Option<usize> {
    w.iter().rposition(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(len: usize, fill: u8) -> Vec<u8> {
        let mut r = vec![0u8; 8];
        r.extend_from_slice(&(len as u32).to_be_bytes());
        r.extend(std::iter::repeat_n(fill, len));
        r
    }

    fn covers(parts: &[Range<usize>], n: usize, limit: usize) {
        let mut at = 0;
        for p in parts {
            assert_eq!(p.start, at);
            assert!(p.end - p.start <= limit, "{p:?}");
            at = p.end;
        }
        assert_eq!(at, n);
    }

    #[test]
    fn mrt_parts_are_whole_records() {
        let mut f = Vec::new();
        let mut bounds = vec![0];
        for i in 0..50 {
            f.extend(record(10 + i * 3, i as u8));
            bounds.push(f.len());
        }
        let parts = split(&f, 300, JobKind::Mrt);
        covers(&parts, f.len(), 300);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(
                bounds.contains(&p.start) && bounds.contains(&p.end),
                "{p:?}"
            );
        }
        // A record larger than a part is cut; the others stay whole.
        let mut g = record(20, 1);
        g.extend(record(1000, 2));
        g.extend(record(20, 3));
        covers(&split(&g, 300, JobKind::Mrt), g.len(), 300);
        // Garbage goes by bytes.
        let junk = vec![0xffu8; 1000];
        covers(&split(&junk, 300, JobKind::Mrt), 1000, 300);
    }

    #[test]
    fn feed_parts_end_at_lines() {
        let text: String = (0..200).map(|i| format!("line {i},x\n")).collect();
        let parts = split(text.as_bytes(), 100, JobKind::Feed);
        covers(&parts, text.len(), 100);
        for p in &parts {
            assert_eq!(text.as_bytes()[p.end - 1], b'\n');
        }
        let long = "x".repeat(250);
        covers(&split(long.as_bytes(), 100, JobKind::Feed), 250, 100);
        let empty = split(b"", 100, JobKind::Feed);
        assert_eq!((empty.len(), empty.first()), (1, Some(&(0..0))));
    }

    #[test]
    fn compressed_files_go_by_bytes() {
        let mut gz = vec![0x1f, 0x8b];
        gz.extend(vec![b'\n'; 500]);
        let parts = split(&gz, 100, JobKind::Feed);
        covers(&parts, gz.len(), 100);
        assert_eq!(parts.len(), 6);
    }
}
