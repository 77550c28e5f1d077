//! The lean path against mail-parser on every real message of the shared
//! test data: the whole extraction, the header walk alone, and the bounded
//! field parsing. These are the tests that make the lean path safe to own:
//! any difference from mail-parser's reading of real mail fails them.

use mail_parser::parsers::MessageStream;

use super::header::{PARSED_FIELDS, lean_headers};
use super::mime::lean_parse;
use super::sanity::sanity;
use super::tests::ctx;
use super::{Extractor, Limits};
use crate::TrustConfig;
use crate::headers::{header_block, index_header};
use crate::test_support::{XorShift, real_messages, shared_data};

/// The fast path and mail-parser's full parse agree field by field
/// (relay, subject, addresses, Message-ID, URLs and hosts, fingerprint:
/// the whole `Extracted`) on every real message.
#[test]
fn fast_path_equals_mail_parser_on_real_mail() {
    let Some(data) = shared_data("fast_path_equals_mail_parser_on_real_mail") else {
        return;
    };
    let trust = TrustConfig::default();
    let mut fast = Extractor::new();
    // Compared with mail-parser's own loop, which lets a value parser
    // run into the next field (`bounded_fields_keep_the_next_field`).
    fast.bounded = false;
    let mut full = Extractor::new();
    full.fast_path = false;
    let (mut n, mut took_fast) = (0usize, 0usize);
    for (f, raw) in real_messages(&data) {
        let c = ctx(&trust);
        let a = fast.extract(&raw.bytes, &c).map_err(|e| e.reason());
        let b = full.extract(&raw.bytes, &c).map_err(|e| e.reason());
        assert_eq!(a, b, "{}#{}", f.display(), raw.index);
        n += 1;
        let body = sanity(&raw.bytes, &c.limits).map_or(&[][..], |(s, _)| &raw.bytes[s..]);
        took_fast += usize::from(lean_parse(&fast.parser, body).is_some());
    }
    assert!(n > 4000, "{n}");
    // The comparison means something only if the fast path is common.
    assert!(took_fast * 10 > n * 9, "{took_fast} of {n}");
    eprintln!("{n} messages, {took_fast} through the fast path");
}

/// A value parser that runs past its field (mail-parser's date parser
/// after `AM`/`PM`/`UT`) no longer takes the next field with it; on
/// every real message, bounded and unbounded parsing differ only where
/// the unbounded one lost a field.
#[test]
fn bounded_fields_keep_the_next_field() {
    let trust = TrustConfig::default();
    let mut ex = Extractor::new();
    for date in ["27 Jun 01 3:36:25 AM", "Thu, 20 Jun 2002 05:53:48 UT"] {
        let raw = format!(
            "Received: from a (b [192.0.2.1]) by mx with SMTP; Wed, 27 Jun 2001 08:46:48 +0100\nDate: {date}\nFrom: chol@example.net\nSubject: hi\n\nbody\n"
        );
        let m = ex.extract(raw.as_bytes(), &ctx(&trust)).unwrap();
        assert_eq!(
            m.message.from_addr.as_deref(),
            Some("chol@example.net"),
            "{date}"
        );
        assert_eq!(m.message.subject.as_deref(), Some("hi"));
        assert!(m.message.date_header.is_some(), "{date}");
    }
    let Some(data) = shared_data("bounded_fields_keep_the_next_field (real mail)") else {
        return;
    };
    let mut unbounded = Extractor::new();
    unbounded.bounded = false;
    let (mut n, mut differ) = (0usize, 0usize);
    for (f, raw) in real_messages(&data) {
        let c = ctx(&trust);
        n += 1;
        let (Ok(a), Ok(b)) = (
            ex.extract(&raw.bytes, &c),
            unbounded.extract(&raw.bytes, &c),
        ) else {
            continue;
        };
        if a != b {
            differ += 1;
            // Only fields the unbounded parse lost are gained.
            let (x, y) = (&a.message, &b.message);
            assert!(
                y.from_addr.is_none() || x.from_addr == y.from_addr,
                "{}#{}",
                f.display(),
                raw.index
            );
            assert!(y.subject.is_none() || x.subject == y.subject);
            assert!(y.message_id.is_none() || x.message_id == y.message_id);
            assert_eq!(x.relay_ip, y.relay_ip);
            assert_eq!(x.sha256, y.sha256);
        }
    }
    assert!(
        n > 4000 && differ > 0 && differ * 100 < n,
        "{differ} of {n}"
    );
    eprintln!("{differ} of {n} messages gain a field");
}

