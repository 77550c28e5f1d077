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

/// What the comments after the `from` name said about the relay.
#[derive(Debug, Default)]
struct Clues {
    /// A `(HELO x)`, `helo=x` or smap `, HELO x` named the HELO.
    explicit_helo: bool,
    /// The rDNS came from a comment (`(rdns [ip])`): the name is the HELO.
    rdns_from_comment: bool,
    /// The IP came from a bare `(ip)`-style comment.
    bare_paren_ip: bool,
    /// A comment says `authenticated` or `AUTH: `.
    authenticated_comment: bool,
}

/// The `by` part of a clause: where ` by ` starts (`Some(0)` for a clause
/// that starts with `by `) and the text after it.
fn by_part(clause: &str) -> (Option<usize>, &str) {
    let b = clause.as_bytes();
    // Outside comments preferred.
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
    match by_pos {
        Some(usize::MAX) => (Some(0), clause.get(3..).unwrap_or_default()),
        Some(p) => (Some(p), clause.get(p + 4..).unwrap_or_default()),
        None => (None, ""),
    }
}

/// The `by` host, ` with `, ` id ` and ` for ` (one pass over the text after
/// `by`, outside comments) and the authentication the protocol or an
/// Exchange/webmail marker shows. Returns the protocol.
fn by_with_id_for<'a>(rest: &'a str, has_by: bool, hop: &mut HopRef<'a>) -> &'a str {
    if has_by {
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
    if has_by && is_auth_proto(proto) {
        hop.auth = true;
    }
    if !hop.auth && auth_marker(rest, proto) {
        hop.auth = true;
    }
    proto
}

/// The name after `from` (a whole `[literal]`, else up to a space or `(`)
/// and the text after it.
fn split_from_name(from_clause: &str) -> (&str, &str) {
    let fb = from_clause.as_bytes();
    let name_end = if fb.first() == Some(&b'[') {
        memchr::memchr(b']', fb).map_or(fb.len(), |i| i + 1)
    } else {
        fb.iter()
            .position(|&c| c == b' ' || c == b'(')
            .unwrap_or(fb.len())
    };
    (
        from_clause.get(..name_end).unwrap_or_default(),
        from_clause.get(name_end..).unwrap_or_default(),
    )
}

/// The end of the comment opened at `open` (the index of its `)`, or the
/// end of `ab` when it is never closed).
fn comment_end(ab: &[u8], open: usize) -> usize {
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
    if depth == 0 { j } else { ab.len() }
}

/// One top-level comment after the `from` name: HELO, ident, the
/// authentication marker, and the relay IP it holds.
fn read_comment<'a>(c: &'a str, hop: &mut HopRef<'a>, clues: &mut Clues) -> Option<IpAddr> {
    let lc = c.as_bytes();
    if starts_with_ci(lc, b"HELO ")
        || starts_with_ci(lc, b"EHLO ")
        || c.eq_ignore_ascii_case("HELO")
        || c.eq_ignore_ascii_case("EHLO")
    {
        clues.explicit_helo = true;
        hop.from_helo = ne(c.get(4..).unwrap_or_default().trim());
        return None;
    }
    if let Some(p) = find_bytes(lc, b"helo=") {
        clues.explicit_helo = true;
        hop.from_helo = ne(token_at(c, p + 5));
    }
    if let Some(p) = find_bytes(lc, b"ident=") {
        hop.ident = ne(token_at(c, p + 6));
    }
    if !clues.authenticated_comment && (contains(c, "authenticated") || contains(c, "AUTH: ")) {
        clues.authenticated_comment = true;
    }
    comment_ip(c, hop, clues)
}

/// Walks the top-level comments after the `from` name and the text outside
/// them. Only the first usable IP of the best tier found so far can change
/// the result, so the text outside comments is searched only while nothing
/// is found.
fn walk_comments<'a>(
    after_name: &'a str,
    hop: &mut HopRef<'a>,
    clues: &mut Clues,
) -> Option<(Tier, IpAddr)> {
    let mut best: Option<(Tier, IpAddr)> = None;
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
        let j = comment_end(ab, open);
        let comment = after_name
            .get(open + 1..j.min(ab.len()))
            .unwrap_or_default();
        let ip = read_comment(comment.trim(), hop, clues);
        consider(&mut best, Tier::Comment, ip);
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
    best
}

