//! One raw message into observations: [`MessageObs`] and its [`UrlObs`].
//!
//! MIME (transfer encodings, charsets, nested multiparts) is mail-parser's
//! job; this module adds the checks that decide whether bytes are mail at
//! all, the `Received:` chain ([`relay_chain`]), the URL scan
//! ([`UrlSet`]) and the fingerprint ([`Fingerprinter`]).
//!
//! Caps (each gives a [`MailError`] with a stable reason, or a documented
//! degradation): message size ([`Limits::max_message_size`], `oversize`),
//! header lines ([`Limits::max_header_lines`], `too-many-headers`), MIME
//! structure ([`Limits::max_mime_boundaries`] `boundary=` parameters or
//! [`Limits::max_mime_parts`] delimiter lines: beyond them the body is not
//! MIME-parsed but scanned as raw text, so a multipart nested 100,000 deep
//! costs one linear pass).

use std::cell::RefCell;

use depeer_core::{ArrivalSource, MessageObs, SourceRef, Timestamp, UrlObs};
use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::{
    Encoding, GetHeader, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders,
    PartType,
};
use sha2::{Digest, Sha256};

use crate::MailError;
use crate::fingerprint::Fingerprinter;
use crate::framing::parse_from_line;
use crate::headers::{IndexedFields, field_name, index_header};
use crate::relay::{RELAY_INITIALS, relay_chain_fields};
use crate::trust::TrustConfig;
use crate::url::{UrlSet, registrable_domain};

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
    /// ([`lean_headers`]); `false` only in tests that compare with
    /// mail-parser's own loop.
    bounded: bool,
    urls: UrlSet,
    fp: Fingerprinter,
    /// Use [`lean_parse`] when it applies (off only in the test that
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

/// Checks that the bytes can be mail; returns the slice where the header
/// starts (after a leading mbox `From ` line and empty lines).
fn sanity<'r>(raw: &'r [u8], limits: &Limits) -> Result<(usize, Option<&'r [u8]>), MailError> {
    if raw.len() as u64 > limits.max_message_size {
        return Err(MailError::Oversize {
            offset: 0,
            index: 0,
            size: raw.len() as u64,
            cap: limits.max_message_size,
            prefix: Vec::new(),
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    let mut start = raw.strip_prefix(b"\xEF\xBB\xBF").map_or(0, |_| 3);
    while matches!(raw.get(start), Some(b'\r' | b'\n')) {
        start += 1;
    }
    let mut from_line = None;
    // Batched SMTP (RFC 2442): skip the commands up to DATA.
    let rest = raw.get(start..).unwrap_or_default();
    if rest.len() > 5
        && [&b"HELO "[..], b"EHLO ", b"MAIL FROM:"].iter().any(|p| {
            rest.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        })
    {
        let mut at = 0usize;
        while let Some(nl) = memchr::memchr(b'\n', rest.get(at..).unwrap_or_default()) {
            let line = rest.get(at..at + nl).unwrap_or_default().trim_ascii_end();
            at += nl + 1;
            if line.eq_ignore_ascii_case(b"DATA") {
                start += at;
                break;
            }
            if at > 64 * 1024 {
                break;
            }
        }
    }
    let rest = raw.get(start..).unwrap_or_default();
    if rest.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        from_line = rest.get(..end);
        start += end;
    }
    let head = raw
        .get(start..raw.len().min(start + 512))
        .unwrap_or_default();
    // Branch-free with narrow sums so it vectorises (a filtered count was
    // ~2,600 instructions per message).
    let control: usize = head
        .chunks(128)
        .map(|c| {
            let n: u16 = c
                .iter()
                .map(|&b| {
                    let c0 = (b < 0x20) & (b != b'\t') & (b != b'\r') & (b != b'\n');
                    u16::from(c0 | (b == 0x7f))
                })
                .sum();
            usize::from(n)
        })
        .sum();
    if head.len() >= 16 && control * 10 > head.len() {
        return Err(MailError::NotMail {
            examined: head.len(),
            control,
        });
    }
    let first_line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first_line = head.get(..first_line_end).unwrap_or_default();
    if field_name(first_line).is_none()
        || first_line.first().is_some_and(|b| b.is_ascii_whitespace())
    {
        return Err(MailError::NoHeader {
            first_line: String::from_utf8_lossy(
                first_line
                    .get(..first_line.len().min(80))
                    .unwrap_or_default(),
            )
            .into_owned(),
        });
    }
    Ok((start, from_line))
}

impl Extractor {
    /// A fresh extractor.
    pub fn new() -> Self {
        // `lean_headers` mirrors this configuration (`PARSED_FIELDS` and
        // its value parsers): change both together (a unit test compares).
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

        let (from_line_sender, from_line_time) = match from_line {
            Some(l) => parse_from_line(l),
            None => (None, None),
        };
        let mbox_from_time = ctx.mbox_from_time.or(from_line_time);
        let mbox_sender = ctx.envelope_sender.clone().or(from_line_sender);

        let latest = Timestamp(ctx.ingest_time.0.saturating_add(DAY_MICROS));
        let plausible = |t: &Timestamp| *t >= EARLIEST && *t <= latest;
        let (arrival_time, arrival_source) = if let Some(t) = relay.trap_hop_time.filter(plausible)
        {
            (t, ArrivalSource::Received)
        } else if let Some(t) = mbox_from_time {
            (t, ArrivalSource::MboxFrom)
        } else if let Some(t) = ctx.file_time {
            (t, ArrivalSource::FileTime)
        } else {
            (ctx.ingest_time, ArrivalSource::IngestTime)
        };

        // MIME: guard against pathological structure first.
        let body = body_raw.get(header.len()..).unwrap_or_default();
        // Occurrences of these patterns cannot overlap, so a text shorter
        // than (cap + 1) patterns cannot exceed the cap: no need to count.
        let boundaries = if body_raw.len() / 9 <= ctx.limits.max_mime_boundaries {
            0
        } else {
            self.boundary_lower.find_iter(body_raw).count()
                + self.boundary_upper.find_iter(body_raw).count()
        };
        let delimiters = if body.len() / 3 <= ctx.limits.max_mime_parts {
            0
        } else {
            self.delimiter.find_iter(body).count()
        };
        let degraded =
            boundaries > ctx.limits.max_mime_boundaries || delimiters > ctx.limits.max_mime_parts;

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

        let subject = raw_field(&msg, HeaderName::Subject)
            .and_then(glued_encoded_words)
            .and_then(|s| clean(&s, 2000))
            .or_else(|| msg.subject().and_then(|s| clean(s, 2000)));
        if let Some(s) = &subject {
            self.urls.scan_text(s);
        }
        if degraded {
            let text = String::from_utf8_lossy(body);
            self.urls.scan_text(&text);
            self.fp.add_text(&text);
        } else if let Some(patched) = recover_boundary(&msg, body_raw, header_len) {
            // Ratware that declares one boundary and writes another: the
            // parts are read with the boundary the body uses.
            match self.parser.parse(&patched) {
                Some(m) => walk_parts(&m, &mut self.urls, &mut self.fp),
                None => walk_parts(&msg, &mut self.urls, &mut self.fp),
            }
        } else if let Some(texts) = &lean_texts {
            for (text, html) in texts {
                scan_part(text, *html, &mut self.urls, &mut self.fp);
            }
        } else {
            walk_parts(&msg, &mut self.urls, &mut self.fp);
        }

        let first_addr = |a: Option<&mail_parser::Address<'_>>| {
            a.and_then(|a| a.iter().find_map(|x| x.address()))
                .and_then(|s| clean(s, 512))
        };
        // The topmost `Return-Path:` is the one the trap's own delivery
        // wrote; lower ones come from earlier deliveries (mailing lists,
        // forwarders) and mail-parser's accessor returns the last.
        let envelope_from = msg
            .parts
            .first()
            .and_then(|p| p.headers.iter().find(|h| h.name == HeaderName::ReturnPath))
            .and_then(|h| h.value.as_text())
            .and_then(|rp| clean(rp, 512))
            .or(mbox_sender);
        // mail-parser's date, else depeer's tolerant reader on the raw
        // value (ratware often leaves the zone out: `Thu, 10 Aug 2000
        // 02:53:01`, about 3.5 % of the real spam here; read as UTC, as
        // Python's `email` and the Received-line dates do). A time written
        // with dots (`03.32.48`) mail-parser reads as the hour alone; such
        // a value (no colon) goes to the tolerant reader first.
        let dotted = || {
            raw_field(&msg, HeaderName::Date)
                .filter(|raw| memchr::memchr(b':', raw).is_none())
                .and_then(crate::date::parse_date)
        };
        let date_header = msg
            .date()
            .and_then(|d| {
                if d.minute == 0
                    && d.second == 0
                    && let Some(t) = dotted()
                {
                    return Some(t);
                }
                let t = Timestamp::from_civil(
                    i64::from(d.year),
                    u32::from(d.month),
                    u32::from(d.day),
                    u32::from(d.hour),
                    u32::from(d.minute),
                    u32::from(d.second).min(59),
                )?;
                let off = (i64::from(d.tz_hour) * 3600 + i64::from(d.tz_minute) * 60) * 1_000_000;
                Some(Timestamp(if d.tz_before_gmt {
                    t.0 + off
                } else {
                    t.0 - off
                }))
            })
            .or_else(|| crate::date::parse_date(raw_field(&msg, HeaderName::Date)?));

        let found = self.urls.take();
        let urls: Vec<UrlObs> = found
            .into_iter()
            .map(|u| UrlObs {
                sha256,
                registrable_domain: registrable_domain(&u.host, u.is_ip),
                url: u.url,
                host: u.host,
            })
            .collect();
        let hop = relay.first_untrusted;
        let message = MessageObs {
            sha256,
            arrival_time,
            arrival_source,
            relay_ip: hop.as_ref().and_then(|h| h.from_ip),
            relay_helo: hop
                .as_ref()
                .and_then(|h| h.from_helo.as_deref())
                .and_then(|s| clean(s, 255)),
            relay_rdns: hop
                .as_ref()
                .and_then(|h| h.from_rdns.as_deref())
                .and_then(|s| clean(s, 255)),
            envelope_from,
            from_addr: first_addr(msg.from()).map(|a| {
                // `From: "x@bank.example"@evil.example`: a quoted local
                // part, which mail-parser takes for a display name, leaving
                // `@evil.example`. Phishing uses the form; keep it whole.
                if a.starts_with('@') {
                    raw_field(&msg, HeaderName::From)
                        .and_then(quoted_local_part)
                        .and_then(|q| clean(&q, 512))
                        .unwrap_or(a)
                } else {
                    a
                }
            }),
            to_addr: first_addr(msg.to()),
            subject,
            message_id: msg.message_id().and_then(|s| clean(s, 998)),
            date_header,
            size: raw.len() as u64,
            fingerprint: self.fp.hex(),
            url_count: u32::try_from(urls.len()).unwrap_or(u32::MAX),
            source: ctx.source.clone(),
        };
        Ok(Extracted { message, urls })
    }
}

/// Text and HTML of every part, nested messages included (mail-parser
/// limits encoded nesting to 3 levels). A part whose transfer encoding
/// mail-parser rejected is decoded again leniently (base64 with stray
/// characters, as SpamAssassin and MUAs accept it).
fn walk_parts(msg: &Message<'_>, urls: &mut UrlSet, fp: &mut Fingerprinter) {
    for part in &msg.parts {
        let html_type = part
            .content_type()
            .is_some_and(|c| c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html")));
        let text = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t,
            PartType::Message(m) => {
                walk_parts(m, urls, fp);
                continue;
            }
            // A multipart without a boundary parameter (`Content-Type:
            // multipart/mixed;` cut after the `;`) is a binary part for
            // mail-parser; mail clients and SpamAssassin show its body as
            // text, so it is read as text here too.
            PartType::Binary(body)
                if part
                    .content_type()
                    .is_some_and(|c| c.ctype().eq_ignore_ascii_case("multipart")) =>
            {
                if !body.is_empty() {
                    scan_part(&String::from_utf8_lossy(body), false, urls, fp);
                }
                continue;
            }
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => continue,
        };
        let html = html_type || matches!(part.body, PartType::Html(_));
        let cte = part.content_transfer_encoding().map(str::trim);
        let base64 = cte.is_some_and(|e| e.eq_ignore_ascii_case("base64"));
        let qp = cte.is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        let raw = || {
            msg.raw_message
                .get(part.offset_body as usize..part.offset_end as usize)
                .unwrap_or_default()
        };
        let redecoded;
        let text: &str = if part.is_encoding_problem && base64 {
            redecoded = Cow::Owned(String::from_utf8_lossy(&lenient_base64(raw())).into_owned());
            &redecoded
        } else if part.is_encoding_problem
            && qp
            && let Some(bytes) = crate::quoted_printable::decode(raw())
        {
            // mail-parser leaves a quoted-printable part undecoded when its
            // closing delimiter never comes (a message cut off in its last
            // part): soft breaks would stay inside URLs ("www.credit=\n
            // unionsonline.com"). Decode it as the part says.
            let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
            redecoded = part_text(Cow::Owned(bytes), charset).unwrap_or(Cow::Borrowed(text));
            &redecoded
        } else {
            text
        };
        scan_part(text, html, urls, fp);
    }
}

/// At most this many body bytes are searched for the boundary a
/// mismatched multipart really uses.
const RECOVER_SCAN: usize = 64 * 1024;

/// A copy of the message with the top-level boundary parameter replaced by
/// the boundary its body really uses, when the declared one never occurs.
///
/// Ratware sometimes declares one boundary and writes the parts with
/// another (`boundary="--=_HsWzsKVZkho"` over `----=_GlSzQZUbRbpVOpy`
/// lines). mail-parser then sees one empty multipart and every URL of the
/// message is lost; rspamd recovers the parts from the delimiter lines, and
/// so does this. The boundary taken is that of the first body line `--X`
/// (no white space in `X`) followed by a `Content-` header line. `None`
/// when the message is not multipart, the declared boundary occurs, or no
/// such line is found.
fn recover_boundary(msg: &Message<'_>, raw: &[u8], header_len: usize) -> Option<Vec<u8>> {
    let ct = msg.parts.first()?.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return None;
    }
    let declared = ct.attribute("boundary")?.as_bytes();
    if declared.is_empty() {
        return None;
    }
    let body = raw.get(header_len..)?;
    let mut delim = Vec::with_capacity(declared.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(declared);
    if memchr::memmem::find(body, &delim).is_some() {
        return None;
    }
    let scan = body.get(..body.len().min(RECOVER_SCAN)).unwrap_or(body);
    let mut lines = scan.split(|&b| b == b'\n').peekable();
    let mut found: Option<&[u8]> = None;
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(cand) = line.strip_prefix(b"--") else {
            continue;
        };
        let cand = cand.trim_ascii_end();
        let next_is_header = lines.peek().is_some_and(|n| {
            n.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"content-"))
        });
        if (1..=200).contains(&cand.len())
            && !cand.iter().any(|b| b.is_ascii_whitespace() || *b == b'"')
            && next_is_header
        {
            found = Some(cand);
            break;
        }
    }
    let real = found?;
    // The declared value inside the header, after `boundary=`.
    let header = raw.get(..header_len)?;
    let at = memchr::memmem::find_iter(header, declared).find(|&i| {
        header
            .get(..i)
            .map(|h| {
                h.trim_ascii_end()
                    .strip_suffix(b"\"")
                    .unwrap_or(h)
                    .trim_ascii_end()
            })
            .is_some_and(|h| h.ends_with(b"=") || h.ends_with(b"=\""))
    })?;
    let mut out = Vec::with_capacity(raw.len() + real.len());
    out.extend_from_slice(header.get(..at)?);
    out.extend_from_slice(real);
    out.extend_from_slice(raw.get(at + declared.len()..)?);
    Some(out)
}

