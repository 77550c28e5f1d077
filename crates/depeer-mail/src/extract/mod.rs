//! One raw message into observations: [`MessageObs`] and its [`UrlObs`].
//!
//! This module owns the order of the steps and the caps; each step lives in
//! its own file:
//!
//! * [`sanity`]: whether the bytes can be mail at all (size, control bytes,
//!   a header line), after a leading mbox `From ` line or batched SMTP;
//! * the `Received:` chain ([`relay_chain`](crate::relay_chain)), read from
//!   the header block indexed once ([`crate::headers`]);
//! * MIME: [`mime`] walks the common structures itself (the lean path),
//!   with [`header`] and [`fields`] for the header block and its values,
//!   [`body`], [`base64`] and [`charset`] for part bodies; anything else is
//!   parsed in full by mail-parser and read by [`parts`];
//! * the URL scan ([`UrlSet`]) and the fingerprint ([`Fingerprinter`]) of
//!   each decoded text part.
//!
//! Why depeer owns a MIME walker while it depends on mail-parser: mail-parser's
//! public API parses a whole message or nothing. It decodes every part
//! (attachments included, which depeer never reads), converts every text
//! part through its charset table even when the bytes are ASCII, reads every
//! header field byte by byte even when told to ignore it, and lets a field's
//! value parser run into the next field. depeer reads five fields and the
//! text parts of millions of spam messages, so the lean path reuses
//! mail-parser's public pieces (`MessageStream`, its field parsers, its
//! transfer and charset decoders) and replaces only the loops it does not
//! need, each one compared with mail-parser's own result by a test
//! (`real_mail_tests` on every message of `../shared/data`, randomized
//! oracle tests in each module). What it does not reproduce exactly goes to
//! `MessageParser::parse`.
//!
//! Caps (each gives a [`MailError`] with a stable reason, or a documented
//! degradation): message size ([`Limits::max_message_size`], `oversize`),
//! header lines ([`Limits::max_header_lines`], `too-many-headers`), MIME
//! structure ([`Limits::max_mime_boundaries`] `boundary=` parameters or
//! [`Limits::max_mime_parts`] delimiter lines: beyond them the body is not
//! MIME-parsed but scanned as raw text, so a multipart nested 100,000 deep
//! costs one linear pass).

mod base64;
mod body;
mod charset;
mod fields;
mod header;
mod mime;
mod parts;
#[cfg(test)]
mod real_mail_tests;
mod sanity;

use std::cell::RefCell;

use depeer_core::{ArrivalSource, MessageObs, SourceRef, Timestamp, UrlObs};
use mail_parser::{HeaderName, Message, MessageParser};
use sha2::{Digest, Sha256};

use crate::MailError;
use crate::fingerprint::Fingerprinter;
use crate::framing::parse_from_line;
use crate::headers::{IndexedFields, index_header};
use crate::relay::{RELAY_INITIALS, RelayInfo, relay_chain_fields};
use crate::trust::TrustConfig;
use crate::url::{UrlSet, registrable_domain};

use mime::{LeanTexts, lean_parse_indexed};
use sanity::sanity;

/// Per-message caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, in bytes (default 64 MiB).
    pub max_message_size: u64,
    /// Most header lines accepted (default 20,000).
    pub max_header_lines: usize,
    /// Beyond this many `boundary=` parameters the body is scanned as raw
    /// text instead of MIME-parsed (default 256).
    pub max_mime_boundaries: usize,
    /// Beyond this many lines starting with `--` likewise (default 20,000).
    pub max_mime_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: crate::framing::DEFAULT_MAX_MESSAGE_SIZE,
            max_header_lines: 20_000,
            max_mime_boundaries: 256,
            max_mime_parts: 20_000,
        }
    }
}

/// What [`extract`] needs besides the bytes.
#[derive(Debug, Clone)]
pub struct ExtractContext<'a> {
    /// Which relays belong to the trap.
    pub trust: &'a TrustConfig,
    /// Where the message was read.
    pub source: SourceRef,
    /// The date on the mbox `From ` line, if any.
    pub mbox_from_time: Option<Timestamp>,
    /// The sender on the mbox `From ` line, if any.
    pub envelope_sender: Option<String>,
    /// Modification time of the file the message came from.
    pub file_time: Option<Timestamp>,
    /// Now: the last-resort arrival time, and the upper bound of plausible
    /// `Received:` dates (one day of clock skew allowed).
    pub ingest_time: Timestamp,
    /// Caps.
    pub limits: Limits,
}

