//! The one error type of the trap. A hostile client is never an error:
//! it gets a reply or a closed connection; an error here stops the trap.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the trap could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrapError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// No listen address was given.
    #[error("nothing to listen on: give --listen ADDR:PORT")]
    NoListener,
    /// A file (certificate, key, domains) could not be read or written.
    #[error("{}: {what}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What was being done (`reading the certificate`, ...).
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate or key is not usable.
    #[error("{}: {reason}", .path.display())]
    Tls {
        /// The certificate or key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `--cert` was given without `--key` or the other way round.
    #[error("--cert and --key go together")]
    CertWithoutKey,
    /// The store could not be opened or closed.
    #[error(transparent)]
    Store(#[from] depeer_ingest::IngestError),
    /// The async runtime could not start.
    #[error("cannot start the runtime")]
    Runtime {
        /// The cause.
        source: std::io::Error,
    },
}