/// URLs and fingerprint words of one decoded text part.
fn scan_part(text: &str, html: bool, urls: &mut UrlSet, fp: &mut Fingerprinter) {
    if html {
        urls.scan_html(text);
        fp.add_text(urls.rendered());
    } else {
        urls.scan_text(text);
        fp.add_text(text);
    }
}

/// Charsets whose mail-parser decoder maps each of the 128 ASCII bytes to
/// itself (a unit test checks every name against mail-parser), so ASCII
/// bytes declared in them are already their own UTF-8 text.
const ASCII_SAFE_CHARSETS: [&str; 38] = [
    "us-ascii",
    "ascii",
    "utf-8",
    "utf8",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-9",
    "iso-8859-10",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "latin1",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "cp1252",
    "koi8-r",
    "koi8-u",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "euc-kr",
    "euc-jp",
    "ks_c_5601-1987",
    "shift_jis",
];

/// The raw value of the top-level header field `name` (bytes after the
/// colon, line breaks included).
fn raw_field<'m>(msg: &'m Message<'_>, name: HeaderName<'static>) -> Option<&'m [u8]> {
    let h = msg.parts.first()?.headers.header(name)?;
    msg.raw_message
        .get(h.offset_start as usize..h.offset_end as usize)
}

/// The decoded value of an unstructured field in which ratware glued an
/// RFC 2047 encoded word to the text after or before it
/// (`=?UTF-8?B?…Da?=y, you`, `V=?UTF-8?B?w6lyaWZpZXo=?=`); `None` for any
/// other value, which mail-parser decodes.
///
/// RFC 2047 wants white space around encoded words; mail-parser reads the
/// glued text as a separate token and joins the two with a space (`…Da
/// y, you`), while Python's `email` and mail clients show `…Day, you`.
/// Here each encoded word is decoded with mail-parser's own decoder and the
/// text around it is kept as written: white space between two encoded
/// words is dropped (RFC 2047, 6.2), runs of white space elsewhere become
/// one space, as mail-parser does.
fn glued_encoded_words(value: &[u8]) -> Option<String> {
    let glued_after = memchr::memmem::find_iter(value, b"?=").any(|i| {
        value
            .get(i + 2)
            .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'=')
    });
    let glued_before = || {
        memchr::memmem::find_iter(value, b"=?").any(|i| {
            i.checked_sub(1)
                .and_then(|j| value.get(j))
                .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'=')
        })
    };
    let glued = glued_after || glued_before();
    if !glued || memchr::memmem::find(value, b"=?").is_none() {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut text: Vec<u8> = Vec::new();
    let mut after_word = false;
    let mut pos = 0usize;
    let flush_text = |out: &mut String, text: &mut Vec<u8>, drop_blank: bool| {
        if !(drop_blank && text.iter().all(u8::is_ascii_whitespace)) {
            out.push_str(&String::from_utf8_lossy(text));
        }
        text.clear();
    };
    while pos < value.len() {
        let at = pos + memchr::memmem::find(value.get(pos..)?, b"=?").unwrap_or(value.len() - pos);
        push_collapsed(&mut text, value.get(pos..at)?);
        if at >= value.len() {
            break;
        }
        let mut stream = MessageStream::new(value.get(at + 1..)?);
        match stream.decode_rfc2047() {
            Some(word) => {
                flush_text(&mut out, &mut text, after_word);
                out.push_str(&word);
                after_word = true;
                pos = at + 1 + stream.offset();
            }
            None => {
                text.extend_from_slice(b"=?");
                after_word = false;
                pos = at + 2;
            }
        }
    }
    flush_text(&mut out, &mut text, false);
    let out = out.trim();
    (!out.is_empty()).then(|| out.to_string())
}

