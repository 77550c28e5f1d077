//! Integration tests of depeer-trap: a trap in process on 127.0.0.1 (port
//! 0), driven by a plain SMTP client over TCP; what it stored is read back
//! with `depeer_store::sql`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod client;
mod hostile;
mod sessions;
