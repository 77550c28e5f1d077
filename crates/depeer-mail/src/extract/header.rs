//! The header block of a message or MIME part (RFC 5322 section 2.2),
//! walked field by field the way mail-parser's `parse_headers` does for
//! depeer's parser configuration, but running a value parser only on the
//! fields that configuration keeps ([`PARSED_FIELDS`]) and finding field
//! ends with `memchr` (or the line feeds already indexed,
//! [`crate::headers::index_header`]).
//!
//! Why depeer owns it: mail-parser's header loop reads every field byte by
//! byte, ignored ones included (a message has about 25 fields, depeer reads
//! six), and its value parsers may run past the end of their field (its
//! date parser does after a zone of letters it does not know, `Date: 27 Jun
//! 01 3:36:25 AM`, and then swallows the `From:` line below). Here each
//! value is parsed within its own field. The values themselves are
//! mail-parser's (its name and value parsers, or the plain parsers of
//! [`super::fields`] where they give the same result).

use std::sync::LazyLock;

use mail_parser::parsers::MessageStream;
use mail_parser::{Header, HeaderName, HeaderValue};

use super::fields::{plain_address, plain_content_type, plain_date, plain_id, plain_unstructured};

/// The header fields [`super::Extractor::new`]'s parser does not ignore
/// (lowercase); [`Kind::of`] maps each to the value parser that
/// configuration gives it.
pub(super) const PARSED_FIELDS: [&[u8]; 12] = [
    b"subject",
    b"from",
    b"to",
    b"date",
    b"message-id",
    b"return-path",
    b"content-type",
    b"content-disposition",
    b"content-id",
    b"content-description",
    b"content-location",
    b"content-transfer-encoding",
];

/// The value parser of a field in [`PARSED_FIELDS`].
#[derive(Clone, Copy)]
enum Kind {
    /// `Subject`, `Content-Description`, `Content-Location`,
    /// `Content-Transfer-Encoding`.
    Unstructured,
    /// `From`, `To`.
    Address,
    /// `Date`.
    Date,
    /// `Message-ID`, `Return-Path`, `Content-ID`.
    Id,
    /// `Content-Type`.
    ContentType,
    /// `Content-Disposition`: mail-parser's content-type parser, no plain
    /// form.
    Disposition,
}

impl Kind {
    /// The parser of `PARSED_FIELDS[index]`.
    fn of(index: usize) -> Kind {
        match index {
            1 | 2 => Kind::Address,
            3 => Kind::Date,
            4 | 5 | 8 => Kind::Id,
            6 => Kind::ContentType,
            7 => Kind::Disposition,
            _ => Kind::Unstructured,
        }
    }

    /// The plain parser of [`super::fields`], where there is one.
    fn plain(self, value: &[u8]) -> Option<HeaderValue<'_>> {
        match self {
            Kind::Unstructured => plain_unstructured(value),
            Kind::Address => plain_address(value),
            Kind::Date => plain_date(value),
            Kind::Id => plain_id(value),
            Kind::ContentType => plain_content_type(value),
            Kind::Disposition => None,
        }
    }

    /// mail-parser's value parser, as its header loop calls it.
    fn parse<'x>(self, stream: &mut MessageStream<'x>) -> HeaderValue<'x> {
        match self {
            Kind::Address => stream.parse_address(),
            Kind::Date => stream.parse_date(),
            Kind::Id => stream.parse_id(),
            Kind::ContentType | Kind::Disposition => stream.parse_content_type(),
            Kind::Unstructured => stream.parse_unstructured(),
        }
    }
}

/// The `HeaderName` mail-parser's `parse_header_name` gives each of
/// [`PARSED_FIELDS`] (in any letter case); `None` when it would be
/// `HeaderName::Other`, which keeps the name's spelling, so the parser runs.
static FIELD_NAMES: LazyLock<Vec<Option<HeaderName<'static>>>> = LazyLock::new(|| {
    PARSED_FIELDS
        .iter()
        .map(|f| {
            let line = [*f, b": x\n"].concat();
            match MessageStream::new(&line).parse_header_name() {
                Some(HeaderName::Other(_)) | None => None,
                Some(n) => Some(n.into_owned()),
            }
        })
        .collect()
});

