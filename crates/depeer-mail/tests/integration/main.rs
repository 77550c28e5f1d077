//! Integration tests of depeer-mail: the nasty corpus, the real data in
//! ../shared/data, and random bytes through every layer.

mod nasty;
mod random;
mod real_data;

use depeer_core::{SourceRef, Timestamp};
use depeer_mail::{ExtractContext, TrustConfig};

/// A context as ingestion builds it, with a fixed "now".
pub(crate) fn ctx(trust: &TrustConfig) -> ExtractContext<'_> {
    ExtractContext::new(
        trust,
        SourceRef::new("test", 0, 0),
        Timestamp::from_secs(1_800_000_000),
    )
}
