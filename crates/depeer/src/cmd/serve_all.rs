//! `depeer serve` (or `depeer serve all`): the DNSBL server with the zones
//! of the data directory and the HTTP server on the same directory, in one
//! process. New commits are seen by the HTTP side's poll, which rebuilds
//! its lookups and caches and then reloads the DNSBL zones (rewritten from
//! the dataset by `serve dnsbl --data`'s hook); SIGTERM or SIGINT stops
//! both.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

/// Flags of `depeer serve all`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  depeer serve --data depeer-data          DNSBL on 127.0.0.1:5353, dashboard on http://127.0.0.1:8080/
  depeer serve all --http 127.0.0.1:0 --dnsbl 127.0.0.1:0")]
pub struct Args {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// HTTP address and port.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// DNSBL address and port (UDP and TCP).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5353")]
    pub dnsbl: SocketAddr,
    /// Parent name of the DNSBL zones.
    #[arg(long, value_name = "NAME", default_value = "bl.depeer.test")]
    pub origin: String,
    /// Leave evidence last seen more than this many days ago out of the zones (0: keep all).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub max_age: u32,
    /// Seconds between checks of the data directory for new commits.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub poll: u64,
    /// Which ranked networks the drop zone adds.
    #[command(flatten)]
    pub rank: super::export::RankArgs,
}

/// Runs `depeer serve all`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let dnsbl_args = super::serve_dnsbl::Args {
        listen: vec![args.dnsbl],
        origin: args.origin.clone(),
        zone: Vec::new(),
        data: Some(args.data.clone()),
        max_age: args.max_age,
        rrl_rate: 0,
        rrl_slip: 2,
        threads: 1,
        no_test_entries: false,
        rank: args.rank.clone(),
    };
    let (config, generated) = super::serve_dnsbl::config(&dnsbl_args)?;
    let server = Arc::new(depeer_dnsbl::Server::start(config).context("starting the DNSBL")?);
    eprintln!(
        "depeer serve: DNSBL on {:?} (udp) {:?} (tcp)",
        server.udp_addrs(),
        server.tcp_addrs()
    );
    let reloader = server.clone();
    let hook: depeer_web::serve::OnNewData = Arc::new(move || match reloader.reload() {
        Ok(z) => eprintln!(
            "depeer serve: DNSBL zones rebuilt from new data ({} zones)",
            z.zones().len()
        ),
        Err(e) => tracing::error!(error = %e, "DNSBL reload failed; serving the previous zones"),
    });
    let http = super::serve_http::Args {
        listen: args.http,
        data: args.data.clone(),
        timeout: 30,
        poll: args.poll,
        threads: 0,
    };
    let served = depeer_web::serve::run(super::serve_http::options(&http), Some(hook));
    // The hook held the other reference; it is gone with the HTTP runtime.
    match Arc::try_unwrap(server) {
        Ok(s) => s.shutdown(),
        Err(s) => drop(s),
    }
    eprintln!("depeer serve: DNSBL stopped");
    drop(generated);
    Ok(served?)
}
