//! The server's state: the data directory, the lookup index and the cache
//! of computed answers, all in one [`Snapshot`] swapped atomically when new
//! data is committed.
//!
//! What a commit changes is seen from the files under `tables/` (their
//! names, sizes and modification times: a commit renames new Parquet files
//! into place, and `replace_table` swaps whole files), fingerprinted by
//! [`data_version`]. [`AppState::refresh`] compares fingerprints, rebuilds
//! the index off the request path and swaps the snapshot; requests in
//! flight keep the old one. The cache belongs to a snapshot, so a swap
//! empties it: a ranking or what-if is computed once per data version and
//! query, then served from memory.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use depeer_ingest::lookup::LookupIndex;
use depeer_ingest::whatif::WhatIfData;
use serde_json::Value;

use super::error::ApiError;
use super::metrics::Metrics;

/// Most cached answers per snapshot; past it the cache starts afresh.
const CACHE_ENTRIES: usize = 512;

/// How the API serves (limits and reload period).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The data directory.
    pub data: PathBuf,
    /// A request taking longer is answered 408.
    pub request_timeout: Duration,
    /// A larger request body is answered 413.
    pub max_body_bytes: usize,
    /// Expensive computations (rank, what-if, series, ...) run at most this
    /// many at a time; more wait.
    pub max_computations: usize,
}

impl ApiConfig {
    /// Defaults for `data`: 30 s per request, 64 KiB bodies, 2 computations.
    pub fn new(data: PathBuf) -> ApiConfig {
        ApiConfig {
            data,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 64 * 1024,
            max_computations: 2,
        }
    }
}

/// One version of the data and what was computed from it.
pub(crate) struct Snapshot {
    pub(crate) version: u64,
    pub(crate) generation: u64,
    /// `Err`: why no lookup can be answered (no dataset yet).
    pub(crate) index: Result<Arc<LookupIndex>, String>,
    cache: Mutex<HashMap<String, Arc<Value>>>,
    whatif: Mutex<Option<Arc<WhatIfData>>>,
}

struct Inner {
    config: ApiConfig,
    snap: ArcSwap<Snapshot>,
    metrics: Metrics,
    gate: tokio::sync::Semaphore,
    refreshing: AtomicBool,
    reloads: AtomicU64,
}

/// The state every handler shares (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data", &self.0.config.data)
            .finish_non_exhaustive()
    }
}

/// A fingerprint of the committed files under `data/tables` (0: none).
pub fn data_version(data: &Path) -> u64 {
    let mut files: Vec<(PathBuf, u64, Option<std::time::SystemTime>)> = Vec::new();
    let mut stack = vec![data.join("tables")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(md) = e.metadata() else { continue };
            if md.is_dir() {
                stack.push(e.path());
            } else {
                files.push((e.path(), md.len(), md.modified().ok()));
            }
        }
    }
    if files.is_empty() {
        return 0;
    }
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut h);
    h.finish().max(1)
}

fn build_snapshot(data: &Path, version: u64, generation: u64) -> Snapshot {
    let t = Instant::now();
    let index = if version == 0 {
        Err("the data directory holds no dataset yet; ingest data first".to_string())
    } else {
        match LookupIndex::read(data) {
            Ok(ix) => Ok(Arc::new(ix)),
            Err(e) => {
                tracing::warn!(error = %e, "lookup index not built");
                Err("the dataset could not be read for lookups; see the server's log".to_string())
            }
        }
    };
    tracing::info!(
        generation,
        ms = t.elapsed().as_millis() as u64,
        ok = index.is_ok(),
        "data snapshot built"
    );
    Snapshot {
        version,
        generation,
        index,
        cache: Mutex::new(HashMap::new()),
        whatif: Mutex::new(None),
    }
}

impl AppState {
    /// Reads the data directory once (blocking: call before serving or in
    /// `spawn_blocking`).
    pub fn open(config: ApiConfig) -> AppState {
        let version = data_version(&config.data);
        let snap = build_snapshot(&config.data, version, 1);
        let gate = tokio::sync::Semaphore::new(config.max_computations.max(1));
        AppState(Arc::new(Inner {
            config,
            snap: ArcSwap::from_pointee(snap),
            metrics: Metrics::default(),
            gate,
            refreshing: AtomicBool::new(false),
            reloads: AtomicU64::new(0),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    pub(crate) fn data(&self) -> &Path {
        &self.0.config.data
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.0.snap.load_full()
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Snapshots built after the first (new data seen).
    pub fn reloads(&self) -> u64 {
        self.0.reloads.load(Ordering::Relaxed)
    }

    /// Rebuilds the snapshot when the committed data changed; returns
    /// whether it did. Blocking (reads the dataset); one refresh at a time.
    pub fn refresh(&self) -> bool {
        if self.0.refreshing.swap(true, Ordering::AcqRel) {
            return false;
        }
        let old = self.snapshot();
        let version = data_version(self.data());
        let changed = version != old.version;
        if changed {
            let snap = build_snapshot(self.data(), version, old.generation + 1);
            self.0.snap.store(Arc::new(snap));
            self.0.reloads.fetch_add(1, Ordering::Relaxed);
        }
        self.0.refreshing.store(false, Ordering::Release);
        changed
    }

    /// The cached answer for `key`, else `compute` run on a blocking thread
    /// (at most `max_computations` at once) and cached in the snapshot.
    pub(crate) async fn cached<F>(&self, key: String, compute: F) -> Result<Arc<Value>, ApiError>
    where
        F: FnOnce(&AppState, &Snapshot) -> Result<Value, ApiError> + Send + 'static,
    {
        let snap = self.snapshot();
        if let Some(v) = lock(&snap.cache).get(&key) {
            self.0.metrics.cache_hit();
            return Ok(v.clone());
        }
        self.0.metrics.cache_miss();
        let _permit = self.0.gate.acquire().await.map_err(|_| ApiError::busy())?;
        if let Some(v) = lock(&snap.cache).get(&key) {
            return Ok(v.clone());
        }
        let state = self.clone();
        // Cached inside the blocking task: a request that hits its time
        // limit still leaves the answer for the next one.
        tokio::task::spawn_blocking(move || {
            let v = Arc::new(compute(&state, &snap)?);
            let mut c = lock(&snap.cache);
            if c.len() >= CACHE_ENTRIES {
                c.clear();
            }
            c.insert(key, v.clone());
            Ok(v)
        })
        .await
        .map_err(|e| ApiError::internal(&e))?
    }
}

impl Snapshot {
    /// The what-if model's input, read once per snapshot.
    pub(crate) fn whatif_data(&self, data: &Path) -> Result<Arc<WhatIfData>, ApiError> {
        let mut w = lock(&self.whatif);
        if let Some(d) = &*w {
            return Ok(d.clone());
        }
        let d = Arc::new(WhatIfData::read(data)?);
        *w = Some(d.clone());
        Ok(d)
    }

    /// Entries in the cache.
    pub(crate) fn cached_entries(&self) -> usize {
        lock(&self.cache).len()
    }
}

/// A poisoned lock still holds a usable map (every writer leaves it whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
