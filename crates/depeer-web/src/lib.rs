//! depeer's web side. Today: [`report`], the self-contained HTML report
//! of `depeer report` (charts by the vendored uPlot, the dependency graph
//! as server-side SVG). The HTTP API and the dashboard join this crate
//! later and reuse the same assets and escaping.
//!
//! ```
//! use depeer_ingest::report::ReportData;
//! let data = ReportData { title: "depeer report".into(), ..ReportData::default() };
//! let page = depeer_web::report::render(&data);
//! assert!(page.html.starts_with("<!DOCTYPE html>"));
//! assert!(page.html.contains("not available: <code>depeer rank</code>"));
//! ```

mod error;
pub mod report;

pub use error::WebError;