/// Appends `b` with line breaks removed and runs of white space as one space.
fn push_collapsed(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        if c.is_ascii_whitespace() {
            if out.last().is_some_and(|&l| l != b' ') || out.is_empty() {
                out.push(b' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// `"local part"@domain` as a whole field value (the addr-spec of RFC 5322
/// with a quoted-string local part, no display name, no angle brackets),
/// as written; `None` for any other shape.
fn quoted_local_part(value: &[u8]) -> Option<String> {
    let v = value.trim_ascii();
    let rest = v.strip_prefix(b"\"")?;
    let close = memchr::memchr(b'"', rest)?;
    let local = rest.get(..close)?;
    let domain = rest.get(close + 1..)?.strip_prefix(b"@")?;
    let ok_local = local
        .iter()
        .all(|&b| b != b'\\' && b != b'\r' && b != b'\n');
    let ok_domain = !domain.is_empty()
        && domain
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !(ok_local && ok_domain) {
        return None;
    }
    let mut out = String::with_capacity(v.len());
    out.push('"');
    out.push_str(&String::from_utf8_lossy(local));
    out.push_str("\"@");
    out.push_str(&String::from_utf8_lossy(domain));
    Some(out)
}

/// Text parts found by [`lean_parse`]: decoded text and whether it is HTML.
type LeanTexts<'x> = Vec<(Cow<'x, str>, bool)>;

/// The fast path: single-part text messages (about 80 % of the real spam
/// here) and multiparts (`mixed`, `alternative`, `related`, nested) whose
/// leaves are text or binary parts.
///
/// Why it exists: profiling `extract` with callgrind on real spam showed
/// mail-parser's full parse as the largest cost after SHA-256: its
/// charset conversion (every text part re-encoded character by character
/// through a table, even when every byte is ASCII), its quoted-printable
/// decoder, and base64-decoding every attachment (images, zips) that
/// depeer never reads. This path runs exactly mail-parser's own steps
/// (`MessageParser::parse_` in mail-parser 0.11.9: its header parser, its
/// boundary search, its transfer decoders for text parts, its charset
/// decoders) and differs only where the result cannot change:
///
/// * the charset conversion is skipped when the bytes are ASCII in an
///   ASCII-compatible charset (a unit test checks every listed charset);
/// * a binary part is not decoded: its end is found with `memmem` (the
///   same first `--boundary` mail-parser's byte loop finds) and a base64
///   body is only checked against the alphabet mail-parser's decoder
///   accepts (an invalid one falls back, because mail-parser then turns
///   the part into text);
/// * a top-level quoted-printable body uses [`crate::quoted_printable`]
///   (identical output, randomized test).
///
/// Anything else (`message/*`, `multipart/digest`, a multipart without a
/// boundary or whose boundary never occurs, encoding errors, a part
/// without headers, bytes after a single part) returns `None` and the
/// caller uses `MessageParser::parse`; the unit test
/// `fast_path_equals_mail_parser_on_real_mail` checks that both paths give
/// identical observations (every field) on every real spam and ham
/// message (4,311 of the 4,387 take this path). Measured on 1,000 messages
/// of the bench corpus (callgrind, instructions per message without
/// SHA-256): 588,000 with the single-part path only, 480,000 with this
/// walker (mail-parser's full parse 151,000 -> 0, its base64 59,000 ->
/// 6,000, quoted-printable 44,000 -> 16,000); details in docs/mail.md.
#[cfg(test)]
fn lean_parse<'x>(parser: &MessageParser, raw: &'x [u8]) -> Option<(Message<'x>, LeanTexts<'x>)> {
    lean_parse_indexed(parser, raw, None, false)
}

/// [`lean_parse`] with the line feeds of `raw`'s header block when known
/// ([`index_header`]).
fn lean_parse_indexed<'x>(
    parser: &MessageParser,
    raw: &'x [u8],
    nl: Option<&[u32]>,
    bounded: bool,
) -> Option<(Message<'x>, LeanTexts<'x>)> {
    let mut stream = MessageStream::new(raw);
    let mut headers = Vec::new();
    match lean_headers(raw, 0, nl, bounded, &mut headers) {
        Some(body) => stream.skip_bytes(body),
        None => {
            if !stream.parse_headers(parser, &mut headers) {
                return None;
            }
        }
    }
    let offset_body = stream.offset();
    let content_type = headers
        .header_value(&HeaderName::ContentType)
        .and_then(|c| c.as_content_type());
    let mut texts = Vec::new();
    let (encoding, offset_end) = match content_type {
        Some(ct) if ct.ctype() == "multipart" => {
            if ct.subtype() == Some("digest") {
                return None;
            }
            let boundary = ct.attribute("boundary")?.as_bytes().to_vec();
            multipart(parser, &mut stream, boundary, bounded, &mut texts)?;
            (Encoding::None, raw.len())
        }
        // mail-parser's `mime_type` for a top-level part: no type is text/plain.
        None => single_text(&mut stream, &headers, None, &mut texts)?,
        Some(ct) if ct.ctype() == "text" => {
            single_text(&mut stream, &headers, Some(ct), &mut texts)?
        }
        Some(_) => return None,
    };
    let part = MessagePart {
        headers,
        is_encoding_problem: false,
        body: PartType::Text(Cow::Borrowed("")),
        encoding,
        offset_header: 0,
        offset_body: u32::try_from(offset_body).unwrap_or(u32::MAX),
        offset_end: u32::try_from(offset_end).unwrap_or(u32::MAX),
    };
    let msg = Message {
        html_body: Vec::new(),
        text_body: Vec::new(),
        attachments: Vec::new(),
        parts: vec![part],
        raw_message: Cow::Borrowed(raw),
    };
    Some((msg, texts))
}

/// The header fields [`Extractor::new`]'s parser does not ignore
/// (lowercase); [`lean_headers`] maps each index to the value parser that
/// configuration gives it.
const PARSED_FIELDS: [&[u8]; 12] = [
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

/// mail-parser's `parse_headers` for a plain header block starting at
/// `data[start..]`, running mail-parser's field parsers only on the fields
/// in [`PARSED_FIELDS`]; returns the offset after the empty line that ends
/// the block. The fields the configured parser ignores are left out of
/// `headers` (mail-parser keeps them with an empty value; nothing here
/// reads them).
///
/// Why it exists: mail-parser's header loop reads every field byte by byte
/// (name lookup, then `parse_and_ignore` for ignored ones); on the bench
/// corpus that was ~60,000 instructions per message for the ~25 fields of
/// which six are read. This finds field ends with `memchr`, and hands each
/// wanted field to mail-parser's own name and value parsers (so RFC 2047
/// words, addresses, dates and content types are still mail-parser's). `None` (and `headers` unchanged) for anything not
/// plain: a line that is not `name:` (name of letters, digits and `-`)
/// or a continuation, a block without an empty line, a value parser that
/// does not stop exactly at the end of its field; the caller then runs mail-parser's
/// own loop. A unit test compares both on every real message and on
/// mutated copies.
fn lean_headers<'x>(
    data: &'x [u8],
    start: usize,
    nl: Option<&[u32]>,
    bounded: bool,
    headers: &mut Vec<mail_parser::Header<'x>>,
) -> Option<usize> {
    let before = headers.len();
    let r = lean_headers_inner(data, start, nl, bounded, headers);
    if r.is_none() {
        headers.truncate(before);
    }
    r
}

fn lean_headers_inner<'x>(
    data: &'x [u8],
    start: usize,
    nl: Option<&[u32]>,
    bounded: bool,
    headers: &mut Vec<mail_parser::Header<'x>>,
) -> Option<usize> {
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
        // The field ends at a line break not followed by a blank.
        let mut end = pos;
        loop {
            end = match nl {
                Some(nl) => loop {
                    let n = *nl.get(k)? as usize;
                    k += 1;
                    if n >= end {
                        break n + 1;
                    }
                },
                None => end + memchr::memchr(b'\n', data.get(end..)?)? + 1,
            };
            if !matches!(data.get(end), Some(b' ' | b'\t')) {
                break;
            }
        }
        let name = line.get(..name_len)?;
        if let Some(kind) = PARSED_FIELDS
            .iter()
            .position(|f| f.len() == name_len && f.eq_ignore_ascii_case(name))
        {
            // mail-parser's own name and value parsers, as its header loop
            // calls them for this configuration, on the whole data: a
            // value parser that runs past the end of its field (a date
            // ending in "UT" does) is caught below.
            let mut stream = MessageStream::new(data);
            // The name is known: mail-parser's name parser would give the
            // same `HeaderName` and stop right after the colon.
            let header_name = match FIELD_NAMES.get(kind).cloned().flatten() {
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
            let plain = match kind {
                0 | 9..=11 => plain_unstructured(data.get(offset_start..end)?),
                1 | 2 => plain_address(data.get(offset_start..end)?),
                3 => plain_date(data.get(offset_start..end)?),
                4 | 5 | 8 => plain_id(data.get(offset_start..end)?),
                6 => plain_content_type(data.get(offset_start..end)?),
                _ => None,
            };
            let fast = plain.is_some();
            let parse = |stream: &mut MessageStream<'x>| match kind {
                1 | 2 => stream.parse_address(),
                3 => stream.parse_date(),
                4 | 5 | 8 => stream.parse_id(),
                6 | 7 => stream.parse_content_type(),
                _ => stream.parse_unstructured(),
            };
            let mut value = match plain {
                Some(v) => v,
                None => parse(&mut stream),
            };
            if !fast && stream.offset() != end {
                // The value parser ran into the next field: mail-parser's
                // date parser does after a zone of letters it does not
                // know (`Date: 27 Jun 01 3:36:25 AM` swallows the `From:`
                // line below it; ratware of 2001 wrote such dates). Bounded,
                // the same parser reads the field alone and the next field
                // is kept; unbounded, mail-parser's own loop is used (and
                // loses that field, as mail-parser does).
                if !bounded {
                    return None;
                }
                let mut alone = MessageStream::new(data.get(..end)?);
                alone.skip_bytes(offset_start);
                value = parse(&mut alone);
                if alone.offset() != end {
                    return None;
                }
            }
            headers.push(mail_parser::Header {
                name: header_name,
                value,
                offset_field: u32::try_from(pos).ok()?,
                offset_start: u32::try_from(offset_start).ok()?,
                offset_end: u32::try_from(end).ok()?,
            });
        }
        pos = end;
    }
}

/// The `HeaderName` mail-parser's `parse_header_name` gives each of
/// [`PARSED_FIELDS`] (in any letter case); `None` when it would be
/// `HeaderName::Other`, which keeps the name's spelling, so the parser runs.
static FIELD_NAMES: std::sync::LazyLock<Vec<Option<HeaderName<'static>>>> =
    std::sync::LazyLock::new(|| {
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

/// mail-parser's `parse_unstructured` for a field value (`value` runs from
/// after the colon to the end of the field, its final line break included)
/// without encoded words: each line trimmed of spaces, tabs and CRs, the
/// non-empty ones joined by one space. `None` when the value holds `=?`
/// (a possible RFC 2047 word: mail-parser decodes it).
///
/// Why: mail-parser's loop (a token vector, byte by byte) was ~3,000
/// instructions per message for the Subject alone on simulated spam; the
/// test `lean_headers_equal_mail_parser_on_real_and_mutated_headers`
/// compares the results.
fn plain_unstructured(value: &[u8]) -> Option<HeaderValue<'_>> {
    if find_pair(value, b'=', b'?').is_some() {
        return None;
    }
    fn trim(l: &[u8]) -> &[u8] {
        let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let a = l.iter().position(|b| !ws(b)).unwrap_or(l.len());
        let z = l.iter().rposition(|b| !ws(b)).map_or(a, |i| i + 1);
        l.get(a..z).unwrap_or_default()
    }
    let body = value.strip_suffix(b"\n").unwrap_or(value);
    let mut lines = body
        .split(|&b| b == b'\n')
        .map(trim)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Some(HeaderValue::Empty);
    };
    let Some(second) = lines.next() else {
        return Some(HeaderValue::Text(String::from_utf8_lossy(first)));
    };
    let mut out = String::from_utf8_lossy(first).into_owned();
    for l in std::iter::once(second).chain(lines) {
        out.push(' ');
        out.push_str(&String::from_utf8_lossy(l));
    }
    Some(HeaderValue::Text(Cow::Owned(out)))
}

/// Bytes allowed in an address in [`plain_address`]: printable ASCII
/// without blanks and without the bytes that make address syntax (angle
/// brackets, quotes, comments, lists, groups, routes, quoting, `=` of
/// encoded words).
fn plain_addr_byte(b: u8) -> bool {
    PLAIN_ADDR.get(usize::from(b)).copied().unwrap_or(false)
}

/// The table of [`plain_addr_byte`] (a per-byte `contains` on the list
/// compiled to a `memchr` call per byte).
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static PLAIN_ADDR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x21usize;
    while i < 0x7f {
        t[i] = true;
        i += 1;
    }
    let special = b"<>\"()[],;:\\=";
    let mut k = 0usize;
    while k < special.len() {
        t[special[k] as usize] = false;
        k += 1;
    }
    t
};

/// Bytes allowed in a quoted display name in [`plain_address`]: printable
/// ASCII and space, without quotes, backslashes, `=`, parentheses and
/// angle brackets.
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static PLAIN_QUOTED_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20usize;
    while i < 0x7f {
        t[i] = true;
        i += 1;
    }
    let special = b"\"\\=()<>";
    let mut k = 0usize;
    while k < special.len() {
        t[special[k] as usize] = false;
        k += 1;
    }
    t
};

