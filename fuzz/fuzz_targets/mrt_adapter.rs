//! Fuzz target: depeer-mrt's framer + bgpkit adapter on arbitrary bytes.
//! Invariants checked: no panic; every item is located inside the input;
//! an error's quarantine bytes come from the input; the summary counts
//! every item once.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = depeer_mrt::MrtReader::new(data, "fuzz");
    let mut n = 0u64;
    let mut last_offset = None;
    for item in reader.by_ref() {
        n += 1;
        let src = match &item {
            Ok(r) => &r.source,
            Err(e) => e.source(),
        };
        assert!(src.offset <= data.len() as u64);
        if let Some(prev) = last_offset {
            assert!(src.offset >= prev, "offsets go forward");
        }
        last_offset = Some(src.offset);
        if let Err(e) = &item {
            let q = e.to_quarantine();
            assert!(q.bytes.len() <= data.len());
            assert!(!q.reason.is_empty());
        }
        if let Ok(r) = &item {
            let mut lines = Vec::new();
            depeer_mrt::dump_lines(r, &mut lines);
        }
    }
    assert_eq!(n, reader.summary().records_read);
});
