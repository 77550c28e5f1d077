//! One `Received:` field (RFC 5321 section 4.4, RFC 5322 section 3.6.7) into
//! a [`ReceivedHop`].
//!
//! The grammar is `from X by Y [via] [with P] [id I] [for F] ; date`, but
//! every MTA decorates the `from` part differently. The rules here follow
//! SpamAssassin's `Received.pm` (the reference for conformance), written as
//! one tokenising pass instead of a list of regular expressions:
//!
//! * the relay's IP is taken, in order of preference, from a comment after
//!   the `from` name (`(rdns [ip])`, `([ip] helo=x)`, `(ip)`,
//!   `(ident@ip)`, `(ip:port)`), then from a bracketed literal outside the
//!   comments (`from host [ip] by`), then from the `from` name itself
//!   (`from [ip]`, `from 1.2.3.4 by x with y`), and last from any bracketed
//!   literal in the line;
//! * HELO literals (`(HELO [ip])`, `helo=[ip]`) are not relay IPs unless
//!   nothing else is found;
//! * lines that are not TCP handovers (no `from`, `with local`, mail
//!   fetchers `with POP3/IMAP`, `from x by y;`) have `handover == false`
//!   and do not take part in the trust chain, as in SpamAssassin;
//! * authenticated submissions (`with ESMTPA/ESMTPSA/LMTPA/HTTP…`,
//!   `(authenticated …)`, `(Authenticated sender: …)`) set `auth`.
//!
//! Input is capped at [`MAX_RECEIVED_LEN`] bytes; longer lines are parsed
//! from their first bytes only (their date is then usually lost).

use std::net::{IpAddr, Ipv4Addr};

use depeer_core::Timestamp;

use crate::date::parse_date;
use crate::headers::unfold_into;

/// Received lines longer than this are parsed from their first bytes only.
pub const MAX_RECEIVED_LEN: usize = 16 * 1024;

/// One hop of the `Received:` chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceivedHop {
    /// The name after `from` as written (HELO for Sendmail and Postfix,
    /// rDNS for qmail and Exim).
    pub from_name: Option<String>,
    /// The HELO/EHLO name the relay gave.
    pub from_helo: Option<String>,
    /// The reverse-DNS name the receiving MTA recorded for the relay.
    pub from_rdns: Option<String>,
    /// The relay's IP address.
    pub from_ip: Option<IpAddr>,
    /// IDENT user, when recorded.
    pub ident: Option<String>,
    /// The receiving host (`by`).
    pub by_host: Option<String>,
    /// The protocol (`with`), e.g. `ESMTP`.
    pub with_proto: Option<String>,
    /// The queue id (`id`).
    pub id: Option<String>,
    /// The recipient (`for`), without angle brackets.
    pub for_addr: Option<String>,
    /// The date after the last `;`.
    pub date: Option<Timestamp>,
    /// The relay authenticated (SMTP AUTH, webmail): trusted by inference.
    pub auth: bool,
    /// The line records a network handover from a relay with an IP; only
    /// such hops take part in the trust chain.
    pub handover: bool,
}

/// A parsed hop borrowing from the unfolded line: parsing allocates
/// nothing; only the hop that is kept is made owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct HopRef<'a> {
    pub(crate) from_name: Option<&'a str>,
    pub(crate) from_helo: Option<&'a str>,
    pub(crate) from_rdns: Option<&'a str>,
    pub(crate) from_ip: Option<IpAddr>,
    pub(crate) ident: Option<&'a str>,
    pub(crate) by_host: Option<&'a str>,
    pub(crate) with_proto: Option<&'a str>,
    pub(crate) id: Option<&'a str>,
    pub(crate) for_addr: Option<&'a str>,
    pub(crate) date: Option<Timestamp>,
    pub(crate) auth: bool,
    pub(crate) handover: bool,
}

impl HopRef<'_> {
    /// The owned form.
    pub(crate) fn to_hop(self) -> ReceivedHop {
        let own = |s: Option<&str>| s.map(str::to_string);
        ReceivedHop {
            from_name: own(self.from_name),
            from_helo: own(self.from_helo),
            from_rdns: own(self.from_rdns),
            from_ip: self.from_ip,
            ident: own(self.ident),
            by_host: own(self.by_host),
            with_proto: own(self.with_proto),
            id: own(self.id),
            for_addr: own(self.for_addr),
            date: self.date,
            auth: self.auth,
            handover: self.handover,
        }
    }
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// Whether `needle` (case-insensitive) starts at `at`.
#[inline]
fn at_ci(hay: &[u8], at: usize, needle: &[u8]) -> bool {
    hay.get(at..).is_some_and(|r| starts_with_ci(r, needle))
}