/// mail-parser's `parse_address` for the three shapes nearly every `From:`
/// and `To:` of bulk mail has, on one line: `"Display Name" <addr>`,
/// `Display Name <addr>` (letters, digits, spaces, `.`, `-`, `_`) and
/// `<addr>` or a bare `addr` with an `@`. The display name is kept as
/// mail-parser keeps it (inner blanks as written; `""` gives none).
/// `None` for anything else (encoded words, comments, lists, groups,
/// escapes, folding, non-ASCII): mail-parser parses those.
///
/// Why: mail-parser's address parser (a token state machine with a
/// string per token) was ~4,000 instructions per simulated message for
/// `From:` and `To:`; the tests `lean_headers_equal_mail_parser_on_real_and_mutated_headers`
/// and `plain_address_equals_mail_parser` compare the results.
fn plain_address(value: &[u8]) -> Option<HeaderValue<'_>> {
    let v = single_line(value)?;
    fn text(b: &[u8]) -> Option<Cow<'_, str>> {
        std::str::from_utf8(b).ok().map(Cow::Borrowed)
    }
    let addr_ok = |a: &[u8]| !a.is_empty() && a.iter().all(|&b| plain_addr_byte(b));
    let (name, addr) = if let Some(rest) = v.strip_prefix(b"\"") {
        let close = memchr::memchr(b'"', rest)?;
        let name = rest.get(..close)?;
        let after = rest.get(close + 1..)?.trim_ascii_start();
        let addr = after.strip_prefix(b"<")?.strip_suffix(b">")?;
        if !name.iter().all(|&b| {
            PLAIN_QUOTED_NAME
                .get(usize::from(b))
                .copied()
                .unwrap_or(false)
        }) {
            return None;
        }
        (if name.is_empty() { None } else { Some(name) }, addr)
    } else if let Some(lt) = memchr::memchr(b'<', v) {
        let name = v.get(..lt)?.trim_ascii_end();
        let addr = v.get(lt + 1..)?.strip_suffix(b">")?;
        if !name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b'-' | b'_'))
        {
            return None;
        }
        (if name.is_empty() { None } else { Some(name) }, addr)
    } else {
        memchr::memchr(b'@', v)?;
        (None, v)
    };
    if !addr_ok(addr) {
        return None;
    }
    let name = match name {
        Some(n) => Some(text(n)?),
        None => None,
    };
    Some(HeaderValue::Address(mail_parser::Address::List(vec![
        mail_parser::Addr {
            name,
            address: Some(text(addr)?),
        },
    ])))
}

/// One line of a field value (`value` runs from after the colon to the
/// end of the field), without its line break and surrounding blanks;
/// `None` when the field is folded.
fn single_line(value: &[u8]) -> Option<&[u8]> {
    let line = value.strip_suffix(b"\n").unwrap_or(value);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if memchr::memchr2(b'\n', b'\r', line).is_some() {
        return None;
    }
    Some(line.trim_ascii())
}

/// mail-parser's `parse_id` for one `<id>` on one line (the form of nearly
/// every `Message-ID:`, `Return-Path:` and `Content-ID:`): the text
/// between the brackets. `None` for anything else (several ids, bare ids,
/// comments, blanks or syntax bytes inside, folding, non-ASCII).
///
/// Why: mail-parser's id parser was ~2.5 % of the native profile of the
/// ingest on simulated spam; the tests
/// `lean_headers_equal_mail_parser_on_real_and_mutated_headers` and
/// `plain_id_and_date_equal_mail_parser` compare the results.
fn plain_id(value: &[u8]) -> Option<HeaderValue<'_>> {
    let inner = single_line(value)?.strip_prefix(b"<")?.strip_suffix(b">")?;
    if inner.is_empty() || !inner.iter().all(|&b| plain_addr_byte(b)) {
        return None;
    }
    Some(HeaderValue::Text(Cow::Borrowed(
        std::str::from_utf8(inner).ok()?,
    )))
}

/// mail-parser's `parse_date` for the canonical RFC 5322 form on one line:
/// `[Day, ]D Mon YYYY HH:MM:SS +ZZZZ` (English day and month names as
/// mail-parser spells them, a four-digit year from 1970 to 2099, fields in
/// range). `None` for anything else (obsolete zones, two-digit years,
/// comments, missing seconds): mail-parser parses those.
///
/// Why: with the received-date parser this was ~3 % of the native
/// profile; the tests compare with mail-parser as for [`plain_id`].
fn plain_date(value: &[u8]) -> Option<HeaderValue<'static>> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    let mut v = single_line(value)?;
    if let Some((day, rest)) = v.split_first_chunk::<4>() {
        let (name, comma) = day.split_at(3);
        if comma == b"," && DAYS.iter().any(|d| d.as_slice() == name) {
            v = rest.strip_prefix(b" ")?;
        }
    }
    let mut parts = v.split(|&b| b == b' ');
    let num = |p: &[u8], min: usize, max: usize| -> Option<u32> {
        if p.len() < min || p.len() > max || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(p.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
    };
    let day = num(parts.next()?, 1, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| m.as_slice() == month_name)? + 1;
    let year = num(parts.next()?, 4, 4)?;
    let time = parts.next()?;
    let zone = parts.next()?;
    if parts.next().is_some() || time.len() != 8 || zone.len() != 5 {
        return None;
    }
    let (hour, minute, second) = match time {
        [h1, h2, b':', m1, m2, b':', s1, s2] => (
            num(&[*h1, *h2], 2, 2)?,
            num(&[*m1, *m2], 2, 2)?,
            num(&[*s1, *s2], 2, 2)?,
        ),
        _ => return None,
    };
    let (sign, tz) = zone.split_first()?;
    let tz_before_gmt = match sign {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let tz_hour = num(tz.get(..2)?, 2, 2)?;
    let tz_minute = num(tz.get(2..)?, 2, 2)?;
    if !(1..=31).contains(&day)
        || !(1970..=2099).contains(&year)
        || hour > 23
        || minute > 59
        || second > 59
        || tz_hour > 23
        || tz_minute > 59
    {
        return None;
    }
    Some(HeaderValue::DateTime(mail_parser::DateTime {
        year: u16::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: u8::try_from(hour).ok()?,
        minute: u8::try_from(minute).ok()?,
        second: u8::try_from(second).ok()?,
        tz_before_gmt,
        tz_hour: u8::try_from(tz_hour).ok()?,
        tz_minute: u8::try_from(tz_minute).ok()?,
    }))
}

/// Bytes of a MIME type, subtype or parameter name in
/// [`plain_content_type`] (no `*`: RFC 2231 parameters go to mail-parser).
fn mime_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+' | b'_')
}

/// Bytes of an unquoted parameter value in [`plain_content_type`].
fn mime_value_byte(b: u8) -> bool {
    mime_token_byte(b) || b == b'/'
}

/// ASCII-lowercased text, borrowed when it is lowercase already.
fn lower_cow(b: &[u8]) -> Option<Cow<'_, str>> {
    let s = std::str::from_utf8(b).ok()?;
    Some(if b.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    })
}

/// mail-parser's `parse_content_type` for the plain form: `type/subtype`
/// and `; name=value` or `; name="value"` parameters, blanks and folding
/// only between them, type, subtype and names lowercased as mail-parser
/// does. `None` for anything else (comments, RFC 2231 parameters, encoded
/// words, escapes, empty values, blanks around `=`, non-ASCII).
///
/// Why: mail-parser's content-type parser was ~3,000 instructions per
/// simulated message (top level and each part); the tests
/// `lean_headers_equal_mail_parser_on_real_and_mutated_headers` and
/// `plain_content_type_equals_mail_parser` compare the results.
fn plain_content_type(value: &[u8]) -> Option<HeaderValue<'_>> {
    let v = value.trim_ascii();
    let skip_ws = |v: &[u8], mut i: usize| {
        while v.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let token_end = |v: &[u8], i: usize, ok: fn(u8) -> bool| {
        i + v
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| ok(b))
            .count()
    };
    let slash = token_end(v, 0, mime_token_byte);
    if slash == 0 || v.get(slash) != Some(&b'/') {
        return None;
    }
    let sub_end = token_end(v, slash + 1, mime_token_byte);
    if sub_end == slash + 1 {
        return None;
    }
    let c_type = lower_cow(v.get(..slash)?)?;
    let c_subtype = lower_cow(v.get(slash + 1..sub_end)?)?;
    let mut attributes: Vec<mail_parser::Attribute<'_>> = Vec::new();
    let mut i = sub_end;
    loop {
        i = skip_ws(v, i);
        if i >= v.len() {
            break;
        }
        if v.get(i) != Some(&b';') {
            return None;
        }
        i = skip_ws(v, i + 1);
        if i >= v.len() {
            break;
        }
        let name_end = token_end(v, i, mime_token_byte);
        if name_end == i || v.get(name_end) != Some(&b'=') {
            return None;
        }
        let name = lower_cow(v.get(i..name_end)?)?;
        let (value, next) = if v.get(name_end + 1) == Some(&b'"') {
            let rest = v.get(name_end + 2..)?;
            let close = memchr::memchr(b'"', rest)?;
            let inner = rest.get(..close)?;
            if !inner.iter().all(|&b| {
                PLAIN_QUOTED_NAME
                    .get(usize::from(b))
                    .copied()
                    .unwrap_or(false)
                    || b == b'='
            }) || find_pair(inner, b'=', b'?').is_some()
            {
                return None;
            }
            (inner, name_end + 2 + close + 1)
        } else {
            let end = token_end(v, name_end + 1, mime_value_byte);
            (v.get(name_end + 1..end)?, end)
        };
        if value.is_empty() {
            return None;
        }
        attributes.push(mail_parser::Attribute {
            name,
            value: Cow::Borrowed(std::str::from_utf8(value).ok()?),
        });
        i = next;
    }
    Some(HeaderValue::ContentType(mail_parser::ContentType {
        c_type,
        c_subtype: Some(c_subtype),
        attributes: if attributes.is_empty() {
            None
        } else {
            Some(attributes)
        },
    }))
}

/// A top-level text part: its decoded text goes to `texts`; returns the
/// transfer encoding and the end offset.
fn single_text<'x>(
    stream: &mut MessageStream<'x>,
    headers: &Vec<mail_parser::Header<'x>>,
    content_type: Option<&mail_parser::ContentType<'x>>,
    texts: &mut LeanTexts<'x>,
) -> Option<(Encoding, usize)> {
    let raw = stream.bytes(0..stream.len());
    let offset_body = stream.offset();
    let html = content_type
        .and_then(|ct| ct.subtype())
        .is_some_and(|s| s.eq_ignore_ascii_case("html"));
    let (encoding, (offset_end, bytes)) =
        match headers.header_value(&HeaderName::ContentTransferEncoding) {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => {
                let body = raw.get(offset_body..).unwrap_or_default();
                match plain_base64(body) {
                    // mail-parser's loop reads to the end (no boundary).
                    Some(decoded) => {
                        stream.seek_end();
                        (Encoding::Base64, (raw.len(), Cow::Owned(decoded)))
                    }
                    None => (Encoding::Base64, stream.decode_base64_mime(b"")),
                }
            }
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
                // Same bytes as mail-parser's decoder, several times faster.
                let body = raw.get(offset_body..).unwrap_or_default();
                let decoded = crate::quoted_printable::decode(body)?;
                stream.seek_end();
                (Encoding::QuotedPrintable, (raw.len(), Cow::Owned(decoded)))
            }
            _ => {
                // `mime_part(b"")`: everything to the end, without its byte loop.
                stream.seek_end();
                (
                    Encoding::None,
                    (raw.len(), Cow::Borrowed(raw.get(offset_body..)?)),
                )
            }
        };
    // An encoding problem, or bytes mail-parser would read as another part.
    if offset_end == usize::MAX || offset_end != raw.len() || stream.offset() < raw.len() {
        return None;
    }
    let charset = content_type.and_then(|ct| ct.attribute("charset"));
    texts.push((part_text(bytes, charset)?, html));
    Some((encoding, offset_end))
}

