//! A whole message through extraction (MIME, URLs, fingerprint).
#![no_main]

use depeer_core::{SourceRef, Timestamp};
use depeer_mail::{ExtractContext, TrustConfig, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trust = TrustConfig::default();
    let ctx = ExtractContext::new(&trust, SourceRef::new("fuzz", 0, 0), Timestamp::from_secs(1_300_000_000));
    match extract(data, &ctx) {
        Ok(e) => assert_eq!(e.message.url_count as usize, e.urls.len()),
        Err(e) => {
            let _ = e.reason();
        }
    }
});
