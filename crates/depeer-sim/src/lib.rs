//! depeer-sim: a synthetic Internet with botnets, spamtraps and a
//! depeering, written in the real formats, with a ground-truth file.
//!
//! [`generate`] builds the world of a [`Scenario`] for a seed and a scale
//! and writes, under an output directory: an MRT TABLE_DUMP_V2 RIB and
//! daily BGP4MP update files (`bgp/`), spamtrap mboxes (`mail/`), threat
//! feeds (`feeds/`), `as2org.jsonl`, and the truth (`truth.json`,
//! `truth-messages.jsonl`, `truth-ases.jsonl`). docs/sim.md documents the
//! scenario fields and the truth schema.
//!
//! Same scenario, seed and scale: the same bytes (every random draw comes
//! from a seeded xoshiro256** stream, no map iteration order reaches the
//! output, no wall clock is read). Messages are generated minute by minute
//! and streamed to disk, so memory does not grow with the message count.
//!
//! ```
//! let sc = depeer_sim::Scenario::load("mccolo-2008").unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let opts = depeer_sim::Options { seed: 7, scale: 0.2, gzip: false, zstd: false };
//! let summary = depeer_sim::generate(&sc, &opts, dir.path()).unwrap();
//! assert!(summary.messages > 0);
//! assert!(dir.path().join("truth.json").exists());
//! ```

mod abusech;
mod botnet;
mod encode;
mod error;
mod feeds;
mod generate;
mod mail;
mod mrt_write;
mod outfile;
mod rng;
mod routing;
mod scenario;
mod text;
mod textbuf;
mod timefmt;
mod world;

pub use error::SimError;
pub use generate::{Summary, generate};
pub use scenario::{
    BotnetCfg, CcCfg, CheckpointCfg, EventCfg, EventKind, FeedsCfg, GrowthCfg, HosterCfg, MailCfg,
    NamedAsCfg, Reaction, Scenario, Tier, TopologyCfg, builtin_names, builtin_text,
};

/// Generation options besides the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Seed of every random draw.
    pub seed: u64,
    /// Size: 1.0 is the small demo world; topology, bots and message rate
    /// grow with it (ASes up to the scenario's `max_ases`).
    pub scale: f64,
    /// Gzip every output file (`.gz` appended to its name).
    pub gzip: bool,
    /// Compress the bulk of the output, the spamtrap mbox files and
    /// `truth-messages.jsonl`, with zstd (`.zst` appended), in the
    /// rendering workers: one zstd frame per trap and minute, so the files
    /// are ordinary multi-frame zstd streams (`zstdcat`, `depeer ingest`).
    /// Overrides `gzip` for those files; the MRT, feed and as2org files are
    /// written as `gzip` says (bgpdump reads gzip, not zstd).
    pub zstd: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            scale: 1.0,
            gzip: false,
            zstd: false,
        }
    }
}
