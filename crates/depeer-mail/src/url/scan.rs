//! Tokens and the URL forms in them: the scan cuts text at delimiters,
//! skips tokens that cannot hold a URL, and reads each of the others as an
//! absolute URL (also inside another URL's query), a `www.`/`ftp.` form, an
//! address or `mailto:`, or (in visible text) a bare domain with a known
//! top-level domain.

use super::host::{
    dotted_quad, known_suffix, known_tld, normalize_host, parse_numeric_ipv4, percent_decode,
    port_of,
};
use super::{MAX_URL_LEN, MAX_URLS, UrlSet};

// Evaluated at compile time: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn byte_set(chars: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
}

static DELIM: [bool; 256] = byte_set(b" \t\r\n\x0b\x0c<>\"'`{}[]|()\\\x1b\x00");
static TRAILING: [bool; 256] = byte_set(b"-~!@#^&*()_+=:;'?,.");
static LEADING: [bool; 256] = byte_set(b"!#$&*+,/:;=?@^~\\");
/// SpamAssassin's schemeless start delimiters that can occur inside a
/// token (its others are token delimiters here already).
static SC_START: [bool; 256] = byte_set(b"!#$&*+,/:;=?@^~");

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
/// (All of it ASCII, so trimming bytes from the end never splits a
/// character.)
fn trim_trailing(s: &str) -> &str {
    let b = s.as_bytes();
    let keep = b
        .iter()
        .rposition(|&c| !TRAILING.get(usize::from(c)).copied().unwrap_or(false))
        .map_or(0, |i| i + 1);
    s.get(..keep).unwrap_or(s)
}

/// Position of the first `://`.
fn find_sep(b: &[u8]) -> Option<usize> {
    let mut from = 0usize;
    while let Some(p) = memchr::memchr(b':', b.get(from..)?) {
        let at = from + p;
        if b.get(at + 1..at + 3) == Some(b"//") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether a plain-text token can give nothing: no `:` and no `@`, and
/// every `.` in the trailing punctuation. (Such a token has no scheme, no
/// address, and no host with a dot: see [`UrlSet::token`].) Sentence ends
/// ("word.", "etc.)") are most of the hits in prose.
fn inert_text_token(tok: &str) -> bool {
    let b = tok.as_bytes();
    memchr::memchr2(b':', b'@', b).is_none()
        && memchr::memchr(b'.', trim_trailing(tok).as_bytes()).is_none()
}

/// Whether a token inside markup can give nothing: no `/` (so neither
/// `://` nor `//`), no `@`, and none of `www`, `ftp`, `mai` in any case.
/// In markup [`UrlSet::token`] takes only absolute and protocol-relative
/// URLs, `www.`/`ftp.` forms, `mailto:` and addresses; the rest of a
/// style or attribute text (`font-size:10.5pt`, `width:100%`) is most of
/// the tokens of real HTML and was most of the scan's time.
fn inert_markup_token(tok: &str) -> bool {
    let b = tok.as_bytes();
    if memchr::memchr2(b'/', b'@', b).is_some() {
        return false;
    }
    !b.windows(3).any(|w| {
        // ASCII letters only: `| 0x20` maps no other byte to a lowercase letter.
        let l = [
            w.first().copied().unwrap_or(0) | 0x20,
            w.get(1).copied().unwrap_or(0) | 0x20,
            w.get(2).copied().unwrap_or(0) | 0x20,
        ];
        &l == b"www" || &l == b"ftp" || &l == b"mai"
    })
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

impl UrlSet {
    /// Finds tokens (runs between delimiters) that contain `.`, `@` or `:`
    /// and looks at each; the rest of the text is skipped with memchr.
    pub(super) fn scan(&mut self, text: &str, in_markup: bool, depth: u8) {
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
            if let Some(tok) = text.get(start..end)
                && !(if in_markup {
                    inert_markup_token(tok)
                } else {
                    inert_text_token(tok)
                })
            {
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
        while let Some(p) = find_sep(tb.get(from..).unwrap_or_default()) {
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
        let lead = tok
            .bytes()
            .take_while(|&c| LEADING.get(usize::from(c)).copied().unwrap_or(false))
            .count();
        let t = tok.get(lead..).unwrap_or(tok);
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

    /// `scheme://host`: a second reading of a host found in another URL.
    fn host_only(&mut self, scheme: &str, host: &str, depth: u8) {
        let mut alt = String::with_capacity(scheme.len() + 3 + host.len());
        alt.push_str(scheme);
        alt.push_str("://");
        alt.push_str(host);
        self.absolute(&alt, depth);
    }

    /// `url` starts with `scheme://`.
    fn absolute(&mut self, url: &str, depth: u8) {
        let url = trim_trailing(cut(url, MAX_URL_LEN));
        let Some(sep) = find_sep(url.as_bytes()) else {
            return;
        };
        let scheme = url.get(..sep).unwrap_or_default();
        let after = url.get(sep + 3..).unwrap_or_default();
        let auth_end = after
            .bytes()
            .position(|c| matches!(c, b'/' | b'?' | b'#' | b'\\'))
            .unwrap_or(after.len());
        let authority = after.get(..auth_end).unwrap_or_default();
        let path = after.get(auth_end..).unwrap_or_default();
        // Userinfo tricks: the host is after the last '@'.
        let hostport = match memchr::memrchr(b'@', authority.as_bytes()) {
            Some(i) => authority.get(i + 1..).unwrap_or_default(),
            None => authority,
        };
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
                self.host_only(scheme, pre, depth + 1);
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
                self.host_only(scheme, pre, depth + 1);
            }
        }
        let Some((host, is_ip)) = normalize_host(hostport) else {
            return;
        };
        let bracket = is_ip && host.contains(':');
        let port = port_of(hostport);
        let mut norm = String::with_capacity(url.len() + 8);
        norm.extend(scheme.chars().map(|c| c.to_ascii_lowercase()));
        norm.push_str("://");
        if bracket {
            norm.push('[');
        }
        norm.push_str(&host);
        if bracket {
            norm.push(']');
        }
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
            let Some(i) = rest
                .bytes()
                .position(|c| SC_START.get(usize::from(c)).copied().unwrap_or(false))
            else {
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
            if dotted_quad(host)
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
}
