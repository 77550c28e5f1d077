//! Spamtrap messages: headers with the trap's own `Received:` hop on top
//! (`from HELO (rDNS [IP])`, so that the bot is the first untrusted relay
//! for SpamAssassin's default trust inference), botnet-specific quirks
//! (X-Mailer, Message-ID form, header order, forged lower `Received:`
//! lines), MIME bodies in several charsets and transfer encodings with the
//! campaign's URLs, and deliberately malformed variants.
//!
//! Messages use `\n` line ends (as in mbox files) and always end in `\n`.

use std::io::Write;
use std::net::Ipv4Addr;

use crate::botnet::Campaign;
use crate::encode::{base64_lines, encoded_word_b, encoded_word_q, quoted_printable};
use crate::rng::Rng;
use crate::text::{self, FIRST_NAMES, LAST_NAMES, NAME_PARTS};
use crate::timefmt::rfc5322;

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
    pub(crate) helo: &'a str,
    pub(crate) rdns: Option<&'a str>,
    pub(crate) tz_min: i32,
}

/// A spamtrap.
pub(crate) struct Trap {
    pub(crate) domain: String,
    pub(crate) mx: String,
}

struct Style {
    html: bool,
    text: bool,
    x_mailer: Option<&'static str>,
    msgid: u8,
    forged: u8,
    charsets: &'static [&'static str],
    cte_html: &'static str,
    cte_text: &'static str,
}

fn style(name: &str) -> Style {
    match name {
        "srizbi" => Style {
            html: true,
            text: false,
            x_mailer: None,
            msgid: 0,
            forged: 1,
            charsets: &["iso-8859-1", "windows-1252", "us-ascii"],
            cte_html: "quoted-printable",
            cte_text: "7bit",
        },
        "rustock" => Style {
            html: true,
            text: true,
            x_mailer: Some("Microsoft Outlook Express 6.00.2900.2180"),
            msgid: 1,
            forged: 1,
            charsets: &["windows-1252", "windows-1250", "iso-8859-1"],
            cte_html: "base64",
            cte_text: "quoted-printable",
        },
        "megad" => Style {
            html: false,
            text: true,
            x_mailer: None,
            msgid: 2,
            forged: 0,
            charsets: &["us-ascii"],
            cte_html: "7bit",
            cte_text: "7bit",
        },
        "cutwail" => Style {
            html: true,
            text: false,
            x_mailer: Some("Microsoft Office Outlook 12.0"),
            msgid: 3,
            forged: 1,
            charsets: &["koi8-r", "windows-1251", "utf-8", "us-ascii"],
            cte_html: "base64",
            cte_text: "base64",
        },
        "pushdo" => Style {
            html: true,
            text: true,
            x_mailer: Some("Microsoft Outlook Express 6.00.2800.1106"),
            msgid: 1,
            forged: 2,
            charsets: &["windows-1251", "us-ascii", "utf-8"],
            cte_html: "base64",
            cte_text: "quoted-printable",
        },
        "bobax" => Style {
            html: false,
            text: true,
            x_mailer: Some("The Bat! (v3.81.14 Beta) Professional"),
            msgid: 2,
            forged: 0,
            charsets: &["iso-8859-1", "us-ascii"],
            cte_html: "7bit",
            cte_text: "quoted-printable",
        },
        "asprox" => Style {
            html: true,
            text: false,
            x_mailer: None,
            msgid: 4,
            forged: 0,
            charsets: &["utf-8", "us-ascii"],
            cte_html: "quoted-printable",
            cte_text: "7bit",
        },
        "warezov" => Style {
            html: true,
            text: true,
            x_mailer: Some("Microsoft Windows Mail 6.0.6000.16480"),
            msgid: 1,
            forged: 1,
            charsets: &["iso-8859-1", "utf-8"],
            cte_html: "quoted-printable",
            cte_text: "quoted-printable",
        },
        "storm" => Style {
            html: false,
            text: true,
            x_mailer: None,
            msgid: 5,
            forged: 0,
            charsets: &["us-ascii"],
            cte_html: "7bit",
            cte_text: "7bit",
        },
        _ => Style {
            html: true,
            text: true,
            x_mailer: Some("Mozilla Thunderbird 2.0.0.17 (Windows/20080914)"),
            msgid: 4,
            forged: 1,
            charsets: &["utf-8", "iso-8859-1", "us-ascii"],
            cte_html: "base64",
            cte_text: "quoted-printable",
        },
    }
}

