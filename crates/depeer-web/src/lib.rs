//! depeer's web side: [`report`], the self-contained HTML report of
//! `depeer report` (charts by the vendored uPlot, the dependency graph as
//! server-side SVG); [`api`], the HTTP JSON API with its OpenAPI document,
//! and the dashboard, served together by [`api::app`] (`depeer serve
//! http`); [`serve`], the server's run loop.
//!
//! ```
//! use depeer_ingest::report::ReportData;
//! let data = ReportData { title: "depeer report".into(), ..ReportData::default() };
//! let page = depeer_web::report::render(&data);
//! assert!(page.html.starts_with("<!DOCTYPE html>"));
//! assert!(page.html.contains("not available: <code>depeer rank</code>"));
//! ```

pub mod api;
mod dashboard;
mod error;
pub mod report;
pub mod serve;

pub use api::{ApiConfig, AppState, app};
pub use error::WebError;
