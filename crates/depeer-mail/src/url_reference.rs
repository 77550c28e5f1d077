//! The URL scanner as it was before the third performance pass, kept
//! (tests only) as the reference the fast scanner must equal.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::pedantic)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// At most this many distinct URLs are kept per message.
pub const MAX_URLS: usize = 4096;
/// URLs are cut to this many bytes.
pub const MAX_URL_LEN: usize = 2048;

/// One URL found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FoundUrl {
    /// The normalised URL (scheme and host lowercased, scheme added).
    pub url: String,
    /// Host name (punycode) or IP literal (IPv6 without brackets).
    pub host: String,
    /// The host is an IP literal.
    pub is_ip: bool,
}

/// Collects distinct URLs of one message.
#[derive(Debug, Default)]
pub struct UrlSet {
    seen: HashSet<String>,
    found: Vec<FoundUrl>,
    scratch: String,
    html_buf: String,
    text_buf: String,
}

// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn delim_table() -> [bool; 256] {
    let mut t = [false; 256];
    let d = b" \t\r\n\x0b\x0c<>\"'`{}[]|()\\\x1b\x00";
    let mut i = 0;
    while i < d.len() {
        t[d[i] as usize] = true;
        i += 1;
    }
    t
}

static DELIM: [bool; 256] = delim_table();

/// Whether the byte at `i` ends a token (a delimiter, or either byte of a
/// UTF-8 no-break space).
#[inline]
fn delim_at(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(&c) if DELIM.get(usize::from(c)) == Some(&true) => true,
        Some(0xc2) => b.get(i + 1) == Some(&0xa0),
        Some(0xa0) => i > 0 && b.get(i - 1) == Some(&0xc2),
        _ => false,
    }
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') || b >= 0x80
}

/// Trailing punctuation that Thunderbird does not make part of a link.
fn trim_trailing(s: &str) -> &str {
    s.trim_end_matches(|c: char| "-~!@#^&*()_+=:;'?,.".contains(c))
}