fn hex(rng: &mut Rng, n: usize, upper: bool) -> String {
    const L: &[u8; 16] = b"0123456789abcdef";
    const U: &[u8; 16] = b"0123456789ABCDEF";
    let t = if upper { U } else { L };
    (0..n).map(|_| char::from(t[rng.index(16)])).collect()
}

fn random_domain(rng: &mut Rng) -> String {
    format!(
        "{}{}.{}",
        rng.pick(&NAME_PARTS),
        rng.pick(&NAME_PARTS),
        ["com", "net", "org", "info", "biz", "ru", "de", "com.br"][rng.index(8)]
    )
}

fn person(rng: &mut Rng) -> (String, String) {
    let f = *rng.pick(&FIRST_NAMES);
    let l = *rng.pick(&LAST_NAMES);
    (
        format!("{} {}", text::title_case(f), text::title_case(l)),
        format!("{f}.{l}"),
    )
}

/// Body text in a charset: the bytes and whether they are 8-bit.
fn body_text(rng: &mut Rng, charset: &str, topic: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(400);
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
    b
}

/// A rendered MIME body: its top-level `Content-*` headers, the empty
/// line and the encoded content. Campaigns reuse a pool of these, as real
/// template-driven spam does.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) charset: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// Renders a body in a botnet's style for a topic and URLs.
pub(crate) fn render_body(
    rng: &mut Rng,
    style_name: &str,
    topic: &str,
    urls: &[String],
    malformed: Option<Malformed>,
) -> Body {
    let st = style(style_name);
    let charset = *rng.pick(st.charsets);
    let mut out = Vec::with_capacity(2048);
    let txt = body_text(rng, charset, topic);
    let mut plain = txt.clone();
    plain.push(b'\n');
    for u in urls {
        plain.extend_from_slice(u.as_bytes());
        plain.push(b'\n');
    }
    if rng.chance(0.05) {
        // A body line mboxrd must quote.
        plain.extend_from_slice(b"From the desk of our sales manager\n");
    }
    let mut html = Vec::with_capacity(600);
    html.extend_from_slice(
        b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=",
    );
    html.extend_from_slice(charset.as_bytes());
    html.extend_from_slice(b"\"></head><body>\n<p>");
    html.extend_from_slice(&txt);
    html.extend_from_slice(b"</p>\n");
    for u in urls {
        let _ = writeln!(
            html,
            "<p><a href=\"{u}\">{}</a></p>",
            ["Click here", "Visit our store", "Order now", "More info"][rng.index(4)]
        );
    }
    html.extend_from_slice(b"</body></html>\n");
    let part = |out: &mut Vec<u8>, ctype: &str, cte: &str, body: &[u8], bad_b64: bool| {
        let _ = write!(
            out,
            "Content-Type: {ctype}; charset=\"{charset}\"\nContent-Transfer-Encoding: {cte}\n\n"
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
                for &b in body {
                    out.push(if b < 0x80 { b } else { b'?' });
                }
            }
        }
    };
    let bad_b64 = malformed == Some(Malformed::BadBase64);
    let force_multi = malformed == Some(Malformed::MissingBoundary);
    if (st.html && st.text) || force_multi {
        let boundary = if st.x_mailer.is_some_and(|x| x.starts_with("Microsoft")) {
            format!(
                "----=_NextPart_000_{}_{}.{}",
                hex(rng, 4, true),
                hex(rng, 8, true),
                hex(rng, 8, true)
            )
        } else {
            format!("{}{}", hex(rng, 12, false), rng.below(1000))
        };
        let _ = write!(
            out,
            "Content-Type: multipart/alternative;\n\tboundary=\"{boundary}\"\n\nThis is a multi-part message in MIME format.\n\n"
        );
        let _ = writeln!(out, "--{boundary}");
        part(&mut out, "text/plain", st.cte_text, &plain, false);
        let _ = write!(out, "\n--{boundary}\n");
        part(&mut out, "text/html", "base64", &html, bad_b64);
        if !force_multi {
            let _ = write!(out, "\n--{boundary}--\n");
        }
    } else if st.html {
        let cte = if bad_b64 { "base64" } else { st.cte_html };
        part(&mut out, "text/html", cte, &html, bad_b64);
    } else {
        let cte = if bad_b64 { "base64" } else { st.cte_text };
        part(&mut out, "text/plain", cte, &plain, bad_b64);
    }
    Body {
        charset,
        bytes: out,
    }
}