impl<'a> ExtractContext<'a> {
    /// A context with no mbox or file information and default limits.
    pub fn new(trust: &'a TrustConfig, source: SourceRef, ingest_time: Timestamp) -> Self {
        Self {
            trust,
            source,
            mbox_from_time: None,
            envelope_sender: None,
            file_time: None,
            ingest_time,
            limits: Limits::default(),
        }
    }
}

/// The observations of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// The `messages` row.
    pub message: MessageObs,
    /// The `message_urls` rows (distinct URLs, in order of discovery).
    pub urls: Vec<UrlObs>,
}

/// Reusable state: the configured MIME parser and scratch buffers. One per
/// thread; [`extract`] keeps one in a thread-local.
#[derive(Debug)]
pub struct Extractor {
    parser: MessageParser,
    /// Each header field's value is parsed within its field
    /// ([`header::lean_headers`]); `false` only in tests that compare with
    /// mail-parser's own loop.
    bounded: bool,
    urls: UrlSet,
    fp: Fingerprinter,
    /// Use the lean path when it applies (off only in the test that
    /// compares it with mail-parser's full parse).
    fast_path: bool,
    /// `boundary=`, `BOUNDARY=` and `\n--`, built once.
    boundary_lower: memchr::memmem::Finder<'static>,
    boundary_upper: memchr::memmem::Finder<'static>,
    delimiter: memchr::memmem::Finder<'static>,
    /// Line feeds of the current header block ([`index_header`]).
    nl: Vec<u32>,
}

impl Default for Extractor {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    static EXTRACTOR: RefCell<Extractor> = RefCell::new(Extractor::new());
}

/// Extracts the observations of one raw message (see [`Extractor::extract`]),
/// with a thread-local [`Extractor`].
pub fn extract(raw: &[u8], ctx: &ExtractContext<'_>) -> Result<Extracted, MailError> {
    EXTRACTOR.with(|e| match e.try_borrow_mut() {
        Ok(mut ex) => ex.extract(raw, ctx),
        // Re-entrant use (cannot happen today): use a fresh extractor.
        Err(_) => Extractor::new().extract(raw, ctx),
    })
}

/// Earliest plausible arrival: 1990-01-01.
const EARLIEST: Timestamp = Timestamp::from_secs(631_152_000);
const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// `s` trimmed, cut to at most `max` bytes on a character boundary, NUL
/// bytes replaced; `None` when nothing is left.
fn clean(s: &str, max: usize) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut end = t.len().min(max);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    let t = t.get(..end).unwrap_or_default();
    // `replace` builds through its pattern machinery even when there is
    // nothing to replace (the common case): copy then.
    Some(if memchr::memchr(0, t.as_bytes()).is_none() {
        t.to_owned()
    } else {
        t.replace('\0', "\u{FFFD}")
    })
}

/// Position of the first `a` followed by `b` in `hay`. For the two-byte
/// needles here (`--`, `=?`) this is cheaper than `memmem::find`, which
/// builds a searcher on every call.
fn find_pair(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    memchr::memchr_iter(a, hay).find(|&i| hay.get(i + 1) == Some(&b))
}

/// When the message arrived, and how that was learned; with the envelope
/// sender of the mbox `From ` line.
struct Arrival {
    time: Timestamp,
    source: ArrivalSource,
    mbox_sender: Option<String>,
}

/// Arrival time, best first: the trap's own `Received:` hop (if its date
/// is after 1990 and at most a day after the ingest time), the mbox `From `
/// line (given, else the one leading the message), the file time, the
/// ingest time.
fn arrival(ctx: &ExtractContext<'_>, from_line: Option<&[u8]>, relay: &RelayInfo) -> Arrival {
    let (from_line_sender, from_line_time) = match from_line {
        Some(l) => parse_from_line(l),
        None => (None, None),
    };
    let mbox_from_time = ctx.mbox_from_time.or(from_line_time);
    let mbox_sender = ctx.envelope_sender.clone().or(from_line_sender);
    let latest = Timestamp(ctx.ingest_time.0.saturating_add(DAY_MICROS));
    let plausible = |t: &Timestamp| *t >= EARLIEST && *t <= latest;
    let (time, source) = if let Some(t) = relay.trap_hop_time.filter(plausible) {
        (t, ArrivalSource::Received)
    } else if let Some(t) = mbox_from_time {
        (t, ArrivalSource::MboxFrom)
    } else if let Some(t) = ctx.file_time {
        (t, ArrivalSource::FileTime)
    } else {
        (ctx.ingest_time, ArrivalSource::IngestTime)
    };
    Arrival {
        time,
        source,
        mbox_sender,
    }
}

