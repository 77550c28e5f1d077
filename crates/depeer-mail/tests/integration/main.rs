//! Integration tests of depeer-mail (the one test binary of the crate): the
//! golden suites under tests/corpus (nasty messages, Received lines, URL
//! bodies), the real data in ../shared/data, and random bytes through every
//! layer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod corpus;
mod nasty;
mod random;
mod real_data;
mod received;
mod url;

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