impl UrlSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The URLs found so far, in order of discovery.
    pub fn urls(&self) -> &[FoundUrl] {
        &self.found
    }

    /// Takes the URLs out, leaving the set empty (ready for the next message).
    pub fn take(&mut self) -> Vec<FoundUrl> {
        self.seen.clear();
        std::mem::take(&mut self.found)
    }

    /// Scans plain text.
    pub fn scan_text(&mut self, text: &str) {
        self.scan(text, false, 0);
    }

    /// Scans HTML: entities are decoded first; inside tags (attribute
    /// values) and `<style>`/`<script>` only explicit URLs and addresses
    /// count; the rendered text (tags removed, block tags as spaces) is then
    /// scanned like plain text and kept for [`UrlSet::rendered`].
    pub fn scan_html(&mut self, html: &str) {
        let mut decoded = std::mem::take(&mut self.html_buf);
        let src: &str = if html.contains('&') {
            decode_entities(html, &mut decoded);
            &decoded
        } else {
            html
        };
        let mut text = std::mem::take(&mut self.text_buf);
        self.render_and_scan_markup(src, &mut text);
        self.scan(&text, false, 0);
        self.text_buf = text;
        self.html_buf = decoded;
    }

    /// The visible text of the HTML last given to [`UrlSet::scan_html`].
    pub fn rendered(&self) -> &str {
        &self.text_buf
    }

    /// One pass over the tags of `html`: their contents (and the contents
    /// of `<style>` and `<script>`) are scanned as markup, the text between
    /// them goes to `out` (block tags become a space, comments vanish).
    fn render_and_scan_markup(&mut self, html: &str, out: &mut String) {
        out.clear();
        out.reserve(html.len() / 2);
        let b = html.as_bytes();
        let mut i = 0usize;
        while let Some(p) = memchr::memchr(b'<', b.get(i..).unwrap_or_default()) {
            let lt = i + p;
            out.push_str(html.get(i..lt).unwrap_or_default());
            let rest = b.get(lt + 1..).unwrap_or_default();
            let close: Option<&[u8]> = if rest.starts_with(b"!--") {
                Some(b"-->")
            } else if starts_ci(rest, b"style") {
                Some(b"</style")
            } else if starts_ci(rest, b"script") {
                Some(b"</script")
            } else {
                None
            };
            let end = match close {
                Some(c) => find_ci_from(b, c, lt + 1).map_or(b.len(), |q| q + c.len()),
                None => lt + 1,
            };
            let gt = if close == Some(&b"-->"[..]) {
                end
            } else {
                memchr::memchr(b'>', b.get(end..).unwrap_or_default())
                    .map_or(b.len(), |q| end + q + 1)
            };
            if close != Some(&b"-->"[..])
                && let Some(tag) = html.get(lt + 1..gt.saturating_sub(1).max(lt + 1))
            {
                self.scan(tag, true, 0);
            }
            let name_start = rest.strip_prefix(b"/").unwrap_or(rest);
            let name_len = name_start
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            let name = name_start.get(..name_len).unwrap_or_default();
            if close.is_some() || BLOCK_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name)) {
                out.push(' ');
            }
            i = gt;
        }
        out.push_str(html.get(i.min(html.len())..).unwrap_or_default());
    }

    /// Finds tokens (runs between delimiters) that contain `.`, `@` or `:`
    /// and looks at each; the rest of the text is skipped with memchr.
    fn scan(&mut self, text: &str, in_markup: bool, depth: u8) {
        let b = text.as_bytes();
        let mut pos = 0usize;
        while let Some(p) = memchr::memchr3(b'.', b'@', b':', b.get(pos..).unwrap_or_default()) {
            if self.found.len() >= MAX_URLS {
                return;
            }
            let hit = pos + p;
            let mut start = hit;
            while start > pos && !delim_at(b, start - 1) {
                start -= 1;
            }
            let mut end = hit;
            while end < b.len() {
                if delim_at(b, end) {
                    // "http://[2001:db8::1]/": an IPv6 literal continues the token.
                    let d = b.get(end).copied().unwrap_or(0);
                    let v6 = (d == b'[' && b.get(..end).is_some_and(|t| t.ends_with(b"://")))
                        || (d == b']'
                            && b.get(start..end)
                                .is_some_and(|t| memchr::memmem::find(t, b"://[").is_some()));
                    if !v6 {
                        break;
                    }
                }
                end += 1;
            }
            if let Some(tok) = text.get(start..end) {
                self.token(tok, in_markup, depth);
            }
            pos = end.max(hit + 1);
        }
    }

    fn token(&mut self, tok: &str, in_markup: bool, depth: u8) {
        if self.found.len() >= MAX_URLS {
            return;
        }
        let tb = tok.as_bytes();
        // Absolute URLs: every "://" in the token.
        let mut any_scheme = false;
        let mut from = 0usize;
        while let Some(p) = memchr::memmem::find(tb.get(from..).unwrap_or_default(), b"://") {
            let at = from + p;
            let mut s = at;
            while s > 0
                && tb
                    .get(s - 1)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            {
                s -= 1;
            }
            // Strip a leading non-letter run ("1http://" is not a scheme).
            while s < at && !tb.get(s).is_some_and(u8::is_ascii_alphabetic) {
                s += 1;
            }
            // "Ghttp://" after a multi-byte character: the scheme is the
            // known suffix.
            let cand = tok.get(s..at).unwrap_or_default().to_ascii_lowercase();
            if let Some(k) = ["https", "http", "ftp"].iter().find(|k| cand.ends_with(*k)) {
                s = at - k.len();
            }
            let scheme = tok.get(s..at).unwrap_or_default();
            if ["http", "https", "ftp"]
                .iter()
                .any(|k| scheme.eq_ignore_ascii_case(k))
            {
                any_scheme = true;
                let url = tok.get(s..).unwrap_or_default();
                self.absolute(url, depth);
            }
            from = at + 3;
        }
        if any_scheme {
            return;
        }
        // In markup, "href=www.example.com": the value after "name=".
        let split = if in_markup { tok.split_once('=') } else { None };
        let tok = match split {
            Some((name, value))
                if !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') =>
            {
                value
            }
            _ => tok,
        };
        let t = tok.trim_start_matches(|c: char| "!#$&*+,/:;=?@^~".contains(c) || c == '\\');
        // Protocol-relative attribute values: href="//host/path".
        if in_markup && tok.starts_with("//") && tok.len() > 2 {
            self.with_scheme("http:", tok, depth);
            return;
        }
        // "www." after a word boundary inside the token ("HREF=www.x.com",
        // "(see:www.x.com").
        let t = match find_www(t) {
            Some(p) if p > 0 => t.get(p..).unwrap_or(t),
            _ => t,
        };
        // The first four bytes, ASCII-lowercased (no allocation per token).
        if let Some(p) = t
            .as_bytes()
            .get(..4)
            .and_then(|p| <[u8; 4]>::try_from(p).ok())
            .map(|p| p.map(|c| c.to_ascii_lowercase()))
            && (&p == b"www."
                || &p == b"ftp."
                || (p.starts_with(b"www")
                    && t.get(3..).is_some_and(|r| {
                        r.trim_start_matches(|c: char| c.is_ascii_digit())
                            .starts_with('.')
                    })))
        {
            let scheme = if &p == b"ftp." { "ftp://" } else { "http://" };
            self.with_scheme(scheme, t, depth);
            return;
        }
        if let Some(m) = t.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")) {
            let _ = m;
            self.email(t.get(7..).unwrap_or_default(), true);
            return;
        }
        if t.contains('@') {
            // In markup only attribute values that are addresses
            // (href="user@example.com"), as MUAs link them.
            self.email(t, in_markup);
            return;
        }
        if in_markup {
            return;
        }
        self.schemeless(t, depth);
    }

    fn with_scheme(&mut self, scheme: &str, rest: &str, depth: u8) {
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        s.push_str(scheme);
        s.push_str(rest);
        self.absolute(&s, depth);
        self.scratch = s;
    }

    /// `url` starts with `scheme://`.
    fn absolute(&mut self, url: &str, depth: u8) {
        let url = trim_trailing(cut(url, MAX_URL_LEN));
        let Some(sep) = url.find("://") else { return };
        let scheme = url.get(..sep).unwrap_or_default();
        let after = url.get(sep + 3..).unwrap_or_default();
        let auth_end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
        let authority = after.get(..auth_end).unwrap_or_default();
        let path = after.get(auth_end..).unwrap_or_default();
        // Userinfo tricks: the host is after the last '@'.
        let hostport = authority.rsplit('@').next().unwrap_or_default();
        if depth == 0 && hostport.len() < authority.len() {
            // "?u=http://www.a.example&mail=x@b.example": the '@' belongs to
            // a query, not to userinfo; take the host before it as well.
            let pre_len = authority
                .bytes()
                .take_while(|&b| is_host_byte(b) || b == b':')
                .count();
            if let Some(pre) = authority.get(..pre_len)
                && pre_len < authority.len()
                && !authority.get(pre_len..).is_some_and(|r| r.starts_with('@'))
                && pre.contains('.')
            {
                let mut alt = String::with_capacity(scheme.len() + 3 + pre.len());
                alt.push_str(scheme);
                alt.push_str("://");
                alt.push_str(pre);
                self.absolute(&alt, depth + 1);
            }
        }
        // A host running into non-ASCII text ("www.example.edu.去查询"):
        // the ASCII part as well.
        if !hostport.is_ascii() && depth == 0 {
            let ascii_len = hostport.bytes().take_while(|b| b.is_ascii()).count();
            let pre = hostport
                .get(..ascii_len)
                .unwrap_or_default()
                .trim_end_matches('.');
            if pre.contains('.') {
                let mut alt = String::with_capacity(scheme.len() + 3 + pre.len());
                alt.push_str(scheme);
                alt.push_str("://");
                alt.push_str(pre);
                self.absolute(&alt, depth + 1);
            }
        }
        let Some((host, is_ip)) = normalize_host(hostport) else {
            return;
        };
        let host_in_url = if is_ip && host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let port = port_of(hostport);
        let mut norm = String::with_capacity(url.len() + 8);
        norm.push_str(&scheme.to_ascii_lowercase());
        norm.push_str("://");
        norm.push_str(&host_in_url);
        if let Some(p) = port {
            norm.push(':');
            norm.push_str(p);
        }
        norm.push_str(path);
        self.push(norm, host, is_ip);
        // Redirectors with an encoded target: ...?u=http%3A%2F%2Fevil.example
        if depth == 0 && path.len() > 9 && path.contains('%') {
            let decoded = percent_decode(path);
            if decoded.contains("://") {
                self.scan(&decoded, false, depth + 1);
            }
        }
    }

    fn email(&mut self, t: &str, linked: bool) {
        let t = trim_trailing(cut(t, MAX_URL_LEN));
        let t = t.split(['?', '&', '>', ',']).next().unwrap_or_default();
        let decoded;
        let t = if linked && t.contains('%') {
            decoded = percent_decode(t);
            decoded.as_str()
        } else {
            t
        };
        let Some(at) = t.rfind('@') else { return };
        let local = t.get(..at).unwrap_or_default();
        let local = local
            .rsplit(['/', ':', ';', '='])
            .next()
            .unwrap_or_default();
        let domain = t.get(at + 1..).unwrap_or_default();
        let dlen = domain.bytes().take_while(|&b| is_host_byte(b)).count();
        let domain = trim_trailing(domain.get(..dlen).unwrap_or_default());
        if local.is_empty() || !domain.contains('.') {
            return;
        }
        let Some((host, is_ip)) = normalize_host(domain) else {
            return;
        };
        if is_ip || !known_tld(&host) {
            return;
        }
        let url = format!("mailto:{local}@{host}");
        self.push(url, host, false);
    }

    /// Bare domains in visible text. As in SpamAssassin, a candidate
    /// starts at the token's start or after one of its start delimiters
    /// (`joe*example.com`, `news://news.example.net/group`, `@example.fr`);
    /// the first candidate that is a host with a known TLD takes the rest
    /// of the token as its path.
    fn schemeless(&mut self, t: &str, depth: u8) {
        let mut rest = t;
        loop {
            if self.schemeless_at(rest, depth) {
                return;
            }
            let Some(i) = rest.bytes().position(|c| b"!#$&*+,/:;=?@^~".contains(&c)) else {
                return;
            };
            rest = rest.get(i + 1..).unwrap_or_default();
        }
    }

    /// One schemeless candidate at the start of `t`; whether it was a URL.
    fn schemeless_at(&mut self, t: &str, depth: u8) -> bool {
        let tb = t.as_bytes();
        let hlen = tb
            .iter()
            .take_while(|&&b| is_host_byte(b) && b != b'_')
            .count();
        let host = trim_trailing(t.get(..hlen).unwrap_or_default());
        if !host.contains('.')
            || !host
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            return false;
        }
        // Only known TLDs, as SpamAssassin and rspamd do. (Case does not
        // matter to the tests below; only the last label is lowercased,
        // on the stack, for the suffix lookup.)
        let last = host.rsplit('.').next().unwrap_or_default();
        if last.is_empty()
            || !last.bytes().all(|b| b.is_ascii_alphabetic())
                && !last
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
        {
            // Numeric hosts ("1.2.3.4/x") only with a path or port, and
            // only as four decimal numbers: without a scheme, `8.7.3/8.6.10`
            // is Sendmail's version in a quoted Received line, not the
            // address 8.7.0.3 a browser would make of it.
            if dotted_quad_ref(host)
                && parse_numeric_ipv4(host).is_some()
                && matches!(tb.get(hlen), Some(b'/' | b':'))
            {
                self.with_scheme("http://", t, depth);
                return true;
            }
            return false;
        }
        if !known_suffix(last) {
            return false;
        }
        self.with_scheme("http://", t, depth);
        true
    }

    fn push(&mut self, url: String, host: String, is_ip: bool) {
        if self.found.len() >= MAX_URLS || self.seen.contains(&url) {
            return;
        }
        self.seen.insert(url.clone());
        self.found.push(FoundUrl { url, host, is_ip });
    }
}

