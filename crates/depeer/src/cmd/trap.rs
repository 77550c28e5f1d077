//! `depeer trap`: flags into a [`depeer_trap::TrapOptions`], then
//! [`depeer_trap::Trap::run`], which serves until SIGTERM/SIGINT and
//! drains (docs/trap.md). Prints one `listening on ADDR` line per listener
//! on stdout once bound, and a JSON summary when it stops.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

/// Flags of `depeer trap`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer trap                                          every domain, 127.0.0.1:2525, ./depeer-data
  depeer trap --listen 0.0.0.0:25 --listen [::]:25 --domains traps.txt --hostname mx.trap.example
  swaks --server 127.0.0.1:2525 --to x@trap.example    deliver one test message
  kill -TERM $(pidof depeer)                           drain: every 250 given is stored

A 250 after DATA means the message is committed and fsynced in the data
directory (with --to nats://HOST:PORT: acknowledged by the JetStream stream,
which `depeer worker` stores from). The trap never relays, bounces or sends mail.")]
pub struct Args {
    /// Address and port to accept SMTP on (repeatable).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:2525")]
    pub listen: Vec<SocketAddr>,
    /// Data directory (created when missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// File of trap domains, one a line (`#` comments); without it every domain is accepted.
    #[arg(long, value_name = "FILE")]
    pub domains: Option<PathBuf>,
    /// Largest message accepted (SIZE): bytes, or with K, M or G (binary).
    #[arg(long, value_name = "SIZE", default_value = "10M", value_parser = parse_size)]
    pub max_size: u64,
    /// Connections at once.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_conns: usize,
    /// Connections at once from one address.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_conns_per_ip: usize,
    /// Host name in the greeting and the Received: line (default: /etc/hostname).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// STARTTLS certificate chain (PEM); without it a self-signed one is made in the data directory.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not offer STARTTLS.
    #[arg(long)]
    pub no_starttls: bool,
    /// Seconds allowed for one command line.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub command_timeout: u64,
    /// Seconds allowed for one message (DATA to the final dot).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub data_timeout: u64,
    /// Seconds allowed for a whole session.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub session_timeout: u64,
    /// Attribute the new messages every this many seconds (0: only at the end).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub attribute_every: u64,
    /// Do not attribute messages (leave it to `depeer attribute`).
    #[arg(long)]
    pub no_attribute: bool,
    /// Commits that may run at once (group commit: each takes every message waiting).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub committers: usize,
    /// Microseconds a committer waits for more messages before starting a batch while
    /// other batches commit (bigger batches under load; never when it is the only one).
    #[arg(long, value_name = "MICROS")]
    pub batch_wait_us: Option<u64>,
    /// Publish every message to NATS JetStream (`nats://HOST:PORT`) instead of storing it:
    /// the 250 waits for the stream's acknowledgement, `depeer worker` stores it
    /// (docs/SCALING.md). --data then only holds the STARTTLS certificate.
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// With --to: seconds to wait for the stream's acknowledgement before answering 451.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "to")]
    pub publish_timeout: u64,
}

/// `10M`, `512K`, `1G` (binary) or plain bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (s.get(..i).unwrap_or(""), 1u64 << 10),
        Some((i, 'm' | 'M')) => (s.get(..i).unwrap_or(""), 1 << 20),
        Some((i, 'g' | 'G')) => (s.get(..i).unwrap_or(""), 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size (e.g. 10M, 512K, 1048576)"))
}

/// Runs `depeer trap`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut opts = depeer_trap::TrapOptions::new(args.data.clone());
    opts.listen.clone_from(&args.listen);
    if let Some(d) = &args.domains {
        opts.domains = Some(depeer_trap::read_domains(d)?);
    }
    opts.max_size = args.max_size;
    opts.max_conns = args.max_conns;
    opts.max_conns_per_ip = args.max_conns_per_ip;
    if let Some(h) = &args.hostname {
        opts.hostname.clone_from(h);
    }
    opts.cert.clone_from(&args.cert);
    opts.key.clone_from(&args.key);
    opts.starttls = !args.no_starttls;
    opts.committers = args.committers.max(1);
    if let Some(us) = args.batch_wait_us {
        opts.batch_wait = Duration::from_micros(us);
    }
    opts.limits.command_timeout = Duration::from_secs(args.command_timeout.max(1));
    opts.limits.data_timeout = Duration::from_secs(args.data_timeout.max(1));
    opts.limits.session_timeout = Duration::from_secs(args.session_timeout.max(1));
    opts.attribute_every = (!args.no_attribute).then(|| {
        if args.attribute_every == 0 {
            Duration::from_secs(u64::MAX / 4)
        } else {
            Duration::from_secs(args.attribute_every)
        }
    });
    let forward = match &args.to {
        Some(url) => {
            let f = depeer_cluster::nats::NatsForward::connect(
                url,
                Duration::from_secs(args.publish_timeout.max(1)),
            )
            .context("connecting to NATS")?;
            Some(std::sync::Arc::new(f) as std::sync::Arc<dyn depeer_trap::Forward>)
        }
        None => None,
    };
    let trap = depeer_trap::Trap::bind(opts).context("starting the trap")?;
    for a in trap.local_addrs() {
        println!("listening on {a}");
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let summary = trap.run_with(forward).context("running the trap")?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("x").is_err());
        assert!(parse_size("0").is_err());
    }
}
