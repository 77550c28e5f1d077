//! The `Received:` parser as it was before the third performance pass,
//! kept (tests only) as the reference the fast parser must equal.
#![allow(dead_code, clippy::pedantic)]

use std::net::IpAddr;

use crate::date::parse_date;
use crate::received::{MAX_RECEIVED_LEN, ReceivedHop};

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle.first()?.to_ascii_lowercase();
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let b = hay.get(i)?.to_ascii_lowercase();
        if b == first && starts_with_ci(hay.get(i..)?, needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Finds `needle` (case-insensitive) outside parentheses.
fn find_ci_depth0(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle.first()?.to_ascii_lowercase();
    let mut depth = 0u32;
    let mut i = from;
    while let Some(&c) = hay.get(i) {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ if depth == 0
                && c.to_ascii_lowercase() == first
                && starts_with_ci(hay.get(i..)?, needle) =>
            {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The token starting at `at`: up to white space, `;`, `(` or `)`.
fn token_at(s: &str, at: usize) -> &str {
    let rest = s.get(at..).unwrap_or_default();
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ';' | '(' | ')'))
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Parses an IP literal as MTAs write it: `1.2.3.4`, `[1.2.3.4]`,
/// `IPv6:2001:db8::1`, `1.2.3.4:25`, `1.2.3.4.25` (Exim port), `fe80::1%eth0`,
/// `ident@1.2.3.4`. IPv4-mapped IPv6 becomes IPv4.
pub(crate) fn parse_ip_literal(text: &str) -> Option<IpAddr> {
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
    let ip = match s.parse::<IpAddr>() {
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

/// Authenticated-submission protocols (`with ...`), as in SpamAssassin.
fn is_auth_proto(p: &str) -> bool {
    let u = p.to_ascii_uppercase();
    matches!(
        u.as_str(),
        "ESMTPA"
            | "ESMTPSA"
            | "LMTPA"
            | "LMTPSA"
            | "UTF8SMTPA"
            | "UTF8SMTPSA"
            | "UTF8LMTPA"
            | "UTF8LMTPSA"
            | "ASMTP"
            | "HTTP"
            | "HTTPS"
            | "HTTPU"
    )
}

/// Where the IP came from; lower is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Comment,
    Outside,
    FromName,
    Anywhere,
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
pub(crate) fn parse_received(value: &str) -> Option<ReceivedHop> {
    let mut line = String::new();
    unfold_into(value.as_bytes(), &mut line, MAX_RECEIVED_LEN);
    let line = line.replacen(")by ", ") by ", 1);
    parse_unfolded(&line)
}

/// Parses a raw (possibly folded, possibly non-UTF-8) value.
pub(crate) fn parse_received_bytes(value: &[u8], scratch: &mut String) -> Option<ReceivedHop> {
    unfold_into(value, scratch, MAX_RECEIVED_LEN);
    *scratch = scratch.replacen(")by ", ") by ", 1);
    parse_unfolded(scratch)
}

pub(crate) fn parse_unfolded(line: &str) -> Option<ReceivedHop> {
    if line.is_empty() {
        return None;
    }
    let mut hop = ReceivedHop::default();
    // The date: after the last ';' when it parses as one.
    let mut clause = line;
    if let Some(i) = line.rfind(';') {
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
    let by_pos = find_ci_depth0(b, b" by ", 0)
        .or_else(|| find_ci(b, b" by ", 0))
        .or_else(|| starts_with_ci(b, b"by ").then_some(0).map(|_| usize::MAX));
    let (by_at, rest) = match by_pos {
        Some(usize::MAX) => (Some(0), clause.get(3..).unwrap_or_default()),
        Some(p) => (Some(p), clause.get(p + 4..).unwrap_or_default()),
        None => (None, ""),
    };
    if by_at.is_some() {
        hop.by_host = non_empty(token_at(rest, 0).trim_end_matches('.'));
    }
    let rb = rest.as_bytes();
    if let Some(p) = find_ci_depth0(rb, b" with ", 0) {
        hop.with_proto = non_empty(token_at(rest, p + 6));
    } else if starts_with_ci(rb, b"with ") {
        hop.with_proto = non_empty(token_at(rest, 5));
    }
    if let Some(p) = find_ci_depth0(rb, b" id ", 0) {
        hop.id = non_empty(token_at(rest, p + 4).trim_matches(['<', '>']));
    }
    if let Some(p) = find_ci_depth0(rb, b" for ", 0) {
        hop.for_addr = non_empty(token_at(rest, p + 5).trim_matches(['<', '>']));
    }
    let proto_owned = hop.with_proto.clone().unwrap_or_default();
    let proto = proto_owned.as_str();
    if by_at.is_some() && is_auth_proto(proto) {
        hop.auth = true;
    }
    if rest.contains("(authenticated as ")
        || rest.contains("(via HTTP")
        || rest.contains(" with Microsoft Exchange Server HTTP-DAV")
        || proto.eq_ignore_ascii_case("Microsoft") && rest.contains("HTTP-DAV")
    {
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

    // The name after "from".
    let name_end = if from_clause.starts_with('[') {
        from_clause.find(']').map_or(from_clause.len(), |i| i + 1)
    } else {
        from_clause.find([' ', '(']).unwrap_or(from_clause.len())
    };
    let name = from_clause.get(..name_end).unwrap_or_default();
    let after_name = from_clause.get(name_end..).unwrap_or_default();
    hop.from_name = non_empty(name);

    let mut best: Option<(Tier, IpAddr)> = None;
    let mut consider = |tier: Tier, ip: Option<IpAddr>| {
        if let Some(ip) = ip
            && best.is_none_or(|(t, _)| tier < t)
        {
            best = Some((tier, ip));
        }
    };
    let mut explicit_helo = false;
    let mut rdns_from_comment = false;
    let mut bare_paren_ip = false;
    let mut authenticated_comment = false;

    // Walk the comments (top level) and the text outside them.
    let ab = after_name.as_bytes();
    let mut i = 0usize;
    let mut outside_start = 0usize;
    while i < ab.len() {
        if ab.get(i) == Some(&b'(') {
            scan_outside(
                after_name.get(outside_start..i).unwrap_or_default(),
                &mut consider,
            );
            let mut depth = 0u32;
            let mut j = i;
            while j < ab.len() {
                match ab.get(j) {
                    Some(b'(') => depth += 1,
                    Some(b')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let comment = after_name.get(i + 1..j.min(ab.len())).unwrap_or_default();
            let c = comment.trim();
            let lc = c.as_bytes();
            if starts_with_ci(lc, b"HELO ")
                || starts_with_ci(lc, b"EHLO ")
                || c.eq_ignore_ascii_case("HELO")
                || c.eq_ignore_ascii_case("EHLO")
            {
                explicit_helo = true;
                let h = c.get(4..).unwrap_or_default().trim();
                hop.from_helo = non_empty(h);
            } else {
                if let Some(p) = c.find("helo=") {
                    explicit_helo = true;
                    hop.from_helo = non_empty(token_at(c, p + 5));
                }
                if let Some(p) = c.find("ident=") {
                    hop.ident = non_empty(token_at(c, p + 6));
                }
                if c.contains("authenticated") || c.contains("AUTH: ") {
                    authenticated_comment = true;
                }
                if let Some(ip) = comment_ip(
                    c,
                    &mut hop,
                    &mut rdns_from_comment,
                    &mut bare_paren_ip,
                    &mut explicit_helo,
                ) {
                    consider(Tier::Comment, Some(ip));
                }
            }
            i = j + 1;
            outside_start = i;
            continue;
        }
        i += 1;
    }
    scan_outside(
        after_name.get(outside_start..).unwrap_or_default(),
        &mut consider,
    );
    let name_ip =
        if name.starts_with('[') || name.bytes().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            parse_ip_literal(name)
        } else {
            None
        };
    consider(Tier::FromName, name_ip);
    // Last resort: any bracketed literal in the line.
    let mut k = 0usize;
    while let Some(open) = clause.get(k..).and_then(|s| s.find('[')) {
        let at = k + open;
        if let Some(close) = clause.get(at..).and_then(|s| s.find(']')) {
            consider(
                Tier::Anywhere,
                parse_ip_literal(clause.get(at..at + close + 1).unwrap_or_default()),
            );
            k = at + close + 1;
        } else {
            break;
        }
    }

    // Who is who: the name after "from" is the HELO for Sendmail/Postfix
    // style (rDNS in the comment), the rDNS for qmail/Exim style.
    let exim = rest.contains("Exim");
    if rdns_from_comment {
        hop.from_helo = non_empty(name);
    } else if explicit_helo || exim {
        if hop.from_helo.is_none() && exim {
            hop.from_helo = non_empty(name);
        }
        if !name.starts_with('[') {
            hop.from_rdns = non_empty(name);
        }
    } else if bare_paren_ip && !rest.contains("Microsoft") {
        hop.from_helo = non_empty(name);
        if !name.starts_with('[') && name_ip.is_none() {
            hop.from_rdns = non_empty(name);
        }
    } else {
        hop.from_helo = non_empty(name);
    }
    if let Some(r) = &mut hop.from_rdns {
        while r.ends_with('.') {
            r.pop();
        }
        if r.eq_ignore_ascii_case("unknown") || r.starts_with('[') || r.is_empty() {
            hop.from_rdns = None;
        }
    }
    if authenticated_comment || from_clause.contains("(Authenticated sender: ") {
        hop.auth = true;
    }

    // Is it a handover SpamAssassin would count?
    let ip = best;
    let proto_lc = proto.to_ascii_lowercase();
    let fetcher = find_ci(rest.as_bytes(), b"with POP3", 0).is_some()
        || find_ci(rest.as_bytes(), b"with IMAP", 0).is_some()
        || proto_lc == "pop3"
        || proto_lc == "imap";
    let bare_line = after_name.trim().is_empty();
    let after_by = rest
        .get(hop.by_host.as_deref().map_or(0, str::len)..)
        .unwrap_or_default()
        .trim_start();
    hop.handover = match ip {
        None => false,
        Some(_) if by_at.is_none() => false,
        Some(_) if proto_lc.starts_with("local") => false,
        Some((tier, _)) if fetcher && (tier != Tier::Comment || bare_paren_ip) => false,
        // Only the `by`/`for` part has a literal.
        Some((Tier::Anywhere, _)) if bare_line => false,
        // "from x by y;" with nothing else: not a handover unless x is [ip].
        Some(_) if bare_line && after_by.is_empty() && !name.starts_with('[') => false,
        // "from 1.2.3.4 by y (...)" counts only with "with".
        Some((Tier::FromName, _)) if bare_line && !name.starts_with('[') => {
            starts_with_ci(after_by.as_bytes(), b"with ")
                || after_by.starts_with("(SMTPL")
                || after_by.starts_with("(InterScan")
                || after_by.find(')').is_some_and(|e| {
                    after_by.starts_with('(')
                        && parse_ip_literal(&after_by[1..e]).is_some()
                        && after_by[e + 1..].starts_with(" with HTTP (WebMailUI)")
                })
        }
        Some(_) => true,
    };
    hop.from_ip = match ip {
        Some((Tier::Anywhere, _)) if bare_line => None,
        other => other.map(|(_, a)| a),
    };
    Some(hop)
}

/// Bracketed literals outside comments: `from host [1.2.3.4] by`.
fn scan_outside(text: &str, consider: &mut impl FnMut(Tier, Option<IpAddr>)) {
    let mut k = 0usize;
    while let Some(open) = text.get(k..).and_then(|s| s.find('[')) {
        let at = k + open;
        let Some(close) = text.get(at..).and_then(|s| s.find(']')) else {
            return;
        };
        consider(
            Tier::Outside,
            parse_ip_literal(text.get(at..at + close + 1).unwrap_or_default()),
        );
        k = at + close + 1;
    }
}

/// The relay IP in one comment after the `from` name, and the rDNS or ident
/// written before a bracketed literal.
fn comment_ip(
    c: &str,
    hop: &mut ReceivedHop,
    rdns_from_comment: &mut bool,
    bare_paren_ip: &mut bool,
    explicit_helo: &mut bool,
) -> Option<IpAddr> {
    // "(rdns [ip] ...)", "(unknown[ip])", "(ident@[ip])", "([ip] helo=x)".
    let mut k = 0usize;
    while let Some(open) = c.get(k..).and_then(|s| s.find('[')) {
        let at = k + open;
        let close = c.get(at..).and_then(|s| s.find(']'))?;
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
                    hop.ident = non_empty(id);
                    word.get(p + 1..).unwrap_or_default()
                }
                None => word,
            };
            if !word.is_empty() && !word.starts_with('<') && !word.contains('=') {
                hop.from_rdns = non_empty(word);
                *rdns_from_comment = true;
            }
            return Some(ip);
        }
        k = at + close + 1;
    }
    // "(1.2.3.4)", "( 1.2.3.4)", "(user@1.2.3.4)", "(1.2.3.4:25)", "(2001:db8::1)".
    let whole = c.split(' ').next().unwrap_or_default();
    if (whole.len() == c.len() || c.starts_with(|ch: char| ch.is_ascii_digit()))
        && let Some(ip) = parse_ip_literal(whole)
    {
        if let Some(p) = whole.rfind('@') {
            hop.ident = non_empty(whole.get(..p).unwrap_or_default());
        }
        *bare_paren_ip = true;
        return Some(ip);
    }
    // Yahoo: "(user@1.2.3.4 with login)".
    if let Some((user_ip, _)) = c.split_once(" with ")
        && !user_ip.contains(' ')
        && let Some((user, ip)) = user_ip.rsplit_once('@')
        && let Some(ip) = parse_ip_literal(ip)
    {
        hop.ident = non_empty(user);
        *bare_paren_ip = true;
        return Some(ip);
    }
    // smap: "(1.2.3.4, HELO name)".
    if let Some((ip_text, tail)) = c.split_once(' ')
        && let Some(ip_text) = ip_text.strip_suffix(',')
        && let Some(ip) = parse_ip_literal(ip_text)
    {
        if let Some(p) = ip_text.rfind('@') {
            hop.ident = non_empty(ip_text.get(..p).unwrap_or_default());
        }
        if let Some(h) = tail
            .strip_prefix("HELO ")
            .or_else(|| tail.strip_prefix("EHLO "))
        {
            hop.from_helo = non_empty(token_at(h, 0));
            *explicit_helo = true;
        }
        *bare_paren_ip = true;
        return Some(ip);
    }
    None
}

/// Unfolds and trims a raw value into `out` (CR, LF and runs of white space
/// become one space). Caps the output at `max` bytes. ASCII is copied byte
/// by byte; from the first non-ASCII byte on, the rest is decoded as UTF-8
/// (invalid sequences become U+FFFD).
pub(crate) fn unfold_into(value: &[u8], out: &mut String, max: usize) {
    out.clear();
    let mut space = false;
    let mut i = 0usize;
    while let Some(&b) = value.get(i) {
        if b >= 0x80 {
            break;
        }
        i += 1;
        // The ASCII characters `char::is_whitespace` accepts.
        if matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ') {
            space = true;
            continue;
        }
        if out.len() >= max {
            return;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(char::from(b));
    }
    if out.len() >= max {
        return;
    }
    for chunk in value.get(i..).unwrap_or_default().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if out.len() >= max {
                return;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
        if !chunk.invalid().is_empty() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push('\u{FFFD}');
        }
    }
}