impl Extractor {
    /// A fresh extractor.
    pub fn new() -> Self {
        // `header::lean_headers` mirrors this configuration
        // (`header::PARSED_FIELDS` and its value parsers): change both
        // together (a unit test compares).
        let parser = MessageParser::new()
            .with_mime_headers()
            .header_date(HeaderName::Date)
            .header_text(HeaderName::Subject)
            .header_address(HeaderName::From)
            .header_address(HeaderName::To)
            .header_id(HeaderName::MessageId)
            .header_id(HeaderName::ReturnPath)
            .default_header_ignore();
        Self {
            parser,
            urls: UrlSet::new(),
            fp: Fingerprinter::new(),
            fast_path: true,
            bounded: true,
            boundary_lower: memchr::memmem::Finder::new(b"boundary="),
            boundary_upper: memchr::memmem::Finder::new(b"BOUNDARY="),
            delimiter: memchr::memmem::Finder::new(b"\n--"),
            nl: Vec::new(),
        }
    }

    /// Extracts the observations of one raw message.
    ///
    /// Arrival time, best first: the trap's own `Received:` hop (if its date
    /// is after 1990 and at most a day after `ingest_time`), the mbox `From `
    /// line, the file time, the ingest time.
    pub fn extract(
        &mut self,
        raw: &[u8],
        ctx: &ExtractContext<'_>,
    ) -> Result<Extracted, MailError> {
        let (start, from_line) = sanity(raw, &ctx.limits)?;
        let body_raw = raw.get(start..).unwrap_or_default();
        // One pass finds the header block and its line feeds; the relay
        // walk and the field parser read them (`index_header`).
        let mut nl = std::mem::take(&mut self.nl);
        let Some(header_len) = index_header(body_raw, &mut nl, ctx.limits.max_header_lines) else {
            self.nl = nl;
            return Err(MailError::TooManyHeaders {
                cap: ctx.limits.max_header_lines,
            });
        };
        let header = body_raw.get(..header_len).unwrap_or_default();

        // The relay reads only `Received:` and `X-...` fields.
        let relay = relay_chain_fields(
            IndexedFields::new(header, &nl).only_initials(RELAY_INITIALS),
            ctx.trust,
        );
        let sha256: [u8; 32] = Sha256::digest(raw).into();
        let arrival = arrival(ctx, from_line, &relay);

        let degraded = self.degraded(body_raw, header_len, &ctx.limits);
        self.fp.reset();
        let _ = self.urls.take();
        let lean = if degraded || !self.fast_path {
            None
        } else {
            lean_parse_indexed(&self.parser, body_raw, Some(&nl), self.bounded)
        };
        self.nl = nl;
        let (parsed, lean_texts) = match lean {
            Some((m, texts)) => (Some(m), Some(texts)),
            None if degraded => (self.parser.parse_headers(body_raw), None),
            None => (self.parser.parse(body_raw), None),
        };
        let Some(msg) = parsed else {
            return Err(MailError::NoHeader {
                first_line: String::new(),
            });
        };

        let subject = fields::subject(&msg);
        if let Some(s) = &subject {
            self.urls.scan_text(s);
        }
        let body = if degraded {
            Body::Raw(body_raw.get(header_len..).unwrap_or_default())
        } else if let Some(texts) = &lean_texts {
            Body::Lean(texts)
        } else {
            Body::Parsed
        };
        self.scan_body(&msg, body, body_raw, header_len);

        let urls = self.url_rows(sha256);
        let hop = relay.first_untrusted.as_ref();
        let hop_name = |name: Option<&String>| name.and_then(|s| clean(s, 255));
        let message = MessageObs {
            sha256,
            arrival_time: arrival.time,
            arrival_source: arrival.source,
            relay_ip: hop.and_then(|h| h.from_ip),
            relay_helo: hop_name(hop.and_then(|h| h.from_helo.as_ref())),
            relay_rdns: hop_name(hop.and_then(|h| h.from_rdns.as_ref())),
            envelope_from: fields::envelope_from(&msg).or(arrival.mbox_sender),
            from_addr: fields::from_addr(&msg),
            to_addr: fields::first_addr(msg.to()),
            subject,
            message_id: msg.message_id().and_then(|s| clean(s, 998)),
            date_header: fields::date_header(&msg),
            size: raw.len() as u64,
            fingerprint: self.fp.hex(),
            url_count: u32::try_from(urls.len()).unwrap_or(u32::MAX),
            source: ctx.source.clone(),
        };
        Ok(Extracted { message, urls })
    }

