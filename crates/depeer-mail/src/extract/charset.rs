//! Text part bytes to text in their declared charset (RFC 2046 section
//! 4.1.2), with mail-parser's charset decoders: the conversion is skipped
//! when it cannot change the bytes (ASCII in an ASCII-compatible charset),
//! and single-byte charsets copy ASCII runs whole.
//!
//! Why depeer owns this: mail-parser converts every text part through its
//! decoder, one `char` pushed per byte, also when every byte is ASCII (most
//! spam); its public API offers only that whole-part conversion. The tables
//! here are read from mail-parser's own decoders, so the text is the same
//! (unit tests check every listed charset on every byte value).

use std::borrow::Cow;
use std::cell::RefCell;

use mail_parser::decoders::charsets::DecoderFnc;
use mail_parser::decoders::charsets::map::charset_decoder;

/// Charsets whose mail-parser decoder maps each of the 128 ASCII bytes to
/// itself (a unit test checks every name against mail-parser), so ASCII
/// bytes declared in them are already their own UTF-8 text.
const ASCII_SAFE_CHARSETS: [&str; 38] = [
    "us-ascii",
    "ascii",
    "utf-8",
    "utf8",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-9",
    "iso-8859-10",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "latin1",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "cp1252",
    "koi8-r",
    "koi8-u",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "euc-kr",
    "euc-jp",
    "ks_c_5601-1987",
    "shift_jis",
];

/// mail-parser's conversion of a text part's bytes to text, skipped when
/// it cannot change them (ASCII in an ASCII-compatible charset).
pub(super) fn part_text<'x>(bytes: Cow<'x, [u8]>, charset: Option<&str>) -> Option<Cow<'x, str>> {
    let ascii_safe = charset.is_none_or(|c| {
        ASCII_SAFE_CHARSETS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(c.trim()) && k.len() == c.len())
    });
    Some(if bytes.is_ascii() && ascii_safe {
        match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).ok()?),
            Cow::Owned(v) => Cow::Owned(String::from_utf8(v).ok()?),
        }
    } else {
        if let Some(c) = charset
            && let Some(text) = single_byte_text(&bytes, c)
        {
            return Some(Cow::Owned(text));
        }
        // Exactly mail-parser's conversion.
        match (bytes, charset.and_then(|c| charset_decoder(c.as_bytes()))) {
            (Cow::Owned(v), Some(dec)) => Cow::Owned(dec(&v)),
            (Cow::Owned(v), None) => Cow::Owned(
                String::from_utf8(v)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            (Cow::Borrowed(b), Some(dec)) => Cow::Owned(dec(b)),
            (Cow::Borrowed(b), None) => String::from_utf8_lossy(b),
        }
    })
}

/// Charsets (in mail-parser's lookup form: ASCII-lowercased, `-` as `_`)
/// that mail-parser decodes with a single-byte table (`single_byte.rs`): a
/// unit test checks each against mail-parser's decoder on every byte.
const SINGLE_BYTE_CHARSETS: [&[u8]; 40] = [
    b"us_ascii",
    b"ascii",
    b"iso_8859_1",
    b"iso_8859_2",
    b"iso_8859_3",
    b"iso_8859_4",
    b"iso_8859_5",
    b"iso_8859_6",
    b"iso_8859_7",
    b"iso_8859_8",
    b"iso_8859_9",
    b"iso_8859_10",
    b"iso_8859_13",
    b"iso_8859_14",
    b"iso_8859_15",
    b"iso_8859_16",
    b"iso8859_1",
    b"iso8859_2",
    b"iso8859_15",
    b"latin1",
    b"windows_1250",
    b"windows_1251",
    b"windows_1252",
    b"windows_1253",
    b"windows_1254",
    b"windows_1255",
    b"windows_1256",
    b"windows_1257",
    b"windows_1258",
    b"cp1250",
    b"cp1251",
    b"cp1252",
    b"cp1253",
    b"cp1254",
    b"cp1255",
    b"cp1256",
    b"cp1257",
    b"cp1258",
    b"koi8_r",
    b"koi8_u",
];

/// The non-ASCII half of a single-byte charset's table.
type HighTable = [char; 128];

thread_local! {
    /// Tables of the single-byte charsets seen so far (by lookup name).
    static HIGH_TABLES: RefCell<Vec<(Vec<u8>, HighTable)>> = const { RefCell::new(Vec::new()) };
}

