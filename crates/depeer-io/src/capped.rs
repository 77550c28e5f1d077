//! The one capped reader every decompression goes through.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::IoError;

/// Limits on decompression, per input stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Stop when output exceeds `max_ratio` × compressed input ...
    pub max_ratio: u64,
    /// ... once more than `grace` bytes have been produced.
    pub grace: u64,
    /// Stop when the output exceeds this many bytes in total.
    pub max_total: u64,
}

impl Default for Limits {
    /// 500:1 after 64 MiB, 64 GiB in total. Real mail and MRT compress 4-20
    /// times; a deflate bomb reaches ~1,030:1, bzip2 and xz bombs far more.
    fn default() -> Self {
        Limits {
            max_ratio: 500,
            grace: 64 << 20,
            max_total: 64 << 30,
        }
    }
}

/// Shared count of compressed bytes consumed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<AtomicU64>);

impl Counter {
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counts the bytes read from the underlying (compressed) stream.
pub(crate) struct CountingReader<R> {
    inner: R,
    counter: Counter,
}

impl<R> CountingReader<R> {
    pub(crate) fn new(inner: R, counter: Counter) -> Self {
        Self { inner, counter }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader of decompressed bytes that fails with
/// [`IoError::DecompressLimit`] (wrapped in `std::io::Error`, see
/// [`crate::limit_error`]) once the output breaks the [`Limits`].
pub struct CappedReader<R> {
    inner: R,
    compressed: Counter,
    produced: u64,
    limits: Limits,
    check_ratio: bool,
}

impl<R> std::fmt::Debug for CappedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CappedReader")
            .field("produced", &self.produced)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CappedReader<R> {
    pub(crate) fn new(inner: R, compressed: Counter, limits: Limits, check_ratio: bool) -> Self {
        Self {
            inner,
            compressed,
            produced: 0,
            limits,
            check_ratio,
        }
    }

    /// Bytes produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let compressed = self.compressed.get();
        let over_ratio = self.check_ratio
            && self.produced > self.limits.grace
            && self.produced > compressed.saturating_mul(self.limits.max_ratio);
        if over_ratio || (self.check_ratio && self.produced > self.limits.max_total) {
            return Err(std::io::Error::other(IoError::DecompressLimit {
                decompressed: self.produced,
                compressed,
                max_ratio: self.limits.max_ratio,
                grace: self.limits.grace,
                max_total: self.limits.max_total,
            }));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use crate::{Compression, Limits, limit_error, open_decoded};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        // 256 MiB of zeros compress to ~250 KiB: ratio ~1,000:1.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let mut d = open_decoded(std::io::Cursor::new(bomb), Limits::default()).unwrap();
        assert_eq!(d.compression, Compression::Gzip);
        let mut sink = Vec::new();
        let err = d.reader.read_to_end(&mut sink).unwrap_err();
        let limit = limit_error(&err).expect("a limit error");
        assert_eq!(limit.reason(), "decompress-limit");
        assert!(sink.len() < (80 << 20), "stopped early: {}", sink.len());
    }

    #[test]
    fn ordinary_and_multi_member_gzip_read_whole() {
        let mut two = gzip(b"From a\n\nx\n");
        two.extend(gzip(b"From b\n\ny\n"));
        let mut d = open_decoded(std::io::Cursor::new(two), Limits::default()).unwrap();
        let mut s = String::new();
        d.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "From a\n\nx\nFrom b\n\ny\n");
    }

    #[test]
    fn plain_passes_through() {
        let mut d =
            open_decoded(std::io::Cursor::new(b"hello".to_vec()), Limits::default()).unwrap();
        assert_eq!(d.compression, Compression::None);
        let mut s = String::new();
        d.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn every_format_decodes_and_truncation_is_an_error_not_a_panic() {
        let text = b"From x Tue Nov 11 21:30:00 2008\nSubject: hi\n\nbody\n".repeat(200);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&text).unwrap();
        let bz = bz.finish().unwrap();
        let zs = zstd::encode_all(&text[..], 3).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&text).unwrap();
        let xz = xz.finish().unwrap();
        for (data, c) in [
            (gzip(&text), Compression::Gzip),
            (bz, Compression::Bzip2),
            (zs, Compression::Zstd),
            (xz, Compression::Xz),
        ] {
            let mut d =
                open_decoded(std::io::Cursor::new(data.clone()), Limits::default()).unwrap();
            assert_eq!(d.compression, c);
            let mut out = Vec::new();
            d.reader.read_to_end(&mut out).unwrap();
            assert_eq!(out, text, "{c:?}");
            // Cut in the middle: some bytes, then an error; never a panic.
            let cut = data[..data.len() / 2].to_vec();
            let mut d = open_decoded(std::io::Cursor::new(cut), Limits::default()).unwrap();
            let mut out = Vec::new();
            assert!(
                d.reader.read_to_end(&mut out).is_err(),
                "{c:?} truncated must fail"
            );
            assert!(out.len() < text.len());
        }
    }
}
