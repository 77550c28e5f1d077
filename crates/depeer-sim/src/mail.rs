//! Spamtrap messages: headers with the trap's own `Received:` hop on top
//! (`from HELO (rDNS [IP])`, so that the bot is the first untrusted relay
//! for SpamAssassin's default trust inference), botnet-specific quirks
//! (X-Mailer, Message-ID form, header order, forged lower `Received:`
//! lines), MIME bodies in several charsets and transfer encodings with the
//! campaign's URLs, and deliberately malformed variants.
//!
//! Messages use `\n` line ends (as in mbox files) and always end in `\n`.

//!
//! Everything is appended to caller-owned, reused byte buffers: no
//! `format!`, no per-message allocation. A spam or legitimate message is
//! rendered straight into its mbox buffer after its `From ` line; the
//! caller hashes the message bytes and then applies the mboxrd quoting in
//! place ([`mboxrd_finish`]).

use crate::botnet::Campaign;
use crate::encode::{base64_lines, encoded_word_b, encoded_word_q, quoted_printable};
use crate::rng::Rng;
use crate::text::{self, FIRST_NAMES, LAST_NAMES, NAME_PARTS};
use crate::textbuf::{push_all, push_hex_rand, push_i64, push_ipv4, push_title, push_u64};
use crate::timefmt::{push_asctime, push_rfc5322};

/// Kinds of deliberate damage (named in truth-messages.jsonl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    MissingBoundary,
    BadBase64,
    HeaderWithoutColon,
    EightBitHeader,
    Truncated,
    NulBytes,
}

impl Malformed {
    pub(crate) const ALL: [Malformed; 6] = [
        Malformed::MissingBoundary,
        Malformed::BadBase64,
        Malformed::HeaderWithoutColon,
        Malformed::EightBitHeader,
        Malformed::Truncated,
        Malformed::NulBytes,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Malformed::MissingBoundary => "missing-final-boundary",
            Malformed::BadBase64 => "bad-base64",
            Malformed::HeaderWithoutColon => "header-without-colon",
            Malformed::EightBitHeader => "8bit-header",
            Malformed::Truncated => "truncated",
            Malformed::NulBytes => "nul-bytes",
        }
    }
}

/// The relay that hands the message to the trap.
pub(crate) struct Relay<'a> {
    pub(crate) ip: u32,
    pub(crate) helo: &'a [u8],
    pub(crate) rdns: Option<&'a [u8]>,
    pub(crate) tz_min: i32,
}

/// A spamtrap.
pub(crate) struct Trap {
    pub(crate) domain: String,
    pub(crate) mx: String,
}

/// Header order quirk of a template style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// As generated: Message-ID, Date, From, To, Subject, ...
    Plain,
    /// From first, Message-ID third (Srizbi, Storm).
    SwapFirstThird,
    /// Reversed, then first and last swapped (Mega-D).
    Reversed,
}

/// A botnet's template style: MIME structure, mailer quirks, charsets.
#[derive(Debug)]
pub(crate) struct Style {
    html: bool,
    text: bool,
    x_mailer: Option<&'static str>,
    msgid: u8,
    forged: u8,
    order: Order,
    charsets: &'static [&'static str],
    cte_html: &'static str,
    cte_text: &'static str,
    /// Storm-style messages link the site's address at times, so their
    /// bodies are rendered per message.
    pub(crate) per_message_body: bool,
}