/// Writes a spam message with `body`; returns the envelope sender.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_spam(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    t: i64,
    style_name: &str,
    camp: &Campaign,
    body: &Body,
    trap: &Trap,
    rcpt: &str,
    relay: &Relay<'_>,
    malformed: Option<Malformed>,
) -> String {
    let st = style(style_name);
    let (from_name, from_local) = person(rng);
    let from_dom = random_domain(rng);
    let from_addr = format!("{from_local}@{from_dom}");
    let env = if rng.chance(0.6) {
        from_addr.clone()
    } else {
        format!("{}@{}", hex(rng, 6, false), random_domain(rng))
    };
    let charset = body.charset;
    trap_headers(out, rng, t, trap, rcpt, relay, &env);
    // Forged lower hops: they claim the message came through other relays.
    let date_skew = if rng.chance(0.04) {
        rng.range(-3.0, 3.0) as i64 * 86_400
    } else {
        0
    };
    for k in 0..st.forged {
        let fake = Ipv4Addr::from(rng.next_u64() as u32 | 0x0100_0000);
        let by = if k == 0 {
            format!("mail.{from_dom}")
        } else {
            format!("smtp{}.{}", rng.below(9), random_domain(rng))
        };
        let _ = write!(
            out,
            "Received: from {} ([{}]) by {} with Microsoft SMTPSVC(6.0.3790.3959);\n\t {}\n",
            ["home", "user-pc", "localhost", "desktop"][rng.index(4)],
            fake,
            by,
            rfc5322(t - 30 - rng.below(600) as i64 + date_skew, relay.tz_min)
        );
    }
    let date = rfc5322(t - rng.below(20) as i64 + date_skew, relay.tz_min);
    let msgid = match st.msgid {
        0 => format!(
            "<{}.{}@{}>",
            hex(rng, 12, false),
            rng.below(1_000_000),
            from_dom
        ),
        1 => format!(
            "<000{}01c9{}${}${}@{}>",
            hex(rng, 1, false),
            hex(rng, 4, false),
            hex(rng, 8, false),
            hex(rng, 8, false),
            relay.helo
        ),
        2 => format!(
            "<{}.{}@{}>",
            1_000_000 + rng.below(9_000_000),
            rng.below(100_000),
            from_dom
        ),
        3 => format!(
            "<{}${}@{}>",
            hex(rng, 16, true),
            hex(rng, 4, true),
            relay.helo
        ),
        4 => format!(
            "<{}-{}-{}@{}>",
            hex(rng, 8, false),
            hex(rng, 4, false),
            hex(rng, 4, false),
            from_dom
        ),
        _ => format!("<{}{}@{}>", hex(rng, 6, false), rng.below(1000), relay.helo),
    };
    let mut headers: Vec<Vec<u8>> = Vec::with_capacity(10);
    headers.push(format!("Message-ID: {msgid}\n").into_bytes());
    headers.push(format!("Date: {date}\n").into_bytes());
    headers.push(format!("From: \"{from_name}\" <{from_addr}>\n").into_bytes());
    headers.push(format!("To: <{rcpt}>\n").into_bytes());
    // Subject, encoded or not.
    let subject = rng.pick(&camp.subjects).clone();
    let mut sh = b"Subject: ".to_vec();
    if malformed == Some(Malformed::EightBitHeader) {
        sh.extend_from_slice(subject.as_bytes());
        sh.extend_from_slice(b" \xff\xfe\xe9");
    } else if charset != "us-ascii" && rng.chance(0.5) {
        let mut raw = subject.as_bytes().to_vec();
        match charset {
            "koi8-r" => raw.extend_from_slice(&[b' ', 0xf3, 0xcb, 0xc9, 0xc4, 0xcb, 0xc9]),
            "windows-1251" => raw.extend_from_slice(&[b' ', 0xd1, 0xea, 0xe8, 0xe4, 0xea, 0xe8]),
            "utf-8" => raw.extend_from_slice(" – ✓".as_bytes()),
            _ => raw.extend_from_slice(b" \xe0 prix r\xe9duit"),
        }
        if rng.chance(0.5) {
            encoded_word_b(charset, &raw, &mut sh);
        } else {
            encoded_word_q(charset, &raw, &mut sh);
        }
    } else {
        sh.extend_from_slice(subject.as_bytes());
    }
    sh.push(b'\n');
    headers.push(sh);
    if let Some(x) = st.x_mailer {
        headers.push(format!("X-Mailer: {x}\n").into_bytes());
        if x.starts_with("Microsoft Outlook Express") {
            headers.push(b"X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.2180\nX-Priority: 3\nX-MSMail-Priority: Normal\n".to_vec());
        }
    }
    if malformed == Some(Malformed::HeaderWithoutColon) {
        headers.push(b"X-Campaign-Tracking this header has no colon\n".to_vec());
    }
    headers.push(b"MIME-Version: 1.0\n".to_vec());
    // Botnets differ in header order: a quirk signatures can use.
    if style_name == "srizbi" || style_name == "storm" {
        headers.swap(0, 2);
    } else if style_name == "megad" {
        headers.reverse();
        let n = headers.len();
        headers.swap(0, n - 1);
    }
    for h in &headers {
        out.extend_from_slice(h);
    }
    out.extend_from_slice(&body.bytes);
    match malformed {
        Some(Malformed::Truncated) => {
            let cut = out.len() - (out.len() / 5).clamp(1, 200);
            out.truncate(cut);
            out.push(b'\n');
        }
        Some(Malformed::NulBytes) => out.extend_from_slice(b"\0\0garbage\0\n"),
        _ => {}
    }
    if out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    env
}

