//! Series analysis for depeer: offline change-point detection
//! ([`detect`]), reading a numeric CSV column into a series with gaps
//! ([`read_series`]), volume series per time bucket ([`Bucketer`]), bot
//! populations ([`Populations`]) and the dependency graph of a window
//! ([`DependencyInput`], placed with [`Hosting`]) and what-if depeering
//! ([`whatif`]). Pure: no I/O besides
//! the reader a caller hands in.
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

mod causes;
mod cost;
mod csv;
mod depends;
mod detect;
mod error;
mod hll;
mod hosting;
pub mod online;
mod population;
pub mod rank;
mod robust;
mod series;
mod volume;
pub mod whatif;

pub use causes::{Cause, CauseCandidate, hosting_causes, rank_causes};
pub use cost::Model;
pub use csv::{MAX_ROWS, Series, parse_series, read_series};
pub use depends::{
    AsDependence, BotnetInAs, Dependency, DependencyInput, DependencyKind, Window, WindowGraph,
};
pub use detect::{Detection, Params, detect};
pub use error::Error;
pub use hll::{Hll, PRECISION, SPARSE_LIMIT, hash_bytes, hash_ip};
pub use hosting::{Hosting, Placement, RouteSpan, UpstreamSpan, parse_cidr};
pub use online::{Confirmed, OnlineParams, OnlineVolume};
pub use population::{PopulationRow, Populations};
pub use series::{
    Bucketer, MAX_SERIES_ROWS, MICROS_PER_SECOND, SeriesError, SeriesRow, Step, parse_duration,
    split_equally,
};
pub use volume::{Direction, VolumeEvent, VolumeParams, volume_events, volume_events_in_parts};
