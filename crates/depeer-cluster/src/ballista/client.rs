//! `depeer sql --ballista df://HOST:PORT`: the query of `depeer sql`, run
//! on a Ballista cluster over the same dataset.
//!
//! The rules of `depeer sql` hold, in the same order: the text is checked
//! to be one read-only statement before anything is sent (or even
//! connected), the dataset's tables are registered as the store registers
//! them ([`depeer_store::register_tables`], absolute paths, declared
//! schemas, the `day` column), and the plan is made with DDL, DML and
//! session statements disallowed. Only then is the logical plan sent to the
//! scheduler; the executors read the Parquet files themselves.
//!
//! Limits: the time limit is the client's. When it passes, the client
//! stops waiting, asks the scheduler to cancel the job (Ballista's
//! `CancelJob`, with the job id the plan's `DistributedQueryExec` learnt
//! when the scheduler accepted the query) and reports the timeout. A task
//! already running on an executor runs to its end: pull-staged executors
//! have no channel on which the scheduler could stop it. The memory limit bounds what runs in the client (queries on
//! `information_schema`, which never leave it); the executors' memory is
//! bounded by their own `--memory-limit`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::serde::protobuf::CancelJobParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::protobuf::LogicalPlanNode;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use depeer_store::{FilelessTables, QueryLimits, StoreError};

use super::Error;

/// What [`sql`] runs and where.
#[derive(Debug, Clone)]
pub struct SqlOptions<'a> {
    /// The scheduler, `df://HOST:PORT` or `HOST:PORT`.
    pub scheduler: &'a str,
    /// The data directory, at a path every node of the cluster sees.
    pub data: &'a Path,
    /// The query.
    pub query: &'a str,
    /// Its limits (see the module's header for what they bound here).
    pub limits: QueryLimits,
}

/// Runs one read-only query on the cluster; the result always has at least
/// one batch (possibly empty) so the column names are known, as with
/// [`depeer_store::sql_with_limits`].
pub fn sql(options: &SqlOptions<'_>) -> Result<Vec<RecordBatch>, Error> {
    let query = options.query;
    depeer_store::check_read_only(query)?;
    let (host, port) = super::parse_scheduler(options.scheduler)?;
    if !options.data.join("tables").is_dir() {
        return Err(StoreError::NoDataset {
            dir: options.data.to_path_buf(),
        }
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            op: "start the query runtime for",
            target: options.scheduler.to_string(),
            source,
        })?;
    let limits = options.limits;
    let url = format!("df://{}:{port}", super::url_host(&host));
    // The plan's node that runs the job on the cluster, once planned.
    let job: Mutex<Option<Arc<dyn ExecutionPlan>>> = Mutex::new(None);
    let job = &job;
    let run = async {
        let env = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.memory_bytes, 1.0)
            .build_arc()?;
        // Pull mode: the client learns the job's id as soon as the
        // scheduler accepts it (push mode only with the first status
        // update, which may never come before a timeout), so a timed-out
        // job can be cancelled. It polls the job's status every 50 ms.
        let config = SessionConfig::new_with_ballista()
            .with_information_schema(true)
            .set_bool(ballista_core::config::BALLISTA_CLIENT_PULL, true);
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .with_runtime_env(env)
            .build();
        let ctx = SessionContext::remote_with_state(&url, state).await?;
        depeer_store::register_tables(&ctx, options.data, FilelessTables::Listing)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let df = ctx
            .sql_with_options(query, depeer_store::read_only_options())
            .await?;
        let schema: Arc<Schema> = Arc::new(df.schema().as_arrow().clone());
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await?;
        if let Ok(mut slot) = job.lock() {
            *slot = distributed(&plan);
        }
        let mut batches = datafusion::physical_plan::collect(plan, task).await?;
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        Ok::<_, DataFusionError>(batches)
    };
    let outcome = runtime.block_on(async { tokio::time::timeout(limits.time, run).await });
    if outcome.is_err() {
        let id = job.lock().ok().and_then(|slot| {
            slot.as_ref()?
                .downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()?
                .job_id()
        });
        match id {
            Some(id) => {
                let grpc = format!("http://{}:{port}", super::url_host(&host));
                match runtime.block_on(cancel(&grpc, id.as_str())) {
                    Ok(true) => tracing::warn!("the scheduler cancelled job {id}"),
                    Ok(false) => tracing::warn!(
                        "the scheduler did not cancel job {id} (it had ended, or it does not know it)"
                    ),
                    Err(e) => tracing::warn!("cancelling job {id} on the cluster: {e}"),
                }
            }
            None => tracing::warn!(
                "the query was not accepted by the scheduler before the timeout: nothing to cancel"
            ),
        }
    }
    // The runtime's tasks may still wait on the cluster (after a timeout):
    // do not wait for them.
    runtime.shutdown_background();
    match outcome {
        Err(_) => Err(StoreError::QueryTimeout {
            seconds: limits.time.as_secs_f64(),
        }
        .into()),
        Ok(Ok(batches)) => Ok(batches),
        Ok(Err(DataFusionError::External(e))) if e.is::<StoreError>() => match e.downcast() {
            Ok(store) => Err(Error::Store(*store)),
            Err(other) => {
                Err(
                    depeer_store::query_error(query, DataFusionError::External(other), &limits)
                        .into(),
                )
            }
        },
        Ok(Err(e)) => Err(depeer_store::query_error(query, e, &limits).into()),
    }
}

/// The node of a physical plan that runs it as a Ballista job.
fn distributed(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if plan.is::<DistributedQueryExec<LogicalPlanNode>>() {
        return Some(Arc::clone(plan));
    }
    plan.children().into_iter().find_map(distributed)
}

/// Asks the scheduler at `grpc` (`http://HOST:PORT`) to cancel a job;
/// true when it says it did. Bounded: a scheduler that does not answer
/// within 5 s is left alone.
async fn cancel(grpc: &str, job_id: &str) -> Result<bool, String> {
    let ask = async {
        let mut client = SchedulerGrpcClient::connect(grpc.to_string())
            .await
            .map_err(|e| e.to_string())?;
        let reply = client
            .cancel_job(CancelJobParams {
                job_id: job_id.to_string(),
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(reply.into_inner().cancelled)
    };
    tokio::time::timeout(Duration::from_secs(5), ask)
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(scheduler: &str, data: &Path, query: &str) -> Result<Vec<RecordBatch>, Error> {
        sql(&SqlOptions {
            scheduler,
            data,
            query,
            limits: QueryLimits::default(),
        })
    }

    #[test]
    fn writes_are_refused_before_anything_is_sent() {
        // No dataset and no scheduler: the refusal comes first.
        let nowhere = Path::new("/nonexistent/depeer-data");
        for q in [
            "INSERT INTO messages VALUES (1)",
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "DROP TABLE messages",
            "SET datafusion.execution.batch_size = 1",
            "SELECT 1; SELECT 2",
        ] {
            match run("df://127.0.0.1:1", nowhere, q) {
                Err(Error::Store(StoreError::ReadOnly { .. })) => {}
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_read_needs_an_address_and_a_dataset() {
        let nowhere = Path::new("/nonexistent/depeer-data");
        assert!(matches!(
            run("http://127.0.0.1:1", nowhere, "SELECT 1"),
            Err(Error::BadAddress { .. })
        ));
        assert!(matches!(
            run("df://127.0.0.1:1", nowhere, "SELECT 1"),
            Err(Error::Store(StoreError::NoDataset { .. }))
        ));
    }
}
