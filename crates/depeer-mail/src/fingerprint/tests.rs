//! The word splitter against the byte loop it replaced (kept here as the
//! oracle) on real, mutated and random text; the properties of the
//! signature.

use super::*;

/// Byte classes of the reference splitter: 0 separates words, `LETTER`
/// (ASCII letters and every non-ASCII byte) and `DIGIT` make words.
const LETTER: u8 = 1;
const DIGIT: u8 = 2;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_digit() {
            DIGIT
        } else if c.is_ascii_alphabetic() || c >= 0x80 {
            LETTER
        } else {
            0
        };
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = class_table();

fn class(c: u8) -> u8 {
    CLASS.get(usize::from(c)).copied().unwrap_or(0)
}

impl Fingerprinter {
    /// The byte-loop word splitter this module used before
    /// [`Fingerprinter::add_text`]: the oracle of the comparison test.
    fn add_text_reference(&mut self, text: &str) {
        let b = text.as_bytes();
        self.end_word();
        let mut i = 0usize;
        while i < b.len() && self.words < MAX_WORDS {
            // Skip to the next word byte.
            match b
                .get(i..)
                .and_then(|r| r.iter().position(|&c| class(c) != 0))
            {
                Some(p) => i += p,
                None => break,
            }
            let start = i;
            let mut kinds = 0u8;
            let rest = b.get(i..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|&c| {
                    let k = class(c);
                    kinds |= k;
                    k == 0
                })
                .unwrap_or(rest.len());
            i += len;
            let Some(w) = b.get(start..i).filter(|w| !w.is_empty()) else {
                break;
            };
            if w.len() > 40 {
                continue;
            }
            if kinds & DIGIT != 0 {
                for &c in w {
                    self.byte(c);
                }
            } else {
                let mut h = FNV_OFFSET;
                for chunk in w.chunks(8) {
                    let mut buf = [0u8; 8];
                    if let Some(d) = buf.get_mut(..chunk.len()) {
                        d.copy_from_slice(chunk);
                    }
                    h = (h ^ lower8(u64::from_le_bytes(buf)))
                        .wrapping_mul(FNV_PRIME)
                        .rotate_left(29);
                }
                self.word_hash = h;
                self.word_len = w.len();
            }
            self.end_word();
        }
    }
}

fn fp(t: &str) -> String {
    let mut f = Fingerprinter::new();
    f.add_text(t);
    f.hex()
}

#[test]
fn numbers_case_and_spacing_do_not_matter() {
    assert_eq!(
        fp("Buy CHEAP pills now, only 19.99 today"),
        fp("buy cheap  pills now only 24.95 TODAY")
    );
    assert_eq!(fp("x").len(), 128);
    assert_eq!(fp(""), "f".repeat(128));
}

#[test]
fn similar_texts_are_close_and_different_texts_far() {
    let base: String = (0..300)
        .map(|i| {
            format!("word{} ", ["alpha", "beta", "gamma", "delta", "eps"][i % 5])
                + &"x".repeat(i % 7)
        })
        .collect();
    let a = fp(&base);
    let b = fp(&(base.clone() + " one extra sentence at the end"));
    let other: String = (0..300)
        .map(|i| format!("zz{} ", i * 7919 % 1000))
        .collect();
    let c = fp(&format!("{other} completely different"));
    assert!(similarity(&a, &b).unwrap() >= 0.75, "{a} {b}");
    assert!(similarity(&a, &c).unwrap() <= 0.25);
}

#[test]
fn swar_lowercase_matches_bytewise() {
    for base in (0u16..256).step_by(8) {
        let bytes: Vec<u8> = (base..base + 8).map(|b| b as u8).collect();
        let x = u64::from_le_bytes(bytes.clone().try_into().unwrap());
        let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
        assert_eq!(lower8(x).to_le_bytes().to_vec(), want, "{bytes:?}");
    }
}