    /// Whether the body has more MIME structure than the caps allow (it is
    /// then scanned as raw text).
    fn degraded(&self, body_raw: &[u8], header_len: usize, limits: &Limits) -> bool {
        let body = body_raw.get(header_len..).unwrap_or_default();
        // Occurrences of these patterns cannot overlap, so a text shorter
        // than (cap + 1) patterns cannot exceed the cap: no need to count.
        let boundaries = if body_raw.len() / 9 <= limits.max_mime_boundaries {
            0
        } else {
            self.boundary_lower.find_iter(body_raw).count()
                + self.boundary_upper.find_iter(body_raw).count()
        };
        let delimiters = if body.len() / 3 <= limits.max_mime_parts {
            0
        } else {
            self.delimiter.find_iter(body).count()
        };
        boundaries > limits.max_mime_boundaries || delimiters > limits.max_mime_parts
    }

    /// URLs and fingerprint words of the message body.
    fn scan_body(
        &mut self,
        msg: &Message<'_>,
        body: Body<'_, '_>,
        body_raw: &[u8],
        header_len: usize,
    ) {
        let (urls, fp) = (&mut self.urls, &mut self.fp);
        if let Body::Raw(raw) = body {
            let text = String::from_utf8_lossy(raw);
            urls.scan_text(&text);
            fp.add_text(&text);
        } else if let Some(patched) = parts::recover_boundary(msg, body_raw, header_len) {
            // Ratware that declares one boundary and writes another: the
            // parts are read with the boundary the body uses.
            match self.parser.parse(&patched) {
                Some(m) => parts::walk_parts(&m, urls, fp),
                None => parts::walk_parts(msg, urls, fp),
            }
        } else if let Body::Lean(texts) = body {
            for (text, html) in texts {
                parts::scan_part(text, *html, urls, fp);
            }
        } else {
            parts::walk_parts(msg, urls, fp);
        }
    }

    /// The `message_urls` rows of the URLs found.
    fn url_rows(&mut self, sha256: [u8; 32]) -> Vec<UrlObs> {
        self.urls
            .take()
            .into_iter()
            .map(|u| UrlObs {
                sha256,
                registrable_domain: registrable_domain(&u.host, u.is_ip),
                url: u.url,
                host: u.host,
            })
            .collect()
    }
}

/// How the body is read: as raw text (beyond the MIME caps), as the text
/// parts the lean path decoded, or from mail-parser's full parse.
enum Body<'b, 't> {
    Raw(&'b [u8]),
    Lean(&'t LeanTexts<'b>),
    Parsed,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn ctx(trust: &TrustConfig) -> ExtractContext<'_> {
        ExtractContext::new(
            trust,
            SourceRef::new("t.eml", 0, 0),
            Timestamp::parse("2009-01-01").unwrap(),
        )
    }

    /// The hosts of the URLs `extract` finds in `raw`.
    pub(super) fn hosts(raw: &[u8]) -> Vec<String> {
        let trust = TrustConfig::default();
        extract(raw, &ctx(&trust))
            .unwrap()
            .urls
            .into_iter()
            .map(|u| u.host)
            .collect()
    }