/// First occurrence of `needle` (case-sensitive): memchr on its first byte,
/// then a comparison (lines are short: no searcher is built).
fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, tail) = needle.split_first()?;
    let mut from = 0usize;
    while let Some(p) = memchr::memchr(first, hay.get(from..)?) {
        let at = from + p;
        if hay.get(at + 1..).is_some_and(|r| r.starts_with(tail)) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn contains(hay: &str, needle: &str) -> bool {
    find_bytes(hay.as_bytes(), needle.as_bytes()).is_some()
}

/// First occurrence of `needle` (case-insensitive) anywhere.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0usize;
    while let Some(p) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        hay.get(from..)?,
    ) {
        let at = from + p;
        if at_ci(hay, at, needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Calls `f` with the position of every space outside parentheses (depth
/// counted from the start of `hay`, unmatched `)` ignored) until `f`
/// returns true. One pass serves several keywords.
#[inline]
fn depth0_spaces(hay: &[u8], mut f: impl FnMut(usize) -> bool) {
    let mut depth = 0u32;
    for (at, &c) in hay.iter().enumerate() {
        match c {
            b'(' => depth = depth.saturating_add(1),
            b')' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && f(at) => return,
            _ => {}
        }
    }
}

/// The token starting at `at`: up to a space, `;`, `(` or `)`. (The
/// unfolded line has no other white space: [`unfold_into`] turned every
/// white-space character into a space.)
fn token_at(s: &str, at: usize) -> &str {
    let rest = s.get(at..).unwrap_or_default();
    let end = rest
        .bytes()
        .position(|c| matches!(c, b' ' | b';' | b'(' | b')'))
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

fn ne(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Parses an IP literal as MTAs write it: `1.2.3.4`, `[1.2.3.4]`,
/// `IPv6:2001:db8::1`, `1.2.3.4:25`, `1.2.3.4.25` (Exim port), `fe80::1%eth0`,
/// `ident@1.2.3.4`. IPv4-mapped IPv6 becomes IPv4.
pub fn parse_ip_literal(text: &str) -> Option<IpAddr> {
    let mut s = text.trim();
    if let Some(i) = s.rfind('@') {
        s = s.get(i + 1..)?;
    }
    s = s.strip_prefix('[').unwrap_or(s);
    if let Some(i) = s.find(']') {
        s = s.get(..i)?;
    }
    if s.len() > 5 && s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ipv6:")) {
        s = s.get(5..)?;
    }
    if let Some(i) = s.find('%') {
        s = s.get(..i)?;
    }
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let parsed = match fast_ipv4(s) {
        Some(v4) => Ok(IpAddr::V4(v4)),
        None => s.parse::<IpAddr>(),
    };
    let ip = match parsed {
        Ok(ip) => ip,
        Err(_) => {
            // "1.2.3.4:port" or Exim's "1.2.3.4.port".
            let colons = s.bytes().filter(|&b| b == b':').count();
            let dots = s.bytes().filter(|&b| b == b'.').count();
            let head = if colons == 1 && dots == 3 {
                s.split(':').next()?
            } else if dots == 4 && colons == 0 {
                s.get(..s.rfind('.')?)?
            } else {
                return None;
            };
            head.parse::<IpAddr>().ok()?
        }
    };
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    })
}

/// The common dotted quad (four decimal octets without leading zeros),
/// which the standard parser accepts with the same value; anything else is
/// left to the standard parser.
fn fast_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut oct = [0u8; 4];
    let mut n = 0usize;
    for part in s.as_bytes().split(|&b| b == b'.') {
        let slot = oct.get_mut(n)?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part.first() == Some(&b'0')) {
            return None;
        }
        let mut v = 0u16;
        for &d in part {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u16::from(d - b'0');
        }
        *slot = u8::try_from(v).ok()?;
        n += 1;
    }
    (n == 4).then_some(Ipv4Addr::from(oct))
}

/// Authenticated-submission protocols (`with ...`), as in SpamAssassin.
const AUTH_PROTOS: [&str; 12] = [
    "ESMTPA",
    "ESMTPSA",
    "LMTPA",
    "LMTPSA",
    "UTF8SMTPA",
    "UTF8SMTPSA",
    "UTF8LMTPA",
    "UTF8LMTPSA",
    "ASMTP",
    "HTTP",
    "HTTPS",
    "HTTPU",
];

fn is_auth_proto(p: &str) -> bool {
    p.len() <= 10 && AUTH_PROTOS.iter().any(|k| p.eq_ignore_ascii_case(k))
}

/// Where the IP came from; lower is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Comment,
    Outside,
    FromName,
    Anywhere,
}

fn consider(best: &mut Option<(Tier, IpAddr)>, tier: Tier, ip: Option<IpAddr>) {
    if let Some(ip) = ip
        && best.is_none_or(|(t, _)| tier < t)
    {
        *best = Some((tier, ip));
    }
}

/// Parses the value of one `Received:` field (without the field name).
/// Returns `None` only for empty input; lines that are not handovers come
/// back with `handover == false`.
///
/// ```
/// let hop = depeer_mail::parse_received(
///     "from mail.example (relay.example [192.0.2.7]) by mx.trap.example (Postfix) \
///      with ESMTP id 4A1B2; Tue, 11 Nov 2008 21:30:00 +0000",
/// ).unwrap();
/// assert_eq!(hop.from_ip, Some("192.0.2.7".parse().unwrap()));
/// assert_eq!(hop.from_helo.as_deref(), Some("mail.example"));
/// assert_eq!(hop.from_rdns.as_deref(), Some("relay.example"));
/// assert_eq!(hop.by_host.as_deref(), Some("mx.trap.example"));
/// assert!(hop.handover);
/// ```
pub fn parse_received(value: &str) -> Option<ReceivedHop> {
    let mut line = String::new();
    unfold_into(value.as_bytes(), &mut line, MAX_RECEIVED_LEN);
    space_before_by(&mut line);
    parse_line(&line).map(HopRef::to_hop)
}

/// A missing space before `by` after a comment (`[127.0.0.1])by  host`,
/// written by some Postfix builds) is put back, as SpamAssassin's
/// `s/\)by /) by /` does (the first one only, case-sensitive).
pub(crate) fn space_before_by(line: &mut String) {
    if let Some(p) = find_bytes(line.as_bytes(), b")by ") {
        line.insert(p + 1, ' ');
    }
}

/// Parses a raw (possibly folded, possibly non-UTF-8) value; the hop
/// borrows from `scratch`.
pub(crate) fn parse_received_bytes<'s>(
    value: &[u8],
    scratch: &'s mut String,
) -> Option<HopRef<'s>> {
    unfold_into(value, scratch, MAX_RECEIVED_LEN);
    space_before_by(scratch);
    parse_line(scratch)
}

/// `(authenticated as `, `(via HTTP`, Exchange's HTTP-DAV.
fn auth_marker(rest: &str, proto: &str) -> bool {
    let rb = rest.as_bytes();
    let mut from = 0usize;
    while let Some(p) = memchr::memchr(b'(', rb.get(from..).unwrap_or_default()) {
        let r = rb.get(from + p..).unwrap_or_default();
        if r.starts_with(b"(authenticated as ") || r.starts_with(b"(via HTTP") {
            return true;
        }
        from += p + 1;
    }
    find_bytes(rb, b"HTTP-DAV").is_some()
        && (proto.eq_ignore_ascii_case("Microsoft")
            || contains(rest, " with Microsoft Exchange Server HTTP-DAV"))
}

