//! How a pipeline reports progress without drawing anything itself: the
//! caller passes a [`Progress`] (a terminal bar in the binary, a metrics
//! counter in a worker, [`NoProgress`] in tests).

/// Receives progress of a run. Called from several threads, hence `Sync`;
/// every method has a default that does nothing.
pub trait Progress: Sync {
    /// The run starts with about this many input bytes (compressed, as on
    /// disk; 0 when unknown, e.g. stdin).
    fn start(&self, _total_bytes: u64) {}
    /// This many more input bytes are done.
    fn add_bytes(&self, _n: u64) {}
    /// Records processed so far.
    fn set_count(&self, _n: u64) {}
    /// The run is over (successfully or not).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