/// Tags whose boundaries separate words when HTML is rendered.
const BLOCK_TAGS: [&[u8]; 24] = [
    b"p",
    b"br",
    b"div",
    b"td",
    b"th",
    b"tr",
    b"li",
    b"ul",
    b"ol",
    b"table",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"hr",
    b"title",
    b"body",
    b"html",
    b"center",
    b"blockquote",
    b"pre",
    b"img",
];

fn find_ci_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while let Some(p) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        hay.get(i..)?,
    ) {
        let at = i + p;
        if starts_ci(hay.get(at..)?, needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Position of a "www." that starts a word.
fn find_www(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    memchr::memchr2(b'w', b'W', b)?;
    let mut from = 0usize;
    while let Some(p) = b
        .get(from..)
        .and_then(|r| r.windows(4).position(|w| w.eq_ignore_ascii_case(b"www.")))
    {
        let at = from + p;
        if at == 0
            || b.get(at - 1)
                .is_some_and(|c| !c.is_ascii_alphanumeric() && *c != b'.' && *c != b'-')
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Whether `label` (any case) is a known public suffix.
fn known_suffix(label: &str) -> bool {
    let mut buf = [0u8; 64];
    match buf.get_mut(..label.len()) {
        Some(lower) => {
            lower.copy_from_slice(label.as_bytes());
            lower.make_ascii_lowercase();
            !lower.is_empty() && psl::suffix(lower).is_some_and(|s| s.is_known())
        }
        None => known_tld(&label.to_ascii_lowercase()),
    }
}

/// Whether the last label of `host` is a known public suffix.
fn known_tld(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or_default();
    !last.is_empty() && psl::suffix(last.as_bytes()).is_some_and(|s| s.is_known())
}

fn port_of(hostport: &str) -> Option<&str> {
    let after_bracket = match hostport.rfind(']') {
        Some(i) => hostport.get(i + 1..)?,
        None => hostport,
    };
    let (_, p) = after_bracket.rsplit_once(':')?;
    (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())).then_some(p)
}

/// Normalises a host (with optional port): percent-decoding, lowercasing,
/// trailing dot, IDN to punycode, browser-style numeric IPv4. Returns the
/// host and whether it is an IP literal; `None` for nothing usable
/// (including names without a dot).
pub fn normalize_host(hostport: &str) -> Option<(String, bool)> {
    let h = hostport.trim();
    if let Some(rest) = h.strip_prefix('[') {
        let inner = rest.split(']').next()?;
        let v6: Ipv6Addr = inner.parse().ok()?;
        return Some((v6.to_string(), true));
    }
    let h = match h.rfind(':') {
        Some(i)
            if h.get(i + 1..)
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            h.get(..i)?
        }
        _ => h,
    };
    let decoded;
    let h = if h.contains('%') {
        decoded = percent_decode(h);
        decoded.as_str()
    } else {
        h
    };
    let h = h.trim_end_matches('.');
    if h.is_empty() || h.len() > 253 {
        return None;
    }
    let lower = if h.is_ascii() {
        h.to_ascii_lowercase()
    } else {
        // Non-ASCII: IDNA (UTS 46) to punycode; fullwidth dots etc. mapped.
        idna::domain_to_ascii(h).ok()?
    };
    let lower = lower.trim_end_matches('.');
    if let Some(v4) = parse_numeric_ipv4(lower) {
        return Some((v4.to_string(), true));
    }
    // Names without a dot ("http://localhost/", "http://nul") resolve
    // nowhere useful: not hosts.
    let ok = lower.contains('.')
        && lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !lower.starts_with('.')
        && !lower.contains("..");
    ok.then(|| (lower.to_string(), false))
}

/// Reads a host the way the WHATWG URL standard (and so every browser)
/// reads an IPv4 address: one to four parts, each decimal, `0x` hex or
/// `0`-prefixed octal, the last part filling the remaining bytes.
pub fn parse_numeric_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next()?;
    let numeric_last = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || (last.len() > 2
                && last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last.get(2..)?.bytes().all(|b| b.is_ascii_hexdigit())));
    if !numeric_last {
        return None;
    }
    let mut parts = [0u64; 4];
    let mut n = 0usize;
    for p in host.split('.') {
        let slot = parts.get_mut(n)?;
        *slot = parse_ipv4_part(p)?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let (head, tail) = parts.split_at(n - 1);
    if head.iter().any(|&p| p > 255) {
        return None;
    }
    let last = *tail.first()?;
    let room = 8 * (5 - n as u32);
    if room < 64 && last >= (1u64 << room) {
        return None;
    }
    let mut v: u64 = 0;
    for (k, &p) in head.iter().enumerate() {
        v |= p << (8 * (3 - k as u32));
    }
    v |= last;
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

fn parse_ipv4_part(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 12 {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (p.get(1..)?, 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Decodes `%XX` escapes (invalid escapes are kept); invalid UTF-8 becomes
/// U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Decodes HTML character references: numeric (`&#104;`, `&#x68;`, with or
/// without the `;`) and the named ones that matter in URLs.
pub(crate) fn decode_entities(s: &str, out: &mut String) {
    out.clear();
    out.reserve(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(rest.get(..p).unwrap_or_default());
        let after = rest.get(p + 1..).unwrap_or_default();
        let (ch, used) = entity(after);
        match ch {
            Some(c) => {
                out.push(c);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

fn entity(after: &str) -> (Option<char>, usize) {
    let b = after.as_bytes();
    if b.first() == Some(&b'#') {
        let (radix, start) = if matches!(b.get(1), Some(b'x' | b'X')) {
            (16, 2)
        } else {
            (10, 1)
        };
        let len = b
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && (radix == 16 || c.is_ascii_digit()))
            .count();
        if len == 0 || len > 8 {
            return (None, 0);
        }
        let num = after
            .get(start..start + len)
            .and_then(|d| u32::from_str_radix(d, radix).ok());
        let mut used = start + len;
        if b.get(used) == Some(&b';') {
            used += 1;
        }
        return (num.and_then(char::from_u32).filter(|&c| c != '\0'), used);
    }
    let name_len = b
        .iter()
        .take(8)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let name = after.get(..name_len).unwrap_or_default();
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "sol" => '/',
        "colon" => ':',
        "period" => '.',
        "commat" => '@',
        "quest" => '?',
        "equals" => '=',
        _ => return (None, 0),
    };
    let mut used = name_len;
    if b.get(used) == Some(&b';') {
        used += 1;
    }
    (Some(c), used)
}

/// The registrable domain (eTLD+1 by the Public Suffix List) of a host;
/// `None` for IP literals and hosts that are themselves a public suffix.
pub fn registrable_domain(host: &str, is_ip: bool) -> Option<String> {
    if is_ip || host.parse::<IpAddr>().is_ok() {
        return None;
    }
    psl::domain_str(host).map(str::to_string)
}

/// `a.b.c.d` with four decimal numbers of one to three digits.
fn dotted_quad_ref(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}