/// A mail fetcher (`with POP3`, `with IMAP`).
fn is_fetcher(rest: &str, proto: &str) -> bool {
    proto.eq_ignore_ascii_case("pop3")
        || proto.eq_ignore_ascii_case("imap")
        || find_ci(rest.as_bytes(), b"with POP3").is_some()
        || find_ci(rest.as_bytes(), b"with IMAP").is_some()
}

/// The parser proper, on an unfolded line. One pass finds ` by ` outside
/// comments, one pass over the rest finds ` with `, ` id ` and ` for `
/// together, the comments after the `from` name are visited once, and the
/// rarer keywords are looked for only when the answer can still change
/// the result.
fn parse_line(line: &str) -> Option<HopRef<'_>> {
    if line.is_empty() {
        return None;
    }
    let mut hop = HopRef::default();
    // The date: after the last ';' when it parses as one.
    let mut clause = line;
    if let Some(i) = memchr::memrchr(b';', line.as_bytes()) {
        let d = parse_date(line.get(i + 1..)?.as_bytes());
        if d.is_some() {
            hop.date = d;
            clause = line.get(..i)?;
        }
    }
    let clause = clause.trim_end_matches([';', ' ']);
    let b = clause.as_bytes();

    // "from" part.
    let from_start = if starts_with_ci(b, b"from ") {
        Some(5)
    } else if starts_with_ci(b, b"(from ") {
        Some(6)
    } else {
        None
    };
    // "by" part: outside comments preferred.
    let mut by_depth0 = None;
    depth0_spaces(b, |at| {
        let hit = at_ci(b, at, b" by ");
        if hit {
            by_depth0 = Some(at);
        }
        hit
    });
    let by_pos = by_depth0
        .or_else(|| find_ci(b, b" by "))
        .or_else(|| starts_with_ci(b, b"by ").then_some(usize::MAX));
    let (by_at, rest) = match by_pos {
        Some(usize::MAX) => (Some(0), clause.get(3..).unwrap_or_default()),
        Some(p) => (Some(p), clause.get(p + 4..).unwrap_or_default()),
        None => (None, ""),
    };
    if by_at.is_some() {
        hop.by_host = ne(token_at(rest, 0).trim_end_matches('.'));
    }
    let rb = rest.as_bytes();
    let (mut with_p, mut id_p, mut for_p) = (None, None, None);
    depth0_spaces(rb, |at| {
        if with_p.is_none() && at_ci(rb, at, b" with ") {
            with_p = Some(at);
        } else if id_p.is_none() && at_ci(rb, at, b" id ") {
            id_p = Some(at);
        } else if for_p.is_none() && at_ci(rb, at, b" for ") {
            for_p = Some(at);
        }
        with_p.is_some() && id_p.is_some() && for_p.is_some()
    });
    let proto = match with_p {
        Some(p) => token_at(rest, p + 6),
        None if starts_with_ci(rb, b"with ") => token_at(rest, 5),
        None => "",
    };
    hop.with_proto = ne(proto);
    if let Some(p) = id_p {
        hop.id = ne(token_at(rest, p + 4).trim_matches(['<', '>']));
    }
    if let Some(p) = for_p {
        hop.for_addr = ne(token_at(rest, p + 5).trim_matches(['<', '>']));
    }
    if by_at.is_some() && is_auth_proto(proto) {
        hop.auth = true;
    }
    if !hop.auth && auth_marker(rest, proto) {
        hop.auth = true;
    }

    let Some(from_start) = from_start else {
        return Some(hop);
    };
    let from_end = match by_at {
        Some(p) if p >= from_start => p,
        _ => clause.len(),
    };
    let from_clause = clause.get(from_start..from_end).unwrap_or_default().trim();
    let fb = from_clause.as_bytes();

    // The name after "from".
    let name_end = if fb.first() == Some(&b'[') {
        memchr::memchr(b']', fb).map_or(fb.len(), |i| i + 1)
    } else {
        fb.iter()
            .position(|&c| c == b' ' || c == b'(')
            .unwrap_or(fb.len())
    };
    let name = from_clause.get(..name_end).unwrap_or_default();
    let after_name = from_clause.get(name_end..).unwrap_or_default();
    hop.from_name = ne(name);

    // Only the first usable IP of the best tier found so far can change
    // `best`, so the lower tiers are searched only while it is empty.
    let mut best: Option<(Tier, IpAddr)> = None;
    let mut explicit_helo = false;
    let mut rdns_from_comment = false;
    let mut bare_paren_ip = false;
    let mut authenticated_comment = false;

    // Walk the comments (top level) and the text outside them.
    let ab = after_name.as_bytes();
    let mut i = 0usize;
    let mut outside_start = 0usize;
    while let Some(p) = memchr::memchr(b'(', ab.get(i..).unwrap_or_default()) {
        let open = i + p;
        if best.is_none() {
            consider(
                &mut best,
                Tier::Outside,
                scan_outside(after_name.get(outside_start..open).unwrap_or_default()),
            );
        }
        // The matching ')' (or the end).
        let mut depth = 0u32;
        let mut j = open;
        while let Some(q) = memchr::memchr2(b'(', b')', ab.get(j..).unwrap_or_default()) {
            j += q;
            if ab.get(j) == Some(&b'(') {
                depth = depth.saturating_add(1);
            } else {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        let j = if depth == 0 { j } else { ab.len() };
        let comment = after_name
            .get(open + 1..j.min(ab.len()))
            .unwrap_or_default();
        let c = comment.trim();
        let lc = c.as_bytes();
        if starts_with_ci(lc, b"HELO ")
            || starts_with_ci(lc, b"EHLO ")
            || c.eq_ignore_ascii_case("HELO")
            || c.eq_ignore_ascii_case("EHLO")
        {
            explicit_helo = true;
            hop.from_helo = ne(c.get(4..).unwrap_or_default().trim());
        } else {
            if let Some(p) = find_bytes(lc, b"helo=") {
                explicit_helo = true;
                hop.from_helo = ne(token_at(c, p + 5));
            }
            if let Some(p) = find_bytes(lc, b"ident=") {
                hop.ident = ne(token_at(c, p + 6));
            }
            if !authenticated_comment && (contains(c, "authenticated") || contains(c, "AUTH: ")) {
                authenticated_comment = true;
            }
            let ip = comment_ip(
                c,
                &mut hop,
                &mut rdns_from_comment,
                &mut bare_paren_ip,
                &mut explicit_helo,
            );
            consider(&mut best, Tier::Comment, ip);
        }
        i = j + 1;
        outside_start = i;
    }
    if best.is_none() {
        consider(
            &mut best,
            Tier::Outside,
            scan_outside(after_name.get(outside_start..).unwrap_or_default()),
        );
    }
    let name_ip =
        if name.starts_with('[') || name.bytes().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            parse_ip_literal(name)
        } else {
            None
        };
    consider(&mut best, Tier::FromName, name_ip);
    // Last resort: the first bracketed literal in the line that parses.
    if best.is_none() {
        consider(&mut best, Tier::Anywhere, first_bracketed_ip(clause));
    }

    // Who is who: the name after "from" is the HELO for Sendmail/Postfix
    // style (rDNS in the comment), the rDNS for qmail/Exim style.
    if rdns_from_comment {
        hop.from_helo = ne(name);
    } else {
        let exim = contains(rest, "Exim");
        if explicit_helo || exim {
            if hop.from_helo.is_none() && exim {
                hop.from_helo = ne(name);
            }
            if !name.starts_with('[') {
                hop.from_rdns = ne(name);
            }
        } else if bare_paren_ip && !contains(rest, "Microsoft") {
            hop.from_helo = ne(name);
            if !name.starts_with('[') && name_ip.is_none() {
                hop.from_rdns = ne(name);
            }
        } else {
            hop.from_helo = ne(name);
        }
    }
    hop.from_rdns = hop
        .from_rdns
        .map(|r| r.trim_end_matches('.'))
        .filter(|r| !(r.eq_ignore_ascii_case("unknown") || r.starts_with('[') || r.is_empty()));
    if !hop.auth && (authenticated_comment || contains(from_clause, "(Authenticated sender: ")) {
        hop.auth = true;
    }

    // Is it a handover SpamAssassin would count?
    let bare_line = after_name.trim().is_empty();
    let after_by = rest
        .get(hop.by_host.map_or(0, str::len)..)
        .unwrap_or_default()
        .trim_start();
    hop.handover = match best {
        None => false,
        Some(_) if by_at.is_none() => false,
        Some(_) if starts_with_ci(proto.as_bytes(), b"local") => false,
        // SpamAssassin's fetcher rule comes after its `(rdns [ip])`-style
        // rules but before its bare `(ip)` ones.
        Some((tier, _)) if (tier != Tier::Comment || bare_paren_ip) && is_fetcher(rest, proto) => {
            false
        }
        // "from NAME by HOST ... [ip]": the only literal is in the `by`/`for`
        // part (`by [165.224.43.143] via smtpd`, `(for host [ip])`); it is
        // not the sender's, and SpamAssassin drops such lines
        // (`^\S+ by \S+ (?:with|via|for|\()`).
        Some((Tier::Anywhere, _)) if bare_line => false,
        // "from x by y;" with nothing else: not a handover unless x is [ip].
        Some(_) if bare_line && after_by.is_empty() && !name.starts_with('[') => false,
        // "from 1.2.3.4 by y (...)" counts only with "with".
        // (Also "by y (SMTPL ...)", "by y (InterScan ...)" and AOL's
        // "by y (ip) with HTTP (WebMailUI)", SpamAssassin's exceptions.)
        Some((Tier::FromName, _)) if bare_line && !name.starts_with('[') => {
            let a = after_by.as_bytes();
            starts_with_ci(a, b"with ")
                || a.starts_with(b"(SMTPL")
                || a.starts_with(b"(InterScan")
                || aol_webmail(after_by)
        }
        Some(_) => true,
    };
    hop.from_ip = match best {
        Some((Tier::Anywhere, _)) if bare_line => None,
        other => other.map(|(_, a)| a),
    };
    Some(hop)
}