static SRIZBI: Style = Style {
    html: true,
    text: false,
    x_mailer: None,
    msgid: 0,
    forged: 1,
    order: Order::SwapFirstThird,
    charsets: &["iso-8859-1", "windows-1252", "us-ascii"],
    cte_html: "quoted-printable",
    cte_text: "7bit",
    per_message_body: false,
};
static RUSTOCK: Style = Style {
    html: true,
    text: true,
    x_mailer: Some("Microsoft Outlook Express 6.00.2900.2180"),
    msgid: 1,
    forged: 1,
    order: Order::Plain,
    charsets: &["windows-1252", "windows-1250", "iso-8859-1"],
    cte_html: "base64",
    cte_text: "quoted-printable",
    per_message_body: false,
};
static MEGAD: Style = Style {
    html: false,
    text: true,
    x_mailer: None,
    msgid: 2,
    forged: 0,
    order: Order::Reversed,
    charsets: &["us-ascii"],
    cte_html: "7bit",
    cte_text: "7bit",
    per_message_body: false,
};
static CUTWAIL: Style = Style {
    html: true,
    text: false,
    x_mailer: Some("Microsoft Office Outlook 12.0"),
    msgid: 3,
    forged: 1,
    order: Order::Plain,
    charsets: &["koi8-r", "windows-1251", "utf-8", "us-ascii"],
    cte_html: "base64",
    cte_text: "base64",
    per_message_body: false,
};
static PUSHDO: Style = Style {
    html: true,
    text: true,
    x_mailer: Some("Microsoft Outlook Express 6.00.2800.1106"),
    msgid: 1,
    forged: 2,
    order: Order::Plain,
    charsets: &["windows-1251", "us-ascii", "utf-8"],
    cte_html: "base64",
    cte_text: "quoted-printable",
    per_message_body: false,
};
static BOBAX: Style = Style {
    html: false,
    text: true,
    x_mailer: Some("The Bat! (v3.81.14 Beta) Professional"),
    msgid: 2,
    forged: 0,
    order: Order::Plain,
    charsets: &["iso-8859-1", "us-ascii"],
    cte_html: "7bit",
    cte_text: "quoted-printable",
    per_message_body: false,
};
static ASPROX: Style = Style {
    html: true,
    text: false,
    x_mailer: None,
    msgid: 4,
    forged: 0,
    order: Order::Plain,
    charsets: &["utf-8", "us-ascii"],
    cte_html: "quoted-printable",
    cte_text: "7bit",
    per_message_body: false,
};
static WAREZOV: Style = Style {
    html: true,
    text: true,
    x_mailer: Some("Microsoft Windows Mail 6.0.6000.16480"),
    msgid: 1,
    forged: 1,
    order: Order::Plain,
    charsets: &["iso-8859-1", "utf-8"],
    cte_html: "quoted-printable",
    cte_text: "quoted-printable",
    per_message_body: false,
};
static STORM: Style = Style {
    html: false,
    text: true,
    x_mailer: None,
    msgid: 5,
    forged: 0,
    order: Order::SwapFirstThird,
    charsets: &["us-ascii"],
    cte_html: "7bit",
    cte_text: "7bit",
    per_message_body: true,
};
static DEFAULT: Style = Style {
    html: true,
    text: true,
    x_mailer: Some("Mozilla Thunderbird 2.0.0.17 (Windows/20080914)"),
    msgid: 4,
    forged: 1,
    order: Order::Plain,
    charsets: &["utf-8", "iso-8859-1", "us-ascii"],
    cte_html: "base64",
    cte_text: "quoted-printable",
    per_message_body: false,
};

/// The template style of a name (unknown names get a Thunderbird-like default).
pub(crate) fn style(name: &str) -> &'static Style {
    match name {
        "srizbi" => &SRIZBI,
        "rustock" => &RUSTOCK,
        "megad" => &MEGAD,
        "cutwail" => &CUTWAIL,
        "pushdo" => &PUSHDO,
        "bobax" => &BOBAX,
        "asprox" => &ASPROX,
        "warezov" => &WAREZOV,
        "storm" => &STORM,
        _ => &DEFAULT,
    }
}

/// Appends `pick(NAME_PARTS) pick(NAME_PARTS) . tld`.
fn push_random_domain(out: &mut Vec<u8>, rng: &mut Rng) {
    out.extend_from_slice(rng.pick(&NAME_PARTS).as_bytes());
    out.extend_from_slice(rng.pick(&NAME_PARTS).as_bytes());
    out.push(b'.');
    out.extend_from_slice(
        rng.pick(&["com", "net", "org", "info", "biz", "ru", "de", "com.br"])
            .as_bytes(),
    );
}

/// Body text in a charset (ASCII sentences, a phrase in the charset on top).
fn body_text(rng: &mut Rng, charset: &str, topic: &str, b: &mut Vec<u8>) {
    let extra: Option<&[u8]> = match charset {
        "koi8-r" => Some(*rng.pick(&text::RU_KOI8)),
        "windows-1251" => Some(*rng.pick(&text::RU_CP1251)),
        "iso-8859-1" | "windows-1252" | "windows-1250" => Some(*rng.pick(&text::LATIN1)),
        "utf-8" => Some(rng.pick(&text::UTF8).as_bytes()),
        _ => None,
    };
    if let Some(e) = extra {
        b.extend_from_slice(e);
        b.push(b'\n');
    }
    let s = text::sentences(topic);
    for _ in 0..2 + rng.index(3) {
        b.extend_from_slice(rng.pick(s).as_bytes());
        b.push(b'\n');
    }
}