/// The parts of a multipart whose first delimiter `stream` is before (as
/// mail-parser's `parse_` loop walks them); `None` for anything this path
/// does not reproduce exactly.
fn multipart<'x>(
    parser: &MessageParser,
    stream: &mut MessageStream<'x>,
    boundary: Vec<u8>,
    bounded: bool,
    texts: &mut LeanTexts<'x>,
) -> Option<()> {
    if !stream.seek_next_part(&boundary) {
        return None;
    }
    stream.skip_crlf();
    let mut stack = vec![boundary];
    let mut headers = Vec::new();
    // Each part (at most one per delimiter, so this ends).
    loop {
        headers.clear();
        let at = stream.offset();
        match lean_headers(
            stream.bytes(0..stream.len()),
            at,
            None,
            bounded,
            &mut headers,
        ) {
            Some(body) => stream.skip_bytes(body - at),
            None => {
                if !stream.parse_headers(parser, &mut headers) {
                    return None;
                }
            }
        }
        let boundary = stack.last()?;
        let content_type = headers
            .header_value(&HeaderName::ContentType)
            .and_then(|c| c.as_content_type());
        let is_text = match content_type {
            None => true,
            Some(ct) => match ct.ctype() {
                "multipart" => {
                    if ct.subtype() == Some("digest") {
                        return None;
                    }
                    let inner = ct.attribute("boundary")?.as_bytes().to_vec();
                    if !stream.seek_next_part(&inner) {
                        return None;
                    }
                    stack.push(inner);
                    stream.skip_crlf();
                    continue;
                }
                "message" => return None,
                "text" => true,
                _ => false,
            },
        };
        let encoding = match headers.header_value(&HeaderName::ContentTransferEncoding) {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => Encoding::Base64,
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
                Encoding::QuotedPrintable
            }
            _ => Encoding::None,
        };
        if is_text {
            let (end, bytes) = match encoding {
                Encoding::Base64 => match base64_part(stream, boundary) {
                    Some((end, bytes)) => (end, Cow::Owned(bytes)),
                    None => stream.decode_base64_mime(boundary),
                },
                Encoding::QuotedPrintable => match qp_part(stream, boundary) {
                    Some((end, text)) => (end, Cow::Owned(text)),
                    None => stream.decode_quoted_printable_mime(boundary),
                },
                Encoding::None => {
                    let (start, _, end) = find_delimiter(stream, boundary)?;
                    (end, Cow::Borrowed(stream.bytes(start..end)))
                }
            };
            if end == usize::MAX {
                return None;
            }
            let html = content_type
                .and_then(|ct| ct.subtype())
                .is_some_and(|s| s.eq_ignore_ascii_case("html"));
            let charset = content_type.and_then(|ct| ct.attribute("charset"));
            texts.push((part_text(bytes, charset)?, html));
        } else {
            match encoding {
                Encoding::QuotedPrintable => {
                    if stream.decode_quoted_printable_mime(boundary).0 == usize::MAX {
                        return None;
                    }
                }
                Encoding::Base64 => {
                    let (start, at, _) = find_delimiter(stream, boundary)?;
                    if !base64_accepted(stream.bytes(start..at)) {
                        return None;
                    }
                }
                Encoding::None => {
                    find_delimiter(stream, boundary)?;
                }
            }
        }
        // After a part: the end of its multipart (and maybe of enclosing
        // ones), or the headers of the next part.
        while stream.is_multipart_end() {
            stack.pop();
            let Some(parent) = stack.last() else {
                // The end of the top-level multipart: mail-parser ignores
                // the epilogue.
                return Some(());
            };
            stream.seek_next_part_offset(parent)?;
        }
    }
}

/// mail-parser's `mime_part` boundary search without its byte loop: the
/// first `--boundary` after the stream position (its loop finds exactly
/// that one). Moves the stream past the boundary and returns the part's
/// start, the delimiter's position and mail-parser's end offset of the part
/// (before the line break that precedes the delimiter).
fn find_delimiter(
    stream: &mut MessageStream<'_>,
    boundary: &[u8],
) -> Option<(usize, usize, usize)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    let end = if at > start && data.get(at - 1) == Some(&b'\n') {
        if at - 1 > start && data.get(at - 2) == Some(&b'\r') {
            at - 2
        } else {
            at - 1
        }
    } else {
        at
    };
    stream.skip_bytes(at + 2 + boundary.len() - start);
    Some((start, at, end))
}

/// mail-parser's `decode_quoted_printable_mime` for a part inside a
/// multipart, with [`crate::quoted_printable::decode`]: that loop decodes
/// up to and including the first `-` of the delimiter, then drops that `-`
/// (and the line break before it, when there is one). `None` (the stream
/// unmoved) for the cases left to mail-parser: no delimiter, a `-` before
/// the delimiter, an encoding error, too little output to drop.
fn qp_part(stream: &mut MessageStream<'_>, boundary: &[u8]) -> Option<(usize, Vec<u8>)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    if at > start && data.get(at - 1) == Some(&b'-') {
        return None;
    }
    let mut buf = crate::quoted_printable::decode(data.get(start..=at)?)?;
    let crlf = if memchr::memchr(b'\r', data.get(start..at)?).is_some() {
        2
    } else {
        1
    };
    let after_newline = at > start && data.get(at - 1) == Some(&b'\n');
    let drop = if after_newline { crlf + 1 } else { 1 };
    buf.truncate(buf.len().checked_sub(drop)?);
    let end = if after_newline {
        if at - 1 > start && data.get(at - 2) == Some(&b'\r') {
            at - 2
        } else {
            at - 1
        }
    } else {
        at
    };
    stream.skip_bytes(at + 2 + boundary.len() - start);
    Some((end, buf))
}

/// mail-parser's `decode_base64_mime` for a text part inside a multipart,
/// with [`plain_base64`]: a body without `-` ends at the first
/// `--boundary` (where that loop stops), and the end offset is the one
/// [`find_delimiter`] gives (as the loop computes it). `None` (the stream
/// unmoved) for everything else.
fn base64_part(stream: &mut MessageStream<'_>, boundary: &[u8]) -> Option<(usize, Vec<u8>)> {
    let start = stream.offset();
    let data = stream.bytes(0..stream.len());
    let at = delimiter_at(data, start, boundary)?;
    let body = data.get(start..at)?;
    if memchr::memchr(b'-', body).is_some() {
        return None;
    }
    let decoded = plain_base64(body)?;
    let (_, _, end) = find_delimiter(stream, boundary)?;
    Some((end, decoded))
}

/// Values of the base64 alphabet (the one mail-parser's `BASE64_MAP`
/// accepts, checked by a unit test); 0xff for every other byte.
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static B64_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0usize;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The bytes mail-parser's `decode_base64_mime` gives for `body` in the
/// plain case, four characters at a time instead of its byte loop: lines
/// (LF or CRLF, empty ones skipped) of whole groups of four alphabet
/// characters, the last line possibly ending in a partial group and `=`
/// padding. `None` for anything else (blanks, stray bytes, a group split
/// across lines, data after the padding): mail-parser decodes those.
///
/// Why: on simulated spam (base64 text parts in cp1251 and KOI8-R) that
/// byte loop was ~4 % of extraction; an oracle test compares the two on
/// random and mutated bodies.
fn plain_base64(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let mut rest = body;
    let mut padded = false;
    while !rest.is_empty() {
        let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = rest.get(..nl)?;
        rest = rest.get(nl + 1..).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if padded {
            return None;
        }
        let pad = line.iter().rev().take_while(|&&b| b == b'=').count();
        let chars = line.get(..line.len() - pad)?;
        padded = pad > 0;
        let groups = chars.chunks_exact(4);
        let tail = groups.remainder();
        for g in groups {
            let v = |i: usize| {
                u32::from(
                    B64_VALUE
                        .get(usize::from(*g.get(i).unwrap_or(&0)))
                        .copied()
                        .unwrap_or(0xff),
                )
            };
            let (a, b, c, d) = (v(0), v(1), v(2), v(3));
            if (a | b | c | d) > 63 {
                return None;
            }
            let w = (a << 18) | (b << 12) | (c << 6) | d;
            let [_, x, y, z] = w.to_be_bytes();
            out.extend_from_slice(&[x, y, z]);
        }
        if !tail.is_empty() {
            // A partial group: only before padding (mail-parser's `=`
            // flushes it); one character alone, or no padding, is left to
            // mail-parser.
            if !padded || tail.len() == 1 {
                return None;
            }
            let mut w = 0u32;
            for (i, &ch) in tail.iter().enumerate() {
                let v = u32::from(B64_VALUE.get(usize::from(ch)).copied().unwrap_or(0xff));
                if v > 63 {
                    return None;
                }
                w |= v << (18 - 6 * i);
            }
            let [_, x, y, _] = w.to_be_bytes();
            out.push(x);
            if tail.len() == 3 {
                out.push(y);
            }
        }
    }
    Some(out)
}

/// Position of the first `a` followed by `b` in `hay`. For the two-byte
/// needles here (`--`, `=?`) this is cheaper than `memmem::find`, which
/// builds a searcher on every call.
fn find_pair(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    memchr::memchr_iter(a, hay).find(|&i| hay.get(i + 1) == Some(&b))
}

/// Position of the first `--boundary` at or after `start`.
fn delimiter_at(data: &[u8], start: usize, boundary: &[u8]) -> Option<usize> {
    if boundary.is_empty() {
        return None;
    }
    let rest = data.get(start..)?;
    let mut from = 0usize;
    loop {
        let p = from + find_pair(rest.get(from..)?, b'-', b'-')?;
        if rest.get(p + 2..)?.starts_with(boundary) {
            return Some(start + p);
        }
        from = p + 1;
    }
}

/// Whether mail-parser's `decode_base64_mime` accepts `body` (the bytes
/// before the delimiter): only the alphabet, `=`, blanks and line breaks,
/// and a `-` neither doubled nor just before the delimiter's `--`.
fn base64_accepted(body: &[u8]) -> bool {
    // Branch-free within each chunk of 256 bytes (attachments are the
    // longest bodies a message has; a byte-by-byte `all` was ~4 % of the
    // native profile).
    body.chunks(256).all(|c| {
        c.iter().fold(0u8, |bad, &b| {
            bad | B64_BAD.get(usize::from(b)).copied().unwrap_or(1)
        }) == 0
    }) && find_pair(body, b'-', b'-').is_none()
        && body.last() != Some(&b'-')
}

/// 1 for the bytes [`base64_accepted`] rejects: everything but ASCII
/// letters and digits, `+ / = - `, blank and line breaks.
// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
static B64_BAD: [u8; 256] = {
    let mut t = [1u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric()
            || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'-')
        {
            t[i] = 0;
        }
        i += 1;
    }
    t
};