    #[test]
    fn a_plain_spam() {
        let raw = b"Return-Path: <bounce@spammer.example>\r\n\
Received: from bot.example (dsl-7.example.net [198.51.100.7]) by mx.trap.example (Postfix) with SMTP id 1; Tue, 11 Nov 2008 21:30:00 +0000\r\n\
From: \"Pharmacy\" <sales@pills.example>\r\n\
To: victim@trap.example, other@trap.example\r\n\
Subject: =?utf-8?q?Cheap_p=C3=AFlls?=\r\n\
Message-ID: <abc@pills.example>\r\n\
Date: Tue, 11 Nov 2008 13:29:00 -0800\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n\
<a href=3D\"http://www.pills.example/buy?id=3D7\">click</a> or http://0xD0420C0A/x\r\n";
        let trust = TrustConfig::default();
        let e = extract(raw, &ctx(&trust)).unwrap();
        let m = &e.message;
        assert_eq!(m.relay_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(m.relay_helo.as_deref(), Some("bot.example"));
        assert_eq!(m.relay_rdns.as_deref(), Some("dsl-7.example.net"));
        assert_eq!(m.arrival_source, ArrivalSource::Received);
        assert_eq!(m.arrival_time.to_rfc3339(), "2008-11-11T21:30:00Z");
        assert_eq!(m.envelope_from.as_deref(), Some("bounce@spammer.example"));
        assert_eq!(m.from_addr.as_deref(), Some("sales@pills.example"));
        assert_eq!(m.to_addr.as_deref(), Some("victim@trap.example"));
        assert_eq!(m.subject.as_deref(), Some("Cheap pïlls"));
        assert_eq!(m.message_id.as_deref(), Some("abc@pills.example"));
        assert_eq!(m.date_header.unwrap().to_rfc3339(), "2008-11-11T21:29:00Z");
        assert_eq!(m.size, raw.len() as u64);
        assert_eq!(m.url_count, 2);
        let urls: Vec<_> = e
            .urls
            .iter()
            .map(|u| {
                (
                    u.url.as_str(),
                    u.host.as_str(),
                    u.registrable_domain.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            urls,
            [
                (
                    "http://www.pills.example/buy?id=7",
                    "www.pills.example",
                    Some("pills.example")
                ),
                ("http://208.66.12.10/x", "208.66.12.10", None)
            ]
        );
    }

    #[test]
    fn the_topmost_return_path_is_the_envelope_sender() {
        // A list message delivered to the trap: the trap's delivery wrote
        // the first Return-Path, the list's delivery the second.
        let raw = b"Return-Path: <list-bounces@lists.example>\n\
Received: from mx.lists.example (mx.lists.example [198.51.100.9]) by mx.trap.example with ESMTP; Tue, 11 Nov 2008 21:30:00 +0000\n\
Return-Path: <earlier@origin.example>\n\
From: a@origin.example\n\
Subject: s\n\n\
body\n";
        let trust = TrustConfig::default();
        let e = extract(raw, &ctx(&trust)).unwrap();
        assert_eq!(
            e.message.envelope_from.as_deref(),
            Some("list-bounces@lists.example")
        );
    }

    #[test]
    fn arrival_falls_back_in_order() {
        let trust = TrustConfig::default();
        let mut c = ctx(&trust);
        let raw = b"Subject: x\n\nbody\n";
        assert_eq!(
            extract(raw, &c).unwrap().message.arrival_source,
            ArrivalSource::IngestTime
        );
        c.file_time = Some(Timestamp::from_secs(1_000_000_000));
        assert_eq!(
            extract(raw, &c).unwrap().message.arrival_source,
            ArrivalSource::FileTime
        );
        c.mbox_from_time = Some(Timestamp::from_secs(1_100_000_000));
        let m = extract(raw, &c).unwrap().message;
        assert_eq!(
            (m.arrival_source, m.arrival_time.secs()),
            (ArrivalSource::MboxFrom, 1_100_000_000)
        );
        // A Received date in the future is not plausible.
        let raw = b"Received: from a (b [198.51.100.1]) by c with SMTP; Tue, 11 Nov 2031 21:30:00 +0000\nSubject: x\n\nbody\n";
        assert_eq!(
            extract(raw, &c).unwrap().message.arrival_source,
            ArrivalSource::MboxFrom
        );
    }

    #[test]
    fn leading_from_line_gives_sender_and_time() {
        let trust = TrustConfig::default();
        let raw = b"From bounce@x.example Thu Aug 22 12:36:23 2002\nSubject: x\n\nbody\n";
        let m = extract(raw, &ctx(&trust)).unwrap().message;
        assert_eq!(m.envelope_from.as_deref(), Some("bounce@x.example"));
        assert_eq!(m.arrival_source, ArrivalSource::MboxFrom);
    }

    #[test]
    fn multipart_without_boundary_is_read_as_text() {
        let raw = b"From: a@b.example\nSubject: x\nContent-Type: multipart/mixed;\n\tbo\n\nvisit http://kept.example/ now\n";
        assert_eq!(hosts(raw), ["kept.example"]);
    }

    #[test]
    fn structure_beyond_the_caps_is_scanned_as_text() {
        let trust = TrustConfig::default();
        let mut c = ctx(&trust);
        c.limits.max_mime_parts = 2;
        let raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhttp://one.example/\n--b\n\n--b\n\nhttp://two.example/\n--b--\n";
        let e = extract(raw, &c).unwrap();
        let hosts: Vec<_> = e.urls.iter().map(|u| u.host.as_str()).collect();
        assert_eq!(hosts, ["one.example", "two.example"]);
    }
}
