//! Header field values: the fast value parsers the lean header walk
//! ([`super::header`]) runs before mail-parser's, one file per field
//! family as in mail-parser's `src/parsers/fields/`, and the reading of the
//! fields depeer stores from a parsed message.
//!
//! Each `plain_*` parser takes a field value (from after the colon to the
//! end of the field, its final line break included), answers only for the
//! plain shapes nearly every field of bulk mail has, and then gives exactly
//! the `HeaderValue` mail-parser's parser gives (each file has a randomized
//! test against mail-parser); for anything else it answers `None` and
//! mail-parser's parser runs. They exist because mail-parser's parsers are
//! general state machines that build a token per byte run, and these fields
//! are read on every message.

mod address;
mod content_type;
mod date;
mod id;
mod unstructured;

use mail_parser::{GetHeader, HeaderName, Message};

pub(super) use address::{first_addr, from_addr, plain_address};
pub(super) use content_type::plain_content_type;
pub(super) use date::{date_header, plain_date};
pub(super) use id::plain_id;
pub(super) use unstructured::{plain_unstructured, subject};

use super::clean;

/// The raw value of the top-level header field `name` (bytes after the
/// colon, line breaks included).
fn raw_field<'m>(msg: &'m Message<'_>, name: HeaderName<'static>) -> Option<&'m [u8]> {
    let h = msg.parts.first()?.headers.header(name)?;
    msg.raw_message
        .get(h.offset_start as usize..h.offset_end as usize)
}

/// The envelope sender: the topmost `Return-Path:`. The trap's own
/// delivery wrote it; lower ones come from earlier deliveries (mailing
/// lists, forwarders), and mail-parser's accessor returns the last.
pub(super) fn envelope_from(msg: &Message<'_>) -> Option<String> {
    msg.parts
        .first()
        .and_then(|p| p.headers.iter().find(|h| h.name == HeaderName::ReturnPath))
        .and_then(|h| h.value.as_text())
        .and_then(|rp| clean(rp, 512))
}

/// One line of a field value, without its line break and surrounding
/// blanks; `None` when the field is folded.
fn single_line(value: &[u8]) -> Option<&[u8]> {
    let line = value.strip_suffix(b"\n").unwrap_or(value);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if memchr::memchr2(b'\n', b'\r', line).is_some() {
        return None;
    }
    Some(line.trim_ascii())
}

/// A byte class table: `true` for the bytes from `first` to `last`
/// (inclusive) except those in `except`. Built at compile time.
// Every index is a byte value into a table of 256 or a loop counter below
// its slice's length; in a `const` item an out-of-range index would fail
// the build.
#[allow(clippy::indexing_slicing)]
const fn byte_class(first: u8, last: u8, except: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = first as usize;
    while i <= last as usize {
        t[i] = true;
        i += 1;
    }
    let mut k = 0usize;
    while k < except.len() {
        t[except[k] as usize] = false;
        k += 1;
    }
    t
}

/// Whether `b` is in the byte class `table` (see [`byte_class`]).
fn in_class(table: &[bool; 256], b: u8) -> bool {
    table.get(usize::from(b)).copied().unwrap_or(false)
}

/// The comparison of a plain parser with mail-parser's, for the randomized
/// tests of each field family.
#[cfg(test)]
mod oracle {
    use mail_parser::HeaderValue;
    use mail_parser::parsers::MessageStream;

    use crate::test_support::XorShift;

    /// A source of random numbers below its argument.
    pub(super) type Next<'a> = &'a mut dyn FnMut(usize) -> usize;

    /// Appends fewer than `max` random pieces to `v`.
    pub(super) fn push_pieces(v: &mut Vec<u8>, pieces: &[&[u8]], max: usize, next: Next<'_>) {
        for _ in 0..next(max) {
            v.extend_from_slice(pieces[next(pieces.len())]);
        }
    }

    /// Runs `rounds` field values built by `make` (`None`: skip the round)
    /// from a random source seeded with `seed` through [`agrees`]; returns
    /// how many `plain` answered.
    pub(super) fn check(
        seed: u64,
        rounds: usize,
        mut make: impl FnMut(Next<'_>) -> Option<Vec<u8>>,
        plain: impl Fn(&[u8]) -> Option<HeaderValue<'_>>,
        parse: impl for<'a> Fn(&mut MessageStream<'a>) -> HeaderValue<'a>,
    ) -> usize {
        let mut rng = XorShift::new(seed);
        let mut next = |n: usize| rng.below(n);
        let mut answered = 0;
        for _ in 0..rounds {
            if let Some(v) = make(&mut next) {
                answered += usize::from(agrees(&v, &plain, &parse));
            }
        }
        answered
    }

    /// Whether `plain` answers for the field value `v`; when it does,
    /// mail-parser's `parse` must give the same value and stop at the end of
    /// the field.
    fn agrees<'x>(
        v: &'x [u8],
        plain: impl Fn(&'x [u8]) -> Option<HeaderValue<'x>>,
        parse: impl Fn(&mut MessageStream<'x>) -> HeaderValue<'x>,
    ) -> bool {
        let Some(got) = plain(v) else {
            return false;
        };
        let mut st = MessageStream::new(v);
        assert_eq!(got, parse(&mut st), "{:?}", String::from_utf8_lossy(v));
        assert_eq!(st.offset(), v.len(), "{:?}", String::from_utf8_lossy(v));
        true
    }
}