/// AOL WebMail's `(64.12.168.82) with HTTP (WebMailUI)` after the `by` host.
fn aol_webmail(after_by: &str) -> bool {
    after_by
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .is_some_and(|(ip, tail)| {
            parse_ip_literal(ip).is_some() && tail.starts_with(" with HTTP (WebMailUI)")
        })
}

/// The first bracketed literal in `text` that is an IP (scanning stops at a
/// `[` without `]`).
fn first_bracketed_ip(text: &str) -> Option<IpAddr> {
    let tb = text.as_bytes();
    let mut k = 0usize;
    while let Some(open) = memchr::memchr(b'[', tb.get(k..)?) {
        let at = k + open;
        let close = memchr::memchr(b']', tb.get(at..)?)?;
        if let Some(ip) = parse_ip_literal(text.get(at..at + close + 1).unwrap_or_default()) {
            return Some(ip);
        }
        k = at + close + 1;
    }
    None
}

/// Bracketed literals outside comments: `from host [1.2.3.4] by`.
fn scan_outside(text: &str) -> Option<IpAddr> {
    first_bracketed_ip(text)
}

/// The relay IP in one comment after the `from` name, and the rDNS or ident
/// written before a bracketed literal.
fn comment_ip<'a>(
    c: &'a str,
    hop: &mut HopRef<'a>,
    rdns_from_comment: &mut bool,
    bare_paren_ip: &mut bool,
    explicit_helo: &mut bool,
) -> Option<IpAddr> {
    // "(rdns [ip] ...)", "(unknown[ip])", "(ident@[ip])", "([ip] helo=x)".
    let cb = c.as_bytes();
    let mut k = 0usize;
    while let Some(open) = memchr::memchr(b'[', cb.get(k..).unwrap_or_default()) {
        let at = k + open;
        let close = memchr::memchr(b']', cb.get(at..)?)?;
        let before = c.get(..at).unwrap_or_default();
        // Skip "helo=[ip]".
        if before.ends_with("helo=") {
            k = at + close + 1;
            continue;
        }
        if let Some(ip) = parse_ip_literal(c.get(at..at + close + 1).unwrap_or_default()) {
            let word = before
                .trim_end()
                .rsplit([' ', '('])
                .next()
                .unwrap_or_default();
            let word = match word.rfind('@') {
                Some(p) => {
                    let id = word.get(..p).unwrap_or_default();
                    let id = id.strip_prefix("IDENT:").unwrap_or(id);
                    hop.ident = ne(id);
                    word.get(p + 1..).unwrap_or_default()
                }
                None => word,
            };
            if !word.is_empty() && !word.starts_with('<') && !word.contains('=') {
                hop.from_rdns = ne(word);
                *rdns_from_comment = true;
            }
            return Some(ip);
        }
        k = at + close + 1;
    }
    // "(1.2.3.4)", "( 1.2.3.4)", "(user@1.2.3.4)", "(1.2.3.4:25)", "(2001:db8::1)",
    // Yahoo's "(user@1.2.3.4 with login)", smap's "(1.2.3.4, HELO name)".
    let first = c.split(' ').next().unwrap_or_default();
    let after = c.get(first.len()..).unwrap_or_default();
    let whole = first.strip_suffix(',').unwrap_or(first);
    let shaped = whole.len() == c.len()
        || c.starts_with(|ch: char| ch.is_ascii_digit())
        || whole.len() < first.len()
        || (whole.contains('@') && after.starts_with(" with "));
    if shaped && let Some(ip) = parse_ip_literal(whole) {
        if let Some(p) = whole.rfind('@') {
            hop.ident = ne(whole.get(..p).unwrap_or_default());
        }
        if whole.len() < first.len()
            && let Some(helo) = after
                .strip_prefix(" HELO ")
                .or_else(|| after.strip_prefix(" EHLO "))
        {
            hop.from_helo = ne(token_at(helo, 0));
            *explicit_helo = true;
        }
        *bare_paren_ip = true;
        return Some(ip);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(s: &str) -> ReceivedHop {
        parse_received(s).unwrap()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn postfix() {
        let h = hop(
            "from localhost (unknown [127.0.0.1]) by cabbage.jmason.org (Postfix) with ESMTP id A96E18BD97 for <jm@localhost>; Thu, 13 Mar 2003 15:23:15 -0500 (EST)",
        );
        assert_eq!(h.from_ip, ip("127.0.0.1"));
        assert_eq!(h.from_helo.as_deref(), Some("localhost"));
        assert_eq!(h.from_rdns, None);
        assert_eq!(h.by_host.as_deref(), Some("cabbage.jmason.org"));
        assert_eq!(h.with_proto.as_deref(), Some("ESMTP"));
        assert_eq!(h.id.as_deref(), Some("A96E18BD97"));
        assert_eq!(h.for_addr.as_deref(), Some("jm@localhost"));
        assert_eq!(h.date.unwrap().to_rfc3339(), "2003-03-13T20:23:15Z");
        assert!(h.handover && !h.auth);
    }

    #[test]
    fn sendmail_may_be_forged_and_ident() {
        let h = hop(
            "from mail1.insuranceiq.com (host66.insuranceiq.com [65.217.159.66] (may be forged)) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id h2F0c2x31856 for <jm@jmason.org>; Sat, 15 Mar 2003 00:38:03 GMT",
        );
        assert_eq!(h.from_ip, ip("65.217.159.66"));
        assert_eq!(h.from_rdns.as_deref(), Some("host66.insuranceiq.com"));
        assert_eq!(h.from_helo.as_deref(), Some("mail1.insuranceiq.com"));
        let h = hop(
            "from ran-out.mx.develooper.com (IDENT:qmailr@one.develooper.com [64.81.84.115]) by dogma.slashnull.org (8.11.6/8.11.6) with SMTP id h381Vvf19860",
        );
        assert_eq!(h.from_ip, ip("64.81.84.115"));
        assert_eq!(h.ident.as_deref(), Some("qmailr"));
        assert_eq!(h.from_rdns.as_deref(), Some("one.develooper.com"));
    }

    #[test]
    fn sendmail_helo_literal_prefers_comment_ip() {
        let h = hop(
            "from [192.168.1.10] (dsl.example.net [198.51.100.9]) by mx.example.org (8.13.8/8.13.8) with ESMTP id k1; Mon, 1 Jan 2007 00:00:00 +0000",
        );
        assert_eq!(h.from_ip, ip("198.51.100.9"));
        assert_eq!(h.from_helo.as_deref(), Some("[192.168.1.10]"));
    }

    #[test]
    fn exim_forms() {
        let h = hop(
            "from [61.174.163.26] (helo=host) by sc8-sf-list1.sourceforge.net with smtp (Exim 3.31-VA-mm2 #1 (Debian)) id 18t2z0-0001NX-00 for <razor-users@lists.sourceforge.net>; Wed, 12 Mar 2003 01:57:10 -0800",
        );
        assert_eq!(h.from_ip, ip("61.174.163.26"));
        assert_eq!(h.from_helo.as_deref(), Some("host"));
        let h = hop(
            "from dsl092-072-213.bos1.dsl.speakeasy.net ([66.92.72.213] helo=blazing.arsecandle.org) by sc8-sf-list1.sourceforge.net with esmtp (Cipher TLSv1:DES-CBC3-SHA:168) (Exim 3.31-VA-mm2 #1 (Debian)) id 18lyuU-0007TI-00",
        );
        assert_eq!(h.from_ip, ip("66.92.72.213"));
        assert_eq!(h.from_helo.as_deref(), Some("blazing.arsecandle.org"));
        assert_eq!(
            h.from_rdns.as_deref(),
            Some("dsl092-072-213.bos1.dsl.speakeasy.net")
        );
        let h = hop(
            "from server040.webpack.hosteurope.de ([80.237.130.48]:52313) by vps.example with esmtps (Exim 4.50) id 1GzVLs",
        );
        assert_eq!(h.from_ip, ip("80.237.130.48"));
        let h = hop(
            "from helene8.i.pinwand.net (helene.cats.ms) [10.0.8.6.13219] (mail) by lisbeth.i.pinwand.net with esmtp (Exim 3.35 #1 (Debian)) id 1CO5y7",
        );
        assert_eq!(h.from_ip, ip("10.0.8.6"));
        let h = hop(
            "from andrew by trinity.supernews.net with local (Exim 4.12) id 18xeL6-000Dn1-00; Tue, 25 Mar 2003 02:39:00 +0000",
        );
        assert!(!h.handover);
    }

    /// Real lines from other MTAs (SpamAssassin's test suite, as collected
    /// in mail-parser's `received.json`), checked against what
    /// SpamAssassin 4's `Received.pm` makes of them (docs/mail.md, "Other
    /// Received lines").
    #[test]
    fn forms_spamassassin_parses_or_drops() {
        // Yahoo's authenticated submissions: the IP follows "user@".
        let h = hop(
            "from itrqtnlnq (lucilleskinner@93.124.107.183 with login) by smtp111.mail.ne1.yahoo.com with SMTP; 17 Jan 2011 08:23:27 -0800 PST",
        );
        assert_eq!(h.from_ip, ip("93.124.107.183"));
        assert_eq!(h.ident.as_deref(), Some("lucilleskinner"));
        assert!(h.handover);
        let h = hop(
            "from customer254-217.iplannetworks.net (HELO AGAMENON) (baldusi@200.69.254.217 with plain) by smtp.mail.vip.sc5.yahoo.com with SMTP; 11 Mar 2003 21:03:28 -0000",
        );
        assert_eq!(h.from_ip, ip("200.69.254.217"));
        assert_eq!(h.from_helo.as_deref(), Some("AGAMENON"));
        // smap: "(ip, HELO name)".
        let h = hop(
            "from smtp.greyware.com(208.14.208.51, HELO smtp.sff.net) by x.x.org via smap (V1.3) id xma002908; Fri, 27 Feb 04 14:16:56 -0800",
        );
        assert_eq!(h.from_ip, ip("208.14.208.51"));
        assert_eq!(h.from_helo.as_deref(), Some("smtp.sff.net"));
        assert_eq!(h.from_rdns.as_deref(), Some("smtp.greyware.com"));
        assert!(h.handover);
        // No space before "by".
        let h = hop(
            "from av0001.technodiva.com (localhost [127.0.0.1])by  localhost.technodiva.com (Postfix) with ESMTP id 846CF2117for  <proftp-user@lists.sourceforge.net>; Mon,  7 Aug 2006 17:48:07 +0200 (MEST)",
        );
        assert_eq!(h.from_ip, ip("127.0.0.1"));
        assert_eq!(h.by_host.as_deref(), Some("localhost.technodiva.com"));
        assert!(h.handover);
        // "from IP by host (...)": SpamAssassin's exceptions count.
        for l in [
            "from 82.135.198.129 by FWM-M18.sysops.aol.com (64.12.168.82) with HTTP (WebMailUI); Tue, 19 Jun 2007 11:16:54 -0400",
            "from 157.54.8.23 by inet-vrs-05.redmond.corp.microsoft.com (InterScan E-Mail VirusWall NT); Thu, 06 Mar 2003 12:02:35 -0800",
            "from 10.165.130.62 by CNNIMAIL12.CNN.COM (SMTPL release 1.0d) with TCP; Fri, 1 Sep 2006 20:28:14 -0400",
        ] {
            assert!(hop(l).handover, "{l}");
        }
        // The only literal is the `by` host's or the `for` host's: no relay.
        for l in [
            "from no.name.available by [165.224.43.143] via smtpd (for [165.224.216.89]) with ESMTP; Fri, 28 Jan 2005 13:06:39 -0500",
            "from MATT_LINUX by hippo.star.co.uk via smtpd (for mail.webnote.net [193.120.211.219]) with SMTP; 3 Jul 2002 15:43:50 UT",
        ] {
            let h = hop(l);
            assert!(!h.handover && h.from_ip.is_none(), "{l}: {h:?}");
        }
        // A mail fetcher with a bare "(ip)".
        let h = hop(
            "from pop3.mail.dk (195.41.46.251) by loki.valhalla with POP3; 14 Apr 2010 11:14:29 -0000",
        );
        assert!(!h.handover);
    }

    #[test]
    fn qmail_forms() {
        let h = hop(
            "from postfix3-2.free.fr (HELO machine.domain.com) (foobar@213.228.0.169) by totor.bouissou.net with SMTP; 14 Nov 2003 08:05:50 -0000",
        );
        assert_eq!(h.from_ip, ip("213.228.0.169"));
        assert_eq!(h.from_helo.as_deref(), Some("machine.domain.com"));
        assert_eq!(h.from_rdns.as_deref(), Some("postfix3-2.free.fr"));
        assert_eq!(h.ident.as_deref(), Some("foobar"));
        let h = hop(
            "from unknown (HELO terpsichore.farfalle.com) (jdavid@[216.254.40.70]) (envelope-sender <jdavid@farfalle.com>) by mail13.speakeasy.net (qmail-ldap-1.03) with SMTP for <jm@jmason.org>; 12 Feb 2003 18:23:19 -0000",
        );
        assert_eq!(h.from_ip, ip("216.254.40.70"));
        assert_eq!(h.from_rdns, None);
        let h = hop("from network; 11 Nov 2008 21:30:00 -0000");
        assert!(!h.handover);
        let h = hop("(qmail 1234 invoked from network); 11 Nov 2008 21:30:00 -0000");
        assert!(!h.handover);
        assert!(h.date.is_some());
        let h = hop(
            "from unknown (HELO [10.0.0.1]) (198.51.100.4) by mail.example with SMTP; 11 Nov 2008 21:30:00 -0000",
        );
        assert_eq!(h.from_ip, ip("198.51.100.4"));
    }

    #[test]
    fn microsoft_and_google() {
        let h = hop(
            "from EXC-DAG-02.global.net (10.45.252.152) by EXC-DAG-02.global.net (10.45.252.152) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.1.1261.35; Mon, 29 Oct 2018 11:17:19 +0100",
        );
        assert_eq!(h.from_ip, ip("10.45.252.152"));
        assert_eq!(h.from_helo.as_deref(), Some("EXC-DAG-02.global.net"));
        let h = hop(
            "from AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226]) by AM5PR0402MB2836.eurprd04.prod.outlook.com ([fe80::19bd:c588:dd17:5226%6]) with mapi id 15.20.1943.023; Wed, 5 Jun 2019 10:17:08 +0000",
        );
        assert_eq!(h.from_ip, ip("fe80::19bd:c588:dd17:5226"));
        let h = hop(
            "from NAM12-BN8-obe.outbound.protection.outlook.com (2a01:111:f400:7e8a::200) by BN8NAM12FT003.mail.protection.outlook.com (2603:10b6:408:1b8::66) with Microsoft SMTP Server (version=TLS1_2) id 15.20.1; Mon, 1 Mar 2021 10:00:00 +0000",
        );
        assert_eq!(h.from_ip, ip("2a01:111:f400:7e8a::200"));
        let h = hop(
            "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a1sor; Tue, 1 Jan 2019 00:00:00 -0800 (PST)",
        );
        assert_eq!(h.from_ip, ip("209.85.220.41"));
        assert_eq!(h.from_rdns.as_deref(), Some("mail-sor-f41.google.com"));
        let h = hop(
            "by 2002:a17:90a:d3d7:0:0:0:0 with SMTP id d23csp1; Tue, 1 Jan 2019 00:00:00 -0800 (PST)",
        );
        assert!(!h.handover);
        let h = hop(
            "from inet-vrs-05.redmond.corp.microsoft.com ([157.54.6.157]) by INET-IMC-05.redmond.corp.microsoft.com with Microsoft SMTPSVC(5.0.2195.6624); Thu, 6 Mar 2003 12:02:35 -0800",
        );
        assert_eq!(h.from_ip, ip("157.54.6.157"));
    }

    #[test]
    fn ipv6_literals() {
        let h = hop(
            "from mail.example ([IPv6:2001:db8::1]) by mx.example (8.14/8.14) with ESMTP id x; Tue, 11 Nov 2008 21:30:00 +0000",
        );
        assert_eq!(h.from_ip, ip("2001:db8::1"));
        let h = hop("from x (y [IPv6:::ffff:198.51.100.1]) by z with ESMTP");
        assert_eq!(h.from_ip, ip("198.51.100.1"));
    }

    #[test]
    fn authenticated_submissions() {
        assert!(hop("from x (y [198.51.100.1]) by z with ESMTPSA id 1").auth);
        assert!(
            hop("from 198.51.100.1 by webmail.example with HTTP; Tue, 11 Nov 2008 21:30:00 +0000")
                .auth
        );
        assert!(hop("from x (y [198.51.100.1]) (Authenticated sender: bob) by z (Postfix) with ESMTP id 1").auth);
        assert!(hop("from rev.net (natpool62.rev.net [63.148.93.62] (may be forged)) (authenticated) by mail.rev.net (8.11.4/8.11.4) with ESMTP id h0").auth);
        assert!(!hop("from x (y [198.51.100.1]) by z with ESMTPS id 1").auth);
    }

    #[test]
    fn not_handovers() {
        assert!(
            !hop("by mx.example (Postfix, from userid 0) id 1; Tue, 11 Nov 2008 21:30:00 +0000")
                .handover
        );
        assert!(!hop("from localhost [127.0.0.1] by phobos.labs.netnoteinc.com with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); Thu, 22 Aug 2002 12:36:23 +0100 (IST)").handover);
        assert!(!hop("from somehost by mx.example; Tue, 11 Nov 2008 21:30:00 +0000").handover);
        assert!(!hop("from 198.51.100.1 by mx.example (8.1) id 1").handover);
        assert!(hop("from 213.123.174.21 by lw11fd.law11.hotmail.msn.com with HTTP; Wed, 24 Jul 2002 16:36:44 GMT").handover);
        assert!(hop("from [198.51.100.1] by mx.example; Tue, 11 Nov 2008 21:30:00 +0000").handover);
        assert!(parse_received("").is_none());
    }

    #[test]
    fn odd_forms() {
        assert_eq!(hop("from list.brainbuzz.com (63.146.189.86:23198) by mx1.yourtech.net with [XMail 1.20 ESMTP Server] id <S72E>").from_ip, ip("63.146.189.86"));
        assert_eq!(hop("from DPLAPTOP ( 72.242.176.162) by mail.puryear-it.com (Scalix SMTP Relay 10.0.1.3) via ESMTP").from_ip, ip("72.242.176.162"));
        assert_eq!(
            hop("from x(198.51.100.3) by y via smap (V2.1)").from_ip,
            ip("198.51.100.3")
        );
        assert_eq!(hop("from attbi.com (h000502e08144.ne.client2.attbi.com[24.128.27.103]) by rwcrmhc53.attbi.com (rwcrmhc53) with SMTP id <2003>").from_ip, ip("24.128.27.103"));
        assert_eq!(hop("from 12-211-5-69.client.attbi.com (<unknown.domain>[12.211.5.69]) by rwcrmhc53.attbi.com (rwcrmhc53) with SMTP id <2002>").from_ip, ip("12.211.5.69"));
        assert_eq!(
            hop("(from x [198.51.100.5]) by y (NAVGW 2.5) with SMTP").from_ip,
            ip("198.51.100.5")
        );
        assert_eq!(
            hop("from ([10.225.209.19:33672]) by ecelerity-va-1 (ecelerity HEAD) with SMTP id EE")
                .from_ip,
            ip("10.225.209.19")
        );
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for s in [
            "from",
            "from (",
            "from ((((",
            "from [",
            "from [1.2.3.4",
            "from x (y [",
            ";;;;",
            "from x by",
            " by ",
            "from x ([) by y",
            "from \u{0}\u{ffff} by é",
        ] {
            let _ = parse_received(s);
        }
        let long = format!("from x ({} [1.2.3.4]) by y", "a".repeat(10 << 20));
        let h = parse_received(&long).unwrap();
        assert!(!h.handover);
    }

    /// Every `Received:` value of the real spam and ham, and mutations of
    /// them spliced with the keywords and brackets the parser reacts to,
    /// give exactly what the parser before the third performance pass
    /// gave (`received_reference`, the old code kept for this test).
    #[test]
    fn equals_the_reference_parser_on_real_and_mutated_lines() {
        fn walk(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            if p.is_dir() {
                for e in std::fs::read_dir(p).unwrap().flatten() {
                    walk(&e.path(), out);
                }
            } else {
                out.push(p.to_path_buf());
            }
        }
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
        let mut values: Vec<Vec<u8>> = Vec::new();
        for sub in ["spam", "ham"] {
            let mut files = Vec::new();
            walk(&std::path::Path::new(data).join(sub), &mut files);
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                let Ok(reader) = crate::MessageReader::sniffed(&bytes[..]) else {
                    continue;
                };
                for raw in reader.flatten() {
                    let header = crate::headers::header_block(&raw.bytes);
                    for field in crate::headers::HeaderFields::new(header) {
                        if field.name.eq_ignore_ascii_case(b"Received") {
                            values.push(field.value.to_vec());
                        }
                    }
                }
            }
        }
        assert!(values.len() > 10_000, "{}", values.len());
        // Forms from other MTAs, so the mutations reach their rules too.
        for l in [
            "from itrqtnlnq (lucilleskinner@93.124.107.183 with login) by smtp111.mail.ne1.yahoo.com with SMTP; 17 Jan 2011 08:23:27 -0800 PST",
            "from smtp.greyware.com(208.14.208.51, HELO smtp.sff.net) by x.x.org via smap (V1.3) id xma002908; Fri, 27 Feb 04 14:16:56 -0800",
            "from av0001.technodiva.com (localhost [127.0.0.1])by  localhost.technodiva.com (Postfix) with ESMTP id 846CF2117",
            "from 82.135.198.129 by FWM-M18.sysops.aol.com (64.12.168.82) with HTTP (WebMailUI); Tue, 19 Jun 2007 11:16:54 -0400",
            "from 10.165.130.62 by CNNIMAIL12.CNN.COM (SMTPL release 1.0d) with TCP; Fri, 1 Sep 2006 20:28:14 -0400",
            "from no.name.available by [165.224.216.88] via smtpd (for lists.sourceforge.net [66.35.250.206]) with ESMTP",
            "from pop3.mail.dk (195.41.46.251) by loki.valhalla with POP3; 14 Apr 2010 11:14:29 -0000",
        ] {
            values.push(l.as_bytes().to_vec());
        }
        let pieces: &[&[u8]] = &[
            b"(",
            b")",
            b"[",
            b"]",
            b" by ",
            b" BY ",
            b" with ",
            b" id ",
            b" for ",
            b"from ",
            b"(from ",
            b"by ",
            b"helo=",
            b"ident=",
            b"HELO ",
            b"(EHLO)",
            b"authenticated",
            b"AUTH: ",
            b"(authenticated as ",
            b"(via HTTP",
            b"HTTP-DAV",
            b" with Microsoft Exchange Server HTTP-DAV",
            b"Exim",
            b"Microsoft",
            b"with POP3",
            b"with imap",
            b"local",
            b"1.2.3.4",
            b"[10.0.0.1]",
            b"@",
            b";",
            b" ",
            b"\r\n\t",
            "\u{a0}".as_bytes(),
            "\u{e9}".as_bytes(),
            b"\xff",
            b"unknown",
            b"IPv6:",
            b"::1",
            b"ESMTPA",
            b"\x00",
            b"(Authenticated sender: x)",
            b"198.51.100.7:25",
            b"x@[2001:db8::1]",
            b")by ",
            b" with login)",
            b", HELO ",
            b", ",
            b"fe80::1,",
            b"(SMTPL",
            b"(InterScan",
            b"(64.12.168.82) with HTTP (WebMailUI)",
            b" via smtpd (for ",
        ];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut s_new, mut s_old) = (String::new(), String::new());
        let mut n = 0usize;
        for v in &values {
            for round in 0..12 {
                let mut m = v.clone();
                if round > 0 {
                    for _ in 0..(next() % 4 + 1) {
                        let at = (next() as usize) % (m.len() + 1);
                        match next() % 4 {
                            0 => m.truncate(at),
                            1 => {
                                let end = (at + (next() as usize) % 12).min(m.len());
                                m.drain(at..end);
                            }
                            _ => {
                                let p = pieces[(next() as usize) % pieces.len()];
                                m.splice(at..at, p.iter().copied());
                            }
                        }
                    }
                }
                let got = parse_received_bytes(&m, &mut s_new).map(HopRef::to_hop);
                let want = crate::received_reference::parse_received_bytes(&m, &mut s_old);
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&m));
                for max in [3, 17, 64, MAX_RECEIVED_LEN] {
                    unfold_into(&m, &mut s_new, max);
                    crate::received_reference::unfold_into(&m, &mut s_old, max);
                    assert_eq!(s_new, s_old, "{m:?} {max}");
                }
                n += 1;
            }
        }
        eprintln!("{n} Received values compared");
    }

    /// The golden suite's inputs give what the previous parser gave.
    #[test]
    fn corpus_equals_the_reference_parser() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/received");
        let (mut s_old, mut s_new) = (String::new(), String::new());
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "txt") {
                continue;
            }
            let m = std::fs::read(&p).unwrap();
            let got = parse_received(&String::from_utf8_lossy(&m));
            let want = crate::received_reference::parse_received_bytes(&m, &mut s_old);
            assert_eq!(got, want, "{}", p.display());
            for max in [3, 17, 64, MAX_RECEIVED_LEN] {
                unfold_into(&m, &mut s_new, max);
                crate::received_reference::unfold_into(&m, &mut s_old, max);
                assert_eq!(s_new, s_old, "{} {max}", p.display());
            }
            n += 1;
        }
        eprintln!("{n} corpus lines equal the reference");
        assert!(n > 300);
    }

    #[test]
    fn fast_ipv4_equals_std() {
        for s in [
            "1.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "0.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.04",
            "999.1.1.1",
            "10.0.0.1",
        ] {
            let std = s.parse::<Ipv4Addr>().ok();
            match fast_ipv4(s) {
                Some(v) => assert_eq!(Some(v), std, "{s}"),
                None => assert!(
                    std.is_none() || s.contains(".0") || s.starts_with('0'),
                    "{s}"
                ),
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s: String = (0..(x % 16))
                .map(|k| b"0123456789..2a5"[((x >> (4 * k)) % 15) as usize] as char)
                .collect();
            if let Some(v) = fast_ipv4(&s) {
                assert_eq!(s.parse::<Ipv4Addr>().ok(), Some(v), "{s}");
            }
        }
    }
}
