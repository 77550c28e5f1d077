//! `depeer serve dnsbl`: flags into a [`depeer_dnsbl::ServerConfig`], then
//! [`depeer_dnsbl::run_server`] (which serves until SIGINT/SIGTERM and
//! reloads its zones on SIGHUP).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

/// Flags of `depeer serve dnsbl`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer serve dnsbl --zone bots=ip4set:bots.zone                 bots.bl.depeer.test on 127.0.0.1:5353
  depeer serve dnsbl --listen 0.0.0.0:53 --listen [::]:53 --origin bl.example.org \\
      --zone xbl=ip4set:xbl.zone --zone dbl=dnset:dbl.zone --rrl-rate 50
  dig @127.0.0.1 -p 5353 2.0.0.127.bots.bl.depeer.test A          the RFC 5782 test entry
  kill -HUP $(pidof depeer)                                       reload every zone file

Zone files use rbldnsd's syntax (ip4set, ip4trie, ip6trie, dnset); NAME is
relative to --origin unless it ends with a dot; @ is the origin itself.")]
pub struct Args {
    /// Address and port to answer on, UDP and TCP (repeatable).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:5353")]
    pub listen: Vec<SocketAddr>,
    /// Parent name of the zones.
    #[arg(long, value_name = "NAME", default_value = "bl.depeer.test")]
    pub origin: String,
    /// A zone from a file in rbldnsd syntax: NAME=TYPE:FILE[,FILE...] (repeatable).
    #[arg(long, value_name = "NAME=TYPE:FILE")]
    pub zone: Vec<String>,
    /// Data directory (zones from depeer's own data: not yet served).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Responses per second per client /24 or /56 (0: no rate limiting).
    #[arg(long, default_value_t = 0)]
    pub rrl_rate: u32,
    /// Every n-th rate-limited response is sent truncated (0: drop all).
    #[arg(long, default_value_t = 2)]
    pub rrl_slip: u32,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Do not add the RFC 5782 test entries (127.0.0.2, test).
    #[arg(long)]
    pub no_test_entries: bool,
}

/// Runs `depeer serve dnsbl`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.data.is_some() {
        anyhow::bail!(
            "--data: zones from depeer's own data are not served yet; use --zone NAME=TYPE:FILE"
        );
    }
    if args.zone.is_empty() {
        anyhow::bail!("no zone: pass --zone NAME=TYPE:FILE (e.g. --zone bots=ip4set:bots.zone)");
    }
    let zones = args
        .zone
        .iter()
        .map(|z| depeer_dnsbl::ZoneSpec::parse(z, &args.origin))
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = depeer_dnsbl::ServerConfig {
        listen: args.listen.clone(),
        zones,
        threads: args.threads,
        ..depeer_dnsbl::ServerConfig::default()
    };
    config.rrl.rate = args.rrl_rate;
    config.rrl.slip = args.rrl_slip;
    config.load.test_entries = !args.no_test_entries;
    depeer_dnsbl::run_server(config).context("serving the DNSBL")
}