/// A rendered MIME body: its top-level `Content-*` headers, the empty
/// line and the encoded content. Campaigns reuse a pool of these, as real
/// template-driven spam does.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) charset: &'static str,
    pub(crate) bytes: Vec<u8>,
    /// Whether a line of it matches `^>*From ` (mboxrd must quote it).
    pub(crate) needs_quoting: bool,
}

impl Body {
    /// A body from its charset and bytes (which end in `\n`).
    pub(crate) fn new(charset: &'static str, bytes: Vec<u8>) -> Body {
        let needs_quoting = memchr::memmem::find(&bytes, b"From ").is_some();
        Body {
            charset,
            bytes,
            needs_quoting,
        }
    }
}

/// Reused buffers of the renderers (one per worker thread).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    txt: Vec<u8>,
    plain: Vec<u8>,
    html: Vec<u8>,
    boundary: Vec<u8>,
    /// The sender's domain.
    dom: Vec<u8>,
    /// The envelope sender.
    env: Vec<u8>,
    /// Headers before they are put in the style's order.
    hdr: Vec<u8>,
    tmp: Vec<u8>,
}

/// One MIME leaf: its `Content-*` headers and the encoded content.
fn push_part(out: &mut Vec<u8>, ctype: &str, charset: &str, cte: &str, body: &[u8], bad_b64: bool) {
    push_all(
        out,
        &[
            b"Content-Type: ",
            ctype.as_bytes(),
            b"; charset=\"",
            charset.as_bytes(),
            b"\"\nContent-Transfer-Encoding: ",
            cte.as_bytes(),
            b"\n\n",
        ],
    );
    match cte {
        "base64" => {
            if bad_b64 {
                out.extend_from_slice(b"PGh0bWw+!!not*base64@@\nZm9v=YmFy==\n");
            } else {
                base64_lines(body, out);
            }
        }
        "quoted-printable" => quoted_printable(body, out),
        _ => {
            // 7bit: only ASCII may appear.
            out.extend(body.iter().map(|&b| if b < 0x80 { b } else { b'?' }));
        }
    }
}

/// Renders a body in a style for a topic and URLs (each URL ends in `\n`)
/// into `out`; returns its charset.
pub(crate) fn render_body(
    rng: &mut Rng,
    st: &Style,
    topic: &str,
    urls: &[u8],
    malformed: Option<Malformed>,
    sc: &mut Scratch,
    out: &mut Vec<u8>,
) -> &'static str {
    let charset = *rng.pick(st.charsets);
    sc.txt.clear();
    body_text(rng, charset, topic, &mut sc.txt);
    let plain = &mut sc.plain;
    plain.clear();
    plain.extend_from_slice(&sc.txt);
    plain.push(b'\n');
    plain.extend_from_slice(urls);
    if rng.chance(0.05) {
        // A body line mboxrd must quote.
        plain.extend_from_slice(b"From the desk of our sales manager\n");
    }
    let html = &mut sc.html;
    html.clear();
    push_all(
        html,
        &[
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=",
            charset.as_bytes(),
            b"\"></head><body>\n<p>",
            &sc.txt,
            b"</p>\n",
        ],
    );
    for u in urls.split(|&b| b == b'\n').filter(|u| !u.is_empty()) {
        let label = *rng.pick(&["Click here", "Visit our store", "Order now", "More info"]);
        push_all(
            html,
            &[b"<p><a href=\"", u, b"\">", label.as_bytes(), b"</a></p>\n"],
        );
    }
    html.extend_from_slice(b"</body></html>\n");
    let bad_b64 = malformed == Some(Malformed::BadBase64);
    let force_multi = malformed == Some(Malformed::MissingBoundary);
    if (st.html && st.text) || force_multi {
        let bd = &mut sc.boundary;
        bd.clear();
        if st.x_mailer.is_some_and(|x| x.starts_with("Microsoft")) {
            bd.extend_from_slice(b"----=_NextPart_000_");
            push_hex_rand(bd, rng, 4, true);
            bd.push(b'_');
            push_hex_rand(bd, rng, 8, true);
            bd.push(b'.');
            push_hex_rand(bd, rng, 8, true);
        } else {
            push_hex_rand(bd, rng, 12, false);
            push_u64(bd, rng.below(1000));
        }
        push_all(
            out,
            &[
                b"Content-Type: multipart/alternative;\n\tboundary=\"",
                bd,
                b"\"\n\nThis is a multi-part message in MIME format.\n\n--",
                bd,
                b"\n",
            ],
        );
        push_part(out, "text/plain", charset, st.cte_text, plain, false);
        push_all(out, &[b"\n--", bd, b"\n"]);
        push_part(out, "text/html", charset, "base64", html, bad_b64);
        if !force_multi {
            push_all(out, &[b"\n--", bd, b"--\n"]);
        }
    } else if st.html {
        let cte = if bad_b64 { "base64" } else { st.cte_html };
        push_part(out, "text/html", charset, cte, html, bad_b64);
    } else {
        let cte = if bad_b64 { "base64" } else { st.cte_text };
        push_part(out, "text/plain", charset, cte, plain, bad_b64);
    }
    charset
}

