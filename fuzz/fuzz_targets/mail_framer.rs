//! Framing: any byte stream, both framings, a small cap so the oversize
//! path is exercised. Invariants: no panic; every kept message is within
//! the cap; offsets increase.
#![no_main]

use depeer_mail::{Framing, MessageReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Mbox, Framing::Single] {
        let mut last = None;
        for item in MessageReader::new(data, framing).max_message_size(4096) {
            match item {
                Ok(m) => {
                    assert!(m.bytes.len() <= 4096);
                    if let Some(prev) = last {
                        assert!(m.offset > prev);
                    }
                    last = Some(m.offset);
                }
                Err(e) => {
                    let _ = e.reason();
                }
            }
        }
    }
});