/// mail-parser's conversion of a text part's bytes to text, skipped when
/// it cannot change them (ASCII in an ASCII-compatible charset).
fn part_text<'x>(bytes: Cow<'x, [u8]>, charset: Option<&str>) -> Option<Cow<'x, str>> {
    let ascii_safe = charset.is_none_or(|c| {
        ASCII_SAFE_CHARSETS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(c.trim()) && k.len() == c.len())
    });
    Some(if bytes.is_ascii() && ascii_safe {
        match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).ok()?),
            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).ok()?),
        }
    } else {
        if let Some(c) = charset
            && let Some(text) = single_byte_text(&bytes, c)
        {
            return Some(Cow::Owned(text));
        }
        // Exactly mail-parser's conversion.
        match (bytes, charset.and_then(|c| charset_decoder(c.as_bytes()))) {
            (Cow::Owned(v), Some(dec)) => Cow::Owned(dec(&v)),
            (Cow::Owned(v), None) => Cow::Owned(
                String::from_utf8(v)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            (Cow::Borrowed(b), Some(dec)) => Cow::Owned(dec(b)),
            (Cow::Borrowed(b), None) => String::from_utf8_lossy(b),
        }
    })
}

/// Charsets (in mail-parser's lookup form: ASCII-lowercased, `-` as `_`)
/// that mail-parser decodes with a single-byte table (`single_byte.rs`): a
/// unit test checks each against mail-parser's decoder on every byte.
const SINGLE_BYTE_CHARSETS: [&[u8]; 40] = [
    b"us_ascii",
    b"ascii",
    b"iso_8859_1",
    b"iso_8859_2",
    b"iso_8859_3",
    b"iso_8859_4",
    b"iso_8859_5",
    b"iso_8859_6",
    b"iso_8859_7",
    b"iso_8859_8",
    b"iso_8859_9",
    b"iso_8859_10",
    b"iso_8859_13",
    b"iso_8859_14",
    b"iso_8859_15",
    b"iso_8859_16",
    b"iso8859_1",
    b"iso8859_2",
    b"iso8859_15",
    b"latin1",
    b"windows_1250",
    b"windows_1251",
    b"windows_1252",
    b"windows_1253",
    b"windows_1254",
    b"windows_1255",
    b"windows_1256",
    b"windows_1257",
    b"windows_1258",
    b"cp1250",
    b"cp1251",
    b"cp1252",
    b"cp1253",
    b"cp1254",
    b"cp1255",
    b"cp1256",
    b"cp1257",
    b"cp1258",
    b"koi8_r",
    b"koi8_u",
];

/// The non-ASCII half of a single-byte charset's table.
type HighTable = [char; 128];

thread_local! {
    /// Tables of the single-byte charsets seen so far (by lookup name).
    static HIGH_TABLES: RefCell<Vec<(Vec<u8>, HighTable)>> = const { RefCell::new(Vec::new()) };
}

/// mail-parser's single-byte charset conversion, but copying ASCII runs
/// whole instead of pushing one `char` per byte through the table.
///
/// Why it exists: mail-parser's `single_byte_decoder` pushes every byte of
/// a text part through its table (a `char` push per byte); with non-ASCII
/// text in Latin-1 / cp1252 parts (common in spam) that was ~33,000
/// instructions per message in the callgrind profile. The table for bytes
/// 0x80..=0xFF is read from mail-parser's own decoder once per charset
/// (and the ASCII half is checked to be the identity), so the output is
/// the same string. `None` for any other charset: the caller then uses
/// mail-parser's decoder.
fn single_byte_text(bytes: &[u8], charset: &str) -> Option<String> {
    let name = charset.as_bytes();
    if name.len() > 45 {
        return None;
    }
    let mut key = [0u8; 45];
    for (d, &c) in key.iter_mut().zip(name) {
        *d = match c {
            b'A'..=b'Z' => c + 32,
            b'-' => b'_',
            _ => c,
        };
    }
    let key = key.get(..name.len())?;
    if !SINGLE_BYTE_CHARSETS.contains(&key) {
        return None;
    }
    HIGH_TABLES.with(|cell| {
        let mut tables = cell.try_borrow_mut().ok()?;
        let idx = match tables.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                let table = high_table(charset_decoder(name)?)?;
                tables.push((key.to_vec(), table));
                tables.len() - 1
            }
        };
        let (_, table) = tables.get(idx)?;
        let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
        let mut rest = bytes;
        loop {
            let run = rest.iter().position(|&b| b >= 0x80).unwrap_or(rest.len());
            out.push_str(std::str::from_utf8(rest.get(..run)?).ok()?);
            let Some(&b) = rest.get(run) else { break };
            out.push(*table.get(usize::from(b & 0x7f))?);
            rest = rest.get(run + 1..)?;
        }
        Some(out)
    })
}

/// The table of a decoder for bytes 0x80..=0xFF, if it maps each ASCII
/// byte to itself and each other byte to exactly one `char`.
fn high_table(dec: mail_parser::decoders::charsets::DecoderFnc) -> Option<HighTable> {
    let ascii: Vec<u8> = (0u8..0x80).collect();
    if dec(&ascii).as_bytes() != &ascii[..] {
        return None;
    }
    let high: Vec<u8> = (0x80u8..=0xff).collect();
    let decoded = dec(&high);
    let mut table = ['\0'; 128];
    let mut chars = decoded.chars();
    for slot in &mut table {
        *slot = chars.next()?;
    }
    chars.next().is_none().then_some(table)
}

