//! Prometheus metrics of the HTTP server (`/metrics`, text format 0.0.4):
//! requests by route and status, a latency histogram, cache hits and
//! misses, the data snapshot's generation. Counters are atomics and one
//! small map under a mutex, held for a few nanoseconds per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

/// The server's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_us: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl Metrics {
    /// Counts one request of `route` (the matched route, not the raw path:
    /// the label set stays bounded).
    pub(crate) fn observe(&self, route: &str, status: u16, took: Duration) {
        {
            let mut m = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(n) = m.get_mut(&(route.to_string(), status)) {
                *n += 1;
            } else {
                m.insert((route.to_string(), status), 1);
            }
        }
        let s = took.as_secs_f64();
        for (b, ub) in self.buckets.iter().zip(BUCKETS) {
            if s <= ub {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition.
    pub(crate) fn render(&self, generation: u64, reloads: u64, cached: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP depeer_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE depeer_http_requests_total counter\n");
        let m = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for ((route, status), n) in &m {
            let route = route.replace(['\\', '"', '\n'], "_");
            let _ = writeln!(
                out,
                "depeer_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP depeer_http_request_duration_seconds Time to answer.\n");
        out.push_str("# TYPE depeer_http_request_duration_seconds histogram\n");
        for (b, ub) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "depeer_http_request_duration_seconds_bucket{{le=\"{ub}\"}} {}",
                b.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "depeer_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "depeer_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "depeer_http_request_duration_seconds_count {count}");
        for (name, help, v) in [
            (
                "depeer_http_cache_hits_total",
                "Answers served from the cache.",
                self.cache_hits.load(Ordering::Relaxed),
            ),
            (
                "depeer_http_cache_misses_total",
                "Answers computed.",
                self.cache_misses.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        for (name, help, v) in [
            (
                "depeer_data_generation",
                "Data snapshots built since start (1: the first).",
                generation,
            ),
            (
                "depeer_data_reloads",
                "Snapshots rebuilt after new data was committed.",
                reloads,
            ),
            (
                "depeer_http_cache_entries",
                "Answers cached for the current snapshot.",
                cached as u64,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