/// mail-parser's `parse_headers` for a plain header block starting at
/// `data[start..]`, keeping only the fields in [`PARSED_FIELDS`] (the
/// configured parser keeps the others with an empty value; nothing here
/// reads them); returns the offset after the empty line that ends the
/// block. `nl`, when given, holds the offsets of the block's line feeds.
///
/// `None` (and `headers` unchanged) for anything not plain: a line that is
/// not `name:` (name of letters, digits and `-`) or a continuation, a block
/// without an empty line, a value parser that does not stop exactly at the
/// end of its field (with `bounded`, only when it does not even when given
/// the field alone); the caller then runs mail-parser's own loop.
pub(super) fn lean_headers<'x>(
    data: &'x [u8],
    start: usize,
    nl: Option<&[u32]>,
    bounded: bool,
    headers: &mut Vec<Header<'x>>,
) -> Option<usize> {
    let before = headers.len();
    let mut walk = || {
        let mut pos = start;
        // Next entry of `nl` to read (entries only move forward).
        let mut k = 0usize;
        loop {
            let line = data.get(pos..)?;
            match line {
                [b'\n', ..] => return Some(pos + 1),
                [b'\r', b'\n', ..] => return Some(pos + 2),
                _ => {}
            }
            let name_len = line
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-')
                .count();
            if name_len == 0 || line.get(name_len) != Some(&b':') {
                return None;
            }
            let end = field_end(data, pos, nl, &mut k)?;
            let name = line.get(..name_len)?;
            if let Some(index) = PARSED_FIELDS
                .iter()
                .position(|f| f.len() == name_len && f.eq_ignore_ascii_case(name))
            {
                let field = Field {
                    pos,
                    name_len,
                    end,
                    index,
                };
                headers.push(parse_field(data, &field, bounded)?);
            }
            pos = end;
        }
    };
    let r = walk();
    if r.is_none() {
        headers.truncate(before);
    }
    r
}

/// The end of the field starting at `pos`: after the line break that is
/// not followed by a blank. `k` is the next entry of `nl` to read.
fn field_end(data: &[u8], pos: usize, nl: Option<&[u32]>, k: &mut usize) -> Option<usize> {
    let mut end = pos;
    loop {
        end = match nl {
            Some(nl) => loop {
                let n = *nl.get(*k)? as usize;
                *k += 1;
                if n >= end {
                    break n + 1;
                }
            },
            None => end + memchr::memchr(b'\n', data.get(end..)?)? + 1,
        };
        if !matches!(data.get(end), Some(b' ' | b'\t')) {
            return Some(end);
        }
    }
}

/// Where a field of [`PARSED_FIELDS`] is in the data.
struct Field {
    /// Start of the field name.
    pos: usize,
    name_len: usize,
    /// After the field's last line break.
    end: usize,
    /// Index in [`PARSED_FIELDS`].
    index: usize,
}

/// One field as mail-parser's header loop records it, with mail-parser's
/// own name and value parsers (or the plain ones that give the same), run
/// on the whole data so that a value parser that runs past the end of its
/// field is caught.
fn parse_field<'x>(data: &'x [u8], field: &Field, bounded: bool) -> Option<Header<'x>> {
    let Field {
        pos,
        name_len,
        end,
        index,
    } = *field;
    let kind = Kind::of(index);
    let mut stream = MessageStream::new(data);
    // The name is known: mail-parser's name parser would give the same
    // `HeaderName` and stop right after the colon.
    let header_name = match FIELD_NAMES.get(index).cloned().flatten() {
        Some(known) => {
            stream.skip_bytes(pos + name_len + 1);
            known
        }
        None => {
            stream.skip_bytes(pos);
            stream.parse_header_name()?
        }
    };
    let offset_start = stream.offset();
    let value = match kind.plain(data.get(offset_start..end)?) {
        Some(v) => v,
        None => {
            let value = kind.parse(&mut stream);
            if stream.offset() == end {
                value
            } else if bounded {
                // The value parser ran into the next field (mail-parser's
                // date parser does after a zone of letters it does not
                // know, and then loses the field below). Bounded, the same
                // parser reads the field alone and the next field is kept.
                let mut alone = MessageStream::new(data.get(..end)?);
                alone.skip_bytes(offset_start);
                let value = kind.parse(&mut alone);
                if alone.offset() != end {
                    return None;
                }
                value
            } else {
                // Unbounded: mail-parser's own loop is used (and loses that
                // field, as mail-parser does).
                return None;
            }
        }
    };
    Some(Header {
        name: header_name,
        value,
        offset_field: u32::try_from(pos).ok()?,
        offset_start: u32::try_from(offset_start).ok()?,
        offset_end: u32::try_from(end).ok()?,
    })
}