#[test]
fn word_bits_match_the_class_table() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let check = |v: u64| {
        let want = (0..8).fold(0u8, |m, k| {
            m | (u8::from(class((v >> (8 * k)) as u8) != 0) << k)
        });
        assert_eq!(word_bits(v), want, "{v:016x}");
        let digits = (0..8).any(|k| ((v >> (8 * k)) as u8).is_ascii_digit());
        assert_eq!(has_digit(v), digits, "{v:016x}");
    };
    for b in 0u64..256 {
        check(b * 0x0101_0101_0101_0101);
        check(b << 24);
    }
    for _ in 0..200_000 {
        x = crate::test_support::xorshift(x);
        check(x);
    }
}

fn both(text: &str) -> ([u32; SLOTS], [u32; SLOTS]) {
    let mut a = Fingerprinter::new();
    a.add_text(text);
    let mut b = Fingerprinter::new();
    b.add_text_reference(text);
    (a.signature(), b.signature())
}

/// The block word splitter gives the byte loop's signature on every
/// real spam and ham file (raw text, and two mutated copies with
/// digits, non-ASCII, separators and long runs spliced in), on random
/// text over the bytes it reacts to, and across the word cap.
#[test]
fn equals_the_reference_splitter_on_real_and_mutated_text() {
    let Some(data) =
        crate::test_support::shared_data("equals_the_reference_splitter_on_real_and_mutated_text")
    else {
        return;
    };
    let files = crate::test_support::data_files(&data, &["spam", "ham"]);
    assert!(files.len() > 1000, "{}", files.len());
    let splice: [&str; 8] = [
        "7",
        " ",
        "\u{e9}",
        "x1y22",
        "-",
        &"a".repeat(41),
        "é9",
        "\n",
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut n = 0usize;
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        let (a, b) = both(&text);
        assert_eq!(a, b, "{}", f.display());
        for _ in 0..2 {
            let mut t = text.clone();
            for _ in 0..t.len() / 64 + 1 {
                x = crate::test_support::xorshift(x);
                let mut at = (x >> 20) as usize % (t.len() + 1);
                while !t.is_char_boundary(at) {
                    at -= 1;
                }
                t.insert_str(at, splice[(x % 8) as usize]);
            }
            let (a, b) = both(&t);
            assert_eq!(a, b, "{} (mutated)", f.display());
        }
        n += 1;
    }
    assert!(n > 1000);
    let alphabet = ["a", "B", "0", "9", " ", ".", "é", "\u{a0}", "z", "\t", "Zz"];
    for _ in 0..20_000 {
        x = crate::test_support::xorshift(x);
        let len = (x % 150) as usize;
        let mut y = x;
        let t: String = (0..len)
            .map(|_| {
                y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                alphabet[((y >> 33) % alphabet.len() as u64) as usize]
            })
            .collect();
        let (a, b) = both(&t);
        assert_eq!(a, b, "{t:?}");
    }
    // Across the word cap, in one call and split over two.
    let long = "w0rd ab cdefghijk ".repeat(MAX_WORDS / 2);
    let (a, b) = both(&long);
    assert_eq!(a, b);
    let mut f1 = Fingerprinter::new();
    let mut f2 = Fingerprinter::new();
    for part in [&long[..], "tail words here", &long[..]] {
        f1.add_text(part);
        f2.add_text_reference(part);
    }
    assert_eq!(f1.signature(), f2.signature());
}

#[test]
fn html_markup_is_ignored() {
    let mut f = Fingerprinter::new();
    f.add_html("<p>Buy <b>cheap</b>&nbsp;pills <a href='http://x'>now</a></p>");
    assert_eq!(f.hex(), fp("buy cheap pills now"));
}

#[test]
fn hex_is_the_zero_padded_signature() {
    for text in ["", "buy cheap pills now", "a b c d e f g h i j k l m n o p"] {
        let mut f = Fingerprinter::new();
        f.add_text(text);
        let want: String = f.signature().iter().map(|v| format!("{v:08x}")).collect();
        assert_eq!(f.hex(), want);
        assert_eq!(want.len(), SLOTS * 8);
    }
}