/// The mbox `From ` line: `From <env> <asctime>\n`.
fn push_from_line(mbox: &mut Vec<u8>, env: &[u8], t: i64) {
    mbox.extend_from_slice(b"From ");
    mbox.extend_from_slice(env);
    mbox.push(b' ');
    push_asctime(mbox, t);
    mbox.push(b'\n');
}

/// Ends a message rendered from `start` (the message must not be empty):
/// damage for `Truncated` and `NulBytes`, and a final `\n`.
fn finish_message(mbox: &mut Vec<u8>, start: usize, malformed: Option<Malformed>) {
    match malformed {
        Some(Malformed::Truncated) => {
            let len = mbox.len() - start;
            mbox.truncate(mbox.len() - (len / 5).clamp(1, 200));
            mbox.push(b'\n');
        }
        Some(Malformed::NulBytes) => mbox.extend_from_slice(b"\0\0garbage\0\n"),
        _ => {}
    }
    if mbox.last() != Some(&b'\n') {
        mbox.push(b'\n');
    }
}

/// A message's body as [`render_spam`] takes it.
pub(crate) struct BodyRef<'a> {
    pub(crate) charset: &'static str,
    pub(crate) bytes: &'a [u8],
    /// Leave the body out of `mbox`: the caller hashes and writes it from
    /// where it is (a campaign's shared body, which ends in `\n`).
    pub(crate) by_reference: bool,
}

/// Appends a spam message with `body` to `mbox`, preceded by its mbox
/// `From ` line; returns where the message bytes start. The caller ends
/// the mbox entry with [`mboxrd_finish`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_spam(
    mbox: &mut Vec<u8>,
    sc: &mut Scratch,
    rng: &mut Rng,
    t: i64,
    st: &Style,
    camp: &Campaign,
    body: &BodyRef<'_>,
    trap: &Trap,
    rcpt: &[u8],
    relay: &Relay<'_>,
    malformed: Option<Malformed>,
) -> usize {
    let first = *rng.pick(&FIRST_NAMES);
    let last = *rng.pick(&LAST_NAMES);
    sc.dom.clear();
    push_random_domain(&mut sc.dom, rng);
    let dom = &sc.dom[..];
    sc.env.clear();
    if rng.chance(0.6) {
        push_all(
            &mut sc.env,
            &[first.as_bytes(), b".", last.as_bytes(), b"@", dom],
        );
    } else {
        push_hex_rand(&mut sc.env, rng, 6, false);
        sc.env.push(b'@');
        push_random_domain(&mut sc.env, rng);
    }
    let charset = body.charset;
    push_from_line(mbox, &sc.env, t);
    let start = mbox.len();
    trap_headers(mbox, rng, t, trap, rcpt, relay, &sc.env);
    // Forged lower hops: they claim the message came through other relays.
    let date_skew = if rng.chance(0.04) {
        rng.range(-3.0, 3.0) as i64 * 86_400
    } else {
        0
    };
    push_forged_hops(
        mbox,
        &mut sc.tmp,
        rng,
        st.forged,
        dom,
        t + date_skew,
        relay.tz_min,
    );
    let date_t = t - rng.below(20) as i64 + date_skew;
    // Headers are staged in `sc.hdr` (their ends in `ends`), then written
    // in the style's order.
    let h = &mut sc.hdr;
    h.clear();
    let mut ends = HeaderEnds::default();
    push_message_id(h, rng, st.msgid, dom, relay.helo);
    h.extend_from_slice(b">\n");
    ends.mark(h.len());
    h.extend_from_slice(b"Date: ");
    push_rfc5322(h, date_t, relay.tz_min);
    h.push(b'\n');
    ends.mark(h.len());
    h.extend_from_slice(b"From: \"");
    push_title(h, first);
    h.push(b' ');
    push_title(h, last);
    push_all(
        h,
        &[
            b"\" <",
            first.as_bytes(),
            b".",
            last.as_bytes(),
            b"@",
            dom,
            b">\n",
        ],
    );
    ends.mark(h.len());
    push_all(h, &[b"To: <", rcpt, b">\n"]);
    ends.mark(h.len());
    push_subject(h, &mut sc.tmp, rng, camp, charset, malformed);
    h.push(b'\n');
    ends.mark(h.len());
    if let Some(x) = st.x_mailer {
        push_all(h, &[b"X-Mailer: ", x.as_bytes(), b"\n"]);
        ends.mark(h.len());
        if x.starts_with("Microsoft Outlook Express") {
            h.extend_from_slice(b"X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.2180\nX-Priority: 3\nX-MSMail-Priority: Normal\n");
            ends.mark(h.len());
        }
    }
    if malformed == Some(Malformed::HeaderWithoutColon) {
        h.extend_from_slice(b"X-Campaign-Tracking this header has no colon\n");
        ends.mark(h.len());
    }
    h.extend_from_slice(b"MIME-Version: 1.0\n");
    ends.mark(h.len());
    ends.write_in_order(mbox, h, st.order);
    if !body.by_reference {
        mbox.extend_from_slice(body.bytes);
        finish_message(mbox, start, malformed);
    }
    start
}