fn trap_headers(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    t: i64,
    trap: &Trap,
    rcpt: &str,
    relay: &Relay<'_>,
    env: &str,
) {
    let ip = Ipv4Addr::from(relay.ip);
    let _ = write!(
        out,
        "Return-Path: <{env}>\nX-Original-To: {rcpt}\nDelivered-To: {rcpt}\nReceived: from {} ({} [{ip}])\n\tby {} (Postfix) with {} id {}\n\tfor <{rcpt}>; {} (UTC)\n",
        relay.helo,
        relay.rdns.unwrap_or("unknown"),
        trap.mx,
        if rng.chance(0.7) { "SMTP" } else { "ESMTP" },
        hex(rng, 10, true),
        rfc5322(t, 0),
    );
}

/// Writes a legitimate message (a newsletter or a notification) relayed by
/// an ordinary mail server; returns the envelope sender.
pub(crate) fn render_legit(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    t: i64,
    trap: &Trap,
    rcpt: &str,
    relay: &Relay<'_>,
    sender_domain: &str,
) -> String {
    let env = format!("bounces+{}@{sender_domain}", hex(rng, 8, false));
    trap_headers(out, rng, t, trap, rcpt, relay, &env);
    let inner = Ipv4Addr::from(relay.ip ^ 0x0000_0003);
    let _ = writeln!(
        out,
        "Received: from app{}.{sender_domain} ({inner}) by {} with ESMTP; {}",
        rng.below(20),
        relay.rdns.unwrap_or(relay.helo),
        rfc5322(t - 2, 0)
    );
    let _ = write!(
        out,
        "Message-ID: <{}.{}@{sender_domain}>\nDate: {}\nFrom: \"{} News\" <news@{sender_domain}>\nTo: {rcpt}\nSubject: Your {} newsletter\nList-Id: <news.{sender_domain}>\nList-Unsubscribe: <https://www.{sender_domain}/unsubscribe?u={}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
        t,
        hex(rng, 8, false),
        rfc5322(t - 5, 0),
        text::title_case(sender_domain.split('.').next().unwrap_or("our")),
        ["weekly", "monthly", "product"][rng.index(3)],
        hex(rng, 12, false)
    );
    let body = format!(
        "Hello,\n\nhere is what is new this week at {sender_domain}.\nRead more: https://www.{sender_domain}/news/{}\n\nYou receive this because you subscribed. Unsubscribe: https://www.{sender_domain}/unsubscribe\n",
        rng.below(10_000)
    );
    quoted_printable(body.as_bytes(), out);
    env
}

/// Appends a message to an mbox in mboxrd form: the `From ` line, the
/// message with every line matching `^>*From ` prefixed by `>`, and an
/// empty line.
pub(crate) fn mboxrd_append(mbox: &mut Vec<u8>, env: &str, asctime: &str, msg: &[u8]) {
    let _ = writeln!(mbox, "From {env} {asctime}");
    if memchr::memmem::find(msg, b"From ").is_none() {
        mbox.extend_from_slice(msg);
        mbox.push(b'\n');
        return;
    }
    for line in msg.split_inclusive(|&b| b == b'\n') {
        let stripped = line
            .iter()
            .position(|&b| b != b'>')
            .map_or(&line[line.len()..], |i| &line[i..]);
        if stripped.starts_with(b"From ") {
            mbox.push(b'>');
        }
        mbox.extend_from_slice(line);
    }
    mbox.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_quotes_from_lines_at_any_depth() {
        let mut m = Vec::new();
        mboxrd_append(
            &mut m,
            "a@b",
            "Tue Nov 11 21:30:00 2008",
            b"Subject: x\n\nFrom here\n>From there\nnot From\n",
        );
        assert_eq!(
            m,
            b"From a@b Tue Nov 11 21:30:00 2008\nSubject: x\n\n>From here\n>>From there\nnot From\n\n".to_vec()
        );
    }
}
