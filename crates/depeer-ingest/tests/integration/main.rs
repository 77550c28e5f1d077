//! Integration tests of depeer-ingest that need no dataset: the
//! enrichment of the real public spam against a 2008 routing table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod live_crash;
mod real_spam;
