//! SQL on Apache DataFusion Ballista (issue 24): the scheduler and the
//! executor run in-process from the `ballista` crates at the workspace's
//! DataFusion version, so one `depeer` binary serves every node, and
//! [`sql`] runs `depeer sql`'s query on such a cluster.
//!
//! What this module owns:
//! - [`scheduler`]: `depeer ballista scheduler` (plans jobs, hands out
//!   tasks; in-memory state, pull-staged scheduling).
//! - [`executor`]: `depeer ballista executor` (polls the scheduler for
//!   tasks, runs them, serves their shuffle output over Arrow Flight).
//! - [`client`]: `depeer sql --ballista df://HOST:PORT`: the read-only
//!   check, the dataset's tables registered as the store registers them,
//!   and the query sent as a logical plan.
//!
//! The dataset is read by path: the scheduler lists a table's files when it
//! plans, the executors read them, so every node must see the dataset at
//! the same absolute path (the local disk on one machine, a shared
//! filesystem in a cluster). Nothing here writes to the dataset.

pub mod client;
pub mod executor;
pub mod scheduler;

pub use client::{SqlOptions, sql};
pub use executor::{ExecutorOptions, run_executor};
pub use scheduler::{SchedulerOptions, run_scheduler};

use std::path::PathBuf;

/// Everything that can go wrong running Ballista from depeer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scheduler address that is not `df://HOST:PORT` or `HOST:PORT`.
    #[error("bad scheduler address {address:?}: {reason} (expected df://HOST:PORT or HOST:PORT)")]
    BadAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store refused the query (not a read), found no dataset, or the
    /// query failed or ran past its limits.
    #[error(transparent)]
    Store(#[from] depeer_store::StoreError),
    /// A local operation failed: binding a port, creating the work
    /// directory, starting the runtime.
    #[error("{op} {target}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The address or path it was done to.
        target: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Ballista's scheduler or executor stopped with an error.
    #[error("ballista {role} on {address}: {source}")]
    Ballista {
        /// `scheduler` or `executor`.
        role: &'static str,
        /// Its address.
        address: String,
        /// Ballista's error.
        source: Box<ballista_core::error::BallistaError>,
    },
    /// The work directory given for an executor is not a directory.
    #[error("executor work directory {0} is not a directory")]
    WorkDir(PathBuf),
}

/// A scheduler's host and port from `df://HOST:PORT` or `HOST:PORT`
/// (`[V6]:PORT` for an IPv6 address).
pub fn parse_scheduler(address: &str) -> Result<(String, u16), Error> {
    let bad = |reason| Error::BadAddress {
        address: address.to_string(),
        reason,
    };
    let rest = address.strip_prefix("df://").unwrap_or(address);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains("://") {
        return Err(bad("the only scheme is df://"));
    }
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
    if port == 0 {
        return Err(bad("port 0"));
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || host.contains(['/', '@', '?', '#']) {
        return Err(bad("no host name"));
    }
    Ok((host.to_string(), port))
}

/// `host` as it goes into a URL: IPv6 addresses in brackets.
fn url_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses() {
        assert_eq!(
            parse_scheduler("df://10.0.0.1:50050").unwrap(),
            ("10.0.0.1".to_string(), 50050)
        );
        assert_eq!(
            parse_scheduler("sched.example:7").unwrap(),
            ("sched.example".to_string(), 7)
        );
        assert_eq!(
            parse_scheduler("df://[::1]:50050/").unwrap(),
            ("::1".to_string(), 50050)
        );
        for bad in [
            "",
            "df://",
            "df://host",
            "host:0",
            "host:x",
            ":50050",
            "http://host:50050",
            "df://user@host:1",
        ] {
            assert!(parse_scheduler(bad).is_err(), "{bad}");
        }
        assert_eq!(url_host("::1"), "[::1]");
        assert_eq!(url_host("a.b"), "a.b");
    }
}
