//! End-to-end tests of the `depeer` binary: real processes, real files,
//! real data from ../shared/data.

mod demo;
mod ingest_mail;
mod ingest_mrt;
mod sim_ingest;
mod support;