/// mail-parser's single-byte charset conversion, but copying ASCII runs
/// whole instead of pushing one `char` per byte through the table (text
/// parts in Latin-1 or cp1252 with a few accented letters are common in
/// spam). The table for bytes 0x80..=0xFF is read from mail-parser's own
/// decoder once per charset (and the ASCII half is checked to be the
/// identity), so the output is the same string. `None` for any other
/// charset: the caller then uses mail-parser's decoder.
fn single_byte_text(bytes: &[u8], charset: &str) -> Option<String> {
    let name = charset.as_bytes();
    if name.len() > 45 {
        return None;
    }
    let mut key = [0u8; 45];
    for (d, &c) in key.iter_mut().zip(name) {
        *d = match c {
            b'A'..=b'Z' => c + 32,
            b'-' => b'_',
            _ => c,
        };
    }
    let key = key.get(..name.len())?;
    if !SINGLE_BYTE_CHARSETS.contains(&key) {
        return None;
    }
    HIGH_TABLES.with(|cell| {
        let mut tables = cell.try_borrow_mut().ok()?;
        let idx = match tables.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                let table = high_table(charset_decoder(name)?)?;
                tables.push((key.to_vec(), table));
                tables.len() - 1
            }
        };
        let (_, table) = tables.get(idx)?;
        let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
        let mut rest = bytes;
        loop {
            let run = rest.iter().position(|&b| b >= 0x80).unwrap_or(rest.len());
            out.push_str(std::str::from_utf8(rest.get(..run)?).ok()?);
            let Some(&b) = rest.get(run) else { break };
            out.push(*table.get(usize::from(b & 0x7f))?);
            rest = rest.get(run + 1..)?;
        }
        Some(out)
    })
}

/// The table of a decoder for bytes 0x80..=0xFF, if it maps each ASCII
/// byte to itself and each other byte to exactly one `char`.
fn high_table(dec: DecoderFnc) -> Option<HighTable> {
    let ascii: Vec<u8> = (0u8..0x80).collect();
    if dec(&ascii).as_bytes() != &ascii[..] {
        return None;
    }
    let high: Vec<u8> = (0x80u8..=0xff).collect();
    let decoded = dec(&high);
    let mut table = ['\0'; 128];
    let mut chars = decoded.chars();
    for slot in &mut table {
        *slot = chars.next()?;
    }
    chars.next().is_none().then_some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::XorShift;

    #[test]
    fn ascii_safe_charsets_map_ascii_to_itself() {
        let ascii: Vec<u8> = (0u8..128).collect();
        let want = String::from_utf8(ascii.clone()).unwrap();
        for name in ASCII_SAFE_CHARSETS {
            for n in [name.to_string(), name.to_ascii_uppercase()] {
                if let Some(dec) = charset_decoder(n.as_bytes()) {
                    assert_eq!(dec(&ascii), want, "{n}");
                }
            }
        }
    }

    /// The run-copying single-byte conversion equals mail-parser's decoder
    /// for every listed charset (any case), on every byte value and on
    /// random mixed text.
    #[test]
    fn single_byte_charsets_equal_mail_parser() {
        let all: Vec<u8> = (0u8..=255).collect();
        let mut rng = XorShift::new(0x2545_F491_4F6C_DD1D);
        for name in SINGLE_BYTE_CHARSETS {
            let name = std::str::from_utf8(name).unwrap();
            for n in [
                name.to_string(),
                name.replace('_', "-").to_ascii_uppercase(),
            ] {
                let dec = charset_decoder(n.as_bytes()).unwrap();
                assert_eq!(single_byte_text(&all, &n).unwrap(), dec(&all), "{n}");
                for _ in 0..200 {
                    let x = rng.next_u64();
                    let mut y = x;
                    let text: Vec<u8> = (0..(x % 64))
                        .map(|_| {
                            y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            let b = (y >> 33) as u8;
                            if y & 1 == 0 { b & 0x7f } else { b }
                        })
                        .collect();
                    assert_eq!(single_byte_text(&text, &n).unwrap(), dec(&text), "{n}");
                }
            }
        }
        assert_eq!(single_byte_text(b"caf\xe9", "utf-8"), None);
        assert_eq!(single_byte_text(b"caf\xe9", "gb2312"), None);
    }
}
