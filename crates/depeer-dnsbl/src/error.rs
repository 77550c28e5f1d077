//! The crate's error type: every failure says where it happened (zone file
//! and line, listen address, zone specification).

use std::path::PathBuf;

/// Everything that can go wrong in depeer-dnsbl.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsblError {
    /// A zone file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of a zone file was malformed; the line is skipped and counted,
    /// the rest of the file still loads.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong, in rbldnsd's words where it has them.
        reason: &'static str,
    },
    /// A `--zone NAME=TYPE:FILE` specification could not be understood.
    #[error("zone specification {spec:?}: {reason}")]
    ZoneSpec {
        /// The specification as given.
        spec: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A listening socket could not be opened.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The zone files could not be regenerated before a reload.
    #[error("regenerating the zones: {reason}")]
    Refresh {
        /// What went wrong.
        reason: String,
    },
    /// The async runtime could not be started or a socket failed after start.
    #[error("server: {source}")]
    Server {
        /// The underlying error.
        source: std::io::Error,
    },
}