/// Who is who: the name after `from` is the HELO for Sendmail/Postfix
/// style (rDNS in the comment), the rDNS for qmail/Exim style.
fn assign_names<'a>(
    hop: &mut HopRef<'a>,
    name: &'a str,
    name_ip: Option<IpAddr>,
    rest: &str,
    clues: &Clues,
) {
    if clues.rdns_from_comment {
        hop.from_helo = ne(name);
    } else {
        let exim = contains(rest, "Exim");
        if clues.explicit_helo || exim {
            if hop.from_helo.is_none() && exim {
                hop.from_helo = ne(name);
            }
            if !name.starts_with('[') {
                hop.from_rdns = ne(name);
            }
        } else if clues.bare_paren_ip && !contains(rest, "Microsoft") {
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
}

/// The line as SpamAssassin sees it, for the handover decision.
struct Shape<'a> {
    best: Option<(Tier, IpAddr)>,
    has_by: bool,
    proto: &'a str,
    rest: &'a str,
    name: &'a str,
    /// Nothing but the name between `from` and `by`.
    bare_line: bool,
    /// The text after the `by` host.
    after_by: &'a str,
    /// The IP came from a bare `(ip)`-style comment.
    bare_paren_ip: bool,
}

/// Is it a handover SpamAssassin would count?
fn is_handover(s: &Shape<'_>) -> bool {
    match s.best {
        None => false,
        Some(_) if !s.has_by => false,
        Some(_) if starts_with_ci(s.proto.as_bytes(), b"local") => false,
        // SpamAssassin's fetcher rule comes after its `(rdns [ip])`-style
        // rules but before its bare `(ip)` ones.
        Some((tier, _))
            if (tier != Tier::Comment || s.bare_paren_ip) && is_fetcher(s.rest, s.proto) =>
        {
            false
        }
        // "from NAME by HOST ... [ip]": the only literal is in the `by`/`for`
        // part (`by [165.224.43.143] via smtpd`, `(for host [ip])`); it is
        // not the sender's, and SpamAssassin drops such lines
        // (`^\S+ by \S+ (?:with|via|for|\()`).
        Some((Tier::Anywhere, _)) if s.bare_line => false,
        // "from x by y;" with nothing else: not a handover unless x is [ip].
        Some(_) if s.bare_line && s.after_by.is_empty() && !s.name.starts_with('[') => false,
        // "from 1.2.3.4 by y (...)" counts only with "with".
        // (Also "by y (SMTPL ...)", "by y (InterScan ...)" and AOL's
        // "by y (ip) with HTTP (WebMailUI)", SpamAssassin's exceptions.)
        Some((Tier::FromName, _)) if s.bare_line && !s.name.starts_with('[') => {
            let a = s.after_by.as_bytes();
            starts_with_ci(a, b"with ")
                || a.starts_with(b"(SMTPL")
                || a.starts_with(b"(InterScan")
                || aol_webmail(s.after_by)
        }
        Some(_) => true,
    }
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
    let from_start = if starts_with_ci(b, b"from ") {
        Some(5)
    } else if starts_with_ci(b, b"(from ") {
        Some(6)
    } else {
        None
    };
    let (by_at, rest) = by_part(clause);
    let proto = by_with_id_for(rest, by_at.is_some(), &mut hop);
    let Some(from_start) = from_start else {
        return Some(hop);
    };
    let from_end = match by_at {
        Some(p) if p >= from_start => p,
        _ => clause.len(),
    };
    let from_clause = clause.get(from_start..from_end).unwrap_or_default().trim();
    let (name, after_name) = split_from_name(from_clause);
    hop.from_name = ne(name);

    let mut clues = Clues::default();
    let mut best = walk_comments(after_name, &mut hop, &mut clues);
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
    assign_names(&mut hop, name, name_ip, rest, &clues);
    if !hop.auth
        && (clues.authenticated_comment || contains(from_clause, "(Authenticated sender: "))
    {
        hop.auth = true;
    }

    let bare_line = after_name.trim().is_empty();
    let shape = Shape {
        best,
        has_by: by_at.is_some(),
        proto,
        rest,
        name,
        bare_line,
        after_by: rest
            .get(hop.by_host.map_or(0, str::len)..)
            .unwrap_or_default()
            .trim_start(),
        bare_paren_ip: clues.bare_paren_ip,
    };
    hop.handover = is_handover(&shape);
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
fn comment_ip<'a>(c: &'a str, hop: &mut HopRef<'a>, clues: &mut Clues) -> Option<IpAddr> {
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
                clues.rdns_from_comment = true;
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
            clues.explicit_helo = true;
        }
        clues.bare_paren_ip = true;
        return Some(ip);
    }
    None
}

