//! The one error type of depeer-web.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a web-side operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The report could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP server cannot listen there.
    #[error("cannot listen on {addr} (in use, or not an address of this machine?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed")]
    Serve {
        /// The cause.
        source: std::io::Error,
    },
}
