//! One Received line, and the chain of a header block.
#![no_main]

use depeer_mail::{TrustConfig, parse_received, relay_chain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_received(&text);
    let _ = relay_chain(data, &TrustConfig::default());
    let _ = TrustConfig::parse(&text, "fuzz");
});
