//! `depeer serve dnsbl`: flags into a [`depeer_dnsbl::ServerConfig`], then
//! [`depeer_dnsbl::run_server`] (which serves until SIGINT/SIGTERM and
//! reloads its zones on SIGHUP). With `--data`, the zones of depeer's own
//! data (`bots`, `cc`, `drop`, `dbl` under `--origin`) are written as
//! rbldnsd files by [`depeer_ingest::write_data_zones`] into a private
//! directory, served like `--zone` files, and rewritten from the dataset
//! before every reload.

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
  depeer serve dnsbl --data depeer-data                           bots, cc, drop, dbl.bl.depeer.test
  kill -HUP $(pidof depeer)                                       reload every zone file (and --data)

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
    /// Data directory: serve bots, cc, drop and dbl.ORIGIN from depeer's own data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// With --data: leave out evidence last seen more than this many days ago (0: keep all).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub max_age: u32,
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
    /// With --data: which ranked networks the drop zone adds.
    #[command(flatten)]
    pub rank: super::export::RankArgs,
}

/// Runs `depeer serve dnsbl`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let (config, generated) = config(args)?;
    let served = depeer_dnsbl::run_server(config).context("serving the DNSBL");
    drop(generated);
    served
}

/// The server's configuration from the flags, and the directory holding
/// the data zones (kept until the server stops).
pub fn config(args: &Args) -> anyhow::Result<(depeer_dnsbl::ServerConfig, tempfile::TempDir)> {
    if args.zone.is_empty() && args.data.is_none() {
        anyhow::bail!(
            "no zone: pass --data DIR or --zone NAME=TYPE:FILE (e.g. --zone bots=ip4set:bots.zone)"
        );
    }
    let mut zones = args
        .zone
        .iter()
        .map(|z| depeer_dnsbl::ZoneSpec::parse(z, &args.origin))
        .collect::<Result<Vec<_>, _>>()?;
    // Kept until the server stops: the generated zone files live here.
    let generated = tempfile::tempdir().context("a directory for the data zones")?;
    let mut before_reload = None;
    if let Some(data) = &args.data {
        let (data, dir) = (data.clone(), generated.path().to_path_buf());
        let (origin, max_age) = (args.origin.clone(), super::export::max_age(args.max_age));
        let rank = args.rank.clone();
        let build = move || -> anyhow::Result<Vec<depeer_ingest::DataZoneFile>> {
            let at = super::export::at_or_now(None)?;
            let opts = depeer_ingest::ListingOptions {
                at,
                max_age,
                rogue_ases: rank.rogue_ases(&data, at)?,
            };
            Ok(depeer_ingest::write_data_zones(
                &data, &opts, &origin, &dir,
            )?)
        };
        for f in build()? {
            tracing::info!(
                zone = f.list.as_str(),
                kind = f.kind.as_str(),
                entries = f.entries,
                "data zone built"
            );
            let spec = format!(
                "{}={}:{}",
                f.list.as_str(),
                f.kind.as_str(),
                f.path.display()
            );
            zones.push(depeer_dnsbl::ZoneSpec::parse(&spec, &args.origin)?);
        }
        before_reload = Some(depeer_dnsbl::ReloadHook(std::sync::Arc::new(move || {
            build().map(|_| ()).map_err(|e| format!("{e:#}"))
        })));
    }
    let mut config = depeer_dnsbl::ServerConfig {
        listen: args.listen.clone(),
        zones,
        threads: args.threads,
        before_reload,
        ..depeer_dnsbl::ServerConfig::default()
    };
    config.rrl.rate = args.rrl_rate;
    config.rrl.slip = args.rrl_slip;
    config.load.test_entries = !args.no_test_entries;
    Ok((config, generated))
}
