//! depeer-dnsbl's integration tests: `answer()` in process (every response
//! decoded by hickory-proto), then the real server on 127.0.0.1 port 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod answers;
mod common;
mod server;
mod zonefiles;
