//! `depeer ballista scheduler|executor`: the nodes of a Ballista cluster for
//! `depeer sql --ballista`, from the same binary (depeer_cluster::ballista).
//! Flags in, one line out on stderr when the node is up.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use depeer_cluster::ballista::{ExecutorOptions, SchedulerOptions};

const AFTER: &str = "\
A cluster is one scheduler and any number of executors; every node must see
the dataset at the same path (a shared filesystem across machines).

  depeer ballista scheduler --listen 10.0.0.1:50050
  depeer ballista executor --scheduler 10.0.0.1:50050 --listen 10.0.0.2:50051
  depeer sql --ballista df://10.0.0.1:50050 --data /shared/depeer-data \"SELECT count(*) FROM messages\"

docs/SCALING.md (SQL on Ballista) says what runs where and what differs.";

/// `depeer ballista ...`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Ballista's scheduler: plans queries into stages, hands tasks to executors.
    #[command(after_help = AFTER)]
    Scheduler(SchedulerArgs),
    /// Ballista's executor: runs tasks over the dataset's Parquet files.
    #[command(after_help = AFTER)]
    Executor(ExecutorArgs),
}

/// Flags of `depeer ballista scheduler`.
#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// Address and port for clients and executors (port 0: any free port,
    /// printed on stderr).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50050")]
    pub listen: SocketAddr,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Flags of `depeer ballista executor`.
#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
    /// The scheduler: HOST:PORT or df://HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,
    /// Address and port of the executor's Arrow Flight service, which other
    /// executors and clients fetch results from (port 0: a free port, printed
    /// on stderr).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Host name or address other nodes reach this executor at (default: the
    /// --listen address; with 0.0.0.0, the address the scheduler sees).
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// Directory in which the executor makes its own work directory for
    /// shuffle files and spills (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    /// Memory all running tasks together may hold, in MiB; past it, sorts
    /// and aggregations spill to the work directory (default: 70 % of the
    /// machine's memory).
    #[arg(long, value_name = "MIB")]
    pub memory_limit: Option<u64>,
}

/// Runs `depeer ballista ...`.
pub fn run(command: &Command) -> anyhow::Result<()> {
    match command {
        Command::Scheduler(a) => scheduler(a),
        Command::Executor(a) => executor(a),
    }
}

fn scheduler(args: &SchedulerArgs) -> anyhow::Result<()> {
    let options = SchedulerOptions {
        listen: args.listen,
        threads: args.threads,
    };
    depeer_cluster::ballista::run_scheduler(&options, &mut |bound| {
        let _ = writeln!(
            std::io::stderr(),
            "depeer ballista scheduler: listening on {bound} (clients: depeer sql --ballista df://{bound})"
        );
    })?;
    Ok(())
}

fn executor(args: &ExecutorArgs) -> anyhow::Result<()> {
    let options = ExecutorOptions {
        scheduler: args.scheduler.clone(),
        listen: args.listen,
        advertise: args.advertise.clone(),
        work_dir: args.work_dir.clone(),
        concurrency: args.concurrency,
        memory_limit: args.memory_limit.map(|mib| mib.saturating_mul(1 << 20)),
    };
    depeer_cluster::ballista::run_executor(&options, &mut |ready| {
        let _ = writeln!(
            std::io::stderr(),
            "depeer ballista executor: Arrow Flight on {}, scheduler {}, work directory {}",
            ready.flight,
            ready.scheduler,
            ready.work_dir.display()
        );
    })?;
    Ok(())
}
