//! Feed reading: the first byte picks a built-in format (or detection, or a
//! small mapping); the rest is the file. Checks that hostile input never
//! panics, that reading ends, that every error is located on a line that
//! exists and quarantines bytes from the input, and that family names stay
//! canonical.
#![no_main]

use depeer_core::Timestamp;
use depeer_intel::{FeedOptions, Format, IntelError, Mapping, canonical_family, read_feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let mut o = FeedOptions::new("fuzz", Timestamp::from_secs(0));
    o.max_record = 512;
    match sel as usize % 12 {
        0 => {}
        11 => {
            o.mapping = Mapping::from_toml(
                "fuzz.toml",
                "kind = \"bots\"\ndelimiter = \";\"\nheader = true\n[columns]\nip = \"ip\"\nfamily = 2\nfirst_seen = { column = 3, format = \"%d/%m/%Y %H:%M\" }\n",
            )
            .ok();
        }
        n => o.format = Format::ALL.get(n - 1).copied(),
    }
    let lines = body.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut n = 0u64;
    for x in read_feed(body, o) {
        n += 1;
        assert!(n <= 4 * body.len() as u64 + 8, "the reader does not end");
        match x {
            Ok(e) => {
                assert!(e.source_line >= 1 && e.source_line <= lines);
                if let Some(f) = e.family.as_deref() {
                    assert_eq!(canonical_family(f).as_deref(), Some(f));
                }
                let _ = e.dedup_key();
            }
            Err(IntelError::Line { line, offset, bytes, .. }) => {
                assert!(line >= 1 && line <= lines);
                let at = offset as usize;
                assert!(at + bytes.len() <= body.len());
            }
            Err(e) => assert!(e.is_fatal()),
        }
    }
    let _ = canonical_family(&String::from_utf8_lossy(body));
});