/// Base64 that skips every byte outside the alphabet and stops at padding
/// or at a MIME delimiter line.
fn lenient_base64(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut prev = b'\n';
    for (i, &b) in raw.iter().enumerate() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'-' if prev == b'\n' && raw.get(i + 1) == Some(&b'-') => break,
            _ => {
                prev = b;
                continue;
            }
        };
        prev = b;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(trust: &TrustConfig) -> ExtractContext<'_> {
        ExtractContext::new(
            trust,
            SourceRef::new("t.eml", 0, 0),
            Timestamp::parse("2009-01-01").unwrap(),
        )
    }

    #[test]
    fn an_encoded_word_glued_to_text_is_read_as_written() {
        let subject = |v: &str| {
            let raw = format!("From: a@b.example\nSubject:{v}\n\nbody\n");
            let trust = TrustConfig::default();
            extract(raw.as_bytes(), &ctx(&trust))
                .unwrap()
                .message
                .subject
        };
        // "$1/Da" + "y, phishing@pot": no space inserted.
        assert_eq!(
            subject(" =?UTF-8?B?Rm9yICQxL0Rh?=y, phishing@pot").as_deref(),
            Some("For $1/Day, phishing@pot")
        );
        // Two words separated by white space, then glued text.
        assert_eq!(
            subject(" =?utf-8?q?V?=\n =?utf-8?q?=C3=A9rifiez?=z  now").as_deref(),
            Some("Vérifiezz now")
        );
        // Glued before: "V" + "érifiez".
        assert_eq!(
            subject(" V=?UTF-8?B?w6lyaWZpZXo=?= vos droits").as_deref(),
            Some("Vérifiez vos droits")
        );
        // Not glued: mail-parser's reading, unchanged.
        assert_eq!(
            subject(" =?utf-8?q?caf=C3=A9?= au lait").as_deref(),
            Some("café au lait")
        );
        assert_eq!(glued_encoded_words(b" =?utf-8?q?caf=C3=A9?= au lait"), None);
        // A broken encoded word stays text.
        assert_eq!(
            glued_encoded_words(b"=?x?=y =?utf-8?q?a?=b").as_deref(),
            Some("=?x?=y ab")
        );
    }

    #[test]
    fn a_mismatched_boundary_is_recovered_from_the_body() {
        // Declared `--=_Hs`, written `----=_Gl`: mail-parser alone finds no
        // part; the body's own delimiter lines give the parts.
        let msg = |declared: &str| {
            format!(
                "From: a@b.example\n\
Subject: s\n\
MIME-Version: 1.0\n\
Content-Type: multipart/alternative;\n\tboundary=\"{declared}\"\n\n\
----=_Gl\n\
Content-Type: text/html;\n\
Content-Transfer-Encoding: base64\n\n\
PGEgaHJlZj0iaHR0cDovL2NhbG9yc29sYXIudGsvP3Y9MSI+eDwvYT4=\n\
----=_Gl--\n"
            )
        };
        let trust = TrustConfig::default();
        let hosts = |raw: &str| -> Vec<String> {
            extract(raw.as_bytes(), &ctx(&trust))
                .unwrap()
                .urls
                .into_iter()
                .map(|u| u.host)
                .collect()
        };
        assert_eq!(hosts(&msg("--=_Hs")), ["calorsolar.tk"]);
        // The declared boundary written as declared: read as always.
        assert_eq!(hosts(&msg("--=_Gl")), ["calorsolar.tk"]);
        // No delimiter line followed by a part header: no recovery.
        let plain =
            b"Content-Type: multipart/mixed; boundary=zz\n\n--not-a-boundary\nhttp://x.example/\n";
        let m = MessageParser::default().parse(plain).unwrap();
        let header_len = memchr::memmem::find(plain, b"\n\n").unwrap() + 2;
        assert!(recover_boundary(&m, plain, header_len).is_none());
        // The patched copy differs only in the boundary parameter.
        let raw = msg("--=_Hs");
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let header_len = raw.find("\n\n").unwrap() + 2;
        let patched = recover_boundary(&m, raw.as_bytes(), header_len).unwrap();
        assert_eq!(
            String::from_utf8(patched).unwrap(),
            raw.replace("boundary=\"--=_Hs\"", "boundary=\"--=_Gl\"")
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
    fn ascii_safe_charsets_map_ascii_to_itself() {
        let ascii: Vec<u8> = (0u8..128).collect();
        let want = String::from_utf8(ascii.clone()).unwrap();
        for name in ASCII_SAFE_CHARSETS {
            for n in [name.to_string(), name.to_ascii_uppercase()] {
                if let Some(dec) = charset_decoder(n.as_bytes()) {
                    assert_eq!(dec(&ascii), want, "{n}");
                }
            }
        }
    }

    /// The run-copying single-byte conversion equals mail-parser's decoder
    /// for every listed charset (any case), on every byte value and on
    /// random mixed text.
    #[test]
    fn single_byte_charsets_equal_mail_parser() {
        let all: Vec<u8> = (0u8..=255).collect();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for name in SINGLE_BYTE_CHARSETS {
            let name = std::str::from_utf8(name).unwrap();
            for n in [
                name.to_string(),
                name.replace('_', "-").to_ascii_uppercase(),
            ] {
                let dec = charset_decoder(n.as_bytes()).unwrap();
                assert_eq!(single_byte_text(&all, &n).unwrap(), dec(&all), "{n}");
                for _ in 0..200 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut y = x;
                    let text: Vec<u8> = (0..(x % 64))
                        .map(|_| {
                            y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            let b = (y >> 33) as u8;
                            if y & 1 == 0 { b & 0x7f } else { b }
                        })
                        .collect();
                    assert_eq!(single_byte_text(&text, &n).unwrap(), dec(&text), "{n}");
                }
            }
        }
        assert_eq!(single_byte_text(b"caf\xe9", "utf-8"), None);
        assert_eq!(single_byte_text(b"caf\xe9", "gb2312"), None);
    }

    #[test]
    fn base64_check_takes_exactly_the_alphabet() {
        for b in 0u8..=255 {
            let ok = b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'-');
            let mut body = vec![b'A'; 700];
            body[300] = b;
            body[699] = b'A';
            assert_eq!(base64_accepted(&body), ok, "{b}");
        }
        assert!(!base64_accepted(b"AB--CD"));
        assert!(!base64_accepted(b"ABCD-"));
        assert!(base64_accepted(b"AB-CD\r\n"));
    }

    /// `B64_VALUE` accepts exactly mail-parser's alphabet, and
    /// `plain_base64` / `base64_part` give exactly `decode_base64_mime`'s
    /// bytes, end offset and stream position whenever they answer, on
    /// random bodies wrapped, padded and mutated in the ways MUAs and
    /// spamware do (and the plain ones must be answered).
    #[test]
    fn plain_base64_equals_mail_parser() {
        use mail_parser::decoders::base64::BASE64_MAP;
        for b in 0..=255usize {
            let ours = B64_VALUE[b] < 64;
            let theirs = BASE64_MAP[0][b] < 0x01ff_ffff;
            assert_eq!(ours, theirs, "{b}");
        }
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as usize
        };
        let (mut answered, mut plain_cases) = (0usize, 0usize);
        for round in 0..6000 {
            // Encode random bytes in standard base64.
            let n = next(400);
            let mut enc = Vec::new();
            let mut full_pad = true;
            let bytes: Vec<u8> = (0..n).map(|_| next(256) as u8).collect();
            for c in bytes.chunks(3) {
                let w = (u32::from(c[0]) << 16)
                    | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..=c.len() {
                    enc.push(alphabet[((w >> (18 - 6 * i)) & 63) as usize]);
                }
                for _ in c.len()..3 {
                    if next(5) > 0 {
                        enc.push(b'=');
                    } else {
                        full_pad = false;
                    }
                }
            }
            let width = if next(4) == 0 { 1 + next(90) } else { 76 };
            let eol: &[u8] = if next(2) == 0 { b"\r\n" } else { b"\n" };
            let mut body = Vec::new();
            for line in enc.chunks(width) {
                body.extend_from_slice(line);
                body.extend_from_slice(eol);
            }
            let mutated = round % 3 == 0 && !body.is_empty();
            if mutated {
                for _ in 0..1 + next(3) {
                    let at = next(body.len() as u64 + 1);
                    let junk: &[&[u8]] = &[
                        b"-", b" ", b"=", b"*", b"\n", b"\r\n", b"A", b"\t", b"==", b"\xff",
                    ];
                    let j = junk[next(junk.len() as u64)];
                    body.splice(at..at, j.iter().copied());
                }
            }
            let plain = !mutated && width % 4 == 0 && full_pad;
            plain_cases += usize::from(plain);
            // Top level: the body to the end of the message.
            let mut raw = b"Content-Transfer-Encoding: base64\n\n".to_vec();
            let off = raw.len();
            raw.extend_from_slice(&body);
            let mut st = MessageStream::new(&raw);
            st.skip_bytes(off);
            let want = st.decode_base64_mime(b"");
            if let Some(got) = plain_base64(&body) {
                answered += 1;
                assert_eq!(
                    (raw.len(), got.as_slice()),
                    (want.0, &want.1[..]),
                    "{body:?}"
                );
            } else {
                assert!(!plain, "{body:?}");
            }
            // In a multipart: up to the delimiter.
            let mut raw = b"--b\n".to_vec();
            let off = raw.len();
            raw.extend_from_slice(&body);
            raw.extend_from_slice(if next(2) == 0 {
                b"\n--b--\n"
            } else {
                b"--b\nrest"
            });
            let mut theirs = MessageStream::new(&raw);
            theirs.skip_bytes(off);
            let want = theirs.decode_base64_mime(b"b");
            let mut ours = MessageStream::new(&raw);
            ours.skip_bytes(off);
            match base64_part(&mut ours, b"b") {
                Some((end, got)) => {
                    assert_eq!((end, got.as_slice()), (want.0, &want.1[..]), "{raw:?}");
                    assert_eq!(ours.offset(), theirs.offset(), "{raw:?}");
                }
                None => assert_eq!(ours.offset(), off),
            }
        }
        assert!(answered * 2 > plain_cases, "{answered} of {plain_cases}");
    }

    /// Whenever `plain_address` answers, mail-parser's `parse_address`
    /// gives the same value and stops at the end of the field, on random
    /// values built from the pieces address syntax is made of.
    #[test]
    fn plain_address_equals_mail_parser() {
        let pieces: &[&[u8]] = &[
            b"\"",
            b"<",
            b">",
            b"@",
            b" ",
            b"\t",
            b"a",
            b"Bob",
            b"x.y",
            b"-",
            b"_",
            b".",
            b",",
            b";",
            b":",
            b"(",
            b")",
            b"\\",
            b"=?utf-8?q?x?=",
            b"=",
            b"[",
            b"]",
            b"'",
            b"\xc3\xa9",
            b"example.com",
            b"\r",
            b"\n ",
            b"!",
            b"#",
            b"%",
            b"+",
        ];
        let mut x = 0x853C_49E6_748F_EA9Bu64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let shapes: &[&[u8]] = &[
            b" \"N\" <A>",
            b" N <A>",
            b" <A>",
            b" A",
            b"N<A>",
            b" \"N\"<A> ",
        ];
        let mut answered = 0usize;
        for _ in 0..200_000 {
            let shape = shapes[next(shapes.len())];
            let mut v = Vec::new();
            for &c in shape {
                match c {
                    b'N' | b'A' => {
                        for _ in 0..next(5) {
                            v.extend_from_slice(pieces[next(pieces.len())]);
                        }
                        if c == b'A' && next(3) > 0 {
                            v.extend_from_slice(b"u@example.com");
                        }
                    }
                    _ => v.push(c),
                }
            }
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b"\r\n" });
            let Some(got) = plain_address(&v) else {
                continue;
            };
            answered += 1;
            let mut st = MessageStream::new(&v);
            let want = st.parse_address();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&v));
            assert_eq!(st.offset(), v.len(), "{:?}", String::from_utf8_lossy(&v));
        }
        assert!(answered > 10_000, "{answered}");
    }

    /// Whenever `plain_id` or `plain_date` answers, mail-parser's parser
    /// gives the same value and stops at the end of the field, on random
    /// values near the shapes they take (and on every valid date form).
    #[test]
    fn plain_id_and_date_equal_mail_parser() {
        let mut x = 0xD1B5_4A32_D192_ED03u64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let id_pieces: &[&[u8]] = &[
            b"<",
            b">",
            b"@",
            b" ",
            b"\t",
            b"abc",
            b"1.2",
            b"$",
            b"-",
            b"\"",
            b"(",
            b")",
            b",",
            b"\\",
            b"=",
            b"[",
            b"]",
            b"\xc3\xa9",
            b"\r",
            b"\n ",
            b"x.example",
        ];
        let (mut ids, mut dates) = (0usize, 0usize);
        for _ in 0..100_000 {
            let mut v = b" <".to_vec();
            for _ in 0..next(5) {
                v.extend_from_slice(id_pieces[next(id_pieces.len())]);
            }
            if next(4) > 0 {
                v.push(b'>');
            }
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b" \r\n" });
            if let Some(got) = plain_id(&v) {
                ids += 1;
                let mut st = MessageStream::new(&v);
                assert_eq!(got, st.parse_id(), "{:?}", String::from_utf8_lossy(&v));
                assert_eq!(st.offset(), v.len(), "{:?}", String::from_utf8_lossy(&v));
            }
        }
        let days = ["Mon, ", "Tue, ", "Sun, ", "", "Mon,", "Xyz, ", "mon, "];
        let months = ["Jan", "Feb", "Jun", "Dec", "jan", "JAN", "Foo"];
        for _ in 0..200_000 {
            let r = |next: &mut dyn FnMut(usize) -> usize, n: usize| next(n);
            let text = format!(
                " {}{} {} {} {:02}:{:02}:{:02} {}{:02}{:02}{}",
                days[r(&mut next, days.len())],
                r(&mut next, 34),
                months[r(&mut next, months.len())],
                [1969, 1970, 2008, 2099, 2100, 208][r(&mut next, 6)],
                r(&mut next, 26),
                r(&mut next, 62),
                r(&mut next, 62),
                ["+", "-", "", "*"][r(&mut next, 4)],
                r(&mut next, 26),
                r(&mut next, 62),
                ["\n", " \r\n", " (UTC)\n", "\n\tx\n"][r(&mut next, 4)],
            );
            let v = text.as_bytes();
            if let Some(got) = plain_date(v) {
                dates += 1;
                let mut st = MessageStream::new(v);
                assert_eq!(got, st.parse_date(), "{text:?}");
                assert_eq!(st.offset(), v.len(), "{text:?}");
            }
        }
        assert!(ids > 5_000 && dates > 5_000, "{ids} {dates}");
    }

    /// Whenever `plain_content_type` answers, mail-parser gives the same
    /// value and stops at the end of the field, on random values built from
    /// the pieces of content-type syntax.
    #[test]
    fn plain_content_type_equals_mail_parser() {
        let pieces: &[&[u8]] = &[
            b"text",
            b"/",
            b"html",
            b"Plain",
            b"multipart",
            b";",
            b" ",
            b"\t",
            b"\n\t",
            b"\r\n ",
            b"charset",
            b"=",
            b"\"",
            b"us-ascii",
            b"ISO-8859-1",
            b"boundary",
            b"----=_Next",
            b"=?",
            b"*",
            b"(",
            b")",
            b"\\",
            b"'",
            b"x.y",
            b"\xc3\xa9",
            b",",
            b"name*0",
            b"\"\"",
            b"Charset",
            b"FORMAT",
            b"; charset=",
            b"; Charset=\"x\"",
        ];
        let mut x = 0x2F1E_4A5C_0D3B_9E87u64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let starts: &[&[u8]] = &[
            b" text/html; charset=\"",
            b" text/plain; charset=",
            b" multipart/alternative;\n\tboundary=\"",
            b" Text/HTML",
            b" ",
        ];
        let mut answered = 0usize;
        for _ in 0..200_000 {
            let mut v = starts[next(starts.len())].to_vec();
            for _ in 0..next(6) {
                v.extend_from_slice(pieces[next(pieces.len())]);
            }
            v.extend_from_slice(if next(2) == 0 { b"\n" } else { b"\r\n" });
            // Only whole fields: a line break must be followed by a blank.
            let body = &v[..v.len() - 1];
            if body
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && !matches!(v.get(i + 1), Some(b' ' | b'\t')))
            {
                continue;
            }
            let Some(got) = plain_content_type(&v) else {
                continue;
            };
            answered += 1;
            let mut st = MessageStream::new(&v);
            assert_eq!(
                got,
                st.parse_content_type(),
                "{:?}",
                String::from_utf8_lossy(&v)
            );
            assert_eq!(st.offset(), v.len(), "{:?}", String::from_utf8_lossy(&v));
        }
        assert!(answered > 10_000, "{answered}");
    }

    #[test]
    fn fast_path_takes_single_text_parts_only() {
        let p = Extractor::new().parser;
        let one = |raw: &[u8]| {
            lean_parse(&p, raw).and_then(|(_, mut t)| {
                let (t, h) = t.pop()?;
                Some((t.into_owned(), h))
            })
        };
        assert_eq!(
            one(b"Subject: x\nContent-Type: text/html; charset=iso-8859-1\n\n<b>hi</b>\n"),
            Some(("<b>hi</b>\n".into(), true))
        );
        assert_eq!(
            one(b"Content-Transfer-Encoding: quoted-printable\n\nhttp://x.example/?a=3D1\n"),
            Some(("http://x.example/?a=1\n".into(), false))
        );
        assert_eq!(
            one(b"Content-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n"),
            Some(("caf\u{e9}\n".into(), false))
        );
        assert_eq!(
            one(b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"),
            Some(("x".into(), false))
        );
        // Nested, with a binary part that is not decoded.
        let nested = b"Content-Type: multipart/mixed; boundary=o\n\npre\n--o\n\
Content-Type: multipart/alternative; boundary=i\n\n--i\n\
Content-Type: text/plain\n\nplain\n--i\nContent-Type: text/html\n\
Content-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--i--\n--o\n\
Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n--o--\nepilogue\n";
        let texts: Vec<_> = lean_parse(&p, nested)
            .unwrap()
            .1
            .into_iter()
            .map(|(t, h)| (t.into_owned(), h))
            .collect();
        assert_eq!(
            texts,
            [
                ("plain".to_string(), false),
                ("<b>hi</b>".to_string(), true)
            ]
        );
        // An attachment mail-parser's base64 decoder rejects: fall back.
        let bad = b"Content-Type: multipart/mixed; boundary=o\n\n--o\n\
Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0l*GODlh\n--o--\n";
        assert!(lean_parse(&p, bad).is_none());
        assert!(lean_parse(&p, b"Content-Type: message/rfc822\n\nSubject: x\n\ny\n").is_none());
        assert_eq!(one(b"Content-Type: image/gif\n\nGIF89a"), None);
    }

    /// `qp_part` and `find_delimiter` give mail-parser's bytes, end offset
    /// and stream position, on random inputs around a delimiter.
    #[test]
    fn part_decoders_equal_mail_parser_on_random_input() {
        let alphabet = b"=\r\n \t-AaF0b\xe9";
        let boundary = b"b-";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let (mut agreed, mut fell_back) = (0usize, 0usize);
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 28) as usize;
            let mut y = x;
            let mut input: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    alphabet[((y >> 33) % alphabet.len() as u64) as usize]
                })
                .collect();
            // Mostly with a delimiter somewhere.
            if !x.is_multiple_of(8) {
                let at = ((x >> 40) as usize) % (len + 1);
                input.splice(at..at, b"--b-".iter().copied());
            }
            let mut want = MessageStream::new(&input);
            let (want_end, want_buf) = want.decode_quoted_printable_mime(boundary);
            let mut got = MessageStream::new(&input);
            match qp_part(&mut got, boundary) {
                Some((end, buf)) => {
                    assert_eq!(
                        (end, &buf[..], got.offset()),
                        (want_end, &want_buf[..], want.offset()),
                        "{input:?}"
                    );
                    agreed += 1;
                }
                None => {
                    assert_eq!(got.offset(), 0);
                    fell_back += 1;
                }
            }
            let mut want = MessageStream::new(&input);
            let (want_end, want_bytes) = want.mime_part(boundary);
            let mut got = MessageStream::new(&input);
            match find_delimiter(&mut got, boundary) {
                Some((start, _, end)) => assert_eq!(
                    (end, &input[start..end], got.offset()),
                    (want_end, &want_bytes[..], want.offset()),
                    "{input:?}"
                ),
                None => assert_eq!(want_end, usize::MAX, "{input:?}"),
            }
        }
        assert!(agreed > fell_back, "{agreed} {fell_back}");
    }

    fn walk(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        } else if p.file_name().is_some_and(|n| n != "SHA256SUMS") {
            out.push(p.to_path_buf());
        }
    }

    /// The fast path and mail-parser's full parse agree field by field
    /// (relay, subject, addresses, Message-ID, URLs and hosts, fingerprint:
    /// the whole `Extracted`) on every real message in ../shared/data.
    #[test]
    fn fast_path_equals_mail_parser_on_real_mail() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
        let trust = TrustConfig::default();
        let mut fast = Extractor::new();
        // Compared with mail-parser's own loop, which lets a value parser
        // run into the next field (`bounded_fields_keep_the_next_field`).
        fast.bounded = false;
        let mut full = Extractor::new();
        full.fast_path = false;
        let (mut n, mut took_fast) = (0usize, 0usize);
        for sub in ["spam", "ham"] {
            let mut files = Vec::new();
            walk(&std::path::Path::new(data).join(sub), &mut files);
            assert!(!files.is_empty(), "no data under {data}/{sub}");
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                for raw in crate::MessageReader::sniffed(&bytes[..]).unwrap().flatten() {
                    let c = ctx(&trust);
                    let a = fast.extract(&raw.bytes, &c).map_err(|e| e.reason());
                    let b = full.extract(&raw.bytes, &c).map_err(|e| e.reason());
                    assert_eq!(a, b, "{}#{}", f.display(), raw.index);
                    n += 1;
                    let body =
                        sanity(&raw.bytes, &c.limits).map_or(&[][..], |(s, _)| &raw.bytes[s..]);
                    took_fast += usize::from(lean_parse(&fast.parser, body).is_some());
                }
            }
        }
        assert!(n > 4000, "{n}");
        // The comparison means something only if the fast path is common.
        assert!(took_fast * 10 > n * 9, "{took_fast} of {n}");
        eprintln!("{n} messages, {took_fast} through the fast path");
    }

    #[test]
    fn multipart_without_boundary_is_read_as_text() {
        let trust = TrustConfig::default();
        let mut ex = Extractor::new();
        let raw = b"From: a@b.example\nSubject: x\nContent-Type: multipart/mixed;\n\tbo\n\nvisit http://kept.example/ now\n";
        let m = ex.extract(raw, &ctx(&trust)).unwrap();
        let hosts: Vec<_> = m.urls.iter().map(|u| u.host.as_str()).collect();
        assert_eq!(hosts, ["kept.example"]);
    }

    #[test]
    fn quoted_local_parts_are_kept() {
        let trust = TrustConfig::default();
        let mut ex = Extractor::new();
        for (from, want) in [
            (
                "\" security@lloydstsb.com \"@finzioni.com",
                Some("\" security@lloydstsb.com \"@finzioni.com"),
            ),
            (
                "\"a@b.example\"@relay.example",
                Some("\"a@b.example\"@relay.example"),
            ),
            ("\"Name\" <x@y.example>", Some("x@y.example")),
            ("x@y.example", Some("x@y.example")),
        ] {
            let raw = format!("From: {from}\nSubject: s\n\nbody\n");
            let m = ex.extract(raw.as_bytes(), &ctx(&trust)).unwrap();
            assert_eq!(m.message.from_addr.as_deref(), want, "{from}");
        }
        assert_eq!(quoted_local_part(b" \"a\\\"b\"@x.example"), None);
        assert_eq!(quoted_local_part(b"\"a\"@"), None);
        assert_eq!(quoted_local_part(b"\"a\"@x y"), None);
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
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
        let mut unbounded = Extractor::new();
        unbounded.bounded = false;
        let (mut n, mut differ) = (0usize, 0usize);
        for sub in ["spam", "ham"] {
            let mut files = Vec::new();
            walk(&std::path::Path::new(data).join(sub), &mut files);
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                for raw in crate::MessageReader::sniffed(&bytes[..]).unwrap().flatten() {
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
            }
        }
        assert!(
            n > 4000 && differ > 0 && differ * 100 < n,
            "{differ} of {n}"
        );
        eprintln!("{differ} of {n} messages gain a field");
    }

    /// `lean_headers` gives mail-parser's `parse_headers` result (every
    /// non-ignored field, in order, same values and offsets, same body
    /// offset) on the header block of every real message and on mutated
    /// copies with the bytes header parsers react to spliced in; it must
    /// take most real messages.
    #[test]
    fn lean_headers_equal_mail_parser_on_real_and_mutated_headers() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
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
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let (mut n, mut lean, mut mutated) = (0usize, 0usize, 0usize);
        let mut check = |raw: &[u8], real: bool| {
            let mut want = Vec::new();
            let mut st = MessageStream::new(raw);
            let ok = st.parse_headers(&parser, &mut want);
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
            if let Some(body) = lean_body {
                assert!(ok, "{:?}", String::from_utf8_lossy(raw));
                assert_eq!(body, st.offset(), "{:?}", String::from_utf8_lossy(raw));
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "{:?}", String::from_utf8_lossy(raw));
                }
                assert_eq!(got.len(), want.len(), "{:?}", String::from_utf8_lossy(raw));
                lean += usize::from(real);
            } else {
                assert!(got.is_empty());
            }
        };
        for sub in ["spam", "ham"] {
            let mut files = Vec::new();
            walk(&std::path::Path::new(data).join(sub), &mut files);
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                for m in crate::MessageReader::sniffed(&bytes[..]).unwrap().flatten() {
                    let raw = &m.bytes[..];
                    let Ok((start, _)) = sanity(raw, &Limits::default()) else {
                        continue;
                    };
                    let raw = &raw[start..];
                    n += 1;
                    check(raw, true);
                    let head = crate::headers::header_block(raw).len();
                    for _ in 0..4 {
                        let mut t = raw.to_vec();
                        for _ in 0..1 + (x % 3) {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let at = (x >> 20) as usize % (head + 1);
                            let ins = splice[(x % splice.len() as u64) as usize];
                            t.splice(at..at, ins.iter().copied());
                        }
                        check(&t, false);
                        mutated += 1;
                    }
                }
            }
        }
        assert!(n > 4000, "{n}");
        assert!(lean * 10 > n * 9, "{lean} of {n}");
        eprintln!("{n} real header blocks ({lean} lean), {mutated} mutated");
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
    fn unusable_input_has_reasons() {
        let trust = TrustConfig::default();
        let c = ctx(&trust);
        let reason = |raw: &[u8]| extract(raw, &c).unwrap_err().reason();
        assert_eq!(reason(b""), "empty");
        assert_eq!(reason(b" \r\n\n"), "empty");
        assert_eq!(reason(b"this is just text\nno header\n"), "no-header");
        assert_eq!(
            reason(&[
                0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
            ]),
            "not-mail"
        );
        let mut c2 = c.clone();
        c2.limits.max_message_size = 10;
        assert_eq!(
            extract(b"Subject: 0123456789\n\n", &c2)
                .unwrap_err()
                .reason(),
            "oversize"
        );
        let many = "X-A: 1\n".repeat(30_000) + "\nbody";
        assert_eq!(reason(many.as_bytes()), "too-many-headers");
    }
}
