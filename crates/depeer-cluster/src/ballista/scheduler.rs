//! `depeer ballista scheduler`: Ballista's scheduler in this process. It
//! takes queries as logical plans from clients (`depeer sql --ballista`),
//! plans them into stages, and hands the stages' tasks to the executors
//! that poll it.
//!
//! Choices, and why:
//! - Pull-staged scheduling: executors poll the scheduler, so an executor
//!   needs one port (Arrow Flight) and the scheduler never connects to
//!   executors; executors must use the same policy ([`super::executor`]).
//! - In-memory cluster and job state: a restarted scheduler forgets its
//!   jobs, and clients re-submit (`depeer sql` is one query per run).
//! - The port is bound before Ballista starts, so `--listen HOST:0` works
//!   and the bound address is reported to the caller.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use super::Error;

/// How to run a scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address to listen on for clients and executors (port 0: any free
    /// port, reported to `on_ready`).
    pub listen: SocketAddr,
    /// Runtime threads (0: one per CPU).
    pub threads: usize,
}

/// Runs a scheduler until SIGINT or SIGTERM. `on_ready` is called with the
/// bound address once the scheduler accepts connections.
pub fn run_scheduler(
    options: &SchedulerOptions,
    on_ready: &mut dyn FnMut(SocketAddr),
) -> Result<(), Error> {
    let runtime = super::executor::runtime(options.threads, "scheduler")?;
    runtime.block_on(serve(options, on_ready))
}

async fn serve(
    options: &SchedulerOptions,
    on_ready: &mut dyn FnMut(SocketAddr),
) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| Error::Io {
            op: "listen on",
            target: options.listen.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Io {
        op: "read the bound address of",
        target: options.listen.to_string(),
        source,
    })?;
    let failed = |source: ballista_core::error::BallistaError| Error::Ballista {
        role: "scheduler",
        address: bound.to_string(),
        source: Box::new(source),
    };
    let config = SchedulerConfig::default()
        .with_hostname(bound.ip().to_string())
        .with_port(bound.port())
        .with_scheduler_policy(TaskSchedulingPolicy::PullStaged);
    let config = SchedulerConfig {
        bind_host: bound.ip().to_string(),
        ..config
    };
    config.validate().map_err(failed)?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(failed)?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
            .await
            .map_err(failed)?;
    on_ready(bound);
    tokio::select! {
        served = start_grpc_service_with_listener(listener, scheduler) => served.map_err(failed),
        () = super::executor::stop_signal() => Ok(()),
    }
}