#[cfg(test)]
mod tests {
    //! The forms this parser reads, field by field, are the golden suite
    //! `tests/corpus/received` (each line's source and reason in its
    //! README.md); these tests cover what the suite cannot hold.

    use super::*;
    use crate::test_support::XorShift;

    #[test]
    fn postfix_line_every_field() {
        // The suite runs through the public API; one line here keeps a
        // failure of the parser itself visible in `cargo test --lib`.
        let h = parse_received(
            "from localhost (unknown [127.0.0.1]) by cabbage.jmason.org (Postfix) with ESMTP id A96E18BD97 for <jm@localhost>; Thu, 13 Mar 2003 15:23:15 -0500 (EST)",
        )
        .unwrap();
        assert_eq!(h.from_ip, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(h.from_helo.as_deref(), Some("localhost"));
        assert_eq!(h.from_rdns, None);
        assert_eq!(h.for_addr.as_deref(), Some("jm@localhost"));
        assert_eq!(h.date.unwrap().to_rfc3339(), "2003-03-13T20:23:15Z");
        assert!(h.handover && !h.auth);
        assert!(parse_received("").is_none());
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

    /// What the parser sees of a raw value, by definition: the value read
    /// as UTF-8, its white-space runs as one space, trimmed; characters are
    /// taken while fewer than `max` bytes are out. An invalid sequence is
    /// written as U+FFFD without looking at `max` except at the first
    /// non-ASCII byte (so a line of invalid bytes is not capped: the
    /// behaviour as it is, pinned here).
    fn unfolded_by_definition(raw: &[u8], max: usize) -> String {
        let mut out = String::new();
        let mut space = false;
        let mut non_ascii = false;
        for chunk in raw.utf8_chunks() {
            for c in chunk.valid().chars() {
                if !c.is_ascii() && !non_ascii {
                    non_ascii = true;
                    if out.len() >= max {
                        return out;
                    }
                }
                if c.is_whitespace() {
                    space = true;
                    continue;
                }
                if out.len() >= max {
                    return out;
                }
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
            if !chunk.invalid().is_empty() {
                if !non_ascii {
                    non_ascii = true;
                    if out.len() >= max {
                        return out;
                    }
                }
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push('\u{FFFD}');
            }
        }
        out
    }

    /// The unfolding under the parser equals its definition at every cap,
    /// on the suite's lines (CR, LF, NUL, invalid UTF-8 among them) and on
    /// random bytes rich in white space.
    #[test]
    fn unfolding_is_the_definition_at_every_cap() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/received");
        let mut values: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        assert!(values.len() > 300, "{}", values.len());
        let alphabet: [&[u8]; 10] = [
            b"a",
            b"(",
            b" ",
            b"\t",
            b"\r\n",
            b"\x0b",
            "\u{a0}".as_bytes(),
            "\u{3000}".as_bytes(),
            b"\xff",
            b"\xc3",
        ];
        let mut rng = XorShift::new(0x2545_F491_4F6C_DD1D);
        for _ in 0..5000 {
            let v: Vec<u8> = (0..rng.below(40))
                .flat_map(|_| alphabet[rng.below(alphabet.len())].iter().copied())
                .collect();
            values.push(v);
        }
        let mut out = String::new();
        for v in &values {
            for max in [0, 1, 3, 17, 64, MAX_RECEIVED_LEN] {
                unfold_into(v, &mut out, max);
                assert_eq!(out, unfolded_by_definition(v, max), "{v:?} {max}");
            }
        }
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