/// Appends `count` forged lower `Received:` hops: they claim the message
/// came through other relays, dated around `t`.
fn push_forged_hops(
    mbox: &mut Vec<u8>,
    by: &mut Vec<u8>,
    rng: &mut Rng,
    count: u8,
    dom: &[u8],
    t: i64,
    tz_min: i32,
) {
    for k in 0..count {
        let fake = rng.next_u64() as u32 | 0x0100_0000;
        by.clear();
        if k == 0 {
            push_all(by, &[b"mail.", dom]);
        } else {
            by.extend_from_slice(b"smtp");
            push_u64(by, rng.below(9));
            by.push(b'.');
            push_random_domain(by, rng);
        }
        let host = *rng.pick(&["home", "user-pc", "localhost", "desktop"]);
        push_all(mbox, &[b"Received: from ", host.as_bytes(), b" (["]);
        push_ipv4(mbox, fake);
        push_all(
            mbox,
            &[
                b"]) by ",
                &by[..],
                b" with Microsoft SMTPSVC(6.0.3790.3959);\n\t ",
            ],
        );
        push_rfc5322(mbox, t - 30 - rng.below(600) as i64, tz_min);
        mbox.push(b'\n');
    }
}

/// Appends `Message-ID: <...` in one of the styles (closed by the caller).
fn push_message_id(h: &mut Vec<u8>, rng: &mut Rng, style: u8, dom: &[u8], helo: &[u8]) {
    h.extend_from_slice(b"Message-ID: <");
    match style {
        0 => {
            push_hex_rand(h, rng, 12, false);
            h.push(b'.');
            push_u64(h, rng.below(1_000_000));
            push_all(h, &[b"@", dom]);
        }
        1 => {
            h.extend_from_slice(b"000");
            push_hex_rand(h, rng, 1, false);
            h.extend_from_slice(b"01c9");
            push_hex_rand(h, rng, 4, false);
            h.push(b'$');
            push_hex_rand(h, rng, 8, false);
            h.push(b'$');
            push_hex_rand(h, rng, 8, false);
            push_all(h, &[b"@", helo]);
        }
        2 => {
            push_u64(h, 1_000_000 + rng.below(9_000_000));
            h.push(b'.');
            push_u64(h, rng.below(100_000));
            push_all(h, &[b"@", dom]);
        }
        3 => {
            push_hex_rand(h, rng, 16, true);
            h.push(b'$');
            push_hex_rand(h, rng, 4, true);
            push_all(h, &[b"@", helo]);
        }
        4 => {
            push_hex_rand(h, rng, 8, false);
            h.push(b'-');
            push_hex_rand(h, rng, 4, false);
            h.push(b'-');
            push_hex_rand(h, rng, 4, false);
            push_all(h, &[b"@", dom]);
        }
        _ => {
            push_hex_rand(h, rng, 6, false);
            push_u64(h, rng.below(1000));
            push_all(h, &[b"@", helo]);
        }
    }
}

