//! Framing: any byte stream, both framings, a small cap so the oversize
//! path is exercised. Invariants: no panic; every kept message is within
//! the cap; offsets increase; reading into recycled (dirty) buffers gives
//! exactly the messages of a fresh reader.
#![no_main]

use depeer_mail::{Framing, MessageReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Mbox, Framing::Single] {
        let mut last = None;
        let fresh: Vec<_> = MessageReader::new(data, framing)
            .max_message_size(4096)
            .collect();
        for item in &fresh {
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
        let mut reader = MessageReader::new(data, framing).max_message_size(4096);
        reader.recycle(data.to_vec());
        let mut i = 0;
        while let Some(item) = reader.next() {
            let want = fresh.get(i).expect("recycled reader gave more messages");
            match (&item, want) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("recycled reader disagrees at message {i}"),
            }
            if let Ok(m) = item {
                let mut dirty = m.bytes;
                dirty.extend_from_slice(b"\nFrom x\n");
                reader.recycle(dirty);
            }
            i += 1;
        }
        assert_eq!(i, fresh.len());
    }
});
