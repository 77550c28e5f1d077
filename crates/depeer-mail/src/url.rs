//! URLs and hosts in decoded text and HTML.
//!
//! What counts (documented in docs/mail.md, chosen to contain what
//! SpamAssassin and rspamd extract):
//!
//! * absolute `http`, `https` and `ftp` URLs anywhere, including inside
//!   attribute values and inside other URLs (redirectors), and `//host`
//!   protocol-relative attribute values;
//! * `www.` and `ftp.` forms without a scheme (given `http://`);
//! * in visible text (not inside HTML tags), bare domains whose last label
//!   is a known top-level domain (`example.com/path`), given `http://`;
//! * e-mail addresses and `mailto:` links, as `mailto:` URLs whose host is
//!   the address's domain;
//! * after HTML entity decoding (`&#104;ttp`, `&amp;`) and, for hosts,
//!   percent decoding (`%77%77%77.example.com`); userinfo is dropped
//!   (`http://paypal.com@evil.example/` has host `evil.example`); hosts
//!   are lowercased, lose a trailing dot, IDNs become punycode, and numeric
//!   hosts are read as browsers read them (`http://0xD0420C0A/`,
//!   `http://3494513674/`, `http://0320.0102.014.012/` are all
//!   `208.66.12.10`).
//!
//! Invariants: linear in the input; at most [`MAX_URLS`] distinct URLs per
//! message; URLs longer than [`MAX_URL_LEN`] are cut.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// At most this many distinct URLs are kept per message.
pub const MAX_URLS: usize = 4096;
/// URLs are cut to this many bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Up to this many URLs, duplicates are found by comparing with each.
const LINEAR_DEDUP: usize = 32;

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
    tag_buf: String,
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

static TRAILING: [bool; 256] = byte_set(b"-~!@#^&*()_+=:;'?,.");
static LEADING: [bool; 256] = byte_set(b"!#$&*+,/:;=?@^~\\");
/// SpamAssassin's schemeless start delimiters that can occur inside a
/// token (its others are token delimiters here already).
static SC_START: [bool; 256] = byte_set(b"!#$&*+,/:;=?@^~");

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
        let mut tags = std::mem::take(&mut self.tag_buf);
        render_markup(src, &mut text, &mut tags);
        // Tags first, then the text: the order the URLs are found in.
        self.scan(&tags, true, 0);
        self.scan(&text, false, 0);
        self.text_buf = text;
        self.tag_buf = tags;
        self.html_buf = decoded;
    }

    /// The visible text of the HTML last given to [`UrlSet::scan_html`].
    pub fn rendered(&self) -> &str {
        &self.text_buf
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

    /// Adds a URL not seen before. A message has few URLs: up to
    /// [`LINEAR_DEDUP`] they are compared directly, beyond that a hash set
    /// (filled then) keeps the work linear.
    fn push(&mut self, url: String, host: String, is_ip: bool) {
        let n = self.found.len();
        if n >= MAX_URLS {
            return;
        }
        if n < LINEAR_DEDUP {
            if self.found.iter().any(|f| f.url == url) {
                return;
            }
        } else {
            if self.seen.is_empty() {
                self.seen.extend(self.found.iter().map(|f| f.url.clone()));
            }
            if self.seen.contains(&url) {
                return;
            }
            self.seen.insert(url.clone());
        }
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

/// Whether `name` (any case) is one of [`BLOCK_TAGS`].
/// One pass over the tags of `html`: their contents (and the contents of
/// `<style>` and `<script>`) go to `tags`, one per line, to be scanned as
/// markup; the text between them goes to `out` (block tags become a space,
/// comments vanish).
///
/// Why one buffer: scanning each tag on its own (~90 calls per message of
/// real spam) cost more in per-call set-up than in the scan itself.
fn render_markup(html: &str, out: &mut String, tags: &mut String) {
    out.clear();
    tags.clear();
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
            memchr::memchr(b'>', b.get(end..).unwrap_or_default()).map_or(b.len(), |q| end + q + 1)
        };
        if close != Some(&b"-->"[..])
            && let Some(tag) = html.get(lt + 1..gt.saturating_sub(1).max(lt + 1))
        {
            // A line break (a delimiter) between tags: the scan sees the
            // same tokens as it would tag by tag, in one call.
            tags.push_str(tag);
            tags.push('\n');
        }
        let name_start = rest.strip_prefix(b"/").unwrap_or(rest);
        let name_len = name_start
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = name_start.get(..name_len).unwrap_or_default();
        if close.is_some() || is_block_tag(name) {
            out.push(' ');
        }
        i = gt;
    }
    out.push_str(html.get(i.min(html.len())..).unwrap_or_default());
}

