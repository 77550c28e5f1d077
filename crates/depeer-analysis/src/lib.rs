//! Series analysis for depeer. For now: offline change-point detection
//! ([`detect`]) and reading a numeric CSV column into a series with gaps
//! ([`read_series`]). Pure: no I/O besides the reader a caller hands in.
//!
//! ```
//! use depeer_analysis::{detect, Params};
//! let mut xs: Vec<Option<f64>> = (0..100).map(|i| Some(((i * 37) % 11) as f64 * 0.1)).collect();
//! for x in xs.iter_mut().skip(60) {
//!     *x = x.map(|v| v + 10.0);
//! }
//! let found = detect(&xs, &Params::default());
//! assert_eq!(found.change_points, vec![60]);
//! ```

mod cost;
mod csv;
mod detect;
mod error;
mod hll;
mod robust;
mod volume;

pub use cost::Model;
pub use csv::{MAX_ROWS, Series, parse_series, read_series};
pub use detect::{Detection, Params, detect};
pub use error::Error;
pub use hll::{Hll, PRECISION, SPARSE_LIMIT, hash_bytes, hash_ip};
pub use volume::{Direction, VolumeEvent, VolumeParams, volume_events, volume_events_in_parts};
