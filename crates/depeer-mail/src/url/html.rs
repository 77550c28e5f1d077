//! HTML as the scanner reads it: one pass splits the markup into its tags
//! (and `<style>`/`<script>` contents), scanned as markup, and its visible
//! text (block tags as spaces, comments removed), scanned as text; HTML
//! character references are decoded before.

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

/// One pass over the tags of `html`: their contents (and the contents of
/// `<style>` and `<script>`) go to `tags`, one per line, to be scanned as
/// markup; the text between them goes to `out` (block tags become a space,
/// comments vanish).
///
/// Why one buffer: scanning each tag on its own (real spam has dozens of
/// tags per message) cost more in per-call set-up than the scan itself.
pub(super) fn render_markup(html: &str, out: &mut String, tags: &mut String) {
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

/// Whether `name` (any case) is one of [`BLOCK_TAGS`].
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

fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// Decodes HTML character references: numeric (`&#104;`, `&#x68;`, with or
/// without the `;`) and the named ones that matter in URLs.
pub(super) fn decode_entities(s: &str, out: &mut String) {
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
