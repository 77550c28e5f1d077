//! depeer-dnsbl's integration tests: `answer()` in process (every response
//! decoded by hickory-proto), then the real server on 127.0.0.1 port 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod answers;
mod common;
mod malformed;
mod server;
mod zonefiles;
