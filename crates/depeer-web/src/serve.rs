//! The HTTP server's run loop (`depeer serve http`, and the HTTP half of
//! `depeer serve`): binds, serves [`crate::app`], polls the data directory
//! for new commits ([`crate::AppState::refresh`], then the caller's
//! `on_new_data`, e.g. the DNSBL's zone rebuild), and stops cleanly on
//! SIGTERM or SIGINT: the listener closes, requests in flight finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::{ApiConfig, AppState, WebError};

/// What [`run`] serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port, printed on stderr).
    pub listen: SocketAddr,
    /// The API's data directory and limits.
    pub api: ApiConfig,
    /// How often the data directory is checked for new commits.
    pub poll: Duration,
    /// Worker threads (0: one per CPU).
    pub threads: usize,
}

/// Called after new data was read (off the request path).
pub type OnNewData = Arc<dyn Fn() + Send + Sync>;

/// Serves until SIGTERM or SIGINT.
pub fn run(opts: ServeOptions, on_new_data: Option<OnNewData>) -> Result<(), WebError> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if opts.threads > 0 {
        rt.worker_threads(opts.threads);
    }
    let rt = rt
        .enable_all()
        .build()
        .map_err(|source| WebError::Serve { source })?;
    rt.block_on(serve(opts, on_new_data))
}

async fn serve(opts: ServeOptions, on_new_data: Option<OnNewData>) -> Result<(), WebError> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| WebError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| WebError::Serve { source })?;
    let api = opts.api.clone();
    let state = tokio::task::spawn_blocking(move || AppState::open(api))
        .await
        .map_err(|e| WebError::Serve {
            source: std::io::Error::other(e.to_string()),
        })?;
    // One line on stderr that scripts and tests read for the port.
    eprintln!("depeer serve: HTTP on http://{addr}/ (dashboard), API at http://{addr}/api/v1/");
    let poller = tokio::spawn(poll(state.clone(), opts.poll, on_new_data));
    let served = axum::serve(listener, crate::app(state))
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|source| WebError::Serve { source });
    poller.abort();
    eprintln!("depeer serve: HTTP stopped");
    served
}

async fn poll(state: AppState, every: Duration, on_new_data: Option<OnNewData>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let st = state.clone();
        let hook = on_new_data.clone();
        let r = tokio::task::spawn_blocking(move || {
            let changed = st.refresh();
            if let (true, Some(h)) = (changed, hook) {
                h();
            }
            changed
        })
        .await;
        if let Ok(true) = r {
            tracing::info!("new data: caches and lookups rebuilt");
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the server runs until killed.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
