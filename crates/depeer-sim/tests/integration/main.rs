//! Integration tests of depeer-sim: determinism, the built-in scenarios
//! against the figures of shared/SCENARIOS.md (computed from the generated
//! messages), MRT round trip through bgpkit-parser, and mbox framing and
//! hashing as docs/sim.md describes them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod determinism;
mod mbox;
mod mrt;
mod scenarios;
mod takedowns;