/// Compares `lean_headers` (searching and indexed) with mail-parser's
/// `parse_headers` on one header block; whether the lean walk took it.
fn lean_headers_agree(parser: &mail_parser::MessageParser, raw: &[u8]) -> bool {
    let mut want = Vec::new();
    let mut st = MessageStream::new(raw);
    let ok = st.parse_headers(parser, &mut want);
    want.retain(|h| {
        let name = h.name.as_str().to_ascii_lowercase();
        PARSED_FIELDS.contains(&name.as_bytes())
    });
    let mut got = Vec::new();
    let lean_body = lean_headers(raw, 0, None, false, &mut got);
    // The indexed walk gives exactly the searching one's result.
    let mut nl = Vec::new();
    if index_header(raw, &mut nl, usize::MAX).is_some() {
        let mut indexed = Vec::new();
        assert_eq!(
            lean_headers(raw, 0, Some(&nl), false, &mut indexed),
            lean_body
        );
        assert_eq!(indexed, got, "{:?}", String::from_utf8_lossy(raw));
    }
    let Some(body) = lean_body else {
        assert!(got.is_empty());
        return false;
    };
    assert!(ok, "{:?}", String::from_utf8_lossy(raw));
    assert_eq!(body, st.offset(), "{:?}", String::from_utf8_lossy(raw));
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{:?}", String::from_utf8_lossy(raw));
    }
    assert_eq!(got.len(), want.len(), "{:?}", String::from_utf8_lossy(raw));
    true
}

/// `lean_headers` gives mail-parser's `parse_headers` result (every
/// non-ignored field, in order, same values and offsets, same body
/// offset) on the header block of every real message and on mutated
/// copies with the bytes header parsers react to spliced in; it must
/// take most real messages.
#[test]
fn lean_headers_equal_mail_parser_on_real_and_mutated_headers() {
    let Some(data) = shared_data("lean_headers_equal_mail_parser_on_real_and_mutated_headers")
    else {
        return;
    };
    let parser = Extractor::new().parser;
    let splice: [&[u8]; 20] = [
        b"(",
        b")",
        b"\"",
        b"<",
        b">",
        b"=?utf-8?q?caf=C3=A9?=",
        b"\r",
        b"\n ",
        b"\n",
        b":",
        b";",
        b",",
        b"\\",
        b" ",
        b"\t",
        b"\0",
        "\u{e9}".as_bytes(),
        b"\nSubject: x\n",
        b"=?",
        b"=",
    ];
    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
    let (mut n, mut lean, mut mutated) = (0usize, 0usize, 0usize);
    for (_, m) in real_messages(&data) {
        let Ok((start, _)) = sanity(&m.bytes, &Limits::default()) else {
            continue;
        };
        let raw = &m.bytes[start..];
        n += 1;
        lean += usize::from(lean_headers_agree(&parser, raw));
        let head = header_block(raw).len();
        for _ in 0..4 {
            let mut t = raw.to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(head + 1);
                let ins = splice[rng.below(splice.len())];
                t.splice(at..at, ins.iter().copied());
            }
            lean_headers_agree(&parser, &t);
            mutated += 1;
        }
    }
    assert!(n > 4000, "{n}");
    assert!(lean * 10 > n * 9, "{lean} of {n}");
    eprintln!("{n} real header blocks ({lean} lean), {mutated} mutated");
}
