//! One module per subcommand. Each has an `Args` (clap) and a `run` that a
//! test can call.

pub mod attribute;
pub mod backtest;
pub mod ballista;
pub mod botnets;
pub mod demo;
pub mod depends;
pub mod detect;
pub mod dossier;
pub mod events;
pub mod explain;
pub mod export;
pub mod ingest_as2org;
pub mod ingest_feed;
pub mod ingest_ipasn;
pub mod ingest_mail;
pub mod ingest_mrt;
pub mod log;
pub mod nats;
pub mod rank;
pub mod report;
pub mod route;
pub mod series;
pub mod serve_all;
pub mod serve_dnsbl;
pub mod serve_http;
pub mod show;
pub mod sim;
pub mod sql;
pub mod trap;
pub mod whatif;
pub mod worker;
