//! The command line: clap definitions and dispatch.

use clap::{Parser, Subcommand};

use crate::cmd;

const EXAMPLES: &str = "\
Examples:
  depeer demo                                  # simulate McColo 2008 and tell the story
  depeer ingest mail ~/traps/*.mbox.gz         # spamtrap mail into ./depeer-data
  depeer sql \"SELECT relay_ip, count(*) n FROM messages GROUP BY 1 ORDER BY n DESC LIMIT 10\"
  depeer show 3f2a...                          # the raw message behind an observation
  depeer ingest mrt rib.20081111.0000.bz2 updates.20081111.*.bz2
  depeer route lookup 208.66.192.10 --at 2008-11-11T21:00Z";

/// depeer: find the next McColo before it is cut off, and prove what cutting it did.
#[derive(Debug, Parser)]
#[command(name = "depeer", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read sources into the data directory.
    #[command(subcommand)]
    Ingest(Ingest),
    /// Attribute every stored message to a botnet again, with all data now stored.
    Attribute(cmd::attribute::Args),
    /// The botnets of a time window: messages, share, bots, C&C servers.
    Botnets(cmd::botnets::Args),
    /// Run SQL over the dataset (DataFusion); every table is Parquet.
    Sql(cmd::sql::Args),
    /// Print the raw message stored under a SHA-256.
    Show(cmd::show::Args),
    /// Ask the routing history.
    #[command(subcommand)]
    Route(Route),
    /// Generate a synthetic world in the real formats.
    Sim(cmd::sim::Args),
    /// Simulate McColo 2008 at small scale, run every stage, tell the story.
    Demo(cmd::demo::Args),
    /// Change points of a series in a CSV file.
    Detect(cmd::detect::Args),
    /// Messages per time bucket: total, or by botnet, campaign, sending or hosting AS.
    Series(cmd::series::Args),
    /// How much trapped spam depends on what one AS hosts (C&C servers, sites).
    Depends(cmd::depends::Args),
    /// Drops and rises of the spam volume, with the routing events that explain them.
    Events(cmd::events::Args),
    /// Rogue-network ranking: which networks host abuse out of proportion to their size.
    Rank(cmd::rank::Args),
    /// Why an AS ranks where it does: each feature with its evidence.
    Explain(cmd::explain::Args),
    /// What goes dark if ASes or links are cut, and the predicted spam drop.
    Whatif(cmd::whatif::Args),
    /// Each detected drop with a routing cause beside the what-if made just before it.
    Backtest(cmd::backtest::Args),
    /// Run the servers: DNSBL and HTTP (API and dashboard) together, or one of them.
    Serve(ServeCmd),
    /// Listings as Spamhaus DROP/ASN-DROP, rbldnsd, RPZ, nftables, BIRD or GoBGP input.
    Export(cmd::export::Args),
    /// One self-contained HTML report: spam rate, events, botnets, ranking, graph, what-if.
    Report(cmd::report::Args),
    /// The evidence log: verifier key, checkpoints, proofs, verification.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Write an offline-verifiable dossier about an AS, address, prefix or domain.
    Dossier(cmd::dossier::DossierArgs),
    /// Check a dossier offline: hashes, inclusion proofs, the checkpoint's signature, claims.
    Verify(cmd::dossier::VerifyArgs),
    /// A live SMTP spamtrap: accepts mail, stores it durably through the mail pipeline.
    Trap(cmd::trap::Args),
    /// The nodes of a Ballista cluster for `depeer sql --ballista`: scheduler, executor.
    #[command(subcommand)]
    Ballista(cmd::ballista::Command),
    /// NATS JetStream for ingest across machines: `depeer nats setup`.
    #[command(subcommand)]
    Nats(cmd::nats::NatsCommand),
    /// Ingest worker: pulls raw objects from NATS JetStream and stores them like `depeer ingest`.
    Worker(cmd::worker::Args),
}

/// `depeer serve [dnsbl|http|all]`: no subcommand is `all`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeCmd {
    /// Which server (default: both).
    #[command(subcommand)]
    pub which: Option<Serve>,
    /// Flags of `depeer serve all` when no subcommand is given.
    #[command(flatten)]
    pub all: cmd::serve_all::Args,
}

/// `depeer serve ...`
#[derive(Debug, Subcommand)]
pub enum Serve {
    /// An authoritative DNS blocklist server (UDP and TCP).
    Dnsbl(cmd::serve_dnsbl::Args),
    /// The HTTP JSON API (OpenAPI at /api/v1/openapi.json) and the dashboard.
    Http(cmd::serve_http::Args),
    /// The DNSBL and HTTP servers in one process on one data directory.
    All(cmd::serve_all::Args),
}

/// `depeer ingest ...`
#[derive(Debug, Subcommand)]
pub enum Ingest {
    /// Spamtrap mail: mbox, Maildir, .eml, trees; gzip/bzip2/zstd/xz; `-` for stdin.
    Mail(cmd::ingest_mail::Args),
    /// BGP data in MRT format: RIB dumps and update files.
    Mrt(cmd::ingest_mrt::Args),
    /// A pyasn IP->AS table as a routing snapshot.
    Ipasn(cmd::ingest_ipasn::Args),
    /// AS names and organisations (CAIDA as2org JSON-lines or `ASN<TAB>name`).
    As2org(cmd::ingest_as2org::Args),
    /// Threat feeds: C&C, URL, passive DNS, bot and network lists.
    Feed(cmd::ingest_feed::Args),
}

/// `depeer route ...`
#[derive(Debug, Subcommand)]
pub enum Route {
    /// Longest-prefix match of addresses at a time.
    Lookup(cmd::route::LookupArgs),
    /// One AS: prefixes, upstreams, customers, peers, events.
    As(cmd::route::AsArgs),
    /// Routing events.
    Events(cmd::route::EventsArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Ingest(Ingest::Mail(a)) => cmd::ingest_mail::run(&a, quiet),
        Command::Ingest(Ingest::Mrt(a)) => cmd::ingest_mrt::run(&a, quiet),
        Command::Ingest(Ingest::Ipasn(a)) => cmd::ingest_ipasn::run(&a, quiet),
        Command::Ingest(Ingest::As2org(a)) => cmd::ingest_as2org::run(&a, quiet),
        Command::Attribute(a) => cmd::attribute::run(&a),
        Command::Botnets(a) => cmd::botnets::run(&a),
        Command::Sql(a) => cmd::sql::run(&a),
        Command::Show(a) => cmd::show::run(&a),
        Command::Route(Route::Lookup(a)) => cmd::route::lookup(&a),
        Command::Route(Route::As(a)) => cmd::route::as_info(&a),
        Command::Route(Route::Events(a)) => cmd::route::events(&a),
        Command::Sim(a) => cmd::sim::run(&a, quiet),
        Command::Demo(a) => cmd::demo::run(&a),
        Command::Ingest(Ingest::Feed(a)) => cmd::ingest_feed::run(&a, quiet),
        Command::Detect(a) => cmd::detect::run(&a),
        Command::Series(a) => cmd::series::run(&a),
        Command::Depends(a) => cmd::depends::run(&a),
        Command::Events(a) => cmd::events::run(&a),
        Command::Rank(a) => cmd::rank::run(&a),
        Command::Explain(a) => cmd::explain::run(&a),
        Command::Whatif(a) => cmd::whatif::run(&a),
        Command::Backtest(a) => cmd::backtest::run(&a),
        Command::Serve(ServeCmd {
            which: Some(Serve::Dnsbl(a)),
            ..
        }) => cmd::serve_dnsbl::run(&a),
        Command::Serve(ServeCmd {
            which: Some(Serve::Http(a)),
            ..
        }) => cmd::serve_http::run(&a),
        Command::Serve(ServeCmd {
            which: Some(Serve::All(a)),
            ..
        }) => cmd::serve_all::run(&a),
        Command::Serve(ServeCmd { which: None, all }) => cmd::serve_all::run(&all),
        Command::Export(a) => cmd::export::run(&a),
        Command::Report(a) => cmd::report::run(&a),
        Command::Log(c) => cmd::log::run(&c),
        Command::Dossier(a) => cmd::dossier::run(&a),
        Command::Verify(a) => cmd::dossier::verify(&a),
        Command::Trap(a) => cmd::trap::run(&a),
        Command::Ballista(c) => cmd::ballista::run(&c),
        Command::Nats(c) => cmd::nats::run(&c),
        Command::Worker(a) => cmd::worker::run(&a),
    }
}

/// Logging on stderr, filtered by `-v`/`-q` or `RUST_LOG`.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// Whether an error is a closed stdout (`depeer sql ... | head`), which is
/// not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