/// Appends `Subject: ` and one of the campaign's subjects: with bytes
/// that are not ASCII when malformed that way, or in the body's charset as
/// an RFC 2047 encoded word half of the time.
fn push_subject(
    h: &mut Vec<u8>,
    raw: &mut Vec<u8>,
    rng: &mut Rng,
    camp: &Campaign,
    charset: &str,
    malformed: Option<Malformed>,
) {
    let subject = rng.pick(&camp.subjects).as_bytes();
    h.extend_from_slice(b"Subject: ");
    if malformed == Some(Malformed::EightBitHeader) {
        push_all(h, &[subject, b" \xff\xfe\xe9"]);
    } else if charset != "us-ascii" && rng.chance(0.5) {
        raw.clear();
        raw.extend_from_slice(subject);
        match charset {
            "koi8-r" => raw.extend_from_slice(&[b' ', 0xf3, 0xcb, 0xc9, 0xc4, 0xcb, 0xc9]),
            "windows-1251" => raw.extend_from_slice(&[b' ', 0xd1, 0xea, 0xe8, 0xe4, 0xea, 0xe8]),
            "utf-8" => raw.extend_from_slice(" – ✓".as_bytes()),
            _ => raw.extend_from_slice(b" \xe0 prix r\xe9duit"),
        }
        if rng.chance(0.5) {
            encoded_word_b(charset, raw, h);
        } else {
            encoded_word_q(charset, raw, h);
        }
    } else {
        h.extend_from_slice(subject);
    }
}

/// Where each staged header ends in the staging buffer (at most 10).
#[derive(Default)]
struct HeaderEnds {
    ends: [usize; 10],
    n: usize,
}

impl HeaderEnds {
    /// The header staged last ends at `len`.
    fn mark(&mut self, len: usize) {
        if let Some(e) = self.ends.get_mut(self.n) {
            *e = len;
            self.n += 1;
        }
    }

