//! End-to-end tests of the `depeer` binary: real processes, real files,
//! real data from ../shared/data (tests that need it say SKIPPED without it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod attribute;
mod ballista;
mod cli_output;
mod demo;
mod depends;
mod dossier;
mod events;
mod evidence_log;
mod evidence_objects;
mod export;
mod http;
mod ingest_feed;
mod ingest_mail;
mod ingest_mrt;
mod nats;
mod nats_trap;
mod rank;
mod report;
mod route;
mod sim_feeds;
mod sim_ingest;
mod support;
mod trap;
mod whatif;
