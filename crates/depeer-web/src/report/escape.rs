//! Escaping of data for the places it goes in the report: HTML text and
//! attribute values, and JSON inside a `<script>` element. Everything from
//! the dataset is adversary-controlled (subjects, domains, organisation
//! names), so nothing from it reaches the page any other way.

use std::fmt::Write;

/// `s` as HTML text or a quoted attribute value: `& < > " '` become
/// character references, and control characters other than tab and
/// newline (which HTML does not allow) become U+FFFD.
pub(crate) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `s` (an ellipsis when cut), before escaping:
/// labels in the graph and tables stay readable whatever a feed says.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A JSON value as the content of a `<script type="application/json">`:
/// `<`, `>` and `&` are written as `\u003c`, `\u003e`, `\u0026` (so that
/// neither `</script>` nor `<!--` can appear in the element), and U+2028,
/// U+2029 as `\u2028`, `\u2029`. These characters occur only inside JSON
/// strings, where the escapes mean the same characters, so
/// `JSON.parse(element.textContent)` gives back exactly the value.
pub(crate) fn script_json(v: &serde_json::Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (for the page's script hashes).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(TABLE.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "</script><script>alert(1)</script>",
        "</SCRIPT ><img src=x onerror=alert(1)>",
        "<!--<script>",
        "\" onmouseover=\"alert(1)",
        "' onfocus='alert(1)",
        "&lt;already escaped&gt;",
        "]]><svg onload=alert(1)>",
        "line\u{2028}separator\u{2029}end",
        "nul\u{0}bell\u{7}esc\u{1b}",
        "javascript:alert(1)",
        "Ünïcödé 中文 🚀",
    ];

    #[test]
    fn html_escapes_every_markup_character() {
        for s in HOSTILE {
            let e = html(s);
            for bad in ['<', '>', '"', '\'', '\u{0}', '\u{7}', '\u{1b}'] {
                assert!(!e.contains(bad), "{bad:?} left in {e:?}");
            }
            // Every & starts a character reference we wrote.
            for (i, _) in e.match_indices('&') {
                let rest = e.get(i..).unwrap();
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|r| rest.starts_with(r)),
                    "{e:?}"
                );
            }
        }
        assert_eq!(html("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
        assert_eq!(html("Ünïcödé 🚀"), "Ünïcödé 🚀");
    }

    #[test]
    fn script_json_cannot_end_the_element_and_parses_back() {
        for s in HOSTILE {
            let v = serde_json::json!({ "label": s, "list": [s, 1.5] });
            let text = script_json(&v);
            let lower = text.to_ascii_lowercase();
            assert!(!lower.contains("</script"), "{text}");
            assert!(!lower.contains("<!--"), "{text}");
            assert!(
                !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        // RFC 4648, section 10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }
}
