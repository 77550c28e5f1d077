//! `depeer ballista executor`: Ballista's executor in this process. It
//! polls its scheduler for tasks (pull-staged, as the scheduler in
//! [`super::scheduler`] expects), runs them with DataFusion over the
//! dataset's Parquet files, and serves their output (shuffle files, final
//! results) to other executors and to clients over Arrow Flight on
//! `--listen`.
//!
//! Work directory: Ballista deletes every directory inside its work
//! directory when it stops (its job-data clean-up), so the executor never
//! gets the directory it is given: it works in a fresh directory created
//! inside it (`depeer-ballista-executor-*`), removed when it stops. Job data
//! is also removed by the scheduler when a job ends, and an hourly sweep
//! removes job data untouched for a day.
//!
//! Memory: Ballista bounds each task with its own pool (the executor's
//! budget split across its task slots); sorts and aggregations past it
//! spill into the work directory. Without `--memory-limit` the budget is
//! Ballista's default, 70 % of the host's (or cgroup's) memory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};

use super::Error;

/// How long an executor waits for its scheduler to accept connections
/// before it gives up (executors may start before the scheduler).
const SCHEDULER_WAIT: Duration = Duration::from_secs(60);
/// Job data untouched this long is removed by the executor's sweep.
const JOB_DATA_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often the sweep runs.
const JOB_DATA_SWEEP: Duration = Duration::from_secs(3600);

/// How to run an executor.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `df://HOST:PORT` or `HOST:PORT`.
    pub scheduler: String,
    /// Address of the executor's Arrow Flight service (port 0: a free port
    /// picked at start).
    pub listen: SocketAddr,
    /// Host name or address other nodes reach this executor at (default:
    /// the `--listen` address, or, when that is 0.0.0.0 / ::, the address the
    /// scheduler sees the executor's connection come from).
    pub advertise: Option<String>,
    /// Directory in which the executor's work directory is created
    /// (default: the system's temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once (0: one per CPU).
    pub concurrency: usize,
    /// Memory all tasks together may hold, in bytes (`None`: Ballista's
    /// default, 70 % of the host's memory).
    pub memory_limit: Option<u64>,
}

/// What an executor reports once it is set up, before it registers.
#[derive(Debug, Clone)]
pub struct ExecutorReady {
    /// Where its Arrow Flight service listens.
    pub flight: SocketAddr,
    /// Its scheduler, `HOST:PORT`.
    pub scheduler: String,
    /// Its own work directory (removed when it stops).
    pub work_dir: PathBuf,
}

/// Runs an executor until SIGINT or SIGTERM (or until its services fail).
/// `on_ready` is called once the scheduler accepts connections, just
/// before the executor registers with it.
pub fn run_executor(
    options: &ExecutorOptions,
    on_ready: &mut dyn FnMut(&ExecutorReady),
) -> Result<(), Error> {
    let (scheduler_host, scheduler_port) = super::parse_scheduler(&options.scheduler)?;
    let flight = free_port(options.listen)?;
    let base = options.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    if !base.is_dir() {
        return Err(Error::WorkDir(base));
    }
    let work_dir = tempfile::Builder::new()
        .prefix("depeer-ballista-executor-")
        .tempdir_in(&base)
        .map_err(|source| Error::Io {
            op: "create a work directory in",
            target: base.display().to_string(),
            source,
        })?;
    let advertise = match &options.advertise {
        Some(host) => Some(host.clone()),
        None if flight.ip().is_unspecified() => None,
        None => Some(flight.ip().to_string()),
    };
    let config = ExecutorProcessConfig {
        bind_host: flight.ip().to_string(),
        external_host: advertise,
        port: flight.port(),
        scheduler_host: scheduler_host.clone(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 0,
        vcores: options.concurrency,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: Some(work_dir.path().display().to_string()),
        print_thread_info: false,
        job_data_ttl_seconds: JOB_DATA_TTL.as_secs(),
        job_data_clean_up_interval_seconds: JOB_DATA_SWEEP.as_secs(),
        memory_pool_size: options.memory_limit,
        ..ExecutorProcessConfig::default()
    };
    let scheduler = format!("{}:{scheduler_port}", super::url_host(&scheduler_host));
    let runtime = runtime(0, "executor")?;
    let result = runtime.block_on(async {
        wait_for(&scheduler).await?;
        on_ready(&ExecutorReady {
            flight,
            scheduler: scheduler.clone(),
            work_dir: work_dir.path().to_path_buf(),
        });
        start_executor_process(Arc::new(config))
            .await
            .map_err(|source| Error::Ballista {
                role: "executor",
                address: flight.to_string(),
                source: Box::new(source),
            })
    });
    drop(runtime);
    drop(work_dir);
    result
}

/// `listen` itself, or with port 0 a port free right now: Ballista binds
/// the port it advertises, so it must know the number before it binds.
/// Another process could take the port in between; the executor then
/// fails to bind and says so.
fn free_port(listen: SocketAddr) -> Result<SocketAddr, Error> {
    if listen.port() != 0 {
        return Ok(listen);
    }
    let probe = std::net::TcpListener::bind(listen).map_err(|source| Error::Io {
        op: "find a free port on",
        target: listen.to_string(),
        source,
    })?;
    probe.local_addr().map_err(|source| Error::Io {
        op: "find a free port on",
        target: listen.to_string(),
        source,
    })
}

/// Waits until the scheduler accepts TCP connections, for at most
/// [`SCHEDULER_WAIT`].
async fn wait_for(scheduler: &str) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        match tokio::net::TcpStream::connect(scheduler).await {
            Ok(_) => return Ok(()),
            Err(source) if started.elapsed() >= SCHEDULER_WAIT => {
                return Err(Error::Io {
                    op: "connect to the scheduler at",
                    target: scheduler.to_string(),
                    source,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The runtime of a scheduler or executor: multi-threaded, with the large
/// thread stacks Ballista's own binaries use (planning recurses deeply on
/// big plans).
pub(super) fn runtime(threads: usize, role: &str) -> Result<tokio::runtime::Runtime, Error> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .enable_all()
        .thread_stack_size(32 << 20)
        .thread_name(format!("ballista-{role}"));
    if threads > 0 {
        builder.worker_threads(threads);
    }
    builder.build().map_err(|source| Error::Io {
        op: "start the runtime of the",
        target: role.to_string(),
        source,
    })
}

/// Resolves on SIGINT or SIGTERM (SIGINT only where there is no SIGTERM).
pub(super) async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