fn is_block_tag(name: &[u8]) -> bool {
    let mut buf = [0u8; 10];
    let Some(lower) = buf.get_mut(..name.len()) else {
        return false;
    };
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    BLOCK_TAGS.contains(&lower)
}

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
    let h = match memchr::memrchr(b':', h.as_bytes()) {
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
    let mut lower = if h.is_ascii() {
        h.to_ascii_lowercase()
    } else {
        // Non-ASCII: IDNA (UTS 46) to punycode; fullwidth dots etc. mapped.
        idna::domain_to_ascii(h).ok()?
    };
    // Trailing dots off in place (the name is returned without a copy).
    let keep = lower.trim_end_matches('.').len();
    lower.truncate(keep);
    if let Some(v4) = parse_numeric_ipv4(&lower) {
        return Some((v4.to_string(), true));
    }
    // Names without a dot ("http://localhost/", "http://nul") resolve
    // nowhere useful: not hosts.
    let lb = lower.as_bytes();
    let ok = memchr::memchr(b'.', lb).is_some()
        && lb
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !lower.starts_with('.')
        && !memchr::memchr_iter(b'.', lb).any(|i| lb.get(i + 1) == Some(&b'.'));
    ok.then_some((lower, false))
}

/// `a.b.c.d` with four decimal numbers of one to three digits.
fn dotted_quad(host: &str) -> bool {
    let mut n = 0usize;
    let ok = host.split('.').all(|p| {
        n += 1;
        (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    });
    ok && n == 4
}

/// Reads a host the way the WHATWG URL standard (and so every browser)
/// reads an IPv4 address: one to four parts, each decimal, `0x` hex or
/// `0`-prefixed octal, the last part filling the remaining bytes.
pub fn parse_numeric_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    // The last part is decimal or 0x-hex, so it ends in a hex digit: most
    // names ("...com") stop here.
    if !host.as_bytes().last().is_some_and(u8::is_ascii_hexdigit) {
        return None;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts_text(t: &str) -> Vec<String> {
        let mut s = UrlSet::new();
        s.scan_text(t);
        s.take().into_iter().map(|u| u.host).collect()
    }

    fn urls_html(t: &str) -> Vec<String> {
        let mut s = UrlSet::new();
        s.scan_html(t);
        s.take().into_iter().map(|u| u.url).collect()
    }

    #[test]
    fn bare_and_www_urls() {
        assert_eq!(
            hosts_text("see http://Example.COM./x, and www.foo.example.org!"),
            ["example.com", "www.foo.example.org"]
        );
        assert_eq!(
            hosts_text("go to (https://a.example.net/path?q=1)."),
            ["a.example.net"]
        );
        assert_eq!(hosts_text("ftp.example.com/pub"), ["ftp.example.com"]);
    }

    #[test]
    fn userinfo_trick() {
        assert_eq!(
            hosts_text("http://paypal.com@evil.example/login"),
            ["evil.example"]
        );
        assert_eq!(
            hosts_text("http://user:pw@evil.example:8080/"),
            ["evil.example"]
        );
    }

    #[test]
    fn numeric_hosts_as_browsers_read_them() {
        for u in [
            "http://0xD0420C0A/",
            "http://3493989386/",
            "http://0320.0102.014.012/",
            "http://208.66.12.10/",
            "http://0xd0.66.0xc.10/",
        ] {
            assert_eq!(hosts_text(u), ["208.66.12.10"], "{u}");
        }
        assert_eq!(parse_numeric_ipv4("1.2.3.256"), None);
        assert_eq!(
            parse_numeric_ipv4("1.2.65535"),
            Some(Ipv4Addr::new(1, 2, 255, 255))
        );
        assert_eq!(parse_numeric_ipv4("99999999999"), None);
        assert_eq!(hosts_text("http://[2001:DB8::1]:80/x"), ["2001:db8::1"]);
    }

    #[test]
    fn entities_and_percent_encoding() {
        assert_eq!(
            urls_html("<a href=\"&#104;ttp&#58;//%77%77%77.example.com/&amp;x\">"),
            ["http://www.example.com/&x"]
        );
        assert_eq!(
            urls_html("<a href='&#x68;ttp://e&#x78;ample.org'>x</a>"),
            ["http://example.org"]
        );
    }

    #[test]
    fn html_attributes_and_visible_text() {
        let u = urls_html(
            "<html><body background=\"//img.example.net/bg.gif\"><p style=\"font-size:10.5pt\">Visit shop.example.com or mail sales@example.biz</p><img src=http://1.2.3.4/a.gif></body>",
        );
        assert_eq!(
            u,
            [
                "http://img.example.net/bg.gif",
                "http://1.2.3.4/a.gif",
                "http://shop.example.com",
                "mailto:sales@example.biz"
            ]
        );
        // Rendered text joins inline markup: "Shop</b>.example.com".
        assert_eq!(
            urls_html("<p>Visit <b>Shop</b>.example.com<br>or <a href=www.x.example.org/p>x</a>"),
            ["http://www.x.example.org/p", "http://shop.example.com"]
        );
        assert_eq!(
            urls_html(
                "<!-- c --><script src=\"https://s.example.com/x.js\"></script><!-- http://hidden.example.com -->"
            ),
            ["https://s.example.com/x.js"]
        );
    }

    #[test]
    fn redirectors_yield_both_hosts() {
        assert_eq!(
            hosts_text("http://www.google.com/url?q=http://evil.example/x"),
            ["www.google.com", "evil.example"]
        );
        assert_eq!(
            hosts_text("http://r.example/?u=http%3A%2F%2Fevil.example%2Fy"),
            ["r.example", "evil.example"]
        );
        assert_eq!(
            hosts_text("http://g.example/s.php?n=http://www.a.example&e=x@b.example"),
            ["g.example", "www.a.example", "b.example"]
        );
        assert_eq!(
            hosts_text("\u{4e2d}http://hk.example.com/i www.aacsb.edu.\u{53bb}\u{67e5}"),
            [
                "hk.example.com",
                "www.aacsb.edu",
                "www.aacsb.edu.xn--1nr228b"
            ]
        );
    }

    #[test]
    fn idn_to_punycode() {
        assert_eq!(
            hosts_text("http://bücher.example/"),
            ["xn--bcher-kva.example"]
        );
    }

    #[test]
    fn emails_and_mailto() {
        let mut s = UrlSet::new();
        s.scan_text("write to Bob.Smith@Mail.Example.COM, or mailto:x%40y.example.org?subject=hi; not me@localhost nor a@b.zzzzunknown");
        let u: Vec<_> = s.take().into_iter().map(|u| (u.url, u.host)).collect();
        assert_eq!(
            u,
            [
                (
                    "mailto:Bob.Smith@mail.example.com".into(),
                    "mail.example.com".into()
                ),
                ("mailto:x@y.example.org".into(), "y.example.org".into())
            ]
        );
    }

    #[test]
    fn schemeless_needs_a_known_tld() {
        assert_eq!(
            hosts_text("readme.txt e.g. foo.zzz end. example.co.uk/path"),
            ["example.co.uk"]
        );
    }

    #[test]
    fn schemeless_after_start_delimiters() {
        // As SpamAssassin reads them (ham of the SpamAssassin corpus).
        assert_eq!(hosts_text("Une adresse @yahoo.fr gratuite"), ["yahoo.fr"]);
        assert_eq!(
            hosts_text("From: Mike <eresrch*eskimo.com>"),
            ["eskimo.com"]
        );
        assert_eq!(
            hosts_text("newsgroup: news://news.freshmeat.net/fm.announce"),
            ["news.freshmeat.net"]
        );
        // The first host takes the rest of the token as its path.
        assert_eq!(
            hosts_text("see example.com/docs/readme.io"),
            ["example.com"]
        );
        // Still no host without a known TLD.
        assert!(hosts_text("a*b.zzz x/y.txt").is_empty());
        // A bare numeric host only as a dotted quad.
        assert_eq!(
            hosts_text("(8.7.3/8.6.10-MT4.00) and 192.0.2.7/x.html"),
            ["192.0.2.7"]
        );
    }

    #[test]
    fn dedup_and_caps() {
        let t = "http://a.example/ ".repeat(100);
        assert_eq!(hosts_text(&t).len(), 1);
        let many: String = (0..MAX_URLS + 50)
            .map(|i| format!("http://h{i}.example/ "))
            .collect();
        assert_eq!(hosts_text(&many).len(), MAX_URLS);
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(
            registrable_domain("www.example.co.uk", false).as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registrable_domain("co.uk", false), None);
        assert_eq!(registrable_domain("208.66.12.10", true), None);
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for t in [
            "://",
            "http://",
            "http://@",
            "http://[",
            "http://[::1",
            "www.",
            "@",
            "@.",
            "a@b.",
            "&#",
            "&#xffffffff;",
            "&#0;",
            "%",
            "http://%zz/",
            "http://\u{ff0e}.com",
            "http://a..b/",
        ] {
            let mut s = UrlSet::new();
            s.scan_text(t);
            s.scan_html(t);
        }
    }

    /// The golden suite's inputs give what the previous scanner gave.
    #[test]
    fn corpus_equals_the_reference_scanner() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/url");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "txt") {
                continue;
            }
            let t = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            for html in [false, true] {
                let mut a = UrlSet::new();
                let mut b = crate::url_reference::UrlSet::new();
                if html {
                    a.scan_html(&t);
                    b.scan_html(&t);
                    assert_eq!(a.rendered(), b.rendered());
                } else {
                    a.scan_text(&t);
                    b.scan_text(&t);
                }
                let got: Vec<_> = a.take().into_iter().map(|u| (u.url, u.host, u.is_ip)).collect();
                let want: Vec<_> = b.take().into_iter().map(|u| (u.url, u.host, u.is_ip)).collect();
                assert_eq!(got, want, "{} {html}", p.display());
            }
            n += 1;
        }
        eprintln!("{n} corpus bodies equal the reference");
        assert!(n > 250);
    }

    /// The bodies of the real spam and ham, as text and as HTML, and
    /// mutations of them spliced with what the scanner reacts to, give
    /// exactly what the scanner before the third performance pass gave
    /// (`url_reference`, the old code kept for this test).
    #[test]
    fn equals_the_reference_scanner_on_real_and_mutated_bodies() {
        fn walk(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            if p.is_dir() {
                for e in std::fs::read_dir(p).unwrap().flatten() {
                    walk(&e.path(), out);
                }
            } else {
                out.push(p.to_path_buf());
            }
        }
        let pieces: [&str; 40] = [
            "http://",
            "https://x.example/",
            "www.",
            "ftp.",
            ".",
            "..",
            "@",
            ":",
            "&#104;",
            "&amp;",
            "<a href=",
            "<A HREF=\"",
            ">",
            "<br>",
            "<style>",
            "</style>",
            "<!--",
            "-->",
            "%2e",
            "%77%77%77.",
            "\u{3002}",
            " ",
            "\u{a0}",
            "mailto:",
            "[",
            "]",
            "//",
            "0x7f.1",
            "3494513674",
            "x@y.com",
            "?u=http%3A%2F%2Fevil.example",
            ".com",
            "\u{e9}",
            "xn--",
            "=",
            "\"",
            "'",
            "http://[2001:db8::1]/",
            "user@",
            ").",
        ];
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut n = 0usize;
        for sub in ["spam", "ham"] {
            let mut files = Vec::new();
            walk(&std::path::Path::new(data).join(sub), &mut files);
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                let Ok(reader) = crate::MessageReader::sniffed(&bytes[..]) else {
                    continue;
                };
                for raw in reader.flatten() {
                    let text = String::from_utf8_lossy(&raw.bytes).into_owned();
                    for round in 0..3 {
                        let mut t = text.clone();
                        if round > 0 {
                            for _ in 0..(next() % 40 + 1) {
                                let mut at = (next() as usize) % (t.len() + 1);
                                while !t.is_char_boundary(at) {
                                    at -= 1;
                                }
                                t.insert_str(at, pieces[(next() as usize) % pieces.len()]);
                            }
                        }
                        for html in [false, true] {
                            let mut a = UrlSet::new();
                            let mut b = crate::url_reference::UrlSet::new();
                            if html {
                                a.scan_html(&t);
                                b.scan_html(&t);
                                assert_eq!(a.rendered(), b.rendered());
                            } else {
                                a.scan_text(&t);
                                b.scan_text(&t);
                            }
                            let got: Vec<_> = a
                                .take()
                                .into_iter()
                                .map(|u| (u.url, u.host, u.is_ip))
                                .collect();
                            let want: Vec<_> = b
                                .take()
                                .into_iter()
                                .map(|u| (u.url, u.host, u.is_ip))
                                .collect();
                            assert_eq!(got, want, "{}#{} {round} {html}", f.display(), raw.index);
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 20_000, "{n}");
    }
}
