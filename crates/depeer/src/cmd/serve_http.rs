//! `depeer serve http`: flags into [`depeer_web::serve::ServeOptions`],
//! then [`depeer_web::serve::run`] (the API, its OpenAPI document and the
//! dashboard, until SIGTERM or SIGINT; docs/http.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `depeer serve http`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  depeer serve http --data depeer-data                 dashboard at http://127.0.0.1:8080/
  curl -s 127.0.0.1:8080/api/v1/ip/208.66.195.10       what depeer knows about an address
  curl -s '127.0.0.1:8080/api/v1/whatif?cut=26780&at=2008-11-11T20:00Z'
  curl -s 127.0.0.1:8080/api/v1/openapi.json           the OpenAPI 3.1 document")]
pub struct Args {
    /// Address and port to listen on (port 0: any free port, printed on stderr).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Seconds between checks of the data directory for new commits.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub poll: u64,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// The server's options from the flags.
pub fn options(args: &Args) -> depeer_web::serve::ServeOptions {
    let mut api = depeer_web::ApiConfig::new(args.data.clone());
    api.request_timeout = Duration::from_secs(args.timeout.max(1));
    depeer_web::serve::ServeOptions {
        listen: args.listen,
        api,
        poll: Duration::from_secs(args.poll.max(1)),
        threads: args.threads,
    }
}

/// Runs `depeer serve http`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    Ok(depeer_web::serve::run(options(args), None)?)
}