    /// Appends the staged headers of `h` to `out` in the style's order:
    /// botnets differ in header order, a quirk signatures can use.
    fn write_in_order(&self, out: &mut Vec<u8>, h: &[u8], style: Order) {
        let n = self.n;
        let mut order = [0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let order = order.get_mut(..n).unwrap_or_default();
        match style {
            Order::Plain => {}
            Order::SwapFirstThird => order.swap(0, 2),
            Order::Reversed => {
                order.reverse();
                order.swap(0, n - 1);
            }
        }
        for &i in order.iter() {
            let from = if i == 0 {
                0
            } else {
                self.ends.get(i - 1).copied().unwrap_or(0)
            };
            let to = self.ends.get(i).copied().unwrap_or(from);
            out.extend_from_slice(h.get(from..to).unwrap_or_default());
        }
    }
}

fn trap_headers(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    t: i64,
    trap: &Trap,
    rcpt: &[u8],
    relay: &Relay<'_>,
    env: &[u8],
) {
    push_all(
        out,
        &[
            b"Return-Path: <",
            env,
            b">\nX-Original-To: ",
            rcpt,
            b"\nDelivered-To: ",
            rcpt,
            b"\nReceived: from ",
            relay.helo,
            b" (",
            relay.rdns.unwrap_or(b"unknown"),
            b" [",
        ],
    );
    push_ipv4(out, relay.ip);
    let with: &[u8] = if rng.chance(0.7) { b"SMTP" } else { b"ESMTP" };
    push_all(
        out,
        &[
            b"])\n\tby ",
            trap.mx.as_bytes(),
            b" (Postfix) with ",
            with,
            b" id ",
        ],
    );
    push_hex_rand(out, rng, 10, true);
    push_all(out, &[b"\n\tfor <", rcpt, b">; "]);
    push_rfc5322(out, t, 0);
    out.extend_from_slice(b" (UTC)\n");
}

/// Appends a legitimate message (a newsletter) relayed by an ordinary mail
/// server to `mbox`, preceded by its `From ` line; returns where the
/// message bytes start. The caller ends the entry with [`mboxrd_finish`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_legit(
    mbox: &mut Vec<u8>,
    sc: &mut Scratch,
    rng: &mut Rng,
    t: i64,
    trap: &Trap,
    rcpt: &[u8],
    relay: &Relay<'_>,
    sender_domain: &str,
) -> usize {
    let sd = sender_domain.as_bytes();
    sc.env.clear();
    sc.env.extend_from_slice(b"bounces+");
    push_hex_rand(&mut sc.env, rng, 8, false);
    push_all(&mut sc.env, &[b"@", sd]);
    push_from_line(mbox, &sc.env, t);
    let start = mbox.len();
    trap_headers(mbox, rng, t, trap, rcpt, relay, &sc.env);
    mbox.extend_from_slice(b"Received: from app");
    push_u64(mbox, rng.below(20));
    push_all(mbox, &[b".", sd, b" ("]);
    push_ipv4(mbox, relay.ip ^ 0x0000_0003);
    push_all(
        mbox,
        &[b") by ", relay.rdns.unwrap_or(relay.helo), b" with ESMTP; "],
    );
    push_rfc5322(mbox, t - 2, 0);
    mbox.extend_from_slice(b"\nMessage-ID: <");
    push_i64(mbox, t);
    mbox.push(b'.');
    push_hex_rand(mbox, rng, 8, false);
    push_all(mbox, &[b"@", sd, b">\nDate: "]);
    push_rfc5322(mbox, t - 5, 0);
    mbox.extend_from_slice(b"\nFrom: \"");
    push_title(mbox, sender_domain.split('.').next().unwrap_or("our"));
    push_all(
        mbox,
        &[
            b" News\" <news@",
            sd,
            b">\nTo: ",
            rcpt,
            b"\nSubject: Your ",
            rng.pick(&["weekly", "monthly", "product"]).as_bytes(),
            b" newsletter\nList-Id: <news.",
            sd,
            b">\nList-Unsubscribe: <https://www.",
            sd,
            b"/unsubscribe?u=",
        ],
    );
    push_hex_rand(mbox, rng, 12, false);
    mbox.extend_from_slice(b">\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n");
    let body = &mut sc.tmp;
    body.clear();
    push_all(
        body,
        &[
            b"Hello,\n\nhere is what is new this week at ",
            sd,
            b".\nRead more: https://www.",
            sd,
            b"/news/",
        ],
    );
    push_u64(body, rng.below(10_000));
    push_all(
        body,
        &[
            b"\n\nYou receive this because you subscribed. Unsubscribe: https://www.",
            sd,
            b"/unsubscribe\n",
        ],
    );
    quoted_printable(body, mbox);
    finish_message(mbox, start, None);
    start
}

/// Ends the mbox entry of the message that starts at `start` (the message
/// bytes up to the end of `mbox`, already hashed): mboxrd quoting — every
/// line matching `^>*From ` gets one more `>` — and the empty separator
/// line. Generated text rarely needs quoting, so the common case only
/// searches for `From `.
pub(crate) fn mboxrd_finish(mbox: &mut Vec<u8>, start: usize, tmp: &mut Vec<u8>) {
    let msg = mbox.get(start..).unwrap_or_default();
    if memchr::memmem::find(msg, b"From ").is_some() {
        tmp.clear();
        tmp.extend_from_slice(msg);
        mbox.truncate(start);
        for line in tmp.split_inclusive(|&b| b == b'\n') {
            let stripped = line
                .iter()
                .position(|&b| b != b'>')
                .map_or(&[][..], |i| line.get(i..).unwrap_or_default());
            if stripped.starts_with(b"From ") {
                mbox.push(b'>');
            }
            mbox.extend_from_slice(line);
        }
    }
    mbox.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_quotes_from_lines_at_any_depth() {
        let mut m = Vec::new();
        push_from_line(&mut m, b"a@b", 1_226_439_000);
        let start = m.len();
        m.extend_from_slice(b"Subject: x\n\nFrom here\n>From there\nnot From\n");
        mboxrd_finish(&mut m, start, &mut Vec::new());
        assert_eq!(
            m,
            b"From a@b Tue Nov 11 21:30:00 2008\nSubject: x\n\n>From here\n>>From there\nnot From\n\n".to_vec()
        );
        let mut m = b"From a@b Tue Nov 11 21:30:00 2008\n".to_vec();
        m.extend_from_slice(b"Subject: y\n\nno quoting\n");
        let before = m.clone();
        mboxrd_finish(&mut m, 34, &mut Vec::new());
        assert_eq!(m[..before.len()], before[..]);
        assert_eq!(m.len(), before.len() + 1);
    }
}
