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
//!
//! The files: [`scan`] cuts text into tokens and reads each (absolute
//! URLs, `www.` forms, addresses, bare domains), [`html`] renders HTML into
//! its tags and visible text and decodes entities, [`host`] normalises and
//! classifies hosts (IDN, numeric IPv4, public suffixes).

mod host;
mod html;
mod scan;

use std::collections::HashSet;

pub use host::{normalize_host, parse_numeric_ipv4, registrable_domain};
use html::{decode_entities, render_markup};

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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

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
}
