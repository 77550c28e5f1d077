//! The one error type of depeer-sim.

use std::path::PathBuf;

/// What can go wrong while loading a scenario or writing a world.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A scenario name that is neither built in nor a readable file.
    #[error("unknown scenario {name:?}: not a file and not built in (built-in: {known})")]
    UnknownScenario {
        /// What was asked for.
        name: String,
        /// The built-in names, comma separated.
        known: String,
    },
    /// A scenario file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    ScenarioRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A scenario is not valid TOML for the schema in docs/sim.md.
    #[error("scenario {name}: {source}")]
    ScenarioParse {
        /// Scenario name or file.
        name: String,
        /// The TOML error (with line and column).
        source: Box<toml::de::Error>,
    },
    /// A scenario parses but a field is inconsistent.
    #[error("scenario {name}: field `{field}`: {reason}")]
    ScenarioInvalid {
        /// Scenario name.
        name: String,
        /// The field (dotted path).
        field: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Options out of range.
    #[error("option `{option}`: {reason}")]
    BadOption {
        /// The option.
        option: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// zstd refused to compress a rendered minute (`--zstd`).
    #[error("zstd compression of {what}: {reason}")]
    Compress {
        /// What was being compressed (file kind and minute).
        what: String,
        /// zstd's error name.
        reason: String,
    },
    /// A structure too large for its MRT/BGP length field.
    #[error("MRT encoding: {what} is {len} bytes, more than its length field allows ({max})")]
    TooLong {
        /// Which structure.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}
